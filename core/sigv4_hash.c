/* The hashing of Signature V4, all done by libcrypto: SHA-256 and the HMAC
 * key chain. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "secret.h"
#include "sigv4_impl.h"

void mlpz_sigv4_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* A failure leaves nothing on the thread's OpenSSL error queue, where a
 * later OpenSSL user (curl's TLS) could report it as its own. */
static int crypto_failed(void)
{
    ERR_clear_error();
    return -1;
}

int mlpz_sigv4_sha256_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(data ? data : "", n, md, &len, EVP_sha256(), NULL) || len != 32)
        return crypto_failed();
    mlpz_sigv4_hex(md, 32, out);
    return 0;
}

static int hmac(const unsigned char *key, size_t keylen, const char *msg, size_t n,
                unsigned char out[32])
{
    unsigned int len = 0;
    if (keylen > INT_MAX)
        return -1;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, n, out, &len) ||
        len != 32)
        return crypto_failed();
    return 0;
}

/* kSigning = HMAC chain over date, region, service, "aws4_request", then
 * the signature over the string to sign. Every key buffer is cleansed. */
int mlpz_sigv4_signature(const char *secret, const char *date8, const char *region,
                         const char *service, const char *sts, char sig_hex[65])
{
    size_t slen = strlen(secret);
    if (slen > SIZE_MAX - 5)
        return -1;
    unsigned char *k0 = malloc(slen + 4);
    if (!k0)
        return -1;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, secret, slen);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    int rc = hmac(k0, slen + 4, date8, strlen(date8), k1);
    rc = rc ? rc : hmac(k1, 32, region, strlen(region), k2);
    rc = rc ? rc : hmac(k2, 32, service, strlen(service), k3);
    rc = rc ? rc : hmac(k3, 32, "aws4_request", 12, k4);
    rc = rc ? rc : hmac(k4, 32, sts, strlen(sts), sig);
    if (rc == 0)
        mlpz_sigv4_hex(sig, 32, sig_hex);
    mlpz_secret_cleanse(k0, slen + 4);
    free(k0);
    mlpz_secret_cleanse(k1, sizeof k1);
    mlpz_secret_cleanse(k2, sizeof k2);
    mlpz_secret_cleanse(k3, sizeof k3);
    mlpz_secret_cleanse(k4, sizeof k4);
    return rc;
}

