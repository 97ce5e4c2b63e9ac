/* mi_counts.h: how many records an organization has of each type, kept
 * in the transaction of every write, so that reads need not count. */
#ifndef MI_COUNTS_H
#define MI_COUNTS_H

#include "mi_db.h"

apr_status_t mi_counts_add(mi_db_t *db, apr_pool_t *pool, const char *org,
                           const char *entity_type, apr_int64_t delta);

apr_status_t mi_counts_get(mi_db_t *db, apr_pool_t *pool, const char *org,
                           const char *entity_type, apr_int64_t *total);

/* Every type's total of the organization: entity type -> apr_int64_t *. */
apr_status_t mi_counts_all(mi_db_t *db, apr_pool_t *pool, const char *org,
                           apr_hash_t **totals);

#endif
