/* mlpz.text: terminal display width of UTF-8 strings, for aligning tables
 * (mlpz.table) whatever the titles hold: accents, CJK, emoji, bad bytes. */
#include <lauxlib.h>
#include <lua.h>

#include "bindings.h"
#include "utf8width.h"

/* U+2026 HORIZONTAL ELLIPSIS, one column wide. */
#define ELLIPSIS "\xE2\x80\xA6"
#define ELLIPSIS_COLS 1

/* text.width(s) -> integer */
static int l_width(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_pushinteger(L, (lua_Integer)mlpz_utf8_width(s, len));
    return 1;
}

/* text.truncate(s, cols) -> s itself when it fits, else the longest prefix
 * of whole characters that fits in cols columns together with "…". */
static int l_truncate(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer cols = luaL_checkinteger(L, 2);
    luaL_argcheck(L, cols >= 0, 2, "columns must be 0 or more");
    size_t width = mlpz_utf8_width(s, len);
    if ((lua_Unsigned)cols >= width) {
        lua_settop(L, 1);
        return 1;
    }
    /* Here cols < width <= SIZE_MAX, so it fits a size_t. */
    size_t room = (size_t)cols;
    if (room < ELLIPSIS_COLS) {
        lua_pushlstring(L, s, mlpz_utf8_fit(s, len, room, NULL));
        return 1;
    }
    size_t keep = mlpz_utf8_fit(s, len, room - ELLIPSIS_COLS, NULL);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, s, keep);
    luaL_addstring(&b, ELLIPSIS);
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg text_funcs[] = {
    {"width", l_width},
    {"truncate", l_truncate},
    {NULL, NULL},
};

int luaopen_mlpz_text(lua_State *L)
{
    luaL_newlib(L, text_funcs);
    lua_pushboolean(L, mlpz_utf8width_uses_libc());
    lua_setfield(L, -2, "libc_widths");
    return 1;
}
