/* test_validate.c: unit tests of mi_validate, the one validation of a
 * record against its resource's descriptor. */
#include "unit.h"
#include "mi_validate.h"

static const char *validate(apr_pool_t *p, const char *text)
{
    const mi_jv_t *rec = NULL;
    const char **row;
    const char *ext;

    mi_jsonr_parse(p, text, strlen(text), &rec);
    return mi_validate_record(p, mi_resource_find("suppliers"), rec, &row,
                              &ext);
}

static void test_validation(apr_pool_t *p)
{
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\"}"), NULL,
           "minimal supplier");
    is_str(validate(p, "{\"name\":\"x\"}"), "externalId is required",
           "externalId missing");
    is_str(validate(p, "{\"externalId\":\"A\"}"), "Supplier name is required",
           "name missing");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"\"}"),
           "Supplier name is required", "name empty");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":5}"),
           "name must be a string", "name wrong type");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\",\"country\":"
                       "\"XX\"}"), "Invalid country code \"XX\"", "country");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\",\"email\":"
                       "\"nope\"}"), "Invalid email \"nope\"", "email");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\",\"isEuOrigin\":"
                       "\"yes\"}"), "isEuOrigin must be a boolean", "bool");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\","
                       "\"certifications\":[\"FSC\",1]}"),
           "certifications must be a array of strings", "array items");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"a\\u0000b\"}"),
           "name must not contain NUL characters", "NUL");
}

/* A number's parameter: an integer as such, a real in 17 digits (C's %g:
 * APR's wrote 1e308 as "0.e+79"). */
static void test_numbers(apr_pool_t *p)
{
    static const char *const in[] = { "12", "12.5", "1e308", "0.1" };
    static const char *const want[] = { "12", "12.5", "1e+308",
                                        "0.10000000000000001" };
    const mi_resource_t *res = mi_resource_find("batches");
    int i, f = 0;

    while (strcmp(res->fields[f].json, "quantity")) {
        f++;
    }
    for (i = 0; i < 4; i++) {
        const char *text = apr_psprintf(p, "{\"externalId\":\"B\","
            "\"batchNumber\":\"1\",\"productExternalId\":\"P\","
            "\"quantity\":%s}", in[i]);
        const mi_jv_t *rec = NULL;
        const char **row = NULL, *ext;

        mi_jsonr_parse(p, text, strlen(text), &rec);
        ok(!mi_validate_record(p, res, rec, &row, &ext)
           && row && !strcmp(row[MI_ROW_FIELDS + f], want[i]),
           apr_psprintf(p, "quantity %s is stored as %s", in[i], want[i]));
    }
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_validation(p);
    test_numbers(p);
    return unit_done(p);
}
