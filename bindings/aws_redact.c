#include "aws_redact.h"

#include <string.h>

#include <lauxlib.h>

#include "l_aws.h"

void mlpz_aws_secrets_add(mlpz_aws_secrets *k, const char *s)
{
    if (s && strlen(s) >= 4 && k->n < sizeof k->s / sizeof *k->s)
        k->s[k->n++] = s;
}

const char *mlpz_aws_push_redacted(lua_State *L, const char *s, size_t n,
                                   const mlpz_aws_secrets *k)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t i = 0;
    while (i < n) {
        size_t hit = 0;
        for (size_t j = 0; j < k->n && !hit; j++) {
            size_t m = strlen(k->s[j]);
            if (m <= n - i && memcmp(s + i, k->s[j], m) == 0)
                hit = m;
        }
        if (hit) {
            luaL_addstring(&b, "<redacted>");
            i += hit;
        } else {
            luaL_addchar(&b, s[i++]);
        }
    }
    luaL_pushresult(&b);
    return lua_tostring(L, -1);
}

void mlpz_aws_debug_block(lua_State *L, const char *title, const char *text,
                          const mlpz_aws_secrets *k)
{
    if (!mlpz_aws_debug_on() || !text)
        return;
    mlpz_aws_debugf("%s:\n%s", title, mlpz_aws_push_redacted(L, text, strlen(text), k));
    lua_pop(L, 1);
}
