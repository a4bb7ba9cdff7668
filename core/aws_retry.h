/* The AWS SDKs' standard retry mode: which failures are worth another
 * attempt, and how long to wait before it. */
#ifndef MLPZ_AWS_RETRY_H
#define MLPZ_AWS_RETRY_H

/* Whether an error code (NULL: none) or HTTP status means "slow down". */
int mlpz_aws_is_throttle(const char *code, long status);

/* Whether it is worth another attempt: throttling, a transient error code,
 * or a 5xx status other than 501 and 505. */
int mlpz_aws_is_retryable(const char *code, long status);

/* Seconds to wait after failed attempt number attempt (1, 2...): full
 * jitter, random(0, min(cap, base * 2^(attempt - 1))), with a larger base
 * after throttling. */
double mlpz_aws_backoff(int attempt, int throttle);

/* Sleeps that long, resuming after signals. */
void mlpz_aws_sleep(double seconds);

#endif
