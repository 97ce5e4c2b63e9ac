/* mi_crypto.h: hashes, random material and constant-time comparison. */
#ifndef MI_CRYPTO_H
#define MI_CRYPTO_H

#include "mi_common.h"

#define MI_SHA256_HEX_LEN 64

/* Lowercase hex SHA-256 of data, in pool memory. */
const char *mi_sha256_hex(apr_pool_t *pool, const void *data, apr_size_t len);

/* Fills buf with cryptographically strong random bytes. */
apr_status_t mi_random_bytes(unsigned char *buf, apr_size_t len);

/* Lowercase hex of n random bytes (2n characters). */
const char *mi_random_hex(apr_pool_t *pool, apr_size_t n);

/* 1 when the two equal-length strings match; time does not depend on where
 * they differ. Strings of different length never match. */
int mi_const_time_equal(const char *a, const char *b);

#endif
