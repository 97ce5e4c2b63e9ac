/* mod_integration_auth.c: the gate every route with a scope passes. */
#include <string.h>
#include "mod_integration_auth.h"
#include "mod_integration_http.h"
#include "mod_integration_metrics.h"
#include "mod_integration_ratelimit.h"
#include "mod_integration_route.h"
#include "mi_time.h"

/* The audit line of a refusal, at info (API.md section 11): the client's
 * address and the token's display prefix (its first MI_TOKEN_DISPLAY_LEN
 * characters, what `integration-admin token list` shows), never the token.
 * A token that is not well formed may be anything, a secret pasted in the
 * wrong place included: only its length is logged. token_id: the token's,
 * once it is known. */
static void audit_refusal(request_rec *r, const char *code, const char *raw,
                          const char *token_id)
{
    const char *token = "no token";

    mi_metrics_auth_failure(code);
    if (!APLOG_R_IS_LEVEL(r, APLOG_INFO)) {
        return;
    }
    if (raw && mi_token_well_formed(raw)) {
        token = apr_psprintf(r->pool, "token %.*s...%s%s",
                             MI_TOKEN_DISPLAY_LEN, raw,
                             token_id ? " id " : "",
                             token_id ? token_id : "");
    }
    else if (raw) {
        token = apr_psprintf(r->pool, "a malformed token of %" APR_SIZE_T_FMT
                             " characters", strlen(raw));
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, MI_LOGNO(00202)
                  "authentication failed: %s from %s, %s", code,
                  r->useragent_ip, token);
}

static int unauthorized(request_rec *r, const char *raw, const char *code,
                        const char *msg)
{
    audit_refusal(r, code, raw, NULL);
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   strcmp(code, "AUTHENTICATION_REQUIRED")
                       ? "Bearer error=\"invalid_token\"" : "Bearer");
    return mi_http_error(r, HTTP_UNAUTHORIZED, code, msg), 1;
}

/* The token of "Authorization: Bearer <token>", or NULL when the header
 * has another shape. The scheme is case-insensitive. */
static const char *bearer_token(const char *header)
{
    if (strncasecmp(header, "Bearer ", 7)) {
        return NULL;
    }
    header += 7;
    while (*header == ' ') {
        header++;
    }
    return header;
}

static int rate_limited(mi_req_t *req, int consume)
{
    mi_ratelimit_state_t st;

    if (req->conf->rate_limit <= 0 || !req->limiter) {
        return 0;
    }
    mi_ratelimit_check(req->limiter, req->r, req->caller.token_id,
                       req->conf->rate_limit, req->conf->rate_window,
                       consume, &st);
    mi_ratelimit_headers(req->r, &st);
    if (!st.allowed) {
        mi_metrics_rate_limited();
        mi_http_error(req->r, HTTP_TOO_MANY_REQUESTS, "RATE_LIMIT_EXCEEDED",
            apr_psprintf(req->r->pool, "Rate limit of %d requests per %d "
                         "seconds exceeded", st.limit,
                         req->conf->rate_window));
        return 1;
    }
    return 0;
}

/* Who called, for the access log (API.md section 11): REMOTE_USER (%u) is
 * the token's id; the notes integration-org and integration-id (%{...}n)
 * its organization and integration. */
static void identify(request_rec *r, const mi_token_info_t *tok)
{
    r->user = apr_pstrdup(r->pool, tok->id);
    r->ap_auth_type = "Bearer";
    apr_table_setn(r->notes, "integration-org", tok->organization_id);
    apr_table_setn(r->notes, "integration-id", tok->integration_id);
}

int mi_auth_gate(mi_req_t *req)
{
    request_rec *r = req->r;
    const char *header = apr_table_get(r->headers_in, "Authorization");
    const char *raw;
    mi_token_info_t tok;
    mi_result_e rc;
    mi_db_t *db;
    apr_int64_t now = mi_now_ms();

    if (!header) {
        return unauthorized(r, NULL, "AUTHENTICATION_REQUIRED",
                            "Authorization header is required");
    }
    raw = bearer_token(header);
    if (!raw || !mi_token_well_formed(raw)) {
        return unauthorized(r, raw, "INVALID_TOKEN_FORMAT",
                            "Authorization must be \"Bearer eudr_live_\" "
                            "followed by 48 lowercase hex characters");
    }
    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req), 1;
    }
    rc = mi_token_lookup(db, r->pool, raw, &tok);
    if (rc == MI_ERR_NOT_FOUND) {
        /* Not the route's 404: an unknown token is the gate's 401. */
        return unauthorized(r, raw, "INVALID_TOKEN", "Invalid API token");
    }
    if (rc != MI_OK) {
        return mi_http_result(req, rc, NULL), 1;
    }
    if (tok.revoked) {
        return unauthorized(r, raw, "TOKEN_REVOKED",
                            "API token has been revoked");
    }
    if (tok.expires_at >= 0 && tok.expires_at <= now) {
        return unauthorized(r, raw, "TOKEN_EXPIRED", "API token has expired");
    }
    req->caller.organization_id = tok.organization_id;
    req->caller.integration_id = tok.integration_id;
    req->caller.token_id = tok.id;
    identify(r, &tok);
    if (strcmp(tok.integration_status, "ACTIVE")) {
        audit_refusal(r, "INTEGRATION_INACTIVE", raw, tok.id);
        rate_limited(req, 0);
        mi_http_error(r, HTTP_FORBIDDEN, "INTEGRATION_INACTIVE",
                      apr_psprintf(r->pool, "Integration is %s; only ACTIVE "
                                   "integrations may call the API",
                                   tok.integration_status));
        return 1;
    }
    if (!mi_scopes_contain(tok.scopes, req->route->scope)) {
        audit_refusal(r, "INSUFFICIENT_SCOPES", raw, tok.id);
        rate_limited(req, 0);
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "Bearer error=\"insufficient_"
                                    "scope\", scope=\"%s\"",
                                    req->route->scope));
        mi_http_error(r, HTTP_FORBIDDEN, "INSUFFICIENT_SCOPES",
                      apr_psprintf(r->pool, "Token lacks the required scope "
                                   "%s", req->route->scope));
        return 1;
    }
    if (rate_limited(req, 1)) {
        return 1;
    }
    if (mi_token_touch(db, r->pool, &tok, now) != MI_OK) {
        /* Only bookkeeping: the request itself can still be served. */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, MI_LOGNO(00201)
                      "could not record token use: %s", db->error);
    }
    return 0;
}
