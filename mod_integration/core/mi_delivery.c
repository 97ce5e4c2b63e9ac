/* mi_delivery.c: sending webhook deliveries from the outbox. */
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <apr_hash.h>
#include "mi_delivery.h"
#include "mi_json.h"
#include "mi_time.h"
#include "mi_webhook.h"

#define USER_AGENT "EUDR-Platform-Webhook/1.0"
/* A lease covers one attempt: the timeout, and this for the claim and the
 * record around it. A node that dies holding one is replaced this soon. */
#define LEASE_MARGIN_MS 5000

/* Fair claiming, step one (a read): per active webhook, how many of its
 * deliveries are in flight (leased, on any node), its first due ones not
 * leased, oldest first, at most MI_DELIVERY_PER_WEBHOOK, and its
 * consecutive failures. Two indexes keep it to a few rows per webhook
 * whatever its backlog (migration 008). */
static const mi_stmt_t due_stmt = { "mi_delivery_due", {
    "SELECT w.id, (SELECT COUNT(*) FROM webhook_deliveries l "
    "WHERE l.webhook_id = w.id AND l.lease_until >= {bigint:%s} "
    "AND l.state = 'PENDING'), "
    "(SELECT group_concat(id, ',') FROM (SELECT x.id FROM "
    "webhook_deliveries x WHERE x.webhook_id = w.id AND x.state = 'PENDING' "
    "AND x.next_attempt_at <= {bigint:%s} AND (x.lease_until IS NULL "
    "OR x.lease_until < {bigint:%s}) ORDER BY x.next_attempt_at, x.id "
    "LIMIT {bigint:%s})), w.failure_count "
    "FROM webhooks w WHERE w.active = 1",
    "SELECT w.id, (SELECT COUNT(*) FROM webhook_deliveries l "
    "WHERE l.webhook_id = w.id AND l.lease_until >= {bigint:%s} "
    "AND l.state = 'PENDING'), "
    "(SELECT string_agg(q.id, ',' ORDER BY q.next_attempt_at, q.id) FROM "
    "(SELECT x.id, x.next_attempt_at FROM webhook_deliveries x "
    "WHERE x.webhook_id = w.id AND x.state = 'PENDING' "
    "AND x.next_attempt_at <= {bigint:%s} AND (x.lease_until IS NULL "
    "OR x.lease_until < {bigint:%s}) ORDER BY x.next_attempt_at, x.id "
    "LIMIT {bigint:%s}) q), w.failure_count "
    "FROM webhooks w WHERE w.active = 1" } };

/* Step two: the lease, on those still free (another node may have taken
 * some since the read). */
static const mi_stmt_t claim_stmt = { "mi_delivery_claim", {
    "UPDATE webhook_deliveries SET lease_until = {bigint:%s} "
    "WHERE id IN (SELECT value FROM json_each(%s)) AND state = 'PENDING' "
    "AND (lease_until IS NULL OR lease_until < {bigint:%s}) "
    "RETURNING id",
    "UPDATE webhook_deliveries SET lease_until = {bigint:%s} "
    "WHERE id IN (SELECT jsonb_array_elements_text(CAST(%s AS jsonb))) "
    "AND state = 'PENDING' "
    "AND (lease_until IS NULL OR lease_until < {bigint:%s}) "
    "RETURNING id" } };

static const mi_stmt_t details_stmt = { "mi_delivery_details", {
    "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, "
    "d.event_time, d.attempts, w.previous_secret, w.previous_secret_until "
    "FROM webhook_deliveries d "
    "JOIN webhooks w ON w.id = d.webhook_id "
    "WHERE d.id IN (SELECT value FROM json_each(%s))",
    "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, "
    "d.event_time, d.attempts, w.previous_secret, w.previous_secret_until "
    "FROM webhook_deliveries d "
    "JOIN webhooks w ON w.id = d.webhook_id "
    "WHERE d.id IN (SELECT jsonb_array_elements_text(CAST(%s AS jsonb)))" } };

/* The deliveries of a batch that succeeded, (id, HTTP status) rows. */
static const mi_stmt_t delivered_stmt = { "mi_delivery_delivered", {
    "WITH v(id, status) AS (VALUES {rows}) "
    "UPDATE webhook_deliveries SET state = 'DELIVERED', "
    "attempts = attempts + 1, last_status = {integer:v.status}, "
    "last_error = NULL, lease_until = NULL, "
    "updated_at = {bigint:%s} FROM v "
    "WHERE webhook_deliveries.id = v.id",
    NULL }, 2 };

/* Their webhooks, (id) rows: no consecutive failures any more. (Only
 * those that had some: a webhook's row is not rewritten for every batch
 * of its deliveries.) */
static const mi_stmt_t healthy_stmt = { "mi_delivery_healthy", {
    "WITH v(id) AS (VALUES {rows}) "
    "UPDATE webhooks SET failure_count = 0 WHERE id IN (SELECT id FROM v) "
    "AND failure_count <> 0",
    NULL }, 1 };

/* One more consecutive failure; disabled at the limit or on 410. (The
 * CAST matters on SQLite too: an expression compared with a text parameter
 * is compared as text.) */
static const mi_stmt_t failed_hook_stmt = { "mi_delivery_failed_hook", {
    "UPDATE webhooks SET failure_count = failure_count + 1, "
    "active = CASE WHEN %s = '1' OR failure_count + 1 >= CAST(%s AS INTEGER) "
    "THEN 0 ELSE active END WHERE id = %s RETURNING active",
    NULL } };

static const mi_stmt_t failed_stmt = { "mi_delivery_failed", {
    "UPDATE webhook_deliveries SET state = %s, attempts = attempts + 1, "
    "last_status = {integer:%s}, last_error = %s, "
    "next_attempt_at = {bigint:%s}, lease_until = NULL, "
    "updated_at = {bigint:%s} WHERE id = %s",
    NULL } };

/* Claimed and not sent (the process is stopping), (id) rows: due again
 * at once, for whichever process claims next. */
static const mi_stmt_t unclaim_stmt = { "mi_delivery_unclaim", {
    "WITH v(id) AS (VALUES {rows}) "
    "UPDATE webhook_deliveries SET lease_until = NULL "
    "WHERE id IN (SELECT id FROM v) AND state = 'PENDING'",
    NULL }, 1 };

/* A disabled webhook receives nothing more, queued or not. */
static const mi_stmt_t drop_stmt = { "mi_delivery_drop", {
    "UPDATE webhook_deliveries SET state = 'FAILED', "
    "last_error = 'webhook disabled', lease_until = NULL "
    "WHERE webhook_id = %s AND state = 'PENDING'",
    NULL } };

apr_status_t mi_delivery_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? APR_SUCCESS
                                                           : APR_EGENERAL;
}

static size_t discard(char *ptr, size_t size, size_t n, void *data)
{
    (void)ptr;
    (void)data;
    return size * n;
}

/* The headers of an attempt at time now, signed (API.md section 9): the
 * Standard Webhooks signature with the previous secret too while a
 * rotation's overlap lasts. */
static struct curl_slist *headers_of(apr_pool_t *pool, const mi_delivery_t *d,
                                     apr_time_t now)
{
    char iso[MI_ISO_LEN + 1];
    const char *hex, *b64, *unix_ts, *v1;
    const char *previous = d->previous_secret
                           && apr_time_as_msec(now) < d->previous_secret_until
                           ? d->previous_secret : NULL;
    struct curl_slist *h = NULL;
    apr_size_t len = strlen(d->payload);

    mi_time_iso_buf(iso, d->event_time);
    unix_ts = apr_psprintf(pool, "%" APR_TIME_T_FMT, apr_time_sec(now));
    if (mi_webhook_hmac(pool, d->secret,
                        apr_pstrcat(pool, iso, ".", d->payload, NULL),
                        strlen(iso) + 1 + len, &hex, &b64) != APR_SUCCESS
        || !(v1 = mi_webhook_signature_v1(pool, d->secret, previous,
                 apr_pstrcat(pool, d->id, ".", unix_ts, ".", d->payload,
                             NULL),
                 strlen(d->id) + 1 + strlen(unix_ts) + 1 + len))) {
        return NULL;
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, apr_pstrcat(pool, "X-Webhook-Event: ", d->event,
                                         NULL));
    h = curl_slist_append(h, apr_pstrcat(pool, "X-Webhook-Id: ",
                                         d->webhook_id, NULL));
    h = curl_slist_append(h, apr_pstrcat(pool, "X-Webhook-Timestamp: ", iso,
                                         NULL));
    h = curl_slist_append(h, apr_pstrcat(pool, "X-Webhook-Signature: sha256=",
                                         hex, NULL));
    h = curl_slist_append(h, apr_pstrcat(pool, "X-Webhook-Delivery: ", d->id,
                                         NULL));
    /* Standard Webhooks 1.0: id.timestamp.body, timestamp of this attempt. */
    h = curl_slist_append(h, apr_pstrcat(pool, "webhook-id: ", d->id, NULL));
    h = curl_slist_append(h, apr_pstrcat(pool, "webhook-timestamp: ",
                                         unix_ts, NULL));
    h = curl_slist_append(h, apr_pstrcat(pool, "webhook-signature: ", v1,
                                         NULL));
    h = curl_slist_append(h, "Expect:");
    return h;
}

/* Every connection of an attempt, to the receiver or to the proxy, is
 * opened here: to the receiver only at an address egress allows; the
 * proxy is the operator's, and decides where it connects. */
static curl_socket_t open_checked(void *data, curlsocktype purpose,
                                  struct curl_sockaddr *to)
{
    mi_attempt_t *a = data;

    if (!a->egress->proxy
        && !mi_egress_allows_sockaddr(a->egress, &to->addr)) {
        a->refused++;
        return CURL_SOCKET_BAD;
    }
    a->opened++;
    (void)purpose;
    return socket(to->family, to->socktype, to->protocol);
}

/* Whether the URL's host is "localhost" or below it, in any case, with
 * or without the final dot. */
static int names_loopback(CURLU *url)
{
    char *host = NULL;
    size_t len;
    int loopback = 0;

    if (curl_url_get(url, CURLUPART_HOST, &host, CURLU_PUNYCODE) == CURLUE_OK) {
        len = strlen(host);
        if (len && host[len - 1] == '.') {
            host[--len] = '\0';
        }
        loopback = !strcasecmp(host, "localhost")
                   || (len > 10 && !strcasecmp(host + len - 10, ".localhost"));
    }
    curl_free(host);
    return loopback;
}

/* Where and how an attempt connects: the URL as libcurl parsed it (the
 * same parse that checked it), egress's rule, proxy and CA bundle. */
static const char *set_destination(const mi_delivery_conf_t *conf,
                                   const mi_delivery_t *d, mi_attempt_t *a)
{
    const mi_egress_t *egress = &conf->egress;
    int reserved;
    const char *err = mi_webhook_url_parse(d->url, conf->allow_http, egress,
                                           &a->url, &reserved);

    if (err) {
        return reserved ? MI_DELIVERY_REFUSED : err;
    }
    /* Through a proxy, names are the proxy's to resolve; those that mean
     * this machine to libcurl are refused here. */
    if (egress->proxy && names_loopback(a->url)) {
        return MI_DELIVERY_REFUSED;
    }
    a->egress = egress;
    curl_easy_setopt(a->easy, CURLOPT_CURLU, a->url);
    curl_easy_setopt(a->easy, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(a->easy, CURLOPT_OPENSOCKETDATA, a);
    /* "": no proxy, whatever the environment of httpd says; and every
     * host through the proxy when there is one. */
    curl_easy_setopt(a->easy, CURLOPT_PROXY, egress->proxy ? egress->proxy
                                                           : "");
    curl_easy_setopt(a->easy, CURLOPT_NOPROXY, "");
    /* The file alone: libcurl would also read its built-in directory of
     * the system's CAs. */
    if (egress->cafile) {
        curl_easy_setopt(a->easy, CURLOPT_CAINFO, egress->cafile);
        curl_easy_setopt(a->easy, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(a->easy, CURLOPT_PROXY_CAINFO, egress->cafile);
        curl_easy_setopt(a->easy, CURLOPT_PROXY_CAPATH, NULL);
    }
    return NULL;
}

const char *mi_delivery_prepare(apr_pool_t *pool,
                                const mi_delivery_conf_t *conf,
                                const mi_delivery_t *d, mi_attempt_t *a)
{
    const char *err;

    memset(a, 0, sizeof(*a));
    a->start = apr_time_now();
    if (!(a->headers = headers_of(pool, d, a->start))) {
        return "cannot sign the delivery";
    }
    if (!(a->easy = curl_easy_init())) {
        mi_delivery_release(a);
        return "cannot start an HTTP client";
    }
    if ((err = set_destination(conf, d, a))) {
        mi_delivery_release(a);
        return err;
    }
    curl_easy_setopt(a->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(a->easy, CURLOPT_POSTFIELDS, d->payload);
    curl_easy_setopt(a->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(d->payload));
    curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, a->headers);
    curl_easy_setopt(a->easy, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(a->easy, CURLOPT_TIMEOUT_MS,
                     (long)apr_time_as_msec(conf->timeout));
    curl_easy_setopt(a->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(a->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(a->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(a->easy, CURLOPT_WRITEFUNCTION, discard);
    return NULL;
}

void mi_delivery_outcome(apr_pool_t *pool, const mi_attempt_t *a,
                         int rc, mi_send_result_t *result)
{
    long status = 0;

    memset(result, 0, sizeof(*result));
    if (rc == CURLE_OK) {
        curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &status);
        result->status = (int)status;
        result->success = status >= 200 && status < 300;
        if (!result->success) {
            result->error = apr_psprintf(pool, "HTTP %ld", status);
        }
    }
    else {
        /* Refused only when no allowed address was tried: a failure at
         * one that was is its own. */
        result->error = a->refused && !a->opened
                            ? MI_DELIVERY_REFUSED
                            : apr_pstrdup(pool, curl_easy_strerror(rc));
    }
    result->duration_ms = apr_time_as_msec(apr_time_now() - a->start);
}

void mi_delivery_release(mi_attempt_t *a)
{
    if (a->easy) {
        curl_easy_cleanup(a->easy);
    }
    curl_url_cleanup(a->url);
    curl_slist_free_all(a->headers);
    memset(a, 0, sizeof(*a));
}

void mi_delivery_send(apr_pool_t *pool, const mi_delivery_conf_t *conf,
                      const mi_delivery_t *d, mi_send_result_t *result)
{
    mi_attempt_t a;
    const char *error = mi_delivery_prepare(pool, conf, d, &a);

    if (error) {
        memset(result, 0, sizeof(*result));
        result->error = error;
        return;
    }
    mi_delivery_outcome(pool, &a, curl_easy_perform(a.easy), result);
    mi_delivery_release(&a);
}

/* Round-robin over the webhooks' due lists ("a,b,c"): every webhook's
 * first before any webhook's second, room[i] at most from list i, and at
 * most *failing_room from the lists of failing webhooks together. */
static json_t *take_in_turn(apr_pool_t *pool, const mi_rows_t *due,
                            const int *failing, int *room, int failing_room,
                            int max)
{
    json_t *ids = mi_json_own(pool, json_array());
    char **next = apr_pcalloc(pool, (due->nrows + 1) * sizeof(*next));
    int i, taken = 0, more = 1;

    for (i = 0; i < due->nrows; i++) {
        next[i] = due->rows[i][2] ? apr_pstrdup(pool, due->rows[i][2]) : NULL;
    }
    while (more && taken < max) {
        more = 0;
        for (i = 0; i < due->nrows && taken < max; i++) {
            char *id = next[i], *comma;

            if (!id || !*id || room[i] <= 0
                || (failing[i] && failing_room <= 0)) {
                continue;
            }
            if ((comma = strchr(id, ','))) {
                *comma = '\0';
            }
            next[i] = comma ? comma + 1 : NULL;
            room[i]--;
            failing_room -= failing[i];
            json_array_append_new(ids, json_string(id));
            taken++;
            more = 1;
        }
    }
    return ids;
}

apr_status_t mi_delivery_claim(mi_db_t *db, apr_pool_t *pool,
                               const mi_delivery_conf_t *conf, int max,
                               apr_array_header_t **claimed)
{
    apr_int64_t now = mi_now_ms();
    const char *args[4];
    json_t *ids;
    mi_rows_t rows;
    int *room, *failing, failing_room;
    int i;

    *claimed = apr_array_make(pool, max > 0 ? max : 1, sizeof(mi_delivery_t));
    if (max <= 0) {
        return APR_SUCCESS;
    }
    /* A read first: most rounds find nothing due, and the claim is a
     * write (on SQLite, the lock that requests need). */
    args[0] = args[1] = args[2] = mi_db_int(pool, now);
    args[3] = apr_itoa(pool, MI_DELIVERY_PER_WEBHOOK);
    if (mi_db_select(db, pool, &due_stmt, &rows, 4, args) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* A webhook whose last attempt failed (a receiver down, or one that
     * hangs until the timeout) gets one attempt at a time, and all such
     * webhooks together at most half of the concurrency: however many
     * webhooks a tenant points at receivers that hang, the others keep
     * the rest of the room. A success gives the webhook its 8 again. */
    room = apr_pcalloc(pool, (rows.nrows + 1) * sizeof(*room));
    failing = apr_pcalloc(pool, (rows.nrows + 1) * sizeof(*failing));
    failing_room = (conf->concurrency > 0 ? conf->concurrency : max) / 2;
    failing_room = failing_room > 0 ? failing_room : 1;
    for (i = 0; i < rows.nrows; i++) {
        int busy = atoi(rows.rows[i][1]);

        failing[i] = atoi(rows.rows[i][3]) > 0;
        room[i] = (failing[i] ? 1 : MI_DELIVERY_PER_WEBHOOK) - busy;
        failing_room -= failing[i] ? busy : 0;
    }
    ids = take_in_turn(pool, &rows, failing, room, failing_room, max);
    if (json_array_size(ids) == 0) {
        return APR_SUCCESS;
    }
    args[0] = mi_db_int(pool, now + apr_time_as_msec(conf->timeout)
                                  + LEASE_MARGIN_MS);
    args[1] = mi_json_dump(pool, ids);
    args[2] = mi_db_int(pool, now);
    if (mi_db_select(db, pool, &claim_stmt, &rows, 3, args) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (rows.nrows == 0) {
        return APR_SUCCESS;
    }
    /* The details, in the order of the turns (the claim's RETURNING and
     * the details' order are the database's own). */
    {
        apr_hash_t *leased = apr_hash_make(pool);
        apr_hash_t *by_id = apr_hash_make(pool);
        json_t *got = mi_json_own(pool, json_array());
        size_t k;

        for (i = 0; i < rows.nrows; i++) {
            apr_hash_set(leased, rows.rows[i][0], APR_HASH_KEY_STRING, "");
            json_array_append_new(got, json_string(rows.rows[i][0]));
        }
        args[0] = mi_json_dump(pool, got);
        if (mi_db_select(db, pool, &details_stmt, &rows, 1, args)
                != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        for (i = 0; i < rows.nrows; i++) {
            apr_hash_set(by_id, rows.rows[i][0], APR_HASH_KEY_STRING,
                         rows.rows[i]);
        }
        for (k = 0; k < json_array_size(ids); k++) {
            const char *id = json_string_value(json_array_get(ids, k));
            const char **r = apr_hash_get(by_id, id, APR_HASH_KEY_STRING);
            mi_delivery_t *d;

            if (!r || !apr_hash_get(leased, id, APR_HASH_KEY_STRING)) {
                continue;
            }
            d = apr_array_push(*claimed);
            d->id = r[0];
            d->webhook_id = r[1];
            d->url = r[2];
            d->secret = r[3];
            d->event = r[4];
            d->payload = r[5];
            d->event_time = apr_atoi64(r[6]);
            d->attempts = atoi(r[7]);
            d->previous_secret = r[8];
            d->previous_secret_until = r[9] ? apr_atoi64(r[9]) : 0;
        }
    }
    return APR_SUCCESS;
}

/* Records one failed attempt, inside the caller's transaction. */
static apr_status_t record_failure(mi_db_t *db, apr_pool_t *pool,
                                   const mi_delivery_conf_t *conf,
                                   const mi_delivery_t *d,
                                   const mi_send_result_t *result)
{
    apr_int64_t now = mi_now_ms();
    const char *args[6];
    mi_rows_t rows;
    int disabled, retry;

    args[0] = result->status == 410 ? "1" : "0";
    args[1] = apr_itoa(pool, conf->disable_after);
    args[2] = d->webhook_id;
    if (mi_db_select(db, pool, &failed_hook_stmt, &rows, 3, args)
            != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    disabled = rows.nrows == 0 || !strcmp(rows.rows[0][0], "0");
    retry = !disabled && d->attempts < conf->ndelays;
    args[0] = retry ? "PENDING" : "FAILED";
    args[1] = result->status ? apr_itoa(pool, result->status) : NULL;
    args[2] = result->error;
    args[3] = mi_db_int(pool, retry ? now + apr_time_as_msec(
                                          conf->delays[d->attempts])
                                    : now);
    args[4] = mi_db_int(pool, now);
    args[5] = d->id;
    if (mi_db_exec(db, pool, &failed_stmt, NULL, 6, args) != APR_SUCCESS
        || (disabled && mi_db_exec(db, pool, &drop_stmt, NULL, 1,
                                   &d->webhook_id) != APR_SUCCESS)) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* Records the outcome of a batch in one transaction: the successes with
 * two statements for all of them, then each failure, which counts towards
 * disabling its webhook. */
apr_status_t mi_delivery_finish(mi_db_t *db, apr_pool_t *pool,
                                const mi_delivery_conf_t *conf,
                                const apr_array_header_t *claimed, int sent,
                                const mi_send_result_t *results)
{
    int n = sent, ok = 0, i;
    const char ***done = apr_palloc(pool, (n + 1) * sizeof(*done));
    const char *const **hooks = apr_palloc(pool, (n + 1) * sizeof(*hooks));
    const char *const **unsent = apr_palloc(pool, (claimed->nelts - n + 1)
                                                  * sizeof(*unsent));
    const char *now = mi_db_int(pool, mi_now_ms());

    for (i = 0; i < n; i++) {
        const mi_delivery_t *d = &APR_ARRAY_IDX(claimed, i, mi_delivery_t);
        const char **row;

        if (!results[i].success) {
            continue;
        }
        row = apr_palloc(pool, 2 * sizeof(*row));
        row[0] = d->id;
        row[1] = apr_itoa(pool, results[i].status);
        done[ok] = row;
        hooks[ok++] = &d->webhook_id;
    }
    if (mi_db_begin(db, pool) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (mi_db_write_rows(db, pool, &delivered_stmt, ok,
                         (const char *const *const *)done, 1, &now, NULL)
            != APR_SUCCESS
        || mi_db_write_rows(db, pool, &healthy_stmt, ok, hooks, 0, NULL,
                            NULL) != APR_SUCCESS) {
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    for (i = n; i < claimed->nelts; i++) {
        unsent[i - n] = &APR_ARRAY_IDX(claimed, i, mi_delivery_t).id;
    }
    if (mi_db_write_rows(db, pool, &unclaim_stmt, claimed->nelts - n, unsent,
                         0, NULL, NULL) != APR_SUCCESS) {
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    for (i = 0; i < n; i++) {
        if (!results[i].success
            && record_failure(db, pool, conf,
                              &APR_ARRAY_IDX(claimed, i, mi_delivery_t),
                              &results[i]) != APR_SUCCESS) {
            mi_db_rollback(db);
            return APR_EGENERAL;
        }
    }
    return mi_db_commit(db);
}
