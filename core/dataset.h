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

    /* Positions in by_user of each user's newest row per distinct item,
     * newest first: histories with unique rows and per-user genre counts
     * cost the size of their answer. */
    uint32_t *user_uniq;
    uint32_t *uniq_off;   /* users.n + 1 offsets into user_uniq */

    size_t *event_count;  /* rows per event type, events.n entries */
    int64_t ts_first, ts_last; /* oldest and newest interaction */

    /* Items with interactions by distinct users descending, ties by index. */
    uint32_t *popular;
    uint32_t n_popular;   /* distinct items with interactions */

    uint32_t *genre_rank; /* genres.n: position of each genre in byte order */
    int64_t no_genre;     /* index of "(no genres listed)", or -1 */

    /* ASCII-lowercased titles of movies 0..n_movies-1, each followed by a
     * NUL; title i starts at folded_off[i]. */
    char *folded;
    size_t *folded_off;   /* n_movies + 1 */

    uint64_t rng[4];      /* xoshiro256** state for the random picks */
} mlpz_dataset;

typedef struct {
    uint32_t genre; /* index into ds->genres */
    uint32_t count;
} mlpz_genre_count;

/* Loads movies.csv and interactions.csv (preferred) or ratings.csv from dir.
 * On failure returns NULL and writes a one-line message naming the file,
 * line and field into err. */
mlpz_dataset *mlpz_dataset_load(const char *dir, char *err, size_t errlen);
void mlpz_dataset_free(mlpz_dataset *ds);

/* Dense index of an id, or -1 when unknown. */
int64_t mlpz_dataset_user(const mlpz_dataset *ds, const char *id);
int64_t mlpz_dataset_item(const mlpz_dataset *ds, const char *id);

/* Seeds the dataset's generator (splitmix64 into xoshiro256**), so the same
 * seed gives the same picks on every machine. Loading seeds it from the
 * clock and the pid. */
void mlpz_dataset_seed(mlpz_dataset *ds, uint64_t seed);

/* Uniform integer in [0, bound), bound > 0, from the dataset's generator. */
uint64_t mlpz_dataset_random(mlpz_dataset *ds, uint64_t bound);

/* Writes min(n, population) distinct indices of 0..population-1 to out, a
 * uniformly random sample in uniformly random order. Returns how many, or
 * -1 on allocation failure. Costs O(min(n, population)). */
int64_t mlpz_dataset_sample(mlpz_dataset *ds, uint32_t population, size_t n, uint32_t *out);

/* Writes to out (room for max) the indices of the movies whose title
 * contains text (len bytes) with ASCII case folding, in movies.csv order,
 * and returns how many; -1 on allocation failure. Scans the folded titles
 * only until max are found: at worst every title once. */
int64_t mlpz_dataset_search(const mlpz_dataset *ds, const char *text, size_t len,
                            uint32_t *out, size_t max);

/* Counts the genres of the n items (an item listed twice counts twice;
 * indices past ds->items are ignored; "(no genres listed)" is skipped),
 * sorts them by count descending then genre name ascending, and writes the
 * first max to out. Returns how many were written, or -1 on allocation
 * failure. At most ds->genres.n genres exist. */
int64_t mlpz_dataset_top_genres(const mlpz_dataset *ds, const uint32_t *items, size_t n,
                                mlpz_genre_count *out, size_t max);

/* Formats ts (seconds since the epoch) as "YYYY-MM-DD HH:MM:SS" in UTC,
 * for any int64 value (proleptic Gregorian calendar). */
void mlpz_format_date(int64_t ts, char *buf, size_t len);

#endif
