/* The MovieLens / Personalize interactions dataset, loaded and indexed in
 * memory. Pure C (no Lua): bindings/l_dataset.c exposes it to scripts and
 * core/recommender.c trains on it.
 *
 * Ids are strings at every boundary (Personalize's ids are strings); inside,
 * users, items, event types and genres are interned to dense indices so every
 * per-user or per-item query is an array slice. */
#ifndef MLPZ_DATASET_H
#define MLPZ_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "strtab.h"

/* One interaction row as seen from its user: kept in a CSR array sorted by
 * user, then newest first (timestamp descending, then later input row
 * first, so a `watch` derived from the same rating as a `click` is newer). */
typedef struct {
    uint32_t item;  /* index into ds->items */
    uint32_t event; /* index into ds->events */
    int64_t ts;     /* seconds since the epoch, UTC */
} mlpz_event;

/* Catalogue entry of movies.csv. Items seen only in interactions have
 * known == 0 and no title. */
typedef struct {
    char *title;        /* UTF-8, owned; NULL when !known */
    int year;           /* parsed from the trailing "(YYYY)", 0 when absent */
    uint32_t genre_off; /* slice of ds->genre_list */
    uint32_t genre_n;
    uint8_t known;
} mlpz_movie;

typedef struct mlpz_dataset {
    char *dir;               /* folder the files came from */
    char *interactions_path; /* interactions.csv or ratings.csv actually read */
    int derived;             /* 1 when interactions were derived from ratings.csv */

    mlpz_strtab users, items, events, genres;

    mlpz_movie *movies;   /* items.n entries, indexed like items */
    uint32_t *genre_list; /* genre indices, sliced by mlpz_movie */
    size_t n_movies;      /* rows of movies.csv */

    size_t n_interactions;
    mlpz_event *by_user; /* n_interactions, CSR by user (see mlpz_event) */
    uint32_t *user_off;  /* users.n + 1 offsets into by_user */

    /* Distinct users per item, ascending user index: the item side of the
     * user-item graph the recommender walks. */
    uint32_t *item_users;
    uint32_t *item_off;   /* items.n + 1 offsets into item_users */
    uint32_t *item_count; /* interaction rows per item (popularity) */
} mlpz_dataset;

/* Loads movies.csv and interactions.csv (preferred) or ratings.csv from dir.
 * On failure returns NULL and writes a one-line message naming the file,
 * line and field into err. */
mlpz_dataset *mlpz_dataset_load(const char *dir, char *err, size_t errlen);
void mlpz_dataset_free(mlpz_dataset *ds);

/* Dense index of an id, or -1 when unknown. */
int64_t mlpz_dataset_user(const mlpz_dataset *ds, const char *id);
int64_t mlpz_dataset_item(const mlpz_dataset *ds, const char *id);

#endif
