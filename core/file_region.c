#include "file_region.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

FILE *mlpz_file_region_open(const char *path, int64_t offset, int64_t length, int64_t *len,
                            char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s", path, f ? "not a regular file" : strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    int64_t size = (int64_t)st.st_size;
    if (offset < 0 || offset > size || (length >= 0 && length > size - offset)) {
        snprintf(err, errlen, "%s: the region %lld+%lld passes the end of the file (%lld bytes)",
                 path, (long long)offset, (long long)length, (long long)size);
        fclose(f);
        return NULL;
    }
    *len = length >= 0 ? length : size - offset;
    return f;
}

int mlpz_file_region_digest(FILE *f, int64_t off, int64_t len, const EVP_MD *md,
                            unsigned char *out, unsigned *outlen, char *err, size_t errlen)
{
    if (fseeko(f, (off_t)off, SEEK_SET) != 0) {
        snprintf(err, errlen, "seek: %s", strerror(errno));
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(65536);
    int rc = ctx && buf && EVP_DigestInit_ex(ctx, md, NULL) == 1 ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "out of memory");
    while (rc == 0 && len > 0) {
        size_t want = len > 65536 ? 65536 : (size_t)len;
        size_t got = fread(buf, 1, want, f);
        if (got == 0) {
            snprintf(err, errlen, "%s", ferror(f) ? strerror(errno) : "the file ended early");
            rc = -1;
        } else if (EVP_DigestUpdate(ctx, buf, got) != 1) {
            snprintf(err, errlen, "digest failed");
            rc = -1;
        }
        len -= (int64_t)got;
    }
    if (rc == 0 && EVP_DigestFinal_ex(ctx, out, outlen) != 1) {
        snprintf(err, errlen, "digest failed");
        rc = -1;
    }
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}
