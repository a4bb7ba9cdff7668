#include "dataset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv.h"

static const char NO_GENRES[] = "(no genres listed)";

/* Ids and values quoted in messages are cut so one hostile field cannot
 * swamp the line. */
#define SHOWN 60
#define SHOW(f) (int)((f).len < SHOWN ? (f).len : SHOWN), (f).s

typedef struct {
    int64_t ts;
    uint32_t user, item, event;
} raw_row;

typedef struct {
    mlpz_dataset *ds;
    char *err;
    size_t errlen;
    size_t movies_cap, genre_cap;
    size_t genre_n;
    /* Interaction rows in input order, before indexing. */
    raw_row *rows;
    size_t n, cap;
    /* Derived `watch` rows, as indices of the `click` rows they repeat. */
    uint32_t *watch;
    size_t n_watch, watch_cap;
} loader;

static void set_err(loader *ld, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void set_err(loader *ld, const char *fmt, ...)
{
    if (!ld->err || ld->errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ld->err, ld->errlen, fmt, ap);
    va_end(ap);
}

/* Returns p (capacity *cap elements of size bytes) grown to hold need
 * elements, or NULL with p untouched when that fails. */
static void *reserve(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap && p)
        return p;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / size)
            return NULL;
        ncap *= 2;
    }
    void *np = realloc(p, ncap * size);
    if (np)
        *cap = ncap;
    return np;
}

static char *join(const char *dir, const char *name)
{
    size_t d = strlen(dir), n = strlen(name);
    int slash = d > 0 && dir[d - 1] != '/';
    char *p = malloc(d + (size_t)slash + n + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, d);
    if (slash)
        p[d] = '/';
    memcpy(p + d + slash, name, n + 1);
    return p;
}

static int is_file(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int parse_int64(const char *s, size_t len, int64_t *v)
{
    int neg = len > 0 && s[0] == '-';
    size_t i = (size_t)neg;
    if (i == len)
        return -1;
    uint64_t x = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (lim - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    if (neg)
        *v = x == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x;
    else
        *v = (int64_t)x;
    return 0;
}

/* Classifies a MovieLens rating for the notebooks' derivation: 0 when
 * <= 1, 1 when in (1, 3], 2 when > 3; -1 when not a plain decimal. Exact,
 * without floating point or the locale's decimal separator. */
static int rating_class(const char *s, size_t len)
{
    size_t i = 0;
    unsigned ip = 0;
    int frac = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        if (ip < 1000)
            ip = ip * 10 + (unsigned)(s[i] - '0');
        i++;
    }
    if (i == 0)
        return -1;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            frac |= s[i] != '0';
        if (i == start)
            return -1;
    }
    if (i != len)
        return -1;
    if (ip > 3 || (ip == 3 && frac))
        return 2;
    if (ip > 1 || (ip == 1 && frac))
        return 1;
    return 0;
}

/* Year of a title ending in "(YYYY)", trailing blanks allowed; 0 if none. */
static int title_year(const char *t, size_t n)
{
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    if (n < 6 || t[n - 1] != ')' || t[n - 6] != '(')
        return 0;
    int y = 0;
    for (size_t i = n - 5; i < n - 1; i++) {
        if (t[i] < '0' || t[i] > '9')
            return 0;
        y = y * 10 + (t[i] - '0');
    }
    return y;
}

static int add_genres(loader *ld, mlpz_csv *c, mlpz_movie *m, const mlpz_csv_field *f)
{
    mlpz_dataset *ds = ld->ds;
    m->genre_off = (uint32_t)ld->genre_n;
    for (size_t i = 0; i < f->len;) {
        size_t j = i;
        while (j < f->len && f->s[j] != '|')
            j++;
        if (j > i) {
            int64_t g = mlpz_strtab_intern(&ds->genres, f->s + i, j - i);
            uint32_t *list = g < 0 || ld->genre_n >= UINT32_MAX - 1
                                 ? NULL
                                 : reserve(ds->genre_list, &ld->genre_cap, ld->genre_n + 1,
                                           sizeof *list);
            if (!list)
                return mlpz_csv_fail(c, "out of memory");
            ds->genre_list = list;
            ds->genre_list[ld->genre_n++] = (uint32_t)g;
            m->genre_n++;
        }
        i = j + 1;
    }
    return 0;
}

static int load_movies(loader *ld, const char *path)
{
    static const char *const cols[] = {"movieId", "title", "genres"};
    mlpz_dataset *ds = ld->ds;
    mlpz_csv c;
    int ix[3], r;
    if (mlpz_csv_open(&c, path, ld->err, ld->errlen) != 0 ||
        mlpz_csv_require(&c, cols, 3, 0, ix) != 0)
        goto fail;
    while ((r = mlpz_csv_next(&c)) == 1) {
        const mlpz_csv_field *id = &c.fields[ix[0]], *title = &c.fields[ix[1]];
        if (id->len == 0) {
            mlpz_csv_fail(&c, "empty movieId (column movieId); every movie needs an id");
            goto fail;
        }
        uint32_t before = ds->items.n;
        int64_t idx = mlpz_strtab_intern(&ds->items, id->s, id->len);
        mlpz_movie *movies = idx < 0 ? NULL
                                     : reserve(ds->movies, &ld->movies_cap, ds->items.n,
                                               sizeof *movies);
        if (!movies) {
            mlpz_csv_fail(&c, "out of memory");
            goto fail;
        }
        ds->movies = movies;
        if ((uint32_t)idx < before) {
            mlpz_csv_fail(&c, "duplicate movieId '%.*s' (column movieId); list each "
                              "movie once", SHOW(*id));
            goto fail;
        }
        mlpz_movie *m = &ds->movies[idx];
        memset(m, 0, sizeof *m);
        ds->n_movies = (size_t)idx + 1;
        m->title = malloc(title->len + 1);
        if (!m->title) {
            mlpz_csv_fail(&c, "out of memory");
            goto fail;
        }
        memcpy(m->title, title->s, title->len + 1);
        m->known = 1;
        m->year = title_year(title->s, title->len);
        if (add_genres(ld, &c, m, &c.fields[ix[2]]) != 0)
            goto fail;
    }
    if (r < 0)
        goto fail;
    mlpz_csv_close(&c);
    return 0;
fail:
    mlpz_csv_close(&c);
    return -1;
}

static int push_row(loader *ld, mlpz_csv *c, raw_row row)
{
    if (ld->n >= UINT32_MAX - 1)
        return mlpz_csv_fail(c, "more than %u interactions", UINT32_MAX - 2);
    raw_row *rows = reserve(ld->rows, &ld->cap, ld->n + 1, sizeof *rows);
    if (!rows)
        return mlpz_csv_fail(c, "out of memory");
    ld->rows = rows;
    ld->rows[ld->n++] = row;
    return 0;
}

static int add_row(loader *ld, mlpz_csv *c, const mlpz_csv_field *user,
                   const mlpz_csv_field *item, uint32_t event, int64_t ts)
{
    /* Files group rows by user, so the previous row's user usually fits. */
    int64_t u = ld->n > 0 ? (int64_t)ld->rows[ld->n - 1].user : -1;
    if (u < 0 || strncmp(ld->ds->users.str[u], user->s, user->len) != 0 ||
        ld->ds->users.str[u][user->len] != '\0')
        u = mlpz_strtab_intern(&ld->ds->users, user->s, user->len);
    int64_t i = mlpz_strtab_intern(&ld->ds->items, item->s, item->len);
    if (u < 0 || i < 0)
        return mlpz_csv_fail(c, "out of memory");
    raw_row row = {ts, (uint32_t)u, (uint32_t)i, event};
    return push_row(ld, c, row);
}

static int check_id(mlpz_csv *c, const mlpz_csv_field *f, const char *col)
{
    if (f->len > 0)
        return 0;
    return mlpz_csv_fail(c, "empty %s; every row needs one", col);
}

static int check_ts(mlpz_csv *c, const mlpz_csv_field *f, const char *col, int64_t *ts)
{
    if (parse_int64(f->s, f->len, ts) == 0)
        return 0;
    return mlpz_csv_fail(c, "%s '%.*s' is not an integer; expected seconds since "
                            "1970-01-01 UTC such as 964982703", col, SHOW(*f));
}

static int intern_event(loader *ld, mlpz_csv *c, const char *s, size_t len, uint32_t *ev)
{
    int64_t e = mlpz_strtab_intern(&ld->ds->events, s, len);
    if (e < 0)
        return mlpz_csv_fail(c, "out of memory");
    *ev = (uint32_t)e;
    return 0;
}

static int load_interactions(loader *ld, const char *path)
{
    static const char *const cols[] = {"USER_ID", "ITEM_ID", "EVENT_TYPE", "TIMESTAMP"};
    mlpz_csv c;
    int ix[4], r;
    if (mlpz_csv_open(&c, path, ld->err, ld->errlen) != 0 ||
        mlpz_csv_require(&c, cols, 4, 1, ix) != 0)
        goto fail;
    while ((r = mlpz_csv_next(&c)) == 1) {
        const mlpz_csv_field *f = c.fields;
        int64_t ts = 0;
        uint32_t ev = 0;
        if (check_id(&c, &f[ix[0]], "USER_ID") || check_id(&c, &f[ix[1]], "ITEM_ID") ||
            check_id(&c, &f[ix[2]], "EVENT_TYPE") ||
            check_ts(&c, &f[ix[3]], "TIMESTAMP", &ts) ||
            intern_event(ld, &c, f[ix[2]].s, f[ix[2]].len, &ev) ||
            add_row(ld, &c, &f[ix[0]], &f[ix[1]], ev, ts))
            goto fail;
    }
    if (r < 0)
        goto fail;
    if (ld->n == 0) {
        c.line = c.header_line;
        mlpz_csv_fail(&c, "no interactions: the file has a header but no rows");
        goto fail;
    }
    mlpz_csv_close(&c);
    return 0;
fail:
    mlpz_csv_close(&c);
    return -1;
}

/* Derives interactions from MovieLens ratings as the Amazon Personalize
 * sample notebooks do: a `click` for every rating > 1, then a `watch` for
 * every rating > 3, each group in file order. */
static int load_ratings(loader *ld, const char *path)
{
    static const char *const cols[] = {"userId", "movieId", "rating", "timestamp"};
    mlpz_csv c;
    int ix[4], r;
    uint32_t click = 0, watch = 0;
    int have_click = 0;
    if (mlpz_csv_open(&c, path, ld->err, ld->errlen) != 0 ||
        mlpz_csv_require(&c, cols, 4, 0, ix) != 0)
        goto fail;
    while ((r = mlpz_csv_next(&c)) == 1) {
        const mlpz_csv_field *f = c.fields;
        int64_t ts = 0;
        if (check_id(&c, &f[ix[0]], "userId") || check_id(&c, &f[ix[1]], "movieId") ||
            check_ts(&c, &f[ix[3]], "timestamp", &ts))
            goto fail;
        int cls = rating_class(f[ix[2]].s, f[ix[2]].len);
        if (cls < 0) {
            mlpz_csv_fail(&c, "rating '%.*s' is not a number (column rating); expected "
                              "a value such as 3.5", SHOW(f[ix[2]]));
            goto fail;
        }
        if (cls == 0)
            continue;
        if (!have_click && intern_event(ld, &c, "click", 5, &click) != 0)
            goto fail;
        have_click = 1;
        if (cls == 2) {
            uint32_t *w = reserve(ld->watch, &ld->watch_cap, ld->n_watch + 1, sizeof *w);
            if (!w) {
                mlpz_csv_fail(&c, "out of memory");
                goto fail;
            }
            ld->watch = w;
            ld->watch[ld->n_watch++] = (uint32_t)ld->n;
        }
        if (add_row(ld, &c, &f[ix[0]], &f[ix[1]], click, ts) != 0)
            goto fail;
    }
    if (r < 0)
        goto fail;
    if (ld->n == 0) {
        c.line = c.header_line;
        mlpz_csv_fail(&c, "no interactions: no rating above 1 to derive a click from");
        goto fail;
    }
    if (ld->n_watch > 0) {
        if (intern_event(ld, &c, "watch", 5, &watch) != 0)
            goto fail;
        for (size_t k = 0; k < ld->n_watch; k++) {
            raw_row row = ld->rows[ld->watch[k]];
            row.event = watch;
            if (push_row(ld, &c, row) != 0)
                goto fail;
        }
    }
    mlpz_csv_close(&c);
    return 0;
fail:
    mlpz_csv_close(&c);
    return -1;
}

typedef struct {
    const char *name;
    uint32_t idx;
} named;

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : (x > y);
}

typedef struct {
    uint64_t age; /* ts_last - ts: newest is 0 */
    uint32_t row;
} aged;

/* Orders the rows by user, then newest first, then later row first, with
 * stable radix passes: rows start last to first, are sorted by age a byte
 * at a time, then dealt out to their users. Linear per pass, where a
 * comparison sort would dominate the load time. */
static void fill_by_user(loader *ld, aged *x, aged *y, uint32_t *fill)
{
    mlpz_dataset *ds = ld->ds;
    size_t n = ld->n;
    uint64_t newest = (uint64_t)ds->ts_last;
    uint64_t span = newest - (uint64_t)ds->ts_first;
    for (size_t k = 0; k < n; k++) {
        x[k].row = (uint32_t)(n - 1 - k);
        x[k].age = newest - (uint64_t)ld->rows[n - 1 - k].ts;
    }
    for (unsigned shift = 0; shift < 64 && (span >> shift) != 0; shift += 8) {
        size_t count[257] = {0};
        for (size_t k = 0; k < n; k++)
            count[(x[k].age >> shift & 0xff) + 1]++;
        for (int v = 0; v < 256; v++)
            count[v + 1] += count[v];
        for (size_t k = 0; k < n; k++)
            y[count[x[k].age >> shift & 0xff]++] = x[k];
        aged *t = x;
        x = y;
        y = t;
    }
    for (size_t k = 0; k < n; k++) {
        const raw_row *r = &ld->rows[x[k].row];
        mlpz_event *e = &ds->by_user[fill[r->user]++];
        e->item = r->item;
        e->event = r->event;
        e->ts = r->ts;
    }
}

static int build_user_index(loader *ld)
{
    mlpz_dataset *ds = ld->ds;
    size_t n = ld->n, nu = ds->users.n;
    aged *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    ds->by_user = malloc(n * sizeof *ds->by_user);
    ds->user_off = calloc(nu + 1, sizeof *ds->user_off);
    ds->user_uniq = malloc(n * sizeof *ds->user_uniq);
    ds->uniq_off = calloc(nu + 1, sizeof *ds->uniq_off);
    uint32_t *fill = malloc((nu + 1) * sizeof *fill);
    uint32_t *seen = malloc((ds->items.n + 1) * sizeof *seen);
    int ok = x && y && ds->by_user && ds->user_off && ds->user_uniq && ds->uniq_off && fill &&
             seen;
    if (ok) {
        ds->ts_first = ds->ts_last = ld->rows[0].ts;
        for (size_t r = 0; r < n; r++) {
            ds->user_off[ld->rows[r].user + 1]++;
            if (ld->rows[r].ts < ds->ts_first)
                ds->ts_first = ld->rows[r].ts;
            if (ld->rows[r].ts > ds->ts_last)
                ds->ts_last = ld->rows[r].ts;
        }
        for (size_t u = 0; u < nu; u++)
            ds->user_off[u + 1] += ds->user_off[u];
        memcpy(fill, ds->user_off, (nu + 1) * sizeof *fill);
        fill_by_user(ld, x, y, fill);
        memset(seen, 0xff, (ds->items.n + 1) * sizeof *seen);
        uint32_t nuniq = 0;
        for (uint32_t u = 0; u < nu; u++) {
            for (uint32_t k = ds->user_off[u]; k < ds->user_off[u + 1]; k++) {
                uint32_t item = ds->by_user[k].item;
                if (seen[item] != u) {
                    seen[item] = u;
                    ds->user_uniq[nuniq++] = k;
                }
            }
            ds->uniq_off[u + 1] = nuniq;
        }
    }
    free(x);
    free(y);
    free(fill);
    free(seen);
    return ok ? 0 : -1;
}

static int build_item_index(loader *ld)
{
    mlpz_dataset *ds = ld->ds;
    size_t ni = ds->items.n, nu = ds->users.n;
    uint32_t nuniq = ds->uniq_off[nu];
    ds->item_off = calloc(ni + 1, sizeof *ds->item_off);
    ds->item_count = calloc(ni + 1, sizeof *ds->item_count);
    ds->item_users = malloc((nuniq + 1) * sizeof *ds->item_users);
    ds->popular = malloc((ni + 1) * sizeof *ds->popular);
    uint32_t *fill = malloc((ni + 1) * sizeof *fill);
    uint64_t *keys = malloc((ni + 1) * sizeof *keys);
    int ok = ds->item_off && ds->item_count && ds->item_users && ds->popular && fill && keys;
    if (ok) {
        for (size_t r = 0; r < ld->n; r++)
            ds->item_count[ld->rows[r].item]++;
        for (uint32_t k = 0; k < nuniq; k++)
            ds->item_off[ds->by_user[ds->user_uniq[k]].item + 1]++;
        for (size_t i = 0; i < ni; i++)
            ds->item_off[i + 1] += ds->item_off[i];
        memcpy(fill, ds->item_off, (ni + 1) * sizeof *fill);
        /* Walking users in index order keeps each item's users ascending. */
        for (uint32_t u = 0; u < nu; u++)
            for (uint32_t k = ds->uniq_off[u]; k < ds->uniq_off[u + 1]; k++)
                ds->item_users[fill[ds->by_user[ds->user_uniq[k]].item]++] = u;
        /* Keys sort by distinct users descending, then item index. */
        uint32_t np = 0;
        for (uint32_t i = 0; i < ni; i++) {
            uint32_t users = ds->item_off[i + 1] - ds->item_off[i];
            if (users > 0)
                keys[np++] = (uint64_t)(UINT32_MAX - users) << 32 | i;
        }
        qsort(keys, np, sizeof *keys, cmp_u64);
        for (uint32_t k = 0; k < np; k++)
            ds->popular[k] = (uint32_t)keys[k];
        ds->n_popular = np;
    }
    free(fill);
    free(keys);
    return ok ? 0 : -1;
}

static int build_catalogue(loader *ld)
{
    mlpz_dataset *ds = ld->ds;
    size_t ng = ds->genres.n, total = 0;
    ds->event_count = calloc(ds->events.n + 1, sizeof *ds->event_count);
    ds->genre_rank = malloc((ng + 1) * sizeof *ds->genre_rank);
    ds->folded_off = malloc((ds->n_movies + 1) * sizeof *ds->folded_off);
    named *byname = malloc((ng + 1) * sizeof *byname);
    for (size_t i = 0; i < ds->n_movies; i++)
        total += strlen(ds->movies[i].title) + 1;
    ds->folded = malloc(total + 1);
    int ok = ds->event_count && ds->genre_rank && ds->folded_off && byname && ds->folded;
    if (ok) {
        for (size_t r = 0; r < ld->n; r++)
            ds->event_count[ld->rows[r].event]++;
        for (uint32_t g = 0; g < ng; g++) {
            byname[g].name = ds->genres.str[g];
            byname[g].idx = g;
        }
        qsort(byname, ng, sizeof *byname, cmp_named);
        for (uint32_t k = 0; k < ng; k++)
            ds->genre_rank[byname[k].idx] = k;
        ds->no_genre = mlpz_strtab_find(&ds->genres, NO_GENRES, sizeof NO_GENRES - 1);
        size_t pos = 0;
        for (size_t i = 0; i < ds->n_movies; i++) {
            ds->folded_off[i] = pos;
            for (const char *t = ds->movies[i].title; *t; t++) {
                char ch = *t;
                ds->folded[pos++] = ch >= 'A' && ch <= 'Z' ? (char)(ch + ('a' - 'A')) : ch;
            }
            ds->folded[pos++] = '\0';
        }
        ds->folded_off[ds->n_movies] = pos;
    }
    free(byname);
    return ok ? 0 : -1;
}

static int build(loader *ld)
{
    mlpz_dataset *ds = ld->ds;
    /* Items seen only in interactions get catalogue entries marked unknown. */
    mlpz_movie *movies = reserve(ds->movies, &ld->movies_cap, ds->items.n + 1, sizeof *movies);
    if (!movies)
        return -1;
    ds->movies = movies;
    memset(ds->movies + ds->n_movies, 0,
           (ld->movies_cap - ds->n_movies) * sizeof *ds->movies);
    ds->n_interactions = ld->n;
    if (build_user_index(ld) != 0 || build_item_index(ld) != 0 || build_catalogue(ld) != 0)
        return -1;
    return 0;
}

static void free_loader(loader *ld)
{
    free(ld->rows);
    free(ld->watch);
}

static void default_seed(mlpz_dataset *ds)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    mlpz_dataset_seed(ds, ((uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec) ^
                              ((uint64_t)getpid() << 40));
}

mlpz_dataset *mlpz_dataset_load(const char *dir, char *err, size_t errlen)
{
    static const char fix[] = "run `make data` or pass --data DIR";
    loader ld = {.err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    char *movies = join(dir, "movies.csv");
    char *inter = join(dir, "interactions.csv");
    char *ratings = join(dir, "ratings.csv");
    mlpz_dataset *ds = calloc(1, sizeof *ds);
    if (!movies || !inter || !ratings || !ds) {
        set_err(&ld, "%s: out of memory", dir);
        goto fail;
    }
    ld.ds = ds;
    mlpz_strtab_init(&ds->users);
    mlpz_strtab_init(&ds->items);
    mlpz_strtab_init(&ds->events);
    mlpz_strtab_init(&ds->genres);
    ds->no_genre = -1;
    int has_movies = is_file(movies), has_inter = is_file(inter),
        has_ratings = is_file(ratings);
    if (!has_movies || (!has_inter && !has_ratings)) {
        if (!has_movies && !has_inter && !has_ratings)
            set_err(&ld, "no MovieLens data in %s: need movies.csv and ratings.csv or "
                         "interactions.csv; %s", dir, fix);
        else if (!has_movies)
            set_err(&ld, "no movies.csv in %s: titles and genres come from movies.csv "
                         "next to the interactions; %s", dir, fix);
        else
            set_err(&ld, "no interactions in %s: need ratings.csv or interactions.csv "
                         "next to movies.csv; %s", dir, fix);
        goto fail;
    }
    ds->dir = strdup(dir);
    ds->derived = !has_inter;
    ds->interactions_path = has_inter ? inter : ratings;
    if (has_inter)
        inter = NULL;
    else
        ratings = NULL;
    if (!ds->dir) {
        set_err(&ld, "%s: out of memory", dir);
        goto fail;
    }
    if (load_movies(&ld, movies) != 0)
        goto fail;
    if ((ds->derived ? load_ratings(&ld, ds->interactions_path)
                     : load_interactions(&ld, ds->interactions_path)) != 0)
        goto fail;
    if (build(&ld) != 0) {
        set_err(&ld, "%s: out of memory indexing the dataset", dir);
        goto fail;
    }
    default_seed(ds);
    free_loader(&ld);
    free(movies);
    free(inter);
    free(ratings);
    return ds;
fail:
    free_loader(&ld);
    free(movies);
    free(inter);
    free(ratings);
    mlpz_dataset_free(ds);
    return NULL;
}

void mlpz_dataset_free(mlpz_dataset *ds)
{
    if (!ds)
        return;
    for (uint32_t i = 0; ds->movies && i < ds->n_movies; i++)
        free(ds->movies[i].title);
    free(ds->movies);
    free(ds->genre_list);
    free(ds->dir);
    free(ds->interactions_path);
    mlpz_strtab_free(&ds->users);
    mlpz_strtab_free(&ds->items);
    mlpz_strtab_free(&ds->events);
    mlpz_strtab_free(&ds->genres);
    free(ds->by_user);
    free(ds->user_off);
    free(ds->item_users);
    free(ds->item_off);
    free(ds->item_count);
    free(ds->user_uniq);
    free(ds->uniq_off);
    free(ds->event_count);
    free(ds->popular);
    free(ds->genre_rank);
    free(ds->folded);
    free(ds->folded_off);
    free(ds);
}

int64_t mlpz_dataset_user(const mlpz_dataset *ds, const char *id)
{
    return mlpz_strtab_find(&ds->users, id, strlen(id));
}

int64_t mlpz_dataset_item(const mlpz_dataset *ds, const char *id)
{
    return mlpz_strtab_find(&ds->items, id, strlen(id));
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void mlpz_dataset_seed(mlpz_dataset *ds, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        ds->rng[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t next(uint64_t *s)
{
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t mlpz_dataset_random(mlpz_dataset *ds, uint64_t bound)
{
    /* Rejecting the low (2^64 mod bound) values makes r % bound unbiased. */
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t r = next(ds->rng);
        if (r >= threshold)
            return r % bound;
    }
}

static void shuffle(mlpz_dataset *ds, uint32_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)mlpz_dataset_random(ds, i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

int64_t mlpz_dataset_sample(mlpz_dataset *ds, uint32_t population, size_t n, uint32_t *out)
{
    size_t k = n < population ? n : population;
    if (k == 0)
        return 0;
    if (k * 2 >= population) {
        /* Dense: a partial Fisher-Yates over the whole population. */
        uint32_t *all = malloc((size_t)population * sizeof *all);
        if (!all)
            return -1;
        for (uint32_t i = 0; i < population; i++)
            all[i] = i;
        for (size_t i = 0; i < k; i++) {
            size_t j = i + (size_t)mlpz_dataset_random(ds, population - i);
            uint32_t t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        memcpy(out, all, k * sizeof *out);
        free(all);
        return (int64_t)k;
    }
    /* Sparse: Floyd's algorithm picks a uniform set in O(k) with a hash set,
     * then a shuffle makes the order uniform too. */
    size_t nslots = 16;
    while (nslots < k * 2)
        nslots *= 2;
    uint32_t *slots = malloc(nslots * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0xff, nslots * sizeof *slots);
    size_t m = 0;
    for (uint64_t j = population - k; j < population; j++) {
        uint32_t t = (uint32_t)mlpz_dataset_random(ds, j + 1);
        for (int pass = 0; pass < 2; pass++) {
            size_t h = (size_t)(((uint64_t)t * 0x9e3779b97f4a7c15u) >> 32) & (nslots - 1);
            while (slots[h] != UINT32_MAX && slots[h] != t)
                h = (h + 1) & (nslots - 1);
            if (slots[h] == UINT32_MAX) {
                slots[h] = t;
                out[m++] = t;
                break;
            }
            t = (uint32_t)j;
        }
    }
    free(slots);
    shuffle(ds, out, m);
    return (int64_t)m;
}

static const char *find(const char *hay, size_t n, const char *needle, size_t len)
{
    if (len == 0)
        return hay;
    for (const char *p = hay, *end = hay + n; (size_t)(end - p) >= len; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) - len + 1);
        if (!p)
            return NULL;
        if (memcmp(p + 1, needle + 1, len - 1) == 0)
            return p;
    }
    return NULL;
}

int64_t mlpz_dataset_search(const mlpz_dataset *ds, const char *text, size_t len,
                            uint32_t *out, size_t max)
{
    if (max == 0 || ds->n_movies == 0 || memchr(text, '\0', len))
        return 0;
    char *needle = malloc(len + 1);
    if (!needle)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        needle[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + ('a' - 'A')) : ch;
    }
    size_t found = 0, pos = 0, end = ds->folded_off[ds->n_movies];
    while (found < max && pos < end) {
        const char *hit = find(ds->folded + pos, end - pos, needle, len);
        if (!hit)
            break;
        /* The title holding the hit: the last one starting at or before it. */
        size_t at = (size_t)(hit - ds->folded), lo = 0, hi = ds->n_movies;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (ds->folded_off[mid] <= at)
                lo = mid;
            else
                hi = mid;
        }
        out[found++] = (uint32_t)lo;
        pos = ds->folded_off[lo + 1];
    }
    free(needle);
    return (int64_t)found;
}

typedef struct {
    uint32_t count, rank, genre;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return x->rank < y->rank ? -1 : (x->rank > y->rank);
}

int64_t mlpz_dataset_top_genres(const mlpz_dataset *ds, const uint32_t *items, size_t n,
                                mlpz_genre_count *out, size_t max)
{
    size_t total = 0;
    for (size_t k = 0; k < n; k++)
        if (items[k] < ds->items.n)
            total += ds->movies[items[k]].genre_n;
    /* Sorting (rank, genre) pairs groups each genre in name order, at a cost
     * that depends on the items given, not on the catalogue. */
    uint64_t *keys = malloc((total + 1) * sizeof *keys);
    ranked *runs = malloc((total + 1) * sizeof *runs);
    if (!keys || !runs) {
        free(keys);
        free(runs);
        return -1;
    }
    size_t nk = 0;
    for (size_t k = 0; k < n; k++) {
        if (items[k] >= ds->items.n)
            continue;
        const mlpz_movie *m = &ds->movies[items[k]];
        for (uint32_t g = 0; g < m->genre_n; g++) {
            uint32_t genre = ds->genre_list[m->genre_off + g];
            if ((int64_t)genre != ds->no_genre)
                keys[nk++] = (uint64_t)ds->genre_rank[genre] << 32 | genre;
        }
    }
    qsort(keys, nk, sizeof *keys, cmp_u64);
    size_t nr = 0;
    for (size_t k = 0; k < nk; k++) {
        if (nr == 0 || keys[k] != keys[k - 1]) {
            runs[nr].count = 0;
            runs[nr].rank = (uint32_t)(keys[k] >> 32);
            runs[nr].genre = (uint32_t)keys[k];
            nr++;
        }
        runs[nr - 1].count++;
    }
    qsort(runs, nr, sizeof *runs, cmp_ranked);
    size_t w = nr < max ? nr : max;
    for (size_t k = 0; k < w; k++) {
        out[k].genre = runs[k].genre;
        out[k].count = runs[k].count;
    }
    free(keys);
    free(runs);
    return (int64_t)w;
}

void mlpz_format_date(int64_t ts, char *buf, size_t len)
{
    /* Days and seconds of the day, flooring toward minus infinity. */
    int64_t days = ts / 86400, sec = ts % 86400;
    if (sec < 0) {
        sec += 86400;
        days--;
    }
    /* Howard Hinnant's civil_from_days. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    snprintf(buf, len, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", (long long)y,
             (long long)m, (long long)d, (long long)(sec / 3600),
             (long long)(sec / 60 % 60), (long long)(sec % 60));
}
