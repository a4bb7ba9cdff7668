/* AWS error values: decoding the JSON protocols' {__type, message} and
 * the XML protocols' <Error><Code/><Message/></Error>, the request id from
 * the headers or the body, and the retry classification of core/aws_retry. */
#include "aws_errors.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "aws_retry.h"
#include "l_aws.h"

#define ERROR_MT "mlpz.aws.error"
#define MAX_MESSAGE 4096

static int error_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "status");
    lua_getfield(L, 1, "request_id");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, lua_isstring(L, 2) ? lua_tostring(L, 2) : "Error");
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, lua_isstring(L, 3) ? lua_tostring(L, 3) : "");
    if (lua_isinteger(L, 4)) {
        luaL_addstring(&b, " (HTTP ");
        luaL_addstring(&b, lua_tostring(L, 4));
        if (lua_isstring(L, 5)) {
            luaL_addstring(&b, ", request id ");
            luaL_addstring(&b, lua_tostring(L, 5));
        }
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    return 1;
}

void mlpz_aws_push_error(lua_State *L, const char *code, const char *message, long status,
                         const char *request_id, int retryable, int attempts)
{
    lua_createtable(L, 0, 6);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    if (status > 0) {
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
    }
    if (request_id) {
        lua_pushstring(L, request_id);
        lua_setfield(L, -2, "request_id");
    }
    lua_pushboolean(L, retryable);
    lua_setfield(L, -2, "retryable");
    lua_pushinteger(L, attempts);
    lua_setfield(L, -2, "attempts");
    luaL_setmetatable(L, ERROR_MT);
}

/* The first element called name at depth <= 2 of the XML tree at idx. */
static int xml_find(lua_State *L, int idx, const char *name)
{
    lua_getfield(L, idx, "name");
    int same = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
    lua_pop(L, 1);
    if (same) {
        lua_pushvalue(L, idx);
        return 1;
    }
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, idx); i++) {
        lua_rawgeti(L, idx, i);
        lua_getfield(L, -1, "name");
        same = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
        lua_pop(L, 1);
        if (same)
            return 1;
        lua_pop(L, 1);
    }
    return 0;
}

/* The text of child name of the element at idx, or NULL. */
static const char *xml_text(lua_State *L, int idx, const char *name)
{
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, idx); i++) {
        lua_rawgeti(L, idx, i);
        lua_getfield(L, -1, "name");
        int same = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
        lua_pop(L, 1);
        if (same) {
            lua_getfield(L, -1, "text");
            const char *t = lua_tostring(L, -1);
            lua_pop(L, 2); /* the element keeps the string alive */
            return t;
        }
        lua_pop(L, 1);
    }
    return NULL;
}

/* The first of keys whose value in the table at idx is a string, or NULL:
 * AWS's JSON protocols spell the same field in several ways. */
static const char *json_first(lua_State *L, int idx, const char *const *keys)
{
    for (; *keys; keys++) {
        lua_getfield(L, idx, *keys);
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        lua_pop(L, 1); /* anchored by the table */
        if (s)
            return s;
    }
    return NULL;
}

int mlpz_aws_push_answer_error(lua_State *L, const char *host, const mlpz_http_response *res,
                               int attempt, const mlpz_aws_secrets *k, int *throttle)
{
    int top = lua_gettop(L);
    const char *code = NULL, *message = NULL;
    const char *rid = mlpz_http_header_get(res, "x-amzn-requestid");
    if (!rid)
        rid = mlpz_http_header_get(res, "x-amz-request-id");
    const char *body = res->body ? res->body : "";
    size_t n = res->body_len;
    while (n && (*body == ' ' || *body == '\t' || *body == '\r' || *body == '\n')) {
        body++;
        n--;
    }
    char jerr[200];
    if (n && body[0] == '{' && mlpz_aws_json_decode(L, body, n, jerr, sizeof jerr) == 0 &&
        lua_istable(L, -1)) {
        static const char *const code_keys[] = {"__type", "code", "Code", NULL};
        static const char *const message_keys[] = {"message", "Message", "errorMessage", NULL};
        code = json_first(L, lua_gettop(L), code_keys);
        message = json_first(L, lua_gettop(L), message_keys);
    } else if (n && body[0] == '<' && mlpz_aws_xml_push(L, body, n, jerr, sizeof jerr) == 0) {
        int root = lua_gettop(L);
        if (xml_find(L, root, "Error")) {
            int e = lua_gettop(L);
            code = xml_text(L, e, "Code");
            message = xml_text(L, e, "Message");
            if (!rid)
                rid = xml_text(L, e, "RequestId");
        }
        if (!rid)
            rid = xml_text(L, root, "RequestId");
        if (!rid)
            rid = xml_text(L, root, "RequestID");
    }
    const char *etype = mlpz_http_header_get(res, "x-amzn-errortype");
    if (etype && *etype)
        code = etype;
    char codebuf[128];
    if (code) {
        /* "aws.protocol#ThrottlingException" and "Code:http://..." forms. */
        const char *hash = strrchr(code, '#');
        if (hash && hash[1])
            code = hash + 1;
        snprintf(codebuf, sizeof codebuf, "%.*s", (int)strcspn(code, ":"), code);
    } else {
        snprintf(codebuf, sizeof codebuf, "HTTP%ld", res->status);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (message && *message) {
        luaL_addlstring(&b, message, strlen(message) > MAX_MESSAGE ? MAX_MESSAGE : strlen(message));
    } else {
        luaL_addstring(&b, res->reason[0] ? res->reason : "error");
        luaL_addstring(&b, " from ");
        luaL_addstring(&b, host);
        if (!code && res->body_len)
            luaL_addstring(&b, " (the answer is not an AWS error)");
    }
    const char *bucket_region = mlpz_http_header_get(res, "x-amz-bucket-region");
    if (bucket_region && res->status >= 300 && res->status < 400) {
        luaL_addstring(&b, " (the bucket is in region ");
        luaL_addstring(&b, bucket_region);
        luaL_addstring(&b, ": pass --region ");
        luaL_addstring(&b, bucket_region);
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    size_t mn;
    const char *m = lua_tolstring(L, -1, &mn);
    m = mlpz_aws_push_redacted(L, m, mn, k);
    *throttle = mlpz_aws_is_throttle(codebuf, res->status);
    int retryable = mlpz_aws_is_retryable(codebuf, res->status);
    char ridbuf[128];
    if (rid)
        snprintf(ridbuf, sizeof ridbuf, "%s", rid);
    mlpz_aws_push_error(L, codebuf, m, res->status, rid ? ridbuf : NULL, retryable, attempt);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return retryable;
}

const char *mlpz_aws_failure_code(mlpz_http_failure f)
{
    switch (f) {
    case MLPZ_HTTP_TIMEOUT:
        return "Timeout";
    case MLPZ_HTTP_TOO_LARGE:
        return "ResponseTooLarge";
    case MLPZ_HTTP_LOCAL:
        return "LocalError";
    default:
        return "ConnectionError";
    }
}

void mlpz_aws_errors_register(lua_State *L)
{
    static const luaL_Reg meta[] = {{"__tostring", error_tostring}, {NULL, NULL}};
    mlpz_aws_register_metatable(L, ERROR_MT, meta, 0);
}
