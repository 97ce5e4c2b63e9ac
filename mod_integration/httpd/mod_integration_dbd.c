/* mod_integration_dbd.c: database connections from mod_dbd's pool, with every
 * wait bounded (see mod_integration_dbd.h). */
#include <apr_atomic.h>
#include <apr_optional.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include "mod_integration_dbd.h"
#include "mod_integration_metrics.h"
#include "mi_migrate.h"

/* How long a process answers 503 at once after a failed connect. */
#define MI_CONN_BACKOFF apr_time_from_sec(1)

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

/* The connections of one database configuration in this process. */
struct mi_gate_t {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *freed;
    int available;              /* DBDMax less what is out */
    apr_time_t retry_at;        /* after a failed connect */
    volatile apr_uint32_t schema_ok;    /* the schema was found new enough;
                                         * read and set by any thread */
};

int mi_dbd_setup(void)
{
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    return dbd_open && dbd_close;
}

/* mod_dbd's configuration of server s: dbd_cfg_t is public (mod_dbd.h);
 * mod_dbd's server config record starts with a pointer to it, as it has
 * throughout httpd 2.4. */
const dbd_cfg_t *mi_dbd_config(server_rec *s)
{
    module *dbd = ap_find_linked_module("mod_dbd.c");
    void *svr = dbd ? ap_get_module_config(s->module_config, dbd) : NULL;

    return svr ? *(dbd_cfg_t **)svr : NULL;
}

void mi_dbd_child_init(server_rec *s, apr_pool_t *pchild)
{
    apr_hash_t *gates = apr_hash_make(pchild);

    /* Servers with the same database share mod_dbd's pool, and so a
     * count. */
    for (; s; s = s->next) {
        const dbd_cfg_t *cfg = mi_dbd_config(s);
        const char *key;
        struct mi_gate_t *g;

        if (!cfg || !cfg->name || !cfg->params) {
            continue;
        }
        key = apr_pstrcat(pchild, cfg->name, "\n", cfg->params, NULL);
        if (!(g = apr_hash_get(gates, key, APR_HASH_KEY_STRING))) {
            g = apr_pcalloc(pchild, sizeof(*g));
            g->available = cfg->nmax > 0 ? cfg->nmax : 1;
            if (apr_thread_mutex_create(&g->lock, APR_THREAD_MUTEX_DEFAULT,
                                        pchild) != APR_SUCCESS
                || apr_thread_cond_create(&g->freed, pchild)
                       != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00010)
                             "mod_integration: no connection count in this "
                             "process; it will answer 503");
                continue;
            }
            apr_hash_set(gates, key, APR_HASH_KEY_STRING, g);
        }
        mi_conf_of(s)->gate = g;
    }
}

/* A connection of s's pool within IntegrationDbTimeout, or NULL and
 * *why. */
static ap_dbd_t *take(server_rec *s, apr_pool_t *pool, apr_time_t started,
                      const char **why)
{
    struct mi_gate_t *g = mi_conf_of(s)->gate;
    apr_time_t until = started + mi_conf_of(s)->db_timeout;
    ap_dbd_t *dbd;

    if (!g || !dbd_open) {
        *why = "no connection count in this process";
        return NULL;
    }
    apr_thread_mutex_lock(g->lock);
    while (g->available == 0) {
        apr_interval_time_t left = until - apr_time_now();

        if (left <= 0) {
            apr_thread_mutex_unlock(g->lock);
            *why = "every connection stayed busy for IntegrationDbTimeout";
            return NULL;
        }
        apr_thread_cond_timedwait(g->freed, g->lock, left);
    }
    if (apr_time_now() < g->retry_at) {
        apr_thread_mutex_unlock(g->lock);
        *why = "connecting to the database failed a moment ago";
        return NULL;
    }
    g->available--;
    apr_thread_mutex_unlock(g->lock);

    if ((dbd = dbd_open(pool, s)) == NULL) {
        mi_metrics_db_connect_failed();
        *why = "cannot connect to the database (mod_dbd says why)";
        apr_thread_mutex_lock(g->lock);
        g->available++;
        g->retry_at = apr_time_now() + MI_CONN_BACKOFF;
        apr_thread_cond_signal(g->freed);
        apr_thread_mutex_unlock(g->lock);
    }
    return dbd;
}

static void give_back(server_rec *s, ap_dbd_t *dbd)
{
    struct mi_gate_t *g = mi_conf_of(s)->gate;

    dbd_close(s, dbd);
    apr_thread_mutex_lock(g->lock);
    g->available++;
    apr_thread_cond_signal(g->freed);
    apr_thread_mutex_unlock(g->lock);
}

/* Once per process and database: is the schema as new as this build
 * needs? Until it is, every request is answered 503. */
static int schema_ok(server_rec *s, mi_db_t *db, apr_pool_t *pool)
{
    struct mi_gate_t *g = mi_conf_of(s)->gate;
    int have = 0;

    if (apr_atomic_read32(&g->schema_ok)) {
        return 1;
    }
    if (mi_migrate_current(db, pool, &have) != APR_SUCCESS) {
        return 0;
    }
    if (have < mi_migrate_latest(db->dialect)) {
        db->error = apr_psprintf(pool, "the schema is at version %d, this "
                                 "module needs %d: run integration-admin "
                                 "migrate", have,
                                 mi_migrate_latest(db->dialect));
        return 0;
    }
    apr_atomic_set32(&g->schema_ok, 1);
    return 1;
}

mi_db_t *mi_dbd_open(server_rec *s, apr_pool_t *pool, void **handle,
                      const char **why)
{
    apr_time_t started = apr_time_now();
    ap_dbd_t *dbd = take(s, pool, started, why);
    mi_db_t *db;

    *handle = NULL;
    if (!dbd) {
        return NULL;
    }
    db = mi_db_wrap(pool, dbd->driver, dbd->handle, dbd->pool);
    if (mi_conf_of(s)->db_unnamed) {
        mi_db_use_unnamed(db);
    }
    if (mi_db_bound(db, mi_conf_of(s)->db_timeout, started)
            != APR_SUCCESS
        || !schema_ok(s, db, pool)) {
        *why = db->error ? db->error : "cannot set the connection up";
        give_back(s, dbd);
        return NULL;
    }
    *handle = dbd;
    return db;
}

void mi_dbd_close(server_rec *s, mi_db_t *db, void *handle)
{
    mi_metrics_db_used(db);
    if (handle) {
        mi_db_rollback(db);
        give_back(s, handle);
    }
}

static apr_status_t req_db_cleanup(void *data)
{
    mi_req_db_done(data);
    return APR_SUCCESS;
}

mi_db_t *mi_req_db(mi_req_t *req)
{
    if (!req->db && !req->db_tried) {
        req->db_tried = 1;
        req->db = mi_dbd_open(req->r->server, req->r->pool, &req->dbd,
                               &req->db_error);
        if (req->db) {
            /* A safety net: the handler gives it back sooner. */
            apr_pool_cleanup_register(req->r->pool, req, req_db_cleanup,
                                      apr_pool_cleanup_null);
        }
    }
    return req->db;
}

void mi_req_db_done(mi_req_t *req)
{
    mi_dbd_close(req->r->server, req->db, req->dbd);
    req->dbd = NULL;
    req->db = NULL;
}
