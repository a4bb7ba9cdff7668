/* The pieces of an HTTP request taken from client:request{...}: the
 * options, the query string, the caller's headers and the url, each checked
 * so that a bad value is a Lua error naming it rather than a malformed
 * request on the wire. */
#ifndef MLPZ_AWS_REQUEST_H
#define MLPZ_AWS_REQUEST_H

#include <stddef.h>

#include <lua.h>

typedef struct {
    const char *method, *path, *bucket, *output, *payload_hash, *body_file;
    const char *body;
    size_t body_len;
    int has_body, s3;
    lua_Integer body_offset, body_length;
} mlpz_aws_req_opts;

/* Reads the options of the table at req; s3 defaults to default_s3. The
 * strings stay anchored in that table. */
void mlpz_aws_read_req_opts(lua_State *L, int req, int default_s3, mlpz_aws_req_opts *o);

/* Pushes "k=v&..." from query = {k = v} (sorted by name) or {{k, v}, ...}
 * (in order) of the table at req, names and values URI-encoded; "" when
 * there is none. */
void mlpz_aws_push_query(lua_State *L, int req);

/* Pushes headers = {name = value} of the table at req, checked and sorted by
 * name, as a list name1, value1, name2, value2...; returns the count. */
size_t mlpz_aws_push_headers(lua_State *L, int req);

/* Pushes the request url: endpoint + path, or with a bucket (S3),
 * bucket.host + path (virtual-hosted) unless path_style or the name cannot
 * be a host label, else endpoint + /bucket + path; then ?query when any. */
void mlpz_aws_push_url(lua_State *L, const char *endpoint, int path_style, const char *bucket,
                       const char *path, const char *query);

#endif
