#include "sbuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

void mlpz_sb_free(mlpz_sbuf *b)
{
    if (b->p) {
        mlpz_secret_cleanse(b->p, b->cap);
        free(b->p);
    }
    memset(b, 0, sizeof *b);
}

static int reserve(mlpz_sbuf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (extra < b->cap - b->len && b->p)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len - 1) {
        b->oom = 1;
        return -1;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap <= b->len + extra)
        cap *= 2;
    char *p = malloc(cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    if (b->p) {
        memcpy(p, b->p, b->len);
        mlpz_secret_cleanse(b->p, b->cap);
        free(b->p);
    }
    b->p = p;
    b->cap = cap;
    b->p[b->len] = '\0';
    return 0;
}

void mlpz_sb_putn(mlpz_sbuf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void mlpz_sb_puts(mlpz_sbuf *b, const char *s)
{
    mlpz_sb_putn(b, s, strlen(s));
}

void mlpz_sb_putc(mlpz_sbuf *b, char c)
{
    mlpz_sb_putn(b, &c, 1);
}

char *mlpz_sb_take(mlpz_sbuf *b)
{
    if (reserve(b, 0) != 0) {
        mlpz_sb_free(b);
        return NULL;
    }
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

char *mlpz_sb_dup(const char *s, size_t n)
{
    mlpz_sbuf b = {0};
    mlpz_sb_putn(&b, s, n);
    return mlpz_sb_take(&b);
}
