/* aws.credentials{...}, aws.region{...}, aws.endpoint(service, {...}): the
 * resolution of bindings/aws_credentials.c for Lua. A credentials object
 * shows its key id (masked in tostring), source and expiration; the secret
 * and the session token never reach Lua. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "l_aws.h"

typedef struct {
    mlpz_aws_provider *p;
} creds_box;

/* Pushes a credentials object owning p. */
static void push_credentials(lua_State *L, mlpz_aws_provider *p)
{
    creds_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->p = NULL;
    luaL_setmetatable(L, MLPZ_AWS_CREDENTIALS_MT);
    b->p = p;
}

mlpz_aws_provider *mlpz_aws_to_provider(lua_State *L, int idx)
{
    creds_box *b = luaL_testudata(L, idx, MLPZ_AWS_CREDENTIALS_MT);
    return b ? b->p : NULL;
}

int mlpz_aws_push_new_credentials(lua_State *L, const mlpz_aws_creds_opts *o)
{
    char err[1024];
    mlpz_aws_provider *p = mlpz_aws_provider_new(L, o, err, sizeof err);
    if (!p)
        return mlpz_aws_push_fail(L, err);
    push_credentials(L, p);
    return 1;
}

/* The string field key of the options table at idx; NULL when the table
 * or the field is absent or empty. */
static const char *opt_string(lua_State *L, int idx, const char *fn, const char *key)
{
    if (lua_isnoneornil(L, idx))
        return NULL;
    const char *s = mlpz_aws_field_string(L, idx, fn, key);
    return s && *s ? s : NULL;
}

static void check_opts(lua_State *L, int idx, const char *fn)
{
    if (!lua_isnoneornil(L, idx) && !lua_istable(L, idx))
        luaL_error(L, "%s: the options must be a table", fn);
}

/* aws.credentials{profile=, access_key_id=, secret_access_key=,
 * session_token=} -> credentials | nil, err */
int mlpz_aws_credentials(lua_State *L)
{
    check_opts(L, 1, "aws.credentials");
    mlpz_aws_creds_opts o;
    memset(&o, 0, sizeof o);
    o.profile = opt_string(L, 1, "aws.credentials", "profile");
    o.access_key_id = opt_string(L, 1, "aws.credentials", "access_key_id");
    o.secret_access_key = opt_string(L, 1, "aws.credentials", "secret_access_key");
    o.session_token = opt_string(L, 1, "aws.credentials", "session_token");
    return mlpz_aws_push_new_credentials(L, &o);
}

static const mlpz_aws_creds *current(lua_State *L)
{
    creds_box *b = luaL_checkudata(L, 1, MLPZ_AWS_CREDENTIALS_MT);
    char err[1024];
    const mlpz_aws_creds *c = mlpz_aws_provider_get(L, b->p, err, sizeof err);
    if (!c)
        luaL_error(L, "aws.credentials: %s", err);
    return c;
}

/* Reading a field refreshes credentials that expire within 5 minutes. */
static int creds_index(lua_State *L)
{
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "access_key_id") == 0) {
        lua_pushstring(L, current(L)->access_key_id);
    } else if (strcmp(key, "source") == 0) {
        lua_pushstring(L, current(L)->source);
    } else if (strcmp(key, "expiration") == 0) {
        const mlpz_aws_creds *c = current(L);
        if (c->expiration)
            lua_pushinteger(L, (lua_Integer)c->expiration);
        else
            lua_pushnil(L);
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int creds_tostring(lua_State *L)
{
    creds_box *b = luaL_checkudata(L, 1, MLPZ_AWS_CREDENTIALS_MT);
    if (!b->p) {
        lua_pushliteral(L, "aws credentials (released)");
        return 1;
    }
    char err[256];
    const mlpz_aws_creds *c = mlpz_aws_provider_get(L, b->p, err, sizeof err);
    if (!c) {
        lua_pushfstring(L, "aws credentials (%s)", err);
        return 1;
    }
    const char *k = c->access_key_id;
    size_t n = strlen(k);
    char masked[16] = "****";
    if (n >= 8)
        snprintf(masked, sizeof masked, "%.4s...%s", k, k + n - 3);
    lua_pushfstring(L, "%s (%s)", masked, c->source);
    return 1;
}

static int creds_gc(lua_State *L)
{
    creds_box *b = luaL_checkudata(L, 1, MLPZ_AWS_CREDENTIALS_MT);
    mlpz_aws_provider_free(b->p);
    b->p = NULL;
    return 0;
}

static int creds_newindex(lua_State *L)
{
    return luaL_error(L, "aws.credentials: the object is read-only");
}

void mlpz_aws_credentials_register(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__index", creds_index},
        {"__newindex", creds_newindex},
        {"__tostring", creds_tostring},
        {"__gc", creds_gc},
        {NULL, NULL},
    };
    mlpz_aws_register_metatable(L, MLPZ_AWS_CREDENTIALS_MT, meta, 1);
}

/* aws.region{region=, profile=} -> string | nil, err */
int mlpz_aws_region(lua_State *L)
{
    check_opts(L, 1, "aws.region");
    const char *region = opt_string(L, 1, "aws.region", "region");
    const char *profile = opt_string(L, 1, "aws.region", "profile");
    char out[64], err[1024];
    if (mlpz_aws_resolve_region(region, profile, out, sizeof out, err, sizeof err) != 0)
        return mlpz_aws_push_fail(L, err);
    lua_pushstring(L, out);
    return 1;
}

/* aws.endpoint(service, {region=, endpoint_url=, profile=}) -> url, custom
 * | nil, err */
int mlpz_aws_endpoint(lua_State *L)
{
    const char *service = luaL_checkstring(L, 1);
    check_opts(L, 2, "aws.endpoint");
    const char *region = opt_string(L, 2, "aws.endpoint", "region");
    const char *url = opt_string(L, 2, "aws.endpoint", "endpoint_url");
    const char *profile = opt_string(L, 2, "aws.endpoint", "profile");
    char reg[64], rerr[1024], out[2048], err[1024];
    int have_region = mlpz_aws_resolve_region(region, profile, reg, sizeof reg, rerr,
                                              sizeof rerr) == 0;
    if (!have_region && region)
        return mlpz_aws_push_fail(L, rerr);
    int custom = 0;
    if (mlpz_aws_resolve_endpoint(service, have_region ? reg : NULL, url, profile, out,
                                  sizeof out, &custom, err, sizeof err) != 0)
        /* Without a region the default endpoint cannot be built: the
         * region's own message says why there is none. */
        return mlpz_aws_push_fail(L, !have_region && !custom ? rerr : err);
    lua_pushstring(L, out);
    lua_pushboolean(L, custom);
    return 2;
}
