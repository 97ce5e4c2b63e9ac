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

/* Takes the turn of org's writers of this type: the row of the type's
 * count, locked until the transaction ends (made if there is none, with
 * nothing counted yet), so that their writes commit in the order they
 * took it. What a writer stamps its records with after this (their
 * lastSyncedAt) is then ordered as they commit, which a cursor's walk
 * needs (mi_records_list). Take the turns of several types in the order of
 * mi_resources. Changes neither total nor version. */
mi_result_e mi_counts_lock(mi_db_t *db, apr_pool_t *pool, const char *org,
                           const char *entity_type);

/* The total and version; both 0 before the first write. */
mi_result_e mi_counts_get(mi_db_t *db, apr_pool_t *pool, const char *org,
                          const char *entity_type, apr_int64_t *total,
                          apr_int64_t *version);

/* Every type's total of the organization: entity type -> apr_int64_t *. */
mi_result_e mi_counts_all(mi_db_t *db, apr_pool_t *pool, const char *org,
                          apr_hash_t **totals);

#endif
