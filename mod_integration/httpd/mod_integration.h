/* mod_integration.h: what the httpd glue of mod_integration shares: the
 * module's configuration and the state of one API request. Every glue file
 * includes it, so that per-module LogLevel works everywhere. */
#ifndef MOD_INTEGRATION_H
#define MOD_INTEGRATION_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "mi_common.h"
#include "mi_delivery.h"
#include "mi_db.h"
#include "mi_json.h"
#include "mi_keys.h"
#include "mi_listcache.h"
#include "mi_redis.h"
#include "mi_resource.h"
#include "mi_token.h"

APLOG_USE_MODULE(integration);

/* Log tags of our own: AH numbers belong to httpd. */
#define MI_LOGNO(n) "MI" #n ": "

typedef struct mi_ratelimit_t mi_ratelimit_t;

typedef struct {
    int rate_limit;             /* requests per window; 0 disables */
    int rate_window;            /* seconds */
    int max_records;
    apr_off_t max_body;
    mi_delivery_conf_t delivery;    /* timeout, retries, allow http, ... */
    apr_size_t list_cache;      /* bytes of listings kept per process */
    int set;                    /* which of the above were configured */
    mi_ratelimit_t *limiter;    /* main server only, set in post_config */
    const mi_redis_addr_t *rate_store;  /* main server only: the Redis
                                         * that counts for every node, or
                                         * NULL (shm) */
    mi_listcache_t *lists;      /* this process's, set in child_init */
    mi_keys_t *keys;            /* this process's copy of the database's
                                 * listing key, set in child_init */
    apr_interval_time_t db_timeout;     /* longest wait for the database */
    struct mi_gate_t *gate;     /* this process's connection count, set in
                                 * child_init (mod_integration_dbd.c) */
    int db_unnamed;             /* IntegrationDbStatements unnamed: for a
                                 * transaction pooler (mi_db.h) */
} mi_server_conf_t;

#define MI_SET_RATE     0x1
#define MI_SET_RECORDS  0x2
#define MI_SET_BODY     0x4
#define MI_SET_HTTP     0x8
#define MI_SET_TIMEOUT  0x10
#define MI_SET_DELAYS   0x20
#define MI_SET_DISABLE  0x40
#define MI_SET_LISTS    0x80
#define MI_SET_DB_TIMEOUT 0x100

struct mi_route_t;

/* Answered: a glue function that may write the request's answer itself
 * (a gate, a check of the request) returns int 1 when it has, and the
 * caller returns OK at once; 0 when the request goes on. Its name says so
 * (mi_auth_gate, read_request, ..._answered). One that returns a pointer
 * returns NULL when it has answered (mi_api_read_object). Handlers write
 * their answer and return OK, as the mi_http_* writers do; a result of the
 * core that is not MI_OK is answered by mi_http_result. */

/* One API request on its way through the gate to its handler. */
typedef struct {
    request_rec *r;
    const mi_server_conf_t *conf;
    mi_ratelimit_t *limiter;
    const struct mi_route_t *route;
    const mi_resource_t *res;   /* the route's resource, or NULL */
    const char *param;          /* decoded {id} path segment (UTF-8), or
                                 * NULL */
    const char *sub_param;      /* a second one ({deliveryId}), or NULL */
    apr_table_t *query;         /* decoded query (UTF-8) */
    mi_caller_t caller;         /* set by the auth gate */
    mi_db_t *db;                /* taken on first use (mod_integration_dbd.h) */
    void *dbd;                  /* ...from mod_dbd: what to give back */
    int db_tried;               /* taken once at most */
    const char *db_error;       /* why none could be had */
} mi_req_t;

/* The configuration of server s (mod_integration_conf.c). */
mi_server_conf_t *mi_conf_of(server_rec *s);

/* The request's database connection, or NULL when none can be had; the
 * caller answers 503 (mod_integration_dbd.c). */
mi_db_t *mi_req_db(mi_req_t *req);

#endif
