/* mi_resource_sql.c: a resource's statements, generated from its fields.
 *
 * The upsert is set-based: all valid records of a request travel as one
 * JSON array parameter, expanded by the database (json_each on SQLite,
 * jsonb_array_elements on PostgreSQL). The INSERT creates what is new and
 * returns it; the UPDATE then changes the rest, each field only where the
 * record carried it (absent keeps, null clears).
 */
#include "mi_resource.h"

/* The value of a column in a row of the JSON parameter. */
static const char *value_expr(apr_pool_t *p, mi_dialect_e d,
                              const char *column, mi_field_type_e type)
{
    if (d == MI_DIALECT_SQLITE3) {
        return apr_psprintf(p, "json_extract(r.value, '$.%s')", column);
    }
    switch (type) {
    case MI_FIELD_BOOLEAN:
        return apr_psprintf(p, "CAST(r.v->>'%s' AS boolean)", column);
    case MI_FIELD_NUMBER:
        return apr_psprintf(p, "CAST(r.v->>'%s' AS double precision)",
                            column);
    default:
        return apr_psprintf(p, "(r.v->>'%s')", column);
    }
}

/* True when the record carried the field (even as null). */
static const char *present_expr(apr_pool_t *p, mi_dialect_e d,
                                const char *column)
{
    return d == MI_DIALECT_SQLITE3
        ? apr_psprintf(p, "json_type(r.value, '$.%s') IS NOT NULL", column)
        : apr_psprintf(p, "r.v ? '%s'", column);
}

static const char *rows_source(mi_dialect_e d)
{
    return d == MI_DIALECT_SQLITE3
        ? "json_each(%s) AS r"
        : "jsonb_array_elements(CAST(%s AS jsonb)) AS r(v)";
}

static const char *int_param(mi_dialect_e d)
{
    return d == MI_DIALECT_SQLITE3 ? "%s" : "CAST(%s AS BIGINT)";
}

static const char *select_columns(apr_pool_t *p, const mi_resource_t *res)
{
    const char *cols = "id, external_id, sync_status, last_synced_at, "
                       "created_at, updated_at";
    int i;

    for (i = 0; i < res->nfields; i++) {
        cols = apr_pstrcat(p, cols, ", ", res->fields[i].column, NULL);
    }
    return cols;
}

static const char *insert_sql(apr_pool_t *p, const mi_resource_t *res,
                              mi_dialect_e d)
{
    const char *cols = "", *vals = "";
    const char *ip = int_param(d);
    int i;

    for (i = 0; i < res->nfields; i++) {
        const mi_field_t *f = &res->fields[i];

        cols = apr_pstrcat(p, cols, ", ", f->column, NULL);
        vals = apr_pstrcat(p, vals, ", ", value_expr(p, d, f->column, f->type),
                           NULL);
    }
    return apr_psprintf(p,
        "INSERT INTO %s (id, organization_id, external_id%s, sync_status, "
        "last_synced_at, created_at, updated_at) "
        "SELECT %s, %%s, %s%s, 'SYNCED', %s, %s, %s FROM %s WHERE 1 = 1 "
        "ON CONFLICT (organization_id, external_id) DO NOTHING "
        "RETURNING external_id, id",
        res->table, cols, value_expr(p, d, "id", MI_FIELD_STRING),
        value_expr(p, d, "external_id", MI_FIELD_STRING), vals, ip, ip, ip,
        rows_source(d));
}

/* The rows are expanded once, up front (a materialised CTE), so that the
 * database walks them and finds each stored record by its unique key:
 * SQLite would otherwise scan the organisation's records and, for each,
 * every row of the parameter. */
static const char *update_sql(apr_pool_t *p, const mi_resource_t *res,
                              mi_dialect_e d)
{
    const char *sets = "";
    const char *ip = int_param(d);
    int i;

    for (i = 0; i < res->nfields; i++) {
        const mi_field_t *f = &res->fields[i];

        sets = apr_psprintf(p, "%s%s = CASE WHEN %s THEN %s ELSE t.%s END, ",
                            sets, f->column, present_expr(p, d, f->column),
                            value_expr(p, d, f->column, f->type), f->column);
    }
    return apr_psprintf(p,
        "WITH r AS %s (SELECT %s AS ext, %s FROM %s) "
        "UPDATE %s AS t SET %ssync_status = 'SYNCED', last_synced_at = %s, "
        "updated_at = %s FROM r WHERE t.organization_id = %%s "
        "AND t.external_id = r.ext RETURNING %s",
        d == MI_DIALECT_SQLITE3 ? "MATERIALIZED" : "",
        d == MI_DIALECT_SQLITE3 ? "json_extract(value, '$.external_id')"
                                : "v->>'external_id'",
        d == MI_DIALECT_SQLITE3 ? "value" : "v",
        d == MI_DIALECT_SQLITE3 ? "json_each(%s)"
                                : "jsonb_array_elements(CAST(%s AS jsonb)) "
                                  "AS e(v)",
        res->table, sets, ip, ip,
        /* SQLite's RETURNING takes no table qualifier, and names only the
         * updated table anyway. */
        d == MI_DIALECT_SQLITE3 ? "external_id, id" : "t.external_id, t.id");
}

/* One page of records. On PostgreSQL the page is found in the index alone,
 * (organization_id, last_synced_at, id), however deep the offset, and only
 * its rows are read from the table; SQLite walks its covering index quickly
 * enough, and the extra lookups by id would cost it more than they save. */
static const char *list_sql(apr_pool_t *p, const mi_resource_t *res,
                            mi_dialect_e d, const char *cols)
{
    const char *ip = int_param(d);

    if (d == MI_DIALECT_SQLITE3) {
        return apr_psprintf(p,
            "SELECT %s FROM %s WHERE organization_id = %%s "
            "AND last_synced_at > %s ORDER BY last_synced_at, id "
            "LIMIT %s OFFSET %s", cols, res->table, ip, ip, ip);
    }
    return apr_psprintf(p,
        "SELECT %s FROM %s WHERE id IN (SELECT id FROM %s "
        "WHERE organization_id = %%s AND last_synced_at > %s "
        "ORDER BY last_synced_at, id LIMIT %s OFFSET %s) "
        "ORDER BY last_synced_at, id", cols, res->table, res->table, ip, ip,
        ip);
}

void mi_resource_sql_build(apr_pool_t *p, mi_resource_t *res)
{
    mi_resource_sql_t *sql = &res->sql;
    const char *cols = select_columns(p, res);
    int d;

    sql->insert.name = apr_pstrcat(p, "mi_", res->plural, "_insert", NULL);
    sql->update.name = apr_pstrcat(p, "mi_", res->plural, "_update", NULL);
    sql->list.name = apr_pstrcat(p, "mi_", res->plural, "_list", NULL);
    sql->count.name = apr_pstrcat(p, "mi_", res->plural, "_count", NULL);
    sql->get.name = apr_pstrcat(p, "mi_", res->plural, "_get", NULL);
    sql->remove.name = apr_pstrcat(p, "mi_", res->plural, "_remove", NULL);
    for (d = 0; d < MI_DIALECT_COUNT; d++) {
        const char *ip = int_param((mi_dialect_e)d);

        sql->insert.sql[d] = insert_sql(p, res, (mi_dialect_e)d);
        sql->update.sql[d] = update_sql(p, res, (mi_dialect_e)d);
        sql->list.sql[d] = list_sql(p, res, (mi_dialect_e)d, cols);
        sql->count.sql[d] = apr_psprintf(p,
            "SELECT COUNT(*) FROM %s WHERE organization_id = %%s "
            "AND last_synced_at > %s", res->table, ip);
        sql->get.sql[d] = apr_psprintf(p,
            "SELECT %s FROM %s WHERE organization_id = %%s "
            "AND external_id = %%s", cols, res->table);
        sql->remove.sql[d] = apr_psprintf(p,
            "DELETE FROM %s WHERE organization_id = %%s "
            "AND external_id = %%s RETURNING id", res->table);
    }
}
