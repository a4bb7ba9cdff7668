/* The AWS credential chain, region and endpoint resolution, in the order and
 * with the variables of the AWS CLI (botocore). Secrets live in malloc'd
 * buffers cleansed on release; messages name sources and files, never a
 * secret (nor the text of a config line, which may hold one). */
#include "aws_credentials.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "http.h"
#include "ini.h"
#include "l_aws.h"
#include "sigv4.h"

extern char **environ;

#define REFRESH_WINDOW 300            /* seconds before expiry: refresh */
#define PROCESS_OUTPUT_MAX (64 * 1024)
#define PROCESS_TIMEOUT_DEFAULT 60    /* seconds; MLPZ_CREDENTIAL_PROCESS_TIMEOUT */
#define METADATA_BODY_MAX (64 * 1024)
#define CONTAINER_HOST "http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS 2000     /* botocore's, with 3 attempts */
#define CONTAINER_ATTEMPTS 3
#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_IPV6 "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL "21600"
#define PATH_MAX_LEN 4096
#define URL_MAX_LEN 2048

#define NO_CREDENTIALS_HINT \
    "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws configure`, or pass --profile"
#define NO_REGION_HINT \
    "pass --region, set AWS_REGION, or run `aws configure` (region in ~/.aws/config)"

typedef enum { SRC_STATIC, SRC_PROCESS, SRC_CONTAINER, SRC_IMDS } src_kind;

struct mlpz_aws_provider {
    src_kind kind;
    mlpz_aws_creds creds;
    char *command;    /* SRC_PROCESS: the credential_process line */
    char *url;        /* SRC_CONTAINER: full url; SRC_IMDS: endpoint */
    char *auth_file;  /* SRC_CONTAINER: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE */
    char *auth_token; /* SRC_CONTAINER: AWS_CONTAINER_AUTHORIZATION_TOKEN */
    char profile[128];
    long timeout_ms;  /* SRC_IMDS */
    int attempts;     /* SRC_IMDS */
};

/* ---- small helpers ---- */

static int failf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* $name when set and not empty, else NULL. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_true(const char *name)
{
    const char *v = env(name);
    return v && strcasecmp(v, "true") == 0;
}

static char *dup_s(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_secret(char *s)
{
    if (s) {
        mlpz_sigv4_cleanse(s, strlen(s));
        free(s);
    }
}

static void creds_clear(mlpz_aws_creds *c)
{
    free(c->access_key_id);
    free_secret(c->secret_access_key);
    free_secret(c->session_token);
    memset(c, 0, sizeof *c);
}

/* Key ids, secrets and tokens go into HTTP headers: printable ASCII only,
 * so a hostile file cannot inject a header. */
static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static int creds_set(mlpz_aws_creds *c, const char *key, const char *secret, const char *token,
                     int64_t expiration, const char *what, char *err, size_t errlen)
{
    if (!key || !*key || !secret || !*secret)
        return failf(err, errlen, "%s: an access key id and a secret access key are both needed",
                     what);
    if (!printable(key) || !printable(secret) || (token && !printable(token)))
        return failf(err, errlen, "%s: the access key id, secret or session token has a space "
                     "or a non-ASCII or control character", what);
    mlpz_aws_creds n;
    memset(&n, 0, sizeof n);
    n.access_key_id = dup_s(key);
    n.secret_access_key = dup_s(secret);
    n.session_token = token && *token ? dup_s(token) : NULL;
    n.expiration = expiration;
    if (!n.access_key_id || !n.secret_access_key || (token && *token && !n.session_token)) {
        creds_clear(&n);
        return failf(err, errlen, "%s: out of memory", what);
    }
    memcpy(n.source, c->source, sizeof n.source);
    creds_clear(c);
    *c = n;
    return 0;
}

/* ISO 8601 / RFC 3339 times as AWS writes them: 2024-05-01T12:34:56Z,
 * with optional fractional seconds and a Z or +-HH:MM offset. */
static int parse_time(const char *s, int64_t *out)
{
    int f[6] = {0};
    static const int width[6] = {4, 2, 2, 2, 2, 2};
    static const char after[6] = {'-', '-', 'T', ':', ':', 0};
    const char *p = s;
    for (int i = 0; i < 6; i++) {
        for (int k = 0; k < width[i]; k++, p++) {
            if (*p < '0' || *p > '9')
                return -1;
            f[i] = f[i] * 10 + (*p - '0');
        }
        if (after[i]) {
            if (*p != after[i] && !(after[i] == 'T' && (*p == 't' || *p == ' ')))
                return -1;
            p++;
        }
    }
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    long offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, hh, mm;
        p++;
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
            return -1;
        hh = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        if (*p == ':')
            p++;
        if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
            return -1;
        mm = (p[0] - '0') * 10 + (p[1] - '0');
        p += 2;
        offset = sign * (hh * 3600L + mm * 60L);
    } else {
        return -1;
    }
    if (*p || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 ||
        f[5] > 60)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = f[0] - 1900;
    tm.tm_mon = f[1] - 1;
    tm.tm_mday = f[2];
    tm.tm_hour = f[3];
    tm.tm_min = f[4];
    tm.tm_sec = f[5];
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t - offset;
    return 0;
}

static void format_time(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, n, "?");
}

/* ---- shared config and credentials files ---- */

typedef struct {
    char config_path[PATH_MAX_LEN];
    char creds_path[PATH_MAX_LEN];
    mlpz_ini *config, *creds;
} shared_files;

/* $var, else ~/.aws/<file>, with a leading ~ expanded as botocore does. */
static int file_path(const char *var, const char *file, char *out, size_t n, char *err,
                     size_t errlen)
{
    const char *v = env(var);
    const char *home = env("HOME");
    int w;
    if (v && v[0] == '~' && (v[1] == '/' || v[1] == '\0')) {
        if (!home)
            return failf(err, errlen, "%s starts with ~ but HOME is not set", var);
        w = snprintf(out, n, "%s%s", home, v + 1);
    } else if (v) {
        w = snprintf(out, n, "%s", v);
    } else if (home) {
        w = snprintf(out, n, "%s/.aws/%s", home, file);
    } else {
        w = snprintf(out, n, "~/.aws/%s", file); /* no HOME: reported, never found */
    }
    if (w < 0 || (size_t)w >= n)
        return failf(err, errlen, "%s: path too long", var);
    return 0;
}

static void shared_free(shared_files *sf)
{
    mlpz_ini_free(sf->config);
    mlpz_ini_free(sf->creds);
    sf->config = sf->creds = NULL;
}

static int shared_load(shared_files *sf, char *err, size_t errlen)
{
    memset(sf, 0, sizeof *sf);
    if (file_path("AWS_CONFIG_FILE", "config", sf->config_path, sizeof sf->config_path, err,
                  errlen) != 0 ||
        file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials", sf->creds_path,
                  sizeof sf->creds_path, err, errlen) != 0)
        return -1;
    if (sf->config_path[0] != '~' && mlpz_ini_load(sf->config_path, &sf->config, err, errlen) < 0)
        return -1;
    if (sf->creds_path[0] != '~' && mlpz_ini_load(sf->creds_path, &sf->creds, err, errlen) < 0) {
        shared_free(sf);
        return -1;
    }
    return 0;
}

/* Whether a config-file section name denotes profile: "[profile NAME]", or
 * "[default]" for the default profile. */
static int is_profile_section(const char *name, const char *profile)
{
    if (strcmp(profile, "default") == 0 && strcmp(name, "default") == 0)
        return 1;
    if (strncmp(name, "profile", 7) != 0 || !isspace((unsigned char)name[7]))
        return 0;
    const char *p = name + 7;
    while (isspace((unsigned char)*p))
        p++;
    return strcmp(p, profile) == 0;
}

static const char *config_value(const mlpz_ini *ini, const char *profile, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < mlpz_ini_count(ini); i++) {
        if (is_profile_section(mlpz_ini_name(ini, i), profile)) {
            const char *v = mlpz_ini_value(ini, i, key);
            if (v)
                found = v;
        }
    }
    return found;
}

static int config_has(const mlpz_ini *ini, const char *profile)
{
    for (size_t i = 0; i < mlpz_ini_count(ini); i++)
        if (is_profile_section(mlpz_ini_name(ini, i), profile))
            return 1;
    return 0;
}

static int creds_has(const mlpz_ini *ini, const char *profile)
{
    for (size_t i = 0; i < mlpz_ini_count(ini); i++)
        if (strcmp(mlpz_ini_name(ini, i), profile) == 0)
            return 1;
    return 0;
}

/* The merged profile: the credentials file wins, key by key. */
static const char *profile_get(const shared_files *sf, const char *profile, const char *key)
{
    const char *v = mlpz_ini_get(sf->creds, profile, key);
    return v ? v : config_value(sf->config, profile, key);
}

static const char *profile_name(const char *profile)
{
    if (profile && *profile)
        return profile;
    const char *p = env("AWS_PROFILE");
    if (!p)
        p = env("AWS_DEFAULT_PROFILE");
    return p ? p : "default";
}

int mlpz_aws_profile_value(const char *profile, const char *key, char *out, size_t outlen,
                           char *err, size_t errlen)
{
    shared_files sf;
    if (shared_load(&sf, err, errlen) != 0)
        return -1;
    const char *v = profile_get(&sf, profile_name(profile), key);
    int rc = 0;
    if (v) {
        size_t n = strlen(v);
        if (n >= outlen)
            rc = failf(err, errlen, "profile %s: %s is too long (%zu bytes)", profile_name(profile),
                       key, n);
        else {
            memcpy(out, v, n + 1);
            rc = 1;
        }
    }
    shared_free(&sf);
    return rc;
}

/* ---- JSON answers (credential_process, container, instance metadata) ---- */

typedef enum { JSON_PROCESS, JSON_CONTAINER, JSON_IMDS } json_kind;

/* The string field key of the table at the top, or NULL; -1 on a value of
 * another type or with a NUL byte. */
static int json_string(lua_State *L, const char *key, const char **out)
{
    *out = NULL;
    lua_getfield(L, -1, key);
    int t = lua_type(L, -1);
    int rc = 0;
    if (t == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (strlen(s) != n)
            rc = -1;
        else
            *out = s; /* kept alive by the table below it */
    } else if (t != LUA_TNIL && t != LUA_TLIGHTUSERDATA) { /* lightuserdata: cjson.null */
        rc = -1;
    }
    lua_pop(L, 1);
    return rc;
}

static int creds_from_json(lua_State *L, const char *body, size_t n, json_kind kind,
                           const char *what, mlpz_aws_creds *c, char *err, size_t errlen)
{
    int top = lua_gettop(L);
    char jerr[200];
    if (mlpz_aws_json_decode(L, body, n, jerr, sizeof jerr) != 0)
        return failf(err, errlen, "%s: the answer is not JSON (%s)", what, jerr);
    int rc = -1;
    const char *key, *secret, *token, *expiry, *code;
    if (!lua_istable(L, -1)) {
        failf(err, errlen, "%s: the answer is not a JSON object", what);
        goto done;
    }
    if (kind == JSON_PROCESS) {
        lua_getfield(L, -1, "Version");
        int ok = lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) == 1;
        lua_pop(L, 1);
        if (!ok) {
            failf(err, errlen, "%s: the JSON needs \"Version\": 1", what);
            goto done;
        }
    }
    if (kind == JSON_IMDS && json_string(L, "Code", &code) == 0 && code &&
        strcmp(code, "Success") != 0) {
        failf(err, errlen, "%s: Code is \"%.40s\", not \"Success\"", what, code);
        goto done;
    }
    if (json_string(L, "AccessKeyId", &key) != 0 || json_string(L, "SecretAccessKey", &secret) != 0 ||
        json_string(L, kind == JSON_PROCESS ? "SessionToken" : "Token", &token) != 0 ||
        json_string(L, "Expiration", &expiry) != 0) {
        failf(err, errlen, "%s: AccessKeyId, SecretAccessKey, %s and Expiration must be strings",
              what, kind == JSON_PROCESS ? "SessionToken" : "Token");
        goto done;
    }
    if (!key || !secret) {
        failf(err, errlen, "%s: the JSON lacks %s", what, key ? "SecretAccessKey" : "AccessKeyId");
        goto done;
    }
    int64_t exp = 0;
    if (expiry && parse_time(expiry, &exp) != 0) {
        failf(err, errlen, "%s: Expiration \"%.40s\" is not an ISO 8601 time", what, expiry);
        goto done;
    }
    rc = creds_set(c, key, secret, token, exp, what, err, errlen);
done:
    lua_settop(L, top);
    return rc;
}

/* ---- credential_process ---- */

static long process_timeout_ms(void)
{
    const char *v = env("MLPZ_CREDENTIAL_PROCESS_TIMEOUT");
    char *end;
    double s = v ? strtod(v, &end) : 0;
    if (!v || *end || !(s > 0) || s > 3600)
        s = PROCESS_TIMEOUT_DEFAULT;
    return (long)(s * 1000);
}

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

/* Runs cmd as the SDKs do (/bin/sh -c cmd, stdin and stderr shared with
 * us) and captures its standard output, bounded in size and time. Without
 * a terminal it gets a process group of its own, so a timeout kills
 * whatever the shell started too; on a terminal it stays in ours, where a
 * prompt (an MFA code) can still read the keyboard, and a timeout kills
 * the shell only. */
static int run_process(const char *cmd, const char *what, char **out, size_t *outlen, char *err,
                       size_t errlen)
{
    int fds[2];
    if (pipe(fds) != 0)
        return failf(err, errlen, "%s: pipe: %s", what, strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        close(fds[0]);
        close(fds[1]);
        return failf(err, errlen, "%s: out of memory", what);
    }
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawnattr_t attr;
    int own_group = !isatty(STDIN_FILENO);
    if (posix_spawnattr_init(&attr) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        close(fds[0]);
        close(fds[1]);
        return failf(err, errlen, "%s: out of memory", what);
    }
    if (own_group) {
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
    }
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return failf(err, errlen, "%s: could not start /bin/sh: %s", what, strerror(rc));
    }
    long timeout = process_timeout_ms();
    long deadline = now_ms() + timeout;
    char *buf = malloc(PROCESS_OUTPUT_MAX + 1);
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
        ssize_t r = read(fds[0], buf + n, PROCESS_OUTPUT_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n > PROCESS_OUTPUT_MAX)
            problem = "too much output";
    }
    close(fds[0]);
    if (problem && own_group)
        kill(-pid, SIGKILL);
    int status = reap(pid, problem ? now_ms() : deadline, own_group);
    int result = -1;
    if (problem && strcmp(problem, "timeout") == 0)
        failf(err, errlen, "%s: did not finish within %.0f s (killed; set "
              "MLPZ_CREDENTIAL_PROCESS_TIMEOUT to wait longer)", what, timeout / 1000.0);
    else if (problem && strcmp(problem, "too much output") == 0)
        failf(err, errlen, "%s: printed more than %d bytes (killed)", what, PROCESS_OUTPUT_MAX);
    else if (problem)
        failf(err, errlen, "%s: %s", what, problem);
    else if (status < 0)
        failf(err, errlen, "%s: did not exit within %.0f s after closing its output (killed)",
              what, timeout / 1000.0);
    else if (WIFSIGNALED(status))
        failf(err, errlen, "%s: killed by signal %d", what, WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        failf(err, errlen, "%s: exited with status %d (its error output is above)", what,
              WEXITSTATUS(status));
    else
        result = 0;
    if (result == 0) {
        buf[n] = '\0';
        *out = buf;
        *outlen = n;
    } else if (buf) {
        mlpz_sigv4_cleanse(buf, n);
        free(buf);
    }
    return result;
}

static int fetch_process(lua_State *L, mlpz_aws_provider *p, mlpz_aws_creds *c, char *err,
                         size_t errlen)
{
    char what[200];
    snprintf(what, sizeof what, "credential_process (profile %s)", p->profile);
    char *out = NULL;
    size_t n = 0;
    if (run_process(p->command, what, &out, &n, err, errlen) != 0)
        return -1;
    int rc = creds_from_json(L, out, n, JSON_PROCESS, what, c, err, errlen);
    mlpz_sigv4_cleanse(out, n);
    free(out);
    return rc;
}

/* ---- HTTP metadata endpoints ---- */

static int http_get(mlpz_http *h, const char *method, const char *url, const char *const *headers,
                    size_t n_headers, long timeout_ms, int attempts, mlpz_http_response *res)
{
    mlpz_http_request req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.n_headers = n_headers;
    req.has_body = strcmp(method, "PUT") == 0;
    req.max_body = METADATA_BODY_MAX;
    req.connect_timeout_ms = timeout_ms;
    req.timeout_ms = timeout_ms;
    int rc = -1;
    for (int a = 1; a <= attempts; a++) {
        rc = mlpz_http_perform(h, &req, res);
        int again = rc != 0 ? res->retryable : res->status >= 500;
        if (!again || a == attempts)
            break;
        mlpz_http_response_free(res);
    }
    return rc;
}

/* Hosts an http:// AWS_CONTAINER_CREDENTIALS_FULL_URI may name, as in
 * botocore: loopback, or the ECS and EKS link-local addresses. */
static int container_host_allowed(const char *url)
{
    if (strncmp(url, "https://", 8) == 0)
        return 1;
    if (strncmp(url, "http://", 7) != 0)
        return 0;
    char host[256];
    mlpz_http_url_host(url, host, sizeof host);
    char *colon = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
    if (host[0] == '[') {
        if (!colon)
            return 0;
        colon[1] = '\0';
    } else if (colon) {
        *colon = '\0';
    }
    static const char *const ok[] = {"localhost", "[::1]", "169.254.170.2", "169.254.170.23",
                                     "[fd00:ec2::23]"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strcasecmp(host, ok[i]) == 0)
            return 1;
    unsigned a, b, c, d;
    char extra;
    return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 && a == 127 && b < 256 &&
           c < 256 && d < 256;
}

/* The container authorization token: the file's content (re-read each
 * time: EKS rotates it), else the variable's. NULL token when neither. */
static int container_token(const mlpz_aws_provider *p, char **token, char *err, size_t errlen)
{
    *token = NULL;
    if (p->auth_file) {
        FILE *f = fopen(p->auth_file, "rb");
        if (!f)
            return failf(err, errlen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s",
                         p->auth_file, strerror(errno));
        char *buf = malloc(16385);
        size_t n = buf ? fread(buf, 1, 16384, f) : 0;
        fclose(f);
        if (!buf)
            return failf(err, errlen, "out of memory");
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        buf[n] = '\0';
        *token = buf;
    } else if (p->auth_token) {
        *token = strdup(p->auth_token);
        if (!*token)
            return failf(err, errlen, "out of memory");
    }
    if (*token) {
        for (const char *s = *token; *s; s++) {
            if ((unsigned char)*s < 0x20 || *s == 0x7f) {
                free_secret(*token);
                *token = NULL;
                return failf(err, errlen, "the container authorization token has a control "
                             "character (a line break?)");
            }
        }
    }
    return 0;
}

static int fetch_container(lua_State *L, mlpz_aws_provider *p, mlpz_aws_creds *c, char *err,
                           size_t errlen)
{
    char what[URL_MAX_LEN + 64];
    snprintf(what, sizeof what, "container credentials (%s)", p->url);
    char *token = NULL;
    if (container_token(p, &token, err, errlen) != 0)
        return -1;
    char *auth = NULL;
    if (token) {
        size_t n = strlen(token) + 16;
        auth = malloc(n);
        if (auth)
            snprintf(auth, n, "Authorization: %s", token);
        free_secret(token);
        if (!auth)
            return failf(err, errlen, "out of memory");
    }
    const char *headers[1] = {auth};
    mlpz_http *h = mlpz_http_new(err, errlen);
    if (!h) {
        free_secret(auth);
        return -1;
    }
    mlpz_http_response res;
    int rc = http_get(h, "GET", p->url, headers, auth ? 1 : 0, CONTAINER_TIMEOUT_MS,
                      CONTAINER_ATTEMPTS, &res);
    free_secret(auth);
    if (rc != 0)
        rc = failf(err, errlen, "%s: %s", what, res.err);
    else if (res.status != 200)
        rc = failf(err, errlen, "%s: answered HTTP %ld %s", what, res.status, res.reason);
    else
        rc = creds_from_json(L, res.body ? res.body : "", res.body_len, JSON_CONTAINER, what, c,
                             err, errlen);
    if (res.body)
        mlpz_sigv4_cleanse(res.body, res.body_len);
    mlpz_http_response_free(&res);
    mlpz_http_free(h);
    return rc;
}

/* IAM role names: [\w+=,.@-]{1,64}. Checked before going into a path. */
static int valid_role(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_+=,.@-", s[i]))
            return 0;
    return 1;
}

/* IMDSv2: a session token (PUT), the role name, its credentials. Returns 0,
 * 1 when there is no usable instance metadata (err says why: the chain goes
 * on), or -1 when it answered but wrongly. */
static int fetch_imds(lua_State *L, mlpz_aws_provider *p, mlpz_aws_creds *c, char *err,
                      size_t errlen)
{
    char url[URL_MAX_LEN + 128];
    mlpz_http *h = mlpz_http_new(err, errlen);
    if (!h)
        return -1;
    mlpz_http_response res;
    const char *ttl[1] = {"X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL};
    snprintf(url, sizeof url, "%s/latest/api/token", p->url);
    int rc = http_get(h, "PUT", url, ttl, 1, p->timeout_ms, p->attempts, &res);
    char *token_hdr = NULL;
    if (rc != 0) {
        failf(err, errlen, "%s: %s", p->url, res.err);
        rc = 1;
    } else if (res.status != 200 || !res.body || !printable(res.body)) {
        failf(err, errlen, "%s: the IMDSv2 token request answered HTTP %ld", p->url, res.status);
        rc = 1;
    } else {
        size_t n = strlen(res.body) + 32;
        token_hdr = malloc(n);
        if (token_hdr)
            snprintf(token_hdr, n, "X-aws-ec2-metadata-token: %s", res.body);
        else
            rc = failf(err, errlen, "out of memory");
    }
    if (res.body)
        mlpz_sigv4_cleanse(res.body, res.body_len);
    mlpz_http_response_free(&res);
    if (!token_hdr) {
        mlpz_http_free(h);
        return rc;
    }
    const char *th[1] = {token_hdr};
    snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/", p->url);
    rc = http_get(h, "GET", url, th, 1, p->timeout_ms, p->attempts, &res);
    char role[65] = "";
    if (rc != 0) {
        failf(err, errlen, "%s: %s", p->url, res.err);
        rc = 1;
    } else if (res.status == 404) {
        failf(err, errlen, "%s: no IAM role is attached to this instance", p->url);
        rc = 1;
    } else if (res.status != 200) {
        rc = failf(err, errlen, "instance metadata %s: the role name request answered HTTP %ld",
                   p->url, res.status);
    } else {
        const char *b = res.body ? res.body : "";
        size_t n = strcspn(b, "\r\n");
        if (!valid_role(b, n))
            rc = failf(err, errlen, "instance metadata %s: the role name is not a valid IAM "
                       "role name", p->url);
        else
            memcpy(role, b, n);
    }
    mlpz_http_response_free(&res);
    if (rc == 0) {
        char what[URL_MAX_LEN + 128];
        snprintf(what, sizeof what, "instance metadata (%s, role %s)", p->url, role);
        snprintf(url, sizeof url, "%s/latest/meta-data/iam/security-credentials/%s", p->url,
                 role);
        rc = http_get(h, "GET", url, th, 1, p->timeout_ms, p->attempts, &res);
        if (rc != 0)
            rc = failf(err, errlen, "%s: %s", what, res.err);
        else if (res.status != 200)
            rc = failf(err, errlen, "%s: answered HTTP %ld", what, res.status);
        else
            rc = creds_from_json(L, res.body ? res.body : "", res.body_len, JSON_IMDS, what, c,
                                 err, errlen);
        if (res.body)
            mlpz_sigv4_cleanse(res.body, res.body_len);
        mlpz_http_response_free(&res);
        if (rc == 0)
            snprintf(c->source, sizeof c->source, "instance metadata (role %.60s)", role);
    }
    free_secret(token_hdr);
    mlpz_http_free(h);
    return rc;
}

/* ---- the provider ---- */

static int fetch(lua_State *L, mlpz_aws_provider *p, mlpz_aws_creds *c, char *err, size_t errlen)
{
    char source[sizeof c->source];
    memcpy(source, p->creds.source, sizeof source);
    int rc;
    switch (p->kind) {
    case SRC_PROCESS:
        rc = fetch_process(L, p, c, err, errlen);
        break;
    case SRC_CONTAINER:
        rc = fetch_container(L, p, c, err, errlen);
        break;
    case SRC_IMDS:
        rc = fetch_imds(L, p, c, err, errlen);
        break;
    default:
        return 0;
    }
    if (rc == 0 && p->kind != SRC_IMDS)
        memcpy(c->source, source, sizeof source);
    return rc;
}

void mlpz_aws_provider_free(mlpz_aws_provider *p)
{
    if (!p)
        return;
    creds_clear(&p->creds);
    free(p->command);
    free(p->url);
    free(p->auth_file);
    free_secret(p->auth_token);
    free(p);
}

static mlpz_aws_provider *provider_alloc(src_kind kind, const char *source)
{
    mlpz_aws_provider *p = calloc(1, sizeof *p);
    if (p) {
        p->kind = kind;
        snprintf(p->creds.source, sizeof p->creds.source, "%.255s", source);
    }
    return p;
}

static mlpz_aws_provider *static_provider(const char *source, const char *key, const char *secret,
                                          const char *token, char *err, size_t errlen)
{
    mlpz_aws_provider *p = provider_alloc(SRC_STATIC, source);
    if (!p) {
        failf(err, errlen, "out of memory");
        return NULL;
    }
    if (creds_set(&p->creds, key, secret, token, 0, source, err, errlen) != 0) {
        mlpz_aws_provider_free(p);
        return NULL;
    }
    return p;
}

static void debug_source(const mlpz_aws_provider *p)
{
    if (!mlpz_aws_debug_on())
        return;
    char when[32] = "never";
    if (p->creds.expiration)
        format_time(p->creds.expiration, when, sizeof when);
    mlpz_aws_debugf("credentials from %s (expire: %s)", p->creds.source, when);
}

/* Credentials that arrive already expired would only fail every request:
 * say so at once, as botocore does. */
static int check_fresh(const mlpz_aws_creds *c, const char *source, char *err, size_t errlen)
{
    if (c->expiration && c->expiration <= (int64_t)time(NULL)) {
        char when[32];
        format_time(c->expiration, when, sizeof when);
        return failf(err, errlen, "credentials from %s are already expired (Expiration %s): "
                     "check the source, and this machine's clock", source, when);
    }
    return 0;
}

/* Fetches a refreshable provider's first credentials; frees it on failure. */
static mlpz_aws_provider *first_fetch(lua_State *L, mlpz_aws_provider *p, char *err,
                                      size_t errlen)
{
    if (!p) {
        failf(err, errlen, "out of memory");
        return NULL;
    }
    if (fetch(L, p, &p->creds, err, errlen) != 0 ||
        check_fresh(&p->creds, p->creds.source, err, errlen) != 0) {
        mlpz_aws_provider_free(p);
        return NULL;
    }
    return p;
}

/* role_arn, SSO and web identity profiles need AWS STS/SSO calls this tool
 * does not make: say so, with the AWS CLI v2 bridge, rather than silently
 * trying the next source. */
static int unsupported_profile(const shared_files *sf, const char *profile, char *err,
                               size_t errlen)
{
    static const char *const keys[] = {"role_arn", "sso_session", "sso_start_url",
                                       "web_identity_token_file", "login_session"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (profile_get(sf, profile, keys[i]))
            return failf(err, errlen,
                         "profile %s uses %s, which mlpz-lua cannot resolve itself: add a "
                         "profile with `credential_process = aws configure export-credentials "
                         "--profile %s --format process` and use that one", profile, keys[i],
                         profile);
    }
    return 0;
}

/* The shared-files step: 0 with *out set (or NULL: nothing there), -1. */
static int from_shared_files(lua_State *L, const char *profile, int explicit_profile,
                             mlpz_aws_provider **out, char *tried, size_t triedlen, char *err,
                             size_t errlen)
{
    *out = NULL;
    shared_files sf;
    if (shared_load(&sf, err, errlen) != 0)
        return -1;
    snprintf(tried, triedlen, "shared files %s and %s (profile %s)", sf.creds_path,
             sf.config_path, profile);
    int in_creds = creds_has(sf.creds, profile), in_config = config_has(sf.config, profile);
    int rc = 0;
    char source[96 + PATH_MAX_LEN];
    const char *key, *secret;
    if (!in_creds && !in_config) {
        if (explicit_profile)
            rc = failf(err, errlen, "profile %s is not in %s nor in %s: check the name (aws "
                       "configure list-profiles), or create it with `aws configure --profile %s`",
                       profile, sf.config_path, sf.creds_path, profile);
        goto done;
    }
    if (unsupported_profile(&sf, profile, err, errlen) != 0) {
        rc = -1;
        goto done;
    }
    /* botocore's order: credentials file keys, credential_process, config
     * file keys. */
    key = mlpz_ini_get(sf.creds, profile, "aws_access_key_id");
    secret = mlpz_ini_get(sf.creds, profile, "aws_secret_access_key");
    if (key || secret) {
        const char *token = mlpz_ini_get(sf.creds, profile, "aws_session_token");
        if (!token)
            token = mlpz_ini_get(sf.creds, profile, "aws_security_token");
        snprintf(source, sizeof source, "shared credentials file %s (profile %s)", sf.creds_path,
                 profile);
        *out = static_provider(source, key, secret, token, err, errlen);
        rc = *out ? 0 : -1;
        goto done;
    }
    const char *command = profile_get(&sf, profile, "credential_process");
    if (command && *command) {
        snprintf(source, sizeof source, "credential_process (profile %s)", profile);
        mlpz_aws_provider *p = provider_alloc(SRC_PROCESS, source);
        if (p) {
            snprintf(p->profile, sizeof p->profile, "%s", profile);
            p->command = strdup(command);
            if (!p->command) {
                mlpz_aws_provider_free(p);
                p = NULL;
            }
        }
        shared_free(&sf);
        *out = first_fetch(L, p, err, errlen);
        return *out ? 0 : -1;
    }
    key = config_value(sf.config, profile, "aws_access_key_id");
    secret = config_value(sf.config, profile, "aws_secret_access_key");
    if (key || secret) {
        const char *token = config_value(sf.config, profile, "aws_session_token");
        snprintf(source, sizeof source, "config file %s (profile %s)", sf.config_path, profile);
        *out = static_provider(source, key, secret, token, err, errlen);
        rc = *out ? 0 : -1;
    }
done:
    shared_free(&sf);
    return rc;
}

static mlpz_aws_provider *container_provider(char *err, size_t errlen)
{
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char url[URL_MAX_LEN];
    if (rel) {
        if (rel[0] != '/' || strlen(rel) > URL_MAX_LEN - 32) {
            failf(err, errlen, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path "
                  "starting with /");
            return NULL;
        }
        snprintf(url, sizeof url, "%s%s", CONTAINER_HOST, rel);
    } else {
        if (strlen(full) >= sizeof url || !container_host_allowed(full)) {
            failf(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an https:// url, or "
                  "http:// to a loopback address or 169.254.170.2/.23");
            return NULL;
        }
        snprintf(url, sizeof url, "%s", full);
    }
    char source[256];
    snprintf(source, sizeof source, "container credentials (%.200s)", url);
    mlpz_aws_provider *p = provider_alloc(SRC_CONTAINER, source);
    if (!p) {
        failf(err, errlen, "out of memory");
        return NULL;
    }
    p->url = strdup(url);
    const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    p->auth_file = file ? strdup(file) : NULL;
    p->auth_token = !file && token ? strdup(token) : NULL;
    if (!p->url || (file && !p->auth_file) || (!file && token && !p->auth_token)) {
        mlpz_aws_provider_free(p);
        failf(err, errlen, "out of memory");
        return NULL;
    }
    return p;
}

static double env_number(const char *name, double dflt, double lo, double hi)
{
    const char *v = env(name);
    char *end;
    double d = v ? strtod(v, &end) : dflt;
    return v && (*end || !(d >= lo && d <= hi)) ? dflt : d;
}

static mlpz_aws_provider *imds_provider(char *err, size_t errlen)
{
    const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    char url[URL_MAX_LEN];
    if (ep) {
        size_t n = strlen(ep);
        while (n && ep[n - 1] == '/')
            n--;
        if ((strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) ||
            n >= sizeof url || !printable(ep)) {
            failf(err, errlen, "AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http:// url");
            return NULL;
        }
        snprintf(url, sizeof url, "%.*s", (int)n, ep);
    } else {
        snprintf(url, sizeof url, "%s",
                 mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_IPV6 : IMDS_DEFAULT);
    }
    mlpz_aws_provider *p = provider_alloc(SRC_IMDS, "instance metadata");
    if (!p || !(p->url = strdup(url))) {
        mlpz_aws_provider_free(p);
        failf(err, errlen, "out of memory");
        return NULL;
    }
    p->timeout_ms = (long)(env_number("AWS_METADATA_SERVICE_TIMEOUT", 1, 0.05, 60) * 1000);
    p->attempts = (int)env_number("AWS_METADATA_SERVICE_NUM_ATTEMPTS", 1, 1, 10);
    return p;
}

mlpz_aws_provider *mlpz_aws_provider_new(lua_State *L, const mlpz_aws_creds_opts *opts,
                                         char *err, size_t errlen)
{
    static const mlpz_aws_creds_opts none;
    if (!opts)
        opts = &none;
    mlpz_aws_provider *p = NULL;
    if (opts->access_key_id || opts->secret_access_key) {
        p = static_provider("explicit options", opts->access_key_id, opts->secret_access_key,
                            opts->session_token, err, errlen);
        if (p)
            debug_source(p);
        return p;
    }
    /* An explicit profile (--profile) outranks the environment's keys, as in
     * botocore; $AWS_PROFILE does not. */
    int explicit_profile = opts->profile && *opts->profile;
    const char *key = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
    if (!explicit_profile && (key || secret)) {
        if (!key || !secret) {
            failf(err, errlen, "%s is set but %s is not: set both, or unset both",
                  key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                  key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
            return NULL;
        }
        const char *token = env("AWS_SESSION_TOKEN");
        if (!token)
            token = env("AWS_SECURITY_TOKEN");
        p = static_provider("environment", key, secret, token, err, errlen);
        if (p)
            debug_source(p);
        return p;
    }
    const char *profile = profile_name(opts->profile);
    char tried_files[2 * PATH_MAX_LEN + 200];
    if (from_shared_files(L, profile, explicit_profile || env("AWS_PROFILE"), &p, tried_files,
                          sizeof tried_files, err, errlen) != 0)
        return NULL;
    if (p) {
        debug_source(p);
        return p;
    }
    if (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        p = container_provider(err, errlen);
        p = p ? first_fetch(L, p, err, errlen) : NULL;
        if (p)
            debug_source(p);
        return p;
    }
    char imds_why[400] = "disabled by AWS_EC2_METADATA_DISABLED";
    if (!env_true("AWS_EC2_METADATA_DISABLED")) {
        p = imds_provider(err, errlen);
        if (!p)
            return NULL;
        int rc = fetch_imds(L, p, &p->creds, imds_why, sizeof imds_why);
        if (rc == 0 && check_fresh(&p->creds, p->creds.source, imds_why, sizeof imds_why) != 0)
            rc = -1;
        if (rc == 0) {
            debug_source(p);
            return p;
        }
        mlpz_aws_provider_free(p);
        if (rc < 0) {
            failf(err, errlen, "%s", imds_why);
            return NULL;
        }
        mlpz_aws_debugf("no instance metadata credentials: %s", imds_why);
    }
    failf(err, errlen, "no AWS credentials found (tried %s%s, container credentials "
          "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI not set), instance metadata (%s)): "
          NO_CREDENTIALS_HINT,
          explicit_profile ? "" : "environment variables, ", tried_files, imds_why);
    return NULL;
}

const mlpz_aws_creds *mlpz_aws_provider_get(lua_State *L, mlpz_aws_provider *p, char *err,
                                            size_t errlen)
{
    if (!p) {
        failf(err, errlen, "no credentials");
        return NULL;
    }
    int64_t now = (int64_t)time(NULL);
    if (p->creds.expiration == 0 || now < p->creds.expiration - REFRESH_WINDOW)
        return &p->creds;
    mlpz_aws_debugf("refreshing credentials from %s (they expire in %lld s)", p->creds.source,
                    (long long)(p->creds.expiration - now));
    mlpz_aws_creds fresh;
    memset(&fresh, 0, sizeof fresh);
    char ferr[512];
    if (fetch(L, p, &fresh, ferr, sizeof ferr) != 0 ||
        check_fresh(&fresh, p->creds.source, ferr, sizeof ferr) != 0) {
        creds_clear(&fresh);
        if (now < p->creds.expiration) {
            /* Still valid for a while: keep them, as the SDKs do. */
            mlpz_aws_debugf("refresh failed, keeping the current credentials: %s", ferr);
            return &p->creds;
        }
        failf(err, errlen, "credentials from %s expired and could not be refreshed: %s",
              p->creds.source, ferr);
        return NULL;
    }
    creds_clear(&p->creds);
    p->creds = fresh;
    debug_source(p);
    return &p->creds;
}

/* ---- region and endpoints ---- */

static int valid_region(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n > 63 || !isalnum((unsigned char)r[0]) || !isalnum((unsigned char)r[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)r[i]) || isdigit((unsigned char)r[i]) || r[i] == '-'))
            return 0;
    return 1;
}

static int put_region(const char *r, const char *from, char *out, size_t outlen, char *err,
                      size_t errlen)
{
    if (!valid_region(r))
        return failf(err, errlen, "region '%.64s' from %s is not a region name (e.g. us-east-1)",
                     printable(r) ? r : "?", from);
    if (strlen(r) >= outlen)
        return failf(err, errlen, "region name too long");
    strcpy(out, r);
    return 0;
}

int mlpz_aws_resolve_region(const char *explicit_region, const char *profile, char *out,
                            size_t outlen, char *err, size_t errlen)
{
    if (explicit_region && *explicit_region)
        return put_region(explicit_region, "the options", out, outlen, err, errlen);
    const char *v = env("AWS_REGION");
    if (v)
        return put_region(v, "AWS_REGION", out, outlen, err, errlen);
    v = env("AWS_DEFAULT_REGION");
    if (v)
        return put_region(v, "AWS_DEFAULT_REGION", out, outlen, err, errlen);
    shared_files sf;
    if (shared_load(&sf, err, errlen) != 0)
        return -1;
    const char *name = profile_name(profile);
    v = profile_get(&sf, name, "region");
    char from[PATH_MAX_LEN + 64];
    snprintf(from, sizeof from, "%s (profile %s)", sf.config_path, name);
    int rc = v && *v ? put_region(v, from, out, outlen, err, errlen)
                     : failf(err, errlen, "no AWS region configured (profile %s has none): "
                             NO_REGION_HINT, name);
    shared_free(&sf);
    return rc;
}

/* Checks an endpoint url and copies it without trailing slashes. */
static int put_endpoint(const char *url, const char *from, char *out, size_t outlen, char *err,
                        size_t errlen)
{
    const char *rest = strncmp(url, "https://", 8) == 0 ? url + 8
                       : strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    if (!rest || !printable(url) || strpbrk(url, "?#@") || rest[0] == '/' || rest[0] == '\0')
        return failf(err, errlen, "endpoint url from %s must look like https://host[:port] "
                     "(no query, fragment or user info)", from);
    if (n >= outlen)
        return failf(err, errlen, "endpoint url from %s is too long", from);
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

int mlpz_aws_resolve_endpoint(const char *service, const char *region, const char *explicit_url,
                              const char *profile, char *out, size_t outlen, int *custom,
                              char *err, size_t errlen)
{
    *custom = 1;
    size_t sn = service ? strlen(service) : 0;
    if (sn == 0 || sn > 63 || strspn(service, "abcdefghijklmnopqrstuvwxyz0123456789-") != sn)
        return failf(err, errlen, "service '%.64s' is not a service id such as "
                     "personalize-runtime, personalize or s3", service ? service : "");
    if (explicit_url && *explicit_url)
        return put_endpoint(explicit_url, "the options", out, outlen, err, errlen);
    shared_files sf;
    if (shared_load(&sf, err, errlen) != 0)
        return -1;
    const char *name = profile_name(profile);
    const char *ignore = profile_get(&sf, name, "ignore_configured_endpoint_urls");
    int rc = 1;
    if (!env_true("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") &&
        !(ignore && strcasecmp(ignore, "true") == 0)) {
        char var[96] = "AWS_ENDPOINT_URL_";
        for (size_t i = 0; i < sn; i++)
            var[17 + i] = service[i] == '-' ? '_' : (char)toupper((unsigned char)service[i]);
        var[17 + sn] = '\0';
        const char *v;
        if ((v = env(var)))
            rc = put_endpoint(v, var, out, outlen, err, errlen);
        else if ((v = env("AWS_ENDPOINT_URL")))
            rc = put_endpoint(v, "AWS_ENDPOINT_URL", out, outlen, err, errlen);
        else if ((v = profile_get(&sf, name, "endpoint_url")) && *v) {
            char from[PATH_MAX_LEN + 64];
            snprintf(from, sizeof from, "%s (profile %s)", sf.config_path, name);
            rc = put_endpoint(v, from, out, outlen, err, errlen);
        }
    }
    shared_free(&sf);
    if (rc != 1)
        return rc;
    *custom = 0;
    if (!region || !*region)
        return failf(err, errlen, "no AWS region configured: " NO_REGION_HINT);
    if (!valid_region(region))
        return failf(err, errlen, "region '%.64s' is not a region name (e.g. us-east-1)",
                     printable(region) ? region : "?");
    const char *suffix = strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    int w = snprintf(out, outlen, "https://%s.%s.%s", service, region, suffix);
    if (w < 0 || (size_t)w >= outlen)
        return failf(err, errlen, "endpoint url too long");
    return 0;
}
