/* AWS Signature Version 4: the canonical request, string to sign and
 * signature for one HTTP request, signed either with an Authorization header
 * or as a presigned URL (query parameters). Pure: no clock, no environment,
 * no I/O, so it can be checked byte for byte against AWS's own test suite.
 *
 * The url is taken in its wire form, as it goes on the request line: a path
 * already percent-encoded by the caller (see mlpz_sigv4_uri_encode). Services
 * other than S3 encode that path a second time for the canonical request;
 * S3 uses it as it is (only bytes not allowed on the wire get encoded).
 * Query parameters are percent-decoded then encoded again ('+' is a literal
 * plus, not a space), so raw and encoded spellings sign the same.
 *
 * Headers are signed as given, except User-Agent, Expect, Transfer-Encoding
 * and X-Amzn-Trace-Id, which HTTP libraries and proxies rewrite (botocore
 * skips them too). Headers the signer adds itself (Authorization; in header
 * mode X-Amz-Date, X-Amz-Security-Token when there is a token and
 * x-amz-content-sha256 with sign_body) are refused in the input. */
#ifndef MLPZ_SIGV4_H
#define MLPZ_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#define MLPZ_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define MLPZ_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define MLPZ_SIGV4_MAX_EXPIRES 604800 /* seven days, AWS's limit */

typedef struct {
    const char *name;
    const char *value;
} mlpz_sigv4_header;

typedef enum {
    MLPZ_SIGV4_HEADER = 0, /* Authorization header */
    MLPZ_SIGV4_QUERY = 1   /* presigned URL */
} mlpz_sigv4_mode;

typedef struct {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" when there is none */
} mlpz_sigv4_credentials;

typedef struct {
    const char *method;  /* "GET", "POST"... used as given */
    const char *url;     /* "https://host[:port]/path?query" or "/path?query" */
    const mlpz_sigv4_header *headers; /* duplicates allowed; n_headers of them */
    size_t n_headers;
    const void *body;    /* body_len bytes; NULL when body_len is 0 */
    size_t body_len;
    const char *payload_hash; /* replaces the body's SHA-256 when set, e.g.
                                 MLPZ_SIGV4_UNSIGNED_PAYLOAD, which S3
                                 presigned URLs want */
    const char *service;
    const char *region;
    mlpz_sigv4_credentials creds;
    int64_t time;        /* seconds since the epoch, UTC */
    mlpz_sigv4_mode mode;
    int expires;         /* query mode: seconds the URL stays valid */
    int normalize;       /* remove dot segments and duplicate slashes */
    int double_encode;   /* encode the wire path again (all but S3) */
    int sign_body;       /* header mode: add and sign x-amz-content-sha256 */
    int omit_session_token; /* add the token after signing, unsigned */
} mlpz_sigv4_request;

typedef struct {
    const char *name;    /* static string */
    char *value;
} mlpz_sigv4_out_header;

typedef struct {
    char amz_date[17];   /* YYYYMMDDTHHMMSSZ */
    char signature[65];  /* lower-case hex */
    char *payload_hash;
    char *credential_scope; /* date/region/service/aws4_request */
    char *signed_headers;   /* "host;x-amz-date" */
    char *canonical_request;
    char *string_to_sign;
    /* Header mode: the Authorization value, and every header to add to the
     * request, in this order: Host (only when it came from an absolute url,
     * so the signed value is the one sent), X-Amz-Security-Token,
     * X-Amz-Date, x-amz-content-sha256, Authorization (those that apply). */
    char *authorization;
    mlpz_sigv4_out_header headers[5];
    size_t n_headers;
    /* Query mode (n_headers is 0): the parameters to append, already
     * encoded, in the order X-Amz-Algorithm, -Credential, -Date,
     * -SignedHeaders, -Expires, -Security-Token, -Signature; and the url
     * with them appended. */
    char *query;
    char *url;
    char err[256];       /* one line when mlpz_sigv4_sign fails */
} mlpz_sigv4_result;

/* Zeroes r and sets the defaults for the service: S3 neither normalises nor
 * double-encodes the path and signs the payload hash header; every other
 * service normalises, double-encodes and does not. expires = 3600. */
void mlpz_sigv4_request_init(mlpz_sigv4_request *r, const char *service);

/* Signs req into out (which needs no initialisation). Returns 0, or -1 with
 * out->err set (bad input or out of memory). Either way release out with
 * mlpz_sigv4_result_free. The secret only ever reaches the HMAC inputs, and
 * every buffer that held key material is cleansed before return. */
int mlpz_sigv4_sign(const mlpz_sigv4_request *req, mlpz_sigv4_result *out);

/* Cleanses (the session token may be in the output) and frees; idempotent. */
void mlpz_sigv4_result_free(mlpz_sigv4_result *out);

/* URI-encodes n bytes as SigV4 wants: A-Z a-z 0-9 - . _ ~ kept, '/' kept
 * when keep_slash, everything else %XX upper-case. Returns a malloc'd string
 * or NULL when out of memory. For S3 keys (keep_slash) and query values. */
char *mlpz_sigv4_uri_encode(const char *s, size_t n, int keep_slash);

/* Lower-case hex SHA-256 of n bytes into out; 0, or -1 if libcrypto fails. */
int mlpz_sigv4_sha256_hex(const void *data, size_t n, char out[65]);

/* Lower-case hex of n bytes into out, which takes 2n + 1. */
void mlpz_sigv4_hex(const unsigned char *d, size_t n, char *out);

/* Formats t as YYYYMMDDTHHMMSSZ; 0, or -1 when t is before 1970 or after
 * the year 9999. */
int mlpz_sigv4_format_date(int64_t t, char out[17]);

#endif
