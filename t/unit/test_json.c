/* test_json.c: unit tests of mi_json, the strict JSON reader. */
#include "unit.h"

static void test_json(apr_pool_t *p)
{
    json_t *j = NULL;

    ok(mi_json_parse(p, "{\"a\":1,\"a\":2}", 13, &j) == MI_JSON_SYNTAX,
       "duplicate keys rejected");
    ok(mi_json_parse(p, "{\"a\":\"\xff\"}", 9, &j) == MI_JSON_ENCODING,
       "invalid UTF-8 told apart");
    ok(mi_json_parse(p, "[1]", 3, &j) == MI_JSON_OK && json_is_array(j),
       "arrays parse");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_json(p);
    return unit_done(p);
}
