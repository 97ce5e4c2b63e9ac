/* fuzz_cursor.c: mi_cursor_decode over any bytes a client can send as
 * ?cursor=, and the round trip of mi_cursor_encode. */
#include "fuzz.h"
#include "mi_cursor.h"
#include "mi_keys.h"

static const unsigned char key[MI_KEY_LEN] = "fuzz key fuzz key fuzz key fuzz";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *text = fuzz_cstring(pool, data, size), *again;
    mi_cursor_t pos, back;

    /* What is accepted is exactly what the encoder makes of it, for this
     * listing only. */
    if (mi_cursor_decode(pool, key, "org", "suppliers", text, &pos)) {
        FUZZ_ASSERT(pos.synced_at >= 0);
        FUZZ_ASSERT(strlen(pos.id) >= 1
                    && strlen(pos.id) <= MI_CURSOR_ID_MAX);
        again = mi_cursor_encode(pool, key, "org", "suppliers", &pos);
        FUZZ_ASSERT(again && !strcmp(again, text));
        FUZZ_ASSERT(!mi_cursor_decode(pool, key, "orh", "suppliers", text,
                                      &back));
        FUZZ_ASSERT(!mi_cursor_decode(pool, key, "org", "products", text,
                                      &back));
    }
    /* The input as a place: whatever encodes decodes to it. */
    if (size > 8) {
        apr_uint64_t t = 0;
        size_t i;

        for (i = 0; i < 8; i++) {
            t = (t << 8) | data[i];
        }
        pos.synced_at = (apr_int64_t)(t >> 1);
        pos.id = apr_pstrmemdup(pool, (const char *)data + 8, size - 8);
        if ((again = mi_cursor_encode(pool, key, "org", "batches", &pos))) {
            FUZZ_ASSERT(strlen(again) <= MI_CURSOR_MAX);
            FUZZ_ASSERT(mi_cursor_decode(pool, key, "org", "batches", again,
                                         &back));
            FUZZ_ASSERT(back.synced_at == pos.synced_at
                        && !strcmp(back.id, pos.id));
        }
    }
    fuzz_pool_done(pool);
    return 0;
}
