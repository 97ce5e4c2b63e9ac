/* mi_keys.c: the shared listing key, read once per process. */
#include <string.h>
#include <apr_escape.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include "mi_keys.h"

struct mi_keys_t {
    apr_thread_mutex_t *lock;
    int loaded;
    unsigned char listing[MI_KEY_LEN];
};

static const mi_stmt_t key_stmt = { "mi_keys_get", {
    "SELECT secret FROM integration_keys WHERE name = %s", NULL } };

apr_status_t mi_keys_create(mi_keys_t **keys, apr_pool_t *pool)
{
    mi_keys_t *k = apr_pcalloc(pool, sizeof(*k));
    apr_status_t rv;

    *keys = NULL;
    rv = apr_thread_mutex_create(&k->lock, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv == APR_SUCCESS) {
        *keys = k;
    }
    return rv;
}

/* The key's 64 hex digits as bytes; 0 when it is not that. */
static int unhex(const char *hex, unsigned char *out)
{
    apr_size_t len;

    if (!hex || strlen(hex) != 2 * MI_KEY_LEN) {
        return 0;
    }
    return apr_unescape_hex(out, hex, 2 * MI_KEY_LEN, 0, &len) == APR_SUCCESS
           && len == MI_KEY_LEN;
}

static mi_result_e read_key(mi_db_t *db, apr_pool_t *pool,
                            unsigned char *out)
{
    const char *name = "listing";
    mi_rows_t rows;

    if (mi_db_select(db, pool, &key_stmt, &rows, 1, &name) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    /* Migration 010 made it: without it the schema is not this build's. */
    if (rows.nrows != 1 || !unhex(rows.rows[0][0], out)) {
        return MI_ERR_INTERNAL;
    }
    return MI_OK;
}

mi_result_e mi_keys_listing(mi_keys_t *keys, mi_db_t *db, apr_pool_t *pool,
                            const unsigned char **key)
{
    unsigned char *k;
    mi_result_e rc;

    if (!keys) {
        k = apr_palloc(pool, MI_KEY_LEN);
        if ((rc = read_key(db, pool, k)) == MI_OK) {
            *key = k;
        }
        return rc;
    }
    apr_thread_mutex_lock(keys->lock);
    rc = keys->loaded ? MI_OK : read_key(db, pool, keys->listing);
    if (rc == MI_OK) {
        /* It never changes once made: kept for the process's life. */
        keys->loaded = 1;
        *key = keys->listing;
    }
    apr_thread_mutex_unlock(keys->lock);
    return rc;
}
