/* Filling and clearing an mlpz_aws_creds record: checked before it can go
 * into a header, cleansed when released, and read from the JSON answers of
 * credential_process, the container endpoint and instance metadata. */
#ifndef MLPZ_AWS_CREDS_RECORD_H
#define MLPZ_AWS_CREDS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "aws_credentials.h"

/* Cleanses and frees the strings; c->source is cleared too. */
void mlpz_aws_creds_clear(mlpz_aws_creds *c);

/* Replaces c's keys (c->source is kept); what names the source in
 * messages. Key and secret are required, the token optional; all must be
 * printable ASCII. 0, or -1 with err and c unchanged. */
int mlpz_aws_creds_set(mlpz_aws_creds *c, const char *key, const char *secret, const char *token,
                       int64_t expiration, const char *what, char *err, size_t errlen);

typedef enum {
    MLPZ_AWS_JSON_PROCESS,   /* Version 1, SessionToken */
    MLPZ_AWS_JSON_CONTAINER, /* Token */
    MLPZ_AWS_JSON_IMDS       /* Token, and Code "Success" when present */
} mlpz_aws_json_kind;

/* Sets c from n bytes of JSON in the shape kind names, decoded through L
 * (the stack is left as it was). 0, or -1 with err. */
int mlpz_aws_creds_from_json(lua_State *L, const char *body, size_t n, mlpz_aws_json_kind kind,
                             const char *what, mlpz_aws_creds *c, char *err, size_t errlen);

/* t as 2024-05-01T12:34:56Z, or "?". */
void mlpz_aws_format_time(int64_t t, char *out, size_t n);

#endif
