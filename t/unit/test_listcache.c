/* test_listcache.c: unit tests of mi_listcache, the listing cache, on its
 * own (what the engines make of it is in test_records.c). */
#include <apr_strings.h>
#include "unit.h"

static void test_listcache(apr_pool_t *p)
{
    mi_listcache_t *c;
    apr_size_t len = 0;
    char big[200];
    const char *v;
    int i, kept = 0;

    ok(mi_listcache_create(&c, p, 0) == APR_SUCCESS && c == NULL,
       "a budget of 0 is no cache");
    ok(mi_listcache_get(NULL, p, "k", 1, &len) == NULL, "no cache, no hit");
    mi_listcache_create(&c, p, 1600);
    mi_listcache_put(c, "k", 7, "{\"a\":1}", 7);
    v = mi_listcache_get(c, p, "k", 7, &len);
    ok(v && len == 7 && !memcmp(v, "{\"a\":1}", 7), "kept at its version");
    ok(mi_listcache_get(c, p, "k", 8, &len) == NULL, "not at another version");
    ok(mi_listcache_get(c, p, "kk", 7, &len) == NULL, "not for another key");
    mi_listcache_put(c, "k", 8, "[]", 2);
    ok(mi_listcache_get(c, p, "k", 7, &len) == NULL
       && mi_listcache_get(c, p, "k", 8, &len) != NULL,
       "a newer version replaces the older");
    memset(big, 'x', sizeof(big));
    mi_listcache_put(c, "big", 1, big, sizeof(big));
    ok(mi_listcache_get(c, p, "big", 1, &len) == NULL,
       "a body over an eighth of the budget is not kept");
    for (i = 0; i < 50; i++) {
        mi_listcache_put(c, apr_itoa(p, i), 1, big, 150);
    }
    for (i = 0; i < 50; i++) {
        kept += mi_listcache_get(c, p, apr_itoa(p, i), 1, &len) != NULL;
    }
    ok(kept >= 1 && kept <= 10, "the budget bounds what is kept");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_listcache(p);
    return unit_done(p);
}
