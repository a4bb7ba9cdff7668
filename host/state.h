/* Lua states for mlpz-lua: the base state every script gets, and the
 * conveniences the REPL adds on top of it. */
#ifndef MLPZ_STATE_H
#define MLPZ_STATE_H

#include <lua.h>

/* A new state with warnings off (as lua starts); NULL when out of memory. */
lua_State *mlpz_state_new(void);

/* Opens the standard libraries and makes every mlpz module requirable
 * (C bindings and the embedded pure-Lua library, no LUA_PATH needed).
 * ignore_env is lua's -E: package.path/cpath ignore LUA_PATH/LUA_CPATH.
 * Raises Lua errors: call it in protected mode. */
void mlpz_state_open(lua_State *L, int ignore_env);

/* lua.c's docall: calls the function under its narg arguments in protected
 * mode, appending a traceback to errors. A SIGINT meanwhile raises
 * "interrupted!" in the running Lua code (a second one ends the process, as
 * in lua); the previous SIGINT disposition is restored afterwards. */
int mlpz_state_call(lua_State *L, int narg, int nres);

/* When status is an error, prints the message on top of the stack to
 * stderr, prefixed by "progname: " unless progname is NULL, and pops it.
 * Returns status. */
int mlpz_state_report(lua_State *L, int status, const char *progname);

/* Adds the REPL globals: `mlpz` (its fields require "mlpz.<name>" on first
 * use), `ds` (mlpz.dataset.open() on first use, through a metatable on the
 * globals table) and `help([topic])`. Leaves globals the user already set
 * alone. Raises Lua errors: call it in protected mode. */
void mlpz_state_repl_globals(lua_State *L);

/* True when the table at idx is one of the lazy tables made above (the
 * globals or `mlpz`), whose lazy keys completion may resolve. Pushes
 * nothing. */
int mlpz_state_is_lazy(lua_State *L, int idx);

/* Pushes the list of the lazy keys of the table at idx (a sequence of
 * strings), or nothing and returns 0 when it has none. */
int mlpz_state_lazy_keys(lua_State *L, int idx);

#endif
