/* The release of mlpz-lua, shown by -v and the REPL banner. */
#ifndef MLPZ_VERSION_H
#define MLPZ_VERSION_H

#define MLPZ_VERSION "0.1.0"

#endif
