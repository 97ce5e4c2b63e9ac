/* fuzz_json.c: mi_json_parse, the strict parser of every request body.
 * What parses must dump (mi_json_dump) and parse back to an equal value. */
#include "fuzz.h"
#include "mi_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    json_t *doc = NULL, *again = NULL;
    mi_json_parse_e rc = mi_json_parse(pool, (const char *)data, size, &doc);

    FUZZ_ASSERT(rc == MI_JSON_OK || rc == MI_JSON_SYNTAX
                || rc == MI_JSON_ENCODING);
    FUZZ_ASSERT((rc == MI_JSON_OK) == (doc != NULL));
    if (doc) {
        char *text = mi_json_dump(pool, doc);

        FUZZ_ASSERT(text != NULL);
        FUZZ_ASSERT(mi_json_parse(pool, text, strlen(text), &again)
                    == MI_JSON_OK);
        FUZZ_ASSERT(json_equal(doc, again));
    }
    fuzz_pool_done(pool);
    return 0;
}
