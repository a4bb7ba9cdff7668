/* aws.client{...} and client:request{...}: signed AWS requests over one
 * kept-alive libcurl handle per client, with the SDKs' standard retries.
 * The request's pieces come from aws_request.c, its resources live in
 * aws_request_state.c, failures become the error values of aws_errors.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <openssl/evp.h>

#include "aws_errors.h"
#include "aws_redact.h"
#include "aws_request.h"
#include "aws_request_state.h"
#include "aws_retry.h"
#include "file_region.h"
#include "http.h"
#include "l_aws.h"
#include "sigv4.h"
#include "version.h"

#define CLIENT_MT "mlpz.aws.client"

#define DEFAULT_CONNECT_TIMEOUT 5.0
#define DEFAULT_TIMEOUT 30.0
#define DEFAULT_MAX_ATTEMPTS 3
#define MAX_ATTEMPTS_LIMIT 10
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

/* Pushes the client's credentials object from its credentials option at
 * idx: a table of keys, an aws.credentials object, or nil for the chain of
 * profile. 1, or 2 with nil, err pushed. */
static int push_credentials(lua_State *L, int idx, const char *profile)
{
    static const char *fn = "aws.client";
    if (mlpz_aws_to_provider(L, idx)) {
        lua_pushvalue(L, idx);
        return 1;
    }
    mlpz_aws_creds_opts o;
    memset(&o, 0, sizeof o);
    if (lua_istable(L, idx)) {
        o.access_key_id = mlpz_aws_field_string(L, idx, fn, "access_key_id");
        o.secret_access_key = mlpz_aws_field_string(L, idx, fn, "secret_access_key");
        o.session_token = mlpz_aws_field_string(L, idx, fn, "session_token");
        if (!o.access_key_id || !o.secret_access_key)
            return luaL_error(L, "aws.client: credentials needs access_key_id and "
                                 "secret_access_key");
    } else if (lua_isnil(L, idx)) {
        o.profile = profile;
    } else {
        return luaL_error(L, "aws.client: 'credentials' must be an aws.credentials object or "
                             "a table {access_key_id=, secret_access_key=, session_token=}");
    }
    return mlpz_aws_push_new_credentials(L, &o);
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
    const char *service = mlpz_aws_field_string(L, 1, fn, "service");
    if (!service)
        return luaL_error(L, "aws.client: 'service' is required (personalize-runtime, "
                             "personalize or s3)");
    const char *profile = mlpz_aws_field_string(L, 1, fn, "profile");
    const char *region_opt = mlpz_aws_field_string(L, 1, fn, "region");
    const char *url_opt = mlpz_aws_field_string(L, 1, fn, "endpoint_url");
    const char *signing = mlpz_aws_field_string(L, 1, fn, "signing_name");
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
                                  sizeof endpoint, &c->custom, err, sizeof err) != 0)
        return mlpz_aws_push_fail(L, err);
    snprintf(c->service, sizeof c->service, "%s", service);
    if (!signing)
        signing = strncmp(service, "personalize", 11) == 0 ? "personalize" : service;
    snprintf(c->signing_name, sizeof c->signing_name, "%s", signing);
    c->s3 = strcmp(c->signing_name, "s3") == 0;
    c->path_style = mlpz_aws_field_bool(L, 1, fn, "path_style", c->custom);
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
    if (push_credentials(L, 3, profile) != 1)
        return 2;
    lua_setiuservalue(L, 2, 1);
    c->endpoint = strdup(endpoint);
    c->http = mlpz_http_new(err, sizeof err);
    if (!c->endpoint || !c->http) {
        /* client_release clears endpoint: decide the message first. */
        int curl_failed = c->endpoint != NULL;
        client_release(c);
        return luaL_error(L, "aws.client: %s", curl_failed ? err : "out of memory");
    }
    lua_settop(L, 2);
    mlpz_aws_debugf("client for %s: %s, region %s, signing as %s, %d attempts", service,
                    c->endpoint, c->region, c->signing_name, c->max_attempts);
    return 1;
}

/* ---- one request ---- */

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
static int fail_request(lua_State *L, mlpz_aws_req_state *s, const char *code, const char *message)
{
    luaL_pushfail(L);
    mlpz_aws_push_error(L, code, message, 0, NULL, 0, 0);
    mlpz_aws_req_state_release(s);
    return 2;
}

/* Sets hr's body (in memory, or a byte range of a file s holds open) and
 * *payload_hash: the caller's, else the body's SHA-256 in payload. 0, or -1
 * with err. */
static int prepare_body(const mlpz_aws_req_opts *o, mlpz_aws_req_state *s,
                        mlpz_http_request *hr, char payload[65], const char **payload_hash,
                        char *err, size_t errlen)
{
    *payload_hash = o->payload_hash;
    if (!o->body_file) {
        hr->has_body = o->has_body;
        hr->body = o->body;
        hr->body_len = o->body_len;
        if (!*payload_hash &&
            mlpz_sigv4_sha256_hex(o->body ? o->body : "", o->body ? o->body_len : 0, payload) == 0)
            *payload_hash = payload;
        return 0;
    }
    int64_t len;
    s->body = mlpz_file_region_open(o->body_file, o->body_offset, o->body_length, &len, err,
                                    errlen);
    if (!s->body)
        return -1;
    hr->has_body = 1;
    hr->body_file = s->body;
    hr->body_offset = o->body_offset;
    hr->body_length = len;
    if (!*payload_hash) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned dn;
        if (mlpz_file_region_digest(s->body, o->body_offset, len, EVP_sha256(), d, &dn, err,
                                    errlen) != 0)
            return -1;
        mlpz_sigv4_hex(d, dn, payload);
        *payload_hash = payload;
    }
    return 0;
}

/* Signs sr with cr (fresh for each attempt: they may have been refreshed,
 * and the date moves on) into s->sig and sets s's header lines; k gets
 * what must never be printed. 0, or -1 with s->sig.err. */
static int sign_attempt(lua_State *L, mlpz_sigv4_request *sr, const mlpz_aws_creds *cr,
                        mlpz_aws_req_state *s, mlpz_aws_secrets *k, int attempt)
{
    mlpz_aws_secrets_add(k, cr->secret_access_key);
    mlpz_aws_secrets_add(k, cr->session_token);
    mlpz_aws_req_state_set_token(s, cr->session_token);
    mlpz_aws_secrets_add(k, s->token_enc);
    sr->creds.access_key_id = cr->access_key_id;
    sr->creds.secret_access_key = cr->secret_access_key;
    sr->creds.session_token = cr->session_token;
    sr->time = (int64_t)time(NULL);
    mlpz_sigv4_result_free(&s->sig);
    if (mlpz_sigv4_sign(sr, &s->sig) != 0)
        return -1;
    mlpz_aws_secrets_add(k, s->sig.signature);
    if (attempt == 1) {
        mlpz_aws_debug_block(L, "canonical request", s->sig.canonical_request, k);
        mlpz_aws_debug_block(L, "string to sign", s->sig.string_to_sign, k);
    }
    if (mlpz_aws_req_state_set_lines(s, sr->headers, sr->n_headers) != 0)
        return luaL_error(L, "out of memory");
    if (mlpz_aws_debug_on()) {
        for (size_t i = 0; i < s->n_lines; i++) {
            mlpz_aws_debugf("> %s", mlpz_aws_push_redacted(L, s->lines[i], strlen(s->lines[i]), k));
            lua_pop(L, 1);
        }
    }
    return 0;
}

/* client:request{...} -> response | nil, err */
static int client_request(lua_State *L)
{
    client *c = check_client(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    mlpz_aws_req_opts o;
    mlpz_aws_read_req_opts(L, 2, c->s3, &o);
    lua_getiuservalue(L, 1, 1); /* 3: credentials */
    mlpz_aws_provider *prov = mlpz_aws_to_provider(L, 3);
    if (!prov)
        return luaL_error(L, "aws client: its credentials are gone");
    mlpz_aws_push_query(L, 2);                   /* 4 */
    size_t n_user = mlpz_aws_push_headers(L, 2); /* 5 */
    mlpz_aws_push_url(L, c->endpoint, c->path_style, o.bucket, o.path, lua_tostring(L, 4)); /* 6 */
    const char *url = lua_tostring(L, 6);
    mlpz_aws_req_state *s = mlpz_aws_push_req_state(L); /* 7 */
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
    const char *payload_hash;
    if (prepare_body(&o, s, &hr, payload, &payload_hash, err, sizeof err) != 0 ||
        (o.output && mlpz_aws_open_output(s, o.output, err, sizeof err) != 0))
        return fail_request(L, s, "LocalError", err);
    hr.output = s->out;

    mlpz_sigv4_request sr;
    mlpz_sigv4_request_init(&sr, o.s3 ? "s3" : c->signing_name);
    sr.service = c->signing_name;
    sr.method = o.method;
    sr.url = url;
    sr.headers = mlpz_aws_push_header_array(L, 5, n_user); /* 8 */
    sr.n_headers = n_user;
    sr.payload_hash = payload_hash;
    sr.region = c->region;
    int base = lua_gettop(L);
    for (int attempt = 1;; attempt++) {
        lua_settop(L, base);
        const mlpz_aws_creds *cr = mlpz_aws_provider_get(L, prov, err, sizeof err);
        if (!cr)
            return fail_request(L, s, "CredentialsError", err);
        mlpz_aws_secrets k = {{0}, 0};
        if (sign_attempt(L, &sr, cr, s, &k, attempt) != 0)
            return fail_request(L, s, "SigningError", s->sig.err);
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
            if (o.output && mlpz_aws_finish_output(s, o.output, err, sizeof err) != 0)
                return fail_request(L, s, "LocalError", err);
            push_response(L, res, attempt, o.output);
            mlpz_aws_req_state_release(s);
            return 1;
        }
        if (rc == 0) {
            retryable = mlpz_aws_push_answer_error(L, host, res, attempt, &k, &throttle);
        } else {
            retryable = res->retryable;
            const char *m = mlpz_aws_push_redacted(L, res->err, strlen(res->err), &k);
            mlpz_aws_push_error(L, mlpz_aws_failure_code(res->failure), m, 0, NULL, retryable,
                                attempt);
        }
        int more = retryable && attempt < c->max_attempts;
        double delay = more ? mlpz_aws_backoff(attempt, throttle) : 0;
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
            mlpz_aws_req_state_release(s);
            return 2;
        }
        mlpz_aws_sleep(delay);
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
    mlpz_aws_register_metatable(L, CLIENT_MT, meta, 1);
}
