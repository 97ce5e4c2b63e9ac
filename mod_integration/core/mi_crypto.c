/* mi_crypto.c: hashes, random material and constant-time comparison
 * (OpenSSL libcrypto). */
#include <string.h>
#include <apr_escape.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "mi_crypto.h"

const char *mi_sha256_hex(apr_pool_t *pool, const void *data, apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL)) {
        return NULL;
    }
    return apr_pescape_hex(pool, md, md_len, 0);
}

apr_status_t mi_random_bytes(unsigned char *buf, apr_size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? APR_SUCCESS : APR_EGENERAL;
}

const char *mi_random_hex(apr_pool_t *pool, apr_size_t n)
{
    unsigned char *raw = apr_palloc(pool, n);

    if (mi_random_bytes(raw, n) != APR_SUCCESS) {
        return NULL;
    }
    return apr_pescape_hex(pool, raw, n, 0);
}

int mi_const_time_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}
