#include "ini.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "failf.h"
#include "secret.h"

typedef struct {
    char *key;
    char *value;
} entry;

typedef struct {
    char *name;
    entry *v;
    size_t n, cap;
} section;

struct mlpz_ini {
    section *s;
    size_t n, cap;
};

void mlpz_ini_free(mlpz_ini *ini)
{
    if (!ini)
        return;
    for (size_t i = 0; i < ini->n; i++) {
        section *s = &ini->s[i];
        for (size_t j = 0; j < s->n; j++) {
            free(s->v[j].key);
            mlpz_secret_free(s->v[j].value);
        }
        free(s->v);
        free(s->name);
    }
    free(ini->s);
    free(ini);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims [*p, *p + *n) in place. */
static void trim(const char **p, size_t *n)
{
    while (*n && is_space(**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && is_space((*p)[*n - 1]))
        (*n)--;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* The index of the section called name, added when new; -1 out of memory. */
static long section_at(mlpz_ini *ini, const char *name, size_t n)
{
    for (size_t i = 0; i < ini->n; i++)
        if (strlen(ini->s[i].name) == n && memcmp(ini->s[i].name, name, n) == 0)
            return (long)i;
    if (ini->n == ini->cap) {
        size_t cap = ini->cap ? ini->cap * 2 : 8;
        section *s = realloc(ini->s, cap * sizeof *s);
        if (!s)
            return -1;
        ini->s = s;
        ini->cap = cap;
    }
    section *s = &ini->s[ini->n];
    memset(s, 0, sizeof *s);
    s->name = dup_n(name, n);
    if (!s->name)
        return -1;
    return (long)ini->n++;
}

/* Sets key (lower-cased) to value in s; the entry index, or -1. */
static long set_value(section *s, const char *key, size_t klen, const char *value, size_t vlen)
{
    char *k = dup_n(key, klen), *v = dup_n(value, vlen);
    if (!k || !v) {
        free(k);
        mlpz_secret_free(v);
        return -1;
    }
    for (char *p = k; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    for (size_t j = 0; j < s->n; j++) {
        if (strcmp(s->v[j].key, k) == 0) {
            free(k);
            mlpz_secret_free(s->v[j].value);
            s->v[j].value = v;
            return (long)j;
        }
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        entry *e = realloc(s->v, cap * sizeof *e);
        if (!e) {
            free(k);
            mlpz_secret_free(v);
            return -1;
        }
        s->v = e;
        s->cap = cap;
    }
    s->v[s->n].key = k;
    s->v[s->n].value = v;
    return (long)s->n++;
}

/* Appends "\n" and n bytes of more to *value. */
static int append_line(char **value, const char *more, size_t n)
{
    size_t old = strlen(*value);
    char *v = malloc(old + 1 + n + 1);
    if (!v)
        return -1;
    memcpy(v, *value, old);
    v[old] = '\n';
    memcpy(v + old + 1, more, n);
    v[old + 1 + n] = '\0';
    mlpz_secret_free(*value);
    *value = v;
    return 0;
}

mlpz_ini *mlpz_ini_parse(const char *text, size_t len, const char *name, char *err,
                         size_t errlen)
{
    if (!name)
        name = "(config)";
    if (len > MLPZ_INI_MAX_FILE) {
        mlpz_failf(err, errlen, "%s: larger than %d bytes; is it really an AWS config file?", name,
                   MLPZ_INI_MAX_FILE);
        return NULL;
    }
    mlpz_ini *ini = calloc(1, sizeof *ini);
    if (!ini) {
        mlpz_failf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    size_t pos = 0, lineno = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* a UTF-8 byte order mark, as Windows editors write */
    long cur = -1, last = -1; /* current section, its last property */
    while (pos < len) {
        lineno++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (memchr(line, '\0', n)) {
            mlpz_failf(err, errlen, "%s:%zu: NUL byte; the file is not text", name, lineno);
            goto fail;
        }
        int indented = n > 0 && is_space(line[0]);
        const char *q = line;
        size_t qn = n;
        trim(&q, &qn);
        if (qn == 0 || q[0] == '#' || q[0] == ';')
            continue;
        if (indented && last >= 0) {
            entry *e = &ini->s[cur].v[last];
            /* An empty value opened a nested sub-section: skipped. */
            if (e->value[0] != '\0' && append_line(&e->value, q, qn) != 0)
                goto oom;
            continue;
        }
        if (q[0] == '[') {
            const char *close = memchr(q, ']', qn);
            if (!close) {
                mlpz_failf(err, errlen, "%s:%zu: section header without ']'; write [name]", name,
                           lineno);
                goto fail;
            }
            const char *rest = close + 1;
            size_t rn = qn - (size_t)(rest - q);
            trim(&rest, &rn);
            if (rn && rest[0] != '#' && rest[0] != ';') {
                mlpz_failf(err, errlen, "%s:%zu: text after the section header's ']'", name,
                           lineno);
                goto fail;
            }
            const char *sn = q + 1;
            size_t snn = (size_t)(close - sn);
            trim(&sn, &snn);
            if (snn == 0) {
                mlpz_failf(err, errlen, "%s:%zu: empty section name '[]'", name, lineno);
                goto fail;
            }
            cur = section_at(ini, sn, snn);
            if (cur < 0)
                goto oom;
            last = -1;
            continue;
        }
        const char *eq = memchr(q, '=', qn);
        if (!eq) {
            mlpz_failf(err, errlen, "%s:%zu: expected 'key = value', '[section]' or a comment",
                       name, lineno);
            goto fail;
        }
        if (cur < 0) {
            mlpz_failf(err, errlen, "%s:%zu: 'key = value' before any [section]; add [default] "
                       "above it", name, lineno);
            goto fail;
        }
        const char *k = q, *v = eq + 1;
        size_t kn = (size_t)(eq - q), vn = qn - kn - 1;
        trim(&k, &kn);
        trim(&v, &vn);
        if (kn == 0) {
            mlpz_failf(err, errlen, "%s:%zu: no key before '='", name, lineno);
            goto fail;
        }
        last = set_value(&ini->s[cur], k, kn, v, vn);
        if (last < 0)
            goto oom;
    }
    return ini;
oom:
    mlpz_failf(err, errlen, "%s:%zu: out of memory", name, lineno);
fail:
    mlpz_ini_free(ini);
    return NULL;
}

int mlpz_ini_load(const char *path, mlpz_ini **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        return mlpz_failf(err, errlen, "%s: %s", path, strerror(errno));
    }
    char *buf = malloc(MLPZ_INI_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        return mlpz_failf(err, errlen, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, MLPZ_INI_MAX_FILE + 1, f);
    int rerr = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    int rc = 0;
    if (rerr) {
        rc = mlpz_failf(err, errlen, "%s: %s", path, strerror(rerr));
    } else {
        *out = mlpz_ini_parse(buf, n, path, err, errlen);
        rc = *out ? 0 : -1;
    }
    mlpz_secret_cleanse(buf, n);
    free(buf);
    return rc;
}

size_t mlpz_ini_count(const mlpz_ini *ini)
{
    return ini ? ini->n : 0;
}

const char *mlpz_ini_name(const mlpz_ini *ini, size_t i)
{
    return ini && i < ini->n ? ini->s[i].name : NULL;
}

const char *mlpz_ini_value(const mlpz_ini *ini, size_t i, const char *key)
{
    if (!ini || i >= ini->n || !key)
        return NULL;
    const section *s = &ini->s[i];
    for (size_t j = 0; j < s->n; j++)
        if (strcasecmp(s->v[j].key, key) == 0)
            return s->v[j].value;
    return NULL;
}

const char *mlpz_ini_get(const mlpz_ini *ini, const char *section, const char *key)
{
    for (size_t i = 0; ini && section && i < ini->n; i++)
        if (strcmp(ini->s[i].name, section) == 0)
            return mlpz_ini_value(ini, i, key);
    return NULL;
}
