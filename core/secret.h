/* Buffers that held a secret (a secret key, a session token, a file that may
 * hold either) are zeroed before they go back to the allocator, so a later
 * crash dump or reuse of the block does not show them. */
#ifndef MLPZ_SECRET_H
#define MLPZ_SECRET_H

#include <stddef.h>

/* Zeroes n bytes in a way the compiler cannot elide. NULL is fine. */
void mlpz_secret_cleanse(void *p, size_t n);

/* Cleanses the string up to its NUL and frees it. NULL is fine. */
void mlpz_secret_free(char *s);

#endif
