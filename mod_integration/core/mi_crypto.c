/* mi_crypto.c: hashes, random material and constant-time comparison
 * (OpenSSL libcrypto). */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "mi_crypto.h"

static void to_hex(char *out, const unsigned char *in, apr_size_t n)
{
    static const char digits[] = "0123456789abcdef";
    apr_size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

char *mi_sha256_hex(apr_pool_t *pool, const void *data, apr_size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char *hex = apr_palloc(pool, MI_SHA256_HEX_LEN + 1);

    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL)) {
        return NULL;
    }
    to_hex(hex, md, md_len);
    return hex;
}

apr_status_t mi_random_bytes(unsigned char *buf, apr_size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? APR_SUCCESS : APR_EGENERAL;
}

char *mi_random_hex(apr_pool_t *pool, apr_size_t n)
{
    unsigned char *raw = apr_palloc(pool, n);
    char *hex = apr_palloc(pool, 2 * n + 1);

    if (mi_random_bytes(raw, n) != APR_SUCCESS) {
        return NULL;
    }
    to_hex(hex, raw, n);
    return hex;
}

int mi_const_time_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);

    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}
