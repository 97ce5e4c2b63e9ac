/* mi_tenant.h: organizations (the tenants) and their integrations. */
#ifndef MI_TENANT_H
#define MI_TENANT_H

#include "mi_db.h"

/* Creates an organization; *id gets its new id (org_...). */
mi_result_e mi_org_create(mi_db_t *db, apr_pool_t *pool, const char *name,
                          const char **id);

/* Creates an ACTIVE integration of an existing organization (int_...). */
mi_result_e mi_integration_create(mi_db_t *db, apr_pool_t *pool,
                                  const char *org_id, const char *name,
                                  const char **id);

/* Sets ACTIVE, INACTIVE, PENDING or ERROR. */
mi_result_e mi_integration_set_status(mi_db_t *db, apr_pool_t *pool,
                                      const char *id, const char *status);

#endif
