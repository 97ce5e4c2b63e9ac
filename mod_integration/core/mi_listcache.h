/* mi_listcache.h: answered listings, kept per process and valid for one
 * version of the records they show.
 *
 * Every write of an organization's records of one type moves that type's
 * version on (record_counts.version, in the write's transaction), so a
 * listing answered at version v is the answer to the same query for as
 * long as the version read is v: nothing is served stale, whichever
 * process or node wrote. Entries are keyed by organization, resource and
 * query; the byte budget bounds the memory, oldest-slot-first.
 */
#ifndef MI_LISTCACHE_H
#define MI_LISTCACHE_H

#include <apr_pools.h>

typedef struct mi_listcache_t mi_listcache_t;

/* A cache of at most max_bytes of bodies (and their keys), or NULL when
 * max_bytes is 0. Lives as long as pool; safe across threads. */
apr_status_t mi_listcache_create(mi_listcache_t **cache, apr_pool_t *pool,
                                 apr_size_t max_bytes);

/* The body kept for key at version, copied into pool (*len set), or NULL.
 * cache may be NULL. */
const char *mi_listcache_get(mi_listcache_t *cache, apr_pool_t *pool,
                             const char *key, apr_int64_t version,
                             apr_size_t *len);

/* Keeps body as the answer for key at version, replacing what was kept
 * for key. Bodies larger than an eighth of the budget are not kept. */
void mi_listcache_put(mi_listcache_t *cache, const char *key,
                      apr_int64_t version, const char *body, apr_size_t len);

#endif
