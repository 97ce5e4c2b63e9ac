/* fuzz_json.c: mi_json_parse, the strict parser of every request body,
 * and mi_jsonr_parse, the bulk bodies' reader, against each other. What
 * parses must dump (mi_json_dump) and parse back to an equal value; the
 * two accept the same documents (but those nested past
 * MI_JSONR_MAX_DEPTH, and a raw NUL byte) as the same values, and refuse the others for the
 * same reason when the input is UTF-8. */
#include <string.h>
#include "fuzz.h"
#include "mi_json.h"
#include "mi_jsonr.h"

/* Brackets opened at most, strings aside: an upper bound of the depth. */
static size_t brackets(const uint8_t *data, size_t size)
{
    size_t i, n = 0;

    for (i = 0; i < size; i++) {
        n += data[i] == '[' || data[i] == '{';
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    json_t *doc = NULL, *again = NULL;
    const mi_jv_t *mine = NULL;
    mi_json_parse_e rc = mi_json_parse(pool, (const char *)data, size, &doc);
    mi_json_parse_e rr = mi_jsonr_parse(pool, (const char *)data, size,
                                        &mine);

    FUZZ_ASSERT(rc == MI_JSON_OK || rc == MI_JSON_SYNTAX
                || rc == MI_JSON_ENCODING);
    FUZZ_ASSERT((rc == MI_JSON_OK) == (doc != NULL));
    FUZZ_ASSERT((rr == MI_JSON_OK) == (mine != NULL));
    if (doc) {
        char *text = mi_json_dump(pool, doc);

        FUZZ_ASSERT(text != NULL);
        FUZZ_ASSERT(mi_json_parse(pool, text, strlen(text), &again)
                    == MI_JSON_OK);
        FUZZ_ASSERT(json_equal(doc, again));
    }
    if (rr == MI_JSON_OK) {
        const char *text = mi_jv_dump(pool, mine);

        FUZZ_ASSERT(rc == MI_JSON_OK);
        FUZZ_ASSERT(mi_json_parse(pool, text, strlen(text), &again)
                    == MI_JSON_OK);
        FUZZ_ASSERT(json_equal(doc, again));
    }
    else if (rc == MI_JSON_OK) {
        /* Deeper than mi_jsonr reads, or a NUL byte outside the strings,
         * which Jansson takes in places (after a number) and RFC 8259
         * does not. */
        FUZZ_ASSERT(brackets(data, size) > MI_JSONR_MAX_DEPTH
                    || memchr(data, '\0', size) != NULL);
    }
    else {
        FUZZ_ASSERT(rr == rc || rr == MI_JSON_ENCODING);
        FUZZ_ASSERT(rc != MI_JSON_ENCODING || rr == MI_JSON_ENCODING);
    }
    fuzz_pool_done(pool);
    return 0;
}
