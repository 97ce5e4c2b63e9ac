/* fuzz_webhook_url.c: mi_webhook_url_check, with and without plain http. */
#include "fuzz.h"
#include "mi_webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *url = fuzz_cstring(pool, data, size);

    if (!mi_webhook_url_check(pool, url, 0)) {
        FUZZ_ASSERT(!strncmp(url, "https://", 8) && strlen(url) > 8);
        FUZZ_ASSERT(!mi_webhook_url_check(pool, url, 1));
    }
    if (!mi_webhook_url_check(pool, url, 1)) {
        FUZZ_ASSERT(!strncmp(url, "https://", 8)
                    || !strncmp(url, "http://", 7));
        FUZZ_ASSERT(strlen(url) <= 2048 && !strpbrk(url, " \r\n\t"));
    }
    fuzz_pool_done(pool);
    return 0;
}
