/* mi_outbox.h: the transactional outbox of webhook events. Events are
 * queued by the write that causes them, in its transaction: one delivery
 * row per event and active webhook of the organization subscribed to it. A
 * rolled-back write queues nothing. */
#ifndef MI_OUTBOX_H
#define MI_OUTBOX_H

#include "mi_db.h"
#include "mi_json.h"

/* Events to queue: an array of { "event": name, "data": {...} }. */
json_t *mi_outbox_events(apr_pool_t *pool);
void mi_outbox_add(json_t *events, const char *event, json_t *data);

/* 1 when the organization has an active webhook (-1 on a database error):
 * callers skip building events nobody would receive. */
int mi_outbox_wanted(mi_db_t *db, apr_pool_t *pool, const char *org);

/* Queues the events for every subscribed active webhook of org. */
apr_status_t mi_outbox_queue(mi_db_t *db, apr_pool_t *pool, const char *org,
                             const json_t *events);

#endif
