/* aws.sign{...}: Signature V4 (core/sigv4) as a pure Lua function, for
 * presigned URLs and for checking the signer against AWS's test suite. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "l_aws.h"
#include "sigv4.h"

/* The result lives in a userdata so an error while building the Lua table
 * (out of memory) still frees and cleanses it. */
#define RESULT_MT "mlpz.aws.sign_result"

static int result_gc(lua_State *L)
{
    mlpz_sigv4_result_free(luaL_checkudata(L, 1, RESULT_MT));
    return 0;
}

static const char *opt_string(lua_State *L, const char *key, int required)
{
    lua_getfield(L, 1, key);
    const char *s = NULL;
    if (lua_type(L, -1) == LUA_TSTRING)
        s = lua_tostring(L, -1);
    else if (!lua_isnil(L, -1) || required)
        luaL_error(L, "aws.sign: '%s' must be a string%s", key, required ? " (required)" : "");
    lua_pop(L, 1); /* the string stays alive in the options table */
    return s;
}

/* time = epoch seconds, or "YYYYMMDDTHHMMSSZ". */
static int64_t check_time(lua_State *L)
{
    lua_getfield(L, 1, "time");
    int64_t t = -1;
    if (lua_type(L, -1) == LUA_TNUMBER) {
        int isint = 0;
        lua_Integer v = lua_tointegerx(L, -1, &isint);
        if (isint)
            t = (int64_t)v;
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        char z = 0, extra = 0;
        if (strlen(s) == 16 &&
            sscanf(s, "%4d%2d%2dT%2d%2d%2d%c%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &extra) == 7 && z == 'Z') {
            tm.tm_year -= 1900;
            tm.tm_mon -= 1;
            t = (int64_t)timegm(&tm);
        }
    }
    lua_pop(L, 1);
    if (t < 0)
        luaL_error(L, "aws.sign: 'time' must be epoch seconds (an integer) or "
                      "\"YYYYMMDDTHHMMSSZ\" (required: signing is pure, pass os.time())");
    return t;
}

static void check_credentials(lua_State *L, mlpz_sigv4_credentials *c)
{
    lua_getfield(L, 1, "credentials");
    int idx = lua_gettop(L);
    mlpz_aws_provider *p = mlpz_aws_to_provider(L, idx);
    if (p) {
        char err[512];
        const mlpz_aws_creds *cr = mlpz_aws_provider_get(L, p, err, sizeof err);
        if (!cr)
            luaL_error(L, "aws.sign: %s", err);
        c->access_key_id = cr->access_key_id;
        c->secret_access_key = cr->secret_access_key;
        c->session_token = cr->session_token;
        /* The credentials object stays referenced by the options table. */
    } else if (lua_istable(L, idx)) {
        static const char *const keys[] = {"access_key_id", "secret_access_key", "session_token"};
        const char *v[3];
        for (int i = 0; i < 3; i++) {
            lua_getfield(L, idx, keys[i]);
            if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "aws.sign: credentials.%s must be a string", keys[i]);
            v[i] = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        if (!v[0] || !v[1])
            luaL_error(L, "aws.sign: credentials needs access_key_id and secret_access_key");
        c->access_key_id = v[0];
        c->secret_access_key = v[1];
        c->session_token = v[2];
    } else {
        luaL_error(L, "aws.sign: 'credentials' must be a table {access_key_id=, "
                      "secret_access_key=, session_token=} or an aws.credentials object");
    }
    lua_pop(L, 1);
}

static const char *header_part(lua_State *L, int idx, const char *what, lua_Integer i)
{
    if (lua_type(L, idx) == LUA_TNUMBER)
        lua_tostring(L, idx); /* numbers become strings in place */
    if (lua_type(L, idx) != LUA_TSTRING)
        luaL_error(L, "aws.sign: headers[%d]: the %s must be a string", (int)i, what);
    return lua_tostring(L, idx);
}

/* headers = {{name, value}, ...} (order and duplicates kept) or
 * {name = value} (sorted by name). The strings are anchored in an array
 * table left on the stack. */
static mlpz_sigv4_header *check_headers(lua_State *L, size_t *n)
{
    *n = 0;
    lua_getfield(L, 1, "headers");
    if (lua_isnil(L, -1))
        return NULL;
    if (!lua_istable(L, -1))
        luaL_error(L, "aws.sign: 'headers' must be a table");
    int src = lua_gettop(L);
    lua_newtable(L); /* anchor: name1, value1, name2, value2... */
    int anchor = lua_gettop(L);
    lua_Integer k = 0;
    if (lua_rawlen(L, src) > 0) {
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, src); i++) {
            if (lua_rawgeti(L, src, i) != LUA_TTABLE)
                luaL_error(L, "aws.sign: headers[%d] must be {name, value}", (int)i);
            lua_rawgeti(L, -1, 1);
            header_part(L, -1, "name", i);
            lua_rawseti(L, anchor, ++k);
            lua_rawgeti(L, -1, 2);
            header_part(L, -1, "value", i);
            lua_rawseti(L, anchor, ++k);
            lua_pop(L, 1);
        }
    } else {
        lua_pushnil(L);
        while (lua_next(L, src)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                luaL_error(L, "aws.sign: header names must be strings");
            lua_pushvalue(L, -2);
            lua_rawseti(L, anchor, ++k);
            header_part(L, -1, "value", k / 2 + 1);
            lua_rawseti(L, anchor, ++k);
        }
        /* Sorted by name so the request is the same every run. */
        mlpz_aws_sort_pairs(L, anchor, k / 2, strcmp);
    }
    *n = (size_t)(k / 2);
    return mlpz_aws_push_header_array(L, anchor, *n);
}

int mlpz_aws_sign(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    const char *service = opt_string(L, "service", 1);
    mlpz_sigv4_request req;
    mlpz_sigv4_request_init(&req, service);
    req.service = service;
    req.method = opt_string(L, "method", 1);
    req.url = opt_string(L, "url", 1);
    req.region = opt_string(L, "region", 1);
    req.payload_hash = opt_string(L, "payload_hash", 0);
    lua_getfield(L, 1, "body");
    if (lua_type(L, -1) == LUA_TSTRING)
        req.body = lua_tolstring(L, -1, &req.body_len);
    else if (!lua_isnil(L, -1))
        return luaL_error(L, "aws.sign: 'body' must be a string");
    lua_pop(L, 1);
    req.time = check_time(L);
    check_credentials(L, &req.creds);
    const char *mode = opt_string(L, "mode", 0);
    if (mode && strcmp(mode, "query") == 0)
        req.mode = MLPZ_SIGV4_QUERY;
    else if (mode && strcmp(mode, "header") != 0)
        return luaL_error(L, "aws.sign: 'mode' must be \"header\" or \"query\"");
    lua_getfield(L, 1, "expires");
    if (!lua_isnil(L, -1)) {
        int isint = 0;
        lua_Integer e = lua_tointegerx(L, -1, &isint);
        if (!isint || e < 1 || e > MLPZ_SIGV4_MAX_EXPIRES)
            return luaL_error(L, "aws.sign: 'expires' must be an integer from 1 to %d",
                              MLPZ_SIGV4_MAX_EXPIRES);
        req.expires = (int)e;
    }
    lua_pop(L, 1);
    static const char *fn = "aws.sign";
    req.normalize = mlpz_aws_field_bool(L, 1, fn, "normalize", req.normalize);
    req.double_encode = mlpz_aws_field_bool(L, 1, fn, "double_encode", req.double_encode);
    req.sign_body = mlpz_aws_field_bool(L, 1, fn, "sign_body", req.sign_body);
    req.omit_session_token =
        mlpz_aws_field_bool(L, 1, fn, "omit_session_token", req.omit_session_token);
    req.headers = check_headers(L, &req.n_headers);

    mlpz_sigv4_result *res = lua_newuserdatauv(L, sizeof *res, 0);
    memset(res, 0, sizeof *res);
    luaL_setmetatable(L, RESULT_MT);
    if (mlpz_sigv4_sign(&req, res) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, res->err);
        mlpz_sigv4_result_free(res);
        return 2;
    }
    const struct {
        const char *key, *value; /* value NULL: left out */
    } fields[] = {
        {"canonical_request", res->canonical_request},
        {"string_to_sign", res->string_to_sign},
        {"signature", res->signature},
        {"amz_date", res->amz_date},
        {"credential_scope", res->credential_scope},
        {"signed_headers", res->signed_headers},
        {"payload_hash", res->payload_hash},
        {"authorization", res->authorization},
        {"url", res->url ? res->url : req.url},
        {"query", res->query},
    };
    lua_createtable(L, 0, 12);
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        if (fields[i].value) {
            lua_pushstring(L, fields[i].value);
            lua_setfield(L, -2, fields[i].key);
        }
    }
    lua_createtable(L, (int)res->n_headers, 0);
    for (size_t i = 0; i < res->n_headers; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, res->headers[i].name);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, res->headers[i].value);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "headers");
    mlpz_sigv4_result_free(res);
    return 1;
}

void mlpz_aws_sign_register(lua_State *L)
{
    static const luaL_Reg meta[] = {{"__gc", result_gc}, {NULL, NULL}};
    mlpz_aws_register_metatable(L, RESULT_MT, meta, 0);
}
