/* The AWS credential chain, in the order and with the variables of the AWS
 * CLI (botocore), and the refresh of temporary credentials. Secrets live in
 * malloc'd buffers cleansed on release; messages name sources and files,
 * never a secret (nor the text of a config line, which may hold one). */
#include "aws_credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_creds_record.h"
#include "aws_env.h"
#include "aws_metadata.h"
#include "aws_profile.h"
#include "failf.h"
#include "l_aws.h"
#include "proc.h"
#include "secret.h"

#define REFRESH_WINDOW 300            /* seconds before expiry: refresh */
#define PROCESS_OUTPUT_MAX (64 * 1024)
#define PROCESS_TIMEOUT_DEFAULT 60    /* seconds; MLPZ_CREDENTIAL_PROCESS_TIMEOUT */

#define NO_CREDENTIALS_HINT \
    "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws configure`, or pass --profile"

typedef enum { SRC_STATIC, SRC_PROCESS, SRC_CONTAINER, SRC_IMDS } src_kind;

struct mlpz_aws_provider {
    src_kind kind;
    mlpz_aws_creds creds;
    char *command;                  /* SRC_PROCESS: the credential_process line */
    char profile[128];              /* SRC_PROCESS */
    mlpz_aws_container container;   /* SRC_CONTAINER */
    mlpz_aws_imds imds;             /* SRC_IMDS */
};

/* ---- credential_process ---- */

static long process_timeout_ms(void)
{
    const char *v = mlpz_aws_env("MLPZ_CREDENTIAL_PROCESS_TIMEOUT");
    char *end;
    double s = v ? strtod(v, &end) : 0;
    if (!v || *end || !(s > 0) || s > 3600)
        s = PROCESS_TIMEOUT_DEFAULT;
    return (long)(s * 1000);
}

static int fetch_process(lua_State *L, mlpz_aws_provider *p, mlpz_aws_creds *c, char *err,
                         size_t errlen)
{
    char what[200];
    snprintf(what, sizeof what, "credential_process (profile %s)", p->profile);
    mlpz_proc_spec spec = {p->command, what, process_timeout_ms(), PROCESS_OUTPUT_MAX,
                           "set MLPZ_CREDENTIAL_PROCESS_TIMEOUT to wait longer"};
    char *out = NULL;
    size_t n = 0;
    if (mlpz_proc_capture(&spec, &out, &n, err, errlen) != 0)
        return -1;
    int rc = mlpz_aws_creds_from_json(L, out, n, MLPZ_AWS_JSON_PROCESS, what, c, err, errlen);
    mlpz_secret_cleanse(out, n);
    free(out);
    return rc;
}

/* ---- the provider ---- */

static int fetch(lua_State *L, mlpz_aws_provider *p, mlpz_aws_creds *c, char *err, size_t errlen)
{
    char source[sizeof c->source];
    memcpy(source, p->creds.source, sizeof source);
    int rc;
    switch (p->kind) {
    case SRC_PROCESS:
        rc = fetch_process(L, p, c, err, errlen);
        break;
    case SRC_CONTAINER:
        rc = mlpz_aws_container_fetch(L, &p->container, c, err, errlen);
        break;
    case SRC_IMDS:
        rc = mlpz_aws_imds_fetch(L, &p->imds, c, err, errlen);
        break;
    default:
        return 0;
    }
    if (rc == 0 && p->kind != SRC_IMDS)
        memcpy(c->source, source, sizeof source);
    return rc;
}

void mlpz_aws_provider_free(mlpz_aws_provider *p)
{
    if (!p)
        return;
    mlpz_aws_creds_clear(&p->creds);
    free(p->command);
    mlpz_aws_container_release(&p->container);
    mlpz_aws_imds_release(&p->imds);
    free(p);
}

static mlpz_aws_provider *provider_alloc(src_kind kind, const char *source, char *err,
                                         size_t errlen)
{
    mlpz_aws_provider *p = calloc(1, sizeof *p);
    if (!p) {
        mlpz_failf(err, errlen, "out of memory");
        return NULL;
    }
    p->kind = kind;
    snprintf(p->creds.source, sizeof p->creds.source, "%.255s", source);
    return p;
}

static mlpz_aws_provider *static_provider(const char *source, const char *key, const char *secret,
                                          const char *token, char *err, size_t errlen)
{
    mlpz_aws_provider *p = provider_alloc(SRC_STATIC, source, err, errlen);
    if (p && mlpz_aws_creds_set(&p->creds, key, secret, token, 0, source, err, errlen) != 0) {
        mlpz_aws_provider_free(p);
        return NULL;
    }
    return p;
}

static void debug_source(const mlpz_aws_provider *p)
{
    if (!mlpz_aws_debug_on())
        return;
    char when[32] = "never";
    if (p->creds.expiration)
        mlpz_aws_format_time(p->creds.expiration, when, sizeof when);
    mlpz_aws_debugf("credentials from %s (expire: %s)", p->creds.source, when);
}

/* Credentials that arrive already expired would only fail every request:
 * say so at once, as botocore does. */
static int check_fresh(const mlpz_aws_creds *c, const char *source, char *err, size_t errlen)
{
    if (c->expiration && c->expiration <= (int64_t)time(NULL)) {
        char when[32];
        mlpz_aws_format_time(c->expiration, when, sizeof when);
        return mlpz_failf(err, errlen, "credentials from %s are already expired (Expiration %s): "
                          "check the source, and this machine's clock", source, when);
    }
    return 0;
}

/* Fetches a refreshable provider's first credentials; frees it on failure. */
static mlpz_aws_provider *first_fetch(lua_State *L, mlpz_aws_provider *p, char *err,
                                      size_t errlen)
{
    if (fetch(L, p, &p->creds, err, errlen) != 0 ||
        check_fresh(&p->creds, p->creds.source, err, errlen) != 0) {
        mlpz_aws_provider_free(p);
        return NULL;
    }
    return p;
}

/* role_arn, SSO and web identity profiles need AWS STS/SSO calls this tool
 * does not make: say so, with the AWS CLI v2 bridge, rather than silently
 * trying the next source. */
static int unsupported_profile(const mlpz_aws_files *sf, const char *profile, char *err,
                               size_t errlen)
{
    static const char *const keys[] = {"role_arn", "sso_session", "sso_start_url",
                                       "web_identity_token_file", "login_session"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (mlpz_aws_profile_get(sf, profile, keys[i]))
            return mlpz_failf(err, errlen,
                              "profile %s uses %s, which mlpz-lua cannot resolve itself: add a "
                              "profile with `credential_process = aws configure export-credentials "
                              "--profile %s --format process` and use that one", profile, keys[i],
                              profile);
    }
    return 0;
}

/* The shared-files step: 0 with *out set (or NULL: nothing there), -1. */
static int from_shared_files(lua_State *L, const char *profile, int explicit_profile,
                             mlpz_aws_provider **out, char *tried, size_t triedlen, char *err,
                             size_t errlen)
{
    *out = NULL;
    mlpz_aws_files sf;
    if (mlpz_aws_files_load(&sf, err, errlen) != 0)
        return -1;
    snprintf(tried, triedlen, "shared files %s and %s (profile %s)", sf.creds_path,
             sf.config_path, profile);
    int in_creds = mlpz_aws_creds_file_has(sf.creds, profile);
    int in_config = mlpz_aws_config_has(sf.config, profile);
    int rc = 0;
    char source[96 + MLPZ_AWS_PATH_MAX];
    const char *key, *secret;
    if (!in_creds && !in_config) {
        if (explicit_profile)
            rc = mlpz_failf(err, errlen,
                            "profile %s is not in %s nor in %s: check the name (aws configure "
                            "list-profiles), or create it with `aws configure --profile %s`",
                            profile, sf.config_path, sf.creds_path, profile);
        goto done;
    }
    if (unsupported_profile(&sf, profile, err, errlen) != 0) {
        rc = -1;
        goto done;
    }
    /* botocore's order: credentials file keys, credential_process, config
     * file keys. */
    key = mlpz_ini_get(sf.creds, profile, "aws_access_key_id");
    secret = mlpz_ini_get(sf.creds, profile, "aws_secret_access_key");
    if (key || secret) {
        const char *token = mlpz_ini_get(sf.creds, profile, "aws_session_token");
        if (!token)
            token = mlpz_ini_get(sf.creds, profile, "aws_security_token");
        snprintf(source, sizeof source, "shared credentials file %s (profile %s)", sf.creds_path,
                 profile);
        *out = static_provider(source, key, secret, token, err, errlen);
        rc = *out ? 0 : -1;
        goto done;
    }
    const char *command = mlpz_aws_profile_get(&sf, profile, "credential_process");
    if (command && *command) {
        snprintf(source, sizeof source, "credential_process (profile %s)", profile);
        mlpz_aws_provider *p = provider_alloc(SRC_PROCESS, source, err, errlen);
        if (p && !(p->command = strdup(command))) {
            mlpz_aws_provider_free(p);
            p = NULL;
            mlpz_failf(err, errlen, "out of memory");
        }
        if (p)
            snprintf(p->profile, sizeof p->profile, "%s", profile);
        mlpz_aws_files_free(&sf);
        *out = p ? first_fetch(L, p, err, errlen) : NULL;
        return *out ? 0 : -1;
    }
    key = mlpz_aws_config_get(sf.config, profile, "aws_access_key_id");
    secret = mlpz_aws_config_get(sf.config, profile, "aws_secret_access_key");
    if (key || secret) {
        const char *token = mlpz_aws_config_get(sf.config, profile, "aws_session_token");
        snprintf(source, sizeof source, "config file %s (profile %s)", sf.config_path, profile);
        *out = static_provider(source, key, secret, token, err, errlen);
        rc = *out ? 0 : -1;
    }
done:
    mlpz_aws_files_free(&sf);
    return rc;
}

static mlpz_aws_provider *container_provider(char *err, size_t errlen)
{
    mlpz_aws_container m;
    if (mlpz_aws_container_init(&m, err, errlen) != 0)
        return NULL;
    char source[256];
    snprintf(source, sizeof source, "container credentials (%.200s)", m.url);
    mlpz_aws_provider *p = provider_alloc(SRC_CONTAINER, source, err, errlen);
    if (p)
        p->container = m;
    else
        mlpz_aws_container_release(&m);
    return p;
}

static mlpz_aws_provider *imds_provider(char *err, size_t errlen)
{
    mlpz_aws_imds m;
    if (mlpz_aws_imds_init(&m, err, errlen) != 0)
        return NULL;
    mlpz_aws_provider *p = provider_alloc(SRC_IMDS, "instance metadata", err, errlen);
    if (p)
        p->imds = m;
    else
        mlpz_aws_imds_release(&m);
    return p;
}

mlpz_aws_provider *mlpz_aws_provider_new(lua_State *L, const mlpz_aws_creds_opts *opts,
                                         char *err, size_t errlen)
{
    static const mlpz_aws_creds_opts none;
    if (!opts)
        opts = &none;
    mlpz_aws_provider *p = NULL;
    if (opts->access_key_id || opts->secret_access_key) {
        p = static_provider("explicit options", opts->access_key_id, opts->secret_access_key,
                            opts->session_token, err, errlen);
        if (p)
            debug_source(p);
        return p;
    }
    /* An explicit profile (--profile) outranks the environment's keys, as in
     * botocore; $AWS_PROFILE does not. */
    int explicit_profile = opts->profile && *opts->profile;
    const char *key = mlpz_aws_env("AWS_ACCESS_KEY_ID");
    const char *secret = mlpz_aws_env("AWS_SECRET_ACCESS_KEY");
    if (!explicit_profile && (key || secret)) {
        if (!key || !secret) {
            mlpz_failf(err, errlen, "%s is set but %s is not: set both, or unset both",
                       key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                       key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
            return NULL;
        }
        const char *token = mlpz_aws_env("AWS_SESSION_TOKEN");
        if (!token)
            token = mlpz_aws_env("AWS_SECURITY_TOKEN");
        p = static_provider("environment", key, secret, token, err, errlen);
        if (p)
            debug_source(p);
        return p;
    }
    const char *profile = mlpz_aws_profile_name(opts->profile);
    char tried_files[2 * MLPZ_AWS_PATH_MAX + 200];
    if (from_shared_files(L, profile, explicit_profile || mlpz_aws_env("AWS_PROFILE"), &p,
                          tried_files, sizeof tried_files, err, errlen) != 0)
        return NULL;
    if (p) {
        debug_source(p);
        return p;
    }
    if (mlpz_aws_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") ||
        mlpz_aws_env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        p = container_provider(err, errlen);
        p = p ? first_fetch(L, p, err, errlen) : NULL;
        if (p)
            debug_source(p);
        return p;
    }
    char imds_why[400] = "disabled by AWS_EC2_METADATA_DISABLED";
    if (!mlpz_aws_env_true("AWS_EC2_METADATA_DISABLED")) {
        p = imds_provider(err, errlen);
        if (!p)
            return NULL;
        int rc = mlpz_aws_imds_fetch(L, &p->imds, &p->creds, imds_why, sizeof imds_why);
        if (rc == 0 && check_fresh(&p->creds, p->creds.source, imds_why, sizeof imds_why) != 0)
            rc = -1;
        if (rc == 0) {
            debug_source(p);
            return p;
        }
        mlpz_aws_provider_free(p);
        if (rc < 0) {
            mlpz_failf(err, errlen, "%s", imds_why);
            return NULL;
        }
        mlpz_aws_debugf("no instance metadata credentials: %s", imds_why);
    }
    mlpz_failf(err, errlen, "no AWS credentials found (tried %s%s, container credentials "
               "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set), instance metadata "
               "(%s)): " NO_CREDENTIALS_HINT,
               explicit_profile ? "" : "environment variables, ", tried_files, imds_why);
    return NULL;
}

const mlpz_aws_creds *mlpz_aws_provider_get(lua_State *L, mlpz_aws_provider *p, char *err,
                                            size_t errlen)
{
    if (!p) {
        mlpz_failf(err, errlen, "no credentials");
        return NULL;
    }
    int64_t now = (int64_t)time(NULL);
    if (p->creds.expiration == 0 || now < p->creds.expiration - REFRESH_WINDOW)
        return &p->creds;
    mlpz_aws_debugf("refreshing credentials from %s (they expire in %lld s)", p->creds.source,
                    (long long)(p->creds.expiration - now));
    mlpz_aws_creds fresh;
    memset(&fresh, 0, sizeof fresh);
    char ferr[512];
    if (fetch(L, p, &fresh, ferr, sizeof ferr) != 0 ||
        check_fresh(&fresh, p->creds.source, ferr, sizeof ferr) != 0) {
        mlpz_aws_creds_clear(&fresh);
        if (now < p->creds.expiration) {
            /* Still valid for a while: keep them, as the SDKs do. */
            mlpz_aws_debugf("refresh failed, keeping the current credentials: %s", ferr);
            return &p->creds;
        }
        mlpz_failf(err, errlen, "credentials from %s expired and could not be refreshed: %s",
                   p->creds.source, ferr);
        return NULL;
    }
    mlpz_aws_creds_clear(&p->creds);
    p->creds = fresh;
    debug_source(p);
    return &p->creds;
}
