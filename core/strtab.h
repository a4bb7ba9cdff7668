/* Interned strings: each distinct string gets a dense index 0..n-1, in order
 * of first appearance. Open addressing keyed by FNV-1a. */
#ifndef MLPZ_STRTAB_H
#define MLPZ_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char **str;      /* n owned strings, by index */
    uint32_t n, cap;
    uint32_t *slots; /* nslots entries: index + 1, 0 when empty */
    uint32_t nslots; /* power of two */
} mlpz_strtab;

void mlpz_strtab_init(mlpz_strtab *t);
void mlpz_strtab_free(mlpz_strtab *t);
/* Index of s (len bytes), adding it when absent; -1 on allocation failure. */
int64_t mlpz_strtab_intern(mlpz_strtab *t, const char *s, size_t len);
/* Index of s, or -1 when absent. */
int64_t mlpz_strtab_find(const mlpz_strtab *t, const char *s, size_t len);

#endif
