/* mi_watchdog.c: webhook delivery from a mod_watchdog thread.
 *
 * Every MI_WATCHDOG_TICK the thread claims due deliveries (with a lease, so
 * that other processes and nodes leave them alone), gives the database
 * connection back while it sends them, then records each outcome. The
 * watchdog is a singleton: one child of an httpd runs it at a time; several
 * nodes each run theirs, and the leases keep them apart. A delivery whose
 * worker died is taken up again when its lease ends.
 */
#include "mi_watchdog.h"
#include <apr_optional.h>
#include <mod_dbd.h>
#include <mod_watchdog.h>
#include "mi_delivery.h"
#include "mi_outbox.h"

#define MI_WATCHDOG_NAME "_integration_webhooks_"
#define MI_WATCHDOG_TICK apr_time_from_msec(200)
#define MI_CLAIM_MAX 50
#define MI_FAN_OUT_MAX 1000

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

static const mi_server_conf_t *conf_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &integration_module);
}

/* Fans queued events out to delivery rows, then claims due deliveries. */
static apr_status_t claim(server_rec *s, apr_pool_t *pool,
                          apr_array_header_t **claimed)
{
    ap_dbd_t *dbd = dbd_open(pool, s);
    mi_db_t *db = dbd ? mi_db_of_dbd(pool, dbd) : NULL;
    apr_status_t rv = APR_EGENERAL;
    int taken;

    if (db && mi_outbox_fan_out(db, pool, MI_FAN_OUT_MAX, &taken)
                  != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00306)
                     "fanning webhook events out failed: %s", db->error);
    }
    if (db) {
        rv = mi_delivery_claim(db, pool, &conf_of(s)->delivery,
                               MI_CLAIM_MAX, claimed);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00301)
                         "claiming webhook deliveries failed: %s", db->error);
        }
    }
    if (dbd) {
        dbd_close(s, dbd);
    }
    return rv;
}

/* One write transaction for the whole claim: on SQLite each commit is a
 * sync to disk and holds the write lock that requests need. */
static void finish(server_rec *s, apr_pool_t *pool,
                   const apr_array_header_t *claimed,
                   const mi_send_result_t *results)
{
    ap_dbd_t *dbd = dbd_open(pool, s);
    mi_db_t *db = dbd ? mi_db_of_dbd(pool, dbd) : NULL;

    /* Not recorded: the leases run out and the attempts are made again;
     * delivery is at least once. */
    if (!db || mi_delivery_finish(db, pool, &conf_of(s)->delivery, claimed,
                                  results) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00302)
                     "recording %d webhook deliveries failed: %s",
                     claimed->nelts,
                     db && db->error ? db->error : "no connection");
    }
    if (dbd) {
        dbd_close(s, dbd);
    }
}

static apr_status_t deliver(int state, void *baton, apr_pool_t *ptemp)
{
    server_rec *s = baton;
    apr_array_header_t *claimed = NULL;
    mi_send_result_t *results;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING
        || claim(s, ptemp, &claimed) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    if (claimed->nelts == 0) {
        return APR_SUCCESS;
    }
    results = apr_pcalloc(ptemp, claimed->nelts * sizeof(*results));
    for (i = 0; i < claimed->nelts; i++) {
        const mi_delivery_t *d = &APR_ARRAY_IDX(claimed, i, mi_delivery_t);

        mi_delivery_send(ptemp, &conf_of(s)->delivery, d, &results[i]);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, MI_LOGNO(00303)
                     "webhook delivery %s (%s) attempt %d: %s", d->id,
                     d->event, d->attempts + 1,
                     results[i].success ? "delivered" : results[i].error);
    }
    finish(s, ptemp, claimed, results);
    return APR_SUCCESS;
}

apr_status_t mi_watchdog_setup(server_rec *s, apr_pool_t *pconf)
{
    APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *get_instance;
    APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *register_callback;
    ap_watchdog_t *wd;
    apr_status_t rv;

    get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!get_instance || !register_callback) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00304)
                     "mod_integration needs mod_watchdog to deliver webhooks "
                     "(LoadModule watchdog_module, unless httpd has it "
                     "built in)");
        return APR_EGENERAL;
    }
    if (!dbd_open || !dbd_close) {
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
