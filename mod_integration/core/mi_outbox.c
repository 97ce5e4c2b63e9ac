/* mi_outbox.c: the transactional outbox of webhook events.
 *
 * A write queues one row per event (webhook_events), in its transaction:
 * cheap, whatever the number of webhooks. The delivery thread then takes
 * events (deleting them) and creates one delivery row per subscribed active
 * webhook, in one transaction, so that each event is fanned out exactly
 * once even with several processes or nodes.
 */
#include <string.h>
#include "mi_outbox.h"
#include "mi_time.h"

static const mi_stmt_t wanted_stmt = { "mi_outbox_wanted", {
    "SELECT 1 FROM webhooks WHERE organization_id = %s AND active = 1 "
    "LIMIT 1",
    NULL } };

static const mi_stmt_t queue_stmt = { "mi_outbox_queue", {
    "WITH v(event, data) AS (VALUES {rows}) "
    "INSERT INTO webhook_events (id, organization_id, event, data, "
    "event_time) SELECT 'e' || lower(hex(randomblob(12))), %s, event, data, "
    "%s FROM v WHERE event IS NOT NULL",
    "WITH v(event, data) AS (VALUES {rows}) "
    "INSERT INTO webhook_events (id, organization_id, event, data, "
    "event_time) SELECT 'e' || replace(CAST(gen_random_uuid() AS text), "
    "'-', ''), %s, event, data, CAST(%s AS BIGINT) FROM v "
    "WHERE event IS NOT NULL" }, 2 };

static const mi_stmt_t any_stmt = { "mi_outbox_any", {
    "SELECT 1 FROM webhook_events LIMIT 1",
    NULL } };

static const mi_stmt_t take_stmt = { "mi_outbox_take", {
    "DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events "
    "ORDER BY event_time LIMIT {bigint:%s}) "
    "RETURNING organization_id, event, data, event_time",
    NULL } };

/* The body of each delivery is fixed here, per webhook (its integration's
 * id); its bytes are what is signed and sent, on every attempt. */
static const mi_stmt_t fan_out_stmt = { "mi_outbox_fan_out", {
    "WITH e(org, event, data, time, ts) AS (VALUES {rows}) "
    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, "
    "event_time, state, attempts, next_attempt_at, created_at, updated_at) "
    "SELECT 'd' || lower(hex(randomblob(12))), w.id, e.event, "
    "json_object('event', e.event, 'timestamp', e.ts, "
    "'integrationId', w.integration_id, 'data', json(e.data)), "
    "e.time, 'PENDING', 0, %s, %s, %s "
    "FROM e JOIN webhooks w ON w.organization_id = e.org AND w.active = 1 "
    "WHERE EXISTS (SELECT 1 FROM json_each(w.events) x "
    "WHERE x.value = e.event)",
    "WITH e(org, event, data, time, ts) AS (VALUES {rows}) "
    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, "
    "event_time, state, attempts, next_attempt_at, created_at, updated_at) "
    "SELECT 'd' || replace(CAST(gen_random_uuid() AS text), '-', ''), w.id, "
    "e.event, CAST(json_build_object('event', e.event, "
    "'timestamp', e.ts, 'integrationId', w.integration_id, "
    "'data', CAST(e.data AS json)) AS text), CAST(e.time AS BIGINT), "
    "'PENDING', 0, CAST(%s AS BIGINT), CAST(%s AS BIGINT), "
    "CAST(%s AS BIGINT) "
    "FROM e JOIN webhooks w ON w.organization_id = e.org AND w.active = 1 "
    "AND CAST(w.events AS jsonb) ? CAST(e.event AS text)" }, 5 };

json_t *mi_outbox_events(apr_pool_t *pool)
{
    return mi_json_own(pool, json_array());
}

void mi_outbox_add(json_t *events, const char *event, json_t *data)
{
    json_array_append_new(events, json_pack("{s:s, s:o}", "event", event,
                                            "data", data));
}

mi_result_e mi_outbox_wanted(mi_db_t *db, apr_pool_t *pool, const char *org,
                             int *wanted)
{
    mi_rows_t rows;

    if (mi_db_select(db, pool, &wanted_stmt, &rows, 1, &org)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    *wanted = rows.nrows > 0;
    return MI_OK;
}

mi_result_e mi_outbox_queue(mi_db_t *db, apr_pool_t *pool, const char *org,
                            const json_t *events)
{
    size_t n = json_array_size(events), i;
    const char ***rows = apr_palloc(pool, (n + 1) * sizeof(*rows));
    const char *args[2];

    for (i = 0; i < n; i++) {
        const json_t *e = json_array_get(events, i);
        const char **row = apr_palloc(pool, 2 * sizeof(*row));

        row[0] = json_string_value(json_object_get(e, "event"));
        row[1] = mi_json_dump(pool, json_object_get(e, "data"));
        rows[i] = row;
    }
    args[0] = org;
    args[1] = mi_db_int(pool, mi_now_ms());
    return mi_db_result(db, mi_db_write_rows(db, pool, &queue_stmt, (int)n,
                                             (const char *const *const *)rows,
                                             2, args, NULL));
}

apr_status_t mi_outbox_fan_out(mi_db_t *db, apr_pool_t *pool, int max,
                               int *taken)
{
    const char ***events;
    const char *args[3], *now = mi_db_int(pool, mi_now_ms());
    mi_rows_t rows;
    int i;

    *taken = 0;
    /* A read first: most ticks find nothing, and on SQLite a write
     * transaction would take the lock that requests need. */
    if (mi_db_select(db, pool, &any_stmt, &rows, 0, NULL) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (rows.nrows == 0) {
        return APR_SUCCESS;
    }
    if (mi_db_begin(db, pool) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    args[0] = apr_itoa(pool, max);
    if (mi_db_select(db, pool, &take_stmt, &rows, 1, args) != APR_SUCCESS) {
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    if (rows.nrows == 0) {
        mi_db_rollback(db);
        return APR_SUCCESS;
    }
    events = apr_palloc(pool, rows.nrows * sizeof(*events));
    for (i = 0; i < rows.nrows; i++) {
        const char **r = rows.rows[i];
        const char **e = apr_palloc(pool, 5 * sizeof(*e));

        /* organization, event, data, time, and time as ISO 8601 */
        memcpy(e, r, 4 * sizeof(*e));
        e[4] = mi_time_iso(pool, apr_atoi64(r[3]));
        events[i] = e;
    }
    args[0] = args[1] = args[2] = now;
    if (mi_db_write_rows(db, pool, &fan_out_stmt, rows.nrows,
                         (const char *const *const *)events, 3, args, NULL)
            != APR_SUCCESS) {
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    *taken = rows.nrows;
    return mi_db_commit(db);
}
