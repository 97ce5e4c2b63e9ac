/* mi_ratecount.h: a token's requests in its fixed window, counted in Redis
 * so that every httpd node sees the same count: the key, the commands that
 * count a request (or only read the count), and what their replies mean
 * for the request and its X-RateLimit-* headers. */
#ifndef MI_RATECOUNT_H
#define MI_RATECOUNT_H

#include "mi_common.h"
#include "mi_redis.h"

typedef struct {
    int allowed;
    int limit;
    int remaining;
    apr_int64_t reset;          /* Unix seconds when the window ends */
} mi_rate_state_t;

/* "mi:rl:<token id>": the token's id, never the token itself. */
const char *mi_ratecount_key(apr_pool_t *p, const char *token_id);

/* Counting (consume) is one transaction: the key is created at 0, to
 * expire at now_s + window (Unix seconds, as the shared-memory table's
 * windows end), only when it does not exist; then incremented, and its time
 * to live read. So the first request of a window starts it for every node
 * at once, and the count is exact whichever node serves. Reading (peek)
 * gets the count and its time to live. The commands, and in *nreplies the
 * replies that Redis sends for them. SET ... EXAT needs Redis 6.2. */
const char *mi_ratecount_request(apr_pool_t *p, const char *key, int window,
                                 apr_int64_t now_s, int consume,
                                 int *nreplies);

/* The count and the milliseconds left in its window (negative: no window
 * yet) from the replies of mi_ratecount_request; 0 when they are not what
 * was asked for (an error reply, an aborted transaction). */
int mi_ratecount_read(const mi_redis_reply_t *replies, int consume,
                      apr_int64_t *count, apr_int64_t *ttl_ms);

/* What a window holding count requests and ending in ttl_ms means at now
 * (Unix milliseconds): a counted request is allowed while the count is
 * within limit; the reset is the second by which the window has ended. */
void mi_ratecount_state(apr_int64_t count, apr_int64_t ttl_ms, int limit,
                        int window, int consume, apr_int64_t now_ms,
                        mi_rate_state_t *st);

/* All of the above over conn, by deadline. */
apr_status_t mi_ratecount_check(mi_redis_conn_t *conn, apr_pool_t *p,
                                const char *token_id, int limit, int window,
                                int consume, apr_time_t deadline,
                                mi_rate_state_t *st);

#endif
