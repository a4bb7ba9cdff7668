/* What one client:request call holds outside Lua (the body file, the output
 * temp file, the header lines, the signature), in a userdata whose __gc
 * releases it if a Lua error cuts the call short. */
#ifndef MLPZ_AWS_REQUEST_STATE_H
#define MLPZ_AWS_REQUEST_STATE_H

#include <stddef.h>
#include <stdio.h>

#include <lua.h>

#include "http.h"
#include "sigv4.h"

typedef struct {
    FILE *body;
    FILE *out;
    char *tmp_path;      /* output temp file, unlinked unless renamed */
    char **lines;        /* header lines for libcurl */
    size_t n_lines;
    char *token_enc;     /* URI-encoded session token, for redaction */
    mlpz_sigv4_result sig;
    mlpz_http_response res;
} mlpz_aws_req_state;

void mlpz_aws_req_state_register(lua_State *L);

/* Pushes an empty state and returns it. */
mlpz_aws_req_state *mlpz_aws_push_req_state(lua_State *L);

/* Closes, unlinks, cleanses and frees what s holds; s stays usable. */
void mlpz_aws_req_state_release(mlpz_aws_req_state *s);

/* Replaces s->token_enc with the URI encoding of token (NULL: none). */
void mlpz_aws_req_state_set_token(mlpz_aws_req_state *s, const char *token);

/* Replaces s->lines with "Name: value" lines: the n caller's headers, then
 * s->sig's. 0, or -1 when out of memory. */
int mlpz_aws_req_state_set_lines(mlpz_aws_req_state *s, const mlpz_sigv4_header *headers,
                                 size_t n);

/* Creates the output temp file beside path (s->out, s->tmp_path), so a
 * failed download never leaves a partial file at path. 0, or -1 with err. */
int mlpz_aws_open_output(mlpz_aws_req_state *s, const char *path, char *err, size_t errlen);

/* Flushes, syncs and renames the temp file to path. 0, or -1 with err. */
int mlpz_aws_finish_output(mlpz_aws_req_state *s, const char *path, char *err, size_t errlen);

#endif
