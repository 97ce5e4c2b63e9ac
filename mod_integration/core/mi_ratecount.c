/* mi_ratecount.c: a token's requests in its fixed window, counted in
 * Redis (mi_ratecount.h). */
#include <string.h>
#include "mi_ratecount.h"

#define KEY_PREFIX "mi:rl:"

const char *mi_ratecount_key(apr_pool_t *p, const char *token_id)
{
    return apr_pstrcat(p, KEY_PREFIX, token_id, NULL);
}

static char *command(apr_pool_t *p, const char *a, const char *b,
                     const char *c, const char *d, const char *e,
                     const char *f)
{
    const char *argv[] = { a, b, c, d, e, f };
    int argc = 0;

    while (argc < (int)MI_ARRAY_SIZE(argv) && argv[argc]) {
        argc++;
    }
    return mi_redis_command(p, argc, argv);
}

const char *mi_ratecount_request(apr_pool_t *p, const char *key, int window,
                                 apr_int64_t now_s, int consume,
                                 int *nreplies)
{
    if (!consume) {
        *nreplies = 2;
        return apr_pstrcat(p, command(p, "GET", key, NULL, NULL, NULL, NULL),
                           command(p, "PTTL", key, NULL, NULL, NULL, NULL),
                           NULL);
    }
    /* MULTI, QUEUED x 3, then EXEC's array of the three answers. */
    *nreplies = 5;
    return apr_pstrcat(p, command(p, "MULTI", NULL, NULL, NULL, NULL, NULL),
                       command(p, "SET", key, "0", "EXAT",
                               apr_psprintf(p, "%" APR_INT64_T_FMT,
                                            now_s + window), "NX"),
                       command(p, "INCR", key, NULL, NULL, NULL, NULL),
                       command(p, "PTTL", key, NULL, NULL, NULL, NULL),
                       command(p, "EXEC", NULL, NULL, NULL, NULL, NULL),
                       NULL);
}

static int is_status(const mi_redis_reply_t *r, const char *text)
{
    return r->type == MI_REDIS_STATUS && !strcmp(r->str, text);
}

/* GET's answer: a count, or none (NIL) for a token with no window. */
static int read_count(const mi_redis_reply_t *r, apr_int64_t *count)
{
    char *end;

    if (r->type == MI_REDIS_NIL) {
        *count = 0;
        return 1;
    }
    if (r->type != MI_REDIS_BULK || !r->len) {
        return 0;
    }
    *count = apr_strtoi64(r->str, &end, 10);
    return !*end && *count >= 0;
}

int mi_ratecount_read(const mi_redis_reply_t *replies, int consume,
                      apr_int64_t *count, apr_int64_t *ttl_ms)
{
    const mi_redis_reply_t *exec = &replies[4];
    int i;

    if (!consume) {
        if (!read_count(&replies[0], count)
            || replies[1].type != MI_REDIS_INTEGER) {
            return 0;
        }
        *ttl_ms = replies[1].integer;
        return 1;
    }
    if (!is_status(&replies[0], "OK")) {
        return 0;
    }
    for (i = 1; i <= 3; i++) {
        if (!is_status(&replies[i], "QUEUED")) {
            return 0;
        }
    }
    if (exec->type != MI_REDIS_ARRAY || exec->n != 3
        || exec->elements[1].type != MI_REDIS_INTEGER
        || exec->elements[2].type != MI_REDIS_INTEGER
        || exec->elements[1].integer < 1) {
        return 0;
    }
    *count = exec->elements[1].integer;
    *ttl_ms = exec->elements[2].integer;
    return 1;
}

void mi_ratecount_state(apr_int64_t count, apr_int64_t ttl_ms, int limit,
                        int window, int consume, apr_int64_t now_ms,
                        mi_rate_state_t *st)
{
    if (ttl_ms < 0) {
        /* No window (a peek of an idle token): one would start now. */
        ttl_ms = (apr_int64_t)window * 1000;
    }
    st->limit = limit;
    st->allowed = !consume || count <= limit;
    st->remaining = count >= limit ? 0 : limit - (int)count;
    st->reset = (now_ms + ttl_ms + 999) / 1000;
}

apr_status_t mi_ratecount_check(mi_redis_conn_t *conn, apr_pool_t *p,
                                const char *token_id, int limit, int window,
                                int consume, apr_time_t deadline,
                                mi_rate_state_t *st)
{
    mi_redis_reply_t replies[5];
    apr_int64_t count, ttl_ms;
    int nreplies;
    apr_int64_t now_ms = apr_time_as_msec(apr_time_now());
    const char *request = mi_ratecount_request(
        p, mi_ratecount_key(p, token_id), window, now_ms / 1000, consume,
        &nreplies);
    apr_status_t rv = mi_redis_exchange(conn, p, request, nreplies, replies,
                                        deadline);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!mi_ratecount_read(replies, consume, &count, &ttl_ms)) {
        return APR_EGENERAL;
    }
    mi_ratecount_state(count, ttl_ms, limit, window, consume, now_ms, st);
    return APR_SUCCESS;
}
