/* aws.client{...} and client:request{...}: signed AWS requests over one
 * kept-alive libcurl handle per client, with the SDKs' standard retries;
 * AWS error bodies (JSON or XML) decoded into {code, message, status,
 * request_id, retryable}. Also aws.file_digest, shared with uploads. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "http.h"
#include "l_aws.h"
#include "sigv4.h"
#include "version.h"

#define CLIENT_MT "mlpz.aws.client"
#define ERROR_MT "mlpz.aws.error"
#define STATE_MT "mlpz.aws.request_state"

#define DEFAULT_CONNECT_TIMEOUT 5.0
#define DEFAULT_TIMEOUT 30.0
#define DEFAULT_MAX_ATTEMPTS 3
#define MAX_ATTEMPTS_LIMIT 10
/* Full-jitter backoff: random(0, min(CAP, base * 2^(attempt-1))) seconds,
 * the SDKs' standard mode with smaller bases so a REPL stays responsive. */
#define BACKOFF_BASE 0.1
#define BACKOFF_THROTTLE_BASE 0.5
#define BACKOFF_CAP 20.0
#define MAX_MESSAGE 4096
#define USER_AGENT "mlpz-lua/" MLPZ_VERSION " (" LUA_RELEASE ")"

typedef struct {
    mlpz_http *http;
    char *endpoint;         /* scheme://host[:port][/prefix], no trailing slash */
    char region[64];
    char service[64];
    char signing_name[64];
    char ca_bundle[1024];
    int custom;             /* endpoint is not AWS's own */
    int path_style;         /* S3: /bucket/key rather than bucket.host/key */
    int s3;                 /* S3 signing rules by default */
    long connect_timeout_ms, timeout_ms;
    int max_attempts;
    size_t max_body;        /* bound of a body held in memory */
} client;

/* ---- errors ---- */

static int error_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "status");
    lua_getfield(L, 1, "request_id");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, lua_isstring(L, 2) ? lua_tostring(L, 2) : "Error");
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, lua_isstring(L, 3) ? lua_tostring(L, 3) : "");
    if (lua_isinteger(L, 4)) {
        luaL_addstring(&b, " (HTTP ");
        luaL_addstring(&b, lua_tostring(L, 4));
        if (lua_isstring(L, 5)) {
            luaL_addstring(&b, ", request id ");
            luaL_addstring(&b, lua_tostring(L, 5));
        }
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    return 1;
}

/* Pushes {code, message, status, request_id, retryable, attempts}. */
static void push_error(lua_State *L, const char *code, const char *message, long status,
                       const char *request_id, int retryable, int attempts)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    if (status > 0) {
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
    }
    if (request_id) {
        lua_pushstring(L, request_id);
        lua_setfield(L, -2, "request_id");
    }
    lua_pushboolean(L, retryable);
    lua_setfield(L, -2, "retryable");
    lua_pushinteger(L, attempts);
    lua_setfield(L, -2, "attempts");
    luaL_setmetatable(L, ERROR_MT);
}

static int fail_local(lua_State *L, const char *code, const char *message)
{
    luaL_pushfail(L);
    push_error(L, code, message, 0, NULL, 0, 0);
    return 2;
}

static const char *const THROTTLING[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "EC2ThrottledException", NULL};

static const char *const TRANSIENT[] = {"RequestTimeout", "RequestTimeoutException",
                                        "PriorRequestNotComplete", "IDPCommunicationError", NULL};

static int in_list(const char *const *list, const char *code)
{
    for (; code && *list; list++)
        if (strcmp(*list, code) == 0)
            return 1;
    return 0;
}

static int is_throttle(const char *code, long status)
{
    return status == 429 || in_list(THROTTLING, code);
}

static int is_retryable(const char *code, long status)
{
    return is_throttle(code, status) || in_list(TRANSIENT, code) ||
           (status >= 500 && status != 501 && status != 505);
}

/* ---- redaction ---- */

typedef struct {
    const char *s[4];
    size_t n;
} secrets;

static void secrets_add(secrets *k, const char *s)
{
    if (s && strlen(s) >= 4 && k->n < sizeof k->s / sizeof *k->s)
        k->s[k->n++] = s;
}

/* Pushes s with every secret replaced by "<redacted>". */
static const char *push_redacted(lua_State *L, const char *s, size_t n, const secrets *k)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t i = 0;
    while (i < n) {
        size_t hit = 0;
        for (size_t j = 0; j < k->n && !hit; j++) {
            size_t m = strlen(k->s[j]);
            if (m <= n - i && memcmp(s + i, k->s[j], m) == 0)
                hit = m;
        }
        if (hit) {
            luaL_addstring(&b, "<redacted>");
            i += hit;
        } else {
            luaL_addchar(&b, s[i++]);
        }
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

static void debug_block(lua_State *L, const char *title, const char *text, const secrets *k)
{
    if (!mlpz_aws_debug_on() || !text)
        return;
    mlpz_aws_debugf("%s:\n%s", title, push_redacted(L, text, strlen(text), k));
    lua_pop(L, 1);
}

/* ---- per-request state, released by __gc if a Lua error cuts in ---- */

typedef struct {
    FILE *body;
    FILE *out;
    char *tmp_path;      /* output temp file, unlinked unless renamed */
    char **lines;        /* header lines for libcurl */
    size_t n_lines;
    char *token_enc;     /* URI-encoded session token, for redaction */
    mlpz_sigv4_result sig;
    mlpz_http_response res;
} req_state;

static void free_lines(req_state *s)
{
    for (size_t i = 0; i < s->n_lines; i++) {
        mlpz_sigv4_cleanse(s->lines[i], strlen(s->lines[i]));
        free(s->lines[i]);
    }
    free(s->lines);
    s->lines = NULL;
    s->n_lines = 0;
}

static void state_release(req_state *s)
{
    if (s->body)
        fclose(s->body);
    if (s->out)
        fclose(s->out);
    s->body = s->out = NULL;
    if (s->tmp_path) {
        unlink(s->tmp_path);
        free(s->tmp_path);
        s->tmp_path = NULL;
    }
    free_lines(s);
    if (s->token_enc) {
        mlpz_sigv4_cleanse(s->token_enc, strlen(s->token_enc));
        free(s->token_enc);
        s->token_enc = NULL;
    }
    mlpz_sigv4_result_free(&s->sig);
    mlpz_http_response_free(&s->res);
}

static int state_gc(lua_State *L)
{
    state_release(luaL_checkudata(L, 1, STATE_MT));
    return 0;
}

/* ---- file digests ---- */

static const EVP_MD *digest_algo(const char *name, int *base64)
{
    size_t n = strlen(name);
    *base64 = n > 7 && strcmp(name + n - 7, "-base64") == 0;
    size_t base = *base64 ? n - 7 : n;
    if (base == 6 && strncmp(name, "sha256", 6) == 0)
        return EVP_sha256();
    if (base == 3 && strncmp(name, "md5", 3) == 0)
        return EVP_md5();
    if (base == 4 && strncmp(name, "sha1", 4) == 0)
        return EVP_sha1();
    return NULL;
}

/* Streams len bytes of f from off through md. 0, or -1 with err. */
static int digest_region(FILE *f, int64_t off, int64_t len, const EVP_MD *md, unsigned char *out,
                         unsigned *outlen, char *err, size_t errlen)
{
    if (fseeko(f, (off_t)off, SEEK_SET) != 0) {
        snprintf(err, errlen, "seek: %s", strerror(errno));
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(65536);
    int rc = ctx && buf && EVP_DigestInit_ex(ctx, md, NULL) == 1 ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "out of memory");
    while (rc == 0 && len > 0) {
        size_t want = len > 65536 ? 65536 : (size_t)len;
        size_t got = fread(buf, 1, want, f);
        if (got == 0) {
            snprintf(err, errlen, "%s", ferror(f) ? strerror(errno) : "the file ended early");
            rc = -1;
        } else if (EVP_DigestUpdate(ctx, buf, got) != 1) {
            snprintf(err, errlen, "digest failed");
            rc = -1;
        }
        len -= (int64_t)got;
    }
    if (rc == 0 && EVP_DigestFinal_ex(ctx, out, outlen) != 1) {
        snprintf(err, errlen, "digest failed");
        rc = -1;
    }
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

static void to_hex(const unsigned char *d, unsigned n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Opens path and resolves [offset, offset + length) against its size. */
static FILE *open_region(const char *path, lua_Integer offset, lua_Integer length, int64_t *len,
                         char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, f ? "not a regular file" : strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    int64_t size = (int64_t)st.st_size;
    if (offset < 0 || offset > size || (length >= 0 && length > size - offset)) {
        snprintf(err, errlen, "%s: the region %lld+%lld passes the end of the file (%lld bytes)",
                 path, (long long)offset, (long long)length, (long long)size);
        fclose(f);
        return NULL;
    }
    *len = length >= 0 ? (int64_t)length : size - offset;
    return f;
}

/* aws.file_digest(path, algo, [offset, [length]]) -> digest | nil, err */
int mlpz_aws_file_digest(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *name = luaL_checkstring(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_Integer length = luaL_optinteger(L, 4, -1);
    luaL_argcheck(L, offset >= 0, 3, "offset must be 0 or more");
    luaL_argcheck(L, lua_isnoneornil(L, 4) || length >= 0, 4, "length must be 0 or more");
    int base64;
    const EVP_MD *md = digest_algo(name, &base64);
    if (!md)
        return luaL_argerror(L, 2, "use sha256, md5, sha1, or one of them with -base64");
    char err[512];
    int64_t len;
    FILE *f = open_region(path, offset, length, &len, err, sizeof err);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    int rc = f ? digest_region(f, offset, len, md, d, &dn, err, sizeof err) : -1;
    if (f)
        fclose(f);
    if (rc != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    char out[2 * EVP_MAX_MD_SIZE + 1];
    if (base64)
        EVP_EncodeBlock((unsigned char *)out, d, (int)dn);
    else
        to_hex(d, dn, out);
    lua_pushstring(L, out);
    return 1;
}

/* ---- the client ---- */

static client *check_client(lua_State *L, int idx)
{
    client *c = luaL_checkudata(L, idx, CLIENT_MT);
    if (!c->http)
        luaL_error(L, "aws client: closed");
    return c;
}

static void client_release(client *c)
{
    mlpz_http_free(c->http);
    c->http = NULL;
    free(c->endpoint);
    c->endpoint = NULL;
}

static int client_gc(lua_State *L)
{
    client_release(luaL_checkudata(L, 1, CLIENT_MT));
    return 0;
}

static int client_close(lua_State *L)
{
    client_release(luaL_checkudata(L, 1, CLIENT_MT));
    return 0;
}

static const char *field_string(lua_State *L, int t, const char *fn, const char *key)
{
    lua_getfield(L, t, key);
    const char *s = NULL;
    if (lua_type(L, -1) == LUA_TSTRING)
        s = lua_tostring(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "%s: '%s' must be a string", fn, key);
    lua_pop(L, 1); /* anchored by the table */
    return s;
}

static double field_seconds(lua_State *L, int t, const char *key, double dflt, double max)
{
    lua_getfield(L, t, key);
    double v = dflt;
    if (!lua_isnil(L, -1)) {
        int ok = 0;
        v = lua_tonumberx(L, -1, &ok);
        if (!ok || !(v > 0) || v > max)
            luaL_error(L, "aws.client: '%s' must be a number of seconds above 0 and at most %d",
                       key, (int)max);
    }
    lua_pop(L, 1);
    return v;
}

static int field_bool(lua_State *L, int t, const char *fn, const char *key, int dflt)
{
    lua_getfield(L, t, key);
    int v = dflt;
    if (lua_isboolean(L, -1))
        v = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "%s: '%s' must be a boolean", fn, key);
    lua_pop(L, 1);
    return v;
}

/* max_attempts: option, $AWS_MAX_ATTEMPTS, the profile's max_attempts, 3. */
static int resolve_attempts(lua_State *L, int t, const char *profile)
{
    lua_getfield(L, t, "max_attempts");
    if (!lua_isnil(L, -1)) {
        int ok = 0;
        lua_Integer v = lua_tointegerx(L, -1, &ok);
        if (!ok || v < 1 || v > MAX_ATTEMPTS_LIMIT)
            luaL_error(L, "aws.client: 'max_attempts' must be an integer from 1 to %d",
                       MAX_ATTEMPTS_LIMIT);
        lua_pop(L, 1);
        return (int)v;
    }
    lua_pop(L, 1);
    char buf[32], err[256];
    const char *v = getenv("AWS_MAX_ATTEMPTS");
    if ((!v || !*v) && mlpz_aws_profile_value(profile, "max_attempts", buf, sizeof buf, err,
                                               sizeof err) == 1)
        v = buf;
    char *end;
    long n = v && *v ? strtol(v, &end, 10) : 0;
    return v && *v && !*end && n >= 1 && n <= MAX_ATTEMPTS_LIMIT ? (int)n : DEFAULT_MAX_ATTEMPTS;
}

/* aws.client{service=, region=, profile=, endpoint_url=, credentials=,
 * signing_name=, connect_timeout=, timeout=, max_attempts=, max_body=,
 * path_style=}
 * -> client | nil, err */
int mlpz_aws_client(lua_State *L)
{
    static const char *fn = "aws.client";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    const char *service = field_string(L, 1, fn, "service");
    if (!service)
        return luaL_error(L, "aws.client: 'service' is required (personalize-runtime, "
                             "personalize or s3)");
    const char *profile = field_string(L, 1, fn, "profile");
    const char *region_opt = field_string(L, 1, fn, "region");
    const char *url_opt = field_string(L, 1, fn, "endpoint_url");
    const char *signing = field_string(L, 1, fn, "signing_name");
    double connect_timeout = field_seconds(L, 1, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, 600);
    double timeout = field_seconds(L, 1, "timeout", DEFAULT_TIMEOUT, 86400);
    int attempts = resolve_attempts(L, 1, profile);
    lua_getfield(L, 1, "max_body");
    lua_Integer max_body = (lua_Integer)MLPZ_HTTP_DEFAULT_MAX_BODY;
    if (!lua_isnil(L, -1)) {
        int ok = 0;
        max_body = lua_tointegerx(L, -1, &ok);
        if (!ok || max_body < 1024 || max_body > ((lua_Integer)1 << 32))
            return luaL_error(L, "aws.client: 'max_body' must be a number of bytes from 1024 "
                                 "to 4 GiB");
    }
    lua_pop(L, 1);

    client *c = lua_newuserdatauv(L, sizeof *c, 1); /* 2; uservalue: credentials */
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, CLIENT_MT);
    char err[1024], endpoint[2048];
    if (mlpz_aws_resolve_region(region_opt, profile, c->region, sizeof c->region, err,
                                sizeof err) != 0 ||
        mlpz_aws_resolve_endpoint(service, c->region, url_opt, profile, endpoint,
                                  sizeof endpoint, &c->custom, err, sizeof err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    snprintf(c->service, sizeof c->service, "%s", service);
    if (!signing)
        signing = strncmp(service, "personalize", 11) == 0 ? "personalize" : service;
    snprintf(c->signing_name, sizeof c->signing_name, "%s", signing);
    c->s3 = strcmp(c->signing_name, "s3") == 0;
    c->path_style = field_bool(L, 1, fn, "path_style", c->custom);
    c->connect_timeout_ms = (long)(connect_timeout * 1000);
    c->timeout_ms = (long)(timeout * 1000);
    c->max_attempts = attempts;
    c->max_body = (size_t)max_body;
    const char *ca = getenv("AWS_CA_BUNDLE");
    if (ca && *ca)
        snprintf(c->ca_bundle, sizeof c->ca_bundle, "%s", ca);
    else if (mlpz_aws_profile_value(profile, "ca_bundle", c->ca_bundle, sizeof c->ca_bundle, err,
                                    sizeof err) < 0)
        c->ca_bundle[0] = '\0';

    lua_getfield(L, 1, "credentials"); /* 3 */
    if (lua_istable(L, 3)) {
        mlpz_aws_creds_opts o;
        memset(&o, 0, sizeof o);
        o.access_key_id = field_string(L, 3, fn, "access_key_id");
        o.secret_access_key = field_string(L, 3, fn, "secret_access_key");
        o.session_token = field_string(L, 3, fn, "session_token");
        if (!o.access_key_id || !o.secret_access_key)
            return luaL_error(L, "aws.client: credentials needs access_key_id and "
                                 "secret_access_key");
        mlpz_aws_provider *p = mlpz_aws_provider_new(L, &o, err, sizeof err);
        if (!p) {
            luaL_pushfail(L);
            lua_pushstring(L, err);
            return 2;
        }
        mlpz_aws_push_credentials(L, p);
    } else if (lua_isnil(L, 3)) {
        mlpz_aws_creds_opts o;
        memset(&o, 0, sizeof o);
        o.profile = profile;
        mlpz_aws_provider *p = mlpz_aws_provider_new(L, &o, err, sizeof err);
        if (!p) {
            luaL_pushfail(L);
            lua_pushstring(L, err);
            return 2;
        }
        mlpz_aws_push_credentials(L, p);
    } else if (!mlpz_aws_to_provider(L, 3)) {
        return luaL_error(L, "aws.client: 'credentials' must be an aws.credentials object or "
                             "a table {access_key_id=, secret_access_key=, session_token=}");
    } else {
        lua_pushvalue(L, 3);
    }
    lua_setiuservalue(L, 2, 1);
    c->endpoint = strdup(endpoint);
    c->http = mlpz_http_new(err, sizeof err);
    if (!c->endpoint || !c->http) {
        client_release(c);
        return luaL_error(L, "aws.client: %s", c->endpoint ? err : "out of memory");
    }
    lua_settop(L, 2);
    mlpz_aws_debugf("client for %s: %s, region %s, signing as %s, %d attempts", service,
                    c->endpoint, c->region, c->signing_name, c->max_attempts);
    return 1;
}

/* ---- building a request ---- */

static int valid_path(const char *p)
{
    if (p[0] != '/')
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' || *p == '#')
            return 0;
    return 1;
}

/* S3 bucket names that can be a DNS label under the endpoint's host (no
 * dots over https: the wildcard certificate covers one label). */
static int virtual_host_ok(const char *b, int https)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || !(islower((unsigned char)b[0]) || isdigit((unsigned char)b[0])) ||
        b[n - 1] == '-' || b[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '-' ||
              (ch == '.' && !https)))
            return 0;
        if (ch == '.' && (b[i + 1] == '.' || b[i + 1] == '-' || b[i - 1] == '-'))
            return 0;
    }
    return 1;
}

static void add_encoded(lua_State *L, luaL_Buffer *b, const char *s, size_t n)
{
    char *e = mlpz_sigv4_uri_encode(s, n, 0);
    if (!e)
        luaL_error(L, "out of memory");
    luaL_addstring(b, e);
    free(e);
}

/* Pushes the query name or value at idx as a string; a value true pushes
 * false, the mark of a bare key ("?uploads"). */
static void push_query_part(lua_State *L, int idx, int is_value)
{
    int t = lua_type(L, idx);
    if (is_value && t == LUA_TBOOLEAN && lua_toboolean(L, idx)) {
        lua_pushboolean(L, 0);
        return;
    }
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        luaL_error(L, "request: query %s must be strings or numbers%s",
                   is_value ? "values" : "names", is_value ? " (or true for a bare name)" : "");
    lua_pushvalue(L, idx);
    lua_tostring(L, -1);
}

/* Pushes "k=v&..." from query = {k = v} (sorted by name) or {{k, v}, ...}
 * (in order), names and values URI-encoded. */
static void push_query(lua_State *L, int req)
{
    lua_getfield(L, req, "query");
    int q = lua_gettop(L);
    if (lua_isnil(L, q)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "");
        return;
    }
    if (!lua_istable(L, q))
        luaL_error(L, "request: 'query' must be a table");
    lua_newtable(L); /* name1, value1, name2, value2... all normalised */
    int list = q + 1;
    lua_Integer n = 0;
    lua_Integer entries = 0;
    lua_pushnil(L);
    while (lua_next(L, q)) {
        entries++;
        lua_pop(L, 1);
    }
    if (lua_rawlen(L, q) > 0) {
        if (entries != (lua_Integer)lua_rawlen(L, q))
            luaL_error(L, "request: 'query' is {name = value} or {{name, value}, ...}, not both");
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, q); i++) {
            if (lua_rawgeti(L, q, i) != LUA_TTABLE)
                luaL_error(L, "request: query[%d] must be {name, value}", (int)i);
            lua_rawgeti(L, -1, 1);
            push_query_part(L, -1, 0);
            lua_rawseti(L, list, 2 * n + 1);
            lua_rawgeti(L, -2, 2);
            push_query_part(L, -1, 1);
            lua_rawseti(L, list, 2 * n + 2);
            lua_pop(L, 3);
            n++;
        }
    } else {
        lua_pushnil(L);
        while (lua_next(L, q)) {
            push_query_part(L, -2, 0);
            lua_rawseti(L, list, 2 * n + 1);
            push_query_part(L, -1, 1);
            lua_rawseti(L, list, 2 * n + 2);
            lua_pop(L, 1);
            n++;
        }
        /* Insertion sort by name: query tables are small. */
        for (lua_Integer i = 1; i < n; i++) {
            for (lua_Integer j = i; j > 0; j--) {
                lua_rawgeti(L, list, 2 * j + 1);
                lua_rawgeti(L, list, 2 * j - 1);
                int less = strcmp(lua_tostring(L, -2), lua_tostring(L, -1)) < 0;
                lua_pop(L, 2);
                if (!less)
                    break;
                for (int d = 1; d <= 2; d++) {
                    lua_rawgeti(L, list, 2 * j + d);
                    lua_rawgeti(L, list, 2 * j - 2 + d);
                    lua_rawseti(L, list, 2 * j + d);
                    lua_rawseti(L, list, 2 * j - 2 + d);
                }
            }
        }
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (lua_Integer i = 0; i < n; i++) {
        size_t kn, vn = 0;
        /* Each push is popped before the next buffer operation; the strings
         * stay alive in the list. */
        lua_rawgeti(L, list, 2 * i + 1);
        const char *k = lua_tolstring(L, -1, &kn);
        lua_pop(L, 1);
        lua_rawgeti(L, list, 2 * i + 2);
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &vn) : NULL;
        lua_pop(L, 1);
        if (i > 0)
            luaL_addchar(&b, '&');
        add_encoded(L, &b, k, kn);
        if (v) {
            luaL_addchar(&b, '=');
            add_encoded(L, &b, v, vn);
        }
    }
    luaL_pushresult(&b);
    lua_replace(L, q);
    lua_settop(L, q);
}

static int is_tchar(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

static const char *const RESERVED_HEADERS[] = {
    "authorization", "host", "content-length", "x-amz-date", "x-amz-security-token",
    "transfer-encoding", "expect", NULL};

/* headers = {name = value}: checked, sorted, anchored in a list left on
 * the stack as name1, value1, name2, value2... */
static size_t push_headers(lua_State *L, int req)
{
    lua_getfield(L, req, "headers");
    int h = lua_gettop(L);
    lua_newtable(L);
    int out = lua_gettop(L);
    size_t n = 0;
    if (!lua_isnil(L, h)) {
        if (!lua_istable(L, h))
            luaL_error(L, "request: 'headers' must be a table {name = value}");
        lua_pushnil(L);
        while (lua_next(L, h)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                luaL_error(L, "request: header names must be strings");
            const char *name = lua_tostring(L, -2);
            if (!*name)
                luaL_error(L, "request: empty header name");
            for (const char *p = name; *p; p++)
                if (!is_tchar((unsigned char)*p))
                    luaL_error(L, "request: header name '%s' has a character not allowed in "
                                  "header names", name);
            for (int i = 0; RESERVED_HEADERS[i]; i++)
                if (strcasecmp(name, RESERVED_HEADERS[i]) == 0)
                    luaL_error(L, "request: header '%s' is set by the client; remove it", name);
            if (lua_type(L, -1) == LUA_TNUMBER)
                lua_tostring(L, -1);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "request: header '%s' must be a string", name);
            size_t vn;
            const char *v = lua_tolstring(L, -1, &vn);
            for (size_t i = 0; i < vn; i++)
                if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
                    luaL_error(L, "request: header '%s' has a line break or NUL byte", name);
            lua_pushvalue(L, -2);
            lua_rawseti(L, out, (lua_Integer)(2 * n + 1));
            lua_rawseti(L, out, (lua_Integer)(2 * n + 2));
            n++;
        }
        for (size_t i = 1; i < n; i++) {
            for (size_t j = i; j > 0; j--) {
                lua_rawgeti(L, out, (lua_Integer)(2 * j + 1));
                lua_rawgeti(L, out, (lua_Integer)(2 * j - 1));
                int less = strcasecmp(lua_tostring(L, -2), lua_tostring(L, -1)) < 0;
                lua_pop(L, 2);
                if (!less)
                    break;
                for (int d = 1; d <= 2; d++) {
                    lua_rawgeti(L, out, (lua_Integer)(2 * j + d));
                    lua_rawgeti(L, out, (lua_Integer)(2 * j - 2 + d));
                    lua_rawseti(L, out, (lua_Integer)(2 * j + d));
                    lua_rawseti(L, out, (lua_Integer)(2 * j - 2 + d));
                }
            }
        }
    }
    lua_remove(L, h);
    return n;
}

/* Pushes the request url: endpoint + path, or for S3 with bucket=,
 * bucket.host + path (virtual-hosted) or endpoint + /bucket + path. */
static void push_url(lua_State *L, const client *c, const char *bucket, const char *path,
                     const char *query)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *sep = strstr(c->endpoint, "://");
    int https = strncmp(c->endpoint, "https", 5) == 0;
    if (bucket && !c->path_style && sep && virtual_host_ok(bucket, https)) {
        luaL_addlstring(&b, c->endpoint, (size_t)(sep + 3 - c->endpoint));
        luaL_addstring(&b, bucket);
        luaL_addchar(&b, '.');
        luaL_addstring(&b, sep + 3);
        luaL_addstring(&b, path);
    } else {
        luaL_addstring(&b, c->endpoint);
        if (bucket) {
            char *e = mlpz_sigv4_uri_encode(bucket, strlen(bucket), 0);
            if (!e)
                luaL_error(L, "out of memory");
            luaL_addchar(&b, '/');
            luaL_addstring(&b, e);
            free(e);
            if (strcmp(path, "/") != 0)
                luaL_addstring(&b, path);
        } else {
            luaL_addstring(&b, path);
        }
    }
    if (*query) {
        luaL_addchar(&b, '?');
        luaL_addstring(&b, query);
    }
    luaL_pushresult(&b);
}

/* Creates the output temp file beside path: ".<name>.mlpz-XXXXXX", mode
 * 0666 less the umask like any new file. */
static int open_output(req_state *s, const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base) {
        snprintf(err, errlen, "output_file '%s' names a directory", path);
        return -1;
    }
    size_t n = strlen(path) + 32;
    s->tmp_path = malloc(n);
    if (!s->tmp_path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int tries = 0; tries < 16; tries++) {
        unsigned char r[6];
        if (RAND_bytes(r, sizeof r) != 1) {
            snprintf(err, errlen, "no random bytes for a temp file name");
            break;
        }
        char hex[13];
        to_hex(r, sizeof r, hex);
        snprintf(s->tmp_path, n, "%.*s.%s.mlpz-%s", (int)dirlen, path, base, hex);
        int fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            snprintf(err, errlen, "cannot create a file beside %s: %s", path, strerror(errno));
            break;
        }
        s->out = fdopen(fd, "wb");
        if (!s->out) {
            close(fd);
            unlink(s->tmp_path);
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            break;
        }
        return 0;
    }
    free(s->tmp_path);
    s->tmp_path = NULL;
    return -1;
}

static int finish_output(req_state *s, const char *path, char *err, size_t errlen)
{
    int rc = fflush(s->out) == 0 && fsync(fileno(s->out)) == 0 ? 0 : -1;
    if (fclose(s->out) != 0)
        rc = -1;
    s->out = NULL;
    if (rc != 0 || rename(s->tmp_path, path) != 0) {
        snprintf(err, errlen, "could not write %s: %s", path, strerror(errno));
        return -1;
    }
    free(s->tmp_path);
    s->tmp_path = NULL;
    return 0;
}

static double jitter(void)
{
    uint32_t r;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = (uint32_t)time(NULL) * 2654435761u;
    return r / 4294967296.0;
}

static void sleep_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The first element called name at depth <= 2 of the XML tree at idx. */
static int xml_find(lua_State *L, int idx, const char *name)
{
    lua_getfield(L, idx, "name");
    int same = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
    lua_pop(L, 1);
    if (same) {
        lua_pushvalue(L, idx);
        return 1;
    }
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, idx); i++) {
        lua_rawgeti(L, idx, i);
        lua_getfield(L, -1, "name");
        same = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
        lua_pop(L, 1);
        if (same)
            return 1;
        lua_pop(L, 1);
    }
    return 0;
}

/* The text of child name of the element at idx, or NULL. */
static const char *xml_text(lua_State *L, int idx, const char *name)
{
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, idx); i++) {
        lua_rawgeti(L, idx, i);
        lua_getfield(L, -1, "name");
        int same = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
        lua_pop(L, 1);
        if (same) {
            lua_getfield(L, -1, "text");
            const char *t = lua_tostring(L, -1);
            lua_pop(L, 2); /* the element keeps the string alive */
            return t;
        }
        lua_pop(L, 1);
    }
    return NULL;
}

static const char *json_field(lua_State *L, int idx, const char *key)
{
    lua_getfield(L, idx, key);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* anchored by the table */
    return s;
}

/* Pushes the error of a non-2xx answer, decoded from its JSON or XML body
 * and headers. Returns whether it is retryable (and *throttle). */
static int push_answer_error(lua_State *L, const char *host, const mlpz_http_response *res,
                             int attempt, const secrets *k, int *throttle)
{
    int top = lua_gettop(L);
    const char *code = NULL, *message = NULL;
    const char *rid = mlpz_http_header_get(res, "x-amzn-requestid");
    if (!rid)
        rid = mlpz_http_header_get(res, "x-amz-request-id");
    const char *body = res->body ? res->body : "";
    size_t n = res->body_len;
    while (n && (*body == ' ' || *body == '\t' || *body == '\r' || *body == '\n')) {
        body++;
        n--;
    }
    char jerr[200];
    if (n && body[0] == '{' && mlpz_aws_json_decode(L, body, n, jerr, sizeof jerr) == 0 &&
        lua_istable(L, -1)) {
        int t = lua_gettop(L);
        code = json_field(L, t, "__type");
        if (!code)
            code = json_field(L, t, "code");
        if (!code)
            code = json_field(L, t, "Code");
        message = json_field(L, t, "message");
        if (!message)
            message = json_field(L, t, "Message");
        if (!message)
            message = json_field(L, t, "errorMessage");
    } else if (n && body[0] == '<' && mlpz_aws_xml_push(L, body, n, jerr, sizeof jerr) == 0) {
        int root = lua_gettop(L);
        if (xml_find(L, root, "Error")) {
            int e = lua_gettop(L);
            code = xml_text(L, e, "Code");
            message = xml_text(L, e, "Message");
            if (!rid)
                rid = xml_text(L, e, "RequestId");
        }
        if (!rid)
            rid = xml_text(L, root, "RequestId");
        if (!rid)
            rid = xml_text(L, root, "RequestID");
    }
    const char *etype = mlpz_http_header_get(res, "x-amzn-errortype");
    if (etype && *etype)
        code = etype;
    char codebuf[128];
    if (code) {
        /* "aws.protocol#ThrottlingException" and "Code:http://..." forms. */
        const char *hash = strrchr(code, '#');
        if (hash && hash[1])
            code = hash + 1;
        snprintf(codebuf, sizeof codebuf, "%.*s", (int)strcspn(code, ":"), code);
    } else {
        snprintf(codebuf, sizeof codebuf, "HTTP%ld", res->status);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (message && *message) {
        luaL_addlstring(&b, message, strlen(message) > MAX_MESSAGE ? MAX_MESSAGE : strlen(message));
    } else {
        luaL_addstring(&b, res->reason[0] ? res->reason : "error");
        luaL_addstring(&b, " from ");
        luaL_addstring(&b, host);
        if (!code && res->body_len)
            luaL_addstring(&b, " (the answer is not an AWS error)");
    }
    const char *bucket_region = mlpz_http_header_get(res, "x-amz-bucket-region");
    if (bucket_region && res->status >= 300 && res->status < 400) {
        luaL_addstring(&b, " (the bucket is in region ");
        luaL_addstring(&b, bucket_region);
        luaL_addstring(&b, ": pass --region ");
        luaL_addstring(&b, bucket_region);
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    size_t mn;
    const char *m = lua_tolstring(L, -1, &mn);
    m = push_redacted(L, m, mn, k);
    *throttle = is_throttle(codebuf, res->status);
    int retryable = is_retryable(codebuf, res->status);
    char ridbuf[128];
    if (rid)
        snprintf(ridbuf, sizeof ridbuf, "%s", rid);
    push_error(L, codebuf, m, res->status, rid ? ridbuf : NULL, retryable, attempt);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return retryable;
}

static const char *failure_code(mlpz_http_failure f)
{
    switch (f) {
    case MLPZ_HTTP_TIMEOUT:
        return "Timeout";
    case MLPZ_HTTP_TOO_LARGE:
        return "ResponseTooLarge";
    case MLPZ_HTTP_LOCAL:
        return "LocalError";
    default:
        return "ConnectionError";
    }
}

static void push_response(lua_State *L, const mlpz_http_response *res, int attempt,
                          const char *output)
{
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, res->status);
    lua_setfield(L, -2, "status");
    lua_createtable(L, 0, (int)res->n_headers);
    for (size_t i = 0; i < res->n_headers; i++) {
        lua_pushstring(L, res->headers[i].value);
        lua_setfield(L, -2, res->headers[i].name);
    }
    lua_setfield(L, -2, "headers");
    if (output) {
        lua_pushinteger(L, (lua_Integer)res->written);
        lua_setfield(L, -2, "size");
    } else {
        lua_pushlstring(L, res->body ? res->body : "", res->body_len);
        lua_setfield(L, -2, "body");
    }
    lua_pushinteger(L, attempt);
    lua_setfield(L, -2, "attempts");
}

/* nil, err for a failure before or outside an exchange, releasing the
 * request's files now rather than at the next collection. */
static int fail_request(lua_State *L, req_state *s, const char *code, const char *message)
{
    fail_local(L, code, message);
    state_release(s);
    return 2;
}

/* Options of one request, taken from the Lua table at arg 2. */
typedef struct {
    const char *method, *path, *bucket, *output, *payload_hash, *body_file;
    const char *body;
    size_t body_len;
    int has_body, s3;
    lua_Integer body_offset, body_length;
} req_opts;

static void read_opts(lua_State *L, const client *c, req_opts *o)
{
    static const char *fn = "request";
    memset(o, 0, sizeof *o);
    o->method = field_string(L, 2, fn, "method");
    if (!o->method)
        o->method = "GET";
    for (const char *p = o->method; *p; p++)
        if (*p < 'A' || *p > 'Z')
            luaL_error(L, "request: 'method' must be an upper-case HTTP method such as GET");
    o->path = field_string(L, 2, fn, "path");
    if (!o->path)
        o->path = "/";
    if (!valid_path(o->path))
        luaL_error(L, "request: 'path' must start with / and be URI-encoded (no spaces, "
                      "'?', '#' or non-ASCII bytes)");
    o->bucket = field_string(L, 2, fn, "bucket");
    if (o->bucket && (!*o->bucket || strlen(o->bucket) > 255))
        luaL_error(L, "request: 'bucket' must be a bucket name");
    o->output = field_string(L, 2, fn, "output_file");
    o->payload_hash = field_string(L, 2, fn, "payload_hash");
    o->body_file = field_string(L, 2, fn, "body_file");
    o->s3 = field_bool(L, 2, fn, "s3", c->s3);
    lua_getfield(L, 2, "body");
    if (lua_type(L, -1) == LUA_TSTRING) {
        o->body = lua_tolstring(L, -1, &o->body_len);
        o->has_body = 1;
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "request: 'body' must be a string");
    }
    lua_pop(L, 1);
    if (o->body && o->body_file)
        luaL_error(L, "request: pass 'body' or 'body_file', not both");
    o->body_offset = 0;
    o->body_length = -1;
    static const char *const keys[] = {"body_offset", "body_length"};
    lua_Integer *dst[] = {&o->body_offset, &o->body_length};
    for (int i = 0; i < 2; i++) {
        lua_getfield(L, 2, keys[i]);
        if (!lua_isnil(L, -1)) {
            int ok = 0;
            *dst[i] = lua_tointegerx(L, -1, &ok);
            if (!ok || *dst[i] < 0)
                luaL_error(L, "request: '%s' must be an integer, 0 or more", keys[i]);
        }
        lua_pop(L, 1);
    }
}

/* client:request{...} -> response | nil, err */
static int client_request(lua_State *L)
{
    client *c = check_client(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    req_opts o;
    read_opts(L, c, &o);
    lua_getiuservalue(L, 1, 1); /* 3: credentials */
    mlpz_aws_provider *prov = mlpz_aws_to_provider(L, 3);
    if (!prov)
        return luaL_error(L, "aws client: its credentials are gone");
    push_query(L, 2);                           /* 4 */
    size_t n_user = push_headers(L, 2);         /* 5 */
    push_url(L, c, o.bucket, o.path, lua_tostring(L, 4)); /* 6 */
    const char *url = lua_tostring(L, 6);
    req_state *s = lua_newuserdatauv(L, sizeof *s, 0); /* 7 */
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, STATE_MT);
    char host[256], err[1024];
    mlpz_http_url_host(url, host, sizeof host);

    mlpz_http_request hr;
    memset(&hr, 0, sizeof hr);
    hr.method = o.method;
    hr.url = url;
    hr.connect_timeout_ms = c->connect_timeout_ms;
    hr.timeout_ms = c->timeout_ms;
    hr.ca_bundle = c->ca_bundle[0] ? c->ca_bundle : NULL;
    hr.user_agent = USER_AGENT;
    hr.max_body = c->max_body;
    char payload[65];
    const char *payload_hash = o.payload_hash;
    if (o.body_file) {
        int64_t len;
        s->body = open_region(o.body_file, o.body_offset, o.body_length, &len, err, sizeof err);
        if (!s->body)
            return fail_request(L, s, "LocalError", err);
        hr.has_body = 1;
        hr.body_file = s->body;
        hr.body_offset = o.body_offset;
        hr.body_length = len;
        if (!payload_hash) {
            unsigned char d[EVP_MAX_MD_SIZE];
            unsigned dn;
            if (digest_region(s->body, o.body_offset, len, EVP_sha256(), d, &dn, err,
                              sizeof err) != 0)
                return fail_request(L, s, "LocalError", err);
            to_hex(d, dn, payload);
            payload_hash = payload;
        }
    } else {
        hr.has_body = o.has_body;
        hr.body = o.body;
        hr.body_len = o.body_len;
        if (!payload_hash &&
            mlpz_sigv4_sha256_hex(o.body ? o.body : "", o.body ? o.body_len : 0, payload) == 0)
            payload_hash = payload;
    }
    if (o.output && open_output(s, o.output, err, sizeof err) != 0)
        return fail_request(L, s, "LocalError", err);
    hr.output = s->out;

    mlpz_sigv4_header *sh = lua_newuserdatauv(L, (n_user ? n_user : 1) * sizeof *sh, 0); /* 8 */
    for (size_t i = 0; i < n_user; i++) {
        lua_rawgeti(L, 5, (lua_Integer)(2 * i + 1));
        sh[i].name = lua_tostring(L, -1);
        lua_rawgeti(L, 5, (lua_Integer)(2 * i + 2));
        sh[i].value = lua_tostring(L, -1);
        lua_pop(L, 2); /* anchored in table 5 */
    }
    int base = lua_gettop(L);
    for (int attempt = 1;; attempt++) {
        lua_settop(L, base);
        const mlpz_aws_creds *cr = mlpz_aws_provider_get(L, prov, err, sizeof err);
        if (!cr)
            return fail_request(L, s, "CredentialsError", err);
        secrets k = {{0}, 0};
        secrets_add(&k, cr->secret_access_key);
        secrets_add(&k, cr->session_token);
        if (s->token_enc) {
            mlpz_sigv4_cleanse(s->token_enc, strlen(s->token_enc));
            free(s->token_enc);
            s->token_enc = NULL;
        }
        if (cr->session_token)
            s->token_enc = mlpz_sigv4_uri_encode(cr->session_token, strlen(cr->session_token), 0);
        secrets_add(&k, s->token_enc);

        mlpz_sigv4_request sr;
        mlpz_sigv4_request_init(&sr, o.s3 ? "s3" : c->signing_name);
        sr.service = c->signing_name;
        sr.method = o.method;
        sr.url = url;
        sr.headers = sh;
        sr.n_headers = n_user;
        sr.payload_hash = payload_hash;
        sr.region = c->region;
        sr.creds.access_key_id = cr->access_key_id;
        sr.creds.secret_access_key = cr->secret_access_key;
        sr.creds.session_token = cr->session_token;
        sr.time = (int64_t)time(NULL);
        mlpz_sigv4_result_free(&s->sig);
        if (mlpz_sigv4_sign(&sr, &s->sig) != 0)
            return fail_request(L, s, "SigningError", s->sig.err);
        secrets_add(&k, s->sig.signature);
        if (attempt == 1) {
            debug_block(L, "canonical request", s->sig.canonical_request, &k);
            debug_block(L, "string to sign", s->sig.string_to_sign, &k);
        }

        free_lines(s);
        size_t n_lines = n_user + s->sig.n_headers;
        s->lines = calloc(n_lines ? n_lines : 1, sizeof *s->lines);
        if (!s->lines)
            return luaL_error(L, "out of memory");
        for (size_t i = 0; i < n_lines; i++) {
            const char *name = i < n_user ? sh[i].name : s->sig.headers[i - n_user].name;
            const char *value = i < n_user ? sh[i].value : s->sig.headers[i - n_user].value;
            size_t len = strlen(name) + strlen(value) + 3;
            s->lines[i] = malloc(len);
            if (!s->lines[i])
                return luaL_error(L, "out of memory");
            snprintf(s->lines[i], len, "%s: %s", name, value);
            s->n_lines = i + 1;
        }
        if (mlpz_aws_debug_on()) {
            for (size_t i = 0; i < s->n_lines; i++) {
                mlpz_aws_debugf("> %s", push_redacted(L, s->lines[i], strlen(s->lines[i]), &k));
                lua_pop(L, 1);
            }
        }
        hr.headers = (const char *const *)s->lines;
        hr.n_headers = s->n_lines;

        mlpz_http_response_free(&s->res);
        int rc = mlpz_http_perform(c->http, &hr, &s->res);
        mlpz_http_response *res = &s->res;
        int retryable, throttle = 0;
        if (rc == 0 && res->status >= 200 && res->status < 300) {
            mlpz_aws_debugf("attempt %d/%d: %s %s -> %ld in %.1f ms (%s connection)", attempt,
                            c->max_attempts, o.method, url, res->status, res->seconds * 1000,
                            res->new_connections ? "new" : "reused");
            if (o.output && finish_output(s, o.output, err, sizeof err) != 0)
                return fail_request(L, s, "LocalError", err);
            push_response(L, res, attempt, o.output);
            state_release(s);
            return 1;
        }
        if (rc == 0) {
            retryable = push_answer_error(L, host, res, attempt, &k, &throttle);
        } else {
            retryable = res->retryable;
            const char *m = push_redacted(L, res->err, strlen(res->err), &k);
            push_error(L, failure_code(res->failure), m, 0, NULL, retryable, attempt);
        }
        int more = retryable && attempt < c->max_attempts;
        double delay = 0;
        if (more) {
            double cap = (throttle ? BACKOFF_THROTTLE_BASE : BACKOFF_BASE) * (double)(1 << (attempt - 1));
            delay = jitter() * (cap < BACKOFF_CAP ? cap : BACKOFF_CAP);
        }
        if (mlpz_aws_debug_on()) {
            lua_getfield(L, -1, "code");
            char status[32] = "";
            if (res->status && strncmp(lua_tostring(L, -1), "HTTP", 4) != 0)
                snprintf(status, sizeof status, " HTTP %ld", res->status);
            mlpz_aws_debugf("attempt %d/%d: %s %s -> %s%s after %.1f ms; %s", attempt,
                            c->max_attempts, o.method, url, lua_tostring(L, -1), status,
                            res->seconds * 1000,
                            more ? "retrying" : retryable ? "no attempts left" : "not retryable");
            lua_pop(L, 1);
            if (more)
                mlpz_aws_debugf("waiting %.3f s before attempt %d", delay, attempt + 1);
        }
        if (!more) {
            luaL_pushfail(L);
            lua_insert(L, -2);
            state_release(s);
            return 2;
        }
        sleep_seconds(delay);
    }
}

/* client.endpoint, .region, .service, .signing_name, .credentials, and the
 * methods request and close. */
static int client_index(lua_State *L)
{
    client *c = luaL_checkudata(L, 1, CLIENT_MT);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "request") == 0)
        lua_pushcfunction(L, client_request);
    else if (strcmp(key, "close") == 0)
        lua_pushcfunction(L, client_close);
    else if (strcmp(key, "endpoint") == 0 && c->endpoint)
        lua_pushstring(L, c->endpoint);
    else if (strcmp(key, "region") == 0)
        lua_pushstring(L, c->region);
    else if (strcmp(key, "service") == 0)
        lua_pushstring(L, c->service);
    else if (strcmp(key, "signing_name") == 0)
        lua_pushstring(L, c->signing_name);
    else if (strcmp(key, "custom_endpoint") == 0)
        lua_pushboolean(L, c->custom);
    else if (strcmp(key, "max_attempts") == 0)
        lua_pushinteger(L, c->max_attempts);
    else if (strcmp(key, "credentials") == 0)
        lua_getiuservalue(L, 1, 1);
    else
        lua_pushnil(L);
    return 1;
}

static int client_tostring(lua_State *L)
{
    client *c = luaL_checkudata(L, 1, CLIENT_MT);
    lua_pushfstring(L, "aws client %s (%s, %s)%s", c->service,
                    c->endpoint ? c->endpoint : "?", c->region, c->http ? "" : " closed");
    return 1;
}

void mlpz_aws_client_register(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__index", client_index},
        {"__gc", client_gc},
        {"__close", client_gc},
        {"__tostring", client_tostring},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, CLIENT_MT)) {
        luaL_setfuncs(L, meta, 0);
        lua_pushliteral(L, CLIENT_MT);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, ERROR_MT)) {
        lua_pushcfunction(L, error_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, STATE_MT)) {
        lua_pushcfunction(L, state_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}
