#include "strtab.h"

#include <stdlib.h>
#include <string.h>

static uint32_t fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

void mlpz_strtab_init(mlpz_strtab *t)
{
    memset(t, 0, sizeof *t);
}

void mlpz_strtab_free(mlpz_strtab *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        free(t->str[i]);
    free(t->str);
    free(t->slots);
    mlpz_strtab_init(t);
}

/* Whether stored string c equals s (len bytes). A NUL inside s never
 * matches, so c is never read past its terminator. */
static int same(const char *c, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (c[i] != s[i] || c[i] == '\0')
            return 0;
    return c[len] == '\0';
}

static uint32_t *probe(const mlpz_strtab *t, const char *s, size_t len)
{
    uint32_t mask = t->nslots - 1;
    for (uint32_t i = fnv1a(s, len) & mask;; i = (i + 1) & mask) {
        uint32_t v = t->slots[i];
        if (v == 0)
            return &t->slots[i];
        const char *c = t->str[v - 1];
        if (same(c, s, len))
            return &t->slots[i];
    }
}

static int grow_slots(mlpz_strtab *t)
{
    uint32_t n = t->nslots ? t->nslots * 2 : 64;
    uint32_t *old = t->slots, oldn = t->nslots;
    t->slots = calloc(n, sizeof *t->slots);
    if (!t->slots) {
        t->slots = old;
        return -1;
    }
    t->nslots = n;
    for (uint32_t i = 0; i < oldn; i++) {
        if (old[i]) {
            const char *s = t->str[old[i] - 1];
            *probe(t, s, strlen(s)) = old[i];
        }
    }
    free(old);
    return 0;
}

int64_t mlpz_strtab_find(const mlpz_strtab *t, const char *s, size_t len)
{
    if (t->nslots == 0)
        return -1;
    uint32_t v = *probe(t, s, len);
    return v ? (int64_t)v - 1 : -1;
}

int64_t mlpz_strtab_intern(mlpz_strtab *t, const char *s, size_t len)
{
    if ((uint64_t)(t->n + 1) * 2 > t->nslots && grow_slots(t) != 0)
        return -1;
    uint32_t *slot = probe(t, s, len);
    if (*slot)
        return (int64_t)*slot - 1;
    if (t->n == UINT32_MAX - 1)
        return -1;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        char **str = realloc(t->str, (size_t)cap * sizeof *str);
        if (!str)
            return -1;
        t->str = str;
        t->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    t->str[t->n] = copy;
    *slot = ++t->n;
    return (int64_t)t->n - 1;
}
