/* What the sigv4*.c files share among themselves; other callers use
 * sigv4.h. sigv4.c validates and assembles the output, sigv4_canon.c builds
 * the canonical url, path and query, sigv4_headers.c the canonical headers,
 * sigv4_encode.c the character classes and percent-encoding, sigv4_hash.c
 * the hashing and the HMAC key chain. */
#ifndef MLPZ_SIGV4_IMPL_H
#define MLPZ_SIGV4_IMPL_H

#include <stddef.h>

#include "failf.h"
#include "sbuf.h"
#include "sigv4.h"

/* Every failure is one line in out->err. */
#define SIGV4_FAIL(out, ...) mlpz_failf((out)->err, sizeof (out)->err, __VA_ARGS__)
#define SIGV4_OOM(out) SIGV4_FAIL(out, "sigv4: out of memory")

/* ---- sigv4_encode.c ---- */

int mlpz_sigv4_is_unreserved(unsigned char c);
/* RFC 9110 tchar: what header names and methods are made of. */
int mlpz_sigv4_is_tchar(unsigned char c);
int mlpz_sigv4_is_graph(unsigned char c);
/* The value of a hex digit, or -1. */
int mlpz_sigv4_hexval(unsigned char c);
/* Appends n bytes percent-encoded as SigV4 wants (see mlpz_sigv4_uri_encode). */
void mlpz_sigv4_put_encoded(mlpz_sbuf *b, const char *s, size_t n, int keep_slash);
/* Appends n bytes percent-decoded; a '%' not followed by two hex digits stays
 * as it is, and '+' stays '+' (SigV4 query strings are RFC 3986, not form
 * encoding). */
void mlpz_sigv4_put_decoded(mlpz_sbuf *b, const char *s, size_t n);

/* ---- sigv4_canon.c ---- */

typedef struct {
    const char *target;  /* "/path?query" inside the url ("" when absent) */
    const char *path;    /* path, path_len bytes */
    size_t path_len;
    const char *query;   /* after '?', query_len bytes; NULL when no '?' */
    size_t query_len;
    char *host;          /* from an absolute url, default port removed; freed by the caller */
} mlpz_sigv4_url;

int mlpz_sigv4_split_url(const char *url, mlpz_sigv4_url *u, mlpz_sigv4_result *out);

/* NULL only when out of memory. */
char *mlpz_sigv4_canonical_path(const mlpz_sigv4_request *req, const mlpz_sigv4_url *u);

/* The canonical query: the url's parameters, plus in query mode the
 * presigned ones (the session token only when it is signed), sorted by
 * encoded key then encoded value. NULL with out->err set on failure. */
char *mlpz_sigv4_canonical_query(const mlpz_sigv4_request *req, const mlpz_sigv4_url *u,
                                 const char *signed_token, mlpz_sigv4_result *out);

/* The presigned parameters in the order AWS's suite appends them, from
 * out's date, scope and signed headers (and signature when with_signature);
 * values are encoded once, as they go on the wire. NULL when out of memory. */
char *mlpz_sigv4_presign_query(const mlpz_sigv4_request *req, const mlpz_sigv4_result *out,
                               const char *token, int with_signature);

/* ---- sigv4_headers.c ---- */

typedef struct {
    char *name;  /* lower-cased */
    char *value; /* trimmed, whitespace runs folded to one space */
    size_t order;
} mlpz_sigv4_hentry;

typedef struct {
    mlpz_sigv4_hentry *v;
    size_t n;
} mlpz_sigv4_hlist;

/* The headers to sign, sorted by name (repeated names in their original
 * order): the caller's, minus the unsigned ones, plus those the signer adds.
 * *host_added when the Host header came from the url. 0, or -1 with
 * out->err. Release l with mlpz_sigv4_hlist_free either way. */
int mlpz_sigv4_collect_headers(const mlpz_sigv4_request *req, const mlpz_sigv4_url *u,
                               const char *amz_date, const char *token,
                               const char *payload_hash, mlpz_sigv4_hlist *l, int *host_added,
                               mlpz_sigv4_result *out);

void mlpz_sigv4_hlist_free(mlpz_sigv4_hlist *l);

/* ---- sigv4_hash.c ---- */

/* The signature over sts with the key derived from secret, date8
 * (YYYYMMDD), region and service: 0, or -1 when libcrypto fails or memory
 * runs out. */
int mlpz_sigv4_signature(const char *secret, const char *date8, const char *region,
                         const char *service, const char *sts, char sig_hex[65]);

#endif
