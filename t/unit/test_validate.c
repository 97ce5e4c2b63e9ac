/* test_validate.c: unit tests of mi_validate, the one validation of a
 * record against its resource's descriptor. */
#include "unit.h"
#include "mi_validate.h"

static const char *validate(apr_pool_t *p, const char *text)
{
    json_t *rec = NULL;
    const char **row;
    const char *ext;

    mi_json_parse(p, text, strlen(text), &rec);
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

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_validation(p);
    return unit_done(p);
}
