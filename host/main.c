/* mlpz-lua [options] [script [args]]: the command line of the standard lua
 * 5.4 interpreter (lua.c), with the mlpz modules built in and a REPL that
 * knows them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "repl.h"
#include "state.h"
#include "version.h"

#define HAS_ERROR 1 /* bad option */
#define HAS_I 2     /* -i */
#define HAS_V 4     /* -v */
#define HAS_E 8     /* -e */
#define HAS_NOENV 16 /* -E */
#define HAS_HELP 32 /* -h, --help */

static const char *progname = "mlpz-lua";

static void print_version(void)
{
    printf("mlpz-lua %s (%s)\n", MLPZ_VERSION, LUA_RELEASE);
    fflush(stdout);
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat   execute string 'stat'\n"
            "  -i        enter interactive mode after executing 'script'\n"
            "  -l mod    require library 'mod' into global 'mod'\n"
            "  -l g=mod  require library 'mod' into global 'g'\n"
            "  -v        show version information\n"
            "  -E        ignore environment variables (LUA_INIT, LUA_PATH, ...)\n"
            "  -W        turn warnings on\n"
            "  -h        show this help (also --help)\n"
            "  --        stop handling options\n"
            "  -         stop handling options and execute stdin\n"
            "With no script and a terminal on stdin, starts the REPL (type help()).\n"
            "The mlpz modules (mlpz.dataset, mlpz.backend, mlpz.table, ...) are built\n"
            "in: no LUA_PATH needed. The demo scripts are in scripts/ of the source\n"
            "tree, or $PREFIX/share/mlpz-lua/scripts once installed; README.md\n"
            "documents them and the Lua API. Data: $MLPZ_DATA or ./data (make data).\n",
            progname);
    fflush(out);
}

static void print_bad_option(const char *opt)
{
    fprintf(stderr, "%s: ", progname);
    if (opt[1] == 'e' || opt[1] == 'l')
        fprintf(stderr, "'%s' needs argument\n", opt);
    else
        fprintf(stderr, "unrecognized option '%s'\n", opt);
    print_usage(stderr);
}

/* lua.c's collectargs: the option flags, and in *first the index of the
 * script (or of the bad option, or argc when there is no script). */
static int collect_args(char **argv, int *first)
{
    int args = 0;
    int i;
    for (i = 1; argv[i] != NULL; i++) {
        *first = i;
        if (argv[i][0] != '-')
            return args;
        switch (argv[i][1]) {
        case '-':
            if (strcmp(argv[i], "--help") == 0) {
                args |= HAS_HELP;
                break;
            }
            if (argv[i][2] != '\0')
                return HAS_ERROR;
            *first = i + 1;
            return args;
        case '\0':
            return args;
        case 'E':
            if (argv[i][2] != '\0')
                return HAS_ERROR;
            args |= HAS_NOENV;
            break;
        case 'W':
            if (argv[i][2] != '\0')
                return HAS_ERROR;
            break;
        case 'h':
            if (argv[i][2] != '\0')
                return HAS_ERROR;
            args |= HAS_HELP;
            break;
        case 'i':
            if (argv[i][2] != '\0')
                return HAS_ERROR;
            args |= HAS_I;
            break;
        case 'v':
            if (argv[i][2] != '\0')
                return HAS_ERROR;
            args |= HAS_V;
            break;
        case 'e':
            args |= HAS_E;
            /* fall through */
        case 'l': /* -e and -l take an argument */
            if (argv[i][2] == '\0') {
                i++;
                if (argv[i] == NULL || argv[i][0] == '-')
                    return HAS_ERROR;
            }
            break;
        default:
            return HAS_ERROR;
        }
    }
    *first = i;
    return args;
}

/* arg[0] is the script, negative indices the interpreter and its options,
 * 1..n the script's arguments; with no script, arg[0] is the interpreter. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script)
{
    if (script == argc)
        script = 0;
    lua_createtable(L, argc - (script + 1), script + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status)
{
    if (status == LUA_OK)
        status = mlpz_state_call(L, 0, 0);
    return mlpz_state_report(L, status, progname);
}

/* -l mod requires mod into global mod; -l g=mod into global g; as in lua,
 * a "-suffix" of a plain module name is dropped from the global's name. */
static int dolibrary(lua_State *L, const char *spec)
{
    const char *eq = strchr(spec, '=');
    const char *mod = eq ? eq + 1 : spec;
    size_t glen = eq ? (size_t)(eq - spec) : strcspn(spec, "-");
    lua_getglobal(L, "require");
    lua_pushstring(L, mod);
    int status = mlpz_state_call(L, 1, 1);
    if (status == LUA_OK) {
        lua_pushglobaltable(L);
        lua_pushlstring(L, spec, glen);
        lua_pushvalue(L, -3);
        lua_settable(L, -3);
        lua_pop(L, 2);
    }
    return mlpz_state_report(L, status, progname);
}

/* LUA_INIT_5_4, else LUA_INIT: "@file" runs the file, anything else runs
 * as a chunk, before the command-line options, as in lua (-E skips it). */
static int handle_luainit(lua_State *L)
{
    const char *name = "=LUA_INIT_5_4";
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL)
        return LUA_OK;
    if (init[0] == '@')
        return dochunk(L, luaL_loadfile(L, init + 1));
    return dochunk(L, luaL_loadbuffer(L, init, strlen(init), name));
}

/* Runs -e, -l and -W in command-line order; stops at the first failure. */
static int run_args(lua_State *L, char **argv, int n)
{
    for (int i = 1; i < n; i++) {
        int option = argv[i][1];
        if (option == 'e' || option == 'l') {
            const char *extra = argv[i] + 2;
            if (*extra == '\0')
                extra = argv[++i];
            int status = option == 'e'
                ? dochunk(L, luaL_loadbuffer(L, extra, strlen(extra),
                                             "=(command line)"))
                : dolibrary(L, extra);
            if (status != LUA_OK)
                return 0;
        } else if (option == 'W') {
            lua_warning(L, "@on", 0);
        }
    }
    return 1;
}

static int push_script_args(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    int n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    int i;
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -i);
    return n;
}

static int handle_script(lua_State *L, char **argv)
{
    const char *fname = argv[0];
    /* "-" is stdin, unless it came after "--" (then it is a file name). */
    if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
        fname = NULL;
    int status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = push_script_args(L);
        status = mlpz_state_call(L, n, LUA_MULTRET);
    }
    return mlpz_state_report(L, status, progname);
}

/* Everything runs here, in protected mode, so that memory errors while
 * setting up are reported like any other error. */
static int pmain(lua_State *L)
{
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    int script = argc;
    int args = collect_args(argv, &script);
    int optlim = script > 0 ? script : argc;
    luaL_checkversion(L);
    if (args == HAS_ERROR) {
        print_bad_option(argv[script]);
        return 0;
    }
    if (args & HAS_HELP) {
        print_usage(stdout);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (args & HAS_V)
        print_version();
    mlpz_state_open(L, (args & HAS_NOENV) != 0);
    create_arg_table(L, argv, argc, script);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    if (!(args & HAS_NOENV) && handle_luainit(L) != LUA_OK)
        return 0;
    if (!run_args(L, argv, optlim))
        return 0;
    if (script < argc && handle_script(L, argv + script) != LUA_OK)
        return 0;
    if (args & HAS_I) {
        mlpz_repl(L, !(args & HAS_V));
    } else if (script == argc && !(args & (HAS_E | HAS_V))) {
        if (isatty(STDIN_FILENO))
            mlpz_repl(L, 1);
        else if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK)
            return 0;
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv)
{
    if (argv[0] && argv[0][0]) {
        const char *slash = strrchr(argv[0], '/');
        progname = slash ? slash + 1 : argv[0];
    }
    lua_State *L = mlpz_state_new();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 2, 1, 0);
    int result = lua_toboolean(L, -1);
    mlpz_state_report(L, status, progname);
    lua_close(L);
    return result && status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
