/* The canonical headers of Signature V4: names lower-cased, values folded,
 * the headers proxies rewrite left out, the signer's own added. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"
#include "sigv4_impl.h"

void mlpz_sigv4_hlist_free(mlpz_sigv4_hlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        mlpz_secret_free(l->v[i].value);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A line break is allowed only as obs-fold (followed by a space or tab), as
 * in the suite's multi-line header; anything else could smuggle a header. */
static const char *bad_value(const char *v)
{
    for (size_t i = 0; v[i]; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '\r' && v[i + 1] != '\n')
            return "a CR not followed by LF";
        if (c == '\n' && v[i + 1] != ' ' && v[i + 1] != '\t')
            return "a line break not followed by a space or tab";
        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            return "a control character";
    }
    return NULL;
}

static char *fold_value(const char *v)
{
    mlpz_sbuf b = {0};
    size_t i = 0;
    while (is_ws(v[i]))
        i++;
    while (v[i]) {
        if (is_ws(v[i])) {
            while (is_ws(v[i]))
                i++;
            if (v[i])
                mlpz_sb_putc(&b, ' ');
        } else {
            mlpz_sb_putc(&b, v[i++]);
        }
    }
    return mlpz_sb_take(&b);
}

static char *lower_dup(const char *s)
{
    char *d = mlpz_sb_dup(s, strlen(s));
    for (char *p = d; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return d;
}

static int hentry_cmp(const void *a, const void *b)
{
    const mlpz_sigv4_hentry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Proxies and HTTP libraries rewrite these, so botocore never signs them. */
static int unsigned_header(const char *lname)
{
    static const char *const skip[] = {"expect", "transfer-encoding", "user-agent",
                                       "x-amzn-trace-id"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (strcmp(lname, skip[i]) == 0)
            return 1;
    return 0;
}

static int hl_push(mlpz_sigv4_hlist *l, const char *name, const char *value)
{
    char *n = lower_dup(name), *v = fold_value(value);
    if (!n || !v) {
        free(n);
        mlpz_secret_free(v);
        return -1;
    }
    l->v[l->n].name = n;
    l->v[l->n].value = v;
    l->v[l->n].order = l->n;
    l->n++;
    return 0;
}

/* The headers to sign: the caller's (minus the unsigned ones) plus those the
 * signer adds. Reserved names the signer sets itself are refused so a
 * request never carries two different values for one of them. */
int mlpz_sigv4_collect_headers(const mlpz_sigv4_request *req, const mlpz_sigv4_url *u,
                               const char *amz_date, const char *token, const char *payload_hash,
                               mlpz_sigv4_hlist *l, int *host_added, mlpz_sigv4_result *out)
{
    int header_mode = req->mode == MLPZ_SIGV4_HEADER;
    if (req->n_headers > (SIZE_MAX / sizeof *l->v) - 4)
        return SIGV4_FAIL(out, "sigv4: headers: too many");
    l->v = calloc(req->n_headers + 4, sizeof *l->v);
    if (!l->v)
        return SIGV4_OOM(out);
    int have_host = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *name = req->headers[i].name, *value = req->headers[i].value;
        if (!name || !*name || !value)
            return SIGV4_FAIL(out, "sigv4: headers[%zu]: needs a name and a value", i + 1);
        for (const char *p = name; *p; p++)
            if (!mlpz_sigv4_is_tchar((unsigned char)*p))
                return SIGV4_FAIL(out, "sigv4: headers[%zu]: name '%.40s' has a character "
                                  "not allowed in header names", i + 1, name);
        const char *why = bad_value(value);
        if (why)
            return SIGV4_FAIL(out, "sigv4: headers[%zu] (%.40s): value has %s", i + 1, name, why);
        if (strcasecmp(name, "authorization") == 0 ||
            (header_mode && strcasecmp(name, "x-amz-date") == 0) ||
            (header_mode && token && strcasecmp(name, "x-amz-security-token") == 0) ||
            (header_mode && req->sign_body && strcasecmp(name, "x-amz-content-sha256") == 0))
            return SIGV4_FAIL(out, "sigv4: headers[%zu]: '%s' is set by the signer; remove it",
                              i + 1, name);
        if (strcasecmp(name, "host") == 0)
            have_host = 1;
        if (hl_push(l, name, value) != 0)
            return SIGV4_OOM(out);
        if (unsigned_header(l->v[l->n - 1].name)) {
            l->n--;
            free(l->v[l->n].name);
            mlpz_secret_free(l->v[l->n].value);
        }
    }
    if (!have_host) {
        if (!u->host)
            return SIGV4_FAIL(out, "sigv4: no host: pass an absolute url (https://host/...) or a "
                              "Host header");
        if (hl_push(l, "host", u->host) != 0)
            return SIGV4_OOM(out);
        *host_added = 1;
    }
    if (header_mode) {
        if (hl_push(l, "x-amz-date", amz_date) != 0 ||
            (token && !req->omit_session_token && hl_push(l, "x-amz-security-token", token)) ||
            (req->sign_body && hl_push(l, "x-amz-content-sha256", payload_hash)))
            return SIGV4_OOM(out);
    }
    qsort(l->v, l->n, sizeof *l->v, hentry_cmp);
    return 0;
}
