/* mod_integration_api.c: the handlers of the route table, one set for every
 * resource: they turn HTTP into calls of the core engines and their results
 * back into HTTP. */
#include <string.h>
#include "mod_integration_api.h"
#include "mi_crypto.h"
#include "mod_integration_http.h"
#include "mod_integration_metrics.h"
#include "mi_records.h"
#include "mod_integration_route.h"
#include "mi_text.h"
#include "mi_upsert.h"

/* Attempts at a write that PostgreSQL rolls back for a deadlock. */
#define MI_WRITE_ATTEMPTS 3

static const mi_stmt_t ping = { "mi_health_ping", { "SELECT 1", NULL } };

int mi_api_health(mi_req_t *req)
{
    mi_db_t *db = mi_req_db(req);
    mi_rows_t rows;

    if (!db || mi_db_select(db, req->r->pool, &ping, &rows, 0, NULL)
                   != APR_SUCCESS) {
        return mi_http_unavailable(req);
    }
    return mi_http_json(req->r, HTTP_OK,
                        mi_json_own(req->r->pool,
                                    json_pack("{s:s}", "status", "ok")));
}

/* docs/openapi.json, embedded at build time (build/embed-file). */
extern const char mi_openapi_json[];
extern const apr_size_t mi_openapi_json_len;

int mi_api_openapi(mi_req_t *req)
{
    return mi_http_json_text(req->r, HTTP_OK, mi_openapi_json,
                             mi_openapi_json_len);
}

const unsigned char *mi_api_listing_key(mi_req_t *req, mi_db_t *db)
{
    const unsigned char *key;
    mi_result_e rc;

    if ((rc = mi_keys_listing(req->conf->keys, db, req->r->pool, &key))
            != MI_OK) {
        mi_http_result(req, rc, NULL);
        return NULL;
    }
    return key;
}

int mi_api_tagged_json(mi_req_t *req, const unsigned char *key,
                       const char *text, apr_size_t len)
{
    request_rec *r = req->r;
    const char *what = apr_pstrcat(r->pool, "body ", text, NULL);
    const char *etag = mi_etag_make(r->pool, key,
                                    req->caller.organization_id, what,
                                    len + 5);

    if (!etag) {
        return mi_http_result(req, MI_ERR_INTERNAL, NULL);
    }
    if (mi_http_not_modified(r, etag)) {
        return OK;
    }
    return mi_http_json_text(r, HTTP_OK, text, len);
}

int mi_api_listing_answer(mi_req_t *req, mi_result_e rc,
                          const mi_conditional_t *cond,
                          const mi_jsonw_t *body)
{
    if (rc != MI_OK) {
        return mi_http_result(req, rc, rc == MI_ERR_INVALID
                                           ? MI_CURSOR_INVALID : NULL);
    }
    if (mi_http_not_modified(req->r, cond->etag)) {
        return OK;
    }
    return mi_http_json_text(req->r, HTTP_OK, body->buf, body->len);
}

int mi_api_list(mi_req_t *req)
{
    request_rec *r = req->r;
    mi_page_t page;
    const char *err = mi_page_parse(r->pool, req->query, 1, &page);
    mi_conditional_t cond = { NULL, NULL, NULL, 0 };
    mi_jsonw_t body;
    mi_result_e rc;
    mi_db_t *db;

    if (err) {
        return mi_http_invalid(r, err);
    }
    mi_jsonw_init(&body, r->pool, 1024 * page.limit);
    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    if (!(cond.key = mi_api_listing_key(req, db))) {
        return OK;
    }
    cond.if_none_match = apr_table_get(r->headers_in, "If-None-Match");
    rc = mi_records_list(db, r->pool, req->res, req->caller.organization_id,
                         &page, req->conf->lists, &cond, &body);
    return mi_api_listing_answer(req, rc, &cond, &body);
}

int mi_api_not_found(mi_req_t *req, const char *missing, const char *id)
{
    return mi_http_result(req, MI_ERR_NOT_FOUND,
                          mi_text_fill(req->r->pool, missing, id));
}

int mi_api_get(mi_req_t *req)
{
    const unsigned char *key;
    mi_jsonw_t entity;
    mi_result_e rc;
    mi_db_t *db;

    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    if (!(key = mi_api_listing_key(req, db))) {
        return OK;
    }
    mi_jsonw_init(&entity, req->r->pool, 1024);
    if ((rc = mi_records_get(db, req->r->pool, req->res,
                             req->caller.organization_id, req->param,
                             &entity)) != MI_OK) {
        return mi_http_result(req, rc, NULL);
    }
    return mi_api_tagged_json(req, key, entity.buf, entity.len);
}

/* A write that PostgreSQL rolled back to break a deadlock (or for a
 * serialization failure: MI_ERR_RETRY) is run again, MI_WRITE_ATTEMPTS
 * times in all: the other transaction has gone on, so the next attempt
 * usually succeeds. */
static int again(mi_req_t *req, mi_db_t *db, mi_result_e rc, int *attempts)
{
    if (rc != MI_ERR_RETRY || *attempts >= MI_WRITE_ATTEMPTS) {
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, req->r, MI_LOGNO(00103)
                  "running the write again (attempt %d): %s", ++*attempts,
                  db->error);
    /* Not at once: the transaction that won is still finishing, and a
     * retry at the same instant as the other loser's meets it again. A
     * pause of a few milliseconds, different per request (the clock's
     * microseconds), longer each time. */
    apr_sleep(apr_time_from_msec(5 + apr_time_now() % 20 * *attempts));
    return 1;
}

int mi_api_delete(mi_req_t *req)
{
    const char *external_id = req->param;
    mi_result_e rc;
    mi_db_t *db;
    int attempts = 1;

    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    do {
        rc = mi_records_delete(db, req->r->pool, req->res, &req->caller,
                               external_id);
    } while (again(req, db, rc, &attempts));
    if (rc != MI_OK) {
        /* 404 with the route's message, 409 with the resource's refusal */
        return mi_http_result(req, rc, NULL);
    }
    return mi_http_json(req->r, HTTP_OK, mi_json_own(req->r->pool,
        json_pack("{s:b, s:s}", "success", 1, "externalId", external_id)));
}

/* 1 when the request says its body is JSON; otherwise answers 415, 0. */
static int json_typed(request_rec *r)
{
    if (mi_http_is_json(r)) {
        return 1;
    }
    mi_http_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE",
                  "Content-Type must be application/json");
    return 0;
}

/* Reads the body of a request that must carry JSON into *buf and *len;
 * 0 when it answered. */
static int read_text(mi_req_t *req, char **buf, apr_size_t *len)
{
    request_rec *r = req->r;
    int rc = mi_http_read_body(r, req->conf->max_body, buf, len);

    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        mi_http_error(r, rc, "PAYLOAD_TOO_LARGE", apr_psprintf(r->pool,
            "Request body exceeds the limit of %" APR_OFF_T_FMT " bytes",
            req->conf->max_body));
        return 0;
    }
    if (rc != OK) {
        mi_http_error(r, HTTP_BAD_REQUEST, "INVALID_JSON",
                      "The request body could not be read");
        return 0;
    }
    return 1;
}

/* Answers a body that did not parse (or was not an object); 0. */
static int refuse_body(request_rec *r, mi_json_parse_e parsed,
                       apr_size_t len)
{
    switch (parsed) {
    case MI_JSON_OK:
        mi_http_error(r, HTTP_BAD_REQUEST, "INVALID_JSON",
                      "Request body must be a JSON object");
        break;
    case MI_JSON_ENCODING:
        mi_http_invalid(r, "Request body must be valid UTF-8");
        break;
    default:
        mi_http_error(r, HTTP_BAD_REQUEST, "INVALID_JSON", len == 0
            ? "Request body is empty"
            : "Request body is not valid JSON (or has duplicate keys)");
    }
    return 0;
}

/* mi_api_read_object, and with optional an empty object for an empty
 * body (mi_api_read_optional_object). */
static json_t *read_object(mi_req_t *req, int optional, char **buf,
                           apr_size_t *len)
{
    request_rec *r = req->r;
    mi_json_parse_e parsed;
    json_t *body;

    /* No Content-Length (or 0) and no Transfer-Encoding: no body, and no
     * Content-Type to check. */
    if (optional && !ap_request_has_body(r)) {
        return mi_json_own(r->pool, json_object());
    }
    if ((!optional && !json_typed(r)) || !read_text(req, buf, len)) {
        return NULL;
    }
    /* An optional body may be announced and be empty: HTTP/2 sends no
     * Content-Length when the request's end comes in a DATA frame of its
     * own. Its Content-Type matters only when there is one. */
    if (optional && *len == 0) {
        return mi_json_own(r->pool, json_object());
    }
    if (optional && !json_typed(r)) {
        return NULL;
    }
    parsed = mi_json_parse(r->pool, *buf, *len, &body);
    if (parsed != MI_JSON_OK || !json_is_object(body)) {
        refuse_body(r, parsed, *len);
        return NULL;
    }
    return body;
}

json_t *mi_api_read_object(mi_req_t *req, char **buf, apr_size_t *len)
{
    return read_object(req, 0, buf, len);
}

json_t *mi_api_read_optional_object(mi_req_t *req)
{
    char *buf;
    apr_size_t len;

    return read_object(req, 1, &buf, &len);
}

/* The records array of a bulk request (and the resource's after_create
 * flag, autoCreateDDS for batches), or NULL when it answered. The body is
 * read by mi_jsonr, into pool memory: the bulk requests are the large
 * ones. */
static const mi_jv_t *read_records(mi_req_t *req, int *run_after_create,
                                   char **buf, apr_size_t *len)
{
    request_rec *r = req->r;
    const char *key = req->res->plural;
    const mi_jv_t *body, *records;
    mi_json_parse_e parsed;

    if (!json_typed(r) || !read_text(req, buf, len)) {
        return NULL;
    }
    parsed = mi_jsonr_parse(r->pool, *buf, *len, &body);
    if (parsed != MI_JSON_OK || !mi_jv_is(body, MI_JV_OBJECT)) {
        refuse_body(r, parsed, *len);
        return NULL;
    }
    *run_after_create = 0;
    if (req->res->after_create) {
        const char *name = req->res->after_create->flag;
        const mi_jv_t *flag = mi_jv_get(body, name);

        if (flag && !mi_jv_is_boolean(flag)) {
            mi_http_invalid(r, apr_pstrcat(r->pool, name,
                                           " must be a boolean", NULL));
            return NULL;
        }
        *run_after_create = mi_jv_is(flag, MI_JV_TRUE);
    }
    records = mi_jv_get(body, key);
    if (!mi_jv_is(records, MI_JV_ARRAY)) {
        mi_http_invalid(r, apr_psprintf(r->pool, "%s must be an array",
                                         key));
        return NULL;
    }
    if (records->len > (apr_size_t)req->conf->max_records) {
        mi_http_error(r, HTTP_BAD_REQUEST, "TOO_MANY_RECORDS",
                      apr_psprintf(r->pool, "Too many records: at most %d "
                                   "per request, received %" APR_SIZE_T_FMT,
                                   req->conf->max_records,
                                   records->len));
        return NULL;
    }
    return records;
}

/* Idempotency-Key: 0 when the request may be processed (*idem set when
 * it carries a key); 1 when it has been answered. */
static int idempotency_answered(mi_req_t *req, mi_db_t *db, const char *buf,
                                apr_size_t len, mi_idem_t **idem)
{
    request_rec *r = req->r;
    const char *key = apr_table_get(r->headers_in, "Idempotency-Key");
    const char *body = NULL;
    mi_idem_t *i;
    mi_idem_e state;
    mi_result_e rc;
    int status = 0;

    *idem = NULL;
    if (!key) {
        return 0;
    }
    if (!mi_idem_key_valid(key)) {
        mi_http_invalid(r, "Idempotency-Key must be 1 to 255 printable "
                            "ASCII characters");
        return 1;
    }
    i = apr_pcalloc(r->pool, sizeof(*i));
    i->organization_id = req->caller.organization_id;
    i->key = key;
    /* The same key for another endpoint is another request too. */
    i->request_hash = mi_sha256_hex(r->pool,
        apr_pstrcat(r->pool, r->method, " ", req->res->plural, "\n",
                    apr_pstrmemdup(r->pool, buf, len), NULL),
        strlen(r->method) + strlen(req->res->plural) + 2 + len);
    if ((rc = mi_idem_claim(db, r->pool, i, &state, &status, &body))
            != MI_OK) {
        mi_http_result(req, rc, NULL);
        return 1;
    }
    switch (state) {
    case MI_IDEM_NEW:
        *idem = i;
        return 0;
    case MI_IDEM_REPLAY:
        apr_table_setn(r->headers_out, "Idempotent-Replayed", "true");
        mi_http_json_text(r, status, body, strlen(body));
        return 1;
    case MI_IDEM_MISMATCH:
        mi_http_error(r, HTTP_UNPROCESSABLE_ENTITY, "IDEMPOTENCY_KEY_REUSED",
                      "This Idempotency-Key was used with a different "
                      "request");
        return 1;
    case MI_IDEM_IN_USE:
    default:
        mi_http_error(r, HTTP_CONFLICT, "IDEMPOTENCY_KEY_IN_USE",
                      "A request with this Idempotency-Key is still running");
        return 1;
    }
}

int mi_api_upsert(mi_req_t *req)
{
    int run_after_create;
    char *buf;
    apr_size_t len;
    const mi_jv_t *records = read_records(req, &run_after_create, &buf,
                                          &len);
    const char *body;
    mi_upsert_counts_t counts;
    mi_idem_t *idem;
    mi_result_e rc;
    mi_db_t *db;
    int attempts = 1;

    if (!records) {
        return OK;
    }
    /* For the access log's %{integration-records}n (docs/logs.md). */
    apr_table_setn(req->r->notes, "integration-records",
                   apr_psprintf(req->r->pool, "%" APR_SIZE_T_FMT,
                                records->len));
    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    if (idempotency_answered(req, db, buf, len, &idem)) {
        return OK;
    }
    /* Counted, so that on SQLite the delivery thread lets it go first. */
    mi_metrics_write_begin();
    do {
        rc = mi_upsert_run(db, req->r->pool, req->res, &req->caller, records,
                           run_after_create, idem, &body, &counts);
    } while (again(req, db, rc, &attempts));
    mi_metrics_write_end();
    if (rc != MI_OK) {
        if (idem) {
            mi_idem_release(db, req->r->pool, idem);
        }
        return mi_http_result(req, rc, NULL);
    }
    mi_metrics_records(req->res, &counts);
    return mi_http_json_text(req->r, HTTP_OK, body, strlen(body));
}
