/* mi_resource_sql.c: a resource's statements, generated from its fields.
 *
 * The upsert is set-based: the valid records of a request travel in
 * chunks of MI_DB_CHUNK rows of bound parameters, one statement per
 * chunk (on PostgreSQL all of them in one JSON parameter, mi_db.h), which
 * creates the new records and updates the known ones, each field only
 * where the record carried it (absent keeps, null clears).
 *
 * A resource has at most 63 fields: the presence mask is a 64-bit integer.
 */
#include "mi_resource.h"

/* A column of the rows parameter, typed for its table: SQLite converts by
 * column affinity as it stores; PostgreSQL needs the cast (its parameters
 * arrive as text). */
static const char *typed_column(apr_pool_t *p, mi_dialect_e d,
                                const char *column, mi_field_type_e type)
{
    const char *pg_type;

    switch (type) {
    case MI_FIELD_BOOLEAN:
        pg_type = "boolean";
        break;
    case MI_FIELD_NUMBER:
        pg_type = "double precision";
        break;
    case MI_FIELD_DATE:
        pg_type = "date";
        break;
    default:
        pg_type = NULL;
    }
    if (d == MI_DIALECT_SQLITE3 || !pg_type) {
        return apr_pstrcat(p, ", ", column, NULL);
    }
    return apr_psprintf(p, ", CAST(%s AS %s) AS %s", column, pg_type, column);
}

/* The rows of the request, r(id, ext, m, <columns>): a chunk of VALUES
 * rows (mi_db_write_rows) in the layout of mi_row_e (m, the mask of the
 * fields carried, is the engine's, which runs the statement once per
 * mask). Unused rows of the last chunk are all NULL and have no ext.
 * SQLite materialises them, so that it walks these rows and finds each
 * stored record by its unique key. */
static const char *rows_cte(apr_pool_t *p, const mi_resource_t *res,
                            mi_dialect_e d)
{
    const char *names = "id, ext, m";
    const char *typed = "id, ext";
    int i;

    for (i = 0; i < res->nfields; i++) {
        const mi_field_t *f = &res->fields[i];

        names = apr_pstrcat(p, names, ", ", f->column, NULL);
        typed = apr_pstrcat(p, typed,
                            typed_column(p, d, f->column, f->type), NULL);
    }
    if (d == MI_DIALECT_SQLITE3) {
        return apr_psprintf(p, "WITH r(%s) AS MATERIALIZED (VALUES {rows}) ",
                            names);
    }
    return apr_psprintf(p, "WITH v(%s) AS (VALUES {rows}), r AS (SELECT %s "
                        "FROM v WHERE ext IS NOT NULL) ", names, typed);
}

/* An integer parameter: PostgreSQL's arrive as text (mi_db.h). */
#define INT_PARAM "{bigint:%s}"

/* The columns a record is read with (mi_records): the fixed ones, then one
 * per field; a reference shows the externalId of the record it names. */
static const char *select_columns(apr_pool_t *p, const mi_resource_t *res)
{
    const char *cols = "t.id, t.external_id, t.sync_status, "
                       "t.last_synced_at, t.created_at, t.updated_at";
    int i;

    for (i = 0; i < res->nfields; i++) {
        const mi_field_t *f = &res->fields[i];

        if (f->type == MI_FIELD_REF) {
            cols = apr_psprintf(p, "%s, (SELECT x.external_id FROM %s x "
                                "WHERE x.id = t.%s)", cols,
                                mi_resource_find(f->ref)->table, f->column);
        }
        else {
            cols = apr_pstrcat(p, cols, ", t.", f->column, NULL);
        }
    }
    return cols;
}

/* Writes the records: creates the new ones and updates the known ones in
 * one statement, whichever they are, with one probe of the unique index
 * each (ON CONFLICT also covers a record a concurrent writer created).
 * The fields a run's records carried are the same for all of them (the
 * engine runs it once per set, mi_upsert.c): each field's flag, '1' or
 * '0', follows the timestamps; a field not carried keeps its stored
 * value on update (absent keeps, null clears) and is NULL on create.
 * What it returns tells the two apart: a created record has the id that
 * was proposed for it, an updated one keeps its own. */
static const char *upsert_sql(apr_pool_t *p, const mi_resource_t *res,
                              mi_dialect_e d)
{
    const char *cols = "", *vals = "", *sets = "";
    const char *ip = INT_PARAM;
    int i;

    for (i = 0; i < res->nfields; i++) {
        const char *c = res->fields[i].column;

        cols = apr_pstrcat(p, cols, ", ", c, NULL);
        vals = apr_pstrcat(p, vals, ", r.", c, NULL);
        sets = apr_psprintf(p, "%s%s = CASE WHEN %%s = '1' THEN excluded.%s "
                            "ELSE t.%s END, ", sets, c, c, c);
    }
    return apr_psprintf(p,
        "%sINSERT INTO %s AS t (id, organization_id, external_id%s, "
        "sync_status, last_synced_at, created_at, updated_at) "
        "SELECT r.id, %%s, r.ext%s, 'SYNCED', %s, %s, %s FROM r "
        "WHERE r.ext IS NOT NULL "
        "ON CONFLICT (organization_id, external_id) DO UPDATE SET "
        "%ssync_status = 'SYNCED', last_synced_at = excluded.last_synced_at, "
        "updated_at = excluded.updated_at "
        "RETURNING external_id, id",
        rows_cte(p, res, d), res->table, cols, vals, ip, ip, ip, sets);
}

/* The external_ids of a JSON array parameter, as a subquery. */
static const char *ids_param(mi_dialect_e d)
{
    return d == MI_DIALECT_SQLITE3
        ? "(SELECT value FROM json_each(%s))"
        : "(SELECT jsonb_array_elements_text(CAST(%s AS jsonb)))";
}

/* One page of records, optionally only those of a list of external_ids,
 * either at an offset or after a place in the order (a cursor's: seek,
 * (last_synced_at, id) > (synced_at, id), a range of the index however
 * deep). On PostgreSQL a page at an offset or of listed ids is found in
 * the index alone, (organization_id, last_synced_at, id), and only its
 * rows are read from the table (an offset's skipped rows never are); a
 * seek reads its range of the index and the rows it names directly, a
 * quarter of the work of one primary key lookup per row. SQLite walks its
 * covering index quickly enough, and the extra lookups by id would cost
 * it more than they save. */
static const char *list_sql(apr_pool_t *p, const mi_resource_t *res,
                            mi_dialect_e d, const char *cols, int by_ids,
                            int seek)
{
    const char *ip = INT_PARAM;
    const char *ids = by_ids
        ? apr_pstrcat(p, " AND external_id IN ", ids_param(d), NULL) : "";
    const char *after = seek
        ? " AND (last_synced_at, id) > ({bigint:%s}, %s)" : "";
    /* With a cursor, its place starts the range of the index: SQLite
     * would take since's bound instead (the + keeps since's term out of
     * the choice) and walk every record before the cursor; without the
     * column's affinity, the parameter (text) is cast. */
    const char *since = seek && d == MI_DIALECT_SQLITE3
        ? "+last_synced_at > CAST(" INT_PARAM " AS INTEGER)"
        : "last_synced_at > " INT_PARAM;
    const char *rest = seek ? "" : " OFFSET {bigint:%s}";

    if (d == MI_DIALECT_SQLITE3) {
        return apr_psprintf(p,
            "SELECT %s FROM %s AS t WHERE organization_id = %%s "
            "AND %s%s%s ORDER BY last_synced_at, id LIMIT %s%s", cols,
            res->table, since, ids, after, ip, rest);
    }
    if (seek && !by_ids) {
        return apr_psprintf(p,
            "SELECT %s FROM %s AS t WHERE organization_id = %%s "
            "AND last_synced_at > %s%s ORDER BY last_synced_at, id LIMIT %s",
            cols, res->table, ip, after, ip);
    }
    /* = ANY(ARRAY(...)): the page's ids first, then one primary key
     * lookup each (an IN could be planned as a scan of the whole table). */
    return apr_psprintf(p,
        "SELECT %s FROM %s AS t WHERE t.id = ANY(ARRAY(SELECT id FROM %s "
        "WHERE organization_id = %%s AND last_synced_at > %s%s%s "
        "ORDER BY last_synced_at, id LIMIT %s%s)) "
        "ORDER BY t.last_synced_at, t.id", cols, res->table, res->table, ip,
        ids, after, ip, rest);
}

/* A listing's columns: the record's, then the organization's total of
 * records of the type and their version (record_counts), read once per
 * statement, so that a page's rows and the version that tags them are
 * of one snapshot and one round trip (two parameters: org, org). */
static const char *list_columns(apr_pool_t *p, const mi_resource_t *res,
                                const char *cols)
{
    const char *counts = apr_psprintf(p, "FROM record_counts WHERE "
                                      "organization_id = %%s AND "
                                      "entity_type = '%s')",
                                      res->entity_type);

    return apr_pstrcat(p, cols, ", (SELECT total ", counts,
                       ", (SELECT version ", counts, NULL);
}

static void name_stmt(apr_pool_t *p, mi_stmt_t *st, const mi_resource_t *res,
                      const char *what)
{
    st->name = apr_pstrcat(p, "mi_", res->plural, "_", what, NULL);
}

void mi_resource_sql_build(apr_pool_t *p, mi_resource_t *res)
{
    mi_resource_sql_t *sql = &res->sql;
    const char *cols = select_columns(p, res);
    const char *listed = list_columns(p, res, cols);
    int d;

    name_stmt(p, &sql->upsert, res, "upsert");
    sql->upsert.width = MI_ROW_FIELDS + res->nfields;
    name_stmt(p, &sql->list, res, "list");
    name_stmt(p, &sql->count, res, "count");
    name_stmt(p, &sql->latest, res, "latest");
    name_stmt(p, &sql->get, res, "get");
    name_stmt(p, &sql->remove, res, "remove");
    name_stmt(p, &sql->guard, res, "guard");
    name_stmt(p, &sql->resolve, res, "resolve");
    name_stmt(p, &sql->list_ids, res, "list_ids");
    name_stmt(p, &sql->list_after, res, "list_after");
    name_stmt(p, &sql->list_ids_after, res, "list_ids_after");
    name_stmt(p, &sql->count_ids, res, "count_ids");
    /* One text where the dialects agree (sql[1] NULL: mi_db.h). */
    sql->count.sql[0] = apr_psprintf(p,
        "SELECT COUNT(*) FROM %s WHERE organization_id = %%s "
        "AND last_synced_at > {bigint:%%s}", res->table);
    sql->latest.sql[0] = apr_psprintf(p,
        "SELECT MAX(last_synced_at) FROM %s WHERE organization_id = %%s",
        res->table);
    sql->get.sql[0] = apr_psprintf(p,
        "SELECT %s FROM %s AS t WHERE t.organization_id = %%s "
        "AND t.external_id = %%s", cols, res->table);
    sql->guard.sql[0] = apr_psprintf(p,
        "SELECT t.id, CASE WHEN %s THEN 1 ELSE 0 END FROM %s AS t "
        "WHERE t.organization_id = %%s AND t.external_id = %%s",
        res->delete_guard ? res->delete_guard : "1 = 0", res->table);
    sql->remove.sql[0] = apr_psprintf(p,
        "DELETE FROM %s WHERE organization_id = %%s "
        "AND external_id = %%s RETURNING id", res->table);
    for (d = 0; d < MI_DIALECT_COUNT; d++) {
        mi_dialect_e dl = (mi_dialect_e)d;

        sql->upsert.sql[d] = upsert_sql(p, res, dl);
        sql->list.sql[d] = list_sql(p, res, dl, listed, 0, 0);
        sql->list_ids.sql[d] = list_sql(p, res, dl, listed, 1, 0);
        sql->list_after.sql[d] = list_sql(p, res, dl, listed, 0, 1);
        sql->list_ids_after.sql[d] = list_sql(p, res, dl, listed, 1, 1);
        sql->count_ids.sql[d] = apr_psprintf(p,
            "SELECT COUNT(*) FROM %s WHERE organization_id = %%s "
            "AND last_synced_at > {bigint:%%s} AND external_id IN %s",
            res->table, ids_param(dl));
        sql->resolve.sql[d] = apr_psprintf(p,
            "SELECT external_id, id FROM %s WHERE organization_id = %%s "
            "AND external_id IN %s", res->table, ids_param(dl));
    }
}
