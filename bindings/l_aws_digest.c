/* aws.file_digest: the digest of a file or of a byte range of it, read in
 * chunks, for S3's Content-MD5 and checksums of multi-gigabyte uploads. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <openssl/evp.h>

#include "file_region.h"
#include "l_aws.h"
#include "sigv4.h"

static const EVP_MD *digest_algo(const char *name, int *base64)
{
    size_t n = strlen(name);
    *base64 = n > 7 && strcmp(name + n - 7, "-base64") == 0;
    size_t base = *base64 ? n - 7 : n;
    if (base == 6 && strncmp(name, "sha256", 6) == 0)
        return EVP_sha256();
    if (base == 3 && strncmp(name, "md5", 3) == 0)
        return EVP_md5();
    if (base == 4 && strncmp(name, "sha1", 4) == 0)
        return EVP_sha1();
    return NULL;
}

/* aws.file_digest(path, algo, [offset, [length]]) -> digest | nil, err */
int mlpz_aws_file_digest(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *name = luaL_checkstring(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_Integer length = luaL_optinteger(L, 4, -1);
    luaL_argcheck(L, offset >= 0, 3, "offset must be 0 or more");
    luaL_argcheck(L, lua_isnoneornil(L, 4) || length >= 0, 4, "length must be 0 or more");
    int base64;
    const EVP_MD *md = digest_algo(name, &base64);
    if (!md)
        return luaL_argerror(L, 2, "use sha256, md5, sha1, or one of them with -base64");
    char err[512];
    int64_t len;
    FILE *f = mlpz_file_region_open(path, offset, length, &len, err, sizeof err);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dn = 0;
    int rc = f ? mlpz_file_region_digest(f, offset, len, md, d, &dn, err, sizeof err) : -1;
    if (f)
        fclose(f);
    if (rc != 0)
        return mlpz_aws_push_fail(L, err);
    char out[2 * EVP_MAX_MD_SIZE + 1];
    if (base64)
        EVP_EncodeBlock((unsigned char *)out, d, (int)dn);
    else
        mlpz_sigv4_hex(d, dn, out);
    lua_pushstring(L, out);
    return 1;
}
