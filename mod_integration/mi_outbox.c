/* mi_outbox.c: the transactional outbox of webhook events. */
#include "mi_outbox.h"
#include "mi_time.h"

static const mi_stmt_t wanted_stmt = { "mi_outbox_wanted", {
    "SELECT 1 FROM webhooks WHERE organization_id = %s AND active = 1 "
    "LIMIT 1",
    NULL } };

/* The body of each delivery is fixed here, per webhook (its integration's
 * id); its bytes are what is signed and sent, on every attempt. */
static const mi_stmt_t queue_stmt = { "mi_outbox_queue", {
    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, "
    "event_time, state, attempts, next_attempt_at, created_at, updated_at) "
    "SELECT 'd' || lower(hex(randomblob(12))), w.id, "
    "json_extract(e.value, '$.event'), "
    "json_object('event', json_extract(e.value, '$.event'), 'timestamp', %s, "
    "'integrationId', w.integration_id, "
    "'data', json(json_extract(e.value, '$.data'))), "
    "%s, 'PENDING', 0, %s, %s, %s "
    "FROM webhooks w, json_each(%s) e "
    "WHERE w.organization_id = %s AND w.active = 1 AND EXISTS "
    "(SELECT 1 FROM json_each(w.events) x "
    "WHERE x.value = json_extract(e.value, '$.event'))",
    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, "
    "event_time, state, attempts, next_attempt_at, created_at, updated_at) "
    "SELECT 'd' || replace(CAST(gen_random_uuid() AS text), '-', ''), w.id, "
    "e.v->>'event', CAST(json_build_object('event', e.v->>'event', "
    "'timestamp', CAST(%s AS text), 'integrationId', w.integration_id, "
    "'data', e.v->'data') AS text), "
    "CAST(%s AS BIGINT), 'PENDING', 0, CAST(%s AS BIGINT), "
    "CAST(%s AS BIGINT), CAST(%s AS BIGINT) "
    "FROM webhooks w, json_array_elements(CAST(%s AS json)) AS e(v) "
    "WHERE w.organization_id = %s AND w.active = 1 "
    "AND CAST(w.events AS jsonb) ? (e.v->>'event')" } };

json_t *mi_outbox_events(apr_pool_t *pool)
{
    return mi_json_own(pool, json_array());
}

void mi_outbox_add(json_t *events, const char *event, json_t *data)
{
    json_array_append_new(events, json_pack("{s:s, s:o}", "event", event,
                                            "data", data));
}

int mi_outbox_wanted(mi_db_t *db, apr_pool_t *pool, const char *org)
{
    mi_rows_t rows;

    if (mi_db_select(db, pool, &wanted_stmt, &rows, 1, &org)
            != APR_SUCCESS) {
        return -1;
    }
    return rows.nrows > 0;
}

apr_status_t mi_outbox_queue(mi_db_t *db, apr_pool_t *pool, const char *org,
                             const json_t *events)
{
    apr_int64_t now = mi_now_ms();
    const char *args[7];

    if (json_array_size(events) == 0) {
        return APR_SUCCESS;
    }
    args[0] = mi_time_iso(pool, now);
    args[1] = args[2] = args[3] = args[4] = mi_db_int(pool, now);
    args[5] = mi_json_dump(pool, events);
    args[6] = org;
    return mi_db_exec(db, pool, &queue_stmt, NULL, 7, args);
}
