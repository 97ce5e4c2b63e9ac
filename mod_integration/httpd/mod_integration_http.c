/* mod_integration_http.c: JSON answers, errors, and the bounded request
 * body. */
#include <pthread.h>
#include <string.h>
#include "mod_integration_http.h"
#include "mod_integration_metrics.h"
#include "mi_buf.h"
#include "mi_etag.h"
#include "mod_integration_route.h"
#include "mi_jsonw.h"
#include "mi_text.h"

#define MI_RETRY_AFTER_DB "2"

int mi_http_json_text(request_rec *r, int status, const char *text,
                      apr_size_t len)
{
    r->status = status;
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
    }
    return OK;
}

int mi_http_not_modified(request_rec *r, const char *etag)
{
    apr_table_setn(r->headers_out, "ETag", etag);
    if (!mi_etag_matches(apr_table_get(r->headers_in, "If-None-Match"),
                         etag)) {
        return 0;
    }
    /* No body and no Content-Type; the rate limit's headers
     * (err_headers_out) go with it. */
    r->status = HTTP_NOT_MODIFIED;
    return 1;
}

/* What a body that cannot be built becomes: nothing of the request in it,
 * so it cannot fail in turn. */
static const char internal_error[] =
    "{\"error\":\"INTERNAL_ERROR\",\"message\":\"The response could not be "
    "built; details are in the server's error log\"}";

int mi_http_json(request_rec *r, int status, json_t *json)
{
    const char *text = json ? mi_json_dump(r->pool, json) : NULL;

    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, MI_LOGNO(00104)
                      "a %d response body could not be built", status);
        return mi_http_json_text(r, HTTP_INTERNAL_SERVER_ERROR,
                                 internal_error, sizeof(internal_error) - 1);
    }
    return mi_http_json_text(r, status, text, strlen(text));
}

/* Written by hand rather than by Jansson: the message may quote any bytes
 * of the request, and the writer replaces what is not UTF-8. */
int mi_http_error(request_rec *r, int status, const char *code,
                  const char *message)
{
    mi_jsonw_t w;

    mi_jsonw_init(&w, r->pool, 64 + strlen(message));
    mi_jsonw_lit(&w, "{\"error\":");
    mi_jsonw_str(&w, code);
    mi_jsonw_lit(&w, ",\"message\":");
    mi_jsonw_str(&w, message);
    mi_jsonw_lit(&w, "}");
    return mi_http_json_text(r, status, w.buf, w.len);
}

int mi_http_invalid(request_rec *r, const char *message)
{
    return mi_http_error(r, HTTP_BAD_REQUEST, "VALIDATION_ERROR", message);
}

/* An outage fails every request alike: one line per MI_QUIET_INTERVAL per
 * process, with the count of those that were not logged. */
#define MI_QUIET_INTERVAL apr_time_from_sec(5)

static struct {
    pthread_mutex_t lock;
    apr_time_t until;
    unsigned int suppressed;
} quiet = { PTHREAD_MUTEX_INITIALIZER, 0, 0 };

/* 1 when a 503 is to be logged now; *skipped: how many were not since. */
static int loud(unsigned int *skipped)
{
    apr_time_t now = apr_time_now();
    int log;

    pthread_mutex_lock(&quiet.lock);
    log = now >= quiet.until;
    if (log) {
        *skipped = quiet.suppressed;
        quiet.until = now + MI_QUIET_INTERVAL;
        quiet.suppressed = 0;
    }
    else {
        quiet.suppressed++;
    }
    pthread_mutex_unlock(&quiet.lock);
    return log;
}

int mi_http_unavailable(mi_req_t *req)
{
    const char *why = req->db && req->db->error ? req->db->error
                      : req->db_error ? req->db_error : "no connection";
    unsigned int skipped = 0;

    mi_metrics_db_unavailable();
    if (loud(&skipped)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, req->r, MI_LOGNO(00101)
                      "database unavailable: %s%s", why,
                      skipped ? apr_psprintf(req->r->pool, " (%u more 503s "
                                             "not logged)", skipped)
                              : "");
    }
    apr_table_setn(req->r->err_headers_out, "Retry-After", MI_RETRY_AFTER_DB);
    return mi_http_error(req->r, HTTP_SERVICE_UNAVAILABLE,
                         "SERVICE_UNAVAILABLE",
                         "The database is not available; retry later");
}

/* The route's text for its record: template (one "%s") filled with the
 * {id} segment, or fallback when the route has none. */
static const char *route_text(mi_req_t *req, const char *template,
                              const char *fallback)
{
    if (!template) {
        return fallback;
    }
    return mi_text_fill(req->r->pool, template, req->param ? req->param : "");
}

/* Neither the request nor the database: nothing of it goes to the client
 * (API.md: "a bug; details only in the error log"). */
static int internal(mi_req_t *req, mi_result_e rc, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, req->r, MI_LOGNO(00105)
                  "internal failure (result %d): %s", (int)rc,
                  why ? why : "no random bytes from libcrypto, or no memory");
    return mi_http_error(req->r, HTTP_INTERNAL_SERVER_ERROR, "INTERNAL_ERROR",
                         "The request could not be completed; details are "
                         "in the server's error log");
}

int mi_http_result(mi_req_t *req, mi_result_e rc, const char *message)
{
    request_rec *r = req->r;

    switch (rc) {
    case MI_ERR_NOT_FOUND:
        return mi_http_error(r, HTTP_NOT_FOUND, "NOT_FOUND", message
            ? message : route_text(req, req->route ? req->route->missing
                                                   : NULL, "Not found"));
    case MI_ERR_CONFLICT:
        return mi_http_error(r, HTTP_CONFLICT, "CONFLICT", message
            ? message : route_text(req, req->res ? req->res->delete_refusal
                                                 : NULL,
                                   "The request conflicts with the stored "
                                   "records"));
    case MI_ERR_INVALID:
        return mi_http_invalid(r, message ? message : "The request breaks a "
                                                      "rule of the contract");
    case MI_ERR_RETRY:
    case MI_ERR_DB:
        return mi_http_unavailable(req);
    case MI_OK:
        return internal(req, rc, "a success was answered as a failure");
    case MI_ERR_INTERNAL:
    default:
        return internal(req, rc, message);
    }
}

int mi_http_is_json(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_size_t n = strlen("application/json");

    if (!ct || strncasecmp(ct, "application/json", n)) {
        return 0;
    }
    ct += n;
    while (*ct == ' ' || *ct == '\t') {
        ct++;
    }
    return *ct == '\0' || *ct == ';';
}

int mi_http_read_body(request_rec *r, apr_off_t limit, char **buf,
                      apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_bucket_brigade *bb;
    mi_buf_t body;
    int seen_eos = 0;

    *buf = NULL;
    *len = 0;
    if (cl && apr_atoi64(cl) > limit) {
        /* No point reading what will be refused; don't keep the
         * connection, so that httpd need not drain it either. */
        r->connection->keepalive = AP_CONN_CLOSE;
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    /* Room for the announced body and its NUL: one block when it is
     * right. */
    mi_buf_init(&body, r->pool, cl && apr_atoi64(cl) > 0
                                    ? (apr_size_t)apr_atoi64(cl) + 1 : 8192);
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    do {
        apr_bucket *b;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         HUGE_STRING_LEN);

        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, rv, r, MI_LOGNO(00102)
                          "reading the request body failed");
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST)
                       == HTTP_REQUEST_ENTITY_TOO_LARGE
                   ? HTTP_REQUEST_ENTITY_TOO_LARGE : HTTP_BAD_REQUEST;
        }
        for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
             b = APR_BUCKET_NEXT(b)) {
            const char *chunk;
            apr_size_t n;

            if (APR_BUCKET_IS_EOS(b)) {
                seen_eos = 1;
                break;
            }
            if (apr_bucket_read(b, &chunk, &n, APR_BLOCK_READ)
                    != APR_SUCCESS) {
                return HTTP_BAD_REQUEST;
            }
            if ((apr_off_t)(body.len + n) > limit) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            mi_buf_append(&body, chunk, n);
        }
        apr_brigade_cleanup(bb);
    } while (!seen_eos);
    *buf = mi_buf_cstr(&body);
    *len = body.len;
    return OK;
}
