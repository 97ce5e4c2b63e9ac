/* mi_backlog.h: how much webhook work waits, read from the database with
 * bounded queries (the module's metrics, docs/metrics.md). */
#ifndef MI_BACKLOG_H
#define MI_BACKLOG_H

#include "mi_db.h"

/* Counts stop here: a bigger backlog reads as this many, so that a scrape
 * never walks an outage's millions of rows. */
#define MI_BACKLOG_CAP 100000

typedef struct {
    apr_int64_t pending;            /* deliveries not yet delivered or
                                     * failed for good, at most
                                     * MI_BACKLOG_CAP */
    apr_int64_t oldest_pending_ms;  /* created_at of the oldest, or -1 */
    apr_int64_t queued_events;      /* events not yet fanned out to
                                     * deliveries, at most MI_BACKLOG_CAP */
    apr_int64_t oldest_event_ms;    /* event_time of the oldest, or -1 */
} mi_backlog_t;

/* One statement: the pending deliveries found webhook by webhook through
 * the (webhook_id, state, ...) indexes, the outbox through its time
 * index. */
apr_status_t mi_backlog_read(mi_db_t *db, apr_pool_t *pool, mi_backlog_t *b);

#endif
