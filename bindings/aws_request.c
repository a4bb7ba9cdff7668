/* client:request{...} options turned into the query, headers and url of
 * the HTTP request, refusing what the client sets itself or what would not
 * survive the wire. */
#include "aws_request.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "l_aws.h"
#include "sigv4.h"

static int valid_path(const char *p)
{
    if (p[0] != '/')
        return 0;
    for (; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' || *p == '#')
            return 0;
    return 1;
}

/* S3 bucket names that can be a DNS label under the endpoint's host (no
 * dots over https: the wildcard certificate covers one label). */
static int virtual_host_ok(const char *b, int https)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || !(islower((unsigned char)b[0]) || isdigit((unsigned char)b[0])) ||
        b[n - 1] == '-' || b[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = b[i];
        if (!(islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '-' ||
              (ch == '.' && !https)))
            return 0;
        if (ch == '.' && (b[i + 1] == '.' || b[i + 1] == '-' || b[i - 1] == '-'))
            return 0;
    }
    return 1;
}

static void add_encoded(lua_State *L, luaL_Buffer *b, const char *s, size_t n)
{
    char *e = mlpz_sigv4_uri_encode(s, n, 0);
    if (!e)
        luaL_error(L, "out of memory");
    luaL_addstring(b, e);
    free(e);
}

/* Pushes the query name or value at idx as a string; a value true pushes
 * false, the mark of a bare key ("?uploads"). */
static void push_query_part(lua_State *L, int idx, int is_value)
{
    int t = lua_type(L, idx);
    if (is_value && t == LUA_TBOOLEAN && lua_toboolean(L, idx)) {
        lua_pushboolean(L, 0);
        return;
    }
    if (t != LUA_TSTRING && t != LUA_TNUMBER)
        luaL_error(L, "request: query %s must be strings or numbers%s",
                   is_value ? "values" : "names", is_value ? " (or true for a bare name)" : "");
    lua_pushvalue(L, idx);
    lua_tostring(L, -1);
}

void mlpz_aws_push_query(lua_State *L, int req)
{
    lua_getfield(L, req, "query");
    int q = lua_gettop(L);
    if (lua_isnil(L, q)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "");
        return;
    }
    if (!lua_istable(L, q))
        luaL_error(L, "request: 'query' must be a table");
    lua_newtable(L); /* name1, value1, name2, value2... all normalised */
    int list = q + 1;
    lua_Integer n = 0;
    lua_Integer entries = 0;
    lua_pushnil(L);
    while (lua_next(L, q)) {
        entries++;
        lua_pop(L, 1);
    }
    if (lua_rawlen(L, q) > 0) {
        if (entries != (lua_Integer)lua_rawlen(L, q))
            luaL_error(L, "request: 'query' is {name = value} or {{name, value}, ...}, not both");
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, q); i++) {
            if (lua_rawgeti(L, q, i) != LUA_TTABLE)
                luaL_error(L, "request: query[%d] must be {name, value}", (int)i);
            lua_rawgeti(L, -1, 1);
            push_query_part(L, -1, 0);
            lua_rawseti(L, list, 2 * n + 1);
            lua_rawgeti(L, -2, 2);
            push_query_part(L, -1, 1);
            lua_rawseti(L, list, 2 * n + 2);
            lua_pop(L, 3);
            n++;
        }
    } else {
        lua_pushnil(L);
        while (lua_next(L, q)) {
            push_query_part(L, -2, 0);
            lua_rawseti(L, list, 2 * n + 1);
            push_query_part(L, -1, 1);
            lua_rawseti(L, list, 2 * n + 2);
            lua_pop(L, 1);
            n++;
        }
        mlpz_aws_sort_pairs(L, list, n, strcmp);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (lua_Integer i = 0; i < n; i++) {
        size_t kn, vn = 0;
        /* Each push is popped before the next buffer operation; the strings
         * stay alive in the list. */
        lua_rawgeti(L, list, 2 * i + 1);
        const char *k = lua_tolstring(L, -1, &kn);
        lua_pop(L, 1);
        lua_rawgeti(L, list, 2 * i + 2);
        const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &vn) : NULL;
        lua_pop(L, 1);
        if (i > 0)
            luaL_addchar(&b, '&');
        add_encoded(L, &b, k, kn);
        if (v) {
            luaL_addchar(&b, '=');
            add_encoded(L, &b, v, vn);
        }
    }
    luaL_pushresult(&b);
    lua_replace(L, q);
    lua_settop(L, q);
}

static int is_tchar(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

static const char *const RESERVED_HEADERS[] = {
    "authorization", "host", "content-length", "x-amz-date", "x-amz-security-token",
    "transfer-encoding", "expect", NULL};

size_t mlpz_aws_push_headers(lua_State *L, int req)
{
    lua_getfield(L, req, "headers");
    int h = lua_gettop(L);
    lua_newtable(L);
    int out = lua_gettop(L);
    size_t n = 0;
    if (!lua_isnil(L, h)) {
        if (!lua_istable(L, h))
            luaL_error(L, "request: 'headers' must be a table {name = value}");
        lua_pushnil(L);
        while (lua_next(L, h)) {
            if (lua_type(L, -2) != LUA_TSTRING)
                luaL_error(L, "request: header names must be strings");
            const char *name = lua_tostring(L, -2);
            if (!*name)
                luaL_error(L, "request: empty header name");
            for (const char *p = name; *p; p++)
                if (!is_tchar((unsigned char)*p))
                    luaL_error(L, "request: header name '%s' has a character not allowed in "
                                  "header names", name);
            for (int i = 0; RESERVED_HEADERS[i]; i++)
                if (strcasecmp(name, RESERVED_HEADERS[i]) == 0)
                    luaL_error(L, "request: header '%s' is set by the client; remove it", name);
            if (lua_type(L, -1) == LUA_TNUMBER)
                lua_tostring(L, -1);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "request: header '%s' must be a string", name);
            size_t vn;
            const char *v = lua_tolstring(L, -1, &vn);
            for (size_t i = 0; i < vn; i++)
                if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
                    luaL_error(L, "request: header '%s' has a line break or NUL byte", name);
            lua_pushvalue(L, -2);
            lua_rawseti(L, out, (lua_Integer)(2 * n + 1));
            lua_rawseti(L, out, (lua_Integer)(2 * n + 2));
            n++;
        }
        mlpz_aws_sort_pairs(L, out, (lua_Integer)n, strcasecmp);
    }
    lua_remove(L, h);
    return n;
}

void mlpz_aws_push_url(lua_State *L, const char *endpoint, int path_style, const char *bucket,
                       const char *path, const char *query)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *sep = strstr(endpoint, "://");
    int https = strncmp(endpoint, "https", 5) == 0;
    if (bucket && !path_style && sep && virtual_host_ok(bucket, https)) {
        luaL_addlstring(&b, endpoint, (size_t)(sep + 3 - endpoint));
        luaL_addstring(&b, bucket);
        luaL_addchar(&b, '.');
        luaL_addstring(&b, sep + 3);
        luaL_addstring(&b, path);
    } else {
        luaL_addstring(&b, endpoint);
        if (bucket) {
            char *e = mlpz_sigv4_uri_encode(bucket, strlen(bucket), 0);
            if (!e)
                luaL_error(L, "out of memory");
            luaL_addchar(&b, '/');
            luaL_addstring(&b, e);
            free(e);
            if (strcmp(path, "/") != 0)
                luaL_addstring(&b, path);
        } else {
            luaL_addstring(&b, path);
        }
    }
    if (*query) {
        luaL_addchar(&b, '?');
        luaL_addstring(&b, query);
    }
    luaL_pushresult(&b);
}

void mlpz_aws_read_req_opts(lua_State *L, int req, int default_s3, mlpz_aws_req_opts *o)
{
    static const char *fn = "request";
    memset(o, 0, sizeof *o);
    o->method = mlpz_aws_field_string(L, req, fn, "method");
    if (!o->method)
        o->method = "GET";
    for (const char *p = o->method; *p; p++)
        if (*p < 'A' || *p > 'Z')
            luaL_error(L, "request: 'method' must be an upper-case HTTP method such as GET");
    o->path = mlpz_aws_field_string(L, req, fn, "path");
    if (!o->path)
        o->path = "/";
    if (!valid_path(o->path))
        luaL_error(L, "request: 'path' must start with / and be URI-encoded (no spaces, "
                      "'?', '#' or non-ASCII bytes)");
    o->bucket = mlpz_aws_field_string(L, req, fn, "bucket");
    if (o->bucket && (!*o->bucket || strlen(o->bucket) > 255))
        luaL_error(L, "request: 'bucket' must be a bucket name");
    o->output = mlpz_aws_field_string(L, req, fn, "output_file");
    o->payload_hash = mlpz_aws_field_string(L, req, fn, "payload_hash");
    o->body_file = mlpz_aws_field_string(L, req, fn, "body_file");
    o->s3 = mlpz_aws_field_bool(L, req, fn, "s3", default_s3);
    lua_getfield(L, req, "body");
    if (lua_type(L, -1) == LUA_TSTRING) {
        o->body = lua_tolstring(L, -1, &o->body_len);
        o->has_body = 1;
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "request: 'body' must be a string");
    }
    lua_pop(L, 1);
    if (o->body && o->body_file)
        luaL_error(L, "request: pass 'body' or 'body_file', not both");
    o->body_offset = 0;
    o->body_length = -1;
    static const char *const keys[] = {"body_offset", "body_length"};
    lua_Integer *dst[] = {&o->body_offset, &o->body_length};
    for (int i = 0; i < 2; i++) {
        lua_getfield(L, req, keys[i]);
        if (!lua_isnil(L, -1)) {
            int ok = 0;
            *dst[i] = lua_tointegerx(L, -1, &ok);
            if (!ok || *dst[i] < 0)
                luaL_error(L, "request: '%s' must be an integer, 0 or more", keys[i]);
        }
        lua_pop(L, 1);
    }
}
