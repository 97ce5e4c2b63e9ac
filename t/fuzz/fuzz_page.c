/* fuzz_page.c: the query of a listing: mi_query_parse (the whole query
 * string, as the handler gets it in r->args), then mi_page_parse (page,
 * limit, since, and cursor when the input's length is odd) over the table it
 * makes. */
#include <ctype.h>
#include "fuzz.h"
#include "mi_records.h"
#include "mi_text.h"

/* What mi_page_parse accepted as a number: decimal digits only. */
static int all_digits(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

/* Every name and value of a parsed query is UTF-8. */
static int utf8_entry(void *rec, const char *name, const char *value)
{
    FUZZ_ASSERT(mi_utf8_valid(name, strlen(name))
                && mi_utf8_valid(value, strlen(value)));
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *args = fuzz_cstring(pool, data, size), *err, *v;
    apr_table_t *query = NULL;
    mi_page_t page;

    err = mi_query_parse(pool, args, &query);
    FUZZ_ASSERT(query != NULL);
    if (!err) {
        apr_table_do(utf8_entry, NULL, query, NULL);
        err = mi_page_parse(pool, query, size % 2, &page);
        if (!err && page.cursor) {
            FUZZ_ASSERT(size % 2 && page.page == 0);
            FUZZ_ASSERT(!apr_table_get(query, "page"));
            FUZZ_ASSERT(*page.cursor && strlen(page.cursor) <= MI_CURSOR_MAX);
        }
        else if (!err) {
            FUZZ_ASSERT(page.page >= 1 && page.page <= 1000000);
            FUZZ_ASSERT(page.limit >= 1 && page.limit <= MI_PAGE_LIMIT_MAX);
            FUZZ_ASSERT(apr_table_get(query, "since") || page.since == -1);
            FUZZ_ASSERT(!(v = apr_table_get(query, "page")) || all_digits(v));
            FUZZ_ASSERT(!(v = apr_table_get(query, "limit"))
                        || all_digits(v));
        }
    }
    fuzz_pool_done(pool);
    return 0;
}
