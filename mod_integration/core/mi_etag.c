/* mi_etag.c: entity tags bound to an organization, and If-None-Match. */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <apr_base64.h>
#include <apr_strings.h>
#include "mi_etag.h"
#include "mi_keys.h"

#define TAG_BYTES 16

const char *mi_etag_make(apr_pool_t *pool, const unsigned char *key,
                         const char *org, const char *what, apr_size_t len)
{
    static const char domain[] = "mi-etag-1";
    apr_size_t org_len = strlen(org) + 1;
    apr_size_t n = sizeof(domain) + org_len + len;
    unsigned char *msg = apr_palloc(pool, n);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char b64[32], *tag, *c;

    memcpy(msg, domain, sizeof(domain));
    memcpy(msg + sizeof(domain), org, org_len);
    memcpy(msg + sizeof(domain) + org_len, what, len);
    if (!HMAC(EVP_sha256(), key, MI_KEY_LEN, msg, n, mac, &mac_len)
        || mac_len < TAG_BYTES) {
        return NULL;
    }
    apr_base64_encode_binary(b64, mac, TAG_BYTES);
    for (c = b64; *c; c++) {
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
    tag = apr_pstrcat(pool, "\"", b64, "\"", NULL);
    return tag;
}

/* RFC 9110: etagc = "!" / %x23-7E / obs-text. */
static int etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

static int ows(char c)
{
    return c == ' ' || c == '\t';
}

int mi_etag_matches(const char *header, const char *etag)
{
    apr_size_t etag_len = strlen(etag);
    const char *p = header;

    if (!header || strnlen(header, MI_IF_NONE_MATCH_MAX + 1)
                       > MI_IF_NONE_MATCH_MAX) {
        return 0;
    }
    while (ows(*p)) {
        p++;
    }
    if (*p == '*') {
        for (p++; ows(*p); p++) {
        }
        return *p == '\0';
    }
    /* 1#entity-tag, empty elements allowed as RFC 9110 section 5.6.1
     * asks of a recipient. */
    for (;;) {
        const char *start;

        while (ows(*p) || *p == ',') {
            p++;
        }
        if (*p == '\0') {
            return 0;
        }
        if (p[0] == 'W' && p[1] == '/') {
            p += 2;
        }
        if (*p != '"') {
            return 0;
        }
        start = p++;
        while (etagc((unsigned char)*p)) {
            p++;
        }
        if (*p != '"') {
            return 0;
        }
        p++;
        if ((apr_size_t)(p - start) == etag_len
            && !memcmp(start, etag, etag_len)) {
            return 1;
        }
        while (ows(*p)) {
            p++;
        }
        if (*p != ',' && *p != '\0') {
            return 0;
        }
    }
}
