/* The INI dialect of the AWS shared config and credentials files
 * (~/.aws/config, ~/.aws/credentials), read the way the AWS CLI reads them:
 *
 *   [section]             name as written between the brackets, trimmed;
 *                         anything after ']' must be a comment
 *   key = value           keys are case-insensitive (stored lower-case),
 *                         values trimmed and otherwise kept verbatim (a '#'
 *                         inside a value is part of it, as in the CLI)
 *   # comment, ; comment  whole lines only
 *   key =                 followed by indented "sub = value" lines: a nested
 *     sub = value         sub-section (s3 = / max_concurrent_requests = 10),
 *                         skipped: nothing here reads one
 *   key = value           followed by indented lines: continuation lines,
 *     more                joined to the value with "\n"
 *
 * A section named twice is merged; a key set twice keeps the last value.
 * Anything else (a line without '=', a property before any section, a NUL
 * byte, a file over 1 MiB) is an error naming the file and line but never
 * the line's text, which may hold a secret. Values are cleansed on free. */
#ifndef MLPZ_INI_H
#define MLPZ_INI_H

#include <stddef.h>

#define MLPZ_INI_MAX_FILE (1024 * 1024)

typedef struct mlpz_ini mlpz_ini;

/* Parses len bytes of text; name is the file name used in errors. Returns
 * the parsed file, or NULL with "name:line: why" in err. */
mlpz_ini *mlpz_ini_parse(const char *text, size_t len, const char *name, char *err,
                         size_t errlen);

/* Reads and parses the file at path. 0 with *out set; 1 when there is no
 * such file (*out is NULL: a missing file is not an error for AWS config);
 * -1 with err ("path: why" or "path:line: why"). */
int mlpz_ini_load(const char *path, mlpz_ini **out, char *err, size_t errlen);

/* Sections in the order they first appear. */
size_t mlpz_ini_count(const mlpz_ini *ini);
const char *mlpz_ini_name(const mlpz_ini *ini, size_t i);

/* The value of key (any case) in section i, or NULL. */
const char *mlpz_ini_value(const mlpz_ini *ini, size_t i, const char *key);

/* The value of key in the section called section (exact name), or NULL. */
const char *mlpz_ini_get(const mlpz_ini *ini, const char *section, const char *key);

/* Cleanses every value and frees. NULL is fine. */
void mlpz_ini_free(mlpz_ini *ini);

#endif
