/* mi_cursor.c: listing cursors, signed and bound to their listing. */
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <apr_base64.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include "mi_crypto.h"
#include "mi_cursor.h"
#include "mi_keys.h"

#define VERSION 1
#define TIME_LEN 8
#define MAC_LEN 16
#define HEAD_LEN (1 + TIME_LEN + MAC_LEN)

static int id_valid(const char *id, apr_size_t len)
{
    apr_size_t i;

    if (len == 0 || len > MI_CURSOR_ID_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (id[i] <= ' ' || id[i] > '~') {
            return 0;
        }
    }
    return 1;
}

/* MAC_LEN bytes of HMAC-SHA256 over the listing (org, type) and the place
 * (the time's bytes and the id), each part ended by a NUL so that no two
 * different inputs give the same message. */
static int sign(apr_pool_t *pool, const unsigned char *key, const char *org,
                const char *type, const unsigned char *time, const char *id,
                apr_size_t id_len, unsigned char *mac)
{
    static const char domain[] = "mi-cursor-1";
    apr_size_t org_len = strlen(org) + 1, type_len = strlen(type) + 1;
    apr_size_t len = sizeof(domain) + org_len + type_len + TIME_LEN + id_len;
    unsigned char *msg = apr_palloc(pool, len), *m = msg;
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int full_len = 0;

    memcpy(m, domain, sizeof(domain));
    m += sizeof(domain);
    memcpy(m, org, org_len);
    m += org_len;
    memcpy(m, type, type_len);
    m += type_len;
    memcpy(m, time, TIME_LEN);
    m += TIME_LEN;
    memcpy(m, id, id_len);
    if (!HMAC(EVP_sha256(), key, MI_KEY_LEN, msg, len, full, &full_len)
        || full_len < MAC_LEN) {
        return 0;
    }
    memcpy(mac, full, MAC_LEN);
    return 1;
}

/* base64url without padding, of len bytes. */
static char *b64url(apr_pool_t *pool, const unsigned char *data,
                    apr_size_t len)
{
    char *out = apr_palloc(pool, apr_base64_encode_len((int)len));
    char *c;

    apr_base64_encode_binary(out, data, (int)len);
    for (c = out; *c; c++) {
        if (*c == '+') {
            *c = '-';
        }
        else if (*c == '/') {
            *c = '_';
        }
        else if (*c == '=') {
            *c = '\0';
            break;
        }
    }
    return out;
}

const char *mi_cursor_encode(apr_pool_t *pool, const unsigned char *key,
                             const char *org, const char *type,
                             const mi_cursor_t *pos)
{
    apr_size_t id_len = pos->id ? strlen(pos->id) : 0;
    unsigned char raw[HEAD_LEN + MI_CURSOR_ID_MAX];
    apr_uint64_t t = (apr_uint64_t)pos->synced_at;
    int i;

    if (pos->synced_at < 0 || !id_valid(pos->id, id_len)) {
        return NULL;
    }
    raw[0] = VERSION;
    for (i = TIME_LEN; i > 0; i--) {
        raw[i] = (unsigned char)(t & 0xff);
        t >>= 8;
    }
    if (!sign(pool, key, org, type, raw + 1, pos->id, id_len,
              raw + 1 + TIME_LEN)) {
        return NULL;
    }
    memcpy(raw + HEAD_LEN, pos->id, id_len);
    return b64url(pool, raw, HEAD_LEN + id_len);
}

int mi_cursor_decode(apr_pool_t *pool, const unsigned char *key,
                     const char *org, const char *type, const char *text,
                     mi_cursor_t *pos)
{
    apr_size_t len = strnlen(text, MI_CURSOR_MAX + 1), i, n;
    char std[MI_CURSOR_MAX + 4];
    unsigned char raw[MI_CURSOR_MAX];
    unsigned char mac[MAC_LEN];
    apr_uint64_t t = 0;
    char *id;

    /* Only base64url, of a length that base64 can have. */
    if (len > MI_CURSOR_MAX || len % 4 == 1) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        char c = text[i];

        if (c == '-') {
            c = '+';
        }
        else if (c == '_') {
            c = '/';
        }
        else if (!apr_isalnum(c)) {
            return 0;
        }
        std[i] = c;
    }
    while (i % 4) {
        std[i++] = '=';
    }
    std[i] = '\0';
    n = (apr_size_t)apr_base64_decode_binary(raw, std);
    if (n < HEAD_LEN + 1 || n > HEAD_LEN + MI_CURSOR_ID_MAX
        || raw[0] != VERSION
        || !id_valid((const char *)raw + HEAD_LEN, n - HEAD_LEN)
        /* One text per cursor: unused low bits of the last character
         * would otherwise give others for the same bytes. */
        || strcmp(b64url(pool, raw, n), text)
        || !sign(pool, key, org, type, raw + 1,
                 (const char *)raw + HEAD_LEN, n - HEAD_LEN, mac)
        || CRYPTO_memcmp(mac, raw + 1 + TIME_LEN, MAC_LEN) != 0) {
        return 0;
    }
    for (i = 1; i <= TIME_LEN; i++) {
        t = (t << 8) | raw[i];
    }
    if (t > (apr_uint64_t)APR_INT64_MAX) {
        return 0;
    }
    id = apr_pstrmemdup(pool, (const char *)raw + HEAD_LEN, n - HEAD_LEN);
    pos->synced_at = (apr_int64_t)t;
    pos->id = id;
    return 1;
}
