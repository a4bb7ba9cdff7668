/* A growable string for building text that may hold a secret (a session
 * token, a canonical request). Out of memory is a sticky flag checked once,
 * by mlpz_sb_take, so building code needs no check per append. Growth copies
 * by hand so an old block is cleansed rather than left behind by realloc. */
#ifndef MLPZ_SBUF_H
#define MLPZ_SBUF_H

#include <stddef.h>

typedef struct {
    char *p;     /* NUL-terminated once anything was reserved */
    size_t len, cap;
    int oom;     /* set by a failed growth; later appends do nothing */
} mlpz_sbuf;

/* Cleanses and frees; b is left empty and usable. */
void mlpz_sb_free(mlpz_sbuf *b);

void mlpz_sb_putn(mlpz_sbuf *b, const char *s, size_t n);
void mlpz_sb_puts(mlpz_sbuf *b, const char *s);
void mlpz_sb_putc(mlpz_sbuf *b, char c);

/* The finished string, "" when nothing was added; NULL (and b freed) when
 * out of memory. b is left empty. */
char *mlpz_sb_take(mlpz_sbuf *b);

/* A malloc'd copy of n bytes; NULL when out of memory. */
char *mlpz_sb_dup(const char *s, size_t n);

#endif
