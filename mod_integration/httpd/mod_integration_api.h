/* mod_integration_api.h: the handlers of the route table. Each writes its
 * answer and returns OK. */
#ifndef MOD_INTEGRATION_API_H
#define MOD_INTEGRATION_API_H

#include "mod_integration.h"
#include "mi_etag.h"
#include "mi_jsonw.h"

/* Content type, size, JSON syntax and a JSON object, in the order of
 * API.md section 1: the body, or NULL when it answered. */
json_t *mi_api_read_object(mi_req_t *req, char **buf, apr_size_t *len);

/* The same for a body that may be left out: an empty object when the
 * request has none (or an empty one). */
json_t *mi_api_read_optional_object(mi_req_t *req);

/* 404 NOT_FOUND quoting id in missing, a route's message for one of its
 * {id}s (mi_route_t); returns OK. */
int mi_api_not_found(mi_req_t *req, const char *missing, const char *id);

/* The listing key of the request's database (mi_keys), or NULL when it
 * answered (503, or 500 when the schema lacks it). */
const unsigned char *mi_api_listing_key(mi_req_t *req, mi_db_t *db);

/* Answers a 200 of JSON text that org reads, with an ETag of it (bound to
 * the organization); 304 without a body when If-None-Match names that
 * tag. Returns OK. */
int mi_api_tagged_json(mi_req_t *req, const unsigned char *key,
                       const char *text, apr_size_t len);

/* Answers a listing of mi_records_list: its error (a bad cursor with
 * MI_CURSOR_INVALID), 304 when cond says so, or the body, with the ETag of
 * cond. Returns OK. */
int mi_api_listing_answer(mi_req_t *req, mi_result_e rc,
                          const mi_conditional_t *cond,
                          const mi_jsonw_t *body);

int mi_api_health(mi_req_t *req);
int mi_api_openapi(mi_req_t *req);
int mi_api_list(mi_req_t *req);
int mi_api_upsert(mi_req_t *req);
int mi_api_get(mi_req_t *req);
int mi_api_delete(mi_req_t *req);

/* mod_integration_api_status.c */
int mi_api_dds(mi_req_t *req);
int mi_api_sync_status(mi_req_t *req);
int mi_api_sync_logs(mi_req_t *req);

/* mod_integration_api_webhooks.c */
int mi_api_webhook_create(mi_req_t *req);
int mi_api_webhook_list(mi_req_t *req);
int mi_api_webhook_get(mi_req_t *req);
int mi_api_webhook_update(mi_req_t *req);
int mi_api_webhook_delete(mi_req_t *req);
int mi_api_webhook_rotate(mi_req_t *req);
int mi_api_webhook_test(mi_req_t *req);
int mi_api_webhook_deliveries(mi_req_t *req);
int mi_api_webhook_redeliver(mi_req_t *req);

#endif
