#include "secret.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void mlpz_secret_cleanse(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

void mlpz_secret_free(char *s)
{
    if (s) {
        mlpz_secret_cleanse(s, strlen(s));
        free(s);
    }
}
