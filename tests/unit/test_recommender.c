/* The local recommender on a hand-made dataset whose answers are worked out
 * below from the co-occurrence counts, then on ml-latest-small ($MLPZ_DATA):
 * normalisation, determinism, timing. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "recommender.h"
#include "unit.h"

#define S MLPZ_REC_SHRINK

/* Users and their items (oldest first):
 *   A: 1 (t100), 2 (t200), 3 (t300, a click and a watch: one pair)
 *   B: 1, 4      C: 2, 4, 5      D: 3, 5      E: 6      F: 4
 * Movie 7 is in the catalogue only. Users per item: n1 = 2 (A B),
 * n2 = 2 (A C), n3 = 2 (A D), n4 = 3 (B C F), n5 = 2 (C D), n6 = 1, n7 = 0.
 * Interaction rows per item: 1:2 2:2 3:3 4:3 5:2 6:1 7:0. */
static const char *MOVIES =
    "movieId,title,genres\n"
    "1,One (2001),Comedy\n"
    "2,Two (2002),Drama\n"
    "3,Three (2003),Drama\n"
    "4,Four (2004),Comedy\n"
    "5,Five (2005),Horror\n"
    "6,Six (2006),Horror\n"
    "7,Seven (2007),Comedy\n";
static const char *INTERACTIONS =
    "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n"
    "A,1,click,100\n"
    "A,3,click,300\n"
    "A,2,click,200\n"
    "A,3,watch,300\n"
    "B,1,click,100\n"
    "B,4,click,200\n"
    "C,2,click,100\n"
    "C,4,click,200\n"
    "C,5,click,300\n"
    "D,3,click,100\n"
    "D,5,click,200\n"
    "E,6,click,100\n"
    "F,4,click,100\n";

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static void remove_dir(const char *dir)
{
    const char *names[] = {"movies.csv", "interactions.csv"};
    char path[512];
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static uint32_t item(const mlpz_dataset *ds, const char *id)
{
    int64_t j = mlpz_dataset_item(ds, id);
    if (j < 0) {
        printf("# no item %s\n", id);
        exit(1);
    }
    return (uint32_t)j;
}

static uint32_t user(const mlpz_dataset *ds, const char *id)
{
    int64_t u = mlpz_dataset_user(ds, id);
    if (u < 0) {
        printf("# no user %s\n", id);
        exit(1);
    }
    return (uint32_t)u;
}

static double inv(int n)
{
    return 1.0 / sqrt(n + S);
}

static int close_to(double a, double b)
{
    return fabs(a - b) <= 1e-12 * (fabs(a) + fabs(b) + 1e-300);
}

/* Expected results as (id, score or NAN for unscored) in order. */
typedef struct {
    const char *id;
    double score;
} want;

static void check_list(const mlpz_dataset *ds, const char *what, const mlpz_rec_item *got,
                       size_t n, const want *w, size_t wn)
{
    CHECK(n == wn, "%s: %zu results (got %zu)", what, wn, n);
    for (size_t i = 0; i < n && i < wn; i++) {
        const char *id = got[i].item < ds->items.n ? ds->items.str[got[i].item] : "?";
        int same_id = strcmp(id, w[i].id) == 0;
        int same_score = isnan(w[i].score) ? !got[i].scored
                                           : got[i].scored && close_to(got[i].score, w[i].score);
        CHECK(same_id && same_score, "%s: #%zu is %s with score %.15g (got %s, %s%.15g)", what,
              i + 1, w[i].id, w[i].score, id, got[i].scored ? "" : "unscored ", got[i].score);
    }
}

static void test_tiny(const mlpz_dataset *ds)
{
    mlpz_recommender *r = mlpz_recommender_new(ds);
    CHECK(r != NULL, "tiny: model created");
    if (!r)
        return;
    CHECK(!mlpz_recommender_trained(r), "tiny: not trained before first use");
    mlpz_rec_item out[16];
    size_t n = 0;

    /* similar(1): A brings 2 and 3, B brings 4, one shared user each.
     * sim(1,2) = sim(1,3) = 1/sqrt((2+S)(2+S)); sim(1,4) = 1/sqrt((2+S)(3+S)).
     * 3 beats 2 on popularity (3 rows against 2); 5, 6, 7 are popular fill. */
    CHECK(mlpz_recommender_similar(r, item(ds, "1"), 10, out, &n) == 0, "tiny: similar(1) runs");
    CHECK(mlpz_recommender_trained(r), "tiny: first query trained the model");
    CHECK(mlpz_recommender_pairs(r) == 12, "tiny: 12 distinct user-item pairs (got %zu)",
          mlpz_recommender_pairs(r));
    want sim1[] = {{"3", inv(2) * inv(2)}, {"2", inv(2) * inv(2)}, {"4", inv(2) * inv(3)},
                   {"5", NAN}, {"6", NAN}, {"7", NAN}};
    check_list(ds, "similar(1)", out, n, sim1, 6);

    /* similar(4): B brings 1, C brings 2 and 5: one shared user each, n = 2
     * for all three, so popularity (1:2 rows, 2:2, 5:2) then index decides. */
    CHECK(mlpz_recommender_similar(r, item(ds, "4"), 3, out, &n) == 0, "tiny: similar(4) runs");
    double s4 = inv(3) * inv(2);
    CHECK(n == 3 && close_to(out[0].score, s4) && close_to(out[1].score, s4)
              && close_to(out[2].score, s4) && out[0].item < out[1].item
              && out[1].item < out[2].item,
          "tiny: similar(4) = 1, 2, 5 with equal scores in item-index order");

    /* similar(7): no interactions at all, so popular items only: 3 and 4
     * (3 rows each, by index), then 1, 2, 5 (2 rows, by index), then 6. */
    CHECK(mlpz_recommender_similar(r, item(ds, "7"), 10, out, &n) == 0, "tiny: similar(7) runs");
    int all_fill = n == 6;
    for (size_t i = 0; i < n; i++)
        all_fill = all_fill && !out[i].scored;
    CHECK(all_fill, "tiny: an item without interactions gets 6 unscored popular items");
    uint32_t i3 = item(ds, "3"), i4 = item(ds, "4");
    CHECK(n == 6 && out[0].item == (i3 < i4 ? i3 : i4) && out[1].item == (i3 < i4 ? i4 : i3)
              && out[5].item == item(ds, "6"),
          "tiny: similar(7) fill is in popularity order");

    /* recommend(A): history newest first 3, 2, 1 with weights w0, w1, w2.
     *   raw(4) = inv4 * (w1 co(2,4) inv2 + w2 co(1,4) inv1) = inv4 (w1 + w2) inv2
     *   raw(5) = inv5 * (w0 co(3,5) inv3 + w1 co(2,5) inv2) = inv5 (w0 + w1) inv2
     *   raw(6) = raw(7) = 0 (nobody links them to A's items) */
    double w0 = 1.0, w1 = pow(2.0, -1.0 / 25.0), w2 = pow(2.0, -2.0 / 25.0);
    double r4 = inv(3) * (w1 + w2) * inv(2), r5 = inv(2) * (w0 + w1) * inv(2);
    CHECK(mlpz_recommender_recommend(r, user(ds, "A"), 10, 1, out, &n) == 0,
          "tiny: recommend(A) runs");
    want recA[] = {{"5", r5 / (r4 + r5)}, {"4", r4 / (r4 + r5)}, {"6", 0.0}, {"7", 0.0}};
    check_list(ds, "recommend(A)", out, n, recA, 4);

    /* With seen items kept, 1, 2 and 3 score too:
     *   raw(1) = inv1 (w0 co(3,1) inv3 + w1 co(2,1) inv2 + w2 co(1,1) inv1)
     *          = inv2^2 (w0 + w1 + 2 w2), and likewise
     *   raw(2) = inv2^2 (w0 + 2 w1 + w2), raw(3) = inv2^2 (2 w0 + w1 + w2). */
    double q = inv(2) * inv(2);
    double r1 = q * (w0 + w1 + 2 * w2), r2 = q * (w0 + 2 * w1 + w2), r3 = q * (2 * w0 + w1 + w2);
    double all = r1 + r2 + r3 + r4 + r5;
    CHECK(mlpz_recommender_recommend(r, user(ds, "A"), 10, 0, out, &n) == 0,
          "tiny: recommend(A, exclude_seen=false) runs");
    want recA_all[] = {{"3", r3 / all}, {"2", r2 / all}, {"1", r1 / all}, {"5", r5 / all},
                       {"4", r4 / all}, {"6", 0.0}, {"7", 0.0}};
    check_list(ds, "recommend(A, seen kept)", out, n, recA_all, 7);

    /* E's only item links to nobody else: scored by popularity instead. */
    CHECK(mlpz_recommender_recommend(r, user(ds, "E"), 2, 1, out, &n) == 0,
          "tiny: recommend(E) runs");
    CHECK(n == 2 && close_to(out[0].score, 3.0 / 12.0) && close_to(out[1].score, 3.0 / 12.0),
          "tiny: a user without co-occurrences gets popularity shares (3 of the other 12 rows)");

    /* rank(A, [7, unknown, 4, 1, 4, 5]): 4, 1, 5 scored (raw as above) and
     * normalised over themselves; 7 (no interactions) and the unknown id
     * follow in input order; the second 4 is dropped. */
    int64_t in[] = {item(ds, "7"), -1, item(ds, "4"), item(ds, "1"), item(ds, "4"), item(ds, "5")};
    CHECK(mlpz_recommender_rank(r, user(ds, "A"), in, 6, out, &n) == 0, "tiny: rank runs");
    double t = r1 + r4 + r5;
    CHECK(n == 5, "tiny: rank keeps 5 of 6 (a repeat dropped), got %zu", n);
    if (n == 5) {
        CHECK(out[0].item == item(ds, "1") && out[0].pos == 3 && close_to(out[0].score, r1 / t),
              "tiny: rank #1 is 1 (input #4) with %.15g", r1 / t);
        CHECK(out[1].item == item(ds, "5") && out[1].pos == 5 && close_to(out[1].score, r5 / t),
              "tiny: rank #2 is 5 (input #6) with %.15g", r5 / t);
        CHECK(out[2].item == item(ds, "4") && out[2].pos == 2 && close_to(out[2].score, r4 / t),
              "tiny: rank #3 is 4 (input #3) with %.15g", r4 / t);
        CHECK(!out[3].scored && out[3].pos == 0 && !out[4].scored && out[4].pos == 1,
              "tiny: unknown ids last, unscored, in input order");
    }
    CHECK(mlpz_recommender_rank(r, user(ds, "A"), in, 0, out, &n) == 0 && n == 0,
          "tiny: rank of nothing is empty");
    CHECK(mlpz_recommender_similar(r, (uint32_t)ds->items.n, 1, out, &n) == -1
              && mlpz_recommender_recommend(r, (uint32_t)ds->users.n, 1, 1, out, &n) == -1,
          "tiny: out-of-range indices are refused");
    mlpz_recommender_free(r);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int same_items(const mlpz_rec_item *a, const mlpz_rec_item *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].item != b[i].item || a[i].scored != b[i].scored || a[i].score != b[i].score)
            return 0;
    }
    return 1;
}

static void test_real(const char *dir)
{
    char err[512];
    double t0 = now();
    mlpz_dataset *ds = mlpz_dataset_load(dir, err, sizeof err);
    CHECK(ds != NULL, "real: dataset loads (%s)", ds ? dir : err);
    if (!ds)
        return;
    double t_load = now() - t0;
    size_t items = ds->items.n;
    mlpz_rec_item *a = calloc(items, sizeof *a), *b = calloc(items, sizeof *b);
    uint32_t *mark = calloc(items, sizeof *mark);
    mlpz_recommender *r1 = mlpz_recommender_new(ds), *r2 = mlpz_recommender_new(ds);
    if (!a || !b || !mark || !r1 || !r2) {
        CHECK(0, "real: allocation");
        goto out;
    }
    size_t n1, n2;
    t0 = now();
    int rc = mlpz_recommender_recommend(r1, 0, 10, 1, a, &n1);
    double t_first = now() - t0;
    CHECK(rc == 0 && n1 == 10, "real: first recommend trains and answers 10");
    CHECK(t_first < 1.0, "real: training + first query in %.3f s (< 1 s)", t_first);
    printf("# load %.3f s, train %.4f s, train + first query %.4f s\n", t_load,
           mlpz_recommender_train_seconds(r1), t_first);
    CHECK(mlpz_recommender_pairs(r1) == ds->item_off[items],
          "real: distinct pairs agree with the dataset's item side (%zu)",
          mlpz_recommender_pairs(r1));

    /* Every 10th user: the full catalogue sums to 1 and two models agree. */
    int sums = 1, same = 1, desc = 1;
    size_t users = ds->users.n, queries = 0;
    t0 = now();
    for (uint32_t u = 0; u < users; u += 10) {
        if (mlpz_recommender_recommend(r1, u, MLPZ_REC_MAX_N, 1, a, &n1) != 0
            || mlpz_recommender_recommend(r2, u, MLPZ_REC_MAX_N, 1, b, &n2) != 0) {
            sums = 0;
            break;
        }
        queries += 2;
        double total = 0.0;
        for (size_t i = 0; i < n1; i++) {
            total += a[i].score;
            if (i > 0 && a[i].score > a[i - 1].score)
                desc = 0;
        }
        size_t seen = 0;
        for (uint32_t e = ds->user_off[u]; e < ds->user_off[u + 1]; e++) {
            uint32_t j = ds->by_user[e].item;
            if (mark[j] != u + 1) {
                mark[j] = u + 1;
                seen++;
            }
        }
        if (fabs(total - 1.0) > 1e-9 || n1 != items - seen)
            sums = 0;
        if (n1 != n2 || !same_items(a, b, n1))
            same = 0;
    }
    double per = queries ? (now() - t0) / (double)queries : 0.0;
    CHECK(sums, "real: full-catalogue recommend covers every unseen item and sums to 1 "
                "(every 10th user)");
    CHECK(desc, "real: recommend scores never increase down the list");
    CHECK(same, "real: two models give identical recommendations");
    printf("# full-catalogue recommend: %.2f ms per query (%zu queries)\n", per * 1e3, queries);

    int sim_same = 1;
    t0 = now();
    queries = 0;
    for (uint32_t j = 0; j < items; j += 97) {
        if (mlpz_recommender_similar(r1, j, 25, a, &n1) != 0
            || mlpz_recommender_similar(r2, j, 25, b, &n2) != 0 || n1 != n2
            || !same_items(a, b, n1))
            sim_same = 0;
        queries += 2;
    }
    per = (now() - t0) / (double)queries;
    CHECK(sim_same, "real: two models give identical similar items");
    printf("# similar(25): %.2f ms per query (%zu queries)\n", per * 1e3, queries);

    t0 = now();
    for (uint32_t u = 0; u < users; u++)
        mlpz_recommender_recommend(r1, u, 25, 1, a, &n1);
    per = users ? (now() - t0) / (double)users : 0.0;
    printf("# recommend(25): %.2f ms per query (%zu users)\n", per * 1e3, users);
out:
    mlpz_recommender_free(r1);
    mlpz_recommender_free(r2);
    free(a);
    free(b);
    free(mark);
    mlpz_dataset_free(ds);
}

int main(void)
{
    char dir[] = "/tmp/mlpz-rec-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return unit_done();
    }
    int ok = write_file(dir, "movies.csv", MOVIES) == 0
             && write_file(dir, "interactions.csv", INTERACTIONS) == 0;
    CHECK(ok, "tiny dataset written");
    char err[512] = "";
    mlpz_dataset *ds = ok ? mlpz_dataset_load(dir, err, sizeof err) : NULL;
    CHECK(ds != NULL, "tiny dataset loads (%s)", ds ? "ok" : err);
    if (ds) {
        test_tiny(ds);
        mlpz_dataset_free(ds);
    }
    remove_dir(dir);

    const char *data = getenv("MLPZ_DATA");
    if (data && *data)
        test_real(data);
    else
        printf("# MLPZ_DATA not set: real-data checks skipped\n");
    return unit_done();
}
