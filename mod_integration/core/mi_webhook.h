/* mi_webhook.h: webhooks of an integration (API.md section 9): their
 * management, their secrets and the signatures of what is sent to them. */
#ifndef MI_WEBHOOK_H
#define MI_WEBHOOK_H

#include <curl/curl.h>
#include "mi_db.h"
#include "mi_egress.h"
#include "mi_json.h"
#include "mi_resource.h"

/* Every event name, NULL-terminated: the resources' (mi_resource_events),
 * then the others. Set by mi_webhook_events_init (mi_resources_init calls
 * it). */
extern const char *const *mi_webhook_events;

void mi_webhook_events_init(apr_pool_t *pool,
                            const mi_resource_t *const *resources);

/* NULL when events is a non-empty array of known, distinct event names;
 * otherwise the VALIDATION_ERROR message. */
const char *mi_webhook_events_check(apr_pool_t *pool, const json_t *events);

/* The refusal of a URL whose host is a literal address egress does not
 * allow (API.md section 9, "Destinations"). */
#define MI_WEBHOOK_URL_RESERVED \
    "url must not point to a private or reserved address"

/* url parsed by libcurl's URL API, as it is sent: NULL and *parsed set
 * (curl_url_cleanup frees it) when it is an absolute https URL (or http
 * with allow_http) with a host that is a name or an address egress
 * allows; otherwise the VALIDATION_ERROR message, and *reserved (unless
 * NULL) says whether the URL was refused for its address alone. */
const char *mi_webhook_url_parse(const char *url, int allow_http,
                                 const mi_egress_t *egress, CURLU **parsed,
                                 int *reserved);

/* The same check, for a URL to be stored. */
const char *mi_webhook_url_check(const char *url, int allow_http,
                                 const mi_egress_t *egress);

/* whsec_ + base64 of 32 random bytes. */
char *mi_webhook_secret_new(apr_pool_t *pool);

/* HMAC-SHA256 with the key a secret stands for (its 32 decoded bytes):
 * lowercase hex and base64 of the MAC of msg. */
apr_status_t mi_webhook_hmac(apr_pool_t *pool, const char *secret,
                             const char *msg, apr_size_t len,
                             const char **hex, const char **b64);

/* The value of webhook-signature (Standard Webhooks 1.0) for msg:
 * "v1,<base64>" with secret, then " v1,<base64>" with previous unless it
 * is NULL (a rotation's overlap). NULL when a secret is malformed. */
const char *mi_webhook_signature_v1(apr_pool_t *pool, const char *secret,
                                    const char *previous, const char *msg,
                                    apr_size_t len);

/* How long the replaced secret still signs, by default and at most. */
#define MI_WEBHOOK_OVERLAP_DEFAULT 86400
#define MI_WEBHOOK_OVERLAP_MAX 604800

/* Reads the body of a rotate-secret (a JSON object; {} when the request
 * had none): *overlap_seconds from overlapSeconds, the default when it is
 * absent. NULL, or the VALIDATION_ERROR message. */
const char *mi_webhook_rotation_read(const json_t *body, int *overlap_seconds);

/* Whether status is one of a delivery's (PENDING, DELIVERED, FAILED). */
int mi_webhook_delivery_status_valid(const char *status);

/* The management operations. Each is confined to the caller's
 * integration: another integration's webhook is MI_ERR_NOT_FOUND. */
mi_result_e mi_webhook_create(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *url,
                              const json_t *events, json_t **body);
mi_result_e mi_webhook_list(mi_db_t *db, apr_pool_t *pool,
                            const mi_caller_t *caller, json_t **body);
mi_result_e mi_webhook_get(mi_db_t *db, apr_pool_t *pool,
                           const mi_caller_t *caller, const char *id,
                           json_t **body);
/* url and events NULL, active -1: unchanged. Re-activation resets the
 * failure count. */
mi_result_e mi_webhook_update(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *id,
                              const char *url, const json_t *events,
                              int active, json_t **body);
mi_result_e mi_webhook_delete(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *id);
/* A new secret; the one it replaces keeps signing for overlap_seconds
 * (none when 0). The answer carries the new secret, never the old. */
mi_result_e mi_webhook_rotate(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *id,
                              int overlap_seconds, json_t **body);
/* A page of the webhook's deliveries, newest first: all, or those of one
 * status (NULL for all). */
mi_result_e mi_webhook_deliveries(mi_db_t *db, apr_pool_t *pool,
                                  const mi_caller_t *caller, const char *id,
                                  const char *status, int page, int limit,
                                  json_t **body);
/* Queues a delivery of the webhook again, due now, with no attempts made:
 * MI_ERR_NOT_FOUND when the webhook (of the caller's integration) has no
 * such delivery, MI_ERR_CONFLICT while it is still pending. The webhook
 * itself is the caller's to check (mi_webhook_get), for its own 404. */
mi_result_e mi_webhook_redeliver(mi_db_t *db, apr_pool_t *pool,
                                 const mi_caller_t *caller, const char *id,
                                 const char *delivery_id);

/* What a sender needs of one webhook. */
typedef struct {
    const char *id;
    const char *url;
    const char *secret;
    const char *previous_secret;        /* or NULL */
    apr_int64_t previous_secret_until;  /* ms; it signs until then */
    const char *integration_id;
    int active;
} mi_webhook_target_t;

mi_result_e mi_webhook_target(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *id,
                              mi_webhook_target_t *target);

#endif
