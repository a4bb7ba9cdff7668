#include "recommender.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mlpz_recommender {
    const mlpz_dataset *ds;
    uint32_t n_users, n_items;
    int trained;
    double train_seconds;

    /* Each user's distinct items, newest first: the user side of the graph
     * (ds->by_user repeats an item per event, which would count a user
     * twice in a co-occurrence). */
    uint32_t *hist;
    uint32_t *hist_off; /* n_users + 1 */
    double *inv;        /* per item: 1 / sqrt(n_j + SHRINK) */

    /* Query scratch, allocated once per model so queries do not allocate. */
    double *user_w;  /* n_users: summed weight reaching each user */
    double *score;   /* n_items */
    uint32_t *mark;  /* n_items: == gen when marked in the current query */
    uint32_t gen;
    uint32_t *cand;  /* n_items: candidates, then the top-n heap */
    size_t *pos;     /* n_items: rank()'s input position of each item */
};

static double now_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* calloc that does not mistake an empty array for a failure. */
static void *alloc_zero(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

mlpz_recommender *mlpz_recommender_new(const mlpz_dataset *ds)
{
    mlpz_recommender *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->ds = ds;
    r->n_users = ds->users.n;
    r->n_items = ds->items.n;
    return r;
}

static void release(mlpz_recommender *r)
{
    free(r->hist);
    free(r->hist_off);
    free(r->inv);
    free(r->user_w);
    free(r->score);
    free(r->mark);
    free(r->cand);
    free(r->pos);
    r->hist = r->hist_off = r->mark = r->cand = NULL;
    r->pos = NULL;
    r->inv = r->user_w = r->score = NULL;
    r->trained = 0;
}

void mlpz_recommender_free(mlpz_recommender *r)
{
    if (!r)
        return;
    release(r);
    free(r);
}

/* Starts a new marking round; marks of earlier rounds stop counting. */
static uint32_t next_gen(mlpz_recommender *r)
{
    if (++r->gen == 0) {
        memset(r->mark, 0, (size_t)r->n_items * sizeof *r->mark);
        r->gen = 1;
    }
    return r->gen;
}

static uint32_t item_users_n(const mlpz_dataset *ds, uint32_t j)
{
    return ds->item_off[j + 1] - ds->item_off[j];
}

int mlpz_recommender_train(mlpz_recommender *r)
{
    if (r->trained)
        return 0;
    double t0 = now_seconds();
    const mlpz_dataset *ds = r->ds;
    r->hist = alloc_zero(ds->n_interactions, sizeof *r->hist);
    r->hist_off = alloc_zero((size_t)r->n_users + 1, sizeof *r->hist_off);
    r->inv = alloc_zero(r->n_items, sizeof *r->inv);
    r->user_w = alloc_zero(r->n_users, sizeof *r->user_w);
    r->score = alloc_zero(r->n_items, sizeof *r->score);
    r->mark = alloc_zero(r->n_items, sizeof *r->mark);
    r->cand = alloc_zero(r->n_items, sizeof *r->cand);
    r->pos = alloc_zero(r->n_items, sizeof *r->pos);
    if (!r->hist || !r->hist_off || !r->inv || !r->user_w || !r->score || !r->mark
        || !r->cand || !r->pos) {
        release(r);
        return -1;
    }
    r->gen = 0;
    size_t k = 0;
    for (uint32_t u = 0; u < r->n_users; u++) {
        uint32_t g = next_gen(r);
        r->hist_off[u] = (uint32_t)k;
        for (uint32_t e = ds->user_off[u]; e < ds->user_off[u + 1]; e++) {
            uint32_t j = ds->by_user[e].item;
            if (r->mark[j] != g) {
                r->mark[j] = g;
                r->hist[k++] = j;
            }
        }
    }
    r->hist_off[r->n_users] = (uint32_t)k;
    for (uint32_t j = 0; j < r->n_items; j++)
        r->inv[j] = 1.0 / sqrt((double)item_users_n(ds, j) + MLPZ_REC_SHRINK);
    r->trained = 1;
    r->train_seconds = now_seconds() - t0;
    return 0;
}

int mlpz_recommender_trained(const mlpz_recommender *r)
{
    return r->trained;
}

double mlpz_recommender_train_seconds(const mlpz_recommender *r)
{
    return r->train_seconds;
}

size_t mlpz_recommender_pairs(const mlpz_recommender *r)
{
    return r->trained ? r->hist_off[r->n_users] : 0;
}

/* Result order: score descending, then popularity, then item index, so equal
 * scores (notably the zeros of unreachable items) fall back to what most
 * people chose, and every order is total and reproducible. */
static int better(const mlpz_recommender *r, uint32_t a, uint32_t b)
{
    double sa = r->score[a], sb = r->score[b];
    if (sa != sb)
        return sa > sb;
    uint32_t pa = r->ds->item_count[a], pb = r->ds->item_count[b];
    if (pa != pb)
        return pa > pb;
    return a < b;
}

/* Restores the heap below i; the root of a heap is its worst element. */
static void sift_down(const mlpz_recommender *r, uint32_t *h, size_t len, size_t i)
{
    for (;;) {
        size_t worst = i, c = 2 * i + 1;
        if (c < len && better(r, h[worst], h[c]))
            worst = c;
        if (c + 1 < len && better(r, h[worst], h[c + 1]))
            worst = c + 1;
        if (worst == i)
            return;
        uint32_t t = h[i];
        h[i] = h[worst];
        h[worst] = t;
        i = worst;
    }
}

/* Moves the best min(n, len) of cand[0..len) to its front, best first, and
 * returns how many: a bounded heap, O(len log n), no allocation. */
static size_t top_n(const mlpz_recommender *r, uint32_t *cand, size_t len, size_t n)
{
    size_t k = len < n ? len : n;
    for (size_t i = k / 2; i-- > 0;)
        sift_down(r, cand, k, i);
    for (size_t i = k; i < len; i++) {
        if (better(r, cand[i], cand[0])) {
            cand[0] = cand[i];
            sift_down(r, cand, k, 0);
        }
    }
    for (size_t end = k; end-- > 1;) {
        uint32_t t = cand[0];
        cand[0] = cand[end];
        cand[end] = t;
        sift_down(r, cand, end, 0);
    }
    return k;
}

/* Fills r->score with user's unnormalised score for every item:
 *   score(j) = sum over history items h of w_h * sim(h, j)
 *            = inv_j * sum over users v of [j in v] * sum over h in v of w_h * inv_h
 * so one pass gives each user's weight, a second spreads it to their items. */
static void user_scores(mlpz_recommender *r, uint32_t user)
{
    const mlpz_dataset *ds = r->ds;
    memset(r->user_w, 0, (size_t)r->n_users * sizeof *r->user_w);
    memset(r->score, 0, (size_t)r->n_items * sizeof *r->score);
    uint32_t first = r->hist_off[user], last = r->hist_off[user + 1];
    for (uint32_t k = first; k < last; k++) {
        uint32_t h = r->hist[k];
        double w = exp2(-(double)(k - first) / MLPZ_REC_HALF_LIFE) * r->inv[h];
        for (uint32_t e = ds->item_off[h]; e < ds->item_off[h + 1]; e++)
            r->user_w[ds->item_users[e]] += w;
    }
    for (uint32_t v = 0; v < r->n_users; v++) {
        double w = r->user_w[v];
        if (w == 0.0)
            continue;
        for (uint32_t k = r->hist_off[v]; k < r->hist_off[v + 1]; k++)
            r->score[r->hist[k]] += w;
    }
    for (uint32_t j = 0; j < r->n_items; j++)
        r->score[j] *= r->inv[j];
}

int mlpz_recommender_similar(mlpz_recommender *r, uint32_t item, size_t n,
                             mlpz_rec_item *out, size_t *count)
{
    *count = 0;
    if (mlpz_recommender_train(r) != 0 || item >= r->n_items)
        return -1;
    const mlpz_dataset *ds = r->ds;
    memset(r->score, 0, (size_t)r->n_items * sizeof *r->score);
    for (uint32_t e = ds->item_off[item]; e < ds->item_off[item + 1]; e++) {
        uint32_t v = ds->item_users[e];
        for (uint32_t k = r->hist_off[v]; k < r->hist_off[v + 1]; k++)
            r->score[r->hist[k]] += 1.0;
    }
    size_t len = 0;
    for (uint32_t j = 0; j < r->n_items; j++) {
        if (j == item)
            continue;
        r->score[j] *= r->inv[item] * r->inv[j];
        r->cand[len++] = j;
    }
    size_t k = top_n(r, r->cand, len, n);
    for (size_t i = 0; i < k; i++) {
        uint32_t j = r->cand[i];
        out[i] = (mlpz_rec_item){.item = j, .score = r->score[j], .scored = r->score[j] > 0.0};
    }
    *count = k;
    return 0;
}

/* Scores by popularity instead, for a user the graph says nothing about. */
static double popularity_scores(mlpz_recommender *r, const uint32_t *items, size_t len)
{
    double total = 0.0;
    for (size_t i = 0; i < len; i++) {
        r->score[items[i]] = (double)r->ds->item_count[items[i]];
        total += r->score[items[i]];
    }
    return total;
}

int mlpz_recommender_recommend(mlpz_recommender *r, uint32_t user, size_t n,
                               int exclude_seen, mlpz_rec_item *out, size_t *count)
{
    *count = 0;
    if (mlpz_recommender_train(r) != 0 || user >= r->n_users)
        return -1;
    user_scores(r, user);
    uint32_t g = next_gen(r);
    if (exclude_seen) {
        for (uint32_t k = r->hist_off[user]; k < r->hist_off[user + 1]; k++)
            r->mark[r->hist[k]] = g;
    }
    size_t len = 0;
    double total = 0.0;
    for (uint32_t j = 0; j < r->n_items; j++) {
        if (r->mark[j] == g)
            continue;
        r->cand[len++] = j;
        total += r->score[j];
    }
    if (total <= 0.0)
        total = popularity_scores(r, r->cand, len);
    size_t k = top_n(r, r->cand, len, n);
    for (size_t i = 0; i < k; i++) {
        uint32_t j = r->cand[i];
        double s = total > 0.0 ? r->score[j] / total : 0.0;
        out[i] = (mlpz_rec_item){.item = j, .score = s, .scored = 1};
    }
    *count = k;
    return 0;
}

int mlpz_recommender_rank(mlpz_recommender *r, uint32_t user, const int64_t *items,
                          size_t m, mlpz_rec_item *out, size_t *count)
{
    *count = 0;
    if (mlpz_recommender_train(r) != 0 || user >= r->n_users)
        return -1;
    user_scores(r, user);
    uint32_t g = next_gen(r);
    /* First occurrences in input order into out; the known ones also into
     * cand, to be sorted. */
    size_t len = 0, known = 0;
    for (size_t p = 0; p < m; p++) {
        int64_t idx = items[p];
        int valid = idx >= 0 && idx < (int64_t)r->n_items;
        uint32_t j = valid ? (uint32_t)idx : 0;
        if (valid) {
            if (r->mark[j] == g)
                continue;
            r->mark[j] = g;
        }
        int scored = valid && item_users_n(r->ds, j) > 0;
        out[len++] = (mlpz_rec_item){.item = j, .pos = p, .scored = scored};
        if (scored) {
            r->cand[known++] = j;
            r->pos[j] = p;
        }
    }
    /* Unknown entries keep their input order, after the known block. */
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        if (!out[i].scored)
            out[w++] = out[i];
    }
    memmove(out + known, out, w * sizeof *out);
    double total = 0.0;
    for (size_t i = 0; i < known; i++)
        total += r->score[r->cand[i]];
    if (total <= 0.0)
        total = popularity_scores(r, r->cand, known);
    top_n(r, r->cand, known, known);
    for (size_t i = 0; i < known; i++) {
        uint32_t j = r->cand[i];
        double s = total > 0.0 ? r->score[j] / total : 0.0;
        out[i] = (mlpz_rec_item){.item = j, .pos = r->pos[j], .score = s, .scored = 1};
    }
    *count = len;
    return 0;
}
