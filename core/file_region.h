/* A byte range of a regular file, read in bounded chunks: for digests of
 * multi-gigabyte uploads and for bodies sent straight from disk. */
#ifndef MLPZ_FILE_REGION_H
#define MLPZ_FILE_REGION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

/* Opens path (a regular file) and resolves [offset, offset + length) against
 * its size, length -1 meaning to the end: the file with *len set, or NULL
 * with err naming the path. */
FILE *mlpz_file_region_open(const char *path, int64_t offset, int64_t length, int64_t *len,
                            char *err, size_t errlen);

/* Streams len bytes of f from off through md into out (*outlen bytes). 0,
 * or -1 with err. */
int mlpz_file_region_digest(FILE *f, int64_t off, int64_t len, const EVP_MD *md,
                            unsigned char *out, unsigned *outlen, char *err, size_t errlen);

#endif
