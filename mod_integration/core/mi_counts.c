/* mi_counts.c: records per organization and type, and their version. */
#include "mi_counts.h"

static const mi_stmt_t add_stmt = { "mi_counts_add", {
    "INSERT INTO record_counts (organization_id, entity_type, total, "
    "version) VALUES (%s, %s, {bigint:%s}, 1) "
    "ON CONFLICT (organization_id, entity_type) "
    "DO UPDATE SET total = record_counts.total + excluded.total, "
    "version = record_counts.version + 1",
    NULL } };

static const mi_stmt_t lock_stmt = { "mi_counts_lock", {
    "INSERT INTO record_counts (organization_id, entity_type, total, "
    "version) VALUES (%s, %s, 0, 0) "
    "ON CONFLICT (organization_id, entity_type) "
    "DO UPDATE SET total = record_counts.total",
    NULL } };

static const mi_stmt_t get_stmt = { "mi_counts_get", {
    "SELECT total, version FROM record_counts WHERE organization_id = %s "
    "AND entity_type = %s",
    NULL } };

mi_result_e mi_counts_add(mi_db_t *db, apr_pool_t *pool, const char *org,
                          const char *entity_type, apr_int64_t delta)
{
    const char *args[3];

    args[0] = org;
    args[1] = entity_type;
    args[2] = mi_db_int(pool, delta);
    return mi_db_result(db, mi_db_exec(db, pool, &add_stmt, NULL, 3, args));
}

mi_result_e mi_counts_lock(mi_db_t *db, apr_pool_t *pool, const char *org,
                           const char *entity_type)
{
    const char *args[2];

    args[0] = org;
    args[1] = entity_type;
    /* Writers of the type queue here: the rest of the transaction gets
     * only what the wait left of the bound. */
    if (mi_db_exec(db, pool, &lock_stmt, NULL, 2, args) != APR_SUCCESS
        || mi_db_shorten(db, pool) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    return MI_OK;
}

mi_result_e mi_counts_get(mi_db_t *db, apr_pool_t *pool, const char *org,
                          const char *entity_type, apr_int64_t *total,
                          apr_int64_t *version)
{
    const char *args[2] = { org, entity_type };
    mi_rows_t rows;

    if (mi_db_select(db, pool, &get_stmt, &rows, 2, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    *total = rows.nrows ? apr_atoi64(rows.rows[0][0]) : 0;
    *version = rows.nrows ? apr_atoi64(rows.rows[0][1]) : 0;
    return MI_OK;
}

static const mi_stmt_t all_stmt = { "mi_counts_all", {
    "SELECT entity_type, total FROM record_counts WHERE organization_id = %s",
    NULL } };

mi_result_e mi_counts_all(mi_db_t *db, apr_pool_t *pool, const char *org,
                          apr_hash_t **totals)
{
    mi_rows_t rows;
    int i;

    if (mi_db_select(db, pool, &all_stmt, &rows, 1, &org) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    *totals = apr_hash_make(pool);
    for (i = 0; i < rows.nrows; i++) {
        apr_int64_t *n = apr_palloc(pool, sizeof(*n));

        *n = apr_atoi64(rows.rows[i][1]);
        apr_hash_set(*totals, rows.rows[i][0], APR_HASH_KEY_STRING, n);
    }
    return MI_OK;
}
