#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "failf.h"
#include "secret.h"

extern char **environ;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Waits for pid until deadline (monotonic ms); kills it (and its group
 * when it has its own) past the deadline. Returns the wait status, or -1
 * when it had to be killed. */
static int reap(pid_t pid, long deadline, int own_group)
{
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms() >= deadline) {
            kill(own_group ? -pid : pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int mlpz_proc_capture(const mlpz_proc_spec *spec, char **out, size_t *outlen, char *err,
                      size_t errlen)
{
    const char *what = spec->what;
    size_t max = spec->max_output;
    int fds[2];
    if (pipe(fds) != 0)
        return mlpz_failf(err, errlen, "%s: pipe: %s", what, strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        close(fds[0]);
        close(fds[1]);
        return mlpz_failf(err, errlen, "%s: out of memory", what);
    }
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawnattr_t attr;
    int own_group = !isatty(STDIN_FILENO);
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        close(fds[0]);
        close(fds[1]);
        return mlpz_failf(err, errlen, "%s: out of memory", what);
    }
    if (own_group) {
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
    }
    char *argv[] = {"sh", "-c", (char *)spec->command, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return mlpz_failf(err, errlen, "%s: could not start /bin/sh: %s", what, strerror(rc));
    }
    long timeout = spec->timeout_ms;
    long deadline = now_ms() + timeout;
    char *buf = malloc(max + 1);
    size_t n = 0;
    const char *problem = buf ? NULL : "out of memory";
    while (!problem) {
        long left = deadline - now_ms();
        if (left <= 0) {
            problem = "timeout";
            break;
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int pr = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            problem = "poll failed";
            break;
        }
        if (pr == 0)
            continue;
        ssize_t r = read(fds[0], buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n > max)
            problem = "too much output";
    }
    close(fds[0]);
    if (problem && own_group)
        kill(-pid, SIGKILL);
    int status = reap(pid, problem ? now_ms() : deadline, own_group);
    int result = -1;
    if (problem && strcmp(problem, "timeout") == 0)
        mlpz_failf(err, errlen, "%s: did not finish within %.0f s (killed; %s)", what,
                   timeout / 1000.0, spec->timeout_hint);
    else if (problem && strcmp(problem, "too much output") == 0)
        mlpz_failf(err, errlen, "%s: printed more than %zu bytes (killed)", what, max);
    else if (problem)
        mlpz_failf(err, errlen, "%s: %s", what, problem);
    else if (status < 0)
        mlpz_failf(err, errlen, "%s: did not exit within %.0f s after closing its output (killed)",
                   what, timeout / 1000.0);
    else if (WIFSIGNALED(status))
        mlpz_failf(err, errlen, "%s: killed by signal %d", what, WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        mlpz_failf(err, errlen, "%s: exited with status %d (its error output is above)", what,
                   WEXITSTATUS(status));
    else
        result = 0;
    if (result == 0) {
        buf[n] = '\0';
        *out = buf;
        *outlen = n;
    } else if (buf) {
        mlpz_secret_cleanse(buf, n);
        free(buf);
    }
    return result;
}
