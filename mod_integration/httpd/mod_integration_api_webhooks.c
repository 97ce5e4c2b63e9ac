/* mod_integration_api_webhooks.c: the webhook management endpoints (API.md
 * section 9). A webhook belongs to the integration whose token created it;
 * any other integration gets 404 for it. */
#include <string.h>
#include "mod_integration_api.h"
#include "mod_integration_http.h"
#include "mod_integration_route.h"
#include "mi_records.h"
#include "mi_text.h"
#include "mi_time.h"
#include "mi_webhook.h"

#define TEST_EVENT "webhook.test"

/* The common ending: 200/201 with *body, or mi_http_result's answer.
 * (A pointer: the operation that fills it is an argument evaluated in the
 * same call.) */
static int answer(mi_req_t *req, mi_result_e rc, int status, json_t **body)
{
    return rc == MI_OK ? mi_http_json(req->r, status, *body)
                       : mi_http_result(req, rc, NULL);
}

/* The body of a create or an update, checked: url and events (NULL when
 * absent from an update), active (-1 when absent). 1 when it has answered
 * (mod_integration.h). */
static int webhook_body_answered(mi_req_t *req, int creating,
                                 const char **url, json_t **events,
                                 int *active)
{
    request_rec *r = req->r;
    char *buf;
    apr_size_t len;
    json_t *body = mi_api_read_object(req, &buf, &len), *u, *e, *a;
    const char *err;

    if (!body) {
        return 1;
    }
    u = json_object_get(body, "url");
    e = json_object_get(body, "events");
    a = json_object_get(body, "active");
    *url = NULL;
    *events = NULL;
    *active = -1;
    if (u || creating) {
        if (!json_is_string(u)) {
            mi_http_invalid(r, "url is required and must be a string");
            return 1;
        }
        /* JSON allows \u0000; C would cut the URL there. */
        if (strlen(json_string_value(u)) != json_string_length(u)) {
            mi_http_invalid(r, "url must not contain NUL characters");
            return 1;
        }
        if ((err = mi_webhook_url_check(json_string_value(u),
                                        req->conf->delivery.allow_http,
                                        &req->conf->delivery.egress))) {
            mi_http_invalid(r, err);
            return 1;
        }
        *url = json_string_value(u);
    }
    if (e || creating) {
        if ((err = mi_webhook_events_check(r->pool, e))) {
            mi_http_invalid(r, err);
            return 1;
        }
        *events = e;
    }
    if (a) {
        if (!json_is_boolean(a)) {
            mi_http_invalid(r, "active must be a boolean");
            return 1;
        }
        *active = json_is_true(a);
    }
    return 0;
}

int mi_api_webhook_create(mi_req_t *req)
{
    json_t *events, *out = NULL;
    const char *url;
    int active;
    mi_db_t *db;

    if (webhook_body_answered(req, 1, &url, &events, &active)) {
        return OK;
    }
    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    return answer(req, mi_webhook_create(db, req->r->pool, &req->caller, url,
                                         events, &out), HTTP_CREATED, &out);
}

int mi_api_webhook_list(mi_req_t *req)
{
    json_t *out = NULL;
    mi_db_t *db = mi_req_db(req);

    return db ? answer(req, mi_webhook_list(db, req->r->pool, &req->caller,
                                            &out), HTTP_OK, &out)
              : mi_http_unavailable(req);
}

int mi_api_webhook_get(mi_req_t *req)
{
    json_t *out = NULL;
    mi_db_t *db = mi_req_db(req);

    return db ? answer(req, mi_webhook_get(db, req->r->pool, &req->caller,
                                           req->param, &out), HTTP_OK, &out)
              : mi_http_unavailable(req);
}

int mi_api_webhook_update(mi_req_t *req)
{
    json_t *events, *out = NULL;
    const char *url;
    int active;
    mi_db_t *db;

    if (webhook_body_answered(req, 0, &url, &events, &active)) {
        return OK;
    }
    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    return answer(req, mi_webhook_update(db, req->r->pool, &req->caller,
                                         req->param, url, events, active,
                                         &out), HTTP_OK, &out);
}

int mi_api_webhook_delete(mi_req_t *req)
{
    mi_db_t *db = mi_req_db(req);
    json_t *out;
    mi_result_e rc;

    if (!db) {
        return mi_http_unavailable(req);
    }
    rc = mi_webhook_delete(db, req->r->pool, &req->caller, req->param);
    out = rc != MI_OK ? NULL
        : mi_json_own(req->r->pool, json_pack("{s:b, s:s}", "success", 1,
                                              "id", req->param));
    return answer(req, rc, HTTP_OK, &out);
}

/* The body is optional: {} and none are the default overlap. */
int mi_api_webhook_rotate(mi_req_t *req)
{
    json_t *body = mi_api_read_optional_object(req), *out = NULL;
    const char *err;
    int overlap;
    mi_db_t *db;

    if (!body) {
        return OK;
    }
    if ((err = mi_webhook_rotation_read(body, &overlap))) {
        return mi_http_invalid(req->r, err);
    }
    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    return answer(req, mi_webhook_rotate(db, req->r->pool, &req->caller,
                                         req->param, overlap, &out),
                  HTTP_OK, &out);
}

int mi_api_webhook_deliveries(mi_req_t *req)
{
    request_rec *r = req->r;
    const char *status = apr_table_get(req->query, "status");
    const char *err = NULL;
    json_t *out = NULL;
    mi_page_t page;
    mi_db_t *db;

    if ((err = mi_page_parse(r->pool, req->query, 0, &page)) != NULL) {
        return mi_http_invalid(r, err);
    }
    if (status && !mi_webhook_delivery_status_valid(status)) {
        return mi_http_invalid(r, "status must be PENDING, DELIVERED or "
                                  "FAILED");
    }
    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    return answer(req, mi_webhook_deliveries(db, r->pool, &req->caller,
                                             req->param, status, page.page,
                                             page.limit, &out),
                  HTTP_OK, &out);
}

/* Queues a delivery again (API.md section 9); no body is read. A webhook
 * that is not active keeps it pending until it is active again. */
int mi_api_webhook_redeliver(mi_req_t *req)
{
    request_rec *r = req->r;
    json_t *hook;
    mi_result_e rc;
    mi_db_t *db = mi_req_db(req);

    if (!db) {
        return mi_http_unavailable(req);
    }
    if ((rc = mi_webhook_get(db, r->pool, &req->caller, req->param, &hook))
            != MI_OK) {
        return mi_http_result(req, rc, NULL);
    }
    rc = mi_webhook_redeliver(db, r->pool, &req->caller, req->param,
                              req->sub_param);
    switch (rc) {
    case MI_OK:
        return mi_http_json(r, HTTP_ACCEPTED, mi_json_own(r->pool,
            json_pack("{s:s, s:s}", "deliveryId", req->sub_param,
                      "status", "PENDING")));
    case MI_ERR_NOT_FOUND:
        return mi_api_not_found(req, req->route->missing_sub,
                                req->sub_param);
    case MI_ERR_CONFLICT:
        return mi_http_result(req, rc, apr_psprintf(r->pool,
            "Delivery \"%s\" is still pending; it can be redelivered once "
            "it is DELIVERED or FAILED", req->sub_param));
    default:
        return mi_http_result(req, rc, NULL);
    }
}

/* Sends a webhook.test delivery now, from this request, and reports. */
int mi_api_webhook_test(mi_req_t *req)
{
    request_rec *r = req->r;
    mi_webhook_target_t target;
    mi_delivery_t d;
    mi_send_result_t res;
    mi_db_t *db = mi_req_db(req);
    apr_int64_t now = mi_now_ms();
    mi_result_e rc;

    if (!db) {
        return mi_http_unavailable(req);
    }
    if ((rc = mi_webhook_target(db, r->pool, &req->caller, req->param,
                                &target)) != MI_OK) {
        return mi_http_result(req, rc, NULL);
    }
    memset(&d, 0, sizeof(d));
    if (!(d.id = mi_id_new(r->pool, "d"))) {
        return mi_http_result(req, MI_ERR_INTERNAL, "no random bytes for "
                                                    "a delivery id");
    }
    d.webhook_id = target.id;
    d.url = target.url;
    d.secret = target.secret;
    d.previous_secret = target.previous_secret;
    d.previous_secret_until = target.previous_secret_until;
    d.event = TEST_EVENT;
    d.event_time = now;
    d.payload = mi_json_dump(r->pool, mi_json_own(r->pool, json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:s}}", "event", TEST_EVENT,
        "timestamp", mi_time_iso(r->pool, now), "integrationId",
        target.integration_id, "data", "webhookId", target.id, "message",
        "Test delivery from mod_integration")));
    mi_delivery_send(r->pool, &req->conf->delivery, &d, &res);
    return mi_http_json(r, HTTP_OK, mi_json_own(r->pool, json_pack(
        "{s:s, s:s, s:s, s:o, s:b, s:o, s:i, s:I}", "webhookId", target.id,
        "url", target.url, "event", TEST_EVENT,
        "statusCode", res.status ? json_integer(res.status) : json_null(),
        "success", res.success, "error", mi_json_string_or_null(res.error),
        "attemptNumber", 1, "duration", (json_int_t)res.duration_ms)));
}
