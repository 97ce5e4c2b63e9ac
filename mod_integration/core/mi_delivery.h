/* mi_delivery.h: sending webhook deliveries from the outbox: claim due
 * rows with a lease (so that no attempt is sent twice by several processes
 * or nodes), POST them with libcurl, signed, and record the outcome with the
 * retry policy (API.md section 9). */
#ifndef MI_DELIVERY_H
#define MI_DELIVERY_H

#include <curl/curl.h>
#include "mi_db.h"
#include "mi_egress.h"

#define MI_DELIVERY_MAX_DELAYS 8
/* In flight at once per webhook, over every node (API.md section 9). */
#define MI_DELIVERY_PER_WEBHOOK 8

typedef struct {
    apr_interval_time_t timeout;
    apr_interval_time_t delays[MI_DELIVERY_MAX_DELAYS];
    int ndelays;                /* retries after the first attempt */
    int disable_after;          /* consecutive failed attempts */
    int concurrency;            /* attempts in flight at once per node */
    int allow_http;             /* http:// URLs may be sent too */
    mi_egress_t egress;         /* where attempts may connect, and how */
} mi_delivery_conf_t;

typedef struct {
    const char *id;             /* X-Webhook-Delivery, stable on retries */
    const char *webhook_id;
    const char *url;
    const char *secret;
    const char *event;
    const char *payload;        /* the exact body */
    apr_int64_t event_time;     /* ms */
    int attempts;               /* made before this one */
    const char *previous_secret;        /* a rotation's, or NULL */
    apr_int64_t previous_secret_until;  /* ms: signs too until then */
} mi_delivery_t;

typedef struct {
    int status;                 /* HTTP status, 0 without a response */
    int success;                /* 2xx */
    const char *error;          /* NULL on success */
    apr_int64_t duration_ms;
} mi_send_result_t;

/* Once per process, before threads: libcurl's global state. */
apr_status_t mi_delivery_global_init(void);

/* The error of an attempt at a destination that is not allowed (API.md
 * section 9): no more is said, so that /test tells nothing of the
 * network behind the server. */
#define MI_DELIVERY_REFUSED "destination not allowed"

/* One attempt at a delivery: a libcurl easy handle set up to POST it
 * (no redirects, http and https only, connecting only where egress
 * allows, through its proxy if any), for curl_easy_perform or a multi
 * handle. The delivery must outlive it (the body is not copied), and the
 * attempt must stay where it was prepared until released (libcurl calls
 * back with its address). */
typedef struct {
    CURL *easy;
    CURLU *url;
    struct curl_slist *headers;
    const mi_egress_t *egress;
    int refused;                /* connections egress did not allow */
    int opened;                 /* ...and those it did */
    apr_time_t start;
} mi_attempt_t;

/* NULL when a is ready; otherwise why not (a holds nothing then):
 * MI_DELIVERY_REFUSED for a literal address egress does not allow. */
const char *mi_delivery_prepare(apr_pool_t *pool,
                                const mi_delivery_conf_t *conf,
                                const mi_delivery_t *d, mi_attempt_t *a);

/* The result of a finished attempt, from its CURLcode rc. */
void mi_delivery_outcome(apr_pool_t *pool, const mi_attempt_t *a, int rc,
                         mi_send_result_t *result);

void mi_delivery_release(mi_attempt_t *a);

/* POSTs one delivery now and waits for the answer (for /test). */
void mi_delivery_send(apr_pool_t *pool, const mi_delivery_conf_t *conf,
                      const mi_delivery_t *d, mi_send_result_t *result);

/* Claims up to max due deliveries of active webhooks, in turns across
 * webhooks (each webhook's first before any webhook's second), at most
 * MI_DELIVERY_PER_WEBHOOK in flight per webhook (1 for a webhook whose
 * last attempt failed, and half of conf->concurrency for all those
 * together), each leased for one attempt; *claimed gets mi_delivery_t
 * entries in that order. */
apr_status_t mi_delivery_claim(mi_db_t *db, apr_pool_t *pool,
                               const mi_delivery_conf_t *conf, int max,
                               apr_array_header_t **claimed);

/* Records the attempts of the first sent entries of a claim (results[i]
 * for claimed entry i), in one transaction: delivered, to be retried, or
 * failed for good; keeps each webhook's consecutive failure count and
 * disables it at the limit or on 410 Gone. The claim's other entries were
 * not sent: their leases end now. */
apr_status_t mi_delivery_finish(mi_db_t *db, apr_pool_t *pool,
                                const mi_delivery_conf_t *conf,
                                const apr_array_header_t *claimed, int sent,
                                const mi_send_result_t *results);

#endif
