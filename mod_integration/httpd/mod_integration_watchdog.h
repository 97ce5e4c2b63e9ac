/* mod_integration_watchdog.h: webhook delivery in the background, from a
 * mod_watchdog thread of a child process, never from a request thread. */
#ifndef MOD_INTEGRATION_WATCHDOG_H
#define MOD_INTEGRATION_WATCHDOG_H

#include "mod_integration.h"

/* post_config: registers the delivery callback (and says why not). */
apr_status_t mi_watchdog_setup(server_rec *s, apr_pool_t *pconf);

/* child_init: the delivery thread stops before the child's pools go. */
void mi_watchdog_child_init(apr_pool_t *pchild);

#endif
