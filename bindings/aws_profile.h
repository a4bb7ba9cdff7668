/* The AWS shared config and credentials files and the profiles in them,
 * found and merged the way the AWS CLI (botocore) does. */
#ifndef MLPZ_AWS_PROFILE_H
#define MLPZ_AWS_PROFILE_H

#include <stddef.h>

#include "ini.h"

#define MLPZ_AWS_PATH_MAX 4096

typedef struct {
    char config_path[MLPZ_AWS_PATH_MAX];  /* starts with '~' when HOME is unset: never read */
    char creds_path[MLPZ_AWS_PATH_MAX];
    mlpz_ini *config, *creds;             /* NULL when the file does not exist */
} mlpz_aws_files;

/* Finds ($AWS_CONFIG_FILE, $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/) and
 * reads both files: 0, or -1 with err (a malformed or unreadable file). */
int mlpz_aws_files_load(mlpz_aws_files *sf, char *err, size_t errlen);
void mlpz_aws_files_free(mlpz_aws_files *sf);

/* profile when given, else $AWS_PROFILE, $AWS_DEFAULT_PROFILE, "default". */
const char *mlpz_aws_profile_name(const char *profile);

/* The merged profile's key: the credentials file wins, key by key. */
const char *mlpz_aws_profile_get(const mlpz_aws_files *sf, const char *profile, const char *key);

/* key of profile in the config file ("[profile NAME]", or "[default]"), or
 * NULL. */
const char *mlpz_aws_config_get(const mlpz_ini *config, const char *profile, const char *key);

/* Whether the config file, or the credentials file ("[NAME]"), has the
 * profile. */
int mlpz_aws_config_has(const mlpz_ini *config, const char *profile);
int mlpz_aws_creds_file_has(const mlpz_ini *creds, const char *profile);

#endif
