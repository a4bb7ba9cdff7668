/* Makes every mlpz module requirable in a fresh Lua state: the C bindings
 * and lua-cjson through package.preload, the embedded pure-Lua library
 * through a package searcher placed before the file-system ones. */
#ifndef MLPZ_MODULES_H
#define MLPZ_MODULES_H

#include <lua.h>

void mlpz_open_modules(lua_State *L);

#endif
