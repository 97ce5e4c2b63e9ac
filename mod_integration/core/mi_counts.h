/* mi_counts.h: how many records an organization has of each type, and
 * the version of those records, kept in the transaction of every write:
 * reads need not count, and a listing answered at one version stays the
 * answer until the next (mi_listcache). */
#ifndef MI_COUNTS_H
#define MI_COUNTS_H

#include "mi_db.h"

/* Records of this type were written: delta added to the total (0 for
 * updates), the version moved on. */
mi_result_e mi_counts_add(mi_db_t *db, apr_pool_t *pool, const char *org,
                          const char *entity_type, apr_int64_t delta);

/* The total and version; both 0 before the first write. */
mi_result_e mi_counts_get(mi_db_t *db, apr_pool_t *pool, const char *org,
                          const char *entity_type, apr_int64_t *total,
                          apr_int64_t *version);

/* Every type's total of the organization: entity type -> apr_int64_t *. */
mi_result_e mi_counts_all(mi_db_t *db, apr_pool_t *pool, const char *org,
                          apr_hash_t **totals);

#endif
