/* fuzz_validate.c: mi_validate_record for suppliers, products and batches.
 *
 * The input is a JSON document: a bulk body ({"suppliers": [...]}) has each
 * record of each resource's array validated as that resource; any other
 * array has each item, and any other object itself, validated as all three. */
#include "fuzz.h"
#include "mi_jsonr.h"
#include "mi_resource.h"
#include "mi_validate.h"

static void validate(apr_pool_t *pool, const mi_resource_t *res,
                     const mi_jv_t *record)
{
    const char **row = (const char **)"poison", *ext = NULL;
    const char *err = mi_validate_record(pool, res, record, &row, &ext);

    FUZZ_ASSERT(ext != NULL);
    if (err) {
        FUZZ_ASSERT(row == NULL && *err != '\0');
        return;
    }
    /* A valid record: a non-empty externalId without NUL, a field mask. */
    FUZZ_ASSERT(row != NULL && *ext != '\0');
    FUZZ_ASSERT(row[MI_ROW_EXTERNAL_ID] == ext && row[MI_ROW_MASK] != NULL);
    FUZZ_ASSERT(strlen(ext) == mi_jv_get(record, "externalId")->len);
}

/* Each item of an array, or doc itself, as res (NULL: as every resource). */
static void validate_all(apr_pool_t *pool, const mi_resource_t *res,
                         const mi_jv_t *doc)
{
    int array = mi_jv_is(doc, MI_JV_ARRAY);
    apr_size_t i, n = array ? doc->len : 1;
    int r;

    for (i = 0; i < n; i++) {
        const mi_jv_t *record = array ? mi_jv_at(doc, i) : doc;

        for (r = 0; mi_resources[r]; r++) {
            if (!res || res == mi_resources[r]) {
                validate(pool, mi_resources[r], record);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    const mi_jv_t *doc = NULL;
    int bulk = 0, r;

    pool = fuzz_pool();
    if (mi_jsonr_parse(pool, (const char *)data, size, &doc) == MI_JSON_OK) {
        for (r = 0; mi_jv_is(doc, MI_JV_OBJECT) && mi_resources[r]; r++) {
            const mi_jv_t *records = mi_jv_get(doc, mi_resources[r]->plural);

            if (mi_jv_is(records, MI_JV_ARRAY)) {
                validate_all(pool, mi_resource_find(mi_resources[r]->plural),
                             records);
                bulk = 1;
            }
        }
        if (!bulk) {
            validate_all(pool, NULL, doc);
        }
    }
    fuzz_pool_done(pool);
    return 0;
}
