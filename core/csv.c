#include "csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void set_err(mlpz_csv *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void set_err(mlpz_csv *c, const char *fmt, ...)
{
    if (!c->err || c->errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
}

int mlpz_csv_fail(mlpz_csv *c, const char *fmt, ...)
{
    if (!c->err || c->errlen == 0)
        return -1;
    int n = snprintf(c->err, c->errlen, "%s:%zu: ", c->path ? c->path : "?", c->line);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Reads until EOF rather than trusting st_size, so a file that shrinks or
 * grows while being read is still handled safely. */
static int slurp(mlpz_csv *c, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(c, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(c, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if ((unsigned long long)st.st_size >= SIZE_MAX / 2) {
        set_err(c, "%s: file too large", path);
        close(fd);
        return -1;
    }
    size_t cap = (size_t)st.st_size + 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf && len + 1 >= cap) {
            char *nb = cap < SIZE_MAX / 4 ? realloc(buf, cap * 2) : NULL;
            if (!nb)
                free(buf);
            buf = nb;
            cap *= 2;
        }
        if (!buf) {
            set_err(c, "%s: out of memory reading the file", path);
            close(fd);
            return -1;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            set_err(c, "%s: read error: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    c->buf = buf;
    c->len = len;
    return 0;
}

static size_t count_newlines(const char *s, size_t n)
{
    size_t k = 0;
    for (const char *p = s, *end = s + n; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        k++;
    return k;
}

static int grow_fields(mlpz_csv *c, size_t *cap)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap > MLPZ_CSV_MAX_COLUMNS)
        ncap = MLPZ_CSV_MAX_COLUMNS;
    mlpz_csv_field *f = realloc(c->fields, ncap * sizeof *f);
    if (!f)
        return -1;
    c->fields = f;
    *cap = ncap;
    return 0;
}

/* Decodes one record starting at c->pos, in place. The header grows the
 * field array; a data record has room for the header's columns only, and
 * fields past them are counted but not stored, so the message can say how
 * many there were. */
static int parse_record(mlpz_csv *c, int header)
{
    char *b = c->buf;
    size_t cap = header ? 0 : c->ncols;
    c->nfields = 0;
    for (;;) {
        size_t field = c->nfields + 1, out, flen;
        if (b[c->pos] == '"') {
            out = c->pos;
            size_t p = c->pos + 1;
            for (;;) {
                char *q = memchr(b + p, '"', c->len - p);
                if (!q)
                    return mlpz_csv_fail(c, "field %zu: unterminated quoted field; "
                                            "add the closing '\"'", field);
                size_t chunk = (size_t)(q - (b + p));
                c->next_line += count_newlines(b + p, chunk);
                memmove(b + out, b + p, chunk);
                out += chunk;
                p = (size_t)(q - b) + 1;
                if (b[p] != '"')
                    break;
                b[out++] = '"';
                p++;
            }
            flen = out - c->pos;
            out = c->pos;
            c->pos = p;
            char d = b[p];
            if (!(d == ',' || d == '\n' || (d == '\r' && b[p + 1] == '\n') || p == c->len))
                return mlpz_csv_fail(c, "field %zu: unexpected text after the closing "
                                        "quote; double any '\"' inside a quoted field",
                                     field);
        } else {
            size_t p = c->pos;
            while (p < c->len && b[p] != ',' && b[p] != '\n' && b[p] != '\r' && b[p] != '"')
                p++;
            if (b[p] == '"' && p < c->len)
                return mlpz_csv_fail(c, "field %zu: quote in the middle of an unquoted "
                                        "field; enclose the field in quotes and double "
                                        "the quote", field);
            if (b[p] == '\r' && b[p + 1] != '\n')
                return mlpz_csv_fail(c, "field %zu: carriage return not followed by a "
                                        "line feed; use LF or CRLF line endings", field);
            out = c->pos;
            flen = p - c->pos;
            c->pos = p;
        }

        char d = c->pos < c->len ? b[c->pos] : '\0';
        if (c->nfields == cap) {
            if (header && cap < MLPZ_CSV_MAX_COLUMNS) {
                if (grow_fields(c, &cap) != 0)
                    return mlpz_csv_fail(c, "out of memory");
            } else if (header) {
                return mlpz_csv_fail(c, "more than %d columns in the header",
                                     MLPZ_CSV_MAX_COLUMNS);
            }
        }
        if (c->nfields < cap) {
            c->fields[c->nfields].s = b + out;
            c->fields[c->nfields].len = flen;
        }
        /* Terminating in place never clobbers unread input: the field ends
         * at or before the delimiter, which was read into d above. */
        b[out + flen] = '\0';
        c->nfields++;

        if (d == ',') {
            c->pos++;
            continue;
        }
        if (d == '\r')
            c->pos++;
        if (c->pos < c->len) {
            c->pos++;
            c->next_line++;
        }
        return 0;
    }
}

static void skip_blank_lines(mlpz_csv *c)
{
    for (;;) {
        if (c->buf[c->pos] == '\n' && c->pos < c->len) {
            c->pos++;
        } else if (c->buf[c->pos] == '\r' && c->buf[c->pos + 1] == '\n') {
            c->pos += 2;
        } else {
            return;
        }
        c->next_line++;
    }
}

int mlpz_csv_next(mlpz_csv *c)
{
    skip_blank_lines(c);
    if (c->pos >= c->len)
        return 0;
    c->line = c->next_line;
    if (parse_record(c, 0) != 0)
        return -1;
    if (c->nfields != c->ncols)
        return mlpz_csv_fail(c, "expected %zu fields as in the header, found %zu; "
                                "enclose fields that contain commas in quotes",
                             c->ncols, c->nfields);
    return 1;
}

static int start(mlpz_csv *c)
{
    static const char bom[] = "\xEF\xBB\xBF";
    const char *nul = memchr(c->buf, '\0', c->len);
    if (nul) {
        c->line = 1 + count_newlines(c->buf, (size_t)(nul - c->buf));
        return mlpz_csv_fail(c, "NUL byte at offset %zu: this is not a text CSV file "
                                "(is it compressed or truncated?)",
                             (size_t)(nul - c->buf));
    }
    if (c->len >= 3 && memcmp(c->buf, bom, 3) == 0)
        c->pos = 3;
    skip_blank_lines(c);
    c->line = c->pos >= c->len ? 1 : c->next_line;
    if (c->pos >= c->len)
        return mlpz_csv_fail(c, "empty file: expected a header line naming the columns");
    if (parse_record(c, 1) != 0)
        return -1;
    c->header = c->fields;
    c->ncols = c->nfields;
    c->header_line = c->line;
    c->fields = malloc(c->ncols * sizeof *c->fields);
    if (!c->fields)
        return mlpz_csv_fail(c, "out of memory");
    c->nfields = 0;
    return 0;
}

static int init(mlpz_csv *c, const char *path, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->err = err;
    c->errlen = errlen;
    c->next_line = 1;
    c->path = strdup(path);
    if (!c->path) {
        set_err(c, "%s: out of memory", path);
        return -1;
    }
    return 0;
}

int mlpz_csv_open(mlpz_csv *c, const char *path, char *err, size_t errlen)
{
    if (init(c, path, err, errlen) != 0 || slurp(c, path) != 0)
        return -1;
    return start(c);
}

int mlpz_csv_open_mem(mlpz_csv *c, const char *name, const char *data, size_t len,
                      char *err, size_t errlen)
{
    if (init(c, name, err, errlen) != 0)
        return -1;
    c->buf = malloc(len + 1);
    if (!c->buf) {
        set_err(c, "%s: out of memory", name);
        return -1;
    }
    if (len)
        memcpy(c->buf, data, len);
    c->buf[len] = '\0';
    c->len = len;
    return start(c);
}

void mlpz_csv_close(mlpz_csv *c)
{
    free(c->path);
    free(c->buf);
    free(c->header);
    free(c->fields);
    memset(c, 0, sizeof *c);
}

static int eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x += 'a' - 'A';
        if (y >= 'A' && y <= 'Z')
            y += 'a' - 'A';
        if (x != y)
            return 0;
    }
    return *a == *b;
}

int mlpz_csv_column(const mlpz_csv *c, const char *name, int nocase)
{
    for (size_t i = 0; i < c->ncols; i++) {
        const char *h = c->header[i].s;
        if (nocase ? eq_nocase(h, name) : strcmp(h, name) == 0)
            return (int)i;
    }
    return -1;
}

/* Appends s to buf (size cap, used len), truncating with "..." when full. */
static void append(char *buf, size_t cap, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > cap) {
        if (cap >= 4 && *len + 4 <= cap) {
            memcpy(buf + *len, "...", 3);
            *len += 3;
            buf[*len] = '\0';
        }
        *len = cap;
        return;
    }
    memcpy(buf + *len, s, n + 1);
    *len += n;
}

int mlpz_csv_require(mlpz_csv *c, const char *const *names, size_t n, int nocase,
                     int *idx)
{
    for (size_t i = 0; i < n; i++) {
        idx[i] = mlpz_csv_column(c, names[i], nocase);
        if (idx[i] >= 0)
            continue;
        char found[256] = "", want[256] = "";
        size_t fl = 0, wl = 0;
        for (size_t k = 0; k < c->ncols && fl < sizeof found; k++) {
            if (k)
                append(found, sizeof found, &fl, ", ");
            append(found, sizeof found, &fl, c->header[k].s);
        }
        for (size_t k = 0; k < n; k++) {
            if (k)
                append(want, sizeof want, &wl, ",");
            append(want, sizeof want, &wl, names[k]);
        }
        c->line = c->header_line;
        return mlpz_csv_fail(c, "missing column '%s' (found: %s); the header must "
                                "name the columns %s%s",
                             names[i], found, want,
                             nocase ? " (in any order and case)" : " (in any order)");
    }
    return 0;
}
