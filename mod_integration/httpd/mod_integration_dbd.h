/* mod_integration_dbd.h: database connections from mod_dbd's pool, with every
 * wait bounded, given back as soon as their user is done.
 *
 * mod_dbd's ap_dbd_acquire ties a connection to the request pool, which
 * mod_http2 destroys late, and its pool waits for a free connection for
 * ever. Here a connection is taken with ap_dbd_open and given back with
 * ap_dbd_close when the handler is done; a per-process count of what is
 * out lets no one wait longer than IntegrationDbTimeout for one. After a
 * failed connect the process answers 503 at once for a second, so that an
 * outage neither piles up waiting requests nor floods the error log.
 */
#ifndef MOD_INTEGRATION_DBD_H
#define MOD_INTEGRATION_DBD_H

#include "mod_integration.h"
#include <mod_dbd.h>

/* post_config: mod_dbd's functions; 0 when mod_dbd is missing. */
int mi_dbd_setup(void);

/* mod_dbd's configuration of server s (DBDriver, DBDParams, DBDMax), or
 * NULL. */
const dbd_cfg_t *mi_dbd_config(server_rec *s);

/* child_init: one count per database configuration of the servers. */
void mi_dbd_child_init(server_rec *s, apr_pool_t *pchild);

/* The request's connection (taken on first use), or NULL: the caller
 * answers 503. A database whose schema is older than this module needs is
 * NULL too (a graceful restart does not refuse it; requests do). */
mi_db_t *mi_req_db(mi_req_t *req);

/* Gives the request's connection back; any open transaction is rolled
 * back first. The handler calls it when it has answered. */
void mi_req_db_done(mi_req_t *req);

/* A connection for server s as an mi_db_t in pool, or NULL and *why;
 * *handle receives what mi_dbd_close needs. */
mi_db_t *mi_dbd_open(server_rec *s, apr_pool_t *pool, void **handle,
                      const char **why);
void mi_dbd_close(server_rec *s, mi_db_t *db, void *handle);

#endif
