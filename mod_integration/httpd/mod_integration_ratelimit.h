/* mod_integration_ratelimit.h: per-token request counts in shared memory, one
 * fixed window per token, guarded by a global mutex, so that the limit holds
 * across every child process and thread of one httpd. */
#ifndef MOD_INTEGRATION_RATELIMIT_H
#define MOD_INTEGRATION_RATELIMIT_H

#include "mod_integration.h"

#define MI_RATELIMIT_MUTEX "integration-ratelimit"

typedef struct {
    int allowed;
    int limit;
    int remaining;
    apr_int64_t reset;          /* Unix seconds when the window ends */
} mi_ratelimit_state_t;

/* pre_config: names the mutex so that Mutex directives can configure it. */
apr_status_t mi_ratelimit_register(apr_pool_t *pconf);

/* post_config: creates the shared table and the mutex in pconf. */
apr_status_t mi_ratelimit_create(mi_ratelimit_t **rl, server_rec *s,
                                 apr_pool_t *pconf);

/* child_init: re-attaches the mutex in the child. */
apr_status_t mi_ratelimit_child_init(mi_ratelimit_t *rl, apr_pool_t *p);

/* Counts one request of token key (consume) or only looks (peek). */
void mi_ratelimit_check(mi_ratelimit_t *rl, const char *key, int limit,
                        int window, int consume, mi_ratelimit_state_t *st);

/* The X-RateLimit-* headers (and Retry-After when refused). */
void mi_ratelimit_headers(request_rec *r, const mi_ratelimit_state_t *st);

#endif
