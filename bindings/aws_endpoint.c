/* Region and endpoint resolution, in the order and with the variables of
 * the AWS CLI (botocore). Both end up in host names and urls, so what the
 * configuration says is checked before use. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws_credentials.h"
#include "aws_env.h"
#include "aws_profile.h"
#include "failf.h"

#define NO_REGION_HINT \
    "pass --region, set AWS_REGION, or run `aws configure` (region in ~/.aws/config)"

static int valid_region(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63 || !isalnum((unsigned char)r[0]) || !isalnum((unsigned char)r[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)r[i]) || isdigit((unsigned char)r[i]) || r[i] == '-'))
            return 0;
    return 1;
}

static int put_region(const char *r, const char *from, char *out, size_t outlen, char *err,
                      size_t errlen)
{
    if (!valid_region(r))
        return mlpz_failf(err, errlen,
                          "region '%.64s' from %s is not a region name (e.g. us-east-1)",
                          mlpz_aws_printable(r) ? r : "?", from);
    if (strlen(r) >= outlen)
        return mlpz_failf(err, errlen, "region name too long");
    strcpy(out, r);
    return 0;
}

int mlpz_aws_resolve_region(const char *explicit_region, const char *profile, char *out,
                            size_t outlen, char *err, size_t errlen)
{
    if (explicit_region && *explicit_region)
        return put_region(explicit_region, "the options", out, outlen, err, errlen);
    const char *v = mlpz_aws_env("AWS_REGION");
    if (v)
        return put_region(v, "AWS_REGION", out, outlen, err, errlen);
    v = mlpz_aws_env("AWS_DEFAULT_REGION");
    if (v)
        return put_region(v, "AWS_DEFAULT_REGION", out, outlen, err, errlen);
    mlpz_aws_files sf;
    if (mlpz_aws_files_load(&sf, err, errlen) != 0)
        return -1;
    const char *name = mlpz_aws_profile_name(profile);
    v = mlpz_aws_profile_get(&sf, name, "region");
    char from[MLPZ_AWS_PATH_MAX + 64];
    snprintf(from, sizeof from, "%s (profile %s)", sf.config_path, name);
    int rc = v && *v ? put_region(v, from, out, outlen, err, errlen)
                     : mlpz_failf(err, errlen, "no AWS region configured (profile %s has none): "
                                  NO_REGION_HINT, name);
    mlpz_aws_files_free(&sf);
    return rc;
}

/* Checks an endpoint url and copies it without trailing slashes. */
static int put_endpoint(const char *url, const char *from, char *out, size_t outlen, char *err,
                        size_t errlen)
{
    const char *rest = strncmp(url, "https://", 8) == 0 ? url + 8
                       : strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    if (!rest || !mlpz_aws_printable(url) || strpbrk(url, "?#@") || rest[0] == '/' ||
        rest[0] == '\0')
        return mlpz_failf(err, errlen, "endpoint url from %s must look like https://host[:port] "
                          "(no query, fragment or user info)", from);
    if (n >= outlen)
        return mlpz_failf(err, errlen, "endpoint url from %s is too long", from);
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

int mlpz_aws_resolve_endpoint(const char *service, const char *region, const char *explicit_url,
                              const char *profile, char *out, size_t outlen, int *custom,
                              char *err, size_t errlen)
{
    *custom = 1;
    size_t sn = service ? strlen(service) : 0;
    if (sn == 0 || sn > 63 || strspn(service, "abcdefghijklmnopqrstuvwxyz0123456789-") != sn)
        return mlpz_failf(err, errlen, "service '%.64s' is not a service id such as "
                          "personalize-runtime, personalize or s3", service ? service : "");
    if (explicit_url && *explicit_url)
        return put_endpoint(explicit_url, "the options", out, outlen, err, errlen);
    mlpz_aws_files sf;
    if (mlpz_aws_files_load(&sf, err, errlen) != 0)
        return -1;
    const char *name = mlpz_aws_profile_name(profile);
    const char *ignore = mlpz_aws_profile_get(&sf, name, "ignore_configured_endpoint_urls");
    int rc = 1;
    if (!mlpz_aws_env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") &&
        !(ignore && strcasecmp(ignore, "true") == 0)) {
        char var[96] = "AWS_ENDPOINT_URL_";
        for (size_t i = 0; i < sn; i++)
            var[17 + i] = service[i] == '-' ? '_' : (char)toupper((unsigned char)service[i]);
        var[17 + sn] = '\0';
        const char *v;
        if ((v = mlpz_aws_env(var)))
            rc = put_endpoint(v, var, out, outlen, err, errlen);
        else if ((v = mlpz_aws_env("AWS_ENDPOINT_URL")))
            rc = put_endpoint(v, "AWS_ENDPOINT_URL", out, outlen, err, errlen);
        else if ((v = mlpz_aws_profile_get(&sf, name, "endpoint_url")) && *v) {
            char from[MLPZ_AWS_PATH_MAX + 64];
            snprintf(from, sizeof from, "%s (profile %s)", sf.config_path, name);
            rc = put_endpoint(v, from, out, outlen, err, errlen);
        }
    }
    mlpz_aws_files_free(&sf);
    if (rc != 1)
        return rc;
    *custom = 0;
    if (!region || !*region)
        return mlpz_failf(err, errlen, "no AWS region configured: " NO_REGION_HINT);
    if (!valid_region(region))
        return mlpz_failf(err, errlen, "region '%.64s' is not a region name (e.g. us-east-1)",
                          mlpz_aws_printable(region) ? region : "?");
    const char *suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    int w = snprintf(out, outlen, "https://%s.%s.%s", service, region, suffix);
    if (w < 0 || (size_t)w >= outlen)
        return mlpz_failf(err, errlen, "endpoint url too long");
    return 0;
}
