/* One HTTP/1.1 exchange at a time over a reused libcurl easy handle, so
 * consecutive requests to one endpoint share a kept-alive connection. No
 * retries and no AWS knowledge here: the caller signs, decides and retries.
 *
 * TLS peer and host verification stay on (libcurl's defaults are never
 * changed); only http and https URLs are accepted; redirects are not
 * followed (AWS answers them with an error body the caller decodes);
 * proxies come from the usual environment variables, as for the AWS CLI. */
#ifndef MLPZ_HTTP_H
#define MLPZ_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct mlpz_http mlpz_http;

typedef enum {
    MLPZ_HTTP_OK = 0,       /* an answer arrived, whatever its status */
    MLPZ_HTTP_CONNECT,      /* could not resolve or connect */
    MLPZ_HTTP_TIMEOUT,      /* connect or total timeout */
    MLPZ_HTTP_NETWORK,      /* reset, truncated or empty answer, send/recv error */
    MLPZ_HTTP_TLS,          /* handshake or certificate verification failed */
    MLPZ_HTTP_TOO_LARGE,    /* the in-memory body passed max_body */
    MLPZ_HTTP_LOCAL         /* our side: bad url, body file, output file, memory */
} mlpz_http_failure;

typedef struct {
    const char *method;          /* "GET", "PUT", "POST", "HEAD", "DELETE"... */
    const char *url;             /* http:// or https:// */
    const char *const *headers;  /* "Name: value" lines, n_headers of them */
    size_t n_headers;
    /* The body: none (has_body 0), body_len bytes in memory, or body_length
     * bytes of body_file from body_offset (read afresh by each perform). */
    int has_body;
    const void *body;
    size_t body_len;
    FILE *body_file;
    int64_t body_offset;
    int64_t body_length;
    /* When set, a 2xx answer's body goes here instead of memory (other
     * statuses stay in memory, for error decoding). */
    FILE *output;
    size_t max_body;             /* in-memory body bound; 0 = 64 MiB */
    long connect_timeout_ms;     /* 0 = libcurl's default */
    long timeout_ms;             /* whole exchange; 0 = none */
    const char *ca_bundle;       /* CA file replacing the system's; NULL = system */
    const char *user_agent;
} mlpz_http_request;

typedef struct {
    char *name;                  /* lower-case */
    char *value;                 /* trimmed; repeated headers joined with "," */
} mlpz_http_header;

typedef struct {
    long status;                 /* 0 when no answer */
    char reason[64];             /* "Not Found" */
    mlpz_http_header *headers;
    size_t n_headers;
    char *body;                  /* NUL-terminated; NULL when empty or sent to output */
    size_t body_len;
    int64_t written;             /* bytes written to output */
    long new_connections;        /* 0 when a kept-alive connection was reused */
    double seconds;              /* total time of the exchange */
    mlpz_http_failure failure;
    int retryable;               /* failure is transient (connect, timeout, network) */
    char err[320];               /* failure, one line */
} mlpz_http_response;

#define MLPZ_HTTP_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)

/* Initialises libcurl once per process (not thread-safe, like
 * curl_global_init). 0, or -1 with err. */
int mlpz_http_global_init(char *err, size_t errlen);

/* A new handle; NULL with err. */
mlpz_http *mlpz_http_new(char *err, size_t errlen);

/* Performs req on h. res needs no initialisation. Returns 0 when an answer
 * arrived (res->status set), -1 otherwise (res->failure, res->err). Either
 * way release res with mlpz_http_response_free. */
int mlpz_http_perform(mlpz_http *h, const mlpz_http_request *req, mlpz_http_response *res);

/* The value of a response header (name in lower case), or NULL. */
const char *mlpz_http_header_get(const mlpz_http_response *res, const char *name);

void mlpz_http_response_free(mlpz_http_response *res);

/* Closes the connections and frees. NULL is fine. */
void mlpz_http_free(mlpz_http *h);

/* The host[:port] of an http(s) url into out ("?" when there is none), for
 * messages. */
void mlpz_http_url_host(const char *url, char *out, size_t outlen);

#endif
