/* mlpz.aws: AWS credentials, regions, endpoints, Signature V4, a signed HTTP
 * client with the SDKs' retries, and XML decoding for S3. The functions live
 * in l_aws_*.c; this file gathers them and holds the helpers they share:
 * JSON decoding, option fields, pair lists, nil-err answers, debug lines. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include <lua-cjson.h>

#include "aws_errors.h"
#include "aws_request_state.h"
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

int mlpz_aws_push_fail(lua_State *L, const char *err)
{
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
}

const char *mlpz_aws_field_string(lua_State *L, int t, const char *fn, const char *key)
{
    lua_getfield(L, t, key);
    const char *s = NULL;
    if (lua_type(L, -1) == LUA_TSTRING)
        s = lua_tostring(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "%s: '%s' must be a string", fn, key);
    lua_pop(L, 1); /* anchored by the table */
    return s;
}

int mlpz_aws_field_bool(lua_State *L, int t, const char *fn, const char *key, int dflt)
{
    lua_getfield(L, t, key);
    int v = dflt;
    if (lua_isboolean(L, -1))
        v = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "%s: '%s' must be a boolean", fn, key);
    lua_pop(L, 1);
    return v;
}

void mlpz_aws_register_metatable(lua_State *L, const char *name, const luaL_Reg *meta,
                                 int protect)
{
    if (luaL_newmetatable(L, name)) {
        luaL_setfuncs(L, meta, 0);
        if (protect) {
            lua_pushstring(L, name);
            lua_setfield(L, -2, "__metatable");
        }
    }
    lua_pop(L, 1);
}

/* Insertion sort: the lists (query parameters, headers) are small. */
void mlpz_aws_sort_pairs(lua_State *L, int list, lua_Integer n,
                         int (*cmp)(const char *, const char *))
{
    for (lua_Integer i = 1; i < n; i++) {
        for (lua_Integer j = i; j > 0; j--) {
            lua_rawgeti(L, list, 2 * j + 1);
            lua_rawgeti(L, list, 2 * j - 1);
            int less = cmp(lua_tostring(L, -2), lua_tostring(L, -1)) < 0;
            lua_pop(L, 2);
            if (!less)
                break;
            for (int d = 1; d <= 2; d++) {
                lua_rawgeti(L, list, 2 * j + d);
                lua_rawgeti(L, list, 2 * j - 2 + d);
                lua_rawseti(L, list, 2 * j + d);
                lua_rawseti(L, list, 2 * j - 2 + d);
            }
        }
    }
}

mlpz_sigv4_header *mlpz_aws_push_header_array(lua_State *L, int list, size_t n)
{
    mlpz_sigv4_header *h = lua_newuserdatauv(L, (n ? n : 1) * sizeof *h, 0);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, list, (lua_Integer)(2 * i + 1));
        h[i].name = lua_tostring(L, -1);
        lua_rawgeti(L, list, (lua_Integer)(2 * i + 2));
        h[i].value = lua_tostring(L, -1);
        lua_pop(L, 2); /* anchored in the list */
    }
    return h;
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
    mlpz_aws_errors_register(L);
    mlpz_aws_req_state_register(L);
    mlpz_aws_xml_register(L);
    mlpz_aws_sign_register(L);
    luaL_newlib(L, aws_funcs);
    lua_pushliteral(L, MLPZ_SIGV4_UNSIGNED_PAYLOAD);
    lua_setfield(L, -2, "UNSIGNED_PAYLOAD");
    return 1;
}
