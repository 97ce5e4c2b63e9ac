/* mi_synclog.c: one sync log row per write request. */
#include "mi_synclog.h"
#include "mi_json.h"
#include <string.h>
#include "mi_text.h"
#include "mi_time.h"

static const mi_stmt_t insert_log = { "mi_synclog_insert", {
    "INSERT INTO sync_logs (id, organization_id, integration_id, "
    "entity_type, action, status, records_affected, error_message, metadata, "
    "started_at, completed_at, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, {integer:%s}, %s, %s, "
    "{bigint:%s}, {bigint:%s}, {bigint:%s})",
    NULL } };

const char *mi_synclog_status(const mi_synclog_t *log)
{
    if (log->errors == 0) {
        return "SUCCESS";
    }
    return log->created + log->updated + log->deleted > 0 ? "PARTIAL"
                                                          : "ERROR";
}

mi_result_e mi_synclog_write(mi_db_t *db, apr_pool_t *pool,
                             const mi_synclog_t *log)
{
    json_t *meta = mi_json_own(pool, json_pack("{s:i, s:i, s:i}",
        "created", log->created, "updated", log->updated,
        "errors", log->errors));
    const char *args[12];

    if (log->deleted) {
        json_object_set_new(meta, "deleted", json_integer(log->deleted));
    }
    if (!(args[0] = mi_id_new(pool, "c"))) {
        return MI_ERR_INTERNAL;
    }
    args[1] = log->organization_id;
    args[2] = log->integration_id;
    args[3] = log->entity_type;
    args[4] = log->action;
    args[5] = mi_synclog_status(log);
    args[6] = apr_itoa(pool, log->created + log->updated + log->deleted);
    args[7] = log->error_message;
    args[8] = mi_json_dump(pool, meta);
    args[9] = mi_db_int(pool, log->started_at);
    args[10] = mi_db_int(pool, log->completed_at);
    args[11] = args[10];
    return mi_db_result(db, mi_db_exec(db, pool, &insert_log, NULL, 12,
                                       args));
}

/* Filters are '' when unused: one statement serves every combination. */
static const mi_stmt_t list_logs = { "mi_synclog_list", {
    "SELECT id, integration_id, entity_type, action, status, "
    "records_affected, error_message, metadata, started_at, completed_at, "
    "created_at FROM sync_logs WHERE organization_id = %s "
    "AND (%s = '' OR entity_type = %s) AND (%s = '' OR status = %s) "
    "ORDER BY created_at DESC, id DESC LIMIT {bigint:%s} "
    "OFFSET {bigint:%s}",
    NULL } };

static const mi_stmt_t count_logs = { "mi_synclog_count", {
    "SELECT COUNT(*) FROM sync_logs WHERE organization_id = %s "
    "AND (%s = '' OR entity_type = %s) AND (%s = '' OR status = %s)",
    NULL } };

int mi_synclog_status_valid(const char *status)
{
    return !strcmp(status, "SUCCESS") || !strcmp(status, "PARTIAL")
           || !strcmp(status, "ERROR") || !strcmp(status, "IN_PROGRESS");
}

mi_result_e mi_synclog_list(mi_db_t *db, apr_pool_t *pool, const char *org,
                            const char *entity_type, const char *status,
                            int page, int limit, json_t **body)
{
    const char *args[7];
    mi_rows_t rows, count;
    json_t *data;
    apr_int64_t total;
    int i;

    args[0] = org;
    args[1] = args[2] = entity_type ? entity_type : "";
    args[3] = args[4] = status ? status : "";
    args[5] = apr_itoa(pool, limit);
    args[6] = mi_db_int(pool, (apr_int64_t)(page - 1) * limit);
    if (mi_db_select(db, pool, &list_logs, &rows, 7, args) != APR_SUCCESS
        || mi_db_select(db, pool, &count_logs, &count, 5, args)
               != APR_SUCCESS || count.nrows != 1) {
        return mi_db_failure(db);
    }
    data = json_array();
    for (i = 0; i < rows.nrows; i++) {
        const char **r = rows.rows[i];
        json_t *meta = r[7] ? json_loads(r[7], 0, NULL) : NULL;

        json_array_append_new(data, json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}",
            "id", r[0], "integrationId", r[1], "entityType", r[2],
            "action", r[3], "status", r[4],
            "recordsAffected", (json_int_t)apr_atoi64(r[5]),
            "errorMessage", mi_json_string_or_null(r[6]),
            "metadata", meta ? meta : json_object(),
            "startedAt", mi_json_time_or_null(pool, r[8]),
            "completedAt", mi_json_time_or_null(pool, r[9]),
            "createdAt", mi_json_time_or_null(pool, r[10])));
    }
    total = apr_atoi64(count.rows[0][0]);
    *body = mi_json_own(pool, json_pack("{s:o, s:I, s:i, s:i, s:I}",
        "data", data, "total", (json_int_t)total, "page", page,
        "limit", limit, "totalPages",
        (json_int_t)((total + limit - 1) / limit)));
    return MI_OK;
}
