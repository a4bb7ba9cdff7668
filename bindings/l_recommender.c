/* mlpz.recommender: the embedded local recommender (core/recommender) for
 * scripts, so every demo runs offline. A model keeps its dataset userdata
 * alive through its uservalue and trains on first use. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "bindings.h"
#include "l_dataset.h"
#include "recommender.h"

#define MODEL_MT "mlpz.recommender"

typedef struct {
    mlpz_recommender *rec;
    const mlpz_dataset *ds;
} model;

/* The model at arg 1. Its uservalue keeps the dataset alive, but a model
 * resurrected by some other finaliser may outlive it: the dataset's own
 * check then refuses a closed one. */
static model *check_model(lua_State *L)
{
    model *m = luaL_checkudata(L, 1, MODEL_MT);
    if (!m->rec)
        luaL_error(L, "recommender: model is closed");
    lua_getiuservalue(L, 1, 1);
    int ok = luaL_testudata(L, -1, MLPZ_DATASET_MT) != NULL
             && mlpz_check_dataset(L, lua_gettop(L)) == m->ds;
    lua_pop(L, 1);
    if (!ok)
        luaL_error(L, "recommender: its dataset is gone; build a new model");
    return m;
}

/* One line for info() and the module, built from the parameters so it
 * cannot drift from them. */
static void push_algorithm(lua_State *L)
{
    lua_pushfstring(L, "item-item cosine over co-occurring users (shrinkage %f), "
                       "recency weight halving every %f items",
                    (lua_Number)MLPZ_REC_SHRINK, (lua_Number)MLPZ_REC_HALF_LIFE);
}

static void train_or_raise(lua_State *L, model *m)
{
    if (mlpz_recommender_train(m->rec) != 0)
        luaL_error(L, "recommender: out of memory while training");
}

static size_t check_n(lua_State *L, int arg)
{
    lua_Integer n = luaL_checkinteger(L, arg);
    luaL_argcheck(L, n >= 1 && n <= MLPZ_REC_MAX_N, arg, "n must be 1..10000");
    return (size_t)n;
}

/* nil, "unknown <what> id 'X'" for a well-formed id the data lacks. */
static int unknown(lua_State *L, const char *what, const char *id)
{
    lua_pushnil(L);
    lua_pushfstring(L, "unknown %s id '%s'", what, id);
    return 2;
}

/* Pushes {id = ..., score = ...} (score absent when unscored). */
static void push_entry(lua_State *L, const char *id, const mlpz_rec_item *it)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, id);
    lua_setfield(L, -2, "id");
    if (it->scored) {
        lua_pushnumber(L, it->score);
        lua_setfield(L, -2, "score");
    }
}

static void push_items(lua_State *L, const model *m, const mlpz_rec_item *out, size_t count)
{
    lua_createtable(L, count > 0x7fffffff ? 0 : (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        push_entry(L, m->ds->items.str[out[i].item], &out[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static size_t cap_n(const model *m, size_t n)
{
    size_t items = m->ds->items.n;
    return n < items ? n : items;
}

/* recommender.new(ds) -> model */
static int l_new(lua_State *L)
{
    const mlpz_dataset *ds = mlpz_check_dataset(L, 1);
    model *m = lua_newuserdatauv(L, sizeof *m, 1);
    m->rec = NULL;
    m->ds = ds;
    luaL_setmetatable(L, MODEL_MT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    m->rec = mlpz_recommender_new(ds);
    if (!m->rec)
        return luaL_error(L, "recommender: out of memory");
    return 1;
}

/* model:recommend(user, n [, {exclude_seen = true}]) -> {{id=, score=}, ...}
 * | nil, err */
static int l_recommend(lua_State *L)
{
    model *m = check_model(L);
    char buf[MLPZ_ID_BUF];
    size_t len;
    const char *user = mlpz_check_id(L, 2, buf, &len);
    size_t n = check_n(L, 3);
    int exclude_seen = 1;
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        int t = lua_getfield(L, 4, "exclude_seen");
        luaL_argcheck(L, t == LUA_TNIL || t == LUA_TBOOLEAN, 4,
                      "exclude_seen must be a boolean");
        exclude_seen = t == LUA_TNIL || lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    int64_t u = mlpz_strtab_find(&m->ds->users, user, len);
    if (u < 0)
        return unknown(L, "user", user);
    train_or_raise(L, m);
    mlpz_rec_item *out = mlpz_scratch(L, cap_n(m, n), sizeof *out);
    size_t count;
    if (mlpz_recommender_recommend(m->rec, (uint32_t)u, n, exclude_seen, out, &count) != 0)
        return luaL_error(L, "recommender: out of memory");
    push_items(L, m, out, count);
    return 1;
}

/* model:similar(item, n) -> {{id=, score=}, ...} | nil, err */
static int l_similar(lua_State *L)
{
    model *m = check_model(L);
    char buf[MLPZ_ID_BUF];
    size_t len;
    const char *item = mlpz_check_id(L, 2, buf, &len);
    size_t n = check_n(L, 3);
    int64_t j = mlpz_strtab_find(&m->ds->items, item, len);
    if (j < 0)
        return unknown(L, "item", item);
    train_or_raise(L, m);
    mlpz_rec_item *out = mlpz_scratch(L, cap_n(m, n), sizeof *out);
    size_t count;
    if (mlpz_recommender_similar(m->rec, (uint32_t)j, n, out, &count) != 0)
        return luaL_error(L, "recommender: out of memory");
    push_items(L, m, out, count);
    return 1;
}

/* model:rank(user, {item, ...}) -> {{id=, score=}, ...} | nil, err
 * Ids unknown to the model come last without a score; repeats count once. */
static int l_rank(lua_State *L)
{
    model *m = check_model(L);
    char buf[MLPZ_ID_BUF];
    size_t len;
    const char *user = mlpz_check_id(L, 2, buf, &len);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Unsigned total = lua_rawlen(L, 3);
    int64_t u = mlpz_strtab_find(&m->ds->users, user, len);
    if (u < 0)
        return unknown(L, "user", user);
    train_or_raise(L, m);
    int64_t *idx = mlpz_scratch(L, (size_t)total, sizeof *idx);
    lua_newtable(L); /* seen: id -> true */
    int seen_at = lua_gettop(L);
    lua_createtable(L, total > 0x7fffffff ? 0 : (int)total, 0); /* distinct ids */
    int ids_at = lua_gettop(L);
    size_t distinct = 0;
    for (lua_Unsigned i = 1; i <= total; i++) {
        lua_rawgeti(L, 3, (lua_Integer)i);
        const char *id = mlpz_to_id(L, -1, buf, &len);
        if (!id)
            return luaL_argerror(L, 3, lua_pushfstring(L, "item %I is not a string or "
                                                       "integer id", (lua_Integer)i));
        lua_pushlstring(L, id, len);
        lua_remove(L, -2);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, seen_at) != LUA_TNIL) {
            lua_pop(L, 2);
            continue;
        }
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_rawset(L, seen_at);
        id = lua_tolstring(L, -1, &len);
        idx[distinct] = mlpz_strtab_find(&m->ds->items, id, len);
        lua_rawseti(L, ids_at, (lua_Integer)++distinct);
    }
    mlpz_rec_item *out = mlpz_scratch(L, distinct, sizeof *out);
    size_t count;
    if (mlpz_recommender_rank(m->rec, (uint32_t)u, idx, distinct, out, &count) != 0)
        return luaL_error(L, "recommender: out of memory");
    lua_createtable(L, count > 0x7fffffff ? 0 : (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        lua_rawgeti(L, ids_at, (lua_Integer)out[i].pos + 1);
        push_entry(L, lua_tostring(L, -1), &out[i]);
        lua_remove(L, -2);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* model:train() -> seconds training took (trains once; later calls return
 * the same figure) */
static int l_train(lua_State *L)
{
    model *m = check_model(L);
    train_or_raise(L, m);
    lua_pushnumber(L, mlpz_recommender_train_seconds(m->rec));
    return 1;
}

/* model:info() -> {trained=, train_seconds=, users=, items=, interactions=,
 * pairs=, algorithm=} */
static int l_info(lua_State *L)
{
    model *m = check_model(L);
    lua_createtable(L, 0, 7);
    lua_pushboolean(L, mlpz_recommender_trained(m->rec));
    lua_setfield(L, -2, "trained");
    lua_pushnumber(L, mlpz_recommender_train_seconds(m->rec));
    lua_setfield(L, -2, "train_seconds");
    lua_pushinteger(L, (lua_Integer)m->ds->users.n);
    lua_setfield(L, -2, "users");
    lua_pushinteger(L, (lua_Integer)m->ds->items.n);
    lua_setfield(L, -2, "items");
    lua_pushinteger(L, (lua_Integer)m->ds->n_interactions);
    lua_setfield(L, -2, "interactions");
    lua_pushinteger(L, (lua_Integer)mlpz_recommender_pairs(m->rec));
    lua_setfield(L, -2, "pairs");
    push_algorithm(L);
    lua_setfield(L, -2, "algorithm");
    return 1;
}

static int l_gc(lua_State *L)
{
    model *m = luaL_checkudata(L, 1, MODEL_MT);
    mlpz_recommender_free(m->rec);
    m->rec = NULL;
    return 0;
}

static int l_tostring(lua_State *L)
{
    model *m = luaL_checkudata(L, 1, MODEL_MT);
    lua_pushfstring(L, "mlpz.recommender (%I users, %I items%s)",
                    (lua_Integer)m->ds->users.n, (lua_Integer)m->ds->items.n,
                    m->rec && mlpz_recommender_trained(m->rec) ? ", trained" : "");
    return 1;
}

static const luaL_Reg model_methods[] = {
    {"recommend", l_recommend},
    {"similar", l_similar},
    {"rank", l_rank},
    {"train", l_train},
    {"info", l_info},
    {NULL, NULL},
};

static const luaL_Reg model_meta[] = {
    {"__gc", l_gc},
    {"__tostring", l_tostring},
    {"__index", NULL},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"new", l_new},
    {NULL, NULL},
};

int luaopen_mlpz_recommender(lua_State *L)
{
    luaL_newmetatable(L, MODEL_MT);
    luaL_setfuncs(L, model_meta, 0);
    luaL_newlib(L, model_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    push_algorithm(L);
    lua_setfield(L, -2, "algorithm");
    return 1;
}
