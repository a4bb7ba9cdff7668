/* The error convention of the C files here: a one-line message into the
 * caller's buffer, and -1 to return. */
#ifndef MLPZ_FAILF_H
#define MLPZ_FAILF_H

#include <stddef.h>

/* Formats into err (when err and errlen allow) and returns -1. */
int mlpz_failf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
