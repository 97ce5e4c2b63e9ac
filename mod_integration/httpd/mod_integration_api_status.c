/* mod_integration_api_status.c: the read-only status endpoints: DDS status of
 * a batch, sync status, sync logs (API.md sections 6 and 8). */
#include <string.h>
#include "mod_integration_api.h"
#include "mi_counts.h"
#include "mi_dds.h"
#include "mod_integration_http.h"
#include "mi_records.h"
#include "mi_synclog.h"
#include "mi_text.h"

#define MI_MAX_FILTER_IDS 500

int mi_api_dds(mi_req_t *req)
{
    request_rec *r = req->r;
    const unsigned char *key;
    const char *text;
    json_t *body;
    mi_result_e rc;
    mi_db_t *db;

    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    if (!(key = mi_api_listing_key(req, db))) {
        return OK;
    }
    if ((rc = mi_dds_status(db, r->pool, req->caller.organization_id,
                            req->param, &body)) != MI_OK) {
        return mi_http_result(req, rc, NULL);
    }
    /* Tagged by what it says: a DDS changes no version of its own. */
    if (!(text = mi_json_dump(r->pool, body))) {
        return mi_http_json(r, HTTP_OK, NULL);
    }
    return mi_api_tagged_json(req, key, text, strlen(text));
}

/* externalIds=A,B,C as a JSON array; NULL (and *err) when malformed. */
static const char *ids_filter(apr_pool_t *pool, const char *list,
                              const char **err)
{
    json_t *ids = mi_json_own(pool, json_array());
    char *copy = apr_pstrdup(pool, list), *tok, *state = NULL;

    for (tok = apr_strtok(copy, ",", &state); tok;
         tok = apr_strtok(NULL, ",", &state)) {
        if (mi_utf8_length(tok, strlen(tok)) > MI_STRING_MAX) {
            *err = "externalIds: each externalId must be at most 255 "
                   "characters";
            return NULL;
        }
        json_array_append_new(ids, json_string(tok));
    }
    if (json_array_size(ids) == 0 || json_array_size(ids) > MI_MAX_FILTER_IDS) {
        *err = "externalIds must list 1 to 500 comma-separated externalIds";
        return NULL;
    }
    return mi_json_dump(pool, ids);
}

static int sync_summary(mi_req_t *req)
{
    request_rec *r = req->r;
    json_t *body = mi_json_own(r->pool, json_object());
    apr_hash_t *totals;
    mi_result_e rc;
    mi_db_t *db;
    int i;

    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    if ((rc = mi_counts_all(db, r->pool, req->caller.organization_id,
                            &totals)) != MI_OK) {
        return mi_http_result(req, rc, NULL);
    }
    for (i = 0; mi_resources[i]; i++) {
        const apr_int64_t *n = apr_hash_get(totals,
                                            mi_resources[i]->entity_type,
                                            APR_HASH_KEY_STRING);
        json_int_t total = n ? (json_int_t)*n : 0;

        /* Every stored record is SYNCED: a failed record is not stored. */
        json_object_set_new(body, mi_resources[i]->plural,
                            json_pack("{s:I, s:I}", "total", total,
                                      "synced", total));
    }
    return mi_http_json(r, HTTP_OK, body);
}

int mi_api_sync_status(mi_req_t *req)
{
    request_rec *r = req->r;
    apr_table_t *query = req->query;
    const char *type = apr_table_get(query, "entityType");
    const char *ids = apr_table_get(query, "externalIds");
    const char *err = NULL;
    const mi_resource_t *res;
    mi_page_t page;
    mi_conditional_t cond = { NULL, NULL, NULL, 0 };
    mi_jsonw_t body;
    mi_result_e rc;
    mi_db_t *db;

    if (!type) {
        if (ids) {
            return mi_http_invalid(r, "externalIds needs entityType");
        }
        return sync_summary(req);
    }
    if (!(res = mi_resource_of_type(type))) {
        return mi_http_invalid(r, mi_entity_type_error);
    }
    if ((err = mi_page_parse(r->pool, query, 1, &page)) != NULL
        || (ids && !(page.ids = ids_filter(r->pool, ids, &err)))) {
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
    rc = mi_records_list(db, r->pool, res, req->caller.organization_id,
                         &page, req->conf->lists, &cond, &body);
    return mi_api_listing_answer(req, rc, &cond, &body);
}

int mi_api_sync_logs(mi_req_t *req)
{
    request_rec *r = req->r;
    apr_table_t *query = req->query;
    const char *type = apr_table_get(query, "entityType");
    const char *status = apr_table_get(query, "status");
    const char *err;
    mi_page_t page;
    json_t *body;
    mi_result_e rc;
    mi_db_t *db;

    if ((err = mi_page_parse(r->pool, query, 0, &page)) != NULL) {
        return mi_http_invalid(r, err);
    }
    if (type && !mi_resource_of_type(type)) {
        return mi_http_invalid(r, mi_entity_type_error);
    }
    if (status && !mi_synclog_status_valid(status)) {
        return mi_http_invalid(r, "status must be SUCCESS, PARTIAL, ERROR "
                                   "or IN_PROGRESS");
    }
    if (!(db = mi_req_db(req))) {
        return mi_http_unavailable(req);
    }
    if ((rc = mi_synclog_list(db, r->pool, req->caller.organization_id, type,
                              status, page.page, page.limit, &body))
            != MI_OK) {
        return mi_http_result(req, rc, NULL);
    }
    return mi_http_json(r, HTTP_OK, body);
}
