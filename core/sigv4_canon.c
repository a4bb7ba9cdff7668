/* The canonical url pieces of Signature V4: the url split into host, path
 * and query; the path normalised and encoded the way the service wants;
 * the query decoded, encoded again and sorted, with the presigned
 * parameters in query mode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"
#include "sigv4_impl.h"

/* ---- the url ---- */

int mlpz_sigv4_split_url(const char *url, mlpz_sigv4_url *u, mlpz_sigv4_result *out)
{
    memset(u, 0, sizeof *u);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return SIGV4_FAIL(out, "sigv4: url: control character at byte %zu; percent-encode it",
                              (size_t)(p - (const unsigned char *)url));
    if (strchr(url, '#'))
        return SIGV4_FAIL(out, "sigv4: url: has a fragment ('#'); drop it, it is never sent");
    const char *sep = strstr(url, "://");
    if (url[0] == '/') {
        u->target = url;
    } else if (sep && sep > url) {
        size_t slen = (size_t)(sep - url);
        for (size_t i = 0; i < slen; i++)
            if (!(mlpz_sigv4_is_unreserved((unsigned char)url[i]) || url[i] == '+'))
                return SIGV4_FAIL(out, "sigv4: url: bad scheme; want https://host/path");
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?");
        if (alen == 0)
            return SIGV4_FAIL(out, "sigv4: url: no host; want https://host/path");
        if (memchr(auth, '@', alen))
            return SIGV4_FAIL(out, "sigv4: url: user info ('@') is not supported; drop it");
        for (size_t i = 0; i < alen; i++)
            if (!mlpz_sigv4_is_graph((unsigned char)auth[i]))
                return SIGV4_FAIL(out, "sigv4: url: the host has a space or non-ASCII byte; "
                                  "use its punycode (xn--) form");
        u->target = auth + alen;
        /* The port follows the last ':' outside an IPv6 literal. */
        const char *close = memchr(auth, ']', alen);
        const char *from = close ? close : auth;
        const char *colon = NULL;
        for (const char *p = from; p < auth + alen; p++)
            if (*p == ':')
                colon = p;
        size_t hlen = alen;
        if (colon) {
            const char *port = colon + 1;
            size_t plen = (size_t)(auth + alen - port);
            int https = slen == 5 && strncasecmp(url, "https", 5) == 0;
            int http = slen == 4 && strncasecmp(url, "http", 4) == 0;
            if ((https && plen == 3 && memcmp(port, "443", 3) == 0) ||
                (http && plen == 2 && memcmp(port, "80", 2) == 0) || plen == 0)
                hlen = (size_t)(colon - auth);
        }
        /* Lower-cased like botocore: DNS names are case-insensitive, the
         * canonical request is not. */
        u->host = mlpz_sb_dup(auth, hlen);
        if (!u->host)
            return SIGV4_OOM(out);
        for (char *p = u->host; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    } else {
        return SIGV4_FAIL(out,
                          "sigv4: url: want https://host/path?query or /path?query, got '%.60s'",
                          url);
    }
    const char *q = strchr(u->target, '?');
    u->path = u->target;
    u->path_len = q ? (size_t)(q - u->target) : strlen(u->target);
    if (q) {
        u->query = q + 1;
        u->query_len = strlen(q + 1);
    }
    return 0;
}

/* botocore's normalize_url_path: drop empty and "." segments, let ".." pop
 * one, keep a trailing slash when there is something before it. */
static void put_normalized_path(mlpz_sbuf *b, const char *path, size_t n)
{
    size_t nseg = 1;
    for (size_t i = 0; i < n; i++)
        nseg += path[i] == '/';
    size_t *start = calloc(nseg, sizeof *start), *len = calloc(nseg, sizeof *len);
    if (!start || !len) {
        free(start);
        free(len);
        b->oom = 1;
        return;
    }
    size_t top = 0;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && path[j] != '/')
            j++;
        size_t sl = j - i;
        if (sl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (top)
                top--;
        } else if (sl > 0 && !(sl == 1 && path[i] == '.')) {
            start[top] = i;
            len[top++] = sl;
        }
        i = j + 1;
    }
    mlpz_sb_putc(b, '/');
    for (size_t k = 0; k < top; k++) {
        if (k)
            mlpz_sb_putc(b, '/');
        mlpz_sb_putn(b, path + start[k], len[k]);
    }
    if (top && n && path[n - 1] == '/')
        mlpz_sb_putc(b, '/');
    free(start);
    free(len);
}

/* S3's single encoding: the wire path as it is, except bytes that may not
 * appear on the wire; existing %XX escapes are kept, not encoded again. */
static void put_single_encoded(mlpz_sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && mlpz_sigv4_hexval((unsigned char)s[i + 1]) >= 0 &&
            mlpz_sigv4_hexval((unsigned char)s[i + 2]) >= 0) {
            mlpz_sb_putn(b, s + i, 3);
            i += 2;
        } else {
            mlpz_sigv4_put_encoded(b, s + i, 1, 1);
        }
    }
}

char *mlpz_sigv4_canonical_path(const mlpz_sigv4_request *req, const mlpz_sigv4_url *u)
{
    mlpz_sbuf norm = {0}, b = {0};
    const char *path = u->path;
    size_t n = u->path_len;
    if (n == 0) {
        path = "/";
        n = 1;
    }
    if (req->normalize) {
        put_normalized_path(&norm, path, n);
        if (norm.oom) {
            mlpz_sb_free(&norm);
            return NULL;
        }
        path = norm.p;
        n = norm.len;
    }
    if (req->double_encode)
        mlpz_sigv4_put_encoded(&b, path, n, 1);
    else
        put_single_encoded(&b, path, n);
    mlpz_sb_free(&norm);
    return mlpz_sb_take(&b);
}

/* ---- the query ---- */

typedef struct {
    char *key, *value; /* both encoded */
} qparam;

typedef struct {
    qparam *v;
    size_t n, cap;
} qlist;

static void ql_free(qlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        mlpz_secret_free(l->v[i].key);
        mlpz_secret_free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Takes ownership of key and value, even on failure. */
static int ql_add(qlist *l, char *key, char *value)
{
    if (!key || !value)
        goto fail;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        if (cap > SIZE_MAX / sizeof *l->v)
            goto fail;
        qparam *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            goto fail;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].key = key;
    l->v[l->n++].value = value;
    return 0;
fail:
    mlpz_secret_free(key);
    mlpz_secret_free(value);
    return -1;
}

static char *recode(const char *s, size_t n)
{
    mlpz_sbuf raw = {0}, enc = {0};
    mlpz_sigv4_put_decoded(&raw, s, n);
    if (raw.oom) {
        mlpz_sb_free(&raw);
        return NULL;
    }
    mlpz_sigv4_put_encoded(&enc, raw.p ? raw.p : "", raw.len, 0);
    mlpz_sb_free(&raw);
    return mlpz_sb_take(&enc);
}

/* Every key=value of the url's query, decoded then encoded again so that
 * raw and percent-encoded spellings canonicalise the same. */
static int parse_query(const mlpz_sigv4_url *u, qlist *l)
{
    const char *s = u->query;
    size_t n = u->query_len;
    for (size_t i = 0; s && i < n;) {
        size_t j = i;
        while (j < n && s[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(s + i, '=', j - i);
            size_t klen = eq ? (size_t)(eq - (s + i)) : j - i;
            const char *v = eq ? eq + 1 : s + j;
            if (ql_add(l, recode(s + i, klen), recode(v, (size_t)(s + j - v))) != 0)
                return -1;
        }
        i = j + 1;
    }
    return 0;
}

static int qparam_cmp(const void *a, const void *b)
{
    const qparam *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static const char *const presign_names[] = {"X-Amz-Algorithm", "X-Amz-Credential",
                                            "X-Amz-Date", "X-Amz-SignedHeaders",
                                            "X-Amz-Expires", "X-Amz-Security-Token",
                                            "X-Amz-Signature"};

char *mlpz_sigv4_presign_query(const mlpz_sigv4_request *req, const mlpz_sigv4_result *out,
                               const char *token, int with_signature)
{
    char expires[16];
    snprintf(expires, sizeof expires, "%d", req->expires);
    mlpz_sbuf cred = {0}, b = {0};
    mlpz_sb_puts(&cred, req->creds.access_key_id);
    mlpz_sb_putc(&cred, '/');
    mlpz_sb_puts(&cred, out->credential_scope);
    const char *values[] = {MLPZ_SIGV4_ALGORITHM, cred.p ? cred.p : "", out->amz_date,
                            out->signed_headers, expires, token,
                            with_signature ? out->signature : NULL};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        if (!values[i])
            continue;
        if (b.len)
            mlpz_sb_putc(&b, '&');
        mlpz_sb_puts(&b, presign_names[i]);
        mlpz_sb_putc(&b, '=');
        mlpz_sigv4_put_encoded(&b, values[i], strlen(values[i]), 0);
    }
    if (cred.oom)
        b.oom = 1;
    mlpz_sb_free(&cred);
    return mlpz_sb_take(&b);
}

char *mlpz_sigv4_canonical_query(const mlpz_sigv4_request *req, const mlpz_sigv4_url *u,
                                 const char *signed_token, mlpz_sigv4_result *out)
{
    qlist l = {0};
    mlpz_sbuf b = {0};
    char *result = NULL;
    if (parse_query(u, &l) != 0)
        goto oom;
    if (req->mode == MLPZ_SIGV4_QUERY) {
        for (size_t i = 0; i < l.n; i++)
            for (size_t k = 0; k < sizeof presign_names / sizeof *presign_names; k++)
                if (strcmp(l.v[i].key, presign_names[k]) == 0) {
                    SIGV4_FAIL(out, "sigv4: url: query already has %s; sign the url without it",
                               presign_names[k]);
                    goto done;
                }
        char *pq = mlpz_sigv4_presign_query(req, out, signed_token, 0);
        mlpz_sigv4_url pu = {.query = pq, .query_len = pq ? strlen(pq) : 0};
        int rc = pq ? parse_query(&pu, &l) : -1;
        mlpz_secret_free(pq);
        if (rc != 0)
            goto oom;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, qparam_cmp);
    for (size_t i = 0; i < l.n; i++) {
        if (i)
            mlpz_sb_putc(&b, '&');
        mlpz_sb_puts(&b, l.v[i].key);
        mlpz_sb_putc(&b, '=');
        mlpz_sb_puts(&b, l.v[i].value);
    }
    result = mlpz_sb_take(&b);
    if (result)
        goto done;
oom:
    SIGV4_OOM(out);
done:
    mlpz_sb_free(&b);
    ql_free(&l);
    return result;
}
