/* fuzz_etag.c: mi_etag_matches over any If-None-Match a client can send,
 * against a tag of mi_etag_make. */
#include "fuzz.h"
#include "mi_etag.h"
#include "mi_keys.h"

static const unsigned char key[MI_KEY_LEN] = "fuzz key fuzz key fuzz key fuzz";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *header = fuzz_cstring(pool, data, size);
    const char *tag = mi_etag_make(pool, key, "org", "list 1 q", 8);
    const char *p;

    FUZZ_ASSERT(tag != NULL);
    if (mi_etag_matches(header, tag)) {
        /* Only a list that names it, or "*". */
        for (p = header; *p == ' ' || *p == '\t'; p++) {
        }
        FUZZ_ASSERT(strstr(header, tag) || *p == '*');
    }
    /* The input's first line as a tag of its own (a fuzzed tag may be any
     * bytes between quotes): it is matched by itself and by W/ it. */
    if (size > 0 && memchr(data, '"', size) == NULL) {
        char *first, *rest;
        const char *own;

        fuzz_split(pool, data, size, &first, &rest);
        own = apr_pstrcat(pool, "\"", first, "\"", NULL);
        if (!strchr(first, '\x7f') && !strpbrk(first, " \t")) {
            int printable = 1;

            for (p = first; *p; p++) {
                if ((unsigned char)*p < 0x21) {
                    printable = 0;
                }
            }
            if (printable) {
                FUZZ_ASSERT(mi_etag_matches(own, own));
                FUZZ_ASSERT(mi_etag_matches(apr_pstrcat(pool, "W/", own,
                                                        NULL), own));
            }
        }
    }
    fuzz_pool_done(pool);
    return 0;
}
