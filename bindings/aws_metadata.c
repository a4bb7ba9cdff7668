/* Credentials from the container endpoint and from IMDSv2, with botocore's
 * timeouts, attempts and checks on the urls they may name. */
#include "aws_metadata.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_creds_record.h"
#include "aws_env.h"
#include "failf.h"
#include "http.h"
#include "secret.h"

#define METADATA_BODY_MAX (64 * 1024)
#define CONTAINER_HOST "http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS 2000     /* botocore's, with 3 attempts */
#define CONTAINER_ATTEMPTS 3
#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_IPV6 "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL "21600"
#define URL_MAX_LEN 2048

static int http_get(mlpz_http *h, const char *method, const char *url, const char *const *headers,
                    size_t n_headers, long timeout_ms, int attempts, mlpz_http_response *res)
{
    mlpz_http_request req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = n_headers;
    req.has_body = strcmp(method, "PUT") == 0;
    req.max_body = METADATA_BODY_MAX;
    req.connect_timeout_ms = timeout_ms;
    req.timeout_ms = timeout_ms;
    int rc = -1;
    for (int a = 1; a <= attempts; a++) {
        rc = mlpz_http_perform(h, &req, res);
        int again = rc != 0 ? res->retryable : res->status >= 500;
        if (!again || a == attempts)
            break;
        mlpz_http_response_free(res);
    }
    return rc;
}

/* The credentials in the JSON answer of an exchange that returned rc; with
 * with_reason, an unexpected status is named with its reason phrase. The
 * body is cleansed and res released. */
static int answer_creds(lua_State *L, int rc, mlpz_http_response *res, mlpz_aws_json_kind kind,
                        const char *what, int with_reason, mlpz_aws_creds *c, char *err,
                        size_t errlen)
{
    if (rc != 0)
        rc = mlpz_failf(err, errlen, "%s: %s", what, res->err);
    else if (res->status != 200 && with_reason)
        rc = mlpz_failf(err, errlen, "%s: answered HTTP %ld %s", what, res->status, res->reason);
    else if (res->status != 200)
        rc = mlpz_failf(err, errlen, "%s: answered HTTP %ld", what, res->status);
    else
        rc = mlpz_aws_creds_from_json(L, res->body ? res->body : "", res->body_len, kind, what, c,
                                      err, errlen);
    if (res->body)
        mlpz_secret_cleanse(res->body, res->body_len);
    mlpz_http_response_free(res);
    return rc;
}

/* Hosts an http:// AWS_CONTAINER_CREDENTIALS_FULL_URI may name, as in
 * botocore: loopback, or the ECS and EKS link-local addresses. */
static int container_host_allowed(const char *url)
{
    if (strncmp(url, "https://", 8) == 0)
        return 1;
    if (strncmp(url, "http://", 7) != 0)
        return 0;
    char host[256];
    mlpz_http_url_host(url, host, sizeof host);
    char *colon = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
    if (host[0] == '[') {
        if (!colon)
            return 0;
        colon[1] = '\0';
    } else if (colon) {
        *colon = '\0';
    }
    static const char *const ok[] = {"localhost", "[::1]", "169.254.170.2", "169.254.170.23",
                                     "[fd00:ec2::23]"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strcasecmp(host, ok[i]) == 0)
            return 1;
    unsigned a, b, c, d;
    char extra;
    return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

/* The container authorization token: the file's content (re-read each
 * time: EKS rotates it), else the variable's. NULL token when neither. */
static int container_token(const mlpz_aws_container *m, char **token, char *err, size_t errlen)
{
    *token = NULL;
    if (m->auth_file) {
        FILE *f = fopen(m->auth_file, "rb");
        if (!f)
            return mlpz_failf(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s",
                              m->auth_file, strerror(errno));
        char *buf = malloc(16385);
        size_t n = buf ? fread(buf, 1, 16384, f) : 0;
        fclose(f);
        if (!buf)
            return mlpz_failf(err, errlen, "out of memory");
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        buf[n] = '\0';
        *token = buf;
    } else if (m->auth_token) {
        *token = strdup(m->auth_token);
        if (!*token)
            return mlpz_failf(err, errlen, "out of memory");
    }
    if (*token) {
        for (const char *s = *token; *s; s++) {
            if ((unsigned char)*s < 0x20 || *s == 0x7f) {
                mlpz_secret_free(*token);
                *token = NULL;
                return mlpz_failf(err, errlen, "the container authorization token has a control "
                                  "character (a line break?)");
            }
        }
    }
    return 0;
}

int mlpz_aws_container_fetch(lua_State *L, const mlpz_aws_container *m, mlpz_aws_creds *c,
                             char *err, size_t errlen)
{
    char what[URL_MAX_LEN + 64];
    snprintf(what, sizeof what, "container credentials (%s)", m->url);
    char *token = NULL;
    if (container_token(m, &token, err, errlen) != 0)
        return -1;
    char *auth = NULL;
    if (token) {
        size_t n = strlen(token) + 16;
        auth = malloc(n);
        if (auth)
            snprintf(auth, n, "Authorization: %s", token);
        mlpz_secret_free(token);
        if (!auth)
            return mlpz_failf(err, errlen, "out of memory");
    }
    const char *headers[1] = {auth};
    mlpz_http *h = mlpz_http_new(err, errlen);
    if (!h) {
        mlpz_secret_free(auth);
        return -1;
    }
    mlpz_http_response res;
    int rc = http_get(h, "GET", m->url, headers, auth ? 1 : 0, CONTAINER_TIMEOUT_MS,
                      CONTAINER_ATTEMPTS, &res);
    mlpz_secret_free(auth);
    rc = answer_creds(L, rc, &res, MLPZ_AWS_JSON_CONTAINER, what, 1, c, err, errlen);
    mlpz_http_free(h);
    return rc;
}

/* IAM role names: [\w+=,.@-]{1,64}. Checked before going into a path. */
static int valid_role(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_+=,.@-", s[i]))
            return 0;
    return 1;
}

/* IMDSv2: a session token (PUT), the role name, its credentials. */
int mlpz_aws_imds_fetch(lua_State *L, const mlpz_aws_imds *m, mlpz_aws_creds *c, char *err,
                        size_t errlen)
{
    char url[URL_MAX_LEN + 128];
    mlpz_http *h = mlpz_http_new(err, errlen);
    if (!h)
        return -1;
    mlpz_http_response res;
    const char *ttl[1] = {"X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL};
    snprintf(url, sizeof url, "%s/latest/api/token", m->url);
    int rc = http_get(h, "PUT", url, ttl, 1, m->timeout_ms, m->attempts, &res);
    char *token_hdr = NULL;
    if (rc != 0) {
        mlpz_failf(err, errlen, "%s: %s", m->url, res.err);
        rc = 1;
    } else if (res.status != 200 || !res.body || !mlpz_aws_printable(res.body)) {
        mlpz_failf(err, errlen, "%s: the IMDSv2 token request answered HTTP %ld", m->url,
                   res.status);
        rc = 1;
    } else {
        size_t n = strlen(res.body) + 32;
        token_hdr = malloc(n);
        if (token_hdr)
            snprintf(token_hdr, n, "X-aws-ec2-metadata-token: %s", res.body);
        else
            rc = mlpz_failf(err, errlen, "out of memory");
    }
    if (res.body)
        mlpz_secret_cleanse(res.body, res.body_len);
    mlpz_http_response_free(&res);
    if (!token_hdr) {
        mlpz_http_free(h);
        return rc;
    }
    const char *th[1] = {token_hdr};
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", m->url);
    rc = http_get(h, "GET", url, th, 1, m->timeout_ms, m->attempts, &res);
    char role[65] = "";
    if (rc != 0) {
        mlpz_failf(err, errlen, "%s: %s", m->url, res.err);
        rc = 1;
    } else if (res.status == 404) {
        mlpz_failf(err, errlen, "%s: no IAM role is attached to this instance", m->url);
        rc = 1;
    } else if (res.status != 200) {
        rc = mlpz_failf(err, errlen,
                        "instance metadata %s: the role name request answered HTTP %ld", m->url,
                        res.status);
    } else {
        const char *b = res.body ? res.body : "";
        size_t n = strcspn(b, "\r\n");
        if (!valid_role(b, n))
            rc = mlpz_failf(err, errlen, "instance metadata %s: the role name is not a valid IAM "
                            "role name", m->url);
        else
            memcpy(role, b, n);
    }
    mlpz_http_response_free(&res);
    if (rc == 0) {
        char what[URL_MAX_LEN + 128];
        snprintf(what, sizeof what, "instance metadata (%s, role %s)", m->url, role);
        snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", m->url,
                 role);
        rc = http_get(h, "GET", url, th, 1, m->timeout_ms, m->attempts, &res);
        rc = answer_creds(L, rc, &res, MLPZ_AWS_JSON_IMDS, what, 0, c, err, errlen);
        if (rc == 0)
            snprintf(c->source, sizeof c->source, "instance metadata (role %.60s)", role);
    }
    mlpz_secret_free(token_hdr);
    mlpz_http_free(h);
    return rc;
}

int mlpz_aws_container_init(mlpz_aws_container *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    const char *rel = mlpz_aws_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = mlpz_aws_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char url[URL_MAX_LEN];
    if (rel) {
        if (rel[0] != '/' || strlen(rel) > URL_MAX_LEN - 32)
            return mlpz_failf(err, errlen, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path "
                              "starting with /");
        snprintf(url, sizeof url, "%s%s", CONTAINER_HOST, rel);
    } else {
        if (!full || strlen(full) >= sizeof url || !container_host_allowed(full))
            return mlpz_failf(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https:// "
                              "url, or http:// to a loopback address or 169.254.170.2/.23");
        snprintf(url, sizeof url, "%s", full);
    }
    m->url = strdup(url);
    const char *file = mlpz_aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token = mlpz_aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    m->auth_file = file ? strdup(file) : NULL;
    m->auth_token = !file && token ? strdup(token) : NULL;
    if (!m->url || (file && !m->auth_file) || (!file && token && !m->auth_token)) {
        mlpz_aws_container_release(m);
        return mlpz_failf(err, errlen, "out of memory");
    }
    return 0;
}

void mlpz_aws_container_release(mlpz_aws_container *m)
{
    free(m->url);
    free(m->auth_file);
    mlpz_secret_free(m->auth_token);
    memset(m, 0, sizeof *m);
}

int mlpz_aws_imds_init(mlpz_aws_imds *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    const char *ep = mlpz_aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = mlpz_aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    char url[URL_MAX_LEN];
    if (ep) {
        size_t n = strlen(ep);
        while (n && ep[n - 1] == '/')
            n--;
        if ((strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) ||
            n >= sizeof url || !mlpz_aws_printable(ep))
            return mlpz_failf(err, errlen,
                              "AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http:// url");
        snprintf(url, sizeof url, "%.*s", (int)n, ep);
    } else {
        snprintf(url, sizeof url, "%s",
                 mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_IPV6 : IMDS_DEFAULT);
    }
    m->url = strdup(url);
    if (!m->url)
        return mlpz_failf(err, errlen, "out of memory");
    m->timeout_ms =
        (long)(mlpz_aws_env_number("AWS_METADATA_SERVICE_TIMEOUT", 1, 0.05, 60) * 1000);
    m->attempts = (int)mlpz_aws_env_number("AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1, 1, 10);
    return 0;
}

void mlpz_aws_imds_release(mlpz_aws_imds *m)
{
    free(m->url);
    memset(m, 0, sizeof *m);
}
