/* test_token.c: unit tests of mi_token (token format, scopes). */
#include "unit.h"
#include "mi_token.h"

static void test_tokens(apr_pool_t *p)
{
    const char *bad = NULL;
    const char *all = mi_scopes_parse(p, "all", &bad);

    ok(mi_token_well_formed("eudr_live_0123456789abcdef0123456789abcdef"
                            "0123456789abcdef"), "well-formed token");
    ok(!mi_token_well_formed("eudr_live_0123456789ABCDEF0123456789abcdef"
                             "0123456789abcdef"), "uppercase hex refused");
    ok(!mi_token_well_formed("eudr_live_abc"), "short token refused");
    ok(all && mi_scopes_contain(all, "integration:sync:read"), "all scopes");
    ok(!mi_scopes_parse(p, "integration:nope", &bad) && bad
       && !strcmp(bad, "integration:nope"), "unknown scope named");
    ok(mi_scopes_contain("integration:suppliers:read",
                         "integration:suppliers:read")
       && !mi_scopes_contain("integration:suppliers:read",
                             "integration:suppliers:write"),
       "scope membership is exact");
    /* ("", "") first: before the fix it said yes, where the second hung. */
    ok(!mi_scopes_contain("", "")
       && !mi_scopes_contain("integration:sync:read", "")
       && !mi_scopes_contain("integration:sync:read,", ""),
       "an empty scope is never contained (and does not loop)");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_tokens(p);
    return unit_done(p);
}
