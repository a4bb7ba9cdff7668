/* The Lua face of core/dataset: other bindings (the local recommender)
 * reach the C dataset behind a script's `ds` through this. */
#ifndef MLPZ_L_DATASET_H
#define MLPZ_L_DATASET_H

#include <lua.h>

#include "dataset.h"

#define MLPZ_DATASET_MT "mlpz.dataset"

/* The dataset of the userdata at arg; raises an argument error otherwise. */
mlpz_dataset *mlpz_check_dataset(lua_State *L, int arg);

/* Room for an integer id formatted in decimal. */
#define MLPZ_ID_BUF 32

/* The id at idx: a string as it is, an integer (or integral float) in
 * decimal, as Personalize ids are strings; NULL for any other value. buf
 * holds a formatted integer. */
const char *mlpz_to_id(lua_State *L, int idx, char buf[MLPZ_ID_BUF], size_t *len);

/* mlpz_to_id, raising an argument error for anything but an id. */
const char *mlpz_check_id(lua_State *L, int arg, char buf[MLPZ_ID_BUF], size_t *len);

/* n elements of size bytes in a userdata left on the stack, so the garbage
 * collector reclaims them even when a Lua error interrupts the call. */
void *mlpz_scratch(lua_State *L, size_t n, size_t size);

#endif
