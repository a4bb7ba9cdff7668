/* SigV4 against AWS's own test suite (every case, header and query
 * variants, byte for byte), AWS's documented S3 examples, botocore run
 * live for an S3 key that needs encoding, and hostile input. */
#include "sigv4.h"
#include "unit.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILE (1 << 20)

static const char *const SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/* ---- small helpers ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
    int bad = !buf || ferror(f) || n > MAX_FILE;
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* printf into a fresh string; NULL when out of memory. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

static char *read_at(const char *dir, const char *name)
{
    char *path = fmt("%s/%s", dir, name);
    char *text = path ? read_file(path, NULL) : NULL;
    free(path);
    return text;
}

/* Line k (0-based) of s, copied; "" past the end. */
static char *line_of(const char *s, int k)
{
    for (; k > 0 && s; k--) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s)
        return fmt("%s", "");
    size_t n = strcspn(s, "\n");
    return fmt("%.*s", (int)n, s);
}

/* Like CHECK_STR, printing both sides line by line as "# " comments so a
 * multi-line canonical request stays readable. */
static void show(const char *label, const char *s)
{
    printf("#   %s:\n", label);
    if (!s) {
        printf("#     (null)\n");
        return;
    }
    for (;;) {
        size_t n = strcspn(s, "\n");
        printf("#     [%.*s]\n", (int)n, s);
        if (!s[n])
            break;
        s += n + 1;
    }
}

static void check_str(const char *got, const char *want, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static void check_str(const char *got, const char *want, const char *f, ...)
{
    int ok = got && want && strcmp(got, want) == 0;
    va_list ap;
    va_start(ap, f);
    printf("%s - ", ok ? "ok" : "not ok");
    vprintf(f, ap);
    va_end(ap);
    printf("%s\n", ok ? "" : ": differs from the expected text");
    if (!ok) {
        unit_failures++;
        show("got", got);
        show("want", want);
    }
}

/* ---- a tiny JSON reader for context.json: objects, strings, numbers,
 * booleans; nested keys flattened as "credentials.token". ---- */

typedef struct {
    char key[64];
    char val[1024];
} jfield;

typedef struct {
    jfield f[32];
    int n;
    const char *p;
} jdoc;

static void jws(jdoc *d)
{
    while (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r')
        d->p++;
}

static int jstring(jdoc *d, char *out, size_t cap)
{
    size_t n = 0;
    if (*d->p != '"')
        return -1;
    for (d->p++; *d->p != '"'; d->p++) {
        char c = *d->p;
        if (!c)
            return -1;
        if (c == '\\') {
            c = *++d->p;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *at = c ? strchr(from, c) : NULL;
            if (!at)
                return -1; /* \u is not in the suite's contexts */
            c = to[at - from];
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    d->p++;
    out[n] = '\0';
    return 0;
}

static int jvalue(jdoc *d, const char *key);

static int jobject(jdoc *d, const char *prefix)
{
    d->p++;
    jws(d);
    if (*d->p == '}') {
        d->p++;
        return 0;
    }
    for (;;) {
        char name[64], full[64];
        jws(d);
        if (jstring(d, name, sizeof name) != 0)
            return -1;
        if (snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "." : "", name) >=
            (int)sizeof full)
            return -1;
        jws(d);
        if (*d->p++ != ':')
            return -1;
        if (jvalue(d, full) != 0)
            return -1;
        jws(d);
        if (*d->p == '}') {
            d->p++;
            return 0;
        }
        if (*d->p++ != ',')
            return -1;
    }
}

static int jvalue(jdoc *d, const char *key)
{
    jws(d);
    if (*d->p == '{')
        return jobject(d, key);
    if (d->n == (int)(sizeof d->f / sizeof *d->f))
        return -1;
    jfield *f = &d->f[d->n];
    snprintf(f->key, sizeof f->key, "%s", key);
    if (*d->p == '"') {
        if (jstring(d, f->val, sizeof f->val) != 0)
            return -1;
    } else {
        size_t n = strspn(d->p, "-+.0123456789eEtruefalsn");
        if (n == 0 || n >= sizeof f->val)
            return -1;
        memcpy(f->val, d->p, n);
        f->val[n] = '\0';
        d->p += n;
    }
    d->n++;
    return 0;
}

static int json_parse(const char *s, jdoc *d)
{
    memset(d, 0, sizeof *d);
    d->p = s;
    jws(d);
    if (*d->p != '{' || jobject(d, "") != 0)
        return -1;
    jws(d);
    return *d->p ? -1 : 0;
}

static const char *jget(const jdoc *d, const char *key)
{
    for (int i = 0; i < d->n; i++)
        if (strcmp(d->f[i].key, key) == 0)
            return d->f[i].val;
    return NULL;
}

static int jtrue(const jdoc *d, const char *key)
{
    const char *v = jget(d, key);
    return v && strcmp(v, "true") == 0;
}

/* ---- request.txt: request line, headers (continuation lines fold into
 * the previous value with their line break), blank line, body. ---- */

typedef struct {
    char *text;            /* owned copy, cut in place */
    char *method, *target, *version;
    mlpz_sigv4_header headers[32];
    char *values[32];      /* owned, continuation lines joined */
    size_t n_headers;
    char *raw_headers;     /* the header lines as written, each ending "\n" */
    const char *body;
    size_t body_len;
} http_req;

static void http_free(http_req *r)
{
    for (size_t i = 0; i < r->n_headers; i++)
        free(r->values[i]);
    free(r->raw_headers);
    free(r->text);
    memset(r, 0, sizeof *r);
}

static int http_parse(const char *src, size_t len, http_req *r)
{
    memset(r, 0, sizeof *r);
    r->text = malloc(len + 1);
    if (!r->text)
        return -1;
    memcpy(r->text, src, len + 1);
    char *eol = strchr(r->text, '\n');
    if (!eol)
        return -1;
    *eol = '\0';
    char *sp1 = strchr(r->text, ' '), *sp2 = strrchr(r->text, ' ');
    if (!sp1 || sp1 == sp2)
        return -1;
    *sp1 = *sp2 = '\0';
    r->method = r->text;
    r->target = sp1 + 1;
    r->version = sp2 + 1;

    char *hdr_start = eol + 1, *p = hdr_start;
    while (*p && *p != '\n') {
        char *end = strchr(p, '\n');
        char *next = end ? end + 1 : p + strlen(p);
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (*p == ' ' || *p == '\t') {
            if (r->n_headers == 0)
                return -1;
            char *prev = r->values[r->n_headers - 1];
            char *joined = fmt("%s\n%.*s", prev, (int)n, p);
            if (!joined)
                return -1;
            free(prev);
            r->values[r->n_headers - 1] = joined;
        } else {
            char *colon = memchr(p, ':', n);
            if (!colon || r->n_headers == sizeof r->headers / sizeof *r->headers)
                return -1;
            r->values[r->n_headers] = fmt("%.*s", (int)(p + n - colon - 1), colon + 1);
            if (!r->values[r->n_headers])
                return -1;
            *colon = '\0';
            r->headers[r->n_headers].name = p;
            r->n_headers++;
        }
        p = next;
    }
    for (size_t i = 0; i < r->n_headers; i++)
        r->headers[i].value = r->values[i];
    /* The raw block is rebuilt from the source, since names were cut. */
    size_t raw_len = (size_t)(p - hdr_start);
    r->raw_headers = fmt("%.*s", (int)raw_len, src + (hdr_start - r->text));
    if (!r->raw_headers)
        return -1;
    if (raw_len && src[(hdr_start - r->text) + raw_len - 1] != '\n') {
        char *t = fmt("%s\n", r->raw_headers);
        free(r->raw_headers);
        r->raw_headers = t;
        if (!t)
            return -1;
    }
    if (*p == '\n') {
        r->body = src + (p + 1 - r->text);
        r->body_len = len - (size_t)(p + 1 - r->text);
    } else {
        r->body = "";
    }
    return 0;
}

/* ---- the suite ---- */

static int64_t parse_iso(const char *s)
{
    struct tm tm = {0};
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static char *signed_request_text(const http_req *h, const mlpz_sigv4_result *res,
                                 mlpz_sigv4_mode mode)
{
    char *added = fmt("%s", "");
    for (size_t i = 0; added && mode == MLPZ_SIGV4_HEADER && i < res->n_headers; i++) {
        char *t = fmt("%s%s:%s\n", added, res->headers[i].name, res->headers[i].value);
        free(added);
        added = t;
    }
    if (!added)
        return NULL;
    char *s = fmt("%s %s %s\n%s%s\n%.*s", h->method,
                  mode == MLPZ_SIGV4_QUERY ? res->url : h->target, h->version, h->raw_headers,
                  added, (int)h->body_len, h->body);
    free(added);
    return s;
}

static void compare_part(const char *dir, const char *casename, const char *variant,
                         const char *part, const char *got)
{
    char file[128];
    snprintf(file, sizeof file, "%s-%s.txt", variant, part);
    char *want = read_at(dir, file);
    if (!want) {
        CHECK(0, "%s %s %s: expected file %s is missing", casename, variant, part, file);
        return;
    }
    check_str(got, want, "%s %s %s", casename, variant, part);
    free(want);
}

static void run_case(const char *root, const char *casename)
{
    static const char *const parts[] = {"canonical-request", "string-to-sign", "signature",
                                        "signed-request"};
    char dir[8192], path[8300];
    snprintf(dir, sizeof dir, "%s/%s", root, casename);
    snprintf(path, sizeof path, "%s/request.txt", dir);
    size_t reqlen = 0;
    char *reqtext = read_file(path, &reqlen);
    char *ctxtext = read_at(dir, "context.json");
    http_req h;
    jdoc ctx;
    int loaded = reqtext && ctxtext && http_parse(reqtext, reqlen, &h) == 0;
    if (!loaded)
        memset(&h, 0, sizeof h);
    loaded = loaded && json_parse(ctxtext, &ctx) == 0;
    CHECK(loaded, "%s request.txt and context.json load", casename);

    for (int m = 0; loaded && m < 2; m++) {
        mlpz_sigv4_mode mode = m ? MLPZ_SIGV4_QUERY : MLPZ_SIGV4_HEADER;
        const char *variant = m ? "query" : "header";
        mlpz_sigv4_request req;
        mlpz_sigv4_request_init(&req, jget(&ctx, "service"));
        req.method = h.method;
        req.url = h.target;
        req.headers = h.headers;
        req.n_headers = h.n_headers;
        req.body = h.body;
        req.body_len = h.body_len;
        req.region = jget(&ctx, "region");
        req.creds.access_key_id = jget(&ctx, "credentials.access_key_id");
        req.creds.secret_access_key = jget(&ctx, "credentials.secret_access_key");
        req.creds.session_token = jget(&ctx, "credentials.token");
        req.time = parse_iso(jget(&ctx, "timestamp"));
        req.mode = mode;
        const char *exp = jget(&ctx, "expiration_in_seconds");
        req.expires = exp ? atoi(exp) : 0;
        req.normalize = jtrue(&ctx, "normalize");
        req.double_encode = 1;
        req.sign_body = jtrue(&ctx, "sign_body");
        req.omit_session_token = jtrue(&ctx, "omit_session_token");

        mlpz_sigv4_result res;
        int rc = mlpz_sigv4_sign(&req, &res);
        CHECK(rc == 0, "%s %s signs%s%s", casename, variant, rc ? ": " : "",
              rc ? res.err : "");
        char *signed_text = rc == 0 ? signed_request_text(&h, &res, mode) : NULL;
        const char *got[] = {res.canonical_request, res.string_to_sign,
                             rc == 0 ? res.signature : NULL, signed_text};
        for (size_t k = 0; k < sizeof parts / sizeof *parts; k++)
            compare_part(dir, casename, variant, parts[k], got[k]);
        free(signed_text);
        mlpz_sigv4_result_free(&res);
    }
    http_free(&h);
    free(reqtext);
    free(ctxtext);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_suite(void)
{
    const char *shared = getenv("MLPZ_SHARED");
    char root[4096];
    snprintf(root, sizeof root, "%s/aws-sigv4-test-suite/v4", shared ? shared : "");
    DIR *d = shared ? opendir(root) : NULL;
    CHECK(d != NULL, "suite folder %s opens (set MLPZ_SHARED)", root);
    if (!d)
        return;
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < sizeof names / sizeof *names)
        if (e->d_name[0] != '.' && (names[n] = fmt("%s", e->d_name)))
            n++;
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    /* Counted with ls so a folder the loop skipped would show. */
    char *cmd = fmt("ls -1 '%s' | wc -l", root);
    FILE *ls = cmd ? popen(cmd, "r") : NULL;
    size_t want = 0;
    if (!ls || fscanf(ls, "%zu", &want) != 1)
        want = 0;
    if (ls)
        pclose(ls);
    free(cmd);
    CHECK(n > 0 && n == want, "suite has %zu cases, ls counts %zu", n, want);
    for (size_t i = 0; i < n; i++) {
        run_case(root, names[i]);
        free(names[i]);
    }
}

/* ---- S3 ---- */

static void s3_init(mlpz_sigv4_request *req, const char *url, mlpz_sigv4_mode mode)
{
    mlpz_sigv4_request_init(req, "s3");
    req->method = "GET";
    req->url = url;
    req->region = "us-east-1";
    req->creds.access_key_id = "AKIAIOSFODNN7EXAMPLE";
    req->creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    struct tm tm = {.tm_year = 2013 - 1900, .tm_mon = 4, .tm_mday = 24};
    req->time = (int64_t)timegm(&tm);
    req->mode = mode;
}

/* The two worked examples of the S3 SigV4 documentation
 * (sig-v4-header-based-auth.html, sigv4-query-string-auth.html). */
static void test_s3_documented(void)
{
    static const mlpz_sigv4_header range[] = {{"Range", "bytes=0-9"}};
    mlpz_sigv4_request req;
    mlpz_sigv4_result res;
    s3_init(&req, "https://examplebucket.s3.amazonaws.com/test.txt", MLPZ_SIGV4_HEADER);
    req.headers = range;
    req.n_headers = 1;
    CHECK(mlpz_sigv4_sign(&req, &res) == 0, "s3 doc GET signs");
    check_str(res.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
              "s3 doc GET signature (AWS documentation)");
    check_str(res.signed_headers, "host;range;x-amz-content-sha256;x-amz-date",
              "s3 doc GET signs host, range, x-amz-content-sha256, x-amz-date");
    int seen_host = res.n_headers > 0 && strcmp(res.headers[0].name, "Host") == 0 &&
                    strcmp(res.headers[0].value, "examplebucket.s3.amazonaws.com") == 0;
    CHECK(seen_host, "s3 doc GET adds the Host it signed, from the url");
    mlpz_sigv4_result_free(&res);

    s3_init(&req, "https://examplebucket.s3.amazonaws.com/test.txt", MLPZ_SIGV4_QUERY);
    req.expires = 86400;
    req.payload_hash = MLPZ_SIGV4_UNSIGNED_PAYLOAD;
    CHECK(mlpz_sigv4_sign(&req, &res) == 0, "s3 doc presigned GET signs");
    check_str(res.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
              "s3 doc presigned signature (AWS documentation)");
    char *tail = line_of(res.canonical_request ? res.canonical_request : "", 6);
    check_str(tail, "UNSIGNED-PAYLOAD", "s3 doc presigned payload hash is UNSIGNED-PAYLOAD");
    free(tail);
    static const char url_head[] =
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&";
    CHECK(res.url && strncmp(res.url, url_head, sizeof url_head - 1) == 0,
          "s3 doc presigned url starts with the object url and the algorithm");
    mlpz_sigv4_result_free(&res);
}

/* The signature botocore computes for the same request, run live. */
static char *botocore_signatures(const char *url, const char *token)
{
    static const char script[] =
        "import sys, datetime\n"
        "import botocore.auth as A\n"
        "from botocore.awsrequest import AWSRequest\n"
        "from botocore.credentials import Credentials\n"
        "A.get_current_datetime = lambda *a, **k: datetime.datetime(2013, 5, 24)\n"
        "c = Credentials('AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',"
        " sys.argv[2] or None)\n"
        "class Unsigned(A.S3SigV4Auth):\n"
        "    def _should_sha256_sign_payload(self, request): return False\n"
        "r = AWSRequest(method='GET', url=sys.argv[1], headers={'Range': 'bytes=0-9'})\n"
        "Unsigned(c, 's3', 'us-east-1').add_auth(r)\n"
        "print(r.headers['Authorization'].rsplit('Signature=', 1)[1])\n"
        "q = AWSRequest(method='GET', url=sys.argv[1])\n"
        "A.S3SigV4QueryAuth(c, 's3', 'us-east-1', expires=600).add_auth(q)\n"
        "print(q.url.rsplit('X-Amz-Signature=', 1)[1])\n";
    char tmpl[] = "/tmp/mlpz-sigv4-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return NULL;
    ssize_t w = write(fd, script, sizeof script - 1);
    close(fd);
    char *out = NULL;
    char *cmd = w == (ssize_t)(sizeof script - 1)
                    ? fmt("python3 '%s' '%s' '%s' 2>&1", tmpl, url, token)
                    : NULL;
    FILE *p = cmd ? popen(cmd, "r") : NULL;
    if (p) {
        char buf[512];
        size_t n = fread(buf, 1, sizeof buf - 1, p);
        buf[n] = '\0';
        pclose(p);
        out = fmt("%s", buf);
    }
    free(cmd);
    unlink(tmpl);
    return out;
}

static void test_s3_against_botocore(void)
{
    /* A key that needs encoding (space, UTF-8, '+') plus dot segments and a
     * double slash that S3 must keep: no normalisation, single encoding. */
    const char *key = "my photos/./caf\xc3\xa9+cr\xc3\xa8me//a.jpg";
    char *enc = mlpz_sigv4_uri_encode(key, strlen(key), 1);
    check_str(enc, "my%20photos/./caf%C3%A9%2Bcr%C3%A8me//a.jpg",
              "uri_encode keeps unreserved and '/', %%XX upper-case for the rest");
    char *url = enc ? fmt("https://examplebucket.s3.amazonaws.com/%s?list-type=2&prefix=", enc)
                    : NULL;
    const char *token = "FQoGZXIvYXdzE//+token=";
    char *boto = url ? botocore_signatures(url, token) : NULL;
    char *boto_header = boto ? line_of(boto, 0) : NULL;
    char *boto_query = boto ? line_of(boto, 1) : NULL;
    int boto_ok =
        boto_header && strlen(boto_header) == 64 && boto_query && strlen(boto_query) == 64;
    CHECK(boto_ok, "botocore computed the reference signatures (python3 + botocore)");
    if (!boto_ok)
        show("python3 said", boto);

    static const mlpz_sigv4_header range[] = {{"Range", "bytes=0-9"}};
    mlpz_sigv4_request req;
    mlpz_sigv4_result res;
    s3_init(&req, url, MLPZ_SIGV4_HEADER);
    req.headers = range;
    req.n_headers = 1;
    req.payload_hash = MLPZ_SIGV4_UNSIGNED_PAYLOAD;
    req.creds.session_token = token;
    CHECK(url && mlpz_sigv4_sign(&req, &res) == 0, "s3 header UNSIGNED-PAYLOAD signs");
    char *path = line_of(res.canonical_request ? res.canonical_request : "", 1);
    char *want_path = enc ? fmt("/%s", enc) : NULL;
    check_str(path, want_path, "s3 canonical path neither normalised nor encoded twice");
    char *query = line_of(res.canonical_request ? res.canonical_request : "", 2);
    check_str(query, "list-type=2&prefix=", "s3 canonical query keeps the empty value");
    const char *sha = NULL;
    for (size_t i = 0; i < res.n_headers; i++)
        if (strcmp(res.headers[i].name, "x-amz-content-sha256") == 0)
            sha = res.headers[i].value;
    check_str(sha, "UNSIGNED-PAYLOAD", "s3 adds x-amz-content-sha256: UNSIGNED-PAYLOAD");
    check_str(res.signature, boto_header, "s3 header signature equals botocore's");
    if (boto_header && strcmp(res.signature, boto_header) != 0)
        printf("# canonical request:\n%s\n", res.canonical_request);
    mlpz_sigv4_result_free(&res);

    s3_init(&req, url, MLPZ_SIGV4_QUERY);
    req.expires = 600;
    req.payload_hash = MLPZ_SIGV4_UNSIGNED_PAYLOAD;
    req.creds.session_token = token;
    CHECK(url && mlpz_sigv4_sign(&req, &res) == 0, "s3 presigned signs");
    check_str(res.signature, boto_query, "s3 presigned signature equals botocore's");
    CHECK(res.query && strstr(res.query, "&X-Amz-Security-Token=FQoGZXIvYXdzE%2F%2F%2Btoken%3D&"),
          "s3 presigned url carries the encoded session token");
    mlpz_sigv4_result_free(&res);

    /* The same url for another service: normalised and encoded twice. */
    mlpz_sigv4_request_init(&req, "service");
    req.method = "GET";
    req.url = url;
    req.region = "us-east-1";
    req.creds.access_key_id = "AKIDEXAMPLE";
    req.creds.secret_access_key = SUITE_SECRET;
    req.time = 1440938160;
    CHECK(url && mlpz_sigv4_sign(&req, &res) == 0, "non-s3 signs the same url");
    char *path2 = line_of(res.canonical_request ? res.canonical_request : "", 1);
    check_str(path2, "/my%2520photos/caf%25C3%25A9%252Bcr%25C3%25A8me/a.jpg",
              "non-s3 canonical path normalised and encoded twice");
    mlpz_sigv4_result_free(&res);

    free(path);
    free(path2);
    free(want_path);
    free(query);
    free(boto_header);
    free(boto_query);
    free(boto);
    free(url);
    free(enc);
}

/* ---- properties and hostile input ---- */

static void vanilla(mlpz_sigv4_request *req)
{
    static const mlpz_sigv4_header host[] = {{"Host", "example.amazonaws.com"}};
    mlpz_sigv4_request_init(req, "service");
    req->method = "GET";
    req->url = "/";
    req->headers = host;
    req->n_headers = 1;
    req->region = "us-east-1";
    req->creds.access_key_id = "AKIDEXAMPLE";
    req->creds.secret_access_key = SUITE_SECRET;
    req->time = 1440938160; /* 2015-08-30T12:36:00Z */
}

static void test_secret_changes_signature(void)
{
    mlpz_sigv4_request req;
    mlpz_sigv4_result a, b;
    vanilla(&req);
    int ok = mlpz_sigv4_sign(&req, &a) == 0;
    req.creds.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ";
    ok = ok && mlpz_sigv4_sign(&req, &b) == 0;
    CHECK(ok, "vanilla signs with two secrets");
    CHECK(ok && strcmp(a.signature, b.signature) != 0,
          "a secret differing in its last byte changes the signature (%s vs %s)", a.signature,
          b.signature);
    CHECK(ok && strcmp(a.string_to_sign, b.string_to_sign) == 0,
          "the secret does not enter the string to sign");
    CHECK(ok && !strstr(a.canonical_request, "EXAMPLEKEY") && !strstr(a.string_to_sign,
                                                                      "EXAMPLEKEY") &&
              !strstr(a.authorization, "EXAMPLEKEY"),
          "no output contains the secret");
    mlpz_sigv4_result_free(&a);
    mlpz_sigv4_result_free(&b);
    mlpz_sigv4_result_free(&b);
    CHECK(b.canonical_request == NULL && b.n_headers == 0, "result_free is idempotent");

    char d[17];
    CHECK(mlpz_sigv4_format_date(1440938160, d) == 0 && strcmp(d, "20150830T123600Z") == 0,
          "format_date 1440938160 -> 20150830T123600Z");
    CHECK(mlpz_sigv4_format_date(-1, d) != 0 &&
              mlpz_sigv4_format_date(INT64_C(253402300800), d) != 0,
          "format_date refuses times before 1970 and after 9999");
}

static void expect_error(mlpz_sigv4_request *req, const char *what, const char *needle)
{
    mlpz_sigv4_result res;
    int rc = mlpz_sigv4_sign(req, &res);
    CHECK(rc != 0 && strstr(res.err, needle) && !strchr(res.err, '\n'),
          "refuses %s with one line naming '%s': %s", what, needle, rc ? res.err : "(signed)");
    CHECK(res.canonical_request == NULL && res.signature[0] == '\0',
          "a refused request leaves no partial output (%s)", what);
    mlpz_sigv4_result_free(&res);
}

static void test_bad_input(void)
{
    mlpz_sigv4_request req;
    mlpz_sigv4_header h[2] = {{"Host", "example.amazonaws.com"}, {"X-Bad", "a\r\nInjected: 1"}};

    vanilla(&req);
    req.headers = h;
    req.n_headers = 2;
    expect_error(&req, "a CRLF in a header value", "headers[2]");
    h[1] = (mlpz_sigv4_header){"Bad Name", "v"};
    expect_error(&req, "a space in a header name", "headers[2]");
    h[1] = (mlpz_sigv4_header){"X-Amz-Date", "20150830T123600Z"};
    expect_error(&req, "a header the signer sets", "set by the signer");

    vanilla(&req);
    req.n_headers = 0;
    expect_error(&req, "a relative url without a Host header", "no host");
    vanilla(&req);
    req.url = "example.com/x";
    expect_error(&req, "a url that is neither absolute nor a path", "url");
    vanilla(&req);
    req.url = "/x#frag";
    expect_error(&req, "a fragment", "fragment");
    vanilla(&req);
    req.mode = MLPZ_SIGV4_QUERY;
    req.expires = MLPZ_SIGV4_MAX_EXPIRES + 1;
    expect_error(&req, "an expiry over seven days", "expires");
    vanilla(&req);
    req.mode = MLPZ_SIGV4_QUERY;
    req.url = "/?X-Amz-Signature=abc";
    expect_error(&req, "a url already presigned", "X-Amz-Signature");
    vanilla(&req);
    req.region = "us east";
    expect_error(&req, "a region with a space", "region");
    vanilla(&req);
    req.creds.access_key_id = NULL;
    expect_error(&req, "missing credentials", "access_key_id");
    vanilla(&req);
    req.time = -5;
    expect_error(&req, "a time before 1970", "time");

    /* Random urls and header values: every call returns cleanly (the
     * sanitizer build catches any out-of-bounds access). */
    unsigned seed = 12345, signed_ok = 0, refused = 0;
    static const char url_chars[] = "/.%?&=+ ~aZ09\xc3\xa9:-_";
    static const char value_chars[] = " \t\r\n\x01aZ09\xc3\xa9,:;=\"\\-";
    for (int iter = 0; iter < 2000; iter++) {
        char url[40], val[24];
        size_t un = 0, vn = 0;
        url[un++] = '/';
        for (int k = 0; k < 30; k++) {
            seed = seed * 1103515245u + 12345u;
            url[un++] = url_chars[(seed >> 16) % (sizeof url_chars - 1)];
        }
        url[un] = '\0';
        for (int k = 0; k < 12; k++) {
            seed = seed * 1103515245u + 12345u;
            val[vn++] = value_chars[(seed >> 16) % (sizeof value_chars - 1)];
        }
        val[vn] = '\0';
        mlpz_sigv4_header hh[2] = {{"Host", "example.amazonaws.com"}, {"X-Fuzz", val}};
        vanilla(&req);
        req.url = url;
        req.headers = hh;
        req.n_headers = 2;
        req.mode = iter % 2 ? MLPZ_SIGV4_QUERY : MLPZ_SIGV4_HEADER;
        req.normalize = iter % 3 != 0;
        req.double_encode = iter % 5 != 0;
        mlpz_sigv4_result res;
        if (mlpz_sigv4_sign(&req, &res) == 0)
            signed_ok += res.signature[63] != '\0' && strlen(res.signature) == 64;
        else
            refused += res.err[0] != '\0';
        mlpz_sigv4_result_free(&res);
    }
    CHECK(signed_ok + refused == 2000 && signed_ok > 0 && refused > 0,
          "2000 random urls and header values: %u signed, %u refused with a message",
          signed_ok, refused);
}

/* ---- allocation failure: every allocation the signer (and libcrypto
 * under it) makes is failed in turn. ASan owns malloc, so this part is
 * compiled only in the plain build. ---- */

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifndef HAVE_ASAN
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static long fail_countdown = -1; /* the allocation to fail; -1: none */
static long live_blocks;

static int fail_now(void)
{
    return fail_countdown >= 0 && fail_countdown-- == 0;
}

void *malloc(size_t n)
{
    void *p = fail_now() ? NULL : __libc_malloc(n);
    live_blocks += p != NULL;
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p = fail_now() ? NULL : __libc_calloc(n, size);
    live_blocks += p != NULL;
    return p;
}

void *realloc(void *p, size_t n)
{
    if (fail_now())
        return NULL;
    void *q = __libc_realloc(p, n);
    live_blocks += (q && !p) - (!q && p && n == 0);
    return q;
}

void free(void *p)
{
    live_blocks -= p != NULL;
    __libc_free(p);
}

static void test_allocation_failures(void)
{
    static const mlpz_sigv4_header hdrs[] = {{"Host", "example.amazonaws.com"},
                                             {"My-Header1", "  a   b  "},
                                             {"my-header1", "c"}};
    long points = 0, refused = 0, absorbed = 0, leaked = 0, wrong = 0;
    for (int m = 0; m < 2; m++) {
        mlpz_sigv4_request req;
        vanilla(&req);
        req.url = "/a/./b/../c%20d?z=1&y=&x=%E1%88%B4";
        req.headers = hdrs;
        req.n_headers = 3;
        req.creds.session_token = "token/+=";
        req.sign_body = 1;
        req.mode = m ? MLPZ_SIGV4_QUERY : MLPZ_SIGV4_HEADER;
        mlpz_sigv4_result res;
        char want[65] = "";
        if (mlpz_sigv4_sign(&req, &res) == 0)
            memcpy(want, res.signature, sizeof want);
        mlpz_sigv4_result_free(&res);
        for (long k = 0;; k++) {
            /* The first run creates whatever libcrypto keeps for good
             * (error queues, fetched algorithms); the second is measured. */
            int rc = 0, triggered = 0;
            long before = 0;
            char err[sizeof res.err], sig[sizeof res.signature];
            for (int pass = 0; pass < 2; pass++) {
                before = live_blocks;
                fail_countdown = k;
                rc = mlpz_sigv4_sign(&req, &res);
                memcpy(err, res.err, sizeof err);
                memcpy(sig, res.signature, sizeof sig);
                mlpz_sigv4_result_free(&res);
                triggered = fail_countdown < 0;
                fail_countdown = -1;
            }
            if (!triggered)
                break;
            points++;
            leaked += live_blocks != before;
            if (rc != 0) {
                refused++;
                wrong += !strstr(err, "out of memory") && !strstr(err, "libcrypto");
            } else {
                /* libcrypto copes with some of its own failures. */
                absorbed++;
                wrong += strcmp(sig, want) != 0;
            }
        }
    }
    CHECK(points > 20, "allocation failure injected at each of %ld allocation points", points);
    CHECK(leaked == 0, "no allocation failure leaks a block (%ld leaked)", leaked);
    CHECK(wrong == 0 && refused > 0,
          "each is refused as out of memory (%ld) or absorbed by libcrypto with the right "
          "signature (%ld); %ld otherwise", refused, absorbed, wrong);
}
#endif

int main(void)
{
    run_suite();
    test_s3_documented();
    test_s3_against_botocore();
    test_secret_changes_signature();
    test_bad_input();
#ifndef HAVE_ASAN
    test_allocation_failures();
#endif
    return unit_done();
}
