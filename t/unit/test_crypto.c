/* test_crypto.c: unit tests of mi_crypto (digests, comparison). */
#include "unit.h"
#include "mi_crypto.h"

static void test_crypto(apr_pool_t *p)
{
    is_str(mi_sha256_hex(p, "abc", 3),
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "SHA-256");
    ok(mi_const_time_equal("abc", "abc") && !mi_const_time_equal("abc", "abd")
       && !mi_const_time_equal("abc", "ab"), "constant-time compare");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_crypto(p);
    return unit_done(p);
}
