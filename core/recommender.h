/* The embedded local recommender: the offline stand-in for an Amazon
 * Personalize campaign, so every demo runs without an AWS account.
 *
 * Item-item collaborative filtering over the user-item graph of a dataset:
 *   sim(i, j) = co(i, j) / sqrt((n_i + SHRINK) * (n_j + SHRINK))
 * where co(i, j) counts users who interacted with both items (distinct
 * user-item pairs) and n_i the users of item i. The similarity factors as
 * a product of per-item terms, so a user's score for every item is one walk
 * of the graph (history items -> their users -> those users' items) instead
 * of an items x items matrix. Pure C (no Lua); deterministic for the same
 * data. */
#ifndef MLPZ_RECOMMENDER_H
#define MLPZ_RECOMMENDER_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

/* Pseudo-users added to both items' audiences, so one shared user is not a
 * perfect match and rare items do not outrank well-attested ones. */
#define MLPZ_REC_SHRINK 10.0
/* A history item's weight halves every this many distinct items back. */
#define MLPZ_REC_HALF_LIFE 25.0
/* Largest n a query accepts. */
#define MLPZ_REC_MAX_N 10000

typedef struct mlpz_recommender mlpz_recommender;

/* One result. scored == 0 marks an item without a score: popular fill of
 * similar(), or an id unknown to the model in rank(). */
typedef struct {
    uint32_t item; /* index into ds->items */
    size_t pos;    /* rank(): position in the input; 0 otherwise */
    double score;
    int scored;
} mlpz_rec_item;

/* An untrained model over ds, which must outlive it; NULL when out of
 * memory. */
mlpz_recommender *mlpz_recommender_new(const mlpz_dataset *ds);
void mlpz_recommender_free(mlpz_recommender *r);

/* Builds the model; queries call it on first use. Returns 0, or -1 when out
 * of memory (the model stays untrained and usable for a retry). */
int mlpz_recommender_train(mlpz_recommender *r);
int mlpz_recommender_trained(const mlpz_recommender *r);
double mlpz_recommender_train_seconds(const mlpz_recommender *r);
/* Distinct user-item pairs the model was trained on (0 until trained). */
size_t mlpz_recommender_pairs(const mlpz_recommender *r);

/* Up to n items most similar to item, the item itself excluded, best
 * first (score descending, then popularity, then item index). When fewer
 * than n items co-occur with it, the most popular other items follow with
 * scored == 0. Writes *count results into out (room for n). Returns 0, or
 * -1 when item is out of range or memory runs out. */
int mlpz_recommender_similar(mlpz_recommender *r, uint32_t item, size_t n,
                             mlpz_rec_item *out, size_t *count);

/* Up to n items for user, best first. Scores are normalised to sum to 1
 * over every candidate item of the catalogue (all items, minus the user's
 * own when exclude_seen); items the graph cannot reach score 0 and come in
 * popularity order. A user without any reachable item is scored by
 * popularity. Returns 0, or -1 when user is out of range or memory runs
 * out. */
int mlpz_recommender_recommend(mlpz_recommender *r, uint32_t user, size_t n,
                               int exclude_seen, mlpz_rec_item *out, size_t *count);

/* Orders items[0..m) (indices, or -1 for ids unknown to the dataset) for
 * user. Items with interactions are scored, normalised to sum to 1 over the
 * given items, and come first, best first; the others follow in input order
 * with scored == 0. Repeated indices are kept once. Each result's pos is its
 * input position. Writes *count results into out (room for m). Returns 0,
 * or -1 when user is out of range or memory runs out. */
int mlpz_recommender_rank(mlpz_recommender *r, uint32_t user, const int64_t *items,
                          size_t m, mlpz_rec_item *out, size_t *count);

#endif
