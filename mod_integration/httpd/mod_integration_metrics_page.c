/* mod_integration_metrics_page.c: the counters as pages: the
 * integration-metrics handler (Prometheus text exposition format 0.0.4,
 * every child's counts, since they are one shared table) and a section of
 * mod_status's server-status page. docs/metrics.md describes each metric.
 *
 *   <Location /integration-metrics>
 *       SetHandler integration-metrics
 *       Require ip 10.0.0.0/8
 *   </Location>
 */
#include <stddef.h>
#include <apr_atomic.h>
#include <string.h>
#include <mod_status.h>
#include "mod_integration_dbd.h"
#include "mod_integration_metrics.h"
#include "mi_backlog.h"
#include "mi_time.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static apr_uint64_t get(const apr_uint64_t *counter)
{
    return apr_atomic_read64((volatile apr_uint64_t *)counter);
}

static void family(request_rec *r, const char *name, const char *type,
                   const char *help)
{
    ap_rvputs(r, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type,
              "\n", NULL);
}

static void sample(request_rec *r, const char *name, const char *labels,
                   apr_uint64_t value)
{
    ap_rprintf(r, "%s%s%s%s %" APR_UINT64_T_FMT "\n", name,
               labels ? "{" : "", labels ? labels : "", labels ? "}" : "",
               value);
}

static const char *seconds(apr_pool_t *pool, apr_uint64_t us)
{
    return apr_psprintf(pool, "%" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT,
                        us / 1000000, us % 1000000);
}

/* A histogram's samples (its counts already read), labels (without
 * braces, or NULL) before le; cumulative counts, and a count that is
 * their sum. */
static void histogram(request_rec *r, const char *name, const char *labels,
                      const apr_uint64_t *buckets, apr_uint64_t sum_us)
{
    const char *sep = labels ? "," : "";
    const char *open = labels ? "{" : "", *close = labels ? "}" : "";
    apr_uint64_t total = 0;
    int b;

    labels = labels ? labels : "";
    for (b = 0; b < MI_METRICS_BUCKETS; b++) {
        total += buckets[b];
        ap_rprintf(r, "%s_bucket{%s%sle=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   name, labels, sep, mi_metrics_bucket_labels[b], total);
    }
    ap_rprintf(r, "%s_sum%s%s%s %s\n", name, open, labels, close,
               seconds(r->pool, sum_us));
    ap_rprintf(r, "%s_count%s%s%s %" APR_UINT64_T_FMT "\n", name, open,
               labels, close, total);
}

/* The counts of one route label: the slots of its routes summed (GET and
 * POST /suppliers are two routes of one template, and must be one series
 * per label set). */
typedef struct {
    const char *label;
    apr_uint64_t requests[MI_METRICS_METHODS][MI_METRICS_CODES];
    apr_uint64_t buckets[MI_METRICS_BUCKETS];
    apr_uint64_t sum_us;
    apr_uint64_t total;
} route_counts_t;

static apr_array_header_t *by_label(request_rec *r,
                                    const mi_metrics_table_t *t)
{
    apr_hash_t *seen = apr_hash_make(r->pool);
    apr_array_header_t *all = apr_array_make(r->pool, 32,
                                             sizeof(route_counts_t *));
    int route, m, c, b;

    for (route = 0; route <= MI_METRICS_ROUTES; route++) {
        const char *label = mi_metrics_route_label(r->pool, route);
        const mi_histogram_t *h = &t->durations[route];
        route_counts_t *rc;

        if (!label) {
            continue;
        }
        if (!(rc = apr_hash_get(seen, label, APR_HASH_KEY_STRING))) {
            rc = apr_pcalloc(r->pool, sizeof(*rc));
            rc->label = label;
            apr_hash_set(seen, label, APR_HASH_KEY_STRING, rc);
            APR_ARRAY_PUSH(all, route_counts_t *) = rc;
        }
        for (m = 0; m < MI_METRICS_METHODS; m++) {
            for (c = 0; c < MI_METRICS_CODES; c++) {
                rc->requests[m][c] += get(&t->requests[route][m][c]);
            }
        }
        for (b = 0; b < MI_METRICS_BUCKETS; b++) {
            apr_uint64_t n = get(&h->buckets[b]);

            rc->buckets[b] += n;
            rc->total += n;
        }
        rc->sum_us += get(&h->sum_us);
    }
    return all;
}

static const char *code_label(apr_pool_t *pool, int i)
{
    return mi_metrics_codes[i] ? apr_itoa(pool, mi_metrics_codes[i])
                               : "other";
}

/* Only the series that have counted something: most routes are never
 * asked with most methods and statuses. */
static void requests(request_rec *r, const mi_metrics_table_t *t)
{
    apr_array_header_t *routes = by_label(r, t);
    int i, m, c;

    family(r, "integration_http_requests_total", "counter",
           "API requests answered, by route template, method and status "
           "code.");
    for (i = 0; i < routes->nelts; i++) {
        const route_counts_t *rc = APR_ARRAY_IDX(routes, i,
                                                 route_counts_t *);

        for (m = 0; m < MI_METRICS_METHODS; m++) {
            for (c = 0; c < MI_METRICS_CODES; c++) {
                if (rc->requests[m][c] > 0) {
                    sample(r, "integration_http_requests_total",
                           apr_psprintf(r->pool, "route=\"%s\",method=\"%s\","
                                        "code=\"%s\"", rc->label,
                                        mi_metrics_methods[m],
                                        code_label(r->pool, c)),
                           rc->requests[m][c]);
                }
            }
        }
    }
    family(r, "integration_http_request_duration_seconds", "histogram",
           "Time from reading the request line to logging the answer, by "
           "route template.");
    for (i = 0; i < routes->nelts; i++) {
        const route_counts_t *rc = APR_ARRAY_IDX(routes, i,
                                                 route_counts_t *);

        if (rc->total > 0) {
            histogram(r, "integration_http_request_duration_seconds",
                      apr_psprintf(r->pool, "route=\"%s\"", rc->label),
                      rc->buckets, rc->sum_us);
        }
    }
}

/* The metrics of one value each, in the order of the page. */
static const struct {
    const char *name, *type, *help;
    size_t offset;              /* of its value in mi_metrics_table_t */
} scalar_metrics[] = {
    { "integration_writes_in_flight", "gauge",
      "Bulk upserts writing now, in every child.",
      offsetof(mi_metrics_table_t, writes_in_flight) },
    { "integration_rate_limited_total", "counter",
      "Requests refused with 429 RATE_LIMIT_EXCEEDED.",
      offsetof(mi_metrics_table_t, rate_limited) },
    { "integration_db_unavailable_total", "counter",
      "Requests answered 503 SERVICE_UNAVAILABLE: no database connection, "
      "or the database failed.",
      offsetof(mi_metrics_table_t, db_unavailable) },
    { "integration_db_connect_failures_total", "counter",
      "Times mod_dbd could not open a connection to the database.",
      offsetof(mi_metrics_table_t, db_connect_failures) },
    { "integration_db_errors_total", "counter",
      "Statements the database refused or failed to run.",
      offsetof(mi_metrics_table_t, db_errors) },
    { "integration_db_reconnects_total", "counter",
      "Times a pooled PostgreSQL connection was found broken and opened "
      "again.",
      offsetof(mi_metrics_table_t, db_reconnects) },
};

static void scalars(request_rec *r, const mi_metrics_table_t *t)
{
    size_t i;

    for (i = 0; i < sizeof(scalar_metrics) / sizeof(scalar_metrics[0]); i++) {
        family(r, scalar_metrics[i].name, scalar_metrics[i].type,
               scalar_metrics[i].help);
        sample(r, scalar_metrics[i].name, NULL,
               get((const apr_uint64_t *)(const void *)
                   ((const char *)t + scalar_metrics[i].offset)));
    }
}

static void counters(request_rec *r, const mi_metrics_table_t *t)
{
    apr_uint64_t buckets[MI_METRICS_BUCKETS];
    int i, o;

    family(r, "integration_upsert_records_total", "counter",
           "Records of bulk upserts that were committed, by resource and "
           "outcome (created, updated, failed validation).");
    for (i = 0; i < MI_METRICS_RESOURCES && mi_resources[i]; i++) {
        for (o = 0; o < MI_RECORDS_OUTCOMES; o++) {
            sample(r, "integration_upsert_records_total",
                   apr_psprintf(r->pool, "resource=\"%s\",outcome=\"%s\"",
                                mi_resources[i]->plural,
                                mi_metrics_records_outcomes[o]),
                   get(&t->records[i][o]));
        }
    }
    family(r, "integration_auth_failures_total", "counter",
           "Requests the token gate refused (401 and 403), by error code.");
    for (i = 0; i < MI_METRICS_AUTH_CODES; i++) {
        sample(r, "integration_auth_failures_total",
               apr_psprintf(r->pool, "code=\"%s\"", mi_metrics_auth_codes[i]),
               get(&t->auth_failures[i]));
    }
    scalars(r, t);
    family(r, "integration_webhook_deliveries_total", "counter",
           "Webhook delivery attempts, by outcome: delivered (2xx), "
           "failed_status (another answer), failed_connection (none).");
    for (o = 0; o < MI_DELIVERY_OUTCOMES; o++) {
        sample(r, "integration_webhook_deliveries_total",
               apr_psprintf(r->pool, "outcome=\"%s\"",
                            mi_metrics_delivery_outcomes[o]),
               get(&t->deliveries[o]));
    }
    family(r, "integration_webhook_delivery_duration_seconds", "histogram",
           "Duration of webhook delivery attempts.");
    for (o = 0; o < MI_METRICS_BUCKETS; o++) {
        buckets[o] = get(&t->delivery_durations.buckets[o]);
    }
    histogram(r, "integration_webhook_delivery_duration_seconds", NULL,
              buckets, get(&t->delivery_durations.sum_us));
}

static void gauge(request_rec *r, const char *name, const char *help,
                  const char *value)
{
    family(r, name, "gauge", help);
    ap_rvputs(r, name, " ", value, "\n", NULL);
}

static const char *age_of(apr_pool_t *pool, apr_int64_t since_ms)
{
    apr_int64_t age = since_ms < 0 ? 0 : mi_now_ms() - since_ms;

    return seconds(pool, (apr_uint64_t)(age > 0 ? age : 0) * 1000);
}

/* The backlog, read now from the database within IntegrationDbTimeout;
 * without a database only integration_database_up (0). */
static void backlog(request_rec *r)
{
    const char *why = NULL;
    void *handle = NULL;
    mi_db_t *db = mi_dbd_open(r->server, r->pool, &handle, &why);
    mi_backlog_t b;
    int up = db && mi_backlog_read(db, r->pool, &b) == APR_SUCCESS;

    mi_dbd_close(r->server, db, handle);
    gauge(r, "integration_database_up", "1 when this scrape could read the "
          "webhook backlog from the database, else 0.", up ? "1" : "0");
    if (!up) {
        return;
    }
    gauge(r, "integration_webhook_pending_deliveries",
          "Webhook deliveries waiting to be delivered or retried (counted "
          "up to " APR_STRINGIFY(MI_BACKLOG_CAP) ").",
          apr_psprintf(r->pool, "%" APR_INT64_T_FMT, b.pending));
    gauge(r, "integration_webhook_oldest_pending_delivery_age_seconds",
          "Age of the oldest pending webhook delivery (0 when none).",
          age_of(r->pool, b.oldest_pending_ms));
    gauge(r, "integration_webhook_queued_events",
          "Webhook events not yet fanned out to deliveries (counted up to "
          APR_STRINGIFY(MI_BACKLOG_CAP) ").",
          apr_psprintf(r->pool, "%" APR_INT64_T_FMT, b.queued_events));
    gauge(r, "integration_webhook_oldest_queued_event_age_seconds",
          "Age of the oldest webhook event not yet fanned out (0 when "
          "none).", age_of(r->pool, b.oldest_event_ms));
}

int mi_metrics_handler(request_rec *r)
{
    const mi_metrics_table_t *t;

    if (!r->handler || strcmp(r->handler, MI_METRICS_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        r->allowed = AP_METHOD_BIT << M_GET;
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!(t = mi_metrics_table())) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_set_content_type(r, CONTENT_TYPE);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }
    requests(r, t);
    counters(r, t);
    backlog(r);
    return OK;
}

/* ---- mod_status ------------------------------------------------------- */

typedef struct {
    apr_uint64_t requests, by_class[6];         /* [2]: 2xx, ... */
    apr_uint64_t records[MI_RECORDS_OUTCOMES];
    apr_uint64_t auth_failures, deliveries[MI_DELIVERY_OUTCOMES];
} summary_t;

static void summarize(const mi_metrics_table_t *t, summary_t *s)
{
    int route, m, c, i;

    memset(s, 0, sizeof(*s));
    for (route = 0; route <= MI_METRICS_ROUTES; route++) {
        for (m = 0; m < MI_METRICS_METHODS; m++) {
            for (c = 0; c < MI_METRICS_CODES; c++) {
                apr_uint64_t n = get(&t->requests[route][m][c]);

                s->requests += n;
                s->by_class[mi_metrics_codes[c] / 100 % 6] += n;
            }
        }
    }
    for (i = 0; i < MI_METRICS_RESOURCES; i++) {
        for (c = 0; c < MI_RECORDS_OUTCOMES; c++) {
            s->records[c] += get(&t->records[i][c]);
        }
    }
    for (i = 0; i < MI_METRICS_AUTH_CODES; i++) {
        s->auth_failures += get(&t->auth_failures[i]);
    }
    for (i = 0; i < MI_DELIVERY_OUTCOMES; i++) {
        s->deliveries[i] = get(&t->deliveries[i]);
    }
}

typedef struct {
    const char *key;            /* ?auto's name */
    const char *title;          /* the page's */
    apr_uint64_t value;
} status_row_t;

int mi_metrics_status(request_rec *r, int flags)
{
    const mi_metrics_table_t *t = mi_metrics_table();
    summary_t s;
    int i;

    if (!t) {
        return OK;
    }
    summarize(t, &s);
    {
        const status_row_t rows[] = {
            { "IntegrationRequests", "API requests", s.requests },
            { "IntegrationRequests2xx", "answered 2xx", s.by_class[2] },
            { "IntegrationRequests4xx", "answered 4xx", s.by_class[4] },
            { "IntegrationRequests5xx", "answered 5xx", s.by_class[5] },
            { "IntegrationRecordsCreated", "records created",
              s.records[MI_RECORDS_CREATED] },
            { "IntegrationRecordsUpdated", "records updated",
              s.records[MI_RECORDS_UPDATED] },
            { "IntegrationRecordsFailed", "records failed",
              s.records[MI_RECORDS_FAILED] },
            { "IntegrationAuthFailures", "authentication failures",
              s.auth_failures },
            { "IntegrationRateLimited", "rate-limited requests",
              get(&t->rate_limited) },
            { "IntegrationDbUnavailable", "503 answers (database)",
              get(&t->db_unavailable) },
            { "IntegrationWebhooksDelivered", "webhook attempts delivered",
              s.deliveries[MI_DELIVERY_DELIVERED] },
            { "IntegrationWebhooksFailed", "webhook attempts failed",
              s.deliveries[MI_DELIVERY_FAILED_STATUS]
                  + s.deliveries[MI_DELIVERY_FAILED_CONNECTION] },
        };

        if (flags & AP_STATUS_SHORT) {
            for (i = 0; i < (int)MI_ARRAY_SIZE(rows); i++) {
                ap_rprintf(r, "%s: %" APR_UINT64_T_FMT "\n", rows[i].key,
                           rows[i].value);
            }
            return OK;
        }
        ap_rputs("<hr />\n<h2>mod_integration</h2>\n"
                 "<p>Counts of every child since the server started "
                 "(graceful restarts included); every metric with its "
                 "labels: <code>SetHandler integration-metrics</code>.</p>\n"
                 "<table>\n", r);
        for (i = 0; i < (int)MI_ARRAY_SIZE(rows); i++) {
            ap_rprintf(r, "<tr><th align=\"left\">%s</th><td>%"
                       APR_UINT64_T_FMT "</td></tr>\n", rows[i].title,
                       rows[i].value);
        }
        ap_rputs("</table>\n", r);
    }
    return OK;
}
