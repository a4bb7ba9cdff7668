/* AWS credentials, region and endpoints, resolved the way the AWS CLI and
 * SDKs do (see README "Configuration"). Lives in bindings/ because the JSON
 * answers of credential_process, the container endpoint and instance
 * metadata are decoded with lua-cjson through the calling Lua state.
 * The chain is in aws_credentials.c, region and endpoint in aws_endpoint.c,
 * profile values in aws_profile.c. */
#ifndef MLPZ_AWS_CREDENTIALS_H
#define MLPZ_AWS_CREDENTIALS_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *access_key_id;
    char *secret_access_key; /* never printed, logged or returned to Lua */
    char *session_token;     /* NULL when none; never printed */
    int64_t expiration;      /* seconds since the epoch; 0 = does not expire */
    char source[256];        /* where they came from, e.g. "environment",
                                "shared credentials file (profile dev)" */
} mlpz_aws_creds;

typedef struct {
    const char *profile;           /* NULL: $AWS_PROFILE, else "default" */
    const char *access_key_id;     /* explicit: key id and secret together, token optional */
    const char *secret_access_key;
    const char *session_token;
} mlpz_aws_creds_opts;

/* A resolved source in the chain, able to refresh temporary credentials. */
typedef struct mlpz_aws_provider mlpz_aws_provider;

/* Walks the chain and returns the first source that yields credentials:
 * explicit options; $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY/
 * $AWS_SESSION_TOKEN (skipped for an explicit opts->profile, as botocore
 * does for --profile); the profile's keys in the credentials file, its
 * credential_process, its keys in the config file; container credentials;
 * IMDSv2 (unless $AWS_EC2_METADATA_DISABLED=true). A broken source (a
 * malformed file, a named profile that does not exist, a failing
 * credential_process or container endpoint, role_arn/SSO profiles) stops
 * the walk with its own error; otherwise NULL with a one-line err saying
 * what was tried and how to configure credentials. */
mlpz_aws_provider *mlpz_aws_provider_new(lua_State *L, const mlpz_aws_creds_opts *opts,
                                         char *err, size_t errlen);

/* The current credentials, refreshed first when they expire within the
 * next 5 minutes (credential_process, container, instance metadata). A
 * failed refresh keeps credentials that have not expired yet; NULL with err
 * when they have. The pointer stays valid until the next call or
 * mlpz_aws_provider_free. */
const mlpz_aws_creds *mlpz_aws_provider_get(lua_State *L, mlpz_aws_provider *p,
                                            char *err, size_t errlen);

/* Cleanses the secrets and frees. NULL is fine. */
void mlpz_aws_provider_free(mlpz_aws_provider *p);

/* Region and endpoint resolution read the profile named by the argument,
 * else $AWS_PROFILE, else "default". */

/* Region: explicit, else $AWS_REGION, $AWS_DEFAULT_REGION, the profile's
 * `region` (config file, or the credentials file, which wins, as botocore
 * merges them). Checked against [a-z0-9-]: it goes into host names. 0, or
 * -1 with err (none configured: say how to set one). */
int mlpz_aws_resolve_region(const char *explicit_region, const char *profile,
                            char *out, size_t outlen, char *err, size_t errlen);

/* Endpoint base URL (scheme://host[:port][/prefix], no trailing slash) for a
 * service id such as "personalize-runtime", "personalize" or "s3" (any
 * [a-z0-9-] id works): explicit, else $AWS_ENDPOINT_URL_<SERVICE> (upper
 * case, '-' as '_': PERSONALIZE_RUNTIME, PERSONALIZE, S3), else
 * $AWS_ENDPOINT_URL, else the profile's endpoint_url (those three skipped
 * when $AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's
 * ignore_configured_endpoint_urls is true), else the AWS default
 * https://<service>.<region>.amazonaws.com (.amazonaws.com.cn for cn-*
 * regions), which needs region (NULL: an error saying how to set one).
 * *custom is set to 1 when the endpoint is not AWS's own (S3 then uses
 * path-style addressing). 0, or -1 with err. */
int mlpz_aws_resolve_endpoint(const char *service, const char *region,
                              const char *explicit_url, const char *profile,
                              char *out, size_t outlen, int *custom,
                              char *err, size_t errlen);

/* The value of key in a profile, the credentials file's winning over the
 * config file's (as the AWS CLI merges them): 1 with out set, 0 when unset,
 * -1 with err (an unreadable or malformed file, a value too long). */
int mlpz_aws_profile_value(const char *profile, const char *key, char *out, size_t outlen,
                           char *err, size_t errlen);

#endif
