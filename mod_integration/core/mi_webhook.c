/* mi_webhook.c: webhooks of an integration, their secrets, signatures. */
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <apr_base64.h>
#include <apr_escape.h>
#include "mi_webhook.h"
#include "mi_crypto.h"
#include "mi_text.h"
#include "mi_time.h"

#define SECRET_PREFIX "whsec_"
#define SECRET_BYTES 32
#define URL_MAX 2048

/* The events of no one resource: a sync's outcome (mi_upsert) and DDS
 * status changes (mi_dds). */
static const char *const other_events[] = {
    "sync.completed", "sync.failed",
    "dds.status_changed", "dds.submitted", "dds.approved", NULL
};

const char *const *mi_webhook_events;

void mi_webhook_events_init(apr_pool_t *pool,
                            const mi_resource_t *const *resources)
{
    mi_webhook_events = mi_resource_events(pool, resources, other_events);
}

#define COLUMNS "id, url, events, active, failure_count, created_at, " \
                "updated_at"

static const mi_stmt_t insert_stmt = { "mi_webhook_insert", {
    "INSERT INTO webhooks (id, organization_id, integration_id, url, events, "
    "secret, active, failure_count, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, 1, 0, {bigint:%s}, "
    "{bigint:%s})",
    NULL } };

static const mi_stmt_t list_stmt = { "mi_webhook_list", {
    "SELECT " COLUMNS " FROM webhooks WHERE integration_id = %s "
    "ORDER BY created_at, id",
    NULL } };

static const mi_stmt_t get_stmt = { "mi_webhook_get", {
    "SELECT " COLUMNS " FROM webhooks WHERE id = %s AND integration_id = %s",
    NULL } };

static const mi_stmt_t target_stmt = { "mi_webhook_target", {
    "SELECT id, url, secret, integration_id, active, previous_secret, "
    "previous_secret_until FROM webhooks "
    "WHERE id = %s AND integration_id = %s",
    NULL } };

/* Re-activation (active from 0 to 1) resets the failure count. The
 * active parameter is '' (unchanged), '1' or '0'. */
static const mi_stmt_t update_stmt = { "mi_webhook_update", {
    "UPDATE webhooks SET url = COALESCE(%s, url), "
    "events = COALESCE(%s, events), "
    "failure_count = CASE WHEN %s = '1' AND active = 0 THEN 0 "
    "ELSE failure_count END, "
    "active = CASE WHEN %s = '' THEN active WHEN %s = '1' THEN 1 ELSE 0 END, "
    "updated_at = {bigint:%s} WHERE id = %s AND integration_id = %s",
    NULL } };

static const mi_stmt_t delete_stmt = { "mi_webhook_delete", {
    "DELETE FROM webhooks WHERE id = %s AND integration_id = %s",
    NULL } };

/* The secret replaced keeps signing until the overlap's end (the second
 * and third parameters; NULL: no overlap). The right-hand secret is the
 * row's before the update. */
static const mi_stmt_t rotate_stmt = { "mi_webhook_rotate", {
    "UPDATE webhooks SET previous_secret = CASE WHEN {bigint:%s} IS NULL "
    "THEN NULL ELSE secret END, previous_secret_until = {bigint:%s}, "
    "secret = %s, updated_at = {bigint:%s} "
    "WHERE id = %s AND integration_id = %s",
    NULL } };

/* A page of a webhook's deliveries, newest first, and their number: all
 * of them, or those of one state; each pair reads its own index
 * (migration 009). updated_at is the time of the last attempt once one
 * was made. */
#define DELIVERY_COLUMNS "SELECT d.id, d.event, d.state, d.attempts, " \
    "d.last_status, d.last_error, d.created_at, d.updated_at, " \
    "d.next_attempt_at FROM webhook_deliveries d "
#define NEWEST_FIRST "ORDER BY d.created_at DESC, d.id DESC " \
    "LIMIT {bigint:%s} OFFSET {bigint:%s}"

static const mi_stmt_t deliveries_stmt = { "mi_webhook_deliveries", {
    DELIVERY_COLUMNS "WHERE d.webhook_id = %s " NEWEST_FIRST,
    NULL } };

static const mi_stmt_t deliveries_of_state_stmt = {
    "mi_webhook_deliveries_of_state", {
    DELIVERY_COLUMNS "WHERE d.webhook_id = %s AND d.state = %s "
    NEWEST_FIRST,
    NULL } };

static const mi_stmt_t deliveries_count_stmt = {
    "mi_webhook_deliveries_count", {
    "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = %s",
    NULL } };

static const mi_stmt_t deliveries_of_state_count_stmt = {
    "mi_webhook_deliveries_of_state_count", {
    "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = %s "
    "AND state = %s",
    NULL } };

/* Queued again: due now, no attempt made, no outcome yet; never while
 * pending (in flight or waiting for a retry): that one goes on as it is. */
static const mi_stmt_t redeliver_stmt = { "mi_webhook_redeliver", {
    "UPDATE webhook_deliveries SET state = 'PENDING', attempts = 0, "
    "next_attempt_at = {bigint:%s}, lease_until = NULL, last_status = NULL, "
    "last_error = NULL, updated_at = {bigint:%s} "
    "WHERE id = %s AND webhook_id = %s AND state <> 'PENDING' "
    "AND webhook_id IN (SELECT id FROM webhooks WHERE integration_id = %s)",
    NULL } };

static const mi_stmt_t delivery_exists_stmt = { "mi_webhook_delivery_exists", {
    "SELECT d.state FROM webhook_deliveries d "
    "JOIN webhooks w ON w.id = d.webhook_id "
    "WHERE d.id = %s AND d.webhook_id = %s AND w.integration_id = %s",
    NULL } };

const char *mi_webhook_events_check(apr_pool_t *pool, const json_t *events)
{
    size_t i, j;

    if (!json_is_array(events) || json_array_size(events) == 0) {
        return "events must be a non-empty array of event names";
    }
    for (i = 0; i < json_array_size(events); i++) {
        const json_t *e = json_array_get(events, i);

        if (!json_is_string(e)) {
            return "events must be a non-empty array of event names";
        }
        /* The whole string: "sync.completed\u0000x" is no event. */
        if (strlen(json_string_value(e)) != json_string_length(e)
            || !mi_text_in(json_string_value(e), mi_webhook_events)) {
            return apr_psprintf(pool, "Unknown event \"%s\"",
                                json_string_value(e));
        }
        for (j = 0; j < i; j++) {
            if (json_equal(e, json_array_get(events, j))) {
                return apr_psprintf(pool, "Duplicate event \"%s\"",
                                    json_string_value(e));
            }
        }
    }
    return NULL;
}

/* The scheme message: what the server takes. */
static const char *scheme_error(int allow_http)
{
    return allow_http ? "url must be an absolute http or https URL"
                      : "url must be an absolute https URL";
}

static int has_prefix_nocase(const char *s, const char *prefix)
{
    return !strncasecmp(s, prefix, strlen(prefix));
}

/* What libcurl made of u: scheme, host and its literal address
 * (*reserved set when that is what is refused). */
static const char *parsed_check(CURLU *u, int allow_http,
                                const mi_egress_t *egress, int *reserved)
{
    char *scheme = NULL, *host = NULL;
    const char *err = NULL;
    unsigned char addr[16];
    int family;

    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
        || (strcmp(scheme, "https") && strcmp(scheme, "http"))) {
        err = scheme_error(allow_http);
    }
    else if (!strcmp(scheme, "http") && !allow_http) {
        err = scheme_error(0);
    }
    /* The host as it is looked up: an international name in its ASCII
     * form, where "１２７.０.０.１" is 127.0.0.1; one that has none cannot
     * be sent. */
    else if (curl_url_get(u, CURLUPART_HOST, &host, CURLU_PUNYCODE)
                 != CURLUE_OK || !*host) {
        err = "url must be an absolute URL with a host";
    }
    else if (mi_egress_literal(host, &family, addr)
             && !mi_egress_allows(egress, family, addr)) {
        err = MI_WEBHOOK_URL_RESERVED;
        *reserved = 1;
    }
    curl_free(scheme);
    curl_free(host);
    return err;
}

const char *mi_webhook_url_parse(const char *url, int allow_http,
                                 const mi_egress_t *egress, CURLU **parsed,
                                 int *reserved)
{
    const char *err, *host;
    int literal_refused = 0;
    CURLU *u;

    *parsed = NULL;
    if (reserved) {
        *reserved = 0;
    }
    if (strlen(url) > URL_MAX) {
        return "url must be at most 2048 characters";
    }
    if (has_prefix_nocase(url, "https://")) {
        host = url + 8;
    }
    else if (has_prefix_nocase(url, "http://")) {
        host = url + 7;
    }
    else {
        return scheme_error(allow_http);
    }
    /* libcurl reads "https:///h" as the host "h". */
    if (strchr("/:?#", *host)) {
        return "url must be an absolute URL with a host";
    }
    /* Characters libcurl would send as they are, where a URL has none. */
    if (strpbrk(url, " \t\r\n\"<>\\^`{|}")) {
        return "url must be an absolute URL with a host";
    }
    if (!(u = curl_url())) {
        return "url cannot be read now";
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return "url must be an absolute URL with a host";
    }
    if ((err = parsed_check(u, allow_http, egress, &literal_refused))) {
        if (reserved) {
            *reserved = literal_refused;
        }
        curl_url_cleanup(u);
        return err;
    }
    *parsed = u;
    return NULL;
}

const char *mi_webhook_url_check(const char *url, int allow_http,
                                 const mi_egress_t *egress)
{
    CURLU *u;
    const char *err = mi_webhook_url_parse(url, allow_http, egress, &u,
                                           NULL);

    curl_url_cleanup(u);
    return err;
}

char *mi_webhook_secret_new(apr_pool_t *pool)
{
    unsigned char raw[SECRET_BYTES];
    char *b64 = apr_palloc(pool, apr_base64_encode_len(SECRET_BYTES));

    if (mi_random_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        return NULL;
    }
    apr_base64_encode(b64, (const char *)raw, SECRET_BYTES);
    return apr_pstrcat(pool, SECRET_PREFIX, b64, NULL);
}

apr_status_t mi_webhook_hmac(apr_pool_t *pool, const char *secret,
                             const char *msg, apr_size_t len,
                             const char **hex, const char **b64)
{
    const char *enc = secret + strlen(SECRET_PREFIX);
    char *key = apr_palloc(pool, apr_base64_decode_len(enc) + 1);
    int key_len = apr_base64_decode(key, enc);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char *b;

    if (strncmp(secret, SECRET_PREFIX, strlen(SECRET_PREFIX))
        || !HMAC(EVP_sha256(), key, key_len, (const unsigned char *)msg, len,
                 mac, &mac_len)) {
        return APR_EGENERAL;
    }
    b = apr_palloc(pool, apr_base64_encode_len((int)mac_len));
    apr_base64_encode(b, (const char *)mac, (int)mac_len);
    *hex = apr_pescape_hex(pool, mac, mac_len, 0);
    *b64 = b;
    return APR_SUCCESS;
}

const char *mi_webhook_signature_v1(apr_pool_t *pool, const char *secret,
                                    const char *previous, const char *msg,
                                    apr_size_t len)
{
    const char *hex, *b64, *old_b64;

    if (mi_webhook_hmac(pool, secret, msg, len, &hex, &b64) != APR_SUCCESS) {
        return NULL;
    }
    if (!previous) {
        return apr_pstrcat(pool, "v1,", b64, NULL);
    }
    if (mi_webhook_hmac(pool, previous, msg, len, &hex, &old_b64)
            != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrcat(pool, "v1,", b64, " v1,", old_b64, NULL);
}

const char *mi_webhook_rotation_read(const json_t *body, int *overlap_seconds)
{
    const json_t *v = json_object_get(body, "overlapSeconds");

    *overlap_seconds = MI_WEBHOOK_OVERLAP_DEFAULT;
    if (!v) {
        return NULL;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0
        || json_integer_value(v) > MI_WEBHOOK_OVERLAP_MAX) {
        return "overlapSeconds must be an integer from 0 to 604800";
    }
    *overlap_seconds = (int)json_integer_value(v);
    return NULL;
}

int mi_webhook_delivery_status_valid(const char *status)
{
    return !strcmp(status, "PENDING") || !strcmp(status, "DELIVERED")
           || !strcmp(status, "FAILED");
}

static json_t *webhook_json(apr_pool_t *pool, const char **r)
{
    json_t *events = json_loads(r[2], 0, NULL);

    return json_pack("{s:s, s:s, s:o, s:b, s:I, s:s, s:s}", "id", r[0],
                     "url", r[1], "events", events ? events : json_array(),
                     "active", r[3] && strcmp(r[3], "0"),
                     "failureCount", (json_int_t)apr_atoi64(r[4]),
                     "createdAt", mi_time_iso(pool, apr_atoi64(r[5])),
                     "updatedAt", mi_time_iso(pool, apr_atoi64(r[6])));
}

mi_result_e mi_webhook_create(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *url,
                              const json_t *events, json_t **body)
{
    const char *args[8];
    const char *now = mi_db_int(pool, mi_now_ms());
    char *secret = mi_webhook_secret_new(pool);

    if (!secret || !(args[0] = mi_id_new(pool, "wh_"))) {
        return MI_ERR_INTERNAL;
    }
    args[1] = caller->organization_id;
    args[2] = caller->integration_id;
    args[3] = url;
    args[4] = mi_json_dump(pool, events);
    args[5] = secret;
    args[6] = args[7] = now;
    if (mi_db_exec(db, pool, &insert_stmt, NULL, 8, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    /* The secret is shown here, once (and on rotation). */
    *body = mi_json_own(pool, json_pack("{s:s, s:s, s:O, s:b, s:s, s:s}",
        "id", args[0], "url", url, "events", events, "active", 1,
        "secret", secret, "createdAt", mi_time_iso(pool, apr_atoi64(now))));
    return MI_OK;
}

mi_result_e mi_webhook_list(mi_db_t *db, apr_pool_t *pool,
                            const mi_caller_t *caller, json_t **body)
{
    mi_rows_t rows;
    json_t *data;
    int i;

    if (mi_db_select(db, pool, &list_stmt, &rows, 1, &caller->integration_id)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    data = json_array();
    for (i = 0; i < rows.nrows; i++) {
        json_array_append_new(data, webhook_json(pool, rows.rows[i]));
    }
    *body = mi_json_own(pool, json_pack("{s:o, s:i}", "data", data,
                                        "total", rows.nrows));
    return MI_OK;
}

mi_result_e mi_webhook_get(mi_db_t *db, apr_pool_t *pool,
                           const mi_caller_t *caller, const char *id,
                           json_t **body)
{
    const char *args[2] = { id, caller->integration_id };
    mi_rows_t rows;

    if (mi_db_select(db, pool, &get_stmt, &rows, 2, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (rows.nrows == 0) {
        return MI_ERR_NOT_FOUND;
    }
    *body = mi_json_own(pool, webhook_json(pool, rows.rows[0]));
    return MI_OK;
}

mi_result_e mi_webhook_update(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *id,
                              const char *url, const json_t *events,
                              int active, json_t **body)
{
    const char *args[8];
    int n = 0;

    args[0] = url;
    args[1] = events ? mi_json_dump(pool, events) : NULL;
    args[2] = active < 0 ? "" : active ? "1" : "0";
    args[3] = args[4] = args[2];
    args[5] = mi_db_int(pool, mi_now_ms());
    args[6] = id;
    args[7] = caller->integration_id;
    if (mi_db_exec(db, pool, &update_stmt, &n, 8, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (n == 0) {
        return MI_ERR_NOT_FOUND;
    }
    return mi_webhook_get(db, pool, caller, id, body);
}

mi_result_e mi_webhook_delete(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *id)
{
    const char *args[2] = { id, caller->integration_id };
    int n = 0;

    if (mi_db_exec(db, pool, &delete_stmt, &n, 2, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    return n ? MI_OK : MI_ERR_NOT_FOUND;
}

mi_result_e mi_webhook_rotate(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *id,
                              int overlap_seconds, json_t **body)
{
    const char *args[6];
    char *secret = mi_webhook_secret_new(pool);
    apr_int64_t now = mi_now_ms();
    apr_int64_t until = now + (apr_int64_t)overlap_seconds * 1000;
    int n = 0;

    if (!secret) {
        return MI_ERR_INTERNAL;
    }
    args[0] = args[1] = overlap_seconds > 0 ? mi_db_int(pool, until) : NULL;
    args[2] = secret;
    args[3] = mi_db_int(pool, now);
    args[4] = id;
    args[5] = caller->integration_id;
    if (mi_db_exec(db, pool, &rotate_stmt, &n, 6, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (n == 0) {
        return MI_ERR_NOT_FOUND;
    }
    *body = mi_json_own(pool, json_pack("{s:s, s:s, s:o}", "id", id,
        "secret", secret, "previousSecretExpiresAt",
        mi_json_time_or_null(pool, args[0])));
    return MI_OK;
}

/* A delivery as the listing shows it. Leased (in flight) is PENDING as
 * well; lastAttemptAt once an attempt was made, nextAttemptAt while
 * pending. */
static json_t *delivery_json(apr_pool_t *pool, const char **r)
{
    int attempted = apr_atoi64(r[3]) > 0;
    int pending = !strcmp(r[2], "PENDING");

    return json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}",
        "id", r[0], "event", r[1], "status", r[2],
        "attempts", (json_int_t)apr_atoi64(r[3]),
        "lastStatusCode", r[4] ? json_integer(apr_atoi64(r[4]))
                               : json_null(),
        "lastError", mi_json_string_or_null(r[5]),
        "createdAt", mi_json_time_or_null(pool, r[6]),
        "lastAttemptAt", mi_json_time_or_null(pool, attempted ? r[7] : NULL),
        "nextAttemptAt", mi_json_time_or_null(pool, pending ? r[8] : NULL));
}

mi_result_e mi_webhook_deliveries(mi_db_t *db, apr_pool_t *pool,
                                  const mi_caller_t *caller, const char *id,
                                  const char *status, int page, int limit,
                                  json_t **body)
{
    const char *args[4];
    json_t *hook, *data;
    mi_rows_t rows, count;
    mi_result_e rc;
    int n = 0, i;

    if ((rc = mi_webhook_get(db, pool, caller, id, &hook)) != MI_OK) {
        return rc;
    }
    args[n++] = id;
    if (status) {
        args[n++] = status;
    }
    args[n] = apr_itoa(pool, limit);
    args[n + 1] = mi_db_int(pool, (apr_int64_t)(page - 1) * limit);
    if (mi_db_select(db, pool, status ? &deliveries_of_state_stmt
                                      : &deliveries_stmt, &rows, n + 2, args)
            != APR_SUCCESS
        || mi_db_select(db, pool, status ? &deliveries_of_state_count_stmt
                                         : &deliveries_count_stmt, &count, n,
                        args) != APR_SUCCESS
        || count.nrows != 1) {
        return mi_db_failure(db);
    }
    data = json_array();
    for (i = 0; i < rows.nrows; i++) {
        json_array_append_new(data, delivery_json(pool, rows.rows[i]));
    }
    *body = mi_json_own(pool, json_pack("{s:o, s:I, s:i, s:i}", "data", data,
        "total", (json_int_t)apr_atoi64(count.rows[0][0]), "page", page,
        "limit", limit));
    return MI_OK;
}

mi_result_e mi_webhook_redeliver(mi_db_t *db, apr_pool_t *pool,
                                 const mi_caller_t *caller, const char *id,
                                 const char *delivery_id)
{
    const char *now = mi_db_int(pool, mi_now_ms());
    const char *args[5] = { now, now, delivery_id, id,
                            caller->integration_id };
    mi_rows_t rows;
    int n = 0;

    if (mi_db_exec(db, pool, &redeliver_stmt, &n, 5, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (n > 0) {
        return MI_OK;
    }
    /* Not queued: no such delivery, or one still pending. */
    if (mi_db_select(db, pool, &delivery_exists_stmt, &rows, 3, args + 2)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    return rows.nrows ? MI_ERR_CONFLICT : MI_ERR_NOT_FOUND;
}

mi_result_e mi_webhook_target(mi_db_t *db, apr_pool_t *pool,
                              const mi_caller_t *caller, const char *id,
                              mi_webhook_target_t *target)
{
    const char *args[2] = { id, caller->integration_id };
    mi_rows_t rows;

    if (mi_db_select(db, pool, &target_stmt, &rows, 2, args)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (rows.nrows == 0) {
        return MI_ERR_NOT_FOUND;
    }
    target->id = rows.rows[0][0];
    target->url = rows.rows[0][1];
    target->secret = rows.rows[0][2];
    target->integration_id = rows.rows[0][3];
    target->active = strcmp(rows.rows[0][4], "0") != 0;
    target->previous_secret = rows.rows[0][5];
    target->previous_secret_until = rows.rows[0][6]
                                        ? apr_atoi64(rows.rows[0][6]) : 0;
    return MI_OK;
}
