/* The environment variables of the AWS configuration, read as the AWS CLI
 * reads them (set but empty is unset), and the check a configured value
 * passes before it goes into an HTTP header or a host name. */
#ifndef MLPZ_AWS_ENV_H
#define MLPZ_AWS_ENV_H

/* $name when set and not empty, else NULL. */
const char *mlpz_aws_env(const char *name);

/* Whether $name is "true" in any case. */
int mlpz_aws_env_true(const char *name);

/* $name as a number from lo to hi; dflt when unset or not such a number. */
double mlpz_aws_env_number(const char *name, double dflt, double lo, double hi);

/* Whether s is printable ASCII without spaces, so a hostile file cannot
 * inject a header. */
int mlpz_aws_printable(const char *s);

#endif
