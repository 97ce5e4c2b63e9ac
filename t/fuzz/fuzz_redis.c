/* fuzz_redis.c: mi_redis_reply_parse (what a Redis, or whatever answers on
 * its port, sends back) and mi_redis_url_parse (IntegrationRateLimitStore).
 * A reply that parses parses the same from exactly its own bytes, and
 * every shorter prefix of it asks for more rather than being malformed; a
 * URL that parses is parsed the same from its host:port text. */
#include "fuzz.h"
#include "mi_redis.h"

static void check_reply(apr_pool_t *pool, const char *buf, apr_size_t len)
{
    mi_redis_reply_t reply, again;
    apr_size_t used = 0, used2 = 0;

    if (mi_redis_reply_parse(pool, buf, len, &reply, &used)
        != MI_REDIS_PARSED) {
        return;
    }
    FUZZ_ASSERT(used > 0 && used <= len);
    FUZZ_ASSERT(mi_redis_reply_parse(pool, buf, used, &again, &used2)
                == MI_REDIS_PARSED && used2 == used
                && again.type == reply.type);
    FUZZ_ASSERT(mi_redis_reply_parse(pool, buf, used - 1, &again, &used2)
                == MI_REDIS_PARTIAL);
    FUZZ_ASSERT(mi_redis_reply_parse(pool, buf, used / 2, &again, &used2)
                == MI_REDIS_PARTIAL);
}

static void check_url(apr_pool_t *pool, const char *url)
{
    mi_redis_addr_t addr, again;

    if (mi_redis_url_parse(pool, url, &addr)) {
        return;
    }
    FUZZ_ASSERT(*addr.host && addr.port > 0 && addr.db >= 0);
    FUZZ_ASSERT(!mi_redis_url_parse(pool, apr_psprintf(pool, "redis://%s/%d",
                                        mi_redis_addr_text(pool, &addr),
                                        addr.db), &again));
    FUZZ_ASSERT(!strcmp(again.host, addr.host) && again.port == addr.port
                && again.db == addr.db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    char *copy = apr_pmemdup(pool, data, size ? size : 1);

    check_reply(pool, copy, size);
    check_url(pool, fuzz_cstring(pool, data, size));
    fuzz_pool_done(pool);
    return 0;
}
