/* mlpz.dataset: the indexed MovieLens / Personalize dataset as a Lua
 * userdata. Every method costs time proportional to its answer: the
 * indexing happens once, in core/dataset.c. */
#include "l_dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "bindings.h"

#define FIX "run `make data` or pass --data DIR"
#define DEFAULT_POPULAR 10
#define DEFAULT_SEARCH 20

typedef struct {
    mlpz_dataset *ds;
} dataset_ud;

mlpz_dataset *mlpz_check_dataset(lua_State *L, int arg)
{
    dataset_ud *u = luaL_checkudata(L, arg, MLPZ_DATASET_MT);
    if (!u->ds)
        luaL_argerror(L, arg, "dataset is closed");
    return u->ds;
}

const char *mlpz_to_id(lua_State *L, int idx, char buf[MLPZ_ID_BUF], size_t *len)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        return lua_tolstring(L, idx, len);
    if (lua_type(L, idx) == LUA_TNUMBER) {
        int isint;
        lua_Integer i = lua_tointegerx(L, idx, &isint);
        if (isint) {
            int n = snprintf(buf, MLPZ_ID_BUF, LUA_INTEGER_FMT, i);
            *len = n > 0 ? (size_t)n : 0;
            return buf;
        }
    }
    return NULL;
}

const char *mlpz_check_id(lua_State *L, int arg, char buf[MLPZ_ID_BUF], size_t *len)
{
    const char *id = mlpz_to_id(L, arg, buf, len);
    if (!id)
        luaL_argerror(L, arg, lua_pushfstring(L, "id expected (string or integer), got %s",
                                              luaL_typename(L, arg)));
    return id;
}

/* An optional count at arg: def when absent, an error when negative. */
static size_t opt_count(lua_State *L, int arg, lua_Integer def)
{
    lua_Integer n = luaL_optinteger(L, arg, def);
    luaL_argcheck(L, n >= 0, arg, "count must be >= 0");
    return (size_t)n;
}

void *mlpz_scratch(lua_State *L, size_t n, size_t size)
{
    if (n > (size_t)-1 / size)
        luaL_error(L, "request too large");
    return lua_newuserdatauv(L, n ? n * size : 1, 0);
}

static void push_id(lua_State *L, const mlpz_strtab *t, uint32_t idx)
{
    lua_pushstring(L, t->str[idx]);
}

static void push_date(lua_State *L, int64_t ts)
{
    char buf[48];
    mlpz_format_date(ts, buf, sizeof buf);
    lua_pushstring(L, buf);
}

static void push_movie(lua_State *L, const mlpz_dataset *ds, uint32_t idx)
{
    const mlpz_movie *m = &ds->movies[idx];
    lua_createtable(L, 0, 4);
    push_id(L, &ds->items, idx);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, m->title);
    lua_setfield(L, -2, "title");
    if (m->year) {
        lua_pushinteger(L, m->year);
        lua_setfield(L, -2, "year");
    }
    lua_createtable(L, (int)m->genre_n, 0);
    for (uint32_t g = 0; g < m->genre_n; g++) {
        push_id(L, &ds->genres, ds->genre_list[m->genre_off + g]);
        lua_rawseti(L, -2, (lua_Integer)g + 1);
    }
    lua_setfield(L, -2, "genres");
}

static int64_t find_user(const mlpz_dataset *ds, const char *id, size_t len)
{
    return mlpz_strtab_find(&ds->users, id, len);
}

static int64_t find_item(const mlpz_dataset *ds, const char *id, size_t len)
{
    return mlpz_strtab_find(&ds->items, id, len);
}

static int unknown_user(lua_State *L, const mlpz_dataset *ds, const char *id, size_t len)
{
    lua_pushnil(L);
    lua_pushfstring(L, "unknown user id '%s': not among the %d users of %s; list them "
                       "with ds:user_ids() or pick some with ds:random_users(5)",
                    len > 60 ? "(long id)" : id, (int)ds->users.n, ds->interactions_path);
    return 2;
}

static int has_movies(const char *dir)
{
    size_t n = strlen(dir);
    char *p = malloc(n + sizeof "/movies.csv");
    if (!p)
        return 0;
    memcpy(p, dir, n);
    memcpy(p + n, "/movies.csv", sizeof "/movies.csv");
    struct stat st;
    int ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return ok;
}

/* dataset.open([opts]) -> ds | nil, err */
static int l_open(lua_State *L)
{
    const char *dir = NULL;
    int seeded = 0;
    lua_Integer seed = 0;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        if (lua_getfield(L, 1, "dir") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TSTRING)
                return luaL_argerror(L, 1, "opts.dir must be a string");
            dir = lua_tostring(L, -1);
        }
        if (lua_getfield(L, 1, "seed") != LUA_TNIL) {
            int isint;
            seed = lua_tointegerx(L, -1, &isint);
            if (!isint)
                return luaL_argerror(L, 1, "opts.seed must be an integer");
            seeded = 1;
        }
    }
    if (!dir) {
        const char *env = getenv("MLPZ_DATA");
        if (env && *env && has_movies(env))
            dir = env;
        else if (has_movies("./data"))
            dir = "./data";
        else if (has_movies("."))
            dir = ".";
        if (!dir) {
            lua_pushnil(L);
            lua_pushfstring(L, "no MovieLens data found (tried %s%s%s./data and .): need "
                               "movies.csv and ratings.csv or interactions.csv; " FIX,
                            env && *env ? "$MLPZ_DATA=" : "", env && *env ? env : "",
                            env && *env ? ", " : "");
            return 2;
        }
    }
    dataset_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->ds = NULL;
    luaL_setmetatable(L, MLPZ_DATASET_MT);
    char err[512];
    u->ds = mlpz_dataset_load(dir, err, sizeof err);
    if (!u->ds) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    if (seeded)
        mlpz_dataset_seed(u->ds, (uint64_t)seed);
    return 1;
}

/* dataset.format_date(ts) -> "YYYY-MM-DD HH:MM:SS" (UTC) */
static int l_format_date(lua_State *L)
{
    push_date(L, (int64_t)luaL_checkinteger(L, 1));
    return 1;
}

static int l_gc(lua_State *L)
{
    dataset_ud *u = luaL_checkudata(L, 1, MLPZ_DATASET_MT);
    mlpz_dataset_free(u->ds);
    u->ds = NULL;
    return 0;
}

static int l_tostring(lua_State *L)
{
    dataset_ud *u = luaL_checkudata(L, 1, MLPZ_DATASET_MT);
    if (!u->ds) {
        lua_pushliteral(L, "mlpz.dataset (closed)");
        return 1;
    }
    const mlpz_dataset *ds = u->ds;
    char buf[128];
    snprintf(buf, sizeof buf, "(%u users, %zu movies, %zu interactions)", ds->users.n,
             ds->n_movies, ds->n_interactions);
    lua_pushfstring(L, "mlpz.dataset: %s %s", ds->dir, buf);
    return 1;
}

static int l_stats(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    lua_createtable(L, 0, 10);
    lua_pushinteger(L, ds->users.n);
    lua_setfield(L, -2, "users");
    lua_pushinteger(L, ds->n_popular);
    lua_setfield(L, -2, "items");
    lua_pushinteger(L, (lua_Integer)ds->n_movies);
    lua_setfield(L, -2, "movies");
    lua_pushinteger(L, (lua_Integer)ds->n_interactions);
    lua_setfield(L, -2, "interactions");
    lua_createtable(L, 0, (int)ds->events.n);
    for (uint32_t e = 0; e < ds->events.n; e++) {
        lua_pushinteger(L, (lua_Integer)ds->event_count[e]);
        lua_setfield(L, -2, ds->events.str[e]);
    }
    lua_setfield(L, -2, "events");
    lua_pushstring(L, ds->dir);
    lua_setfield(L, -2, "dir");
    lua_pushstring(L, ds->interactions_path);
    lua_setfield(L, -2, "source");
    lua_pushboolean(L, ds->derived);
    lua_setfield(L, -2, "derived");
    push_date(L, ds->ts_first);
    lua_setfield(L, -2, "first");
    push_date(L, ds->ts_last);
    lua_setfield(L, -2, "last");
    return 1;
}

static int l_movie(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    char buf[MLPZ_ID_BUF];
    size_t len;
    const char *id = mlpz_check_id(L, 2, buf, &len);
    int64_t i = find_item(ds, id, len);
    if (i < 0 || !ds->movies[i].known)
        lua_pushnil(L);
    else
        push_movie(L, ds, (uint32_t)i);
    return 1;
}

static int l_has_user(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    char buf[MLPZ_ID_BUF];
    size_t len;
    const char *id = mlpz_check_id(L, 2, buf, &len);
    lua_pushboolean(L, find_user(ds, id, len) >= 0);
    return 1;
}

static int l_has_item(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    char buf[MLPZ_ID_BUF];
    size_t len;
    const char *id = mlpz_check_id(L, 2, buf, &len);
    lua_pushboolean(L, find_item(ds, id, len) >= 0);
    return 1;
}

/* ds:history(user, [{limit = n, unique = bool}]) -> rows newest first */
static int l_history(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    char buf[MLPZ_ID_BUF];
    size_t len, limit = SIZE_MAX;
    int unique = 0;
    const char *id = mlpz_check_id(L, 2, buf, &len);
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        if (lua_getfield(L, 3, "limit") != LUA_TNIL) {
            int isint;
            lua_Integer n = lua_tointegerx(L, -1, &isint);
            if (!isint || n < 0)
                return luaL_argerror(L, 3, "opts.limit must be an integer >= 0");
            limit = (size_t)n;
        }
        lua_getfield(L, 3, "unique");
        unique = lua_toboolean(L, -1);
        lua_pop(L, 2);
    }
    int64_t u = find_user(ds, id, len);
    if (u < 0)
        return unknown_user(L, ds, id, len);
    uint32_t a = unique ? ds->uniq_off[u] : ds->user_off[u];
    uint32_t b = unique ? ds->uniq_off[u + 1] : ds->user_off[u + 1];
    size_t n = b - a < limit ? b - a : limit;
    lua_createtable(L, (int)n, 0);
    for (size_t k = 0; k < n; k++) {
        const mlpz_event *e = &ds->by_user[unique ? ds->user_uniq[a + k] : a + k];
        lua_createtable(L, 0, 4);
        push_id(L, &ds->items, e->item);
        lua_setfield(L, -2, "item");
        push_id(L, &ds->events, e->event);
        lua_setfield(L, -2, "event");
        lua_pushinteger(L, (lua_Integer)e->ts);
        lua_setfield(L, -2, "ts");
        push_date(L, e->ts);
        lua_setfield(L, -2, "date");
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

/* ds:top_genres(user_or_list, [n]) -> {{genre=, count=}, ...} */
static int l_top_genres(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    size_t limit = opt_count(L, 3, (lua_Integer)ds->genres.n);
    uint32_t *items;
    size_t n = 0;
    if (lua_type(L, 2) == LUA_TTABLE) {
        size_t len = (size_t)luaL_len(L, 2);
        items = mlpz_scratch(L, len, sizeof *items);
        for (size_t k = 0; k < len; k++) {
            char buf[MLPZ_ID_BUF];
            size_t idlen;
            lua_geti(L, 2, (lua_Integer)k + 1);
            const char *id = mlpz_to_id(L, -1, buf, &idlen);
            if (!id)
                return luaL_argerror(L, 2, lua_pushfstring(L, "entry %d: id expected "
                                                              "(string or integer), got %s",
                                                           (int)k + 1, luaL_typename(L, -1)));
            int64_t i = find_item(ds, id, idlen);
            if (i >= 0)
                items[n++] = (uint32_t)i;
            lua_pop(L, 1);
        }
    } else {
        char buf[MLPZ_ID_BUF];
        size_t len;
        const char *id = mlpz_check_id(L, 2, buf, &len);
        int64_t u = find_user(ds, id, len);
        if (u < 0)
            return unknown_user(L, ds, id, len);
        uint32_t a = ds->uniq_off[u], b = ds->uniq_off[u + 1];
        items = mlpz_scratch(L, b - a, sizeof *items);
        for (uint32_t k = a; k < b; k++)
            items[n++] = ds->by_user[ds->user_uniq[k]].item;
    }
    size_t cap = limit < ds->genres.n ? limit : ds->genres.n;
    mlpz_genre_count *counts = mlpz_scratch(L, cap, sizeof *counts);
    int64_t got = mlpz_dataset_top_genres(ds, items, n, counts, cap);
    if (got < 0)
        return luaL_error(L, "not enough memory");
    lua_createtable(L, (int)got, 0);
    for (int64_t k = 0; k < got; k++) {
        lua_createtable(L, 0, 2);
        push_id(L, &ds->genres, counts[k].genre);
        lua_setfield(L, -2, "genre");
        lua_pushinteger(L, counts[k].count);
        lua_setfield(L, -2, "count");
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

/* Pushes a list of n random distinct ids among the first population
 * entries of t. */
static int random_ids(lua_State *L, const mlpz_strtab *t, uint32_t population)
{
    mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    lua_Integer want = luaL_checkinteger(L, 2);
    luaL_argcheck(L, want >= 0, 2, "count must be >= 0");
    size_t n = (uint64_t)want < (uint64_t)population ? (size_t)want : population;
    uint32_t *picks = mlpz_scratch(L, n, sizeof *picks);
    int64_t got = mlpz_dataset_sample(ds, population, n, picks);
    if (got < 0)
        return luaL_error(L, "not enough memory");
    lua_createtable(L, (int)got, 0);
    for (int64_t k = 0; k < got; k++) {
        push_id(L, t, picks[k]);
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

static int l_random_users(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    return random_ids(L, &ds->users, ds->users.n);
}

/* Movies of movies.csv are items 0..n_movies-1. */
static int l_random_movies(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    return random_ids(L, &ds->items, (uint32_t)ds->n_movies);
}

static int l_seed(lua_State *L)
{
    mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    mlpz_dataset_seed(ds, (uint64_t)luaL_checkinteger(L, 2));
    return 0;
}

static int l_popular(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    size_t n = opt_count(L, 2, DEFAULT_POPULAR);
    if (n > ds->n_popular)
        n = ds->n_popular;
    lua_createtable(L, (int)n, 0);
    for (size_t k = 0; k < n; k++) {
        uint32_t i = ds->popular[k];
        lua_createtable(L, 0, 2);
        push_id(L, &ds->items, i);
        lua_setfield(L, -2, "id");
        lua_pushinteger(L, ds->item_off[i + 1] - ds->item_off[i]);
        lua_setfield(L, -2, "count");
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

static int l_search(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    size_t max = opt_count(L, 3, DEFAULT_SEARCH);
    if (max > ds->n_movies)
        max = ds->n_movies;
    uint32_t *hits = mlpz_scratch(L, max, sizeof *hits);
    int64_t got = mlpz_dataset_search(ds, text, len, hits, max);
    if (got < 0)
        return luaL_error(L, "not enough memory");
    lua_createtable(L, (int)got, 0);
    for (int64_t k = 0; k < got; k++) {
        push_movie(L, ds, hits[k]);
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

static int push_ids(lua_State *L, const mlpz_strtab *t, uint32_t n)
{
    lua_createtable(L, (int)n, 0);
    for (uint32_t k = 0; k < n; k++) {
        push_id(L, t, k);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

static int l_user_ids(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    return push_ids(L, &ds->users, ds->users.n);
}

static int l_movie_ids(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    return push_ids(L, &ds->items, (uint32_t)ds->n_movies);
}

static const luaL_Reg methods[] = {
    {"stats", l_stats},
    {"movie", l_movie},
    {"has_user", l_has_user},
    {"has_item", l_has_item},
    {"history", l_history},
    {"top_genres", l_top_genres},
    {"random_users", l_random_users},
    {"random_movies", l_random_movies},
    {"seed", l_seed},
    {"popular", l_popular},
    {"search", l_search},
    {"user_ids", l_user_ids},
    {"movie_ids", l_movie_ids},
    {NULL, NULL},
};

static const luaL_Reg metamethods[] = {
    {"__gc", l_gc},
    {"__tostring", l_tostring},
    {NULL, NULL},
};

static const luaL_Reg functions[] = {
    {"open", l_open},
    {"format_date", l_format_date},
    {NULL, NULL},
};

int luaopen_mlpz_dataset(lua_State *L)
{
    if (luaL_newmetatable(L, MLPZ_DATASET_MT)) {
        luaL_setfuncs(L, metamethods, 0);
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, functions);
    return 1;
}
