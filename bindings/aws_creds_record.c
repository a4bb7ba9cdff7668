/* The credentials record: set checked, cleared cleansed, read from the
 * JSON answers of the refreshable sources. */
#include "aws_creds_record.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua.h>

#include "aws_env.h"
#include "failf.h"
#include "l_aws.h"
#include "secret.h"

void mlpz_aws_creds_clear(mlpz_aws_creds *c)
{
    free(c->access_key_id);
    mlpz_secret_free(c->secret_access_key);
    mlpz_secret_free(c->session_token);
    memset(c, 0, sizeof *c);
}

int mlpz_aws_creds_set(mlpz_aws_creds *c, const char *key, const char *secret, const char *token,
                       int64_t expiration, const char *what, char *err, size_t errlen)
{
    if (!key || !*key || !secret || !*secret)
        return mlpz_failf(err, errlen,
                          "%s: an access key id and a secret access key are both needed", what);
    /* They go into HTTP headers. */
    if (!mlpz_aws_printable(key) || !mlpz_aws_printable(secret) ||
        (token && !mlpz_aws_printable(token)))
        return mlpz_failf(err, errlen, "%s: the access key id, secret or session token has a space "
                          "or a non-ASCII or control character", what);
    mlpz_aws_creds n;
    memset(&n, 0, sizeof n);
    n.access_key_id = strdup(key);
    n.secret_access_key = strdup(secret);
    n.session_token = token && *token ? strdup(token) : NULL;
    n.expiration = expiration;
    if (!n.access_key_id || !n.secret_access_key || (token && *token && !n.session_token)) {
        mlpz_aws_creds_clear(&n);
        return mlpz_failf(err, errlen, "%s: out of memory", what);
    }
    memcpy(n.source, c->source, sizeof n.source);
    mlpz_aws_creds_clear(c);
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

void mlpz_aws_format_time(int64_t t, char *out, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, n, "?");
}

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

int mlpz_aws_creds_from_json(lua_State *L, const char *body, size_t n, mlpz_aws_json_kind kind,
                             const char *what, mlpz_aws_creds *c, char *err, size_t errlen)
{
    int top = lua_gettop(L);
    char jerr[200];
    if (mlpz_aws_json_decode(L, body, n, jerr, sizeof jerr) != 0)
        return mlpz_failf(err, errlen, "%s: the answer is not JSON (%s)", what, jerr);
    int rc = -1;
    const char *key, *secret, *token, *expiry, *code;
    if (!lua_istable(L, -1)) {
        mlpz_failf(err, errlen, "%s: the answer is not a JSON object", what);
        goto done;
    }
    if (kind == MLPZ_AWS_JSON_PROCESS) {
        lua_getfield(L, -1, "Version");
        int ok = lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) == 1;
        lua_pop(L, 1);
        if (!ok) {
            mlpz_failf(err, errlen, "%s: the JSON needs \"Version\": 1", what);
            goto done;
        }
    }
    if (kind == MLPZ_AWS_JSON_IMDS && json_string(L, "Code", &code) == 0 && code &&
        strcmp(code, "Success") != 0) {
        mlpz_failf(err, errlen, "%s: Code is \"%.40s\", not \"Success\"", what, code);
        goto done;
    }
    const char *token_key = kind == MLPZ_AWS_JSON_PROCESS ? "SessionToken" : "Token";
    if (json_string(L, "AccessKeyId", &key) != 0 ||
        json_string(L, "SecretAccessKey", &secret) != 0 || json_string(L, token_key, &token) != 0 ||
        json_string(L, "Expiration", &expiry) != 0) {
        mlpz_failf(err, errlen,
                   "%s: AccessKeyId, SecretAccessKey, %s and Expiration must be strings", what,
                   token_key);
        goto done;
    }
    if (!key || !secret) {
        mlpz_failf(err, errlen, "%s: the JSON lacks %s", what,
                   key ? "SecretAccessKey" : "AccessKeyId");
        goto done;
    }
    int64_t exp = 0;
    if (expiry && parse_time(expiry, &exp) != 0) {
        mlpz_failf(err, errlen, "%s: Expiration \"%.40s\" is not an ISO 8601 time", what, expiry);
        goto done;
    }
    rc = mlpz_aws_creds_set(c, key, secret, token, exp, what, err, errlen);
done:
    lua_settop(L, top);
    return rc;
}
