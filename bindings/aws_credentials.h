/* AWS credentials, region and endpoints, resolved the way the AWS CLI and
 * SDKs do (see README "Configuration"). Lives in bindings/ because the JSON
 * answers of credential_process, the container endpoint and instance
 * metadata are decoded with lua-cjson through the calling Lua state. */
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
    const char *access_key_id;     /* explicit credentials, all three or none */
    const char *secret_access_key;
    const char *session_token;
} mlpz_aws_creds_opts;

/* A resolved source in the chain, able to refresh temporary credentials. */
typedef struct mlpz_aws_provider mlpz_aws_provider;

/* Walks the chain (explicit, environment, shared files with profiles and
 * credential_process, container, instance metadata) and returns the first
 * source that yields credentials, or NULL with a one-line err saying what
 * was tried and how to configure credentials. */
mlpz_aws_provider *mlpz_aws_provider_new(lua_State *L, const mlpz_aws_creds_opts *opts,
                                         char *err, size_t errlen);

/* The current credentials, refreshed first when they expire within the
 * next 5 minutes. NULL with err when a refresh fails. The pointer stays
 * valid until the next call or mlpz_aws_provider_free. */
const mlpz_aws_creds *mlpz_aws_provider_get(lua_State *L, mlpz_aws_provider *p,
                                            char *err, size_t errlen);

/* Cleanses the secrets and frees. NULL is fine. */
void mlpz_aws_provider_free(mlpz_aws_provider *p);

/* Region and endpoint resolution read the profile named by the argument,
 * else $AWS_PROFILE, else "default". */

/* Region: explicit, else $AWS_REGION, $AWS_DEFAULT_REGION, the profile's
 * `region` in the config file. 0, or -1 with err (none configured: say how
 * to set one). */
int mlpz_aws_resolve_region(const char *explicit_region, const char *profile,
                            char *out, size_t outlen, char *err, size_t errlen);

/* Endpoint base URL (scheme://host[:port], no trailing slash) for a service
 * id "personalize-runtime", "personalize" or "s3": explicit, else
 * $AWS_ENDPOINT_URL_<SERVICE> (PERSONALIZE_RUNTIME, PERSONALIZE, S3), else
 * $AWS_ENDPOINT_URL, else the profile's endpoint_url, else the AWS default
 * https://<service>.<region>.amazonaws.com (S3: https://s3.<region>.amazonaws.com).
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
