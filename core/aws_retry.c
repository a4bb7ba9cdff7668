#include "aws_retry.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

/* Smaller bases than the SDKs' standard mode, so a REPL stays responsive. */
#define BACKOFF_BASE 0.1
#define BACKOFF_THROTTLE_BASE 0.5
#define BACKOFF_CAP 20.0

static const char *const THROTTLING[] = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "EC2ThrottledException", NULL};

static const char *const TRANSIENT[] = {"RequestTimeout", "RequestTimeoutException",
                                        "PriorRequestNotComplete", "IDPCommunicationError", NULL};

static int in_list(const char *const *list, const char *code)
{
    for (; code && *list; list++)
        if (strcmp(*list, code) == 0)
            return 1;
    return 0;
}

int mlpz_aws_is_throttle(const char *code, long status)
{
    return status == 429 || in_list(THROTTLING, code);
}

int mlpz_aws_is_retryable(const char *code, long status)
{
    return mlpz_aws_is_throttle(code, status) || in_list(TRANSIENT, code) ||
           (status >= 500 && status != 501 && status != 505);
}

static double jitter(void)
{
    uint32_t r;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = (uint32_t)time(NULL) * 2654435761u;
    return r / 4294967296.0;
}

double mlpz_aws_backoff(int attempt, int throttle)
{
    double cap = (throttle ? BACKOFF_THROTTLE_BASE : BACKOFF_BASE) * (double)(1 << (attempt - 1));
    return jitter() * (cap < BACKOFF_CAP ? cap : BACKOFF_CAP);
}

void mlpz_aws_sleep(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
