/* Functions of the "mlpz.aws" module, each implemented in its own file and
 * gathered by bindings/l_aws.c. */
#ifndef MLPZ_L_AWS_H
#define MLPZ_L_AWS_H

#include <lua.h>

int mlpz_aws_sign(lua_State *L);        /* l_aws_sign.c: aws.sign{...} */
int mlpz_aws_credentials(lua_State *L); /* l_aws_config.c: aws.credentials{...} */
int mlpz_aws_region(lua_State *L);      /* l_aws_config.c: aws.region{...} */
int mlpz_aws_endpoint(lua_State *L);    /* l_aws_config.c: aws.endpoint(service, {...}) */
int mlpz_aws_client(lua_State *L);      /* l_aws_client.c: aws.client{...} */
int mlpz_aws_xml_decode(lua_State *L);  /* l_aws_xml.c: aws.xml_decode(s) */
int mlpz_aws_file_digest(lua_State *L); /* l_aws_client.c: aws.file_digest(path, algo, [offset, length]) */

/* Metatables registered by luaopen_mlpz_aws before the functions run. */
void mlpz_aws_client_register(lua_State *L);
void mlpz_aws_credentials_register(lua_State *L);

#endif
