/* The shared config and credentials files: where they are, and the
 * profiles in them, merged as the AWS CLI merges them. */
#include "aws_profile.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "aws_credentials.h"
#include "aws_env.h"
#include "failf.h"

/* $var, else ~/.aws/<file>, with a leading ~ expanded as botocore does. */
static int file_path(const char *var, const char *file, char *out, size_t n, char *err,
                     size_t errlen)
{
    const char *v = mlpz_aws_env(var);
    const char *home = mlpz_aws_env("HOME");
    int w;
    if (v && v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
        if (!home)
            return mlpz_failf(err, errlen, "%s starts with ~ but HOME is not set", var);
        w = snprintf(out, n, "%s%s", home, v + 1);
    } else if (v) {
        w = snprintf(out, n, "%s", v);
    } else if (home) {
        w = snprintf(out, n, "%s/.aws/%s", home, file);
    } else {
        w = snprintf(out, n, "~/.aws/%s", file); /* no HOME: reported, never found */
    }
    if (w < 0 || (size_t)w >= n)
        return mlpz_failf(err, errlen, "%s: path too long", var);
    return 0;
}

void mlpz_aws_files_free(mlpz_aws_files *sf)
{
    mlpz_ini_free(sf->config);
    mlpz_ini_free(sf->creds);
    sf->config = sf->creds = NULL;
}

int mlpz_aws_files_load(mlpz_aws_files *sf, char *err, size_t errlen)
{
    memset(sf, 0, sizeof *sf);
    if (file_path("AWS_CONFIG_FILE", "config", sf->config_path, sizeof sf->config_path, err,
                  errlen) != 0 ||
        file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", sf->creds_path,
                  sizeof sf->creds_path, err, errlen) != 0)
        return -1;
    if (sf->config_path[0] != '~' && mlpz_ini_load(sf->config_path, &sf->config, err, errlen) < 0)
        return -1;
    if (sf->creds_path[0] != '~' && mlpz_ini_load(sf->creds_path, &sf->creds, err, errlen) < 0) {
        mlpz_aws_files_free(sf);
        return -1;
    }
    return 0;
}

/* Whether a config-file section name denotes profile: "[profile NAME]", or
 * "[default]" for the default profile. */
static int is_profile_section(const char *name, const char *profile)
{
    if (strcmp(profile, "default") == 0 && strcmp(name, "default") == 0)
        return 1;
    if (strncmp(name, "profile", 7) != 0 || !isspace((unsigned char)name[7]))
        return 0;
    const char *p = name + 7;
    while (isspace((unsigned char)*p))
        p++;
    return strcmp(p, profile) == 0;
}

const char *mlpz_aws_config_get(const mlpz_ini *ini, const char *profile, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < mlpz_ini_count(ini); i++) {
        if (is_profile_section(mlpz_ini_name(ini, i), profile)) {
            const char *v = mlpz_ini_value(ini, i, key);
            if (v)
                found = v;
        }
    }
    return found;
}

int mlpz_aws_config_has(const mlpz_ini *ini, const char *profile)
{
    for (size_t i = 0; i < mlpz_ini_count(ini); i++)
        if (is_profile_section(mlpz_ini_name(ini, i), profile))
            return 1;
    return 0;
}

int mlpz_aws_creds_file_has(const mlpz_ini *ini, const char *profile)
{
    for (size_t i = 0; i < mlpz_ini_count(ini); i++)
        if (strcmp(mlpz_ini_name(ini, i), profile) == 0)
            return 1;
    return 0;
}

const char *mlpz_aws_profile_get(const mlpz_aws_files *sf, const char *profile, const char *key)
{
    const char *v = mlpz_ini_get(sf->creds, profile, key);
    return v ? v : mlpz_aws_config_get(sf->config, profile, key);
}

const char *mlpz_aws_profile_name(const char *profile)
{
    if (profile && *profile)
        return profile;
    const char *p = mlpz_aws_env("AWS_PROFILE");
    if (!p)
        p = mlpz_aws_env("AWS_DEFAULT_PROFILE");
    return p ? p : "default";
}

int mlpz_aws_profile_value(const char *profile, const char *key, char *out, size_t outlen,
                           char *err, size_t errlen)
{
    mlpz_aws_files sf;
    if (mlpz_aws_files_load(&sf, err, errlen) != 0)
        return -1;
    const char *name = mlpz_aws_profile_name(profile);
    const char *v = mlpz_aws_profile_get(&sf, name, key);
    int rc = 0;
    if (v) {
        size_t n = strlen(v);
        if (n >= outlen)
            rc = mlpz_failf(err, errlen, "profile %s: %s is too long (%zu bytes)", name, key, n);
        else {
            memcpy(out, v, n + 1);
            rc = 1;
        }
    }
    mlpz_aws_files_free(&sf);
    return rc;
}
