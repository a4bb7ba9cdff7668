/* The two credential sources on AWS compute that answer over HTTP: the
 * container endpoint (ECS, EKS Pod Identity) and the EC2 instance metadata
 * service (IMDSv2). Their settings come from the environment once; their
 * credentials are fetched afresh at every refresh. */
#ifndef MLPZ_AWS_METADATA_H
#define MLPZ_AWS_METADATA_H

#include <stddef.h>

#include <lua.h>

#include "aws_credentials.h"

typedef struct {
    char *url;        /* the full url */
    char *auth_file;  /* AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, re-read each time */
    char *auth_token; /* AWS_CONTAINER_AUTHORIZATION_TOKEN, when there is no file */
} mlpz_aws_container;

/* From $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, else _FULL_URI (one of
 * them is set), and the authorization variables. 0, or -1 with err (a url
 * botocore would refuse, out of memory). */
int mlpz_aws_container_init(mlpz_aws_container *m, char *err, size_t errlen);
void mlpz_aws_container_release(mlpz_aws_container *m);

/* Fills c (not its source) from the endpoint: 0, or -1 with err. */
int mlpz_aws_container_fetch(lua_State *L, const mlpz_aws_container *m, mlpz_aws_creds *c,
                             char *err, size_t errlen);

typedef struct {
    char *url;        /* the endpoint, no trailing slash */
    long timeout_ms;  /* AWS_METADATA_SERVICE_TIMEOUT */
    int attempts;     /* AWS_METADATA_SERVICE_NUM_ATTEMPTS */
} mlpz_aws_imds;

/* From $AWS_EC2_METADATA_SERVICE_ENDPOINT (or _MODE) and the timeout
 * variables. 0, or -1 with err. */
int mlpz_aws_imds_init(mlpz_aws_imds *m, char *err, size_t errlen);
void mlpz_aws_imds_release(mlpz_aws_imds *m);

/* Fills c, and its source with the role name: 0; 1 when there is no usable
 * instance metadata (err says why: the chain goes on); -1 when it answered
 * but wrongly. */
int mlpz_aws_imds_fetch(lua_State *L, const mlpz_aws_imds *m, mlpz_aws_creds *c, char *err,
                        size_t errlen);

#endif
