/* The Lua face of core/dataset: other bindings (the local recommender)
 * reach the C dataset behind a script's `ds` through this. */
#ifndef MLPZ_L_DATASET_H
#define MLPZ_L_DATASET_H

#include <lua.h>

#include "dataset.h"

#define MLPZ_DATASET_MT "mlpz.dataset"

/* The dataset of the userdata at arg; raises an argument error otherwise. */
mlpz_dataset *mlpz_check_dataset(lua_State *L, int arg);

#endif
