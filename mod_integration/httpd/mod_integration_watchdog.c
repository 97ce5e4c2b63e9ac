/* mod_integration_watchdog.c: webhook delivery from a mod_watchdog thread.
 *
 * The thread keeps up to IntegrationWebhookConcurrency attempts in flight
 * on one libcurl multi handle (mi_sender): it claims due deliveries in
 * turns across webhooks, each with a lease for one attempt (so that other
 * processes and nodes leave them alone), starts them, and records the
 * outcomes in batches. It holds a database connection only to claim and to
 * record, never while sending. While there is work it stays in one call of
 * the watchdog callback; when nothing is due and nothing is in flight it
 * returns, and mod_watchdog calls it again a tick later.
 *
 * The watchdog is a singleton: one child of an httpd runs it at a time;
 * several nodes each run theirs, and the leases keep them apart. A
 * delivery whose node died is taken up again when its lease ends.
 */
#include "mod_integration_watchdog.h"
#include <errno.h>
#include <pthread.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <apr_optional.h>
#include <mod_watchdog.h>
#include "mod_integration_dbd.h"
#include "mod_integration_metrics.h"
#include "mi_delivery.h"
#include "mi_outbox.h"
#include "mi_sender.h"

#define MI_WATCHDOG_NAME "_integration_webhooks_"
#define MI_WATCHDOG_TICK apr_time_from_msec(200)
/* Events fanned out per claim, in one transaction: a delivery row per
 * subscribed webhook each. Small, so that on SQLite the thread holds the
 * write lock for short turns between requests' writes (1000 events to 10
 * webhooks held it for 10,000 rows: writes beside it fell to a fifth);
 * claims come often enough that the outbox still empties faster than
 * deliveries go out. */
#define MI_FAN_OUT_MAX 100
/* Nothing was due: look again this much later (while attempts are in
 * flight; when none are, the watchdog's tick). A delivery that becomes due
 * waits at most this long, whatever other receivers do. */
#define MI_LOOK_AGAIN apr_time_from_msec(200)
/* Some room: claim again after this, or as soon as a quarter of the
 * concurrency is free. */
#define MI_CLAIM_EVERY apr_time_from_msec(20)
/* Outcomes are recorded in one transaction when this many are waiting, or
 * when the oldest has waited this long. */
#define MI_RECORD_BATCH 64
#define MI_RECORD_EVERY apr_time_from_msec(20)
/* The longest wait for network activity between two looks at stopping. */
#define MI_POLL_MAX apr_time_from_msec(100)
/* On SQLite, whose one write lock the thread shares with requests, a
 * request's bulk write goes first: before it takes a connection to write,
 * the thread waits while one is writing, at most this long (so that
 * deliveries go on beside a steady stream of writes). */
#define MI_YIELD_MAX apr_time_from_msec(50)
/* A stopping child claims nothing more and lets the attempts in flight
 * finish for at most this long (well inside the 9 s httpd gives a child
 * before it kills it): one given back after its request reached the
 * receiver would be sent again by the next generation, the same attempt
 * twice. What is still in flight then is given back. */
#define MI_DRAIN_MAX apr_time_from_sec(3)
/* The thread's nice value, against the request threads' 0. */
#define MI_DELIVERY_NICE 10

/* The child's pools are destroyed while mod_watchdog's thread may still
 * be delivering: a pre-cleanup of the child pool sets stopping and waits
 * for the delivery in progress (which lets what is in flight finish, for
 * MI_DRAIN_MAX at most, records it, gives back what is still in flight and
 * gives its connection back); none starts after that.
 * Plain pthread objects: they must outlive every pool. */
static pthread_mutex_t tick_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stopping;

static void yield_to_writes(server_rec *s)
{
    const dbd_cfg_t *cfg = mi_dbd_config(s);
    apr_time_t until = apr_time_now() + MI_YIELD_MAX;

    if (!cfg || !cfg->name || strcmp(cfg->name, "sqlite3")) {
        return;
    }
    while (!stopping && mi_metrics_writes_in_flight()
           && apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(1));
    }
}

/* Fans queued events out to delivery rows (*fanned: how many events),
 * then claims up to room due deliveries and starts them: how many were
 * claimed, -1 on a failure. */
static int claim(server_rec *s, apr_pool_t *pool, mi_sender_t *sender,
                 int room, int *fanned)
{
    const char *why = NULL;
    void *handle;
    mi_db_t *db;
    apr_array_header_t *claimed = NULL, *refused;
    int i;

    *fanned = 0;
    yield_to_writes(s);
    if (!(db = mi_dbd_open(s, pool, &handle, &why))) {
        return -1;
    }
    if (mi_outbox_fan_out(db, pool, MI_FAN_OUT_MAX, fanned)
            != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00306)
                     "fanning webhook events out failed: %s", db->error);
    }
    if (mi_delivery_claim(db, pool, &mi_conf_of(s)->delivery, room,
                          &claimed) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00301)
                     "claiming webhook deliveries failed: %s", db->error);
        mi_dbd_close(s, db, handle);
        return -1;
    }
    refused = apr_array_make(pool, 1, sizeof(mi_delivery_t));
    for (i = 0; i < claimed->nelts; i++) {
        const mi_delivery_t *d = &APR_ARRAY_IDX(claimed, i, mi_delivery_t);

        if (!mi_sender_add(sender, d)) {
            *(mi_delivery_t *)apr_array_push(refused) = *d;
        }
    }
    /* No room here for these (their webhook has as many in flight as it
     * may have, counted here while the claim counted leases): their
     * leases end now. */
    if (refused->nelts > 0
        && mi_delivery_finish(db, pool, &mi_conf_of(s)->delivery, refused,
                              0, NULL) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, MI_LOGNO(00302)
                     "recording %d webhook deliveries failed: %s",
                     refused->nelts, db->error);
    }
    mi_dbd_close(s, db, handle);
    return claimed->nelts - refused->nelts;
}

/* Finished attempts taken from the sender and not yet recorded: a record
 * that fails (SQLite busy past IntegrationDbTimeout, the database gone)
 * keeps them for the next, instead of letting their leases run out and
 * the same attempts be made again. */
typedef struct {
    apr_pool_t *pool;           /* holds done; NULL when nothing is kept */
    apr_array_header_t *done;   /* mi_sent_t */
    int failures;               /* records of them that failed */
} outcomes_t;

/* Takes the finished attempts from the sender into o, counted and logged
 * once each. */
static void take_done(server_rec *s, apr_pool_t *parent, mi_sender_t *sender,
                      outcomes_t *o)
{
    apr_array_header_t *done;
    int i;

    if (!o->pool) {
        apr_pool_create(&o->pool, parent);
        o->done = apr_array_make(o->pool, 16, sizeof(mi_sent_t));
        o->failures = 0;
    }
    done = mi_sender_done(sender, o->pool);
    for (i = 0; i < done->nelts; i++) {
        const mi_sent_t *d = &APR_ARRAY_IDX(done, i, mi_sent_t);

        mi_metrics_delivery(&d->result);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, MI_LOGNO(00303)
                     "webhook delivery %s (%s) attempt %d: %s",
                     d->delivery.id, d->delivery.event,
                     d->delivery.attempts + 1,
                     d->result.success ? "delivered" : d->result.error);
    }
    apr_array_cat(o->done, done);
}

/* Records the finished attempts (and, when cancel, gives back what is in
 * flight) in one write transaction: on SQLite each commit is a sync to
 * disk and holds the write lock that requests need. What fails to be
 * recorded stays in o for the next call. */
static void record(server_rec *s, apr_pool_t *parent, mi_sender_t *sender,
                   outcomes_t *o, int cancel)
{
    apr_pool_t *pool;
    apr_array_header_t *unsent, *all;
    mi_send_result_t *results;
    const char *why = "no connection";
    void *handle;
    mi_db_t *db;
    int i, n;

    take_done(s, parent, sender, o);
    apr_pool_create(&pool, parent);
    unsent = cancel ? mi_sender_cancel(sender, pool)
                    : apr_array_make(pool, 1, sizeof(mi_delivery_t));
    n = o->done->nelts;
    if (n + unsent->nelts == 0) {
        apr_pool_destroy(o->pool);
        o->pool = NULL;
        apr_pool_destroy(pool);
        return;
    }
    all = apr_array_make(pool, n + unsent->nelts, sizeof(mi_delivery_t));
    results = apr_pcalloc(pool, (n + 1) * sizeof(*results));
    for (i = 0; i < n; i++) {
        const mi_sent_t *d = &APR_ARRAY_IDX(o->done, i, mi_sent_t);

        *(mi_delivery_t *)apr_array_push(all) = d->delivery;
        results[i] = d->result;
    }
    apr_array_cat(all, unsent);
    if (!cancel) {
        yield_to_writes(s);
    }
    db = mi_dbd_open(s, pool, &handle, &why);
    if (db && mi_delivery_finish(db, pool, &mi_conf_of(s)->delivery, all,
                                 n, results) == APR_SUCCESS) {
        if (o->failures > 0) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, MI_LOGNO(00308)
                         "recorded %d webhook deliveries after %d failed "
                         "tries", all->nelts, o->failures);
        }
        apr_pool_destroy(o->pool);
        o->pool = NULL;
    }
    else {
        /* Kept for the next call (tried again every MI_LOOK_AGAIN, and
         * logged at the first failure only); when this was the last (the
         * child stops: logged too), the leases run out and the attempts
         * are made again: delivery is at least once. */
        int level = o->failures++ && !cancel ? APLOG_DEBUG : APLOG_WARNING;

        /* (ap_log_error evaluates its level more than once.) */
        ap_log_error(APLOG_MARK, level, 0, s, MI_LOGNO(00302)
                     "recording %d webhook deliveries failed: %s",
                     all->nelts, db && db->error ? db->error : why);
    }
    mi_dbd_close(s, db, handle);
    apr_pool_destroy(pool);
}

/* The child stops: the attempts in flight finish, or MI_DRAIN_MAX ends. */
static void drain(const mi_delivery_conf_t *conf, mi_sender_t *sender)
{
    apr_interval_time_t most = conf->timeout < MI_DRAIN_MAX
                               ? conf->timeout : MI_DRAIN_MAX;
    apr_time_t until = apr_time_now() + most, now;

    while (mi_sender_in_flight(sender) > 0
           && (now = apr_time_now()) < until) {
        mi_sender_run(sender, until - now < MI_POLL_MAX ? until - now
                                                        : MI_POLL_MAX);
    }
}

/* Delivers until nothing is due or in flight, or the child stops. */
static void deliver_while_busy(server_rec *s, apr_pool_t *ptemp)
{
    const mi_delivery_conf_t *conf = &mi_conf_of(s)->delivery;
    int quarter = conf->concurrency / 4 > 0 ? conf->concurrency / 4 : 1;
    apr_time_t next_claim = 0, now;
    outcomes_t kept = { NULL, NULL, 0 };
    mi_sender_t *sender;
    apr_pool_t *pool;

    apr_pool_create(&pool, ptemp);
    if (!(sender = mi_sender_create(pool, conf, conf->concurrency,
                                    MI_DELIVERY_PER_WEBHOOK))) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, MI_LOGNO(00307)
                     "cannot start libcurl's multi interface for webhook "
                     "deliveries");
        apr_pool_destroy(pool);
        return;
    }
    while (!stopping) {
        int room = mi_sender_room(sender);
        apr_interval_time_t wait = MI_POLL_MAX;

        now = apr_time_now();
        if (room > 0 && (now >= next_claim || room >= quarter)) {
            apr_pool_t *iter;
            int got, fanned;

            /* The outcomes first: a claim must see which webhooks have
             * just failed, and the leases that have just ended. */
            if (mi_sender_done_count(sender) > 0 || kept.pool) {
                record(s, pool, sender, &kept, 0);
            }
            /* Nothing more is sent while outcomes wait to be recorded:
             * they stay at most as many as were in flight. */
            got = fanned = 0;
            if (!kept.pool) {
                apr_pool_create(&iter, pool);
                got = claim(s, iter, sender, room, &fanned);
                apr_pool_destroy(iter);
            }
            now = apr_time_now();
            /* Events fanned out: more may wait (events that no webhook
             * takes, too), and the outbox empties at once, not a turn of
             * MI_FAN_OUT_MAX per tick. */
            next_claim = fanned > 0 ? now
                         : now + (got <= 0 ? MI_LOOK_AGAIN : MI_CLAIM_EVERY);
            /* Outcomes not yet recorded keep the thread here: they go
             * with this call's pool. */
            if (got <= 0 && fanned == 0 && mi_sender_in_flight(sender) == 0
                && !kept.pool) {
                break;
            }
        }
        if (mi_sender_room(sender) > 0 && next_claim - now < wait) {
            wait = next_claim > now ? next_claim - now : 0;
        }
        mi_sender_run(sender, wait);
        if (mi_sender_done_count(sender) > 0
            && (mi_sender_done_age(sender) >= MI_RECORD_EVERY
                || mi_sender_in_flight(sender) == 0
                || mi_sender_done_count(sender) >= MI_RECORD_BATCH)) {
            record(s, pool, sender, &kept, 0);
        }
    }
    if (stopping) {
        drain(conf, sender);
    }
    record(s, pool, sender, &kept, 1);
    apr_pool_destroy(pool);
}

/* Requests first: the thread runs at a lower CPU priority than the
 * child's request threads (nice MI_DELIVERY_NICE, Linux, where a thread
 * has its own), so that on a busy machine the deliveries of a write take
 * the cores the writes leave, and catch up when they are idle. (With 10
 * webhooks, a bulk write of 500 records is 5,010 attempts to sign, send
 * and record.) */
static void lower_priority(server_rec *s)
{
#ifdef __linux__
    static __thread int done;

    if (!done) {
        done = 1;
        if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
                        MI_DELIVERY_NICE) != 0) {
            ap_log_error(APLOG_MARK, APLOG_DEBUG, errno, s, MI_LOGNO(00309)
                         "cannot lower the webhook delivery thread's "
                         "priority");
        }
    }
#else
    (void)s;
#endif
}

static apr_status_t deliver(int state, void *baton, apr_pool_t *ptemp)
{
    if (state != AP_WATCHDOG_STATE_RUNNING) {
        return APR_SUCCESS;
    }
    lower_priority(baton);
    pthread_mutex_lock(&tick_lock);
    if (!stopping) {
        deliver_while_busy(baton, ptemp);
    }
    pthread_mutex_unlock(&tick_lock);
    return APR_SUCCESS;
}

static apr_status_t stop_delivering(void *data)
{
    stopping = 1;
    pthread_mutex_lock(&tick_lock);     /* the delivery in progress ends */
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
