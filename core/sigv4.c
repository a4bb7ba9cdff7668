#include "sigv4.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ---- growable string: sticky out-of-memory flag, checked once at the end.
 * Growth copies by hand so an old block that held a session token is
 * cleansed rather than left to realloc. */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_free(sbuf *b)
{
    if (b->p) {
        OPENSSL_cleanse(b->p, b->cap);
        free(b->p);
    }
    memset(b, 0, sizeof *b);
}

static int sb_reserve(sbuf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (extra < b->cap - b->len && b->p)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len - 1) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap <= b->len + extra)
        cap *= 2;
    char *p = malloc(cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    if (b->p) {
        memcpy(p, b->p, b->len);
        OPENSSL_cleanse(b->p, b->cap);
        free(b->p);
    }
    b->p = p;
    b->cap = cap;
    b->p[b->len] = '\0';
    return 0;
}

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    if (sb_reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

static void sb_putc(sbuf *b, char c)
{
    sb_putn(b, &c, 1);
}

/* The finished string (never NULL unless out of memory); b is emptied. */
static char *sb_take(sbuf *b)
{
    if (sb_reserve(b, 0) != 0) {
        sb_free(b);
        return NULL;
    }
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

static char *dup_n(const char *s, size_t n)
{
    sbuf b = {0};
    sb_putn(&b, s, n);
    return sb_take(&b);
}

static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

/* ---- character classes ---- */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 9110 tchar: what header names and methods are made of. */
static int is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_graph(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void sb_put_encoded(sbuf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            sb_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_putn(b, e, 3);
        }
    }
}

char *mlpz_sigv4_uri_encode(const char *s, size_t n, int keep_slash)
{
    sbuf b = {0};
    sb_put_encoded(&b, s, n, keep_slash);
    return sb_take(&b);
}

/* Percent-decodes %XX; a '%' not followed by two hex digits stays as it is,
 * and '+' stays '+' (SigV4 query strings are RFC 3986, not form encoding). */
static void sb_put_decoded(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            sb_putc(b, (char)(hi << 4 | lo));
            i += 2;
        } else {
            sb_putc(b, s[i]);
        }
    }
}

/* ---- errors ---- */

static int fail(mlpz_sigv4_result *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->err, sizeof out->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int fail_oom(mlpz_sigv4_result *out)
{
    return fail(out, "sigv4: out of memory");
}

/* ---- crypto (libcrypto does all hashing) ---- */

static void to_hex(const unsigned char *md, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A failure leaves nothing on the thread's OpenSSL error queue, where a
 * later OpenSSL user (curl's TLS) could report it as its own. */
static int crypto_failed(void)
{
    ERR_clear_error();
    return -1;
}

int mlpz_sigv4_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(data ? data : "", n, md, &len, EVP_sha256(), NULL) || len != 32)
        return crypto_failed();
    to_hex(md, 32, out);
    return 0;
}

static int hmac(const unsigned char *key, size_t keylen, const char *msg, size_t n,
                unsigned char out[32])
{
    unsigned int len = 0;
    if (keylen > INT_MAX)
        return -1;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, n, out, &len) ||
        len != 32)
        return crypto_failed();
    return 0;
}

/* kSigning = HMAC chain over date, region, service, "aws4_request", then
 * the signature over the string to sign. Every key buffer is cleansed. */
static int compute_signature(const char *secret, const char *date8, const char *region,
                             const char *service, const char *sts, char sig_hex[65])
{
    size_t slen = strlen(secret);
    if (slen > SIZE_MAX - 5)
        return -1;
    unsigned char *k0 = malloc(slen + 4);
    if (!k0)
        return -1;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, slen);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    int rc = hmac(k0, slen + 4, date8, strlen(date8), k1);
    rc = rc ? rc : hmac(k1, 32, region, strlen(region), k2);
    rc = rc ? rc : hmac(k2, 32, service, strlen(service), k3);
    rc = rc ? rc : hmac(k3, 32, "aws4_request", 12, k4);
    rc = rc ? rc : hmac(k4, 32, sts, strlen(sts), sig);
    if (rc == 0)
        to_hex(sig, 32, sig_hex);
    OPENSSL_cleanse(k0, slen + 4);
    free(k0);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k2, sizeof k2);
    OPENSSL_cleanse(k3, sizeof k3);
    OPENSSL_cleanse(k4, sizeof k4);
    return rc;
}

void mlpz_sigv4_cleanse(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

int mlpz_sigv4_format_date(int64_t t, char out[17])
{
    /* 9999-12-31T23:59:59Z: four-digit years only. */
    if (t < 0 || t > INT64_C(253402300799))
        return -1;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return -1;
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n != 16)
        return -1;
    memcpy(out, tmp, 17);
    return 0;
}

/* ---- the url ---- */

typedef struct {
    const char *target;  /* "/path?query" inside the url ("" when absent) */
    const char *path;    /* path, path_len bytes */
    size_t path_len;
    const char *query;   /* after '?', query_len bytes; NULL when no '?' */
    size_t query_len;
    char *host;          /* from an absolute url, default port removed */
} url_parts;

static int split_url(const char *url, url_parts *u, mlpz_sigv4_result *out)
{
    memset(u, 0, sizeof *u);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return fail(out, "sigv4: url: control character at byte %zu; percent-encode it",
                        (size_t)(p - (const unsigned char *)url));
    if (strchr(url, '#'))
        return fail(out, "sigv4: url: has a fragment ('#'); drop it, it is never sent");
    const char *sep = strstr(url, "://");
    if (url[0] == '/') {
        u->target = url;
    } else if (sep && sep > url) {
        size_t slen = (size_t)(sep - url);
        for (size_t i = 0; i < slen; i++)
            if (!(is_unreserved((unsigned char)url[i]) || url[i] == '+'))
                return fail(out, "sigv4: url: bad scheme; want https://host/path");
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?");
        if (alen == 0)
            return fail(out, "sigv4: url: no host; want https://host/path");
        if (memchr(auth, '@', alen))
            return fail(out, "sigv4: url: user info ('@') is not supported; drop it");
        for (size_t i = 0; i < alen; i++)
            if (!is_graph((unsigned char)auth[i]))
                return fail(out, "sigv4: url: the host has a space or non-ASCII byte; "
                            "use its punycode (xn--) form");
        u->target = auth + alen;
        /* The port follows the last ':' outside an IPv6 literal. */
        const char *close = memchr(auth, ']', alen);
        const char *from = close ? close : auth;
        const char *colon = NULL;
        for (const char *p = from; p < auth + alen; p++)
            if (*p == ':')
                colon = p;
        size_t hlen = alen;
        if (colon) {
            const char *port = colon + 1;
            size_t plen = (size_t)(auth + alen - port);
            int https = slen == 5 && strncasecmp(url, "https", 5) == 0;
            int http = slen == 4 && strncasecmp(url, "http", 4) == 0;
            if ((https && plen == 3 && memcmp(port, "443", 3) == 0) ||
                (http && plen == 2 && memcmp(port, "80", 2) == 0) || plen == 0)
                hlen = (size_t)(colon - auth);
        }
        /* Lower-cased like botocore: DNS names are case-insensitive, the
         * canonical request is not. */
        u->host = dup_n(auth, hlen);
        if (!u->host)
            return fail_oom(out);
        for (char *p = u->host; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    } else {
        return fail(out, "sigv4: url: want https://host/path?query or /path?query, got '%.60s'",
                    url);
    }
    const char *q = strchr(u->target, '?');
    u->path = u->target;
    u->path_len = q ? (size_t)(q - u->target) : strlen(u->target);
    if (q) {
        u->query = q + 1;
        u->query_len = strlen(q + 1);
    }
    return 0;
}

/* botocore's normalize_url_path: drop empty and "." segments, let ".." pop
 * one, keep a trailing slash when there is something before it. */
static void put_normalized_path(sbuf *b, const char *path, size_t n)
{
    size_t nseg = 1;
    for (size_t i = 0; i < n; i++)
        nseg += path[i] == '/';
    size_t *start = calloc(nseg, sizeof *start), *len = calloc(nseg, sizeof *len);
    if (!start || !len) {
        free(start);
        free(len);
        b->oom = 1;
        return;
    }
    size_t top = 0;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t sl = j - i;
        if (sl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (top)
                top--;
        } else if (sl > 0 && !(sl == 1 && path[i] == '.')) {
            start[top] = i;
            len[top++] = sl;
        }
        i = j + 1;
    }
    sb_putc(b, '/');
    for (size_t k = 0; k < top; k++) {
        if (k)
            sb_putc(b, '/');
        sb_putn(b, path + start[k], len[k]);
    }
    if (top && n && path[n - 1] == '/')
        sb_putc(b, '/');
    free(start);
    free(len);
}

/* S3's single encoding: the wire path as it is, except bytes that may not
 * appear on the wire; existing %XX escapes are kept, not encoded again. */
static void put_single_encoded(sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0) {
            sb_putn(b, s + i, 3);
            i += 2;
        } else {
            sb_put_encoded(b, s + i, 1, 1);
        }
    }
}

/* NULL only when out of memory. */
static char *canonical_path(const mlpz_sigv4_request *req, const url_parts *u)
{
    sbuf norm = {0}, b = {0};
    const char *path = u->path;
    size_t n = u->path_len;
    if (n == 0) {
        path = "/";
        n = 1;
    }
    if (req->normalize) {
        put_normalized_path(&norm, path, n);
        if (norm.oom) {
            sb_free(&norm);
            return NULL;
        }
        path = norm.p;
        n = norm.len;
    }
    if (req->double_encode)
        sb_put_encoded(&b, path, n, 1);
    else
        put_single_encoded(&b, path, n);
    sb_free(&norm);
    return sb_take(&b);
}

/* ---- the query ---- */

typedef struct {
    char *key, *value; /* both encoded */
} qparam;

typedef struct {
    qparam *v;
    size_t n, cap;
} qlist;

static void ql_free(qlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free_secret(l->v[i].key);
        free_secret(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Takes ownership of key and value, even on failure. */
static int ql_add(qlist *l, char *key, char *value)
{
    if (!key || !value)
        goto fail;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        if (cap > SIZE_MAX / sizeof *l->v)
            goto fail;
        qparam *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            goto fail;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].key = key;
    l->v[l->n++].value = value;
    return 0;
fail:
    free_secret(key);
    free_secret(value);
    return -1;
}

static char *recode(const char *s, size_t n)
{
    sbuf raw = {0}, enc = {0};
    sb_put_decoded(&raw, s, n);
    if (raw.oom) {
        sb_free(&raw);
        return NULL;
    }
    sb_put_encoded(&enc, raw.p ? raw.p : "", raw.len, 0);
    sb_free(&raw);
    return sb_take(&enc);
}

/* Every key=value of the url's query, decoded then encoded again so that
 * raw and percent-encoded spellings canonicalise the same. */
static int parse_query(const url_parts *u, qlist *l)
{
    const char *s = u->query;
    size_t n = u->query_len;
    for (size_t i = 0; s && i < n;) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(s + i, '=', j - i);
            size_t klen = eq ? (size_t)(eq - (s + i)) : j - i;
            const char *v = eq ? eq + 1 : s + j;
            if (ql_add(l, recode(s + i, klen), recode(v, (size_t)(s + j - v))) != 0)
                return -1;
        }
        i = j + 1;
    }
    return 0;
}

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* ---- headers ---- */

typedef struct {
    char *name;  /* lower-cased */
    char *value; /* trimmed, whitespace runs folded to one space */
    size_t order;
} hentry;

typedef struct {
    hentry *v;
    size_t n;
} hlist;

static void hl_free(hlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free_secret(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A line break is allowed only as obs-fold (followed by a space or tab), as
 * in the suite's multi-line header; anything else could smuggle a header. */
static const char *bad_value(const char *v)
{
    for (size_t i = 0; v[i]; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\r' && v[i + 1] != '\n')
            return "a CR not followed by LF";
        if (c == '\n' && v[i + 1] != ' ' && v[i + 1] != '\t')
            return "a line break not followed by a space or tab";
        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            return "a control character";
    }
    return NULL;
}

static char *fold_value(const char *v)
{
    sbuf b = {0};
    size_t i = 0;
    while (is_ws(v[i]))
        i++;
    while (v[i]) {
        if (is_ws(v[i])) {
            while (is_ws(v[i]))
                i++;
            if (v[i])
                sb_putc(&b, ' ');
        } else {
            sb_putc(&b, v[i++]);
        }
    }
    return sb_take(&b);
}

static char *lower_dup(const char *s)
{
    char *d = dup_n(s, strlen(s));
    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

static int hentry_cmp(const void *a, const void *b)
{
    const hentry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Proxies and HTTP libraries rewrite these, so botocore never signs them. */
static int unsigned_header(const char *lname)
{
    static const char *const skip[] = {"expect", "transfer-encoding", "user-agent",
                                       "x-amzn-trace-id"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (strcmp(lname, skip[i]) == 0)
            return 1;
    return 0;
}

static int hl_push(hlist *l, const char *name, const char *value)
{
    char *n = lower_dup(name), *v = fold_value(value);
    if (!n || !v) {
        free(n);
        free_secret(v);
        return -1;
    }
    l->v[l->n].name = n;
    l->v[l->n].value = v;
    l->v[l->n].order = l->n;
    l->n++;
    return 0;
}

/* The headers to sign: the caller's (minus the unsigned ones) plus those the
 * signer adds. Reserved names the signer sets itself are refused so a
 * request never carries two different values for one of them. */
static int collect_headers(const mlpz_sigv4_request *req, const url_parts *u,
                           const char *amz_date, const char *token, const char *payload_hash,
                           hlist *l, int *host_added, mlpz_sigv4_result *out)
{
    int header_mode = req->mode == MLPZ_SIGV4_HEADER;
    if (req->n_headers > (SIZE_MAX / sizeof *l->v) - 4)
        return fail(out, "sigv4: headers: too many");
    l->v = calloc(req->n_headers + 4, sizeof *l->v);
    if (!l->v)
        return fail_oom(out);
    int have_host = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *name = req->headers[i].name, *value = req->headers[i].value;
        if (!name || !*name || !value)
            return fail(out, "sigv4: headers[%zu]: needs a name and a value", i + 1);
        for (const char *p = name; *p; p++)
            if (!is_tchar((unsigned char)*p))
                return fail(out, "sigv4: headers[%zu]: name '%.40s' has a character "
                            "not allowed in header names", i + 1, name);
        const char *why = bad_value(value);
        if (why)
            return fail(out, "sigv4: headers[%zu] (%.40s): value has %s", i + 1, name, why);
        if (strcasecmp(name, "authorization") == 0 ||
            (header_mode && strcasecmp(name, "x-amz-date") == 0) ||
            (header_mode && token && strcasecmp(name, "x-amz-security-token") == 0) ||
            (header_mode && req->sign_body && strcasecmp(name, "x-amz-content-sha256") == 0))
            return fail(out, "sigv4: headers[%zu]: '%s' is set by the signer; remove it",
                        i + 1, name);
        if (strcasecmp(name, "host") == 0)
            have_host = 1;
        if (hl_push(l, name, value) != 0)
            return fail_oom(out);
        if (unsigned_header(l->v[l->n - 1].name)) {
            l->n--;
            free(l->v[l->n].name);
            free_secret(l->v[l->n].value);
        }
    }
    if (!have_host) {
        if (!u->host)
            return fail(out, "sigv4: no host: pass an absolute url (https://host/...) or a "
                        "Host header");
        if (hl_push(l, "host", u->host) != 0)
            return fail_oom(out);
        *host_added = 1;
    }
    if (header_mode) {
        if (hl_push(l, "x-amz-date", amz_date) != 0 ||
            (token && !req->omit_session_token && hl_push(l, "x-amz-security-token", token)) ||
            (req->sign_body && hl_push(l, "x-amz-content-sha256", payload_hash)))
            return fail_oom(out);
    }
    qsort(l->v, l->n, sizeof *l->v, hentry_cmp);
    return 0;
}

/* ---- validation ---- */

static int check_word(const char *s, const char *field, mlpz_sigv4_result *out)
{
    if (!s || !*s)
        return fail(out, "sigv4: %s: missing", field);
    for (const char *p = s; *p; p++)
        if (!(is_unreserved((unsigned char)*p)))
            return fail(out, "sigv4: %s: '%.40s' may only have letters, digits, '-', '_', '.'",
                        field, s);
    return 0;
}

static int check_graph(const char *s, const char *field, const char *extra_bad,
                       mlpz_sigv4_result *out)
{
    if (!s || !*s)
        return fail(out, "sigv4: %s: missing", field);
    for (const char *p = s; *p; p++)
        if (!is_graph((unsigned char)*p) || strchr(extra_bad, *p))
            return fail(out, "sigv4: %s: has a space, control or non-ASCII character%s%s",
                        field, *extra_bad ? " or one of " : "", extra_bad);
    return 0;
}

static int validate(const mlpz_sigv4_request *req, mlpz_sigv4_result *out)
{
    if (!req->method || !*req->method)
        return fail(out, "sigv4: method: missing");
    for (const char *p = req->method; *p; p++)
        if (!is_tchar((unsigned char)*p))
            return fail(out, "sigv4: method: '%.20s' is not an HTTP method", req->method);
    if (!req->url)
        return fail(out, "sigv4: url: missing");
    if (check_word(req->service, "service", out) || check_word(req->region, "region", out) ||
        check_graph(req->creds.access_key_id, "credentials.access_key_id", "/,", out))
        return -1;
    if (!req->creds.secret_access_key || !*req->creds.secret_access_key)
        return fail(out, "sigv4: credentials.secret_access_key: missing");
    if (req->creds.session_token && *req->creds.session_token &&
        check_graph(req->creds.session_token, "credentials.session_token", "", out))
        return -1;
    if (req->payload_hash && check_graph(req->payload_hash, "payload_hash", "", out))
        return -1;
    if (req->body_len && !req->body)
        return fail(out, "sigv4: body: NULL with length %zu", req->body_len);
    if (req->mode != MLPZ_SIGV4_HEADER && req->mode != MLPZ_SIGV4_QUERY)
        return fail(out, "sigv4: mode: want header or query");
    if (req->mode == MLPZ_SIGV4_QUERY &&
        (req->expires < 1 || req->expires > MLPZ_SIGV4_MAX_EXPIRES))
        return fail(out, "sigv4: expires: %d is outside 1..%d seconds", req->expires,
                    MLPZ_SIGV4_MAX_EXPIRES);
    return 0;
}

/* ---- signing ---- */

void mlpz_sigv4_request_init(mlpz_sigv4_request *r, const char *service)
{
    memset(r, 0, sizeof *r);
    r->service = service;
    r->expires = 3600;
    int s3 = service && strcmp(service, "s3") == 0;
    r->normalize = !s3;
    r->double_encode = !s3;
    r->sign_body = s3;
}

void mlpz_sigv4_result_free(mlpz_sigv4_result *out)
{
    free(out->payload_hash);
    free(out->credential_scope);
    free(out->signed_headers);
    free_secret(out->canonical_request);
    free(out->string_to_sign);
    free(out->authorization);
    for (size_t i = 0; i < out->n_headers; i++)
        free_secret(out->headers[i].value);
    free_secret(out->query);
    free_secret(out->url);
    memset(out, 0, sizeof *out);
}

static const char *const presign_names[] = {"X-Amz-Algorithm", "X-Amz-Credential",
                                            "X-Amz-Date", "X-Amz-SignedHeaders",
                                            "X-Amz-Expires", "X-Amz-Security-Token",
                                            "X-Amz-Signature"};

static int add_out_header(mlpz_sigv4_result *out, const char *name, const char *value)
{
    char *v = dup_n(value, strlen(value));
    if (!v)
        return -1;
    out->headers[out->n_headers].name = name;
    out->headers[out->n_headers++].value = v;
    return 0;
}

/* The presigned parameters in the order AWS's suite appends them; values
 * are encoded once, as they go on the wire. */
static char *presign_query(const mlpz_sigv4_request *req, const mlpz_sigv4_result *out,
                           const char *token, int with_signature)
{
    char expires[16];
    snprintf(expires, sizeof expires, "%d", req->expires);
    sbuf cred = {0}, b = {0};
    sb_puts(&cred, req->creds.access_key_id);
    sb_putc(&cred, '/');
    sb_puts(&cred, out->credential_scope);
    const char *values[] = {MLPZ_SIGV4_ALGORITHM, cred.p ? cred.p : "", out->amz_date,
                            out->signed_headers, expires, token,
                            with_signature ? out->signature : NULL};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        if (!values[i])
            continue;
        if (b.len)
            sb_putc(&b, '&');
        sb_puts(&b, presign_names[i]);
        sb_putc(&b, '=');
        sb_put_encoded(&b, values[i], strlen(values[i]), 0);
    }
    if (cred.oom)
        b.oom = 1;
    sb_free(&cred);
    return sb_take(&b);
}

/* The canonical query: the url's parameters, plus in query mode the
 * presigned ones (the session token only when it is signed), sorted by
 * encoded key then encoded value. NULL with out->err set on failure. */
static char *canonical_query(const mlpz_sigv4_request *req, const url_parts *u,
                             const char *signed_token, mlpz_sigv4_result *out)
{
    qlist l = {0};
    sbuf b = {0};
    char *result = NULL;
    if (parse_query(u, &l) != 0)
        goto oom;
    if (req->mode == MLPZ_SIGV4_QUERY) {
        for (size_t i = 0; i < l.n; i++)
            for (size_t k = 0; k < sizeof presign_names / sizeof *presign_names; k++)
                if (strcmp(l.v[i].key, presign_names[k]) == 0) {
                    fail(out, "sigv4: url: query already has %s; sign the url without it",
                         presign_names[k]);
                    goto done;
                }
        char *pq = presign_query(req, out, signed_token, 0);
        url_parts pu = {.query = pq, .query_len = pq ? strlen(pq) : 0};
        int rc = pq ? parse_query(&pu, &l) : -1;
        free_secret(pq);
        if (rc != 0)
            goto oom;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, qparam_cmp);
    for (size_t i = 0; i < l.n; i++) {
        if (i)
            sb_putc(&b, '&');
        sb_puts(&b, l.v[i].key);
        sb_putc(&b, '=');
        sb_puts(&b, l.v[i].value);
    }
    result = sb_take(&b);
    if (result)
        goto done;
oom:
    fail_oom(out);
done:
    sb_free(&b);
    ql_free(&l);
    return result;
}

static char *presigned_url(const char *url, const url_parts *u, const char *params)
{
    sbuf b = {0};
    sb_putn(&b, url, (size_t)(u->target - url));
    if (*u->target != '/')
        sb_putc(&b, '/');
    sb_puts(&b, u->target);
    if (!u->query)
        sb_putc(&b, '?');
    else if (u->query_len)
        sb_putc(&b, '&');
    sb_puts(&b, params);
    return sb_take(&b);
}

/* Amz date, payload hash and credential scope. */
static int sign_prelude(const mlpz_sigv4_request *req, mlpz_sigv4_result *out)
{
    if (mlpz_sigv4_format_date(req->time, out->amz_date) != 0)
        return fail(out, "sigv4: time: %lld is outside 1970..9999", (long long)req->time);
    if (req->payload_hash) {
        out->payload_hash = dup_n(req->payload_hash, strlen(req->payload_hash));
    } else {
        char hash[65];
        if (mlpz_sigv4_sha256_hex(req->body, req->body_len, hash) != 0)
            return fail(out, "sigv4: libcrypto SHA-256 failed");
        out->payload_hash = dup_n(hash, 64);
    }
    sbuf scope = {0};
    sb_putn(&scope, out->amz_date, 8);
    sb_putc(&scope, '/');
    sb_puts(&scope, req->region);
    sb_putc(&scope, '/');
    sb_puts(&scope, req->service);
    sb_puts(&scope, "/aws4_request");
    out->credential_scope = sb_take(&scope);
    return out->payload_hash && out->credential_scope ? 0 : fail_oom(out);
}

/* Sets signed_headers and canonical_request from the sorted headers. */
static int build_canonical_request(const mlpz_sigv4_request *req, const url_parts *u,
                                   const hlist *hl, const char *signed_token,
                                   mlpz_sigv4_result *out)
{
    sbuf sh = {0}, cr = {0};
    for (size_t i = 0; i < hl->n; i++) {
        if (i && strcmp(hl->v[i].name, hl->v[i - 1].name) == 0)
            continue;
        if (sh.len)
            sb_putc(&sh, ';');
        sb_puts(&sh, hl->v[i].name);
    }
    out->signed_headers = sb_take(&sh);
    char *path = out->signed_headers ? canonical_path(req, u) : NULL;
    if (!path)
        return fail_oom(out);
    char *query = canonical_query(req, u, signed_token, out);
    if (!query) {
        free(path);
        return -1;
    }
    sb_puts(&cr, req->method);
    sb_putc(&cr, '\n');
    sb_puts(&cr, path);
    sb_putc(&cr, '\n');
    sb_puts(&cr, query);
    sb_putc(&cr, '\n');
    free(path);
    free_secret(query);
    /* Repeated names were sorted next to each other, in their original
     * order: their values join with ',' on one line. */
    for (size_t i = 0; i < hl->n; i++) {
        if (i && strcmp(hl->v[i].name, hl->v[i - 1].name) == 0) {
            sb_putc(&cr, ',');
        } else {
            if (i)
                sb_putc(&cr, '\n');
            sb_puts(&cr, hl->v[i].name);
            sb_putc(&cr, ':');
        }
        sb_puts(&cr, hl->v[i].value);
    }
    sb_puts(&cr, "\n\n");
    sb_puts(&cr, out->signed_headers);
    sb_putc(&cr, '\n');
    sb_puts(&cr, out->payload_hash);
    out->canonical_request = sb_take(&cr);
    return out->canonical_request ? 0 : fail_oom(out);
}

static int build_string_to_sign(mlpz_sigv4_result *out)
{
    char hash[65];
    if (mlpz_sigv4_sha256_hex(out->canonical_request, strlen(out->canonical_request), hash))
        return fail(out, "sigv4: libcrypto SHA-256 failed");
    sbuf sts = {0};
    sb_puts(&sts, MLPZ_SIGV4_ALGORITHM "\n");
    sb_puts(&sts, out->amz_date);
    sb_putc(&sts, '\n');
    sb_puts(&sts, out->credential_scope);
    sb_putc(&sts, '\n');
    sb_puts(&sts, hash);
    out->string_to_sign = sb_take(&sts);
    return out->string_to_sign ? 0 : fail_oom(out);
}

static int finish_header_mode(const mlpz_sigv4_request *req, const url_parts *u,
                              int host_added, const char *token, mlpz_sigv4_result *out)
{
    sbuf auth = {0};
    sb_puts(&auth, MLPZ_SIGV4_ALGORITHM " Credential=");
    sb_puts(&auth, req->creds.access_key_id);
    sb_putc(&auth, '/');
    sb_puts(&auth, out->credential_scope);
    sb_puts(&auth, ", SignedHeaders=");
    sb_puts(&auth, out->signed_headers);
    sb_puts(&auth, ", Signature=");
    sb_puts(&auth, out->signature);
    out->authorization = sb_take(&auth);
    if (!out->authorization || (host_added && add_out_header(out, "Host", u->host)) ||
        (token && add_out_header(out, "X-Amz-Security-Token", token)) ||
        add_out_header(out, "X-Amz-Date", out->amz_date) ||
        (req->sign_body && add_out_header(out, "x-amz-content-sha256", out->payload_hash)) ||
        add_out_header(out, "Authorization", out->authorization))
        return fail_oom(out);
    return 0;
}

static int sign(const mlpz_sigv4_request *req, mlpz_sigv4_result *out, url_parts *u,
                hlist *hl)
{
    const char *token =
        req->creds.session_token && *req->creds.session_token ? req->creds.session_token : NULL;
    const char *signed_token = token && !req->omit_session_token ? token : NULL;
    int host_added = 0;
    if (validate(req, out) != 0 || split_url(req->url, u, out) != 0 ||
        sign_prelude(req, out) != 0 ||
        collect_headers(req, u, out->amz_date, token, out->payload_hash, hl, &host_added,
                        out) != 0 ||
        build_canonical_request(req, u, hl, signed_token, out) != 0 ||
        build_string_to_sign(out) != 0)
        return -1;

    char date8[9];
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';
    if (compute_signature(req->creds.secret_access_key, date8, req->region, req->service,
                          out->string_to_sign, out->signature) != 0)
        return fail(out, "sigv4: libcrypto HMAC-SHA256 failed (or out of memory)");

    if (req->mode == MLPZ_SIGV4_HEADER)
        return finish_header_mode(req, u, host_added, token, out);
    /* Query mode: the token goes on the url even when it was not signed. */
    out->query = presign_query(req, out, token, 1);
    out->url = out->query ? presigned_url(req->url, u, out->query) : NULL;
    return out->url ? 0 : fail_oom(out);
}

int mlpz_sigv4_sign(const mlpz_sigv4_request *req, mlpz_sigv4_result *out)
{
    memset(out, 0, sizeof *out);
    url_parts u = {0};
    hlist hl = {0};
    int rc = sign(req, out, &u, &hl);
    free(u.host);
    hl_free(&hl);
    if (rc != 0) {
        char err[sizeof out->err];
        memcpy(err, out->err, sizeof err);
        mlpz_sigv4_result_free(out);
        memcpy(out->err, err, sizeof err);
    }
    return rc;
}
