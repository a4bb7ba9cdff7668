#include "state.h"

#include <signal.h>
#include <stdio.h>
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

/* The state a SIGINT interrupts: lua.c's globalL. */
static lua_State *volatile call_state;

static void stop_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* The hook makes the running Lua code raise at its next instruction; a
 * signal handler may not touch the state in any other way. */
static void on_sigint(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    lua_sethook(call_state, stop_hook,
                LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        /* mlpz errors are tables {code, message, ...}: show "code: message". */
        if (lua_type(L, 1) == LUA_TTABLE) {
            lua_pushliteral(L, "message");
            if (lua_rawget(L, 1) == LUA_TSTRING) {
                lua_pushliteral(L, "code");
                if (lua_rawget(L, 1) == LUA_TSTRING)
                    msg = lua_pushfstring(L, "%s: %s", lua_tostring(L, -1),
                                          lua_tostring(L, -2));
                else
                    msg = lua_tostring(L, -2);
            }
        }
        if (msg == NULL)
            msg = lua_pushfstring(L, "(error object is a %s value)",
                                  luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int mlpz_state_call(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_sigint;
    sigemptyset(&act.sa_mask);
    call_state = L;
    int caught = sigaction(SIGINT, &act, &old) == 0;
    int status = lua_pcall(L, narg, nres, base);
    if (caught)
        sigaction(SIGINT, &old, NULL);
    /* A SIGINT that came after the last instruction left its hook behind. */
    if (lua_gethook(L) == stop_hook)
        lua_sethook(L, NULL, 0, 0);
    lua_remove(L, base);
    return status;
}

int mlpz_state_report(lua_State *L, int status, const char *progname)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (progname)
            fprintf(stderr, "%s: ", progname);
        fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
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

static int push_lazy_entry(lua_State *L, int idx);

/* `mlpz` alone at the prompt says what it offers rather than "{}". */
static int mlpz_tostring(lua_State *L)
{
    if (!push_lazy_entry(L, 1))
        lua_newtable(L);
    int list = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, list);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "mlpz: the modules, loaded on first use:");
    for (lua_Integer i = 1; i <= n; i++) {
        luaL_addstring(&b, i > 1 ? ", mlpz." : " mlpz.");
        lua_rawgeti(L, list, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return 1;
}

/* __index of the globals: `ds` opens the dataset the first time it is
 * used, so starting the REPL stays instant and works without data. */
static int globals_index(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING || strcmp(lua_tostring(L, 2), "ds") != 0)
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

/* help([topic]): the API summary of mlpz.help. `help` is a callable
 * table so that evaluating `help` alone says how to use it. */
static int l_help(lua_State *L)
{
    lua_remove(L, 1);
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

static int help_tostring(lua_State *L)
{
    lua_pushliteral(L, "help: type help() for the API, help(\"dataset\") for a module");
    return 1;
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

/* Inserts name into the sorted list at list_idx unless already there. */
static void add_name(lua_State *L, int list_idx, const char *name)
{
    lua_Integer n = (lua_Integer)lua_rawlen(L, list_idx);
    lua_Integer pos = n + 1;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list_idx, i);
        int cmp = strcmp(lua_tostring(L, -1), name);
        lua_pop(L, 1);
        if (cmp == 0)
            return;
        if (cmp > 0) {
            pos = i;
            break;
        }
    }
    for (lua_Integer i = n; i >= pos; i--) {
        lua_rawgeti(L, list_idx, i);
        lua_rawseti(L, list_idx, i + 1);
    }
    lua_pushstring(L, name);
    lua_rawseti(L, list_idx, pos);
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
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, mlpz_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, mlpz_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_setmetatable(L, -2);
    push_module_names(L);
    register_lazy(L, -2);
    lua_setglobal(L, "mlpz");
}

/* Installs the lazy `ds` through the globals' metatable, unless a script
 * run before the REPL (-i) gave the globals an __index of its own. */
static void set_ds(lua_State *L)
{
    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    if (!lua_getmetatable(L, g)) {
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setmetatable(L, g);
    }
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, -2) != LUA_TNIL) {
        lua_pop(L, 3);
        return;
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, globals_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    lua_createtable(L, 1, 0);
    lua_pushliteral(L, "ds");
    lua_rawseti(L, -2, 1);
    register_lazy(L, g);
    lua_pop(L, 1);
}

void mlpz_state_repl_globals(lua_State *L)
{
    set_mlpz(L);
    if (lua_getglobal(L, "help") == LUA_TNIL) {
        lua_newtable(L);
        lua_createtable(L, 0, 2);
        lua_pushcfunction(L, l_help);
        lua_setfield(L, -2, "__call");
        lua_pushcfunction(L, help_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_setmetatable(L, -2);
        lua_setglobal(L, "help");
    }
    lua_pop(L, 1);
    set_ds(L);
}

/* Pushes the lazy-key list of the table at idx, or nil. */
static int push_lazy_entry(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    if (lua_getfield(L, LUA_REGISTRYINDEX, LAZY_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return 0;
    }
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    return lua_type(L, -1) == LUA_TTABLE;
}

int mlpz_state_is_lazy(lua_State *L, int idx)
{
    int found = push_lazy_entry(L, idx);
    lua_pop(L, 1);
    return found;
}

int mlpz_state_lazy_keys(lua_State *L, int idx)
{
    if (push_lazy_entry(L, idx))
        return 1;
    lua_pop(L, 1);
    return 0;
}
