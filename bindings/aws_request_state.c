/* The resources of one request: released on every return path by the
 * caller, and by __gc when a Lua error skips those paths. */
#include "aws_request_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <openssl/rand.h>

#include "l_aws.h"
#include "secret.h"

#define STATE_MT "mlpz.aws.request_state"

static void free_lines(mlpz_aws_req_state *s)
{
    for (size_t i = 0; i < s->n_lines; i++)
        mlpz_secret_free(s->lines[i]);
    free(s->lines);
    s->lines = NULL;
    s->n_lines = 0;
}

void mlpz_aws_req_state_release(mlpz_aws_req_state *s)
{
    if (s->body)
        fclose(s->body);
    if (s->out)
        fclose(s->out);
    s->body = s->out = NULL;
    if (s->tmp_path) {
        unlink(s->tmp_path);
        free(s->tmp_path);
        s->tmp_path = NULL;
    }
    free_lines(s);
    mlpz_aws_req_state_set_token(s, NULL);
    mlpz_sigv4_result_free(&s->sig);
    mlpz_http_response_free(&s->res);
}

static int state_gc(lua_State *L)
{
    mlpz_aws_req_state_release(luaL_checkudata(L, 1, STATE_MT));
    return 0;
}

void mlpz_aws_req_state_register(lua_State *L)
{
    static const luaL_Reg meta[] = {{"__gc", state_gc}, {NULL, NULL}};
    mlpz_aws_register_metatable(L, STATE_MT, meta, 0);
}

mlpz_aws_req_state *mlpz_aws_push_req_state(lua_State *L)
{
    mlpz_aws_req_state *s = lua_newuserdatauv(L, sizeof *s, 0);
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, STATE_MT);
    return s;
}

void mlpz_aws_req_state_set_token(mlpz_aws_req_state *s, const char *token)
{
    mlpz_secret_free(s->token_enc);
    s->token_enc = token ? mlpz_sigv4_uri_encode(token, strlen(token), 0) : NULL;
}

int mlpz_aws_req_state_set_lines(mlpz_aws_req_state *s, const mlpz_sigv4_header *headers,
                                 size_t n)
{
    free_lines(s);
    size_t n_lines = n + s->sig.n_headers;
    s->lines = calloc(n_lines ? n_lines : 1, sizeof *s->lines);
    if (!s->lines)
        return -1;
    for (size_t i = 0; i < n_lines; i++) {
        const char *name = i < n ? headers[i].name : s->sig.headers[i - n].name;
        const char *value = i < n ? headers[i].value : s->sig.headers[i - n].value;
        size_t len = strlen(name) + strlen(value) + 3;
        s->lines[i] = malloc(len);
        if (!s->lines[i])
            return -1;
        snprintf(s->lines[i], len, "%s: %s", name, value);
        s->n_lines = i + 1;
    }
    return 0;
}

/* The temp file is ".<name>.mlpz-XXXXXX", in path's directory so that the
 * rename cannot cross file systems; mode 0666 less the umask like any new
 * file. */
int mlpz_aws_open_output(mlpz_aws_req_state *s, const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base) {
        snprintf(err, errlen, "output_file '%s' names a directory", path);
        return -1;
    }
    size_t n = strlen(path) + 32;
    s->tmp_path = malloc(n);
    if (!s->tmp_path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(err, errlen, "cannot create a file beside %s: 16 temporary names were taken", path);
    for (int tries = 0; tries < 16; tries++) {
        unsigned char r[6];
        if (RAND_bytes(r, sizeof r) != 1) {
            snprintf(err, errlen, "no random bytes for a temp file name");
            break;
        }
        char hex[13];
        mlpz_sigv4_hex(r, sizeof r, hex);
        snprintf(s->tmp_path, n, "%.*s.%s.mlpz-%s", (int)dirlen, path, base, hex);
        int fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            snprintf(err, errlen, "cannot create a file beside %s: %s", path, strerror(errno));
            break;
        }
        s->out = fdopen(fd, "wb");
        if (!s->out) {
            close(fd);
            unlink(s->tmp_path);
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            break;
        }
        return 0;
    }
    free(s->tmp_path);
    s->tmp_path = NULL;
    return -1;
}

int mlpz_aws_finish_output(mlpz_aws_req_state *s, const char *path, char *err, size_t errlen)
{
    int rc = fflush(s->out) == 0 && fsync(fileno(s->out)) == 0 ? 0 : -1;
    if (fclose(s->out) != 0)
        rc = -1;
    s->out = NULL;
    if (rc != 0 || rename(s->tmp_path, path) != 0) {
        snprintf(err, errlen, "could not write %s: %s", path, strerror(errno));
        return -1;
    }
    free(s->tmp_path);
    s->tmp_path = NULL;
    return 0;
}
