/* mod_integration_ratelimit.c: per-token request counts in shared memory.
 *
 * A fixed table of slots, found by hashing the token id with linear
 * probing; a slot whose window has ended is free for any token. When every
 * probed slot is live, the one whose window ends first is taken over: that
 * token starts a fresh window, the only way this table can err, and only
 * with more than MI_RATELIMIT_SLOTS tokens active in one window.
 *
 * Several httpd nodes each count their own requests; see docs/directives.md
 * for how a shared count would be kept.
 */
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <string.h>
#include <http_main.h>
#include <util_mutex.h>
#include "mod_integration_ratelimit.h"

#define MI_RATELIMIT_SLOTS 4096
#define MI_RATELIMIT_PROBE 16

typedef struct {
    apr_uint64_t key;           /* 0: never used */
    apr_int64_t window_end;     /* Unix seconds */
    apr_uint32_t count;
} slot_t;

struct mi_ratelimit_t {
    apr_global_mutex_t *mutex;
    slot_t *slots;
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

static apr_status_t retained_table(server_rec *s, slot_t **slots)
{
    apr_size_t size = MI_RATELIMIT_SLOTS * sizeof(slot_t);
    retained_t *kept = ap_retained_data_get(MI_RATELIMIT_RETAINED);
    apr_status_t rv;

    if (!kept) {
        kept = ap_retained_data_create(MI_RATELIMIT_RETAINED, sizeof(*kept));
    }
    if (!kept->shm || kept->size != size) {
        /* A build with another slot layout starts afresh. */
        rv = apr_shm_create(&kept->shm, size, NULL, s->process->pool);
        if (rv != APR_SUCCESS) {
            kept->shm = NULL;
            return rv;
        }
        kept->size = size;
        memset(apr_shm_baseaddr_get(kept->shm), 0, size);
    }
    *slots = apr_shm_baseaddr_get(kept->shm);
    return APR_SUCCESS;
}

apr_status_t mi_ratelimit_create(mi_ratelimit_t **out, server_rec *s,
                                 apr_pool_t *pconf)
{
    mi_ratelimit_t *rl = apr_pcalloc(pconf, sizeof(*rl));
    apr_status_t rv = retained_table(s, &rl->slots);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = ap_global_mutex_create(&rl->mutex, NULL, MI_RATELIMIT_MUTEX, NULL, s,
                                pconf, 0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *out = rl;
    return APR_SUCCESS;
}

apr_status_t mi_ratelimit_child_init(mi_ratelimit_t *rl, apr_pool_t *p)
{
    return apr_global_mutex_child_init(&rl->mutex,
                                       apr_global_mutex_lockfile(rl->mutex),
                                       p);
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
        slot_t *sl = &rl->slots[(key + i) % MI_RATELIMIT_SLOTS];

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

void mi_ratelimit_check(mi_ratelimit_t *rl, const char *key, int limit,
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
