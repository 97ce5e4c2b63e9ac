/* fuzz.h: what the libFuzzer targets of the core share (build/fuzz).
 *
 * Each input gets a pool of its own, on an allocator of its own that the
 * pool owns: destroying the pool hands every block back to free(), so that
 * AddressSanitizer sees a use of an earlier input's pool memory, and
 * LeakSanitizer reports only what the code under test really leaks. */
#ifndef MI_FUZZ_H
#define MI_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_allocator.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include "mi_resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the function under test: a failure is a crash that
 * libFuzzer reports with the input. */
#define FUZZ_ASSERT(cond)                                                  \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,     \
                    __LINE__, #cond);                                      \
            abort();                                                       \
        }                                                                  \
    } while (0)

/* APR, and what the module does at start-up: the resources' SQL and what
 * is built from their list (scopes, event names); once per process, into
 * a pool that lives as long as it. Returns that pool. */
static apr_pool_t *fuzz_init(void)
{
    static apr_pool_t *startup;

    if (!startup) {
        apr_initialize();
        atexit(apr_terminate);
        apr_pool_create(&startup, NULL);
        mi_resources_init(startup);
    }
    return startup;
}

/* A fresh pool for one input; fuzz_pool_done destroys it. */
static apr_pool_t *fuzz_pool(void)
{
    apr_allocator_t *allocator;
    apr_pool_t *pool;

    fuzz_init();
    if (apr_allocator_create(&allocator) != APR_SUCCESS
        || apr_pool_create_ex(&pool, NULL, NULL, allocator) != APR_SUCCESS) {
        abort();
    }
    apr_allocator_owner_set(allocator, pool);
    return pool;
}

static void fuzz_pool_done(apr_pool_t *pool)
{
    apr_pool_destroy(pool);
}

/* The input as a C string (it ends at its first NUL byte, as a C string
 * from httpd would). */
static char *fuzz_cstring(apr_pool_t *pool, const uint8_t *data, size_t size)
{
    return apr_pstrmemdup(pool, (const char *)data, size);
}

/* The input cut at its first '\n': *first before it, *rest after it (""
 * when there is none); used by targets that take two strings. */
static void fuzz_split(apr_pool_t *pool, const uint8_t *data, size_t size,
                       char **first, char **rest)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;

    *first = apr_pstrmemdup(pool, (const char *)data, n);
    *rest = nl ? apr_pstrmemdup(pool, (const char *)nl + 1, size - n - 1)
               : apr_pstrdup(pool, "");
}

#endif
