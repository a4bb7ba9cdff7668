/* mlpz.aws: AWS credentials, regions, endpoints, Signature V4, a signed HTTP
 * client with the SDKs' retries, and XML decoding for S3. The functions live
 * in l_aws_*.c; this file gathers them and holds the shared JSON and debug
 * helpers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include <lua-cjson.h>

#include "bindings.h"
#include "http.h"
#include "l_aws.h"
#include "sigv4.h"

/* Registry key of the module's private lua-cjson instance. */
#define CJSON_KEY "mlpz.aws.cjson"

static int push_decoder(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, CJSON_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        /* Each luaopen_cjson call makes an independent instance. */
        lua_pushcfunction(L, luaopen_cjson);
        lua_call(L, 0, 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, CJSON_KEY);
    }
    lua_getfield(L, -1, "decode");
    lua_remove(L, -2);
    return 1;
}

int mlpz_aws_json_decode(lua_State *L, const char *s, size_t n, char *err, size_t errlen)
{
    lua_checkstack(L, 4);
    push_decoder(L);
    lua_pushlstring(L, s, n);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        snprintf(err, errlen, "%s", msg ? msg : "invalid JSON");
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

int mlpz_aws_debug_on(void)
{
    const char *v = getenv("MLPZ_DEBUG");
    return v && *v && strcmp(v, "0") != 0;
}

void mlpz_aws_debugf(const char *fmt, ...)
{
    if (!mlpz_aws_debug_on())
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("mlpz.aws: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    va_end(ap);
}

static const luaL_Reg aws_funcs[] = {
    {"sign", mlpz_aws_sign},
    {"credentials", mlpz_aws_credentials},
    {"region", mlpz_aws_region},
    {"endpoint", mlpz_aws_endpoint},
    {"client", mlpz_aws_client},
    {"xml_decode", mlpz_aws_xml_decode},
    {"file_digest", mlpz_aws_file_digest},
    {NULL, NULL},
};

int luaopen_mlpz_aws(lua_State *L)
{
    char err[256];
    if (mlpz_http_global_init(err, sizeof err) != 0)
        return luaL_error(L, "mlpz.aws: %s", err);
    mlpz_aws_credentials_register(L);
    mlpz_aws_client_register(L);
    mlpz_aws_xml_register(L);
    mlpz_aws_sign_register(L);
    luaL_newlib(L, aws_funcs);
    lua_pushliteral(L, MLPZ_SIGV4_UNSIGNED_PAYLOAD);
    lua_setfield(L, -2, "UNSIGNED_PAYLOAD");
    return 1;
}
