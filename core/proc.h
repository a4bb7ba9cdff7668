/* Runs a shell command the way the AWS SDKs run credential_process and
 * captures its standard output, bounded in size and in time, so a hung or
 * chatty helper cannot hang or exhaust the caller. */
#ifndef MLPZ_PROC_H
#define MLPZ_PROC_H

#include <stddef.h>

typedef struct {
    const char *command;      /* run as /bin/sh -c command */
    const char *what;         /* names the command in messages */
    long timeout_ms;          /* until it has exited */
    size_t max_output;        /* bytes of standard output */
    const char *timeout_hint; /* how to wait longer, for the timeout message */
} mlpz_proc_spec;

/* Standard input and standard error are shared with the caller (a prompt
 * for an MFA code still works, and the command's complaints reach the
 * user). Without a terminal the command gets a process group of its own,
 * so a timeout kills whatever the shell started too; on a terminal it
 * stays in ours, where it can read the keyboard, and a timeout kills the
 * shell only. 0 with *out (malloc'd, NUL-terminated, *outlen bytes) when
 * it exited with status 0; else -1 with err. The output may be a secret:
 * cleanse it before freeing. */
int mlpz_proc_capture(const mlpz_proc_spec *spec, char **out, size_t *outlen, char *err,
                      size_t errlen);

#endif
