/* fuzz_idem.c: mi_idem_key_valid, the Idempotency-Key header's syntax:
 * 1 to 255 printable ASCII characters. */
#include "fuzz.h"
#include "mi_idem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *key = fuzz_cstring(pool, data, size);
    size_t i, n = strlen(key);
    int printable = n >= 1 && n <= 255;

    for (i = 0; i < n; i++) {
        printable &= key[i] >= 0x20 && key[i] <= 0x7e;
    }
    FUZZ_ASSERT(mi_idem_key_valid(key) == printable);
    fuzz_pool_done(pool);
    return 0;
}
