/* mi_outbox.h: the transactional outbox of webhook events. Events are
 * queued by the write that causes them, in its transaction (a rolled-back
 * write queues nothing); the delivery thread fans each out, exactly once,
 * to one delivery row per active webhook of the organization subscribed to
 * it. */
#ifndef MI_OUTBOX_H
#define MI_OUTBOX_H

#include "mi_db.h"
#include "mi_json.h"

/* Events to queue: an array of { "event": name, "data": {...} }. */
json_t *mi_outbox_events(apr_pool_t *pool);
void mi_outbox_add(json_t *events, const char *event, json_t *data);

/* *wanted: 1 when the organization has an active webhook: callers skip
 * building events nobody would receive. */
mi_result_e mi_outbox_wanted(mi_db_t *db, apr_pool_t *pool, const char *org,
                             int *wanted);

/* Queues the events of org; call inside the write's transaction. */
mi_result_e mi_outbox_queue(mi_db_t *db, apr_pool_t *pool, const char *org,
                            const json_t *events);

/* Takes up to max queued events (oldest first) and creates their delivery
 * rows, in one transaction; *taken says how many events. */
apr_status_t mi_outbox_fan_out(mi_db_t *db, apr_pool_t *pool, int max,
                               int *taken);

#endif
