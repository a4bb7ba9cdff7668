/* Entry points of the C modules exposed to Lua; host/modules.c preloads
 * them under the names given here. */
#ifndef MLPZ_BINDINGS_H
#define MLPZ_BINDINGS_H

#include <lua.h>

int luaopen_mlpz_dataset(lua_State *L);     /* "mlpz.dataset" */
int luaopen_mlpz_recommender(lua_State *L); /* "mlpz.recommender" */
int luaopen_mlpz_text(lua_State *L);        /* "mlpz.text" */
int luaopen_mlpz_aws(lua_State *L);         /* "mlpz.aws" */
int luaopen_mlpz_sys(lua_State *L);         /* "mlpz.sys" */

#endif
