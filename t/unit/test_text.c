/* test_text.c: unit tests of mi_text (ids, country codes, emails, URL
 * decoding, UTF-8, query strings). */
#include <apr_tables.h>
#include "unit.h"
#include "mi_text.h"

/* The ids of one call ascend (the order a write stores its records in),
 * and differ. */
static void test_ids_ascend(apr_pool_t *p)
{
    const char *ids[500];
    int i, ascending = 1;

    ok(mi_ids_new(p, "c", 500, ids) == MI_OK, "500 ids at once");
    for (i = 1; i < 500; i++) {
        ascending &= strcmp(ids[i - 1], ids[i]) < 0;
    }
    ok(ascending, "the ids of one call ascend, all different");
}

static void test_text(apr_pool_t *p)
{
    const char *id = mi_id_new(p, "c"), *id2 = mi_id_new(p, "c");

    ok(strlen(id) == 25 && id[0] == 'c', "record ids: c + 24 characters");
    ok(strcmp(id, id2) != 0, "ids differ");
    ok(strlen(mi_id_new(p, "int_")) <= 32, "prefixed ids stay <= 32");
    test_ids_ascend(p);
    ok(mi_country_valid("BR") && mi_country_valid("DE")
       && mi_country_valid("ZW"), "assigned country codes");
    ok(!mi_country_valid("XX") && !mi_country_valid("br")
       && !mi_country_valid("BRA") && !mi_country_valid("UK"),
       "unassigned, lowercase, alpha-3 refused");
    ok(mi_email_valid("a@b.co"), "plain email");
    ok(!mi_email_valid("ab.co") && !mi_email_valid("a@bco")
       && !mi_email_valid("@b.co") && !mi_email_valid("a@b."),
       "malformed emails refused");
    is_str(mi_url_decode(p, "LOT%2F2024%20001"), "LOT/2024 001", "decode");
    ok(mi_url_decode(p, "bad%zz") == NULL, "malformed escape refused");
    ok(mi_url_decode(p, "nul%00") == NULL, "escaped NUL refused");
    ok(mi_utf8_length("\xc3\xa9t\xc3\xa9", 5) == 3, "UTF-8 length");
}

/* Every text that reaches a JSON body is UTF-8 (API.md section 1); what
 * the JSON writer makes of the rest is in test_jsonw.c. */
static void test_utf8(apr_pool_t *p)
{
    static const struct {
        const char *bytes;
        int valid;
        const char *what;
    } cases[] = {
        { "plain", 1, "ASCII" },
        { "Ma\xc3\xafs \xe2\x82\xac \xf0\x9f\x8c\xb3", 1,
          "2, 3 and 4 byte sequences" },
        { "\xff", 0, "0xFF" },
        { "x\xc3", 0, "a sequence cut short" },
        { "\xc0\xaf", 0, "an overlong \"/\"" },
        { "\xe0\x80\xaf", 0, "an overlong 3-byte form" },
        { "\xed\xa0\x80", 0, "a surrogate" },
        { "\xf4\x90\x80\x80", 0, "above U+10FFFF" },
        { "\x80", 0, "a stray continuation byte" },
        { "\xe9", 0, "Latin-1 e-acute" },
    };
    apr_size_t i;
    apr_table_t *q;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ok(mi_utf8_valid(cases[i].bytes, strlen(cases[i].bytes))
           == cases[i].valid, cases[i].what);
    }
    is_str(mi_utf8_clean(p, "a\xff" "b\xc3"), "a\xef\xbf\xbd" "b\xef\xbf\xbd",
           "clean: each bad byte becomes U+FFFD");
    is_str(mi_utf8_clean(p, "caf\xc3\xa9"), "caf\xc3\xa9",
           "clean: valid text unchanged");
    ok(mi_query_parse(p, "limit=10&externalIds=A%2CB+C&flag", &q) == NULL
       && !strcmp(apr_table_get(q, "externalIds"), "A,B+C")
       && !strcmp(apr_table_get(q, "flag"), ""), "query: decoded once");
    ok(mi_query_parse(p, NULL, &q) == NULL && apr_is_empty_table(q),
       "query: none");
    ok(mi_query_parse(p, "since=%FF", &q) != NULL, "query: not UTF-8");
    ok(mi_query_parse(p, "since=\xc3", &q) != NULL, "query: raw bad byte");
    ok(mi_query_parse(p, "a%ff=1", &q) != NULL, "query: name not UTF-8");
    ok(mi_query_parse(p, "page=%00", &q) != NULL, "query: NUL");
    ok(mi_query_parse(p, "page=%zz", &q) != NULL, "query: bad escape");
    ok(mi_query_parse(p, "page=1%", &q) != NULL, "query: lone %");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_text(p);
    test_utf8(p);
    return unit_done(p);
}
