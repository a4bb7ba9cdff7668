/* Functions of the "mlpz.aws" module, each implemented in its own file and
 * gathered by bindings/l_aws.c, and the helpers those files share. */
#ifndef MLPZ_L_AWS_H
#define MLPZ_L_AWS_H

#include <stddef.h>

#include <lauxlib.h>
#include <lua.h>

#include "aws_credentials.h"
#include "sigv4.h"

int mlpz_aws_sign(lua_State *L);        /* l_aws_sign.c: aws.sign{...} */
int mlpz_aws_credentials(lua_State *L); /* l_aws_config.c: aws.credentials{...} */
int mlpz_aws_region(lua_State *L);      /* l_aws_config.c: aws.region{...} */
int mlpz_aws_endpoint(lua_State *L);    /* l_aws_config.c: aws.endpoint(service, {...}) */
int mlpz_aws_client(lua_State *L);      /* l_aws_client.c: aws.client{...} */
int mlpz_aws_xml_decode(lua_State *L);  /* l_aws_xml.c: aws.xml_decode(s) */
/* l_aws_digest.c: aws.file_digest(path, algo, [offset, length]) */
int mlpz_aws_file_digest(lua_State *L);

/* Metatables registered by luaopen_mlpz_aws before the functions run. */
void mlpz_aws_client_register(lua_State *L);
void mlpz_aws_credentials_register(lua_State *L);
void mlpz_aws_xml_register(lua_State *L);
void mlpz_aws_sign_register(lua_State *L);

#define MLPZ_AWS_CREDENTIALS_MT "mlpz.aws.credentials"

/* Resolves credentials from o and pushes a credentials object (returns 1),
 * or nil and the error (returns 2). */
int mlpz_aws_push_new_credentials(lua_State *L, const mlpz_aws_creds_opts *o);

/* The provider of the credentials object at idx, or NULL when the value is
 * not one. */
mlpz_aws_provider *mlpz_aws_to_provider(lua_State *L, int idx);

/* Decodes n bytes of JSON with a private lua-cjson instance (the script's
 * cjson settings do not apply): pushes the value and returns 0, or pushes
 * nothing and returns -1 with err (cjson's message, which names a position,
 * never the text). */
int mlpz_aws_json_decode(lua_State *L, const char *s, size_t n, char *err, size_t errlen);

/* Parses n bytes of XML with expat and pushes the root element in the
 * shape aws.xml_decode returns: 0, or pushes nothing and returns -1 with
 * err ("line N: expat's message"). */
int mlpz_aws_xml_push(lua_State *L, const char *s, size_t n, char *err, size_t errlen);

/* ---- l_aws.c ---- */

/* Pushes nil (luaL_pushfail) and err, the answer to an expected failure;
 * returns 2. */
int mlpz_aws_push_fail(lua_State *L, const char *err);

/* The option key of the table at t: a string (NULL when nil), or a boolean
 * (dflt when nil); any other type is an error naming fn and key. Strings
 * stay anchored in the table. */
const char *mlpz_aws_field_string(lua_State *L, int t, const char *fn, const char *key);
int mlpz_aws_field_bool(lua_State *L, int t, const char *fn, const char *key, int dflt);

/* Creates the metatable name with the metamethods meta, once. protect sets
 * __metatable, for userdata whose __gc getmetatable() must not hand out (a
 * double free). */
void mlpz_aws_register_metatable(lua_State *L, const char *name, const luaL_Reg *meta,
                                 int protect);

/* Sorts the n pairs stored flat in the table at list (name1, value1,
 * name2, value2...) by name with cmp, keeping equal names in order. */
void mlpz_aws_sort_pairs(lua_State *L, int list, lua_Integer n,
                         int (*cmp)(const char *, const char *));

/* Pushes a userdata holding n headers that point at the strings of such a
 * list (at an absolute index), which must outlive it, and returns it. */
mlpz_sigv4_header *mlpz_aws_push_header_array(lua_State *L, int list, size_t n);

/* MLPZ_DEBUG=1 (any value but "" and "0"): debug lines on stderr, each
 * prefixed "mlpz.aws: ". Callers redact secrets before printing. */
int mlpz_aws_debug_on(void);
void mlpz_aws_debugf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
