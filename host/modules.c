#include "modules.h"

#include <string.h>

#include <lauxlib.h>
#include <lua-cjson.h>

#include "bindings.h"
#include "embedded.h"

static const luaL_Reg preloads[] = {
    {"mlpz.dataset", luaopen_mlpz_dataset},
    {"mlpz.recommender", luaopen_mlpz_recommender},
    {"mlpz.text", luaopen_mlpz_text},
    {"mlpz.sys", luaopen_mlpz_sys},
    {"mlpz.aws", luaopen_mlpz_aws},
    {"cjson", luaopen_cjson},
    {NULL, NULL},
};

/* package.searchers entry: finds "mlpz.x" among the embedded modules. */
static int search_embedded(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    for (const mlpz_embedded_module *m = mlpz_embedded_modules; m->name; m++) {
        if (strcmp(m->name, name) != 0)
            continue;
        if (luaL_loadbufferx(L, m->source, m->len, m->chunk, "t") != LUA_OK)
            return lua_error(L);
        lua_pushstring(L, m->chunk + 1);
        return 2;
    }
    lua_pushfstring(L, "no embedded module '%s'", name);
    return 1;
}

void mlpz_open_modules(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *r = preloads; r->name; r++) {
        lua_pushcfunction(L, r->func);
        lua_setfield(L, -2, r->name);
    }
    lua_pop(L, 1);

    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    /* Shift searchers 2..n up one and put ours second, after preload. */
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = n; i >= 2; i--) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, search_embedded);
    lua_rawseti(L, -2, 2);
    lua_pop(L, 2);
}
