/* mod_integration_http.h: JSON answers, errors, and the bounded request
 * body. */
#ifndef MOD_INTEGRATION_HTTP_H
#define MOD_INTEGRATION_HTTP_H

#include "mod_integration.h"

/* Writes json with the status; returns OK for the handler to return. */
int mi_http_json(request_rec *r, int status, json_t *json);

/* Writes a body that is already JSON text; returns OK. */
int mi_http_json_text(request_rec *r, int status, const char *text,
                      apr_size_t len);

/* Gives the answer etag; when the request's If-None-Match names it,
 * answers 304 Not Modified without a body and returns 1, else 0. */
int mi_http_not_modified(request_rec *r, const char *etag);

/* Writes the error body { error, message }; returns OK. */
int mi_http_error(request_rec *r, int status, const char *code,
                  const char *message);

/* 400 VALIDATION_ERROR with the message; returns OK. */
int mi_http_invalid(request_rec *r, const char *message);

/* 503 SERVICE_UNAVAILABLE with Retry-After, logging why (never SQL). */
int mi_http_unavailable(mi_req_t *req);

/* The answer to a core operation that did not succeed: the one mapping of
 * mi_result_e to HTTP (API.md section 1). MI_ERR_NOT_FOUND: 404 NOT_FOUND;
 * MI_ERR_CONFLICT: 409 CONFLICT; MI_ERR_INVALID: 400 VALIDATION_ERROR;
 * MI_ERR_RETRY (not retried, or retried too often) and MI_ERR_DB: 503
 * (mi_http_unavailable); MI_ERR_INTERNAL (and MI_OK, a caller's bug): 500
 * INTERNAL_ERROR, message going to the error log only. message NULL: the
 * route's own text for req->param (its 404 message, the resource's delete
 * refusal). Returns OK. */
int mi_http_result(mi_req_t *req, mi_result_e rc, const char *message);

/* 1 when Content-Type is application/json (parameters allowed). */
int mi_http_is_json(request_rec *r);

/* Reads the whole body, chunked or not, up to limit bytes. Returns OK,
 * HTTP_REQUEST_ENTITY_TOO_LARGE or HTTP_BAD_REQUEST (read failure). */
int mi_http_read_body(request_rec *r, apr_off_t limit, char **buf,
                      apr_size_t *len);

#endif
