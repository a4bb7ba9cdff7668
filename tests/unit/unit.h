/* A minimal TAP-like harness for the C unit tests: each CHECK prints
 * "ok - what" or "not ok - what (file:line)"; main returns unit_done(). */
#ifndef MLPZ_UNIT_H
#define MLPZ_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failures;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        int unit_ok_ = (cond) ? 1 : 0;                                        \
        printf("%s - ", unit_ok_ ? "ok" : "not ok");                          \
        printf(__VA_ARGS__);                                                  \
        if (!unit_ok_) {                                                      \
            printf(" (%s:%d: %s)", __FILE__, __LINE__, #cond);                \
            unit_failures++;                                                  \
        }                                                                     \
        printf("\n");                                                         \
    } while (0)

#define CHECK_STR(got, want, ...)                                             \
    do {                                                                      \
        const char *unit_g_ = (got), *unit_w_ = (want);                       \
        int unit_same_ = unit_g_ && unit_w_ && strcmp(unit_g_, unit_w_) == 0; \
        CHECK(unit_same_, __VA_ARGS__);                                       \
        if (!unit_same_)                                                      \
            printf("#   got  [%s]\n#   want [%s]\n", unit_g_ ? unit_g_ : "(null)", \
                   unit_w_ ? unit_w_ : "(null)");                             \
    } while (0)

static inline int unit_done(void)
{
    return unit_failures ? 1 : 0;
}

#endif
