/* What the client prints or returns about a request (debug lines, error
 * messages) passes through here first, so the secret key, the session token
 * and the signature never reach a terminal or a log. */
#ifndef MLPZ_AWS_REDACT_H
#define MLPZ_AWS_REDACT_H

#include <stddef.h>

#include <lua.h>

typedef struct {
    const char *s[4];
    size_t n;
} mlpz_aws_secrets;

/* Adds s to k; NULL and strings under 4 bytes (which would match too much)
 * are skipped, as are secrets past the fourth. */
void mlpz_aws_secrets_add(mlpz_aws_secrets *k, const char *s);

/* Pushes n bytes of s with every secret of k replaced by "<redacted>", and
 * returns the pushed string. */
const char *mlpz_aws_push_redacted(lua_State *L, const char *s, size_t n,
                                   const mlpz_aws_secrets *k);

/* With MLPZ_DEBUG, prints title and text (redacted) as a debug block. */
void mlpz_aws_debug_block(lua_State *L, const char *title, const char *text,
                          const mlpz_aws_secrets *k);

#endif
