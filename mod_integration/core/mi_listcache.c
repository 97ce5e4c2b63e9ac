/* mi_listcache.c: a fixed table of slots, one entry per slot, chosen by a
 * hash of the key; a new entry evicts the slot's previous one, and the
 * slots after it while the budget is exceeded. */
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include "mi_listcache.h"

#define SLOTS 256

typedef struct {
    char *key;              /* malloc'd, with the body after it */
    const char *body;
    apr_size_t len;
    apr_int64_t version;
} slot_t;

struct mi_listcache_t {
    apr_thread_mutex_t *lock;
    apr_size_t max_bytes;
    apr_size_t bytes;       /* keys and bodies held */
    slot_t slots[SLOTS];
};

static apr_status_t release_all(void *data)
{
    mi_listcache_t *c = data;
    int i;

    for (i = 0; i < SLOTS; i++) {
        free(c->slots[i].key);
        c->slots[i].key = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t mi_listcache_create(mi_listcache_t **cache, apr_pool_t *pool,
                                 apr_size_t max_bytes)
{
    mi_listcache_t *c;
    apr_status_t rv;

    *cache = NULL;
    if (max_bytes == 0) {
        return APR_SUCCESS;
    }
    c = apr_pcalloc(pool, sizeof(*c));
    rv = apr_thread_mutex_create(&c->lock, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    c->max_bytes = max_bytes;
    apr_pool_cleanup_register(pool, c, release_all, apr_pool_cleanup_null);
    *cache = c;
    return APR_SUCCESS;
}

static slot_t *slot_of(mi_listcache_t *c, const char *key)
{
    apr_ssize_t klen = APR_HASH_KEY_STRING;

    return &c->slots[apr_hashfunc_default(key, &klen) % SLOTS];
}

static void evict(mi_listcache_t *c, slot_t *s)
{
    if (s->key) {
        c->bytes -= strlen(s->key) + 1 + s->len;
        free(s->key);
        s->key = NULL;
    }
}

const char *mi_listcache_get(mi_listcache_t *c, apr_pool_t *pool,
                             const char *key, apr_int64_t version,
                             apr_size_t *len)
{
    char *copy = NULL;
    slot_t *s;

    if (!c) {
        return NULL;
    }
    s = slot_of(c, key);
    apr_thread_mutex_lock(c->lock);
    if (s->key && s->version == version && !strcmp(s->key, key)) {
        copy = apr_pmemdup(pool, s->body, s->len);
        *len = s->len;
    }
    apr_thread_mutex_unlock(c->lock);
    return copy;
}

void mi_listcache_put(mi_listcache_t *c, const char *key, apr_int64_t version,
                      const char *body, apr_size_t len)
{
    apr_size_t klen = strlen(key) + 1, need = klen + len;
    slot_t *s;
    char *mem;
    int i;

    if (!c || need > c->max_bytes / 8 || !(mem = malloc(need))) {
        return;
    }
    memcpy(mem, key, klen);
    memcpy(mem + klen, body, len);
    s = slot_of(c, key);
    apr_thread_mutex_lock(c->lock);
    evict(c, s);
    for (i = 1; c->bytes + need > c->max_bytes && i < SLOTS; i++) {
        evict(c, &c->slots[(s - c->slots + i) % SLOTS]);
    }
    s->key = mem;
    s->body = mem + klen;
    s->len = len;
    s->version = version;
    c->bytes += need;
    apr_thread_mutex_unlock(c->lock);
}
