/* aws.xml_decode(s): XML (S3's answers and errors) into Lua tables, with
 * expat. Each element becomes
 *   {name = "Contents", attrs = {...}, text = "...", [1] = child, [2] = ...}
 * with methods node:child(name), node:children([name]) and node:get(name).
 * DOCTYPEs are refused (no AWS answer has one, and entity tricks need one),
 * nesting is bounded, and expat's own amplification limits apply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>
#include <lauxlib.h>
#include <lua.h>

#include "l_aws.h"

#define NODE_MT "mlpz.aws.xml_node"
#define BOX_MT "mlpz.aws.xml_parser"
#define MAX_DEPTH 256
#define CHUNK (1 << 20)

typedef struct {
    char *s;
    size_t len, cap;
} textbuf;

/* Everything a parse allocates, in a userdata so a Lua error thrown from a
 * callback (out of memory) cannot leak it. */
typedef struct {
    lua_State *L;
    XML_Parser parser;
    int depth;
    int root_done;
    int oom;
    const char *stop_why;
    textbuf text[MAX_DEPTH + 1];
} box;

static void box_release(box *b)
{
    if (b->parser) {
        XML_ParserFree(b->parser);
        b->parser = NULL;
    }
    for (int i = 0; i <= MAX_DEPTH; i++) {
        free(b->text[i].s);
        b->text[i].s = NULL;
    }
}

static int box_gc(lua_State *L)
{
    box_release(luaL_checkudata(L, 1, BOX_MT));
    return 0;
}

static void stop(box *b, const char *why)
{
    if (!b->stop_why)
        b->stop_why = why;
    XML_StopParser(b->parser, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    box *b = ud;
    lua_State *L = b->L;
    if (b->root_done) {
        stop(b, "more than one root element");
        return;
    }
    if (b->depth >= MAX_DEPTH || !lua_checkstack(L, 8)) {
        stop(b, "elements nested too deeply");
        return;
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    lua_newtable(L);
    for (int i = 0; atts[i] && atts[i + 1]; i += 2) {
        lua_pushstring(L, atts[i + 1]);
        lua_setfield(L, -2, atts[i]);
    }
    lua_setfield(L, -2, "attrs");
    luaL_setmetatable(L, NODE_MT);
    b->depth++;
    b->text[b->depth].len = 0;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    box *b = ud;
    lua_State *L = b->L;
    (void)name;
    textbuf *t = &b->text[b->depth];
    /* Indentation between child elements is not content. */
    if (lua_rawlen(L, -1) > 0 && blank(t->s, t->len))
        lua_pushliteral(L, "");
    else
        lua_pushlstring(L, t->s ? t->s : "", t->len);
    lua_setfield(L, -2, "text");
    b->depth--;
    if (b->depth > 0)
        lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    else
        b->root_done = 1;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    box *b = ud;
    if (b->depth == 0 || len <= 0)
        return;
    textbuf *t = &b->text[b->depth];
    if (t->len + (size_t)len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->len + (size_t)len + 1)
            cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p) {
            b->oom = 1;
            stop(b, "out of memory");
            return;
        }
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, (size_t)len);
    t->len += (size_t)len;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal;
    stop(ud, "a DOCTYPE is not allowed");
}

int mlpz_aws_xml_push(lua_State *L, const char *s, size_t n, char *err, size_t errlen)
{
    luaL_checkstack(L, 8, "xml");
    int base = lua_gettop(L);
    box *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    luaL_setmetatable(L, BOX_MT);
    b->L = L;
    b->parser = XML_ParserCreate("UTF-8");
    if (!b->parser) {
        lua_settop(L, base);
        snprintf(err, errlen, "xml: out of memory");
        return -1;
    }
    XML_SetUserData(b->parser, b);
    XML_SetElementHandler(b->parser, on_start, on_end);
    XML_SetCharacterDataHandler(b->parser, on_text);
    XML_SetStartDoctypeDeclHandler(b->parser, on_doctype);
    XML_SetParamEntityParsing(b->parser, XML_PARAM_ENTITY_PARSING_NEVER);
    enum XML_Status st = XML_STATUS_OK;
    size_t off = 0;
    do {
        size_t k = n - off > CHUNK ? CHUNK : n - off;
        st = XML_Parse(b->parser, s + off, (int)k, off + k == n);
        off += k;
    } while (st == XML_STATUS_OK && off < n);
    if (st != XML_STATUS_OK || !b->root_done) {
        unsigned long line = (unsigned long)XML_GetCurrentLineNumber(b->parser);
        const char *why = b->stop_why ? b->stop_why
                          : st != XML_STATUS_OK ? XML_ErrorString(XML_GetErrorCode(b->parser))
                                                : "no root element";
        snprintf(err, errlen, "xml: line %lu: %s", line, why);
        box_release(b);
        lua_settop(L, base);
        return -1;
    }
    box_release(b);
    lua_remove(L, base + 1);
    return 0;
}

int mlpz_aws_xml_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    char err[256];
    if (mlpz_aws_xml_push(L, s, n, err, sizeof err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

/* ---- node methods ---- */

static int name_is(lua_State *L, int node, const char *name)
{
    lua_getfield(L, node, "name");
    int same = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), name) == 0;
    lua_pop(L, 1);
    return same;
}

/* node:child(name) -> the first child element called name, or nil. */
static int node_child(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *name = luaL_checkstring(L, 2);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 1, i) == LUA_TTABLE && name_is(L, -1, name))
            return 1;
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    return 1;
}

/* node:children([name]) -> a list of the child elements (called name). */
static int node_children(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *name = luaL_optstring(L, 2, NULL);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1), k = 0;
    lua_newtable(L);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, 1, i) == LUA_TTABLE && (!name || name_is(L, -1, name)))
            lua_rawseti(L, -2, ++k);
        else
            lua_pop(L, 1);
    }
    return 1;
}

/* node:get(name) -> the text of the first child called name, or nil. */
static int node_get(lua_State *L)
{
    node_child(L);
    if (lua_istable(L, -1))
        lua_getfield(L, -1, "text");
    return 1;
}

static const luaL_Reg node_methods[] = {
    {"child", node_child},
    {"children", node_children},
    {"get", node_get},
    {NULL, NULL},
};

void mlpz_aws_xml_register(lua_State *L)
{
    if (luaL_newmetatable(L, NODE_MT)) {
        luaL_newlib(L, node_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, BOX_MT)) {
        lua_pushcfunction(L, box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}
