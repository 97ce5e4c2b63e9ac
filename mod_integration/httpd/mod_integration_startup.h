/* mod_integration_startup.h: the checks of post_config. */
#ifndef MOD_INTEGRATION_STARTUP_H
#define MOD_INTEGRATION_STARTUP_H

#include "mod_integration.h"

/* Puts SQLite into multi-thread mode when it is first used, and checks the
 * database's schema: !OK only when httpd must not start (a bad DBDriver;
 * at a cold start also a missing SQLite file or an old schema). */
int mi_startup_check(server_rec *s, apr_pool_t *ptemp);

#endif
