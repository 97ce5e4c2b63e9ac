/* mod_integration_watchdog.c: webhook delivery from a mod_watchdog thread.
 *
 * Every MI_WATCHDOG_TICK the thread claims due deliveries (with a lease, so
 * that other processes and nodes leave them alone), gives the database
 * connection back while it sends them, then records each outcome. The
 * watchdog is a singleton: one child of an httpd runs it at a time; several
 * nodes each run theirs, and the leases keep them apart. A delivery whose
 * worker died is taken up again when its lease ends.
 */
#include "mod_integration_watchdog.h"
#include <pthread.h>
#include <apr_optional.h>
#include <mod_watchdog.h>
#include "mod_integration_dbd.h"
#include "mi_delivery.h"
#include "mi_outbox.h"

#define MI_WATCHDOG_NAME "_integration_webhooks_"
#define MI_WATCHDOG_TICK apr_time_from_msec(200)
#define MI_CLAIM_MAX 50
#define MI_FAN_OUT_MAX 1000

/* The child's pools are destroyed while mod_watchdog's thread may still
 * be in a tick: a pre-cleanup of the child pool sets stopping and waits
 * for the tick in progress (which stops sending, records what it sent and
 * gives its connection back); no tick starts after that. Plain pthread
 * objects: they must outlive every pool. */
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stopping;

/* Fans queued events out to delivery rows, then claims due deliveries. */
static apr_status_t claim(server_rec *s, apr_pool_t *pool,
                          apr_array_header_t **claimed)
{
    const char *why = NULL;
    void *handle;
    mi_db_t *db = mi_dbd_open(s, pool, &handle, &why);
    apr_status_t rv = APR_EGENERAL;
    int taken;

    if (db && mi_outbox_fan_out(db, pool, MI_FAN_OUT_MAX, &taken)
                  != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00306)
                     "fanning webhook events out failed: %s", db->error);
    }
    if (db) {
        rv = mi_delivery_claim(db, pool, &mi_conf_of(s)->delivery,
                               MI_CLAIM_MAX, claimed);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00301)
                         "claiming webhook deliveries failed: %s", db->error);
        }
    }
    mi_dbd_close(s, db, handle);
    return rv;
}

/* One write transaction for the whole claim: on SQLite each commit is a
 * sync to disk and holds the write lock that requests need. */
static void finish(server_rec *s, apr_pool_t *pool,
                   const apr_array_header_t *claimed, int sent,
                   const mi_send_result_t *results)
{
    const char *why = "no connection";
    void *handle;
    mi_db_t *db = mi_dbd_open(s, pool, &handle, &why);

    /* Not recorded: the leases run out and the attempts are made again;
     * delivery is at least once. */
    if (!db || mi_delivery_finish(db, pool, &mi_conf_of(s)->delivery, claimed,
                                  sent, results) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00302)
                     "recording %d webhook deliveries failed: %s",
                     claimed->nelts, db && db->error ? db->error : why);
    }
    mi_dbd_close(s, db, handle);
}

/* One tick: claim, send until done or stopping, record what was sent. */
static void tick(server_rec *s, apr_pool_t *ptemp)
{
    apr_array_header_t *claimed = NULL;
    mi_send_result_t *results;
    int i;

    if (claim(s, ptemp, &claimed) != APR_SUCCESS || claimed->nelts == 0) {
        return;
    }
    results = apr_pcalloc(ptemp, claimed->nelts * sizeof(*results));
    for (i = 0; i < claimed->nelts && !stopping; i++) {
        const mi_delivery_t *d = &APR_ARRAY_IDX(claimed, i, mi_delivery_t);

        mi_delivery_send(ptemp, &mi_conf_of(s)->delivery, d, &results[i]);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, MI_LOGNO(00303)
                     "webhook delivery %s (%s) attempt %d: %s", d->id,
                     d->event, d->attempts + 1,
                     results[i].success ? "delivered" : results[i].error);
    }
    finish(s, ptemp, claimed, i, results);
}

static apr_status_t deliver(int state, void *baton, apr_pool_t *ptemp)
{
    if (state != AP_WATCHDOG_STATE_RUNNING) {
        return APR_SUCCESS;
    }
    pthread_mutex_lock(&tick_lock);
    if (!stopping) {
        tick(baton, ptemp);
    }
    pthread_mutex_unlock(&tick_lock);
    return APR_SUCCESS;
}

static apr_status_t stop_delivering(void *data)
{
    stopping = 1;
    pthread_mutex_lock(&tick_lock);     /* the tick in progress ends */
    pthread_mutex_unlock(&tick_lock);
    return APR_SUCCESS;
}

void mi_watchdog_child_init(apr_pool_t *pchild)
{
    stopping = 0;
    /* A pre-cleanup runs before the child pool's subpools (mod_dbd's
     * connections among them) are destroyed. */
    apr_pool_pre_cleanup_register(pchild, NULL, stop_delivering);
}

apr_status_t mi_watchdog_setup(server_rec *s, apr_pool_t *pconf)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback;
    ap_watchdog_t *wd;
    apr_status_t rv;

    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00304)
                     "mod_integration needs mod_watchdog to deliver webhooks "
                     "(LoadModule watchdog_module, unless httpd has it "
                     "built in)");
        return APR_EGENERAL;
    }
    /* parent = 0: the thread runs in a child; singleton = 1: in one child
     * at a time. */
    rv = get_instance(&wd, MI_WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS) {
        rv = register_callback(wd, MI_WATCHDOG_TICK, s, deliver);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00305)
                     "mod_integration: cannot start the webhook delivery "
                     "thread");
    }
    return rv;
}
