/* mi_outbox.c: the transactional outbox of webhook events.
 *
 * A write queues its events as one row (webhook_outbox: the events as one
 * JSON array), in its transaction: cheap, whatever the number of records
 * or webhooks. The delivery thread then takes events, whole rows or a
 * part of one, and creates one delivery row per subscribed active webhook,
 * in one transaction, so that each event is fanned out exactly once even
 * with several processes or nodes.
 */
#include <string.h>
#include "mi_outbox.h"
#include "mi_time.h"

static const mi_stmt_t wanted_stmt = { "mi_outbox_wanted", {
    "SELECT 1 FROM webhooks WHERE organization_id = %s AND active = 1 "
    "LIMIT 1",
    NULL } };

static const mi_stmt_t queue_stmt = { "mi_outbox_queue", {
    "INSERT INTO webhook_outbox (id, organization_id, events, event_count, "
    "event_time) VALUES ('e' || lower(hex(randomblob(12))), %s, %s, "
    "{integer:%s}, {bigint:%s})",
    "INSERT INTO webhook_outbox (id, organization_id, events, event_count, "
    "event_time) VALUES ('e' || replace(CAST(gen_random_uuid() AS text), "
    "'-', ''), %s, %s, {integer:%s}, {bigint:%s})" } };

static const mi_stmt_t any_stmt = { "mi_outbox_any", {
    "SELECT 1 FROM webhook_outbox LIMIT 1",
    NULL } };

/* The oldest rows whose events, with those before them, are at most the
 * limit, taken whole. On PostgreSQL, a row that another node took first
 * is skipped, and one that another node fanned a part of since is taken
 * with its new fanned_out (RETURNING reads the row deleted). (CAST: on
 * SQLite, an expression compared with a text parameter is compared as
 * text.) */
static const mi_stmt_t take_rows_stmt = { "mi_outbox_take_rows", {
    "DELETE FROM webhook_outbox WHERE id IN (SELECT id FROM (SELECT id, "
    "SUM(event_count - fanned_out) OVER (ORDER BY event_time, id) AS upto "
    "FROM webhook_outbox ORDER BY event_time, id "
    "LIMIT CAST(%s AS INTEGER)) t WHERE upto <= CAST(%s AS INTEGER)) "
    "RETURNING organization_id, events, fanned_out, event_count, "
    "event_time",
    NULL } };

/* Else the oldest row has more events than the limit: a part of it, the
 * limit's worth, is taken, and the rest stays for the next turn. */
static const mi_stmt_t take_part_stmt = { "mi_outbox_take_part", {
    "UPDATE webhook_outbox SET fanned_out = fanned_out + CAST(%s AS INTEGER) "
    "WHERE id = (SELECT id FROM webhook_outbox ORDER BY event_time, id "
    "LIMIT 1) AND fanned_out + CAST(%s AS INTEGER) < event_count "
    "RETURNING organization_id, events, fanned_out - CAST(%s AS INTEGER), "
    "fanned_out, event_time",
    NULL } };

/* The events first (inclusive) to last (exclusive) of each row taken, a
 * delivery row each per subscribed active webhook. The body of each
 * delivery is fixed here, per webhook (its integration's id); its bytes
 * are what is signed and sent, on every attempt. */
static const mi_stmt_t fan_out_stmt = { "mi_outbox_fan_out", {
    "WITH o(org, events, first, last, time, ts) AS (VALUES {rows}) "
    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, "
    "event_time, state, attempts, next_attempt_at, created_at, updated_at) "
    "SELECT 'd' || lower(hex(randomblob(12))), w.id, x.value ->> 'event', "
    "json_object('event', x.value ->> 'event', 'timestamp', o.ts, "
    "'integrationId', w.integration_id, 'data', json(x.value -> 'data')), "
    "o.time, 'PENDING', 0, %s, %s, %s "
    "FROM o JOIN json_each(o.events) x "
    "ON x.key >= CAST(o.first AS INTEGER) AND x.key < CAST(o.last AS INTEGER) "
    "JOIN webhooks w ON w.organization_id = o.org AND w.active = 1 "
    "WHERE EXISTS (SELECT 1 FROM json_each(w.events) s "
    "WHERE s.value = x.value ->> 'event')",
    "WITH o(org, events, first, last, time, ts) AS (VALUES {rows}) "
    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, "
    "event_time, state, attempts, next_attempt_at, created_at, updated_at) "
    "SELECT 'd' || replace(CAST(gen_random_uuid() AS text), '-', ''), w.id, "
    "x.v ->> 'event', CAST(json_build_object('event', x.v ->> 'event', "
    "'timestamp', o.ts, 'integrationId', w.integration_id, "
    "'data', x.v -> 'data') AS text), CAST(o.time AS BIGINT), "
    "'PENDING', 0, CAST(%s AS BIGINT), CAST(%s AS BIGINT), "
    "CAST(%s AS BIGINT) "
    "FROM o CROSS JOIN LATERAL json_array_elements(CAST(o.events AS json)) "
    "WITH ORDINALITY AS x(v, k) "
    "JOIN webhooks w ON w.organization_id = o.org AND w.active = 1 "
    "AND CAST(w.events AS jsonb) ? (x.v ->> 'event') "
    "WHERE x.k > CAST(o.first AS BIGINT) AND x.k <= CAST(o.last AS BIGINT)" },
    6 };

void mi_outbox_init(mi_outbox_t *o, apr_pool_t *pool)
{
    mi_jsonw_init(&o->w, pool, 4096);
    o->count = 0;
}

static void begin_event(mi_outbox_t *o)
{
    if (o->count++ == 0) {
        mi_jsonw_lit(&o->w, "[{\"event\":");
    }
    else {
        mi_jsonw_lit(&o->w, ",{\"event\":");
    }
}

void mi_outbox_add_record(mi_outbox_t *o, const char *entity,
                          const char *action, const char *external_id,
                          const char *internal_id)
{
    begin_event(o);
    /* The entity and action are the module's own names: no escaping. */
    mi_jsonw_lit(&o->w, "\"");
    mi_jsonw_raw(&o->w, entity, strlen(entity));
    mi_jsonw_lit(&o->w, ".");
    mi_jsonw_raw(&o->w, action, strlen(action));
    mi_jsonw_lit(&o->w, "\",\"data\":{\"externalId\":");
    mi_jsonw_str(&o->w, external_id);
    mi_jsonw_lit(&o->w, ",\"internalId\":");
    mi_jsonw_str(&o->w, internal_id);
    mi_jsonw_lit(&o->w, "}}");
}

void mi_outbox_add(mi_outbox_t *o, const char *event, const json_t *data)
{
    /* (NULL: a json_pack that failed.) */
    const char *text = data ? mi_json_dump(o->w.pool, data) : NULL;

    begin_event(o);
    mi_jsonw_str(&o->w, event);
    mi_jsonw_lit(&o->w, ",\"data\":");
    if (text) {
        mi_jsonw_raw(&o->w, text, strlen(text));
    }
    else {
        mi_jsonw_lit(&o->w, "null");
    }
    mi_jsonw_lit(&o->w, "}");
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
                            const mi_outbox_t *o)
{
    const char *args[4];
    char *text;

    if (o->count == 0) {
        return MI_OK;
    }
    /* The array, closed. */
    text = apr_palloc(pool, o->w.len + 2);
    memcpy(text, o->w.buf, o->w.len);
    memcpy(text + o->w.len, "]", 2);
    args[0] = org;
    args[1] = text;
    args[2] = apr_itoa(pool, o->count);
    args[3] = mi_db_int(pool, mi_now_ms());
    return mi_db_result(db, mi_db_exec(db, pool, &queue_stmt, NULL, 4, args));
}

/* Takes whole rows, or else a part of the oldest: each row of *rows is
 * (organization, events, first, last, time), the events taken being those
 * from first (inclusive) to last (exclusive). */
static apr_status_t take(mi_db_t *db, apr_pool_t *pool, int max,
                         mi_rows_t *rows)
{
    const char *args[3];

    args[0] = args[1] = args[2] = apr_itoa(pool, max);
    if (mi_db_select(db, pool, &take_rows_stmt, rows, 2, args)
            != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (rows->nrows > 0) {
        return APR_SUCCESS;
    }
    return mi_db_select(db, pool, &take_part_stmt, rows, 3, args);
}

apr_status_t mi_outbox_fan_out(mi_db_t *db, apr_pool_t *pool, int max,
                               int *taken)
{
    const char ***taken_rows;
    const char *args[3], *now = mi_db_int(pool, mi_now_ms());
    mi_rows_t rows;
    int i, events = 0;

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
    if (take(db, pool, max, &rows) != APR_SUCCESS) {
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    if (rows.nrows == 0) {
        mi_db_rollback(db);
        return APR_SUCCESS;
    }
    taken_rows = apr_palloc(pool, rows.nrows * sizeof(*taken_rows));
    for (i = 0; i < rows.nrows; i++) {
        const char **r = rows.rows[i];
        const char **t = apr_palloc(pool, 6 * sizeof(*t));

        /* organization, events, first, last, time, and time as ISO 8601 */
        memcpy(t, r, 5 * sizeof(*t));
        t[5] = mi_time_iso(pool, apr_atoi64(r[4]));
        events += atoi(r[3]) - atoi(r[2]);
        taken_rows[i] = t;
    }
    args[0] = args[1] = args[2] = now;
    if (mi_db_write_rows(db, pool, &fan_out_stmt, rows.nrows,
                         (const char *const *const *)taken_rows, 3, args,
                         NULL) != APR_SUCCESS) {
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    *taken = events;
    return mi_db_commit(db);
}
