/* Signature V4 from the request to the result: validation, the payload
 * hash and credential scope, the canonical request and string to sign from
 * the pieces of sigv4_canon.c and sigv4_headers.c, the signature, and the
 * headers or presigned url that carry it. */
#include "sigv4.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "secret.h"
#include "sigv4_impl.h"

/* ---- validation ---- */

static int check_word(const char *s, const char *field, mlpz_sigv4_result *out)
{
    if (!s || !*s)
        return SIGV4_FAIL(out, "sigv4: %s: missing", field);
    for (const char *p = s; *p; p++)
        if (!(mlpz_sigv4_is_unreserved((unsigned char)*p)))
            return SIGV4_FAIL(out,
                              "sigv4: %s: '%.40s' may only have letters, digits, '-', '_', '.'",
                              field, s);
    return 0;
}

static int check_graph(const char *s, const char *field, const char *extra_bad,
                       mlpz_sigv4_result *out)
{
    if (!s || !*s)
        return SIGV4_FAIL(out, "sigv4: %s: missing", field);
    for (const char *p = s; *p; p++)
        if (!mlpz_sigv4_is_graph((unsigned char)*p) || strchr(extra_bad, *p))
            return SIGV4_FAIL(out, "sigv4: %s: has a space, control or non-ASCII character%s%s",
                              field, *extra_bad ? " or one of " : "", extra_bad);
    return 0;
}

static int validate(const mlpz_sigv4_request *req, mlpz_sigv4_result *out)
{
    if (!req->method || !*req->method)
        return SIGV4_FAIL(out, "sigv4: method: missing");
    for (const char *p = req->method; *p; p++)
        if (!mlpz_sigv4_is_tchar((unsigned char)*p))
            return SIGV4_FAIL(out, "sigv4: method: '%.20s' is not an HTTP method", req->method);
    if (!req->url)
        return SIGV4_FAIL(out, "sigv4: url: missing");
    if (check_word(req->service, "service", out) || check_word(req->region, "region", out) ||
        check_graph(req->creds.access_key_id, "credentials.access_key_id", "/,", out))
        return -1;
    if (!req->creds.secret_access_key || !*req->creds.secret_access_key)
        return SIGV4_FAIL(out, "sigv4: credentials.secret_access_key: missing");
    if (req->creds.session_token && *req->creds.session_token &&
        check_graph(req->creds.session_token, "credentials.session_token", "", out))
        return -1;
    if (req->payload_hash && check_graph(req->payload_hash, "payload_hash", "", out))
        return -1;
    if (req->body_len && !req->body)
        return SIGV4_FAIL(out, "sigv4: body: NULL with length %zu", req->body_len);
    if (req->mode != MLPZ_SIGV4_HEADER && req->mode != MLPZ_SIGV4_QUERY)
        return SIGV4_FAIL(out, "sigv4: mode: want header or query");
    if (req->mode == MLPZ_SIGV4_QUERY &&
        (req->expires < 1 || req->expires > MLPZ_SIGV4_MAX_EXPIRES))
        return SIGV4_FAIL(out, "sigv4: expires: %d is outside 1..%d seconds", req->expires,
                          MLPZ_SIGV4_MAX_EXPIRES);
    return 0;
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
    mlpz_secret_free(out->canonical_request);
    free(out->string_to_sign);
    free(out->authorization);
    for (size_t i = 0; i < out->n_headers; i++)
        mlpz_secret_free(out->headers[i].value);
    mlpz_secret_free(out->query);
    mlpz_secret_free(out->url);
    memset(out, 0, sizeof *out);
}

static int add_out_header(mlpz_sigv4_result *out, const char *name, const char *value)
{
    char *v = mlpz_sb_dup(value, strlen(value));
    if (!v)
        return -1;
    out->headers[out->n_headers].name = name;
    out->headers[out->n_headers++].value = v;
    return 0;
}

static char *presigned_url(const char *url, const mlpz_sigv4_url *u, const char *params)
{
    mlpz_sbuf b = {0};
    mlpz_sb_putn(&b, url, (size_t)(u->target - url));
    if (*u->target != '/')
        mlpz_sb_putc(&b, '/');
    mlpz_sb_puts(&b, u->target);
    if (!u->query)
        mlpz_sb_putc(&b, '?');
    else if (u->query_len)
        mlpz_sb_putc(&b, '&');
    mlpz_sb_puts(&b, params);
    return mlpz_sb_take(&b);
}

/* Amz date, payload hash and credential scope. */
static int sign_prelude(const mlpz_sigv4_request *req, mlpz_sigv4_result *out)
{
    if (mlpz_sigv4_format_date(req->time, out->amz_date) != 0)
        return SIGV4_FAIL(out, "sigv4: time: %lld is outside 1970..9999", (long long)req->time);
    if (req->payload_hash) {
        out->payload_hash = mlpz_sb_dup(req->payload_hash, strlen(req->payload_hash));
    } else {
        char hash[65];
        if (mlpz_sigv4_sha256_hex(req->body, req->body_len, hash) != 0)
            return SIGV4_FAIL(out, "sigv4: libcrypto SHA-256 failed");
        out->payload_hash = mlpz_sb_dup(hash, 64);
    }
    mlpz_sbuf scope = {0};
    mlpz_sb_putn(&scope, out->amz_date, 8);
    mlpz_sb_putc(&scope, '/');
    mlpz_sb_puts(&scope, req->region);
    mlpz_sb_putc(&scope, '/');
    mlpz_sb_puts(&scope, req->service);
    mlpz_sb_puts(&scope, "/aws4_request");
    out->credential_scope = mlpz_sb_take(&scope);
    return out->payload_hash && out->credential_scope ? 0 : SIGV4_OOM(out);
}

/* Sets signed_headers and canonical_request from the sorted headers. */
static int build_canonical_request(const mlpz_sigv4_request *req, const mlpz_sigv4_url *u,
                                   const mlpz_sigv4_hlist *hl, const char *signed_token,
                                   mlpz_sigv4_result *out)
{
    mlpz_sbuf sh = {0}, cr = {0};
    for (size_t i = 0; i < hl->n; i++) {
        if (i && strcmp(hl->v[i].name, hl->v[i - 1].name) == 0)
            continue;
        if (sh.len)
            mlpz_sb_putc(&sh, ';');
        mlpz_sb_puts(&sh, hl->v[i].name);
    }
    out->signed_headers = mlpz_sb_take(&sh);
    char *path = out->signed_headers ? mlpz_sigv4_canonical_path(req, u) : NULL;
    if (!path)
        return SIGV4_OOM(out);
    char *query = mlpz_sigv4_canonical_query(req, u, signed_token, out);
    if (!query) {
        free(path);
        return -1;
    }
    mlpz_sb_puts(&cr, req->method);
    mlpz_sb_putc(&cr, '\n');
    mlpz_sb_puts(&cr, path);
    mlpz_sb_putc(&cr, '\n');
    mlpz_sb_puts(&cr, query);
    mlpz_sb_putc(&cr, '\n');
    free(path);
    mlpz_secret_free(query);
    /* Repeated names were sorted next to each other, in their original
     * order: their values join with ',' on one line. */
    for (size_t i = 0; i < hl->n; i++) {
        if (i && strcmp(hl->v[i].name, hl->v[i - 1].name) == 0) {
            mlpz_sb_putc(&cr, ',');
        } else {
            if (i)
                mlpz_sb_putc(&cr, '\n');
            mlpz_sb_puts(&cr, hl->v[i].name);
            mlpz_sb_putc(&cr, ':');
        }
        mlpz_sb_puts(&cr, hl->v[i].value);
    }
    mlpz_sb_puts(&cr, "\n\n");
    mlpz_sb_puts(&cr, out->signed_headers);
    mlpz_sb_putc(&cr, '\n');
    mlpz_sb_puts(&cr, out->payload_hash);
    out->canonical_request = mlpz_sb_take(&cr);
    return out->canonical_request ? 0 : SIGV4_OOM(out);
}

static int build_string_to_sign(mlpz_sigv4_result *out)
{
    char hash[65];
    if (mlpz_sigv4_sha256_hex(out->canonical_request, strlen(out->canonical_request), hash))
        return SIGV4_FAIL(out, "sigv4: libcrypto SHA-256 failed");
    mlpz_sbuf sts = {0};
    mlpz_sb_puts(&sts, MLPZ_SIGV4_ALGORITHM "\n");
    mlpz_sb_puts(&sts, out->amz_date);
    mlpz_sb_putc(&sts, '\n');
    mlpz_sb_puts(&sts, out->credential_scope);
    mlpz_sb_putc(&sts, '\n');
    mlpz_sb_puts(&sts, hash);
    out->string_to_sign = mlpz_sb_take(&sts);
    return out->string_to_sign ? 0 : SIGV4_OOM(out);
}

static int finish_header_mode(const mlpz_sigv4_request *req, const mlpz_sigv4_url *u,
                              int host_added, const char *token, mlpz_sigv4_result *out)
{
    mlpz_sbuf auth = {0};
    mlpz_sb_puts(&auth, MLPZ_SIGV4_ALGORITHM " Credential=");
    mlpz_sb_puts(&auth, req->creds.access_key_id);
    mlpz_sb_putc(&auth, '/');
    mlpz_sb_puts(&auth, out->credential_scope);
    mlpz_sb_puts(&auth, ", SignedHeaders=");
    mlpz_sb_puts(&auth, out->signed_headers);
    mlpz_sb_puts(&auth, ", Signature=");
    mlpz_sb_puts(&auth, out->signature);
    out->authorization = mlpz_sb_take(&auth);
    if (!out->authorization || (host_added && add_out_header(out, "Host", u->host)) ||
        (token && add_out_header(out, "X-Amz-Security-Token", token)) ||
        add_out_header(out, "X-Amz-Date", out->amz_date) ||
        (req->sign_body && add_out_header(out, "x-amz-content-sha256", out->payload_hash)) ||
        add_out_header(out, "Authorization", out->authorization))
        return SIGV4_OOM(out);
    return 0;
}

static int sign(const mlpz_sigv4_request *req, mlpz_sigv4_result *out, mlpz_sigv4_url *u,
                mlpz_sigv4_hlist *hl)
{
    const char *token =
        req->creds.session_token && *req->creds.session_token ? req->creds.session_token : NULL;
    const char *signed_token = token && !req->omit_session_token ? token : NULL;
    int host_added = 0;
    if (validate(req, out) != 0 || mlpz_sigv4_split_url(req->url, u, out) != 0 ||
        sign_prelude(req, out) != 0 ||
        mlpz_sigv4_collect_headers(req, u, out->amz_date, token, out->payload_hash, hl, &host_added,
                                   out) != 0 ||
        build_canonical_request(req, u, hl, signed_token, out) != 0 ||
        build_string_to_sign(out) != 0)
        return -1;

    char date8[9];
    memcpy(date8, out->amz_date, 8);
    date8[8] = '\0';
    if (mlpz_sigv4_signature(req->creds.secret_access_key, date8, req->region, req->service,
                             out->string_to_sign, out->signature) != 0)
        return SIGV4_FAIL(out, "sigv4: libcrypto HMAC-SHA256 failed (or out of memory)");

    if (req->mode == MLPZ_SIGV4_HEADER)
        return finish_header_mode(req, u, host_added, token, out);
    /* Query mode: the token goes on the url even when it was not signed. */
    out->query = mlpz_sigv4_presign_query(req, out, token, 1);
    out->url = out->query ? presigned_url(req->url, u, out->query) : NULL;
    return out->url ? 0 : SIGV4_OOM(out);
}

int mlpz_sigv4_sign(const mlpz_sigv4_request *req, mlpz_sigv4_result *out)
{
    memset(out, 0, sizeof *out);
    mlpz_sigv4_url u = {0};
    mlpz_sigv4_hlist hl = {0};
    int rc = sign(req, out, &u, &hl);
    free(u.host);
    mlpz_sigv4_hlist_free(&hl);
    if (rc != 0) {
        char err[sizeof out->err];
        memcpy(err, out->err, sizeof err);
        mlpz_sigv4_result_free(out);
        memcpy(out->err, err, sizeof err);
    }
    return rc;
}
