/* mod_integration_conf.h: what the module record takes from the
 * configuration file: the server config's constructors and the directive
 * table. mi_conf_of (mod_integration.h) reads it. */
#ifndef MOD_INTEGRATION_CONF_H
#define MOD_INTEGRATION_CONF_H

#include "mod_integration.h"

void *mi_conf_create(apr_pool_t *p, server_rec *s);
void *mi_conf_merge(apr_pool_t *p, void *basev, void *addv);
extern const command_rec mi_conf_directives[];

#endif
