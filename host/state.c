#include "state.h"

#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "embedded.h"
#include "modules.h"

/* Registry key of a weak-keyed table: lazy table -> list of its lazy keys. */
#define LAZY_KEY "mlpz.repl.lazy"

lua_State *mlpz_state_new(void)
{
    /* luaL_newstate installs lua's warning function, off until "@on". */
    return luaL_newstate();
}

void mlpz_state_open(lua_State *L, int ignore_env)
{
    if (ignore_env) {
        /* The signal lua's package library checks to skip LUA_PATH etc. */
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    mlpz_open_modules(L);
}

/* __index of `mlpz`: mlpz.x is require("mlpz.x"), kept once loaded. A
 * module that fails to load raises its error at the use, not at start. */
static int mlpz_index(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    lua_getglobal(L, "require");
    lua_pushfstring(L, "mlpz.%s", lua_tostring(L, 2));
    lua_call(L, 1, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

/* __index of the globals: `ds` opens the dataset the first time it is
 * used, so starting the REPL stays instant and works without data. */
static int globals_index(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    if (lua_type(L, 2) != LUA_TSTRING || strcmp(k, "ds") != 0)
        return 0;
    lua_getglobal(L, "require");
    lua_pushliteral(L, "mlpz.dataset");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "open");
    lua_call(L, 0, 2);
    if (lua_isnil(L, -2)) {
        const char *err = lua_tostring(L, -1);
        return luaL_error(L, "ds: cannot open the dataset: %s",
                          err ? err : "(no message)");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "ds");
    return 1;
}

/* help([topic]): the API summary of mlpz.help. */
static int l_help(lua_State *L)
{
    int n = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "mlpz.help");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "show");
    lua_insert(L, 1);
    lua_pop(L, 1);
    lua_call(L, n, 0);
    return 0;
}

/* Remembers that the table at idx resolves the strings of the list on top
 * of the stack lazily (pops the list). */
static void register_lazy(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (luaL_getsubtable(L, LUA_REGISTRYINDEX, LAZY_KEY) == 0) {
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
    }
    lua_pushvalue(L, idx);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 2);
}

/* Appends name to the list at list_idx unless it is already there. */
static void add_name(lua_State *L, int list_idx, const char *name)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, list_idx);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list_idx, i);
        int same = strcmp(lua_tostring(L, -1), name) == 0;
        lua_pop(L, 1);
        if (same)
            return;
    }
    lua_pushstring(L, name);
    lua_rawseti(L, list_idx, n + 1);
}

/* Pushes the names x of every module "mlpz.x" the REPL can require. */
static void push_module_names(lua_State *L)
{
    lua_newtable(L);
    int list = lua_gettop(L);
    for (const mlpz_embedded_module *m = mlpz_embedded_modules; m->name; m++)
        if (strncmp(m->name, "mlpz.", 5) == 0 && !strchr(m->name + 5, '.'))
            add_name(L, list, m->name + 5);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            continue;
        const char *name = lua_tostring(L, -1);
        if (strncmp(name, "mlpz.", 5) == 0 && !strchr(name + 5, '.'))
            add_name(L, list, name + 5);
    }
    lua_pop(L, 1);
}

static void set_mlpz(lua_State *L)
{
    if (lua_getglobal(L, "mlpz") != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, mlpz_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    push_module_names(L);
    register_lazy(L, -2);
    lua_setglobal(L, "mlpz");
}

static void set_ds(lua_State *L)
{
    lua_pushglobaltable(L);
    if (lua_rawgetfield_absent(L))
        ;
}
