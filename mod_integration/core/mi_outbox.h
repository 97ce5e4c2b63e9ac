/* mi_outbox.h: the transactional outbox of webhook events. Events are
 * queued by the write that causes them, in its transaction (a rolled-back
 * write queues nothing); the delivery thread fans each out, exactly once,
 * to one delivery row per active webhook of the organization subscribed to
 * it. */
#ifndef MI_OUTBOX_H
#define MI_OUTBOX_H

#include "mi_db.h"
#include "mi_json.h"
#include "mi_jsonw.h"

/* A write's events, written as they come into one JSON array
 * ([{"event": ..., "data": {...}}, ...]), the row that mi_outbox_queue
 * queues. */
typedef struct {
    mi_jsonw_t w;
    int count;
} mi_outbox_t;

void mi_outbox_init(mi_outbox_t *o, apr_pool_t *pool);
/* A record's event, "<entity>.<action>" with data {"externalId": ...,
 * "internalId": ...}. */
void mi_outbox_add_record(mi_outbox_t *o, const char *entity,
                          const char *action, const char *external_id,
                          const char *internal_id);
/* Any other event, with its data. */
void mi_outbox_add(mi_outbox_t *o, const char *event, const json_t *data);

/* *wanted: 1 when the organization has an active webhook: callers skip
 * building events nobody would receive. */
mi_result_e mi_outbox_wanted(mi_db_t *db, apr_pool_t *pool, const char *org,
                             int *wanted);

/* Queues the events of org (none: nothing); call inside the write's
 * transaction. */
mi_result_e mi_outbox_queue(mi_db_t *db, apr_pool_t *pool, const char *org,
                            const mi_outbox_t *o);

/* Takes up to max queued events (oldest first) and creates their delivery
 * rows, in one transaction; *taken says how many events. */
apr_status_t mi_outbox_fan_out(mi_db_t *db, apr_pool_t *pool, int max,
                               int *taken);

#endif
