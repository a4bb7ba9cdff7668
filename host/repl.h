/* The interactive read-eval-print loop of mlpz-lua: lua 5.4's REPL (same
 * continuation rules, `=expr`, _PROMPT/_PROMPT2) with libedit line editing,
 * a persistent history in ~/.mlpz_history, Tab completion of globals,
 * fields and methods, results pretty-printed by mlpz.pretty, and the globals
 * `mlpz`, `ds` and `help`. */
#ifndef MLPZ_REPL_H
#define MLPZ_REPL_H

#include <lua.h>

/* Runs until end of input (Ctrl-D). show_version: the banner starts with
 * the version line (off when -v already printed it). Call it in protected
 * mode, like lua.c's doREPL. */
void mlpz_repl(lua_State *L, int show_version);

#endif
