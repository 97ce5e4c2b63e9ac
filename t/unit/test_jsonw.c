/* test_jsonw.c: unit tests of mi_jsonw, the JSON writer. */
#include "unit.h"

static void test_jsonw(apr_pool_t *p)
{
    mi_jsonw_t w;

    mi_jsonw_init(&w, p, 4);
    mi_jsonw_str(&w, "a\"b\\c\n\x01\xc3\xa9");
    mi_jsonw_raw(&w, "", 1);
    is_str(w.buf, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"", "JSON writer escapes");

    /* Every text that reaches a JSON body is UTF-8 (API.md section 1). */
    mi_jsonw_init(&w, p, 4);
    mi_jsonw_str(&w, "\"\xed\xa0\x80\xc3\xa9\n");
    mi_jsonw_lit(&w, "\0");
    is_str(w.buf, "\"\\\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9\\n\"",
           "the JSON writer replaces what is not UTF-8");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_jsonw(p);
    return unit_done(p);
}
