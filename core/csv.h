/* A strict RFC 4180 reader for the dataset's CSV files.
 *
 * The whole file is read into memory (a private copy rather than a mapping,
 * because records are decoded in place), so a field is a NUL-terminated
 * slice of the reader's buffer that stays valid until mlpz_csv_close.
 * Quoted fields may hold commas, doubled quotes and line breaks; lines end
 * in LF or CRLF; a UTF-8 BOM at the start is skipped; blank lines are
 * skipped; a NUL byte anywhere refuses the file. The first record is the
 * header, and every record must have as many fields as the header.
 *
 * Every error is one line "path:line: what is wrong", where line is the
 * physical line on which the offending record starts. */
#ifndef MLPZ_CSV_H
#define MLPZ_CSV_H

#include <stddef.h>

/* A hostile file cannot make the reader allocate per-field state without
 * bound: headers are limited to this many columns. */
#define MLPZ_CSV_MAX_COLUMNS 1024

typedef struct {
    const char *s; /* NUL-terminated, inside the reader's buffer */
    size_t len;
} mlpz_csv_field;

typedef struct {
    char *path;                 /* for messages, owned */
    char *buf;                  /* the file plus a terminating NUL, owned */
    size_t len, pos;
    size_t next_line;           /* physical line where the next record starts */
    size_t line;                /* physical line of the current record */
    mlpz_csv_field *header;     /* ncols header fields, owned array */
    size_t ncols;
    size_t header_line;         /* physical line of the header */
    mlpz_csv_field *fields;     /* current record, ncols entries, owned array */
    size_t nfields;
    char *err;
    size_t errlen;
} mlpz_csv;

/* Reads the file at path and its header. Returns 0, or -1 with a message
 * in err (which the reader keeps using for later errors). The reader must
 * be closed either way. */
int mlpz_csv_open(mlpz_csv *c, const char *path, char *err, size_t errlen);

/* The same over a copy of len bytes of data; name stands for the path in
 * messages. */
int mlpz_csv_open_mem(mlpz_csv *c, const char *name, const char *data, size_t len,
                      char *err, size_t errlen);

/* Decodes the next record into c->fields. Returns 1 for a record, 0 at the
 * end of the file (and on every later call), -1 on malformed input (message
 * in err), after which the reader can only be closed. */
int mlpz_csv_next(mlpz_csv *c);

void mlpz_csv_close(mlpz_csv *c);

/* Index of the header column called name (compared ASCII case-insensitively
 * when nocase), or -1. */
int mlpz_csv_column(const mlpz_csv *c, const char *name, int nocase);

/* Finds each of the n names in the header and stores their indices in idx.
 * Returns 0, or -1 with "path:LINE: missing column 'X' (found: a, b); ..."
 * naming the first missing column, the columns found and the expected
 * header. */
int mlpz_csv_require(mlpz_csv *c, const char *const *names, size_t n, int nocase,
                     int *idx);

/* Writes "path:line: <formatted message>" for the current record into err
 * and returns -1, so callers can `return mlpz_csv_fail(...)`. */
int mlpz_csv_fail(mlpz_csv *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
