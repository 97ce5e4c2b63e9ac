/* mod_integration_ratelimit.c: per-token request counts, in shared memory
 * or in Redis.
 *
 * Shared memory: a fixed table of slots, found by hashing the token id with
 * linear probing; a slot whose window has ended is free for any token. When
 * every probed slot is live, the one whose window ends first is taken over:
 * that token starts a fresh window, the only way this table can err, and
 * only with more than MI_RATELIMIT_SLOTS tokens active in one window.
 *
 * Redis (IntegrationRateLimitStore redis://...): every node counts in the
 * same key per token (mi_ratecount.c), over connections of each process
 * kept between requests. Each check waits at most MI_RATELIMIT_STORE_WAIT
 * for Redis; when it does not answer, the node's table counts instead, the
 * node stops asking Redis but for one request per MI_RATELIMIT_RETRY
 * seconds, and says so in its log once per MI_RATELIMIT_LOG_EVERY seconds
 * (the state is in the shared table: once per node, not per process).
 */
#include <apr_atomic.h>
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_thread_mutex.h>
#include <string.h>
#include <ap_mpm.h>
#include <http_main.h>
#include <util_mutex.h>
#include "mod_integration_ratelimit.h"

#define MI_RATELIMIT_SLOTS 4096
#define MI_RATELIMIT_PROBE 16
#define MI_RATELIMIT_STORE_WAIT apr_time_from_msec(200)
#define MI_RATELIMIT_RETRY 1            /* seconds */
#define MI_RATELIMIT_LOG_EVERY 60       /* seconds */

typedef struct {
    apr_uint64_t key;           /* 0: never used */
    apr_int64_t window_end;     /* Unix seconds */
    apr_uint32_t count;
} slot_t;

/* Whether the store answers, for every process of the node; Unix
 * seconds, updated with atomic operations. */
typedef struct {
    apr_uint32_t down_since;    /* 0 while it answers */
    apr_uint32_t retry_at;      /* while down: when a request may try it */
    apr_uint32_t logged_at;     /* while down: the last line about it */
} store_health_t;

typedef struct {
    store_health_t store;
    slot_t slots[MI_RATELIMIT_SLOTS];
} table_t;

/* A connection to the store and the pool it lives in. */
typedef struct {
    mi_redis_conn_t *conn;
    apr_pool_t *pool;
} store_conn_t;

struct mi_ratelimit_t {
    apr_global_mutex_t *mutex;
    table_t *table;
    const mi_redis_addr_t *store;       /* NULL: the table only */
    const char *store_name;             /* host:port, for the log */
    /* This process's connections to the store between requests. */
    apr_thread_mutex_t *idle_mutex;
    apr_array_header_t *idle;           /* of store_conn_t */
};

apr_status_t mi_ratelimit_register(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, MI_RATELIMIT_MUTEX, NULL,
                             APR_LOCK_DEFAULT, 0);
}

/* The table outlives restarts: it is kept in httpd's retained data, in
 * memory of the process pool, so that a graceful restart (every night's
 * logrotate) resets no count. Created once, at the first start. */
typedef struct {
    apr_shm_t *shm;
    apr_size_t size;
} retained_t;

#define MI_RATELIMIT_RETAINED "mod_integration:ratelimit"

static apr_status_t retained_table(server_rec *s, table_t **table)
{
    apr_size_t size = sizeof(table_t);
    retained_t *kept = ap_retained_data_get(MI_RATELIMIT_RETAINED);
    apr_status_t rv;

    if (!kept) {
        kept = ap_retained_data_create(MI_RATELIMIT_RETAINED, sizeof(*kept));
    }
    if (!kept->shm || kept->size != size) {
        /* A build with another table layout starts afresh. */
        rv = apr_shm_create(&kept->shm, size, NULL, s->process->pool);
        if (rv != APR_SUCCESS) {
            kept->shm = NULL;
            return rv;
        }
        kept->size = size;
        memset(apr_shm_baseaddr_get(kept->shm), 0, size);
    }
    *table = apr_shm_baseaddr_get(kept->shm);
    return APR_SUCCESS;
}

apr_status_t mi_ratelimit_create(mi_ratelimit_t **out, server_rec *s,
                                 apr_pool_t *pconf,
                                 const mi_redis_addr_t *store)
{
    mi_ratelimit_t *rl = apr_pcalloc(pconf, sizeof(*rl));
    apr_status_t rv = retained_table(s, &rl->table);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rl->store = store;
    rl->store_name = store ? mi_redis_addr_text(pconf, store) : NULL;
    rv = ap_global_mutex_create(&rl->mutex, NULL, MI_RATELIMIT_MUTEX, NULL, s,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = rl;
    return APR_SUCCESS;
}

/* The connections' pools have no parent (request threads create them, and
 * the child's pool is not theirs to use): the idle ones go with the
 * child's pool. */
static apr_status_t close_idle(void *data)
{
    mi_ratelimit_t *rl = data;
    int i;

    for (i = 0; i < rl->idle->nelts; i++) {
        apr_pool_destroy(APR_ARRAY_IDX(rl->idle, i, store_conn_t).pool);
    }
    rl->idle->nelts = 0;
    return APR_SUCCESS;
}

apr_status_t mi_ratelimit_child_init(mi_ratelimit_t *rl, apr_pool_t *p)
{
    apr_status_t rv;
    int threads;

    rv = apr_global_mutex_child_init(&rl->mutex,
                                     apr_global_mutex_lockfile(rl->mutex), p);
    if (rv != APR_SUCCESS || !rl->store) {
        return rv;
    }
    rv = apr_thread_mutex_create(&rl->idle_mutex, APR_THREAD_MUTEX_DEFAULT,
                                 p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* Each thread holds one connection at most: never more idle ones, so
     * the array never grows (from request threads, in the child's pool). */
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    rl->idle = apr_array_make(p, threads, sizeof(store_conn_t));
    apr_pool_cleanup_register(p, rl, close_idle, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* FNV-1a, never 0 (0 marks an unused slot). */
static apr_uint64_t key_hash(const char *key)
{
    apr_uint64_t h = 14695981039346656037ULL;

    for (; *key; key++) {
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    }
    return h ? h : 1;
}

static slot_t *find_slot(mi_ratelimit_t *rl, apr_uint64_t key,
                         apr_int64_t now)
{
    slot_t *oldest = NULL, *free_slot = NULL;
    int i;

    for (i = 0; i < MI_RATELIMIT_PROBE; i++) {
        slot_t *sl = &rl->table->slots[(key + i) % MI_RATELIMIT_SLOTS];

        if (sl->key == key) {
            return sl;
        }
        if (!free_slot && (sl->key == 0 || sl->window_end <= now)) {
            free_slot = sl;
        }
        if (!oldest || sl->window_end < oldest->window_end) {
            oldest = sl;
        }
    }
    oldest = free_slot ? free_slot : oldest;
    oldest->key = key;
    oldest->window_end = 0;
    oldest->count = 0;
    return oldest;
}

/* This node's count, in the shared table. */
static void node_check(mi_ratelimit_t *rl, const char *key, int limit,
                       int window, int consume, mi_ratelimit_state_t *st)
{
    apr_int64_t now = apr_time_sec(apr_time_now());
    slot_t *sl;

    st->limit = limit;
    st->allowed = 1;
    if (apr_global_mutex_lock(rl->mutex) != APR_SUCCESS) {
        /* Fail open: a broken lock must not take the API down. */
        st->remaining = limit;
        st->reset = now + window;
        return;
    }
    sl = find_slot(rl, key_hash(key), now);
    if (sl->window_end <= now) {
        sl->window_end = now + window;
        sl->count = 0;
    }
    if (consume) {
        if (sl->count < (apr_uint32_t)limit) {
            sl->count++;
        }
        else {
            st->allowed = 0;
        }
    }
    st->remaining = limit - (int)sl->count;
    st->reset = sl->window_end;
    apr_global_mutex_unlock(rl->mutex);
}

/* ---- the store ---------------------------------------------------------- */

/* An idle connection of this process into *sc: 1 when there was one. */
static int take_idle(mi_ratelimit_t *rl, store_conn_t *sc)
{
    int found = 0;

    apr_thread_mutex_lock(rl->idle_mutex);
    if (rl->idle->nelts > 0) {
        *sc = APR_ARRAY_IDX(rl->idle, --rl->idle->nelts, store_conn_t);
        found = 1;
    }
    apr_thread_mutex_unlock(rl->idle_mutex);
    return found;
}

/* Closes the connection: after a failure it is out of step with Redis. */
static void discard(store_conn_t *sc)
{
    apr_pool_destroy(sc->pool);
    sc->pool = NULL;
}

static void give_back(mi_ratelimit_t *rl, store_conn_t *sc)
{
    int kept = 0;

    apr_thread_mutex_lock(rl->idle_mutex);
    if (rl->idle->nelts < rl->idle->nalloc) {
        APR_ARRAY_PUSH(rl->idle, store_conn_t) = *sc;
        kept = 1;
    }
    apr_thread_mutex_unlock(rl->idle_mutex);
    if (!kept) {
        discard(sc);
    }
}

static apr_status_t open_conn(mi_ratelimit_t *rl, store_conn_t *sc,
                              apr_time_t deadline)
{
    apr_status_t rv = apr_pool_create_unmanaged_ex(&sc->pool, NULL, NULL);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = mi_redis_connect(&sc->conn, sc->pool, rl->store, deadline);
    if (rv != APR_SUCCESS) {
        discard(sc);
    }
    return rv;
}

/* The count in the store, within MI_RATELIMIT_STORE_WAIT. */
static apr_status_t store_check(mi_ratelimit_t *rl, request_rec *r,
                                const char *key, int limit, int window,
                                int consume, mi_ratelimit_state_t *st)
{
    apr_time_t deadline = apr_time_now() + MI_RATELIMIT_STORE_WAIT;
    store_conn_t sc;
    int reused = take_idle(rl, &sc);
    apr_status_t rv;

    if (!reused && (rv = open_conn(rl, &sc, deadline)) != APR_SUCCESS) {
        return rv;
    }
    rv = mi_ratecount_check(sc.conn, r->pool, key, limit, window, consume,
                            deadline, st);
    if (rv != APR_SUCCESS && reused && rv != APR_TIMEUP) {
        /* An idle connection that Redis closed (a restart, its idle
         * timeout): once more on a new one. */
        discard(&sc);
        if ((rv = open_conn(rl, &sc, deadline)) != APR_SUCCESS) {
            return rv;
        }
        rv = mi_ratecount_check(sc.conn, r->pool, key, limit, window,
                                consume, deadline, st);
    }
    if (rv == APR_SUCCESS) {
        give_back(rl, &sc);
    }
    else {
        discard(&sc);
    }
    return rv;
}

/* Whether this request asks the store: always while it answers; while it
 * does not, one request of the node per MI_RATELIMIT_RETRY seconds. */
static int store_worth_asking(store_health_t *h, apr_uint32_t now)
{
    apr_uint32_t retry_at;

    if (!apr_atomic_read32(&h->down_since)) {
        return 1;
    }
    retry_at = apr_atomic_read32(&h->retry_at);
    return now >= retry_at
           && apr_atomic_cas32(&h->retry_at, now + MI_RATELIMIT_RETRY,
                               retry_at) == retry_at;
}

static void store_failed(mi_ratelimit_t *rl, server_rec *s, apr_status_t rv,
                         apr_uint32_t now)
{
    store_health_t *h = &rl->table->store;
    apr_uint32_t since, logged;

    apr_atomic_set32(&h->retry_at, now + MI_RATELIMIT_RETRY);
    since = apr_atomic_cas32(&h->down_since, now, 0);
    if (since == 0) {
        apr_atomic_set32(&h->logged_at, now);
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, MI_LOGNO(00401)
                     "rate limit store redis://%s cannot be used: this "
                     "node counts requests on its own until it can",
                     rl->store_name);
        return;
    }
    logged = apr_atomic_read32(&h->logged_at);
    if (now - logged >= MI_RATELIMIT_LOG_EVERY
        && apr_atomic_cas32(&h->logged_at, now, logged) == logged) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, MI_LOGNO(00402)
                     "rate limit store redis://%s has not been usable for "
                     "%u s: this node still counts requests on its own",
                     rl->store_name, (unsigned)(now - since));
    }
}

static void store_answered(mi_ratelimit_t *rl, server_rec *s)
{
    store_health_t *h = &rl->table->store;
    apr_uint32_t since = apr_atomic_read32(&h->down_since);

    if (since && apr_atomic_cas32(&h->down_since, 0, since) == since) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, MI_LOGNO(00403)
                     "rate limit store redis://%s answers again: requests "
                     "are counted there again", rl->store_name);
    }
}

void mi_ratelimit_check(mi_ratelimit_t *rl, request_rec *r, const char *key,
                        int limit, int window, int consume,
                        mi_ratelimit_state_t *st)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_status_t rv;

    if (rl->store && rl->idle
        && store_worth_asking(&rl->table->store, now)) {
        rv = store_check(rl, r, key, limit, window, consume, st);
        if (rv == APR_SUCCESS) {
            store_answered(rl, r->server);
            return;
        }
        store_failed(rl, r->server, rv, now);
    }
    node_check(rl, key, limit, window, consume, st);
}

void mi_ratelimit_headers(request_rec *r, const mi_ratelimit_state_t *st)
{
    apr_table_t *h = r->err_headers_out;

    apr_table_setn(h, "X-RateLimit-Limit", apr_itoa(r->pool, st->limit));
    apr_table_setn(h, "X-RateLimit-Remaining",
                   apr_itoa(r->pool, st->remaining));
    apr_table_setn(h, "X-RateLimit-Reset",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, st->reset));
    if (!st->allowed) {
        apr_int64_t wait = st->reset - apr_time_sec(apr_time_now());

        apr_table_setn(h, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                    wait > 0 ? wait : 1));
    }
}
