/* Loading and indexing: the published figures of ml-latest-small, the
 * derived/Personalize equivalence, hand-made edge cases and the exact
 * "file:line:" message of every malformed fixture. */
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "unit.h"

#define FIX "tests/fixtures/csv/"

static char err[1024];

static const char *data_dir(void)
{
    const char *d = getenv("MLPZ_DATA");
    return d && *d ? d : "../shared/datasets/ml-latest-small";
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static size_t event_count(const mlpz_dataset *ds, const char *name)
{
    int64_t e = mlpz_strtab_find(&ds->events, name, strlen(name));
    return e < 0 ? 0 : ds->event_count[e];
}

static const mlpz_movie *movie(const mlpz_dataset *ds, const char *id)
{
    int64_t i = mlpz_dataset_item(ds, id);
    return i < 0 ? NULL : &ds->movies[i];
}

static const char *genre(const mlpz_dataset *ds, const mlpz_movie *m, uint32_t k)
{
    return ds->genres.str[ds->genre_list[m->genre_off + k]];
}

/* Checks every structural promise of dataset.h over the whole dataset;
 * returns a description of the first broken one, or NULL. */
static const char *broken_invariant(const mlpz_dataset *ds)
{
    uint32_t nu = ds->users.n, ni = ds->items.n;
    if (ds->user_off[0] != 0 || ds->user_off[nu] != ds->n_interactions)
        return "user_off does not span by_user";
    uint64_t rows = 0;
    for (uint32_t i = 0; i < ni; i++)
        rows += ds->item_count[i];
    if (rows != ds->n_interactions)
        return "item_count does not sum to the interactions";
    uint8_t *seen = calloc(ni, 1);
    uint32_t *users_of = calloc(ni, sizeof *users_of);
    const char *bad = NULL;
    for (uint32_t u = 0; u < nu && !bad; u++) {
        uint32_t a = ds->user_off[u], b = ds->user_off[u + 1];
        if (a >= b)
            bad = "a user without interactions";
        for (uint32_t k = a + 1; k < b && !bad; k++)
            if (ds->by_user[k].ts > ds->by_user[k - 1].ts)
                bad = "a history not newest first";
        /* user_uniq: the first row of each item in newest-first order. */
        uint32_t q = ds->uniq_off[u];
        for (uint32_t k = a; k < b && !bad; k++) {
            uint32_t it = ds->by_user[k].item;
            if (it >= ni || ds->by_user[k].event >= ds->events.n)
                bad = "an index out of range";
            else if (!seen[it]) {
                seen[it] = 1;
                users_of[it]++;
                if (q >= ds->uniq_off[u + 1] || ds->user_uniq[q++] != k)
                    bad = "user_uniq is not the newest row of each item";
            }
        }
        if (!bad && q != ds->uniq_off[u + 1])
            bad = "user_uniq has extra rows";
        for (uint32_t k = a; k < b; k++)
            seen[ds->by_user[k].item] = 0;
    }
    uint32_t active = 0;
    for (uint32_t i = 0; i < ni && !bad; i++) {
        uint32_t a = ds->item_off[i], b = ds->item_off[i + 1];
        if (b - a != users_of[i])
            bad = "item_off disagrees with the users of an item";
        for (uint32_t k = a + 1; k < b && !bad; k++)
            if (ds->item_users[k] <= ds->item_users[k - 1])
                bad = "item_users not strictly ascending";
        active += b > a;
        if ((ds->movies[i].known != 0) != (i < ds->n_movies))
            bad = "known movies are not the first n_movies items";
    }
    if (!bad && active != ds->n_popular)
        bad = "n_popular is not the number of items with interactions";
    for (uint32_t k = 1; k < ds->n_popular && !bad; k++) {
        uint32_t x = ds->popular[k - 1], y = ds->popular[k];
        uint32_t nx = ds->item_off[x + 1] - ds->item_off[x];
        uint32_t ny = ds->item_off[y + 1] - ds->item_off[y];
        if (nx < ny || (nx == ny && x > y))
            bad = "popular is not sorted by users, then index";
    }
    free(seen);
    free(users_of);
    return bad;
}

/* Writes dir/interactions.csv from dir_src/ratings.csv with its own simple
 * parser (ratings.csv has no quoted fields), columns shuffled and an extra
 * one, rows as the notebooks derive them. Returns 0 on success. */
static int write_personalize(const char *src, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ratings.csv", src);
    FILE *in = fopen(path, "r");
    snprintf(path, sizeof path, "%s/interactions.csv", dir);
    FILE *out = fopen(path, "w");
    if (!in || !out) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -1;
    }
    fputs("TIMESTAMP,EVENT_TYPE,EVENT_VALUE,ITEM_ID,USER_ID\n", out);
    for (int pass = 0; pass < 2; pass++) {
        char line[256];
        rewind(in);
        if (!fgets(line, sizeof line, in))
            break;
        while (fgets(line, sizeof line, in)) {
            char user[64], item[64], ts[64];
            double rating;
            if (sscanf(line, "%63[^,],%63[^,],%lf,%63[^\r\n]", user, item, &rating, ts) != 4)
                continue;
            if (pass == 0 && rating > 1)
                fprintf(out, "%s,click,%g,%s,%s\n", ts, rating, item, user);
            if (pass == 1 && rating > 3)
                fprintf(out, "%s,watch,%g,%s,%s\n", ts, rating, item, user);
        }
    }
    fclose(in);
    return fclose(out);
}

static int same_table(const mlpz_strtab *a, const mlpz_strtab *b)
{
    if (a->n != b->n)
        return 0;
    for (uint32_t k = 0; k < a->n; k++)
        if (strcmp(a->str[k], b->str[k]) != 0)
            return 0;
    return 1;
}

static void test_real(void)
{
    double t0 = now_ms();
    mlpz_dataset *ds = mlpz_dataset_load(data_dir(), err, sizeof err);
    double ms = now_ms() - t0;
    CHECK(ds != NULL, "real: loads %s (%s)", data_dir(), ds ? "ok" : err);
    if (!ds)
        return;
    CHECK(ms < 1000, "real: loaded in %.0f ms (< 1000)", ms);
    CHECK(ds->users.n == 610, "real: 610 users (got %u)", ds->users.n);
    CHECK(ds->n_movies == 9742, "real: 9742 movies (got %zu)", ds->n_movies);
    CHECK(ds->items.n == 9742, "real: every rated movie is in movies.csv (%u items)",
          ds->items.n);
    CHECK(ds->n_interactions == 158371, "real: 158371 interactions (got %zu)",
          ds->n_interactions);
    CHECK(event_count(ds, "click") == 96655, "real: 96655 clicks (got %zu)",
          event_count(ds, "click"));
    CHECK(event_count(ds, "watch") == 61716, "real: 61716 watches (got %zu)",
          event_count(ds, "watch"));
    CHECK(ds->events.n == 2 && strcmp(ds->events.str[0], "click") == 0,
          "real: events are click then watch");
    CHECK(ds->derived && ends_with(ds->interactions_path, "/ratings.csv"),
          "real: derived from ratings.csv");
    CHECK_STR(ds->users.str[0], "1", "real: first user is the first in ratings.csv");
    CHECK_STR(ds->items.str[0], "1", "real: first item is the first in movies.csv");

    const mlpz_movie *leon = movie(ds, "293");
    CHECK(leon && leon->known, "real: movie 293 is known");
    if (leon) {
        CHECK_STR(leon->title, "L\xc3\xa9on: The Professional (a.k.a. The Professional) "
                               "(L\xc3\xa9on) (1994)",
                  "real: Leon title decoded as UTF-8 bytes");
        CHECK(leon->year == 1994, "real: Leon year 1994");
        CHECK(leon->genre_n == 4 && strcmp(genre(ds, leon, 0), "Action") == 0 &&
                  strcmp(genre(ds, leon, 3), "Thriller") == 0,
              "real: Leon genres Action..Thriller");
    }
    const mlpz_movie *quote = movie(ds, "11");
    CHECK(quote && strcmp(quote->title, "American President, The (1995)") == 0,
          "real: a quoted title with a comma");
    const mlpz_movie *trail = movie(ds, "27008");
    CHECK(trail && trail->year == 1999 &&
              ends_with(trail->title, "Texas Blood Money (1999) "),
          "real: title kept as is, year found before its trailing space");
    int64_t nog = ds->no_genre;
    CHECK(nog >= 0, "real: '(no genres listed)' is interned as a genre");
    uint32_t no_year = 0;
    for (size_t i = 0; i < ds->n_movies; i++)
        no_year += ds->movies[i].year == 0;
    CHECK(no_year == 13, "real: 13 titles without a trailing (YYYY) (got %u)", no_year);

    const char *bad = broken_invariant(ds);
    CHECK(bad == NULL, "real: index invariants hold (%s)", bad ? bad : "all");
    CHECK(ds->ts_first == 828124615 && ds->ts_last == 1537799250,
          "real: oldest and newest interaction");

    /* Derived and Personalize inputs must index identically. */
    char tmpl[] = "/tmp/mlpz-ds-XXXXXX";
    char *tmp = mkdtemp(tmpl);
    char link[4096], target[4096];
    snprintf(link, sizeof link, "%s/movies.csv", tmp ? tmp : "");
    snprintf(target, sizeof target, "%s/movies.csv", data_dir());
    if (target[0] != '/') {
        char cwd[2048];
        if (getcwd(cwd, sizeof cwd))
            snprintf(target, sizeof target, "%s/%s/movies.csv", cwd, data_dir());
    }
    int ready = tmp && symlink(target, link) == 0 && write_personalize(data_dir(), tmp) == 0;
    CHECK(ready, "equivalence: wrote interactions.csv in a temporary folder");
    mlpz_dataset *p = ready ? mlpz_dataset_load(tmp, err, sizeof err) : NULL;
    CHECK(p != NULL, "equivalence: interactions.csv loads (%s)", p ? "ok" : err);
    if (p) {
        CHECK(!p->derived && ends_with(p->interactions_path, "/interactions.csv"),
              "equivalence: read interactions.csv, not derived");
        CHECK(p->n_interactions == ds->n_interactions && p->users.n == ds->users.n &&
                  p->n_popular == ds->n_popular,
              "equivalence: same counts (%zu interactions, %u users, %u items)",
              p->n_interactions, p->users.n, p->n_popular);
        CHECK(same_table(&p->users, &ds->users) && same_table(&p->items, &ds->items) &&
                  same_table(&p->events, &ds->events) && same_table(&p->genres, &ds->genres),
              "equivalence: same users, items, events and genres in the same order");
        int same = p->n_interactions == ds->n_interactions;
        for (size_t k = 0; same && k < ds->n_interactions; k++)
            same = p->by_user[k].item == ds->by_user[k].item &&
                   p->by_user[k].event == ds->by_user[k].event &&
                   p->by_user[k].ts == ds->by_user[k].ts;
        for (uint32_t u = 0; same && u <= ds->users.n; u++)
            same = p->user_off[u] == ds->user_off[u] && p->uniq_off[u] == ds->uniq_off[u];
        for (uint32_t i = 0; same && i < ds->items.n; i++)
            same = p->item_count[i] == ds->item_count[i] && p->item_off[i] == ds->item_off[i];
        CHECK(same, "equivalence: identical histories and item index");
        mlpz_dataset_free(p);
    }
    if (tmp) {
        char path[4096];
        snprintf(path, sizeof path, "%s/interactions.csv", tmp);
        unlink(path);
        unlink(link);
        rmdir(tmp);
    }

    /* Search against a brute-force scan of every title. */
    static const char *const needles[] = {"toy story", "LÉON", "l\xc3\xa9on", "(1995)", "",
                                          "zzzz-not-a-title", "e"};
    uint32_t *hits = malloc(ds->n_movies * sizeof *hits);
    for (size_t q = 0; q < sizeof needles / sizeof *needles; q++) {
        const char *nd = needles[q];
        size_t len = strlen(nd), want = 0;
        int ok = 1;
        int64_t got = mlpz_dataset_search(ds, nd, len, hits, ds->n_movies);
        for (size_t i = 0; i < ds->n_movies; i++) {
            const char *t = ds->movies[i].title;
            int match = 0;
            for (size_t s = 0; !match && s + len <= strlen(t); s++) {
                size_t k = 0;
                while (k < len) {
                    unsigned char a = (unsigned char)t[s + k], b = (unsigned char)nd[k];
                    if (a >= 'A' && a <= 'Z')
                        a += 32;
                    if (b >= 'A' && b <= 'Z')
                        b += 32;
                    if (a != b)
                        break;
                    k++;
                }
                match = k == len;
            }
            if (match) {
                if ((int64_t)want >= got || hits[want] != i)
                    ok = 0;
                want++;
            }
        }
        CHECK(ok && got == (int64_t)want, "search: '%s' finds the %zu titles a scan finds", nd,
              want);
    }
    CHECK(mlpz_dataset_search(ds, "the", 3, hits, 5) == 5, "search: stops at max");
    CHECK(mlpz_dataset_search(ds, "a\0b", 3, hits, 5) == 0, "search: a NUL never matches");
    free(hits);

    /* Popularity: the most rated movie of ml-latest-small. */
    CHECK_STR(ds->items.str[ds->popular[0]], "356", "popular: Forrest Gump first");
    mlpz_dataset_free(ds);
}

static void test_good_fixture(void)
{
    mlpz_dataset *ds = mlpz_dataset_load(FIX "good", err, sizeof err);
    CHECK(ds != NULL, "fixture: good loads (%s)", ds ? "ok" : err);
    if (!ds)
        return;
    CHECK(ds->n_movies == 8 && ds->items.n == 9, "fixture: 8 movies and 1 unknown item");
    CHECK_STR(ds->items.str[8], "99", "fixture: items seen only in ratings come last");
    CHECK(!ds->movies[8].known && ds->movies[8].title == NULL,
          "fixture: unknown item has no title");
    CHECK(ds->n_interactions == 11 && event_count(ds, "click") == 7 &&
              event_count(ds, "watch") == 4,
          "fixture: 7 clicks (rating > 1) + 4 watches (rating > 3)");
    CHECK(ds->users.n == 2 && mlpz_dataset_user(ds, "30") < 0,
          "fixture: a user with only a 0.5 rating has no interactions");
    CHECK(mlpz_dataset_item(ds, "2") == 1 && ds->item_off[2] == ds->item_off[1],
          "fixture: a movie rated 1.0 only has no interactions");

    const mlpz_movie *m = movie(ds, "1");
    CHECK_STR(m->title, "Toy Story (1995)", "fixture: BOM skipped before the first column");
    CHECK_STR(movie(ds, "2")->title,
              "City of Lost Children, The (Cit\xc3\xa9 des enfants perdus, La) (1995)",
              "fixture: quoted title with commas");
    CHECK_STR(movie(ds, "3")->title, "11'09\"01 - September 11 (2002)",
              "fixture: doubled quote");
    CHECK_STR(movie(ds, "4")->title, "Two\r\nLines (2001)", "fixture: line break in a title");
    CHECK(movie(ds, "4")->year == 2001, "fixture: year after a line break");
    CHECK(movie(ds, "5")->year == 1999, "fixture: year before a trailing space");
    CHECK(movie(ds, "6")->year == 0, "fixture: no year");
    CHECK(movie(ds, "6")->genre_n == 1 && strcmp(genre(ds, movie(ds, "6"), 0),
                                                 "(no genres listed)") == 0,
          "fixture: '(no genres listed)' kept as the genre list");
    CHECK_STR(movie(ds, "8")->title, "Never Rated (2010)", "fixture: last line without CRLF");
    CHECK(movie(ds, "1")->genre_n == 5, "fixture: genres split on |");

    /* User 10: 400 click 1; 300 watch 99 then click 99 (same rating, the
     * later row first); 200 click 3; 100 watch 1, click 1. */
    static const char *const want10[] = {"1:click:400", "99:watch:300", "99:click:300",
                                         "3:click:200", "1:watch:100", "1:click:100"};
    int64_t u = mlpz_dataset_user(ds, "10");
    int ok = u == 0 && ds->user_off[1] - ds->user_off[0] == 6;
    for (uint32_t k = 0; ok && k < 6; k++) {
        const mlpz_event *e = &ds->by_user[ds->user_off[0] + k];
        char row[64];
        snprintf(row, sizeof row, "%s:%s:%lld", ds->items.str[e->item],
                 ds->events.str[e->event], (long long)e->ts);
        ok = strcmp(row, want10[k]) == 0;
    }
    CHECK(ok, "fixture: user 10 history newest first, later row first on ties");
    CHECK(ds->uniq_off[1] == 3 && ds->user_uniq[0] == 0 && ds->user_uniq[1] == 1 &&
              ds->user_uniq[2] == 3,
          "fixture: user 10 unique rows are the newest per item");
    static const char *const want20[] = {"3:watch", "3:click", "1:watch", "1:click", "5:click"};
    ok = ds->user_off[2] - ds->user_off[1] == 5;
    for (uint32_t k = 0; ok && k < 5; k++) {
        const mlpz_event *e = &ds->by_user[ds->user_off[1] + k];
        char row[64];
        snprintf(row, sizeof row, "%s:%s", ds->items.str[e->item], ds->events.str[e->event]);
        ok = strcmp(row, want20[k]) == 0;
    }
    CHECK(ok, "fixture: user 20 history, equal timestamps by row descending");
    const char *bad = broken_invariant(ds);
    CHECK(bad == NULL, "fixture: index invariants hold (%s)", bad ? bad : "all");
    CHECK(ds->n_popular == 4 && ds->popular[0] == 0 && ds->popular[1] == 2 &&
              ds->popular[2] == 4 && ds->popular[3] == 8,
          "fixture: popular by distinct users, ties by catalogue position");
    CHECK(ds->item_count[0] == 5, "fixture: item_count counts rows (item 1: 5)");
    CHECK(ds->ts_first == 50 && ds->ts_last == 400, "fixture: first and last timestamps");

    /* Genres of user 20's distinct items 3, 1, 5, and a list with repeats,
     * an unknown item and a no-genre movie. */
    mlpz_genre_count gc[16];
    uint32_t items20[] = {2, 0, 4};
    int64_t n = mlpz_dataset_top_genres(ds, items20, 3, gc, 16);
    char got[256] = "";
    for (int64_t k = 0; k < n; k++) {
        char part[64];
        snprintf(part, sizeof part, "%s%s=%u", k ? " " : "", ds->genres.str[gc[k].genre],
                 gc[k].count);
        strncat(got, part, sizeof got - strlen(got) - 1);
    }
    CHECK_STR(got, "Comedy=2 Drama=2 Adventure=1 Animation=1 Children=1 Fantasy=1",
              "top_genres: count desc then name asc");
    uint32_t list[] = {5, 6, 6, 8, 1000};
    n = mlpz_dataset_top_genres(ds, list, 5, gc, 1);
    CHECK(n == 1 && strcmp(ds->genres.str[gc[0].genre], "Action") == 0 && gc[0].count == 2,
          "top_genres: repeats count twice, max truncates, no-genre and unknown skipped");
    n = mlpz_dataset_top_genres(ds, list, 0, gc, 16);
    CHECK(n == 0, "top_genres: no items, no genres");
    mlpz_dataset_free(ds);
}

static void test_personalize_fixture(void)
{
    mlpz_dataset *ds = mlpz_dataset_load(FIX "personalize", err, sizeof err);
    CHECK(ds != NULL, "personalize: loads (%s)", ds ? "ok" : err);
    if (!ds)
        return;
    CHECK(!ds->derived && ends_with(ds->interactions_path, "personalize/interactions.csv"),
          "personalize: interactions.csv preferred over ratings.csv");
    CHECK(ds->n_interactions == 5 && ds->users.n == 2 && ds->events.n == 3,
          "personalize: lower-case headers in any order, extra column ignored");
    CHECK_STR(ds->events.str[1], "purchase", "personalize: event types as given");
    CHECK(event_count(ds, "click") == 3, "personalize: 3 clicks");
    int64_t u1 = mlpz_dataset_user(ds, "u1");
    const mlpz_event *e = &ds->by_user[ds->user_off[u1]];
    CHECK(u1 == 0 && strcmp(ds->events.str[e[0].event], "watch") == 0 && e[0].ts == 150 &&
              strcmp(ds->events.str[e[1].event], "click") == 0 && e[2].ts == 100,
          "personalize: u1 newest first, later row first on a tie");
    CHECK(ds->uniq_off[1] == 2, "personalize: quoted \"2\" is the same item as 2");
    mlpz_dataset_free(ds);
}

static void test_errors(void)
{
    static const struct {
        const char *dir, *want;
    } cases[] = {
        {FIX "bad_unterminated", FIX "bad_unterminated/movies.csv:3: field 2: unterminated "
                                     "quoted field; add the closing '\"'"},
        {FIX "bad_fields", FIX "bad_fields/ratings.csv:4: expected 4 fields as in the header, "
                               "found 5; enclose fields that contain commas in quotes"},
        {FIX "bad_midquote", FIX "bad_midquote/movies.csv:4: field 2: quote in the middle of an "
                                 "unquoted field; enclose the field in quotes and double the "
                                 "quote"},
        {FIX "bad_empty", FIX "bad_empty/movies.csv:1: empty file: expected a header line "
                              "naming the columns"},
        {FIX "bad_column", FIX "bad_column/ratings.csv:1: missing column 'rating' (found: "
                               "userId, movieId, score, timestamp); the header must name the "
                               "columns userId,movieId,rating,timestamp (in any order)"},
        {FIX "bad_rating", FIX "bad_rating/ratings.csv:3: rating 'four' is not a number "
                               "(column rating); expected a value such as 3.5"},
        {FIX "bad_timestamp", FIX "bad_timestamp/ratings.csv:4: timestamp '2001-01-01' is not "
                                  "an integer; expected seconds since 1970-01-01 UTC such as "
                                  "964982703"},
        {FIX "bad_duplicate", FIX "bad_duplicate/movies.csv:4: duplicate movieId '1' (column "
                                  "movieId); list each movie once"},
        {FIX "bad_interactions", FIX "bad_interactions/interactions.csv:1: missing column "
                                     "'EVENT_TYPE' (found: USER_ID, ITEM_ID, TIMESTAMP); the "
                                     "header must name the columns USER_ID,ITEM_ID,EVENT_TYPE,"
                                     "TIMESTAMP (in any order and case)"},
        {FIX "only_movies", "no interactions in " FIX "only_movies: need ratings.csv or "
                            "interactions.csv next to movies.csv; run `make data` or pass "
                            "--data DIR"},
        {FIX "no_movies", "no movies.csv in " FIX "no_movies: titles and genres come from "
                          "movies.csv next to the interactions; run `make data` or pass "
                          "--data DIR"},
        {"/nonexistent/data", "no MovieLens data in /nonexistent/data: need movies.csv and "
                              "ratings.csv or interactions.csv; run `make data` or pass "
                              "--data DIR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        err[0] = '\0';
        mlpz_dataset *ds = mlpz_dataset_load(cases[i].dir, err, sizeof err);
        CHECK(ds == NULL, "errors: %s is refused", cases[i].dir);
        CHECK_STR(err, cases[i].want, "errors: %s message", cases[i].dir);
        mlpz_dataset_free(ds);
    }

    /* Binary junk and a ratings file with only a header. */
    char tmpl[] = "/tmp/mlpz-ds-XXXXXX";
    char *tmp = mkdtemp(tmpl);
    char movies[512], ratings[512], want[1024];
    snprintf(movies, sizeof movies, "%s/movies.csv", tmp);
    snprintf(ratings, sizeof ratings, "%s/ratings.csv", tmp);
    FILE *f = fopen(movies, "wb");
    fwrite("movieId,title,genres\n1,A\0B,C\n", 1, 30, f);
    fclose(f);
    f = fopen(ratings, "wb");
    fputs("userId,movieId,rating,timestamp\r\n", f);
    fclose(f);
    CHECK(mlpz_dataset_load(tmp, err, sizeof err) == NULL, "errors: NUL byte refused");
    snprintf(want, sizeof want, "%s:2: NUL byte at offset 24: this is not a text CSV file "
                                "(is it compressed or truncated?)", movies);
    CHECK_STR(err, want, "errors: NUL byte message");
    f = fopen(movies, "wb");
    fputs("movieId,title,genres\n", f);
    fclose(f);
    CHECK(mlpz_dataset_load(tmp, err, sizeof err) == NULL, "errors: header-only ratings refused");
    snprintf(want, sizeof want, "%s:1: no interactions: no rating above 1 to derive a click "
                                "from", ratings);
    CHECK_STR(err, want, "errors: header-only ratings message");
    char small[24];
    CHECK(mlpz_dataset_load(tmp, small, sizeof small) == NULL &&
              strlen(small) == sizeof small - 1,
          "errors: message truncated to a small buffer");
    unlink(movies);
    unlink(ratings);
    rmdir(tmp);
}

static void test_dates(void)
{
    static const struct {
        int64_t ts;
        const char *want;
    } cases[] = {
        {0, "1970-01-01 00:00:00"},          {964982703, "2000-07-30 18:45:03"},
        {-1, "1969-12-31 23:59:59"},         {951782400, "2000-02-29 00:00:00"},
        {1537799250, "2018-09-24 14:27:30"}, {253402300799, "9999-12-31 23:59:59"},
        {-62135596800, "0001-01-01 00:00:00"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mlpz_format_date(cases[i].ts, buf, sizeof buf);
        CHECK_STR(buf, cases[i].want, "format_date(%lld)", (long long)cases[i].ts);
    }
    mlpz_format_date(INT64_MAX, buf, sizeof buf);
    CHECK(strlen(buf) > 19, "format_date(INT64_MAX) is some far year: %s", buf);
    mlpz_format_date(INT64_MIN, buf, sizeof buf);
    CHECK(strlen(buf) > 19, "format_date(INT64_MIN) is some far past year: %s", buf);
}

static void test_random(void)
{
    mlpz_dataset ds;
    memset(&ds, 0, sizeof ds);
    uint32_t a[100], b[100];
    mlpz_dataset_seed(&ds, 42);
    int64_t na = mlpz_dataset_sample(&ds, 1000, 100, a);
    mlpz_dataset_seed(&ds, 42);
    int64_t nb = mlpz_dataset_sample(&ds, 1000, 100, b);
    CHECK(na == 100 && nb == 100 && memcmp(a, b, sizeof a) == 0,
          "random: same seed, same sample");
    mlpz_dataset_seed(&ds, 42);
    CHECK(mlpz_dataset_random(&ds, UINT64_MAX) == 0x15780b2e0c2ec716u,
          "random: xoshiro256** seeded by splitmix64 gives the reference value");
    int distinct = 1, in_range = 1;
    for (int i = 0; i < 100; i++) {
        in_range &= a[i] < 1000;
        for (int j = 0; j < i; j++)
            distinct &= a[i] != a[j];
    }
    CHECK(distinct && in_range, "random: sparse sample is distinct and in range");
    int64_t n = mlpz_dataset_sample(&ds, 7, 100, a);
    int seen = 0;
    for (int i = 0; i < n; i++)
        seen |= 1 << a[i];
    CHECK(n == 7 && seen == 0x7f, "random: n above the population returns all of it");
    CHECK(mlpz_dataset_sample(&ds, 0, 5, a) == 0 && mlpz_dataset_sample(&ds, 5, 0, a) == 0,
          "random: empty population or n = 0");

    /* Each of 10 values first in a sample of 3 about 1/10 of the time,
     * and each picked at all about 3/10 (sparse path: 3 * 2 < 10). */
    int first[10] = {0}, any[10] = {0};
    for (int r = 0; r < 20000; r++) {
        mlpz_dataset_sample(&ds, 10, 3, a);
        first[a[0]]++;
        for (int k = 0; k < 3; k++)
            any[a[k]]++;
    }
    int uniform = 1;
    for (int v = 0; v < 10; v++)
        uniform &= first[v] > 1700 && first[v] < 2300 && any[v] > 5600 && any[v] < 6400;
    CHECK(uniform, "random: sample is uniform in membership and order");
}

int main(void)
{
    test_real();
    test_good_fixture();
    test_personalize_fixture();
    test_errors();
    test_dates();
    test_random();
    return unit_done();
}
