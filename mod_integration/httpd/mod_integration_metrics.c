/* mod_integration_metrics.c: the counters' shared table and what adds to
 * it (see mod_integration_metrics.h). Each count is one atomic addition
 * in shared memory: a request never waits for another, nor for I/O.
 */
#include <apr_atomic.h>
#include <apr_shm.h>
#include <string.h>
#include "mod_integration_metrics.h"
#include "mod_integration_route.h"

const char *const mi_metrics_methods[MI_METRICS_METHODS] = {
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"
};

/* The statuses the API answers (API.md section 1) and a few httpd may;
 * any other is counted as code="other" (the 0). */
const int mi_metrics_codes[MI_METRICS_CODES] = {
    200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422,
    429, 500, 502, 503, 0
};

/* Upper bounds, in microseconds; the last is +Inf. */
const apr_int64_t mi_metrics_buckets_us[MI_METRICS_BUCKETS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000, -1
};

/* The same as the le labels of the page. */
const char *const mi_metrics_bucket_labels[MI_METRICS_BUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10", "+Inf"
};

/* The gate's refusals, in the order of API.md section 1. */
const char *const mi_metrics_auth_codes[MI_METRICS_AUTH_CODES] = {
    "AUTHENTICATION_REQUIRED", "INVALID_TOKEN_FORMAT", "INVALID_TOKEN",
    "TOKEN_REVOKED", "TOKEN_EXPIRED", "INTEGRATION_INACTIVE",
    "INSUFFICIENT_SCOPES"
};

const char *const mi_metrics_delivery_outcomes[MI_DELIVERY_OUTCOMES] = {
    "delivered", "failed_status", "failed_connection"
};

const char *const mi_metrics_records_outcomes[MI_RECORDS_OUTCOMES] = {
    "created", "updated", "failed"
};

/* Set in the parent by post_config (each generation), inherited by the
 * children; read-only after that. */
static mi_metrics_table_t *table;
static const mi_route_t *routes;
static int nroutes;

/* What a request of ours carries to the log_transaction hook. */
typedef struct {
    int route;                  /* slot: MI_METRICS_ROUTES for unmatched */
} mark_t;

/* ---- the table ---------------------------------------------------------- */

/* FNV-1a over the layout: the table's size, the routes and the
 * resources, in their order. */
static apr_uint64_t fnv(apr_uint64_t h, const void *data, apr_size_t len)
{
    const unsigned char *p = data;

    while (len--) {
        h = (h ^ *p++) * 1099511628211ULL;
    }
    return h;
}

static apr_uint64_t layout_fingerprint(void)
{
    apr_uint64_t h = 14695981039346656037ULL;
    apr_size_t size = sizeof(mi_metrics_table_t);
    int i;

    h = fnv(h, &size, sizeof(size));
    for (i = 0; i < nroutes && i < MI_METRICS_ROUTES; i++) {
        h = fnv(h, routes[i].path, strlen(routes[i].path) + 1);
        h = fnv(h, &routes[i].method, sizeof(routes[i].method));
    }
    for (i = 0; mi_resources[i]; i++) {
        h = fnv(h, mi_resources[i]->plural,
                strlen(mi_resources[i]->plural) + 1);
    }
    return h ? h : 1;
}

#define MI_METRICS_RETAINED "mod_integration:metrics"

typedef struct {
    apr_shm_t *shm;
} retained_t;

void mi_metrics_setup(server_rec *s)
{
    retained_t *kept = ap_retained_data_get(MI_METRICS_RETAINED);
    apr_uint64_t fingerprint;
    mi_metrics_table_t *t;

    routes = mi_routes_table(&nroutes);
    if (nroutes > MI_METRICS_ROUTES) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00501)
                     "mod_integration: %d routes, metrics have room for %d:"
                     " the others are counted as route=\"%s\"", nroutes,
                     MI_METRICS_ROUTES, MI_METRICS_UNMATCHED);
    }
    fingerprint = layout_fingerprint();
    if (!kept) {
        kept = ap_retained_data_create(MI_METRICS_RETAINED, sizeof(*kept));
    }
    t = kept->shm ? apr_shm_baseaddr_get(kept->shm) : NULL;
    if (!t || t->fingerprint != fingerprint) {
        /* A fresh segment rather than this one cleared: children of the
         * last generation may still count in the old one. */
        apr_status_t rv = apr_shm_create(&kept->shm,
                                         sizeof(mi_metrics_table_t), NULL,
                                         s->process->pool);

        if (rv != APR_SUCCESS) {
            kept->shm = NULL;
            table = NULL;
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, MI_LOGNO(00502)
                         "mod_integration: no shared memory for metrics; "
                         "nothing is counted");
            return;
        }
        t = apr_shm_baseaddr_get(kept->shm);
        memset(t, 0, sizeof(*t));
        t->fingerprint = fingerprint;
    }
    table = t;
}

const mi_metrics_table_t *mi_metrics_table(void)
{
    return table;
}

const char *mi_metrics_route_label(apr_pool_t *pool, int i)
{
    const char *p;
    char *label, *out;

    if (i == MI_METRICS_ROUTES) {
        return MI_METRICS_UNMATCHED;
    }
    if (i < 0 || i >= nroutes) {
        return NULL;
    }
    /* A "*" segment is labelled "{id}": "/suppliers/{id}". */
    label = out = apr_palloc(pool, strlen(routes[i].path) * 4 + 1);
    for (p = routes[i].path; *p; p++) {
        if (*p == '*') {
            memcpy(out, "{id}", 4);
            out += 4;
        }
        else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return label;
}

/* ---- counting ----------------------------------------------------------- */

static void add(volatile apr_uint64_t *counter, apr_uint64_t n)
{
    if (table) {
        apr_atomic_add64(counter, n);
    }
}

static void observe(mi_histogram_t *h, apr_int64_t us)
{
    int b = 0;

    if (us < 0) {
        us = 0;
    }
    while (b < MI_METRICS_BUCKETS - 1 && us > mi_metrics_buckets_us[b]) {
        b++;
    }
    add(&h->buckets[b], 1);
    add(&h->sum_us, (apr_uint64_t)us);
}

static int method_slot(const char *method)
{
    int i;

    for (i = 0; i < MI_METRICS_METHODS - 1; i++) {
        if (!strcmp(method, mi_metrics_methods[i])) {
            return i;
        }
    }
    return MI_METRICS_METHODS - 1;
}

static int code_slot(int status)
{
    int i;

    for (i = 0; i < MI_METRICS_CODES - 1; i++) {
        if (mi_metrics_codes[i] == status) {
            return i;
        }
    }
    return MI_METRICS_CODES - 1;
}

void mi_metrics_request(request_rec *r, const mi_route_t *route)
{
    mark_t *m = apr_palloc(r->pool, sizeof(*m));

    m->route = route ? (int)(route - routes) : MI_METRICS_ROUTES;
    if (m->route < 0 || m->route >= nroutes
        || m->route >= MI_METRICS_ROUTES) {
        m->route = MI_METRICS_ROUTES;
    }
    ap_set_module_config(r->request_config, &integration_module, m);
}

int mi_metrics_log_transaction(request_rec *r)
{
    const mark_t *m = ap_get_module_config(r->request_config,
                                           &integration_module);

    if (!m || !table) {
        return DECLINED;
    }
    add(&table->requests[m->route][method_slot(r->method)]
                        [code_slot(r->status)], 1);
    observe(&table->durations[m->route], apr_time_now() - r->request_time);
    return DECLINED;
}

void mi_metrics_auth_failure(const char *code)
{
    int i;

    for (i = 0; table && i < MI_METRICS_AUTH_CODES; i++) {
        if (!strcmp(code, mi_metrics_auth_codes[i])) {
            add(&table->auth_failures[i], 1);
            return;
        }
    }
}

void mi_metrics_write_begin(void)
{
    if (table) {
        apr_atomic_set64(&table->last_write_begin,
                         (apr_uint64_t)apr_time_now());
        apr_atomic_inc64(&table->writes_in_flight);
    }
}

void mi_metrics_write_end(void)
{
    if (table) {
        apr_atomic_dec64(&table->writes_in_flight);
    }
}

int mi_metrics_writes_in_flight(void)
{
    apr_time_t began;

    if (!table || apr_atomic_read64(&table->writes_in_flight) == 0) {
        return 0;
    }
    began = (apr_time_t)apr_atomic_read64(&table->last_write_begin);
    return apr_time_now() - began < apr_time_from_sec(2);
}

void mi_metrics_rate_limited(void)
{
    if (table) {
        add(&table->rate_limited, 1);
    }
}

void mi_metrics_db_unavailable(void)
{
    if (table) {
        add(&table->db_unavailable, 1);
    }
}

void mi_metrics_db_connect_failed(void)
{
    if (table) {
        add(&table->db_connect_failures, 1);
    }
}

void mi_metrics_db_used(const mi_db_t *db)
{
    if (!table || !db) {
        return;
    }
    if (db->errors > 0) {
        add(&table->db_errors, (apr_uint64_t)db->errors);
    }
    if (db->reconnects > 0) {
        add(&table->db_reconnects, (apr_uint64_t)db->reconnects);
    }
}

void mi_metrics_records(const mi_resource_t *res,
                        const mi_upsert_counts_t *counts)
{
    int i;

    for (i = 0; table && i < MI_METRICS_RESOURCES && mi_resources[i]; i++) {
        if (mi_resources[i] == res) {
            apr_uint64_t *slot = table->records[i];

            add(&slot[MI_RECORDS_CREATED], (apr_uint64_t)counts->created);
            add(&slot[MI_RECORDS_UPDATED], (apr_uint64_t)counts->updated);
            add(&slot[MI_RECORDS_FAILED], (apr_uint64_t)counts->failed);
            return;
        }
    }
}

void mi_metrics_delivery(const mi_send_result_t *result)
{
    mi_delivery_outcome_e outcome = result->success ? MI_DELIVERY_DELIVERED
        : result->status > 0 ? MI_DELIVERY_FAILED_STATUS
                             : MI_DELIVERY_FAILED_CONNECTION;

    if (!table) {
        return;
    }
    add(&table->deliveries[outcome], 1);
    observe(&table->delivery_durations,
            apr_time_from_msec(result->duration_ms));
}
