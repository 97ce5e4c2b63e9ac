/* mi_sender.h: many webhook deliveries in flight at once, on one libcurl
 * multi handle (connections to a receiver are kept alive between them).
 * One thread owns a sender; nothing here touches the database: the caller
 * claims deliveries, adds them, and records what comes out done. */
#ifndef MI_SENDER_H
#define MI_SENDER_H

#include "mi_delivery.h"

typedef struct mi_sender_t mi_sender_t;

/* A delivery and the outcome of its attempt. */
typedef struct {
    mi_delivery_t delivery;
    mi_send_result_t result;
} mi_sent_t;

/* At most concurrency attempts in flight, and per_webhook per webhook.
 * NULL when libcurl cannot make a multi handle. Everything the sender
 * holds goes with pool. */
mi_sender_t *mi_sender_create(apr_pool_t *pool,
                              const mi_delivery_conf_t *conf,
                              int concurrency, int per_webhook);

/* How many more attempts may start now. */
int mi_sender_room(const mi_sender_t *s);

int mi_sender_in_flight(const mi_sender_t *s);

/* Takes d (copied) and starts an attempt at it: 1, and it comes out of
 * mi_sender_done (at once, as a failed attempt, when it could not be set
 * up); 0 when there is no room for it, overall or for its webhook. */
int mi_sender_add(mi_sender_t *s, const mi_delivery_t *d);

/* Moves the transfers on, waiting at most wait for one to make progress
 * (returns at once when one has finished). */
void mi_sender_run(mi_sender_t *s, apr_interval_time_t wait);

/* The attempts finished since the last call, as mi_sent_t copied into
 * pool, oldest first. */
apr_array_header_t *mi_sender_done(mi_sender_t *s, apr_pool_t *pool);

/* How many finished attempts mi_sender_done would give. */
int mi_sender_done_count(const mi_sender_t *s);

/* How long the oldest finished attempt has waited to be taken by
 * mi_sender_done (0 when none). */
apr_interval_time_t mi_sender_done_age(const mi_sender_t *s);

/* Stops every attempt in flight; their deliveries (mi_delivery_t, copied
 * into pool) were not sent as far as anyone can tell. */
apr_array_header_t *mi_sender_cancel(mi_sender_t *s, apr_pool_t *pool);

#endif
