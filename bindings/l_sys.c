/* mlpz.sys: the two things scripts need from the OS that Lua's standard
 * library lacks: sleeping without spawning a process, and asking whether a
 * stream is a terminal (to choose a live status line over plain lines). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "bindings.h"

/* sys.sleep(seconds) -> true, or false when a signal (Ctrl-C) cut it
 * short, so the interpreter's interrupt can take effect at once. */
static int l_sleep(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0 && s <= 86400 && !isnan(s), 1, "seconds must be from 0 to 86400");
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (lua_Number)ts.tv_sec) * 1e9);
    int r = nanosleep(&ts, NULL);
    lua_pushboolean(L, r == 0 || errno != EINTR);
    return 1;
}

/* sys.isatty("stdin" | "stdout" | "stderr") -> boolean */
static int l_isatty(lua_State *L)
{
    static const char *const names[] = {"stdin", "stdout", "stderr", NULL};
    int fd = luaL_checkoption(L, 1, "stdout", names);
    lua_pushboolean(L, isatty(fd) == 1);
    return 1;
}

/* sys.time() -> seconds since the epoch with sub-second precision, for
 * measuring waits (os.time has whole seconds only). */
static int l_time(lua_State *L)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return luaL_error(L, "clock_gettime: %s", strerror(errno));
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

int luaopen_mlpz_sys(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"sleep", l_sleep},
        {"isatty", l_isatty},
        {"time", l_time},
        {NULL, NULL},
    };
    luaL_newlib(L, funcs);
    return 1;
}
