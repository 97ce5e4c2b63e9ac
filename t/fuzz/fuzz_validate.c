/* fuzz_validate.c: mi_validate_record for suppliers, products and batches.
 *
 * The input is a JSON document: a bulk body ({"suppliers": [...]}) has each
 * record of each resource's array validated as that resource; any other
 * array has each item, and any other object itself, validated as all three. */
#include "fuzz.h"
#include "mi_json.h"
#include "mi_resource.h"
#include "mi_validate.h"

static void validate(apr_pool_t *pool, const mi_resource_t *res,
                     json_t *record)
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
    FUZZ_ASSERT(strlen(ext) == json_string_length(
                    json_object_get(record, "externalId")));
}

/* Each item of an array, or doc itself, as res (NULL: as every resource). */
static void validate_all(apr_pool_t *pool, const mi_resource_t *res,
                         json_t *doc)
{
    size_t i, n = json_is_array(doc) ? json_array_size(doc) : 1;
    int r;

    for (i = 0; i < n; i++) {
        json_t *record = json_is_array(doc) ? json_array_get(doc, i) : doc;

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
    json_t *doc = NULL;
    int bulk = 0, r;

    pool = fuzz_pool();
    if (mi_json_parse(pool, (const char *)data, size, &doc) == MI_JSON_OK) {
        for (r = 0; json_is_object(doc) && mi_resources[r]; r++) {
            json_t *records = json_object_get(doc, mi_resources[r]->plural);

            if (json_is_array(records)) {
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
