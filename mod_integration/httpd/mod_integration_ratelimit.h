/* mod_integration_ratelimit.h: per-token request counts, one fixed window
 * per token: in shared memory, guarded by a global mutex, so that the limit
 * holds across every child process and thread of one httpd; or, with
 * IntegrationRateLimitStore redis://..., in Redis, so that it holds across
 * every node, with the shared memory as the fallback while Redis cannot be
 * reached. */
#ifndef MOD_INTEGRATION_RATELIMIT_H
#define MOD_INTEGRATION_RATELIMIT_H

#include "mod_integration.h"
#include "mi_ratecount.h"

#define MI_RATELIMIT_MUTEX "integration-ratelimit"

typedef mi_rate_state_t mi_ratelimit_state_t;

/* pre_config: names the mutex so that Mutex directives can configure it. */
apr_status_t mi_ratelimit_register(apr_pool_t *pconf);

/* post_config: creates the shared table and the mutex in pconf; store is
 * the Redis that counts for every node, or NULL (this node's count). */
apr_status_t mi_ratelimit_create(mi_ratelimit_t **rl, server_rec *s,
                                 apr_pool_t *pconf,
                                 const mi_redis_addr_t *store);

/* child_init: re-attaches the mutex in the child, and readies its
 * connections to the store. */
apr_status_t mi_ratelimit_child_init(mi_ratelimit_t *rl, apr_pool_t *p);

/* Counts one request of token key (consume) or only looks (peek), for r.
 * Never fails: when the store does not answer within
 * MI_RATELIMIT_STORE_WAIT, this node's own count decides. */
void mi_ratelimit_check(mi_ratelimit_t *rl, request_rec *r, const char *key,
                        int limit, int window, int consume,
                        mi_ratelimit_state_t *st);

/* The X-RateLimit-* headers (and Retry-After when refused). */
void mi_ratelimit_headers(request_rec *r, const mi_ratelimit_state_t *st);

#endif
