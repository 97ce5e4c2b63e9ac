/* unit_sign.h: the webhook signatures of API.md section 9, computed here
 * with OpenSSL's own base64 and HMAC, independently of mi_webhook_hmac:
 * the key is the 32 bytes the base64 after "whsec_" stands for. */
#ifndef UNIT_SIGN_H
#define UNIT_SIGN_H

#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <apr_strings.h>

/* The key of a secret into key (at least 64 bytes); its length, or -1. */
static inline int unit_secret_key(const char *secret, unsigned char *key)
{
    const char *b64 = secret + 6;
    size_t n = strlen(b64);
    int len;

    if (strncmp(secret, "whsec_", 6) || n == 0 || n % 4 || n > 84) {
        return -1;
    }
    len = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)n);
    /* EVP_DecodeBlock counts the padding as bytes. */
    while (len > 0 && n > 0 && b64[n - 1] == '=') {
        len--;
        n--;
    }
    return len;
}

/* HMAC-SHA256 of msg with the key of secret, as lowercase hex (hex) and
 * base64 (b64); 0 when the secret is not one. */
static inline int unit_sign(apr_pool_t *p, const char *secret,
                            const char *msg, size_t len, const char **hex,
                            const char **b64)
{
    unsigned char key[64], mac[EVP_MAX_MD_SIZE];
    unsigned char *enc;
    unsigned int mac_len = 0, i;
    int key_len = unit_secret_key(secret, key);
    char *h;

    if (key_len < 0
        || !HMAC(EVP_sha256(), key, key_len, (const unsigned char *)msg, len,
                 mac, &mac_len)) {
        return 0;
    }
    h = apr_palloc(p, 2 * mac_len + 1);
    for (i = 0; i < mac_len; i++) {
        apr_snprintf(h + 2 * i, 3, "%02x", mac[i]);
    }
    enc = apr_palloc(p, 4 * ((mac_len + 2) / 3) + 1);
    EVP_EncodeBlock(enc, mac, (int)mac_len);
    *hex = h;
    *b64 = (const char *)enc;
    return 1;
}

#endif
