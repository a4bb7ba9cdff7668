/* The pure-Lua modules of scripts/lib/mlpz, compiled into the binary. */
#ifndef MLPZ_EMBEDDED_H
#define MLPZ_EMBEDDED_H

#include <stddef.h>

typedef struct {
    const char *name;  /* module name, e.g. "mlpz.table" */
    const char *chunk; /* chunk name for error messages: "@scripts/lib/..." */
    const char *source;
    size_t len;
} mlpz_embedded_module;

/* Terminated by an entry whose name is NULL. */
extern const mlpz_embedded_module mlpz_embedded_modules[];

#endif
