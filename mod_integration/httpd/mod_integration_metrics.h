/* mod_integration_metrics.h: the module's counters, in one table of shared
 * memory that every child adds to with atomic operations (no lock, no
 * I/O), kept in httpd's retained data so that a graceful restart resets
 * none; served by SetHandler integration-metrics in the Prometheus text
 * format and summed up in mod_status's page
 * (mod_integration_metrics_page.c). docs/metrics.md lists every metric.
 *
 * Every label value comes from a fixed set: routes are the route table's
 * templates (or MI_METRICS_UNMATCHED), methods and status codes those of
 * the lists below (or "other"), resources those of mi_resources. */
#ifndef MOD_INTEGRATION_METRICS_H
#define MOD_INTEGRATION_METRICS_H

#include "mod_integration.h"
#include "mi_upsert.h"

#define MI_METRICS_HANDLER "integration-metrics"

/* Routes the table has room for; one more slot counts the requests that
 * matched none (404, 405), labelled route="unmatched". */
#define MI_METRICS_ROUTES 64
#define MI_METRICS_UNMATCHED "unmatched"
#define MI_METRICS_METHODS 8    /* mi_metrics_methods, "other" last */
#define MI_METRICS_CODES 19     /* mi_metrics_codes, 0 ("other") last */
#define MI_METRICS_BUCKETS 12   /* mi_metrics_buckets_us, +Inf last */
#define MI_METRICS_RESOURCES 8
#define MI_METRICS_AUTH_CODES 7 /* mi_metrics_auth_codes */

typedef enum {
    MI_RECORDS_CREATED = 0,
    MI_RECORDS_UPDATED,
    MI_RECORDS_FAILED,
    MI_RECORDS_OUTCOMES
} mi_records_outcome_e;

typedef enum {
    MI_DELIVERY_DELIVERED = 0,  /* a 2xx answer */
    MI_DELIVERY_FAILED_STATUS,  /* another answer */
    MI_DELIVERY_FAILED_CONNECTION,      /* none: connection, TLS, timeout,
                                         * a destination not allowed */
    MI_DELIVERY_OUTCOMES
} mi_delivery_outcome_e;

/* A histogram: counts per bucket (not cumulative: the page adds them up,
 * so that its count is always their sum) and the sum of what was
 * observed, in microseconds. */
typedef struct {
    apr_uint64_t buckets[MI_METRICS_BUCKETS];
    apr_uint64_t sum_us;
} mi_histogram_t;

/* The shared table. Its layout is fixed at build time but for the route
 * table; fingerprint tells a table made for another layout (a new build
 * loaded by a graceful restart), which is then made afresh. */
typedef struct {
    apr_uint64_t fingerprint;
    apr_uint64_t requests[MI_METRICS_ROUTES + 1][MI_METRICS_METHODS]
                         [MI_METRICS_CODES];
    mi_histogram_t durations[MI_METRICS_ROUTES + 1];
    apr_uint64_t records[MI_METRICS_RESOURCES][MI_RECORDS_OUTCOMES];
    apr_uint64_t auth_failures[MI_METRICS_AUTH_CODES];
    apr_uint64_t rate_limited;
    apr_uint64_t db_unavailable;        /* 503 SERVICE_UNAVAILABLE answers */
    apr_uint64_t db_connect_failures;
    apr_uint64_t db_errors;             /* statements that failed */
    apr_uint64_t db_reconnects;
    apr_uint64_t deliveries[MI_DELIVERY_OUTCOMES];
    mi_histogram_t delivery_durations;
    apr_uint64_t writes_in_flight;      /* bulk upserts writing now */
    apr_uint64_t last_write_begin;      /* apr_time_t of the latest */
} mi_metrics_table_t;

extern const char *const mi_metrics_methods[MI_METRICS_METHODS];
extern const int mi_metrics_codes[MI_METRICS_CODES];
extern const apr_int64_t mi_metrics_buckets_us[MI_METRICS_BUCKETS];
extern const char *const mi_metrics_bucket_labels[MI_METRICS_BUCKETS];
extern const char *const mi_metrics_auth_codes[MI_METRICS_AUTH_CODES];
extern const char *const mi_metrics_delivery_outcomes[MI_DELIVERY_OUTCOMES];
extern const char *const mi_metrics_records_outcomes[MI_RECORDS_OUTCOMES];

/* post_config, after mi_routes_init: attaches the table (made at the first
 * start, or when the layout changed). Never fails the start: without a
 * table nothing is counted, and the page says so. */
void mi_metrics_setup(server_rec *s);

/* The table, or NULL (mi_metrics_setup could not make one). */
const mi_metrics_table_t *mi_metrics_table(void);

/* The route label of slot i (i up to MI_METRICS_ROUTES), or NULL for a
 * slot no route has; into pool. Routes of one path with other methods
 * share their label. */
const char *mi_metrics_route_label(apr_pool_t *pool, int i);

/* The handler: r is an API request of route (NULL: it matched none),
 * counted with its status and duration when it is logged. */
void mi_metrics_request(request_rec *r, const struct mi_route_t *route);

/* log_transaction: counts a request that mi_metrics_request marked. */
int mi_metrics_log_transaction(request_rec *r);

/* The auth gate's refusals, by error code (API.md section 1). */
void mi_metrics_auth_failure(const char *code);
void mi_metrics_rate_limited(void);
void mi_metrics_db_unavailable(void);
void mi_metrics_db_connect_failed(void);

/* What a unit of work on db saw: its failed statements and reconnects. */
void mi_metrics_db_used(const mi_db_t *db);

/* The records of a bulk upsert that was written. */
void mi_metrics_records(const mi_resource_t *res,
                        const mi_upsert_counts_t *counts);

/* One attempt at a webhook delivery. */
void mi_metrics_delivery(const mi_send_result_t *result);

/* A bulk upsert begins and ends its writing, in any child. */
void mi_metrics_write_begin(void);
void mi_metrics_write_end(void);

/* Whether one is writing now: the count, trusted for 2 s after the latest
 * began (a child killed in the middle leaves its write counted). */
int mi_metrics_writes_in_flight(void);

/* mod_integration_metrics_page.c: the integration-metrics handler, and
 * mod_status's status_hook. */
int mi_metrics_handler(request_rec *r);
int mi_metrics_status(request_rec *r, int flags);

#endif
