/* mi_synclog.c: one sync log row per write request. */
#include "mi_synclog.h"
#include "mi_json.h"
#include "mi_text.h"

static const mi_stmt_t insert_log = { "mi_synclog_insert", {
    "INSERT INTO sync_logs (id, organization_id, integration_id, "
    "entity_type, action, status, records_affected, error_message, metadata, "
    "started_at, completed_at, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
    "INSERT INTO sync_logs (id, organization_id, integration_id, "
    "entity_type, action, status, records_affected, error_message, metadata, "
    "started_at, completed_at, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, CAST(%s AS INTEGER), %s, %s, "
    "CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS BIGINT))" } };

const char *mi_synclog_status(const mi_synclog_t *log)
{
    if (log->errors == 0) {
        return "SUCCESS";
    }
    return log->created + log->updated + log->deleted > 0 ? "PARTIAL"
                                                          : "ERROR";
}

apr_status_t mi_synclog_write(mi_db_t *db, apr_pool_t *pool,
                              const mi_synclog_t *log)
{
    json_t *meta = mi_json_own(pool, json_pack("{s:i, s:i, s:i}",
        "created", log->created, "updated", log->updated,
        "errors", log->errors));
    const char *args[12];

    if (log->deleted) {
        json_object_set_new(meta, "deleted", json_integer(log->deleted));
    }
    args[0] = mi_id_new(pool, "c");
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
    return mi_db_exec(db, pool, &insert_log, NULL, 12, args);
}
