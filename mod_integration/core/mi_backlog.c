/* mi_backlog.c: how much webhook work waits (see mi_backlog.h). */
#include "mi_backlog.h"

/* MI_BACKLOG_CAP as SQL text. */
#define TEXT_OF(n) #n
#define NUMBER(n) TEXT_OF(n)
#define CAP NUMBER(MI_BACKLOG_CAP)

static const mi_stmt_t backlog_stmt = { "mi_backlog_read", {
    "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM webhooks w "
    "JOIN webhook_deliveries d ON d.webhook_id = w.id "
    "AND d.state = 'PENDING' LIMIT " CAP ") p), "
    "(SELECT MIN((SELECT d.created_at FROM webhook_deliveries d "
    "WHERE d.webhook_id = w.id AND d.state = 'PENDING' "
    "ORDER BY d.created_at LIMIT 1)) FROM webhooks w), "
    "(SELECT SUM(n) FROM (SELECT event_count - fanned_out AS n "
    "FROM webhook_outbox LIMIT " CAP ") e), "
    "(SELECT MIN(event_time) FROM webhook_outbox)",
    NULL } };

static apr_int64_t value_of(const char *text)
{
    return text && *text ? apr_atoi64(text) : -1;
}

apr_status_t mi_backlog_read(mi_db_t *db, apr_pool_t *pool, mi_backlog_t *b)
{
    mi_rows_t rows;

    if (mi_db_select(db, pool, &backlog_stmt, &rows, 0, NULL)
            != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (rows.nrows != 1 || rows.ncols != 4) {
        db->error = "the backlog query answered no row";
        return APR_EGENERAL;
    }
    b->pending = value_of(rows.rows[0][0]);
    b->oldest_pending_ms = value_of(rows.rows[0][1]);
    b->queued_events = value_of(rows.rows[0][2]);
    b->oldest_event_ms = value_of(rows.rows[0][3]);
    if (b->pending < 0) {
        b->pending = 0;
    }
    if (b->queued_events < 0) {
        b->queued_events = 0;
    }
    if (b->queued_events > MI_BACKLOG_CAP) {  /* rows were counted to it */
        b->queued_events = MI_BACKLOG_CAP;
    }
    return APR_SUCCESS;
}
