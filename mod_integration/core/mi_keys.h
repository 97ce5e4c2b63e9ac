/* mi_keys.h: the key that signs listing cursors and ETags (mi_cursor,
 * mi_etag), made once by migration 010 and shared by every node through
 * the database; each process reads it once and keeps it. */
#ifndef MI_KEYS_H
#define MI_KEYS_H

#include "mi_db.h"

#define MI_KEY_LEN 32

typedef struct mi_keys_t mi_keys_t;

/* An empty cache of the key, living as long as pool; safe across
 * threads. */
apr_status_t mi_keys_create(mi_keys_t **keys, apr_pool_t *pool);

/* The listing key (MI_KEY_LEN bytes), read from db the first time. keys
 * may be NULL: then it is read every time (integration-admin, tests). */
mi_result_e mi_keys_listing(mi_keys_t *keys, mi_db_t *db, apr_pool_t *pool,
                            const unsigned char **key);

#endif
