#include "http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include <curl/curl.h>

#define MAX_HEADERS 256
#define MAX_HEADER_BYTES (256 * 1024)

struct mlpz_http {
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
};

/* State of one perform, shared by the callbacks. */
typedef struct {
    const mlpz_http_request *req;
    mlpz_http_response *res;
    CURL *curl;
    size_t body_cap, max_body, header_bytes;
    int64_t total, sent;  /* request body size, bytes handed to libcurl */
    int to_output;        /* -1 undecided, 0 memory, 1 req->output */
    int too_large, oom, out_errno, in_errno, in_short;
} xfer;

static int global_done;

int mlpz_http_global_init(char *err, size_t errlen)
{
    if (global_done)
        return 0;
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(rc));
        return -1;
    }
    global_done = 1;
    return 0;
}

mlpz_http *mlpz_http_new(char *err, size_t errlen)
{
    if (mlpz_http_global_init(err, errlen) != 0)
        return NULL;
    mlpz_http *h = calloc(1, sizeof *h);
    if (h)
        h->curl = curl_easy_init();
    if (!h || !h->curl) {
        free(h);
        snprintf(err, errlen, "libcurl: could not create a handle (out of memory?)");
        return NULL;
    }
    return h;
}

void mlpz_http_free(mlpz_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

void mlpz_http_response_free(mlpz_http_response *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < res->n_headers; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    free(res->headers);
    free(res->body);
    res->headers = NULL;
    res->body = NULL;
    res->n_headers = 0;
    res->body_len = 0;
}

const char *mlpz_http_header_get(const mlpz_http_response *res, const char *name)
{
    for (size_t i = 0; res && i < res->n_headers; i++)
        if (strcmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

void mlpz_http_url_host(const char *url, char *out, size_t outlen)
{
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p || outlen == 0) {
        snprintf(out, outlen, "?");
        return;
    }
    p += 3;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(out, outlen, "%.*s", (int)(n < 200 ? n : 200), p);
}

static void clear_headers(mlpz_http_response *res)
{
    for (size_t i = 0; i < res->n_headers; i++) {
        free(res->headers[i].name);
        free(res->headers[i].value);
    }
    res->n_headers = 0;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Appends sep and n bytes of s to *dst. */
static int append(char **dst, const char *sep, const char *s, size_t n)
{
    size_t old = strlen(*dst), sl = strlen(sep);
    char *v = realloc(*dst, old + sl + n + 1);
    if (!v)
        return -1;
    memcpy(v + old, sep, sl);
    memcpy(v + old + sl, s, n);
    v[old + sl + n] = '\0';
    *dst = v;
    return 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    mlpz_http_response *res = x->res;
    size_t len = size * nitems;
    x->header_bytes += len;
    if (x->header_bytes > MAX_HEADER_BYTES) {
        x->too_large = 1;
        return 0;
    }
    size_t n = len;
    while (n && is_ws(buf[n - 1]))
        n--;
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* A new answer (after a 100 Continue, say): start over. */
        clear_headers(res);
        x->header_bytes = len;
        const char *sp = memchr(buf, ' ', n);
        res->status = 0;
        res->reason[0] = '\0';
        if (sp) {
            const char *code = sp + 1, *end = buf + n;
            long status = 0;
            while (code < end && *code >= '0' && *code <= '9' && status < 1000)
                status = status * 10 + (*code++ - '0');
            res->status = status;
            while (code < end && *code == ' ')
                code++;
            size_t rn = (size_t)(end - code);
            if (rn >= sizeof res->reason)
                rn = sizeof res->reason - 1;
            for (size_t i = 0; i < rn; i++)
                res->reason[i] = (code[i] >= 0x20 && code[i] < 0x7f) ? code[i] : '?';
            res->reason[rn] = '\0';
        }
        return len;
    }
    if (n == 0)
        return len;
    if ((buf[0] == ' ' || buf[0] == '\t') && res->n_headers) {
        size_t skip = 0;
        while (skip < n && is_ws(buf[skip]))
            skip++;
        if (append(&res->headers[res->n_headers - 1].value, " ", buf + skip, n - skip) != 0) {
            x->oom = 1;
            return 0;
        }
        return len;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon || colon == buf)
        return len;
    size_t nl = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vl = n - nl - 1;
    while (vl && is_ws(*v)) {
        v++;
        vl--;
    }
    for (size_t i = 0; i < res->n_headers; i++) {
        mlpz_http_header *h = &res->headers[i];
        if (strlen(h->name) == nl && strncasecmp(h->name, buf, nl) == 0) {
            if (append(&h->value, ",", v, vl) != 0) {
                x->oom = 1;
                return 0;
            }
            return len;
        }
    }
    if (res->n_headers == MAX_HEADERS) {
        x->too_large = 1;
        return 0;
    }
    if (res->n_headers == 0 && !res->headers) {
        res->headers = calloc(MAX_HEADERS, sizeof *res->headers);
        if (!res->headers) {
            x->oom = 1;
            return 0;
        }
    }
    mlpz_http_header *h = &res->headers[res->n_headers];
    h->name = malloc(nl + 1);
    h->value = malloc(vl + 1);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        x->oom = 1;
        return 0;
    }
    for (size_t i = 0; i < nl; i++)
        h->name[i] = (buf[i] >= 'A' && buf[i] <= 'Z') ? (char)(buf[i] - 'A' + 'a') : buf[i];
    h->name[nl] = '\0';
    memcpy(h->value, v, vl);
    h->value[vl] = '\0';
    res->n_headers++;
    return len;
}

static size_t on_body(char *buf, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    mlpz_http_response *res = x->res;
    size_t len = size * nitems;
    if (x->to_output < 0) {
        long code = 0;
        curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
        x->to_output = x->req->output && code >= 200 && code < 300;
    }
    if (x->to_output) {
        if (fwrite(buf, 1, len, x->req->output) != len) {
            x->out_errno = errno ? errno : EIO;
            return 0;
        }
        res->written += (int64_t)len;
        return len;
    }
    if (len > x->max_body - res->body_len) {
        x->too_large = 1;
        return 0;
    }
    if (res->body_len + len + 1 > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : 16384;
        while (cap < res->body_len + len + 1)
            cap *= 2;
        char *b = realloc(res->body, cap);
        if (!b) {
            x->oom = 1;
            return 0;
        }
        res->body = b;
        x->body_cap = cap;
    }
    memcpy(res->body + res->body_len, buf, len);
    res->body_len += len;
    res->body[res->body_len] = '\0';
    return len;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    size_t cap = size * nitems;
    int64_t left = x->total - x->sent;
    size_t want = left < (int64_t)cap ? (size_t)left : cap;
    if (want == 0)
        return 0;
    if (x->req->body_file) {
        size_t got = fread(buf, 1, want, x->req->body_file);
        if (got == 0) {
            if (ferror(x->req->body_file))
                x->in_errno = errno ? errno : EIO;
            else
                x->in_short = 1;
            return CURL_READFUNC_ABORT;
        }
        want = got;
    } else {
        memcpy(buf, (const char *)x->req->body + x->sent, want);
    }
    x->sent += (int64_t)want;
    return want;
}

/* libcurl rewinds the body when it resends a request, e.g. on a kept-alive
 * connection the server had closed. */
static int on_seek(void *ud, curl_off_t offset, int origin)
{
    xfer *x = ud;
    if (origin != SEEK_SET || offset < 0 || offset > x->total)
        return CURL_SEEKFUNC_CANTSEEK;
    if (x->req->body_file &&
        fseeko(x->req->body_file, (off_t)(x->req->body_offset + offset), SEEK_SET) != 0)
        return CURL_SEEKFUNC_FAIL;
    x->sent = offset;
    return CURL_SEEKFUNC_OK;
}

static int fail(mlpz_http_response *res, mlpz_http_failure kind, int retryable, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));
static int fail(mlpz_http_response *res, mlpz_http_failure kind, int retryable, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->err, sizeof res->err, fmt, ap);
    va_end(ap);
    res->failure = kind;
    res->retryable = retryable;
    return -1;
}

static int valid_method(const char *m)
{
    size_t n = m ? strlen(m) : 0;
    if (n == 0 || n > 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(m[i] >= 'A' && m[i] <= 'Z'))
            return 0;
    return 1;
}

static int set_options(CURL *c, mlpz_http *h, const mlpz_http_request *req, xfer *x,
                       struct curl_slist *headers)
{
    int bad = 0;
    bad |= curl_easy_setopt(c, CURLOPT_URL, req->url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) != CURLE_OK;
#if LIBCURL_VERSION_NUM >= 0x075500
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
#else
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
           CURLE_OK;
#endif
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    if (req->connect_timeout_ms > 0)
        bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms) !=
               CURLE_OK;
    if (req->timeout_ms > 0)
        bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms) != CURLE_OK;
    if (req->ca_bundle)
        bad |= curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_bundle) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT,
                            req->user_agent ? req->user_agent : "mlpz-lua") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, x) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, x) != CURLE_OK;
    const char *m = req->method;
    int with_body = req->has_body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0;
    if (strcmp(m, "HEAD") == 0) {
        bad |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L) != CURLE_OK;
    } else if (with_body) {
        bad |= curl_easy_setopt(c, CURLOPT_UPLOAD, 1L) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_READDATA, x) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_SEEKDATA, x) != CURLE_OK;
        bad |= curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->total) != CURLE_OK;
        if (strcmp(m, "PUT") != 0)
            bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m) != CURLE_OK;
    } else if (strcmp(m, "GET") == 0) {
        bad |= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    } else {
        bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m) != CURLE_OK;
    }
    return bad ? -1 : 0;
}

static int classify(CURLcode rc, const char *errbuf, const xfer *x, const mlpz_http_request *req,
                    mlpz_http_response *res)
{
    char host[256];
    mlpz_http_url_host(req->url, host, sizeof host);
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (x->oom)
        return fail(res, MLPZ_HTTP_LOCAL, 0, "out of memory reading the answer from %s", host);
    if (x->too_large)
        return fail(res, MLPZ_HTTP_TOO_LARGE, 0,
                    "the answer from %s is larger than %zu bytes (headers %d KiB)", host,
                    x->max_body, MAX_HEADER_BYTES / 1024);
    if (x->out_errno)
        return fail(res, MLPZ_HTTP_LOCAL, 0, "could not write the output file: %s",
                    strerror(x->out_errno));
    if (x->in_errno)
        return fail(res, MLPZ_HTTP_LOCAL, 0, "could not read the body file: %s",
                    strerror(x->in_errno));
    if (x->in_short)
        return fail(res, MLPZ_HTTP_LOCAL, 0,
                    "the body file ended before %lld bytes were sent (was it truncated?)",
                    (long long)x->total);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return fail(res, MLPZ_HTTP_CONNECT, 1, "could not connect to %s: %s", host, why);
    case CURLE_OPERATION_TIMEDOUT:
        return fail(res, MLPZ_HTTP_TIMEOUT, 1, "timed out talking to %s: %s", host, why);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return fail(res, MLPZ_HTTP_NETWORK, 1, "connection to %s failed: %s", host, why);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
        return fail(res, MLPZ_HTTP_TLS, 0,
                    "TLS with %s failed: %s (certificates are always verified; set "
                    "AWS_CA_BUNDLE for a private CA)", host, why);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        return fail(res, MLPZ_HTTP_LOCAL, 0, "request to %s not sent: %s", host, why);
    default:
        return fail(res, MLPZ_HTTP_NETWORK, 0, "exchange with %s failed: %s", host, why);
    }
}

int mlpz_http_perform(mlpz_http *h, const mlpz_http_request *req, mlpz_http_response *res)
{
    memset(res, 0, sizeof *res);
    if (!h || !req->url || !valid_method(req->method))
        return fail(res, MLPZ_HTTP_LOCAL, 0, "http: bad request (method or url missing)");
    if (strncmp(req->url, "http://", 7) != 0 && strncmp(req->url, "https://", 8) != 0)
        return fail(res, MLPZ_HTTP_LOCAL, 0, "http: only http:// and https:// urls are supported");
    xfer x;
    memset(&x, 0, sizeof x);
    x.req = req;
    x.res = res;
    x.curl = h->curl;
    x.to_output = -1;
    x.max_body = req->max_body ? req->max_body : MLPZ_HTTP_DEFAULT_MAX_BODY;
    if (req->body_file) {
        if (req->body_offset < 0 || req->body_length < 0)
            return fail(res, MLPZ_HTTP_LOCAL, 0, "http: negative body offset or length");
        x.total = req->body_length;
        if (fseeko(req->body_file, (off_t)req->body_offset, SEEK_SET) != 0)
            return fail(res, MLPZ_HTTP_LOCAL, 0, "could not seek in the body file: %s",
                        strerror(errno));
    } else if (req->has_body) {
        if (req->body_len && !req->body)
            return fail(res, MLPZ_HTTP_LOCAL, 0, "http: body_len without a body");
        x.total = (int64_t)req->body_len;
    }
    if (req->output) {
        /* A failed earlier attempt may have written part of an answer. */
        if (fflush(req->output) != 0 || ftruncate(fileno(req->output), 0) != 0 ||
            fseeko(req->output, 0, SEEK_SET) != 0)
            return fail(res, MLPZ_HTTP_LOCAL, 0, "could not reset the output file: %s",
                        strerror(errno));
    }
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i <= req->n_headers; i++) {
        /* "Expect:" drops libcurl's 100-continue wait on uploads. */
        const char *line = i < req->n_headers ? req->headers[i] : "Expect:";
        struct curl_slist *l = curl_slist_append(headers, line);
        if (!l) {
            curl_slist_free_all(headers);
            return fail(res, MLPZ_HTTP_LOCAL, 0, "http: out of memory");
        }
        headers = l;
    }
    CURL *c = h->curl;
    /* Resets options only: the connection cache stays, hence keep-alive. */
    curl_easy_reset(c);
    h->errbuf[0] = '\0';
    int rc;
    if (set_options(c, h, req, &x, headers) != 0) {
        rc = fail(res, MLPZ_HTTP_LOCAL, 0, "http: libcurl refused an option");
    } else {
        CURLcode cc = curl_easy_perform(c);
        long status = 0, conns = 0;
        double secs = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &secs);
        res->new_connections = conns;
        res->seconds = secs;
        if (req->output && fflush(req->output) != 0 && !x.out_errno)
            x.out_errno = errno ? errno : EIO;
        if (cc == CURLE_OK && !x.oom && !x.too_large && !x.out_errno && status > 0) {
            res->status = status;
            rc = 0;
        } else {
            res->status = 0;
            rc = classify(cc, h->errbuf, &x, req, res);
        }
    }
    /* Options point into this call's stack and heap: drop them now. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    return rc;
}
