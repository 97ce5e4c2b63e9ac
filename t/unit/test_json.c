/* test_json.c: unit tests of mi_json, the strict JSON reader. */
#include <stdio.h>
#include "unit.h"
#include "mi_jsonr.h"

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

/* mi_jsonr reads what mi_json_parse reads, as the same values, and
 * refuses what it refuses for the same reason. */
static void test_reader(apr_pool_t *p)
{
    static const char *const docs[] = {
        "{}", "[]", " [ 1 , -0 , 2.5e3 , -1E-2 , true , false , null ] ",
        "{\"a\":{\"b\":[{\"c\":\"d\"}]},\"e\":\"\\u00e9\\ud83d\\ude00\"}",
        "{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000x\"}",
        "[9223372036854775807,-9223372036854775808,1e308,1e-400]",
        "{\"a\":1,\"a\":2}", "{\"a\\u0000\":1}", "[9223372036854775808]",
        "[1e309]", "[01]", "[1.]", "[.5]", "[-]", "[1,]", "{\"a\":1,}",
        "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]",
        "[\"\\x\"]", "[\"a\nb\"]", "[\"\xff\"]", "[\"\xed\xa0\x80\"]",
        "[tru]", "[nul]", "\"top\"", "7", "", "  ", "[1] x", "[1]\xff",
        "{\"a\" 1}", "{1:2}", "[[[[[]]]]]", "\xef\xbb\xbf[]",
    };
    size_t i;
    int agree = 1;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_t *j = NULL, *back = NULL;
        const mi_jv_t *v = NULL;
        mi_json_parse_e want = mi_json_parse(p, docs[i], strlen(docs[i]),
                                             &j);
        mi_json_parse_e got = mi_jsonr_parse(p, docs[i], strlen(docs[i]),
                                             &v);
        int same = got == want;

        if (same && got == MI_JSON_OK) {
            const char *text = mi_jv_dump(p, v);

            same = mi_json_parse(p, text, strlen(text), &back) == MI_JSON_OK
                   && json_equal(j, back);
        }
        if (!same) {
            printf("# document %d: Jansson %d, mi_jsonr %d\n", (int)i,
                   (int)want, (int)got);
        }
        agree &= same;
    }
    ok(agree, "mi_jsonr and Jansson agree on every document of the list");
    {
        const mi_jv_t *v = NULL;
        char *deep = apr_palloc(p, 2 * MI_JSONR_MAX_DEPTH + 3);

        memset(deep, '[', MI_JSONR_MAX_DEPTH + 1);
        memset(deep + MI_JSONR_MAX_DEPTH + 1, ']', MI_JSONR_MAX_DEPTH + 1);
        deep[2 * MI_JSONR_MAX_DEPTH + 2] = '\0';
        ok(mi_jsonr_parse(p, deep, strlen(deep), &v) == MI_JSON_SYNTAX
           && mi_jsonr_parse(p, deep + 1, strlen(deep) - 2, &v)
                  == MI_JSON_OK,
           "nesting: MI_JSONR_MAX_DEPTH levels read, one more refused");
        ok(mi_jsonr_parse(p, "{\"k\":[1,{\"x\":null}]}", 20, &v)
               == MI_JSON_OK
           && mi_jv_is(mi_jv_get(v, "k"), MI_JV_ARRAY)
           && mi_jv_is(mi_jv_at(mi_jv_get(v, "k"), 1), MI_JV_OBJECT)
           && mi_jv_is(mi_jv_get(mi_jv_at(mi_jv_get(v, "k"), 1), "x"),
                       MI_JV_NULL)
           && !mi_jv_get(v, "x") && !mi_jv_at(mi_jv_get(v, "k"), 2)
           && !mi_jv_at(v, 0),
           "members and items found, absent ones NULL");
    }
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_json(p);
    test_reader(p);
    return unit_done(p);
}
