/* mi_tenant.c: organizations (the tenants) and their integrations. */
#include "mi_tenant.h"
#include "mi_text.h"
#include "mi_time.h"

static const mi_stmt_t org_insert = { "mi_org_insert", {
    "INSERT INTO organizations (id, name, created_at) "
    "VALUES (%s, %s, {bigint:%s})",
    NULL } };

static const mi_stmt_t org_exists = { "mi_org_exists", {
    "SELECT id FROM organizations WHERE id = %s",
    NULL } };

static const mi_stmt_t integration_insert = { "mi_integration_insert", {
    "INSERT INTO integrations (id, organization_id, name, status, "
    "created_at) VALUES (%s, %s, %s, 'ACTIVE', {bigint:%s})",
    NULL } };

static const mi_stmt_t integration_status = { "mi_integration_status", {
    "UPDATE integrations SET status = %s WHERE id = %s",
    NULL } };

mi_result_e mi_org_create(mi_db_t *db, apr_pool_t *pool, const char *name,
                          const char **id)
{
    const char *args[3];

    if (!(*id = mi_id_new(pool, "org_"))) {
        return MI_ERR_INTERNAL;
    }
    args[0] = *id;
    args[1] = name;
    args[2] = mi_db_int(pool, mi_now_ms());
    return mi_db_result(db, mi_db_exec(db, pool, &org_insert, NULL, 3, args));
}

mi_result_e mi_integration_create(mi_db_t *db, apr_pool_t *pool,
                                  const char *org_id, const char *name,
                                  const char **id)
{
    const char *args[4];
    mi_rows_t rows;

    if (mi_db_select(db, pool, &org_exists, &rows, 1, &org_id)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (rows.nrows == 0) {
        return MI_ERR_NOT_FOUND;
    }
    if (!(*id = mi_id_new(pool, "int_"))) {
        return MI_ERR_INTERNAL;
    }
    args[0] = *id;
    args[1] = org_id;
    args[2] = name;
    args[3] = mi_db_int(pool, mi_now_ms());
    return mi_db_result(db, mi_db_exec(db, pool, &integration_insert, NULL, 4,
                                       args));
}

mi_result_e mi_integration_set_status(mi_db_t *db, apr_pool_t *pool,
                                      const char *id, const char *status)
{
    const char *args[2] = { status, id };
    int n = 0;

    if (mi_db_exec(db, pool, &integration_status, &n, 2, args)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    return n > 0 ? MI_OK : MI_ERR_NOT_FOUND;
}
