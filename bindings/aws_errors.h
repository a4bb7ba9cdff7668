/* The error values of client:request: {code, message, status, request_id,
 * retryable, attempts} with a __tostring, decoded from AWS's JSON or XML
 * error bodies or made from a failed exchange. */
#ifndef MLPZ_AWS_ERRORS_H
#define MLPZ_AWS_ERRORS_H

#include <lua.h>

#include "aws_redact.h"
#include "http.h"

/* Registers the metatable of error values. */
void mlpz_aws_errors_register(lua_State *L);

/* Pushes an error value; status 0 and request_id NULL are left out. */
void mlpz_aws_push_error(lua_State *L, const char *code, const char *message, long status,
                         const char *request_id, int retryable, int attempts);

/* Pushes the error of a non-2xx answer from host, decoded from its body and
 * headers, its message redacted with k. Returns whether it is retryable,
 * and sets *throttle. */
int mlpz_aws_push_answer_error(lua_State *L, const char *host, const mlpz_http_response *res,
                               int attempt, const mlpz_aws_secrets *k, int *throttle);

/* The error code of an exchange that got no answer. */
const char *mlpz_aws_failure_code(mlpz_http_failure f);

#endif
