/* fuzz_webhook_rotate.c: mi_webhook_rotation_read, the body of a
 * rotate-secret. The input is the request body, parsed as the handler
 * parses it; an object goes to the reader. What passes is an overlap of 0
 * to 604800 seconds: the default when the body has no overlapSeconds,
 * otherwise exactly the integer it names. */
#include "fuzz.h"
#include "mi_json.h"
#include "mi_webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    json_t *doc = NULL, *v;
    int overlap = -1;

    if (mi_json_parse(pool, (const char *)data, size, &doc) == MI_JSON_OK
        && json_is_object(doc)
        && !mi_webhook_rotation_read(doc, &overlap)) {
        v = json_object_get(doc, "overlapSeconds");
        FUZZ_ASSERT(overlap >= 0 && overlap <= MI_WEBHOOK_OVERLAP_MAX);
        FUZZ_ASSERT(v ? json_is_integer(v)
                            && json_integer_value(v) == overlap
                      : overlap == MI_WEBHOOK_OVERLAP_DEFAULT);
    }
    fuzz_pool_done(pool);
    return 0;
}
