#include "repl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>

#include "state.h"
#include "version.h"

#define HISTORY_FILE "/.mlpz_history"
#define HISTORY_MAX 1000
#define MAX_CANDIDATES 5000
#define MAX_INDEX_DEPTH 16 /* __index tables followed by completion */
#define EOFMARK "<eof>"

/* Outcomes of reading a line, besides the load statuses of lua_load. */
#define READ_OK 0
#define READ_EOF (-1)
#define READ_INTERRUPT (-2)

static int use_readline; /* stdin is a terminal: libedit, history, Tab */
static volatile sig_atomic_t prompt_interrupted;

/* ------------------------------------------------------------------ */
/* History: ~/.mlpz_history, in libedit's own format. */

static char *history_path;
static char *session_lines[HISTORY_MAX]; /* entered here, oldest first */
static int session_count;
static int session_first; /* ring start once more than HISTORY_MAX */

static void history_open(void)
{
    using_history();
    stifle_history(HISTORY_MAX);
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0')
        return;
    size_t size = strlen(home) + sizeof HISTORY_FILE;
    history_path = malloc(size);
    if (history_path == NULL)
        return;
    snprintf(history_path, size, "%s%s", home, HISTORY_FILE);
    /* A missing or unreadable file just means an empty history. */
    read_history(history_path);
}

static void history_remember(const char *line)
{
    if (line[0] == '\0')
        return;
    HIST_ENTRY *last = history_get(history_base + history_length - 1);
    if (last && last->line && strcmp(last->line, line) == 0)
        return;
    add_history(line);
    char *copy = strdup(line);
    if (copy == NULL)
        return;
    if (session_count < HISTORY_MAX) {
        session_lines[session_count++] = copy;
    } else {
        free(session_lines[session_first]);
        session_lines[session_first] = copy;
        session_first = (session_first + 1) % HISTORY_MAX;
    }
}

/* Writes the history to a fresh private file next to path and renames it
 * over path, so a crash or a concurrent exit never leaves half a file. */
static void write_replacing(const char *path)
{
    size_t size = strlen(path) + sizeof ".XXXXXX";
    char *tmp = malloc(size);
    if (tmp == NULL)
        return;
    snprintf(tmp, size, "%s.XXXXXX", path);
    int fd = mkstemp(tmp); /* mode 600: the history may hold secrets */
    if (fd >= 0) {
        close(fd);
        if (write_history(tmp) != 0 || rename(tmp, path) != 0)
            unlink(tmp);
    }
    free(tmp);
}

/* Appends this session's lines to what the file holds now (other sessions
 * may have saved meanwhile) and keeps the newest HISTORY_MAX. libedit's own
 * append_history and history_truncate_file corrupt its file format, hence
 * the rewrite. Failures are ignored: an unwritable HOME must not spoil the
 * exit. */
static void history_save(void)
{
    if (history_path != NULL && session_count > 0) {
        clear_history();
        read_history(history_path);
        for (int i = 0; i < session_count; i++)
            add_history(session_lines[(session_first + i) % HISTORY_MAX]);
        /* Through a symlinked history file, replace its target. */
        char *real = realpath(history_path, NULL);
        write_replacing(real ? real : history_path);
        free(real);
    }
    for (int i = 0; i < session_count; i++)
        free(session_lines[i]);
    session_count = 0;
    free(history_path);
    history_path = NULL;
}

/* ------------------------------------------------------------------ */
/* Tab completion: globals, keywords, fields and methods. Only raw lookups
 * and metatables' __index tables are followed, so completing runs no user
 * code; the lazy keys of the REPL's own tables (`ds`, mlpz.x) are the
 * exception and load on demand. */

static lua_State *complete_state;
static char **candidates;
static size_t candidate_count;
static size_t candidate_next;

static const char *const keywords[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for",
    "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
    "return", "then", "true", "until", "while", NULL,
};

static int is_keyword(const char *s, size_t len)
{
    for (const char *const *k = keywords; *k; k++)
        if (strlen(*k) == len && memcmp(*k, s, len) == 0)
            return 1;
    return 0;
}

static int is_letter(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A Lua name (identifier that is not a keyword), as `a.name` needs. */
static int is_name(const char *s, size_t len)
{
    if (len == 0 || !is_letter(s[0]))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!is_letter(s[i]) && !(s[i] >= '0' && s[i] <= '9'))
            return 0;
    return !is_keyword(s, len);
}

/* Adds head..key to the list at out when key is a name starting with
 * prefix. Names starting with "__" (metamethods) only show once the user
 * has typed an underscore. */
static void add_candidate(lua_State *L, int out, const char *head,
                          const char *key, size_t klen, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (klen < plen || memcmp(key, prefix, plen) != 0 || !is_name(key, klen))
        return;
    if (klen >= 2 && key[0] == '_' && key[1] == '_' && prefix[0] != '_')
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, out);
    if (n >= MAX_CANDIDATES)
        return;
    lua_pushstring(L, head);
    lua_pushlstring(L, key, klen);
    lua_concat(L, 2);
    lua_rawseti(L, out, n + 1);
}

/* Replaces the value on top of the stack by its metatable's __index when
 * that is a table; otherwise pops it and returns 0. */
static int next_index_table(lua_State *L)
{
    if (!lua_getmetatable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushliteral(L, "__index");
    lua_rawget(L, -2);
    lua_remove(L, -2);
    lua_remove(L, -2);
    if (lua_istable(L, -1))
        return 1;
    lua_pop(L, 1);
    return 0;
}

static int is_lazy_key(lua_State *L, int t, const char *key)
{
    if (!mlpz_state_lazy_keys(L, t))
        return 0;
    int found = 0;
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n && !found; i++) {
        lua_rawgeti(L, -1, i);
        const char *k = lua_tostring(L, -1);
        found = k != NULL && strcmp(k, key) == 0;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return found;
}

/* Pushes the value at v indexed by key, by raw lookups along the chain of
 * __index tables; nil when not found that way. */
static void lookup(lua_State *L, int v, const char *key)
{
    lua_pushvalue(L, v);
    for (int depth = 0; depth < MAX_INDEX_DEPTH; depth++) {
        if (lua_istable(L, -1)) {
            lua_pushstring(L, key);
            if (lua_rawget(L, -2) != LUA_TNIL) {
                lua_remove(L, -2);
                return;
            }
            lua_pop(L, 1);
            if (is_lazy_key(L, lua_gettop(L), key)) {
                lua_getfield(L, -1, key);
                lua_remove(L, -2);
                return;
            }
        }
        if (!next_index_table(L)) {
            lua_pushnil(L);
            return;
        }
    }
    lua_pop(L, 1);
    lua_pushnil(L);
}

/* Adds the fields of the value at v (or only its methods) matching prefix,
 * along the chain of __index tables, and the lazy keys of our tables. */
static void add_fields(lua_State *L, int v, int out, const char *head,
                       const char *prefix, int methods)
{
    lua_pushvalue(L, v);
    for (int depth = 0; depth < MAX_INDEX_DEPTH; depth++) {
        if (lua_istable(L, -1)) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                if (lua_type(L, -2) == LUA_TSTRING
                    && (!methods || lua_type(L, -1) == LUA_TFUNCTION)) {
                    size_t klen;
                    const char *key = lua_tolstring(L, -2, &klen);
                    add_candidate(L, out, head, key, klen, prefix);
                }
                lua_pop(L, 1);
            }
            if (!methods && mlpz_state_lazy_keys(L, -1)) {
                lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
                for (lua_Integer i = 1; i <= n; i++) {
                    size_t klen;
                    lua_rawgeti(L, -1, i);
                    const char *key = lua_tolstring(L, -1, &klen);
                    if (key)
                        add_candidate(L, out, head, key, klen, prefix);
                    lua_pop(L, 1);
                }
                lua_pop(L, 1);
            }
        }
        if (!next_index_table(L))
            return;
    }
    lua_pop(L, 1);
}

/* Protected: the candidates (a list of whole words) for the word given as
 * a light userdata. "a.b.c:pre" completes methods of a.b.c, "a.b.pre"
 * fields of a.b, "pre" globals and keywords. */
static int collect_candidates(lua_State *L)
{
    const char *text = lua_touserdata(L, 1);
    lua_newtable(L);
    int out = lua_gettop(L);
    const char *sep = strrchr(text, '.');
    const char *colon = strrchr(text, ':');
    if (colon && (!sep || colon > sep))
        sep = colon;
    if (sep == NULL) {
        size_t len = strlen(text);
        for (const char *const *k = keywords; *k; k++)
            if (strncmp(*k, text, len) == 0) {
                lua_pushstring(L, *k);
                lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
            }
        lua_pushglobaltable(L);
        add_fields(L, lua_gettop(L), out, "", text, 0);
        lua_settop(L, out);
        return 1;
    }
    if (sep == text) /* ".x" or ":x" after a ")" or "]": unknown object */
        return 1;
    /* Walk the path before the last separator, one name at a time. */
    lua_pushglobaltable(L);
    const char *seg = text;
    while (seg < sep) {
        const char *end = memchr(seg, '.', (size_t)(sep - seg));
        if (end == NULL)
            end = sep;
        if (!is_name(seg, (size_t)(end - seg)) || memchr(seg, ':', (size_t)(end - seg)))
            return 1;
        lua_pushlstring(L, seg, (size_t)(end - seg));
        lookup(L, -2, lua_tostring(L, -1));
        lua_replace(L, -3);
        lua_pop(L, 1);
        if (lua_isnil(L, -1))
            return 1;
        seg = end + 1;
    }
    lua_pushlstring(L, text, (size_t)(sep - text) + 1);
    add_fields(L, -2, out, lua_tostring(L, -1), sep + 1, *sep == ':');
    lua_settop(L, out);
    return 1;
}

static void free_candidates(void)
{
    for (size_t i = 0; i < candidate_count; i++)
        free(candidates[i]);
    free(candidates);
    candidates = NULL;
    candidate_count = candidate_next = 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Copies the list on top of the stack, sorted and without duplicates. */
static void take_candidates(lua_State *L)
{
    size_t n = lua_rawlen(L, -1);
    if (n == 0 || (candidates = calloc(n, sizeof *candidates)) == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, -1, (lua_Integer)i + 1);
        const char *s = lua_tostring(L, -1);
        char *copy = s ? strdup(s) : NULL;
        lua_pop(L, 1);
        if (copy)
            candidates[candidate_count++] = copy;
    }
    qsort(candidates, candidate_count, sizeof *candidates, compare_strings);
    size_t kept = 0;
    for (size_t i = 0; i < candidate_count; i++) {
        if (kept > 0 && strcmp(candidates[kept - 1], candidates[i]) == 0)
            free(candidates[i]);
        else
            candidates[kept++] = candidates[i];
    }
    candidate_count = kept;
}

static char *next_candidate(const char *text, int state)
{
    (void)text;
    if (state == 0)
        candidate_next = 0;
    if (candidate_next >= candidate_count)
        return NULL;
    return strdup(candidates[candidate_next++]);
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* never fall back to file names */
    free_candidates();
    lua_State *L = complete_state;
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 8))
        return NULL;
    /* Nothing here may raise outside the protected call. */
    lua_pushcfunction(L, collect_candidates);
    lua_pushlightuserdata(L, (void *)text);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK)
        take_candidates(L);
    lua_settop(L, top);
    if (candidate_count == 0)
        return NULL;
    return rl_completion_matches(text, next_candidate);
}

/* ------------------------------------------------------------------ */
/* Reading lines. */

static void on_prompt_sigint(int sig)
{
    (void)sig;
    prompt_interrupted = 1;
}

/* One line, without its newline, in *line (malloc'd). A SIGINT while
 * waiting for input ends the read with READ_INTERRUPT. */
static int read_line(const char *prompt, char **line)
{
    prompt_interrupted = 0;
    if (use_readline) {
        *line = readline(prompt);
    } else {
        size_t cap = 0;
        *line = NULL;
        fputs(prompt, stdout);
        fflush(stdout);
        ssize_t n = getline(line, &cap, stdin);
        if (n < 0) {
            free(*line);
            *line = NULL;
            clearerr(stdin);
        } else if (n > 0 && (*line)[n - 1] == '\n') {
            (*line)[n - 1] = '\0';
        }
    }
    if (*line != NULL)
        return READ_OK;
    return prompt_interrupted ? READ_INTERRUPT : READ_EOF;
}

/* Pushes the next line (as lua does, a first line "=e" is "return e"). */
static int pushline(lua_State *L, int firstline)
{
    lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
    const char *prompt = lua_tostring(L, -1);
    if (prompt == NULL)
        prompt = firstline ? "> " : ">> ";
    char *line;
    int r = read_line(prompt, &line);
    lua_pop(L, 1);
    if (r != READ_OK)
        return r;
    lua_pushstring(L, line);
    free(line);
    if (firstline && lua_tostring(L, -1)[0] == '=') {
        lua_pushfstring(L, "return %s", lua_tostring(L, -1) + 1);
        lua_remove(L, -2);
    }
    return READ_OK;
}

/* An incomplete chunk fails to compile with a message ending in <eof>. */
static int incomplete(lua_State *L, int status)
{
    if (status != LUA_ERRSYNTAX)
        return 0;
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    size_t mark = sizeof EOFMARK - 1;
    if (msg == NULL || len < mark || strcmp(msg + len - mark, EOFMARK) != 0)
        return 0;
    lua_pop(L, 1);
    return 1;
}

/* Compiles "return <line>;" so expressions print their values. */
static int addreturn(lua_State *L)
{
    const char *line = lua_tostring(L, -1);
    const char *retline = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
    if (status == LUA_OK) {
        lua_remove(L, -2);
        if (use_readline)
            history_remember(line);
    } else {
        lua_pop(L, 2);
    }
    return status;
}

/* Reads continuation lines until the chunk compiles or fails for another
 * reason than its end. */
static int multiline(lua_State *L)
{
    for (;;) {
        size_t len;
        const char *chunk = lua_tolstring(L, 1, &len);
        int status = luaL_loadbuffer(L, chunk, len, "=stdin");
        if (!incomplete(L, status)) {
            if (use_readline)
                history_remember(chunk);
            return status;
        }
        int r = pushline(L, 0);
        if (r == READ_INTERRUPT)
            return r;
        if (r == READ_EOF) {
            if (use_readline)
                history_remember(chunk);
            /* Compile again for the message incomplete() dropped. */
            return luaL_loadbuffer(L, chunk, len, "=stdin");
        }
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

/* Leaves the compiled statement on the stack; READ_EOF at end of input,
 * READ_INTERRUPT when Ctrl-C discarded what was typed. */
static int loadline(lua_State *L)
{
    lua_settop(L, 0);
    int status = pushline(L, 1);
    if (status != READ_OK)
        return status;
    status = addreturn(L);
    if (status != LUA_OK)
        status = multiline(L);
    if (status == READ_INTERRUPT) {
        lua_settop(L, 0);
        return status;
    }
    lua_remove(L, 1);
    return status;
}

/* Protected: writes the values on the stack as mlpz.pretty.repl formats
 * them; falls back to print when mlpz.pretty cannot be loaded. */
static int show_results(lua_State *L)
{
    int n = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "mlpz.pretty");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)
        && lua_getfield(L, -1, "repl") == LUA_TFUNCTION) {
        lua_remove(L, -2);
        lua_insert(L, 1);
        lua_call(L, n, 1);
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        if (s != NULL) {
            fwrite(s, 1, len, stdout);
            fputc('\n', stdout);
        }
        fflush(stdout);
        return 0;
    }
    lua_settop(L, n);
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    lua_call(L, n, 0);
    return 0;
}

static void print_results(lua_State *L)
{
    int n = lua_gettop(L);
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_pushcfunction(L, show_results);
    lua_insert(L, 1);
    mlpz_state_report(L, mlpz_state_call(L, n, 0), NULL);
}

/* Runs at exit too, so os.exit() in the REPL keeps the history. */
static void at_exit(void)
{
    history_save();
    free_candidates();
}

void mlpz_repl(lua_State *L, int show_version)
{
    use_readline = isatty(STDIN_FILENO);
    mlpz_state_repl_globals(L);
    if (show_version)
        printf("mlpz-lua %s (%s)\n", MLPZ_VERSION, LUA_RELEASE);
    printf("Type help() for the API, Ctrl-D to exit.\n");
    fflush(stdout);

    static int registered;
    if (use_readline) {
        complete_state = L;
        rl_readline_name = "mlpz-lua";
        /* '.' and ':' are not breaks: "ds:his" is one word to complete. */
        rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(+-*/%^~#,[])}";
        rl_completer_word_break_characters = (char *)rl_basic_word_break_characters;
        rl_attempted_completion_function = complete;
        rl_completion_append_character = '\0';
        history_open();
        if (!registered)
            registered = atexit(at_exit) == 0;
    }

    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_prompt_sigint; /* no SA_RESTART: the read must end */
    sigemptyset(&act.sa_mask);
    int caught = sigaction(SIGINT, &act, &old) == 0;

    int status;
    while ((status = loadline(L)) != READ_EOF) {
        if (status == READ_INTERRUPT) {
            fputs("^C\n", stdout);
            fflush(stdout);
            continue;
        }
        if (status == LUA_OK)
            status = mlpz_state_call(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            print_results(L);
        else
            mlpz_state_report(L, status, NULL);
    }
    if (caught)
        sigaction(SIGINT, &old, NULL);
    lua_settop(L, 0);
    fputs("\n", stdout);
    fflush(stdout);
    if (use_readline)
        at_exit();
}
