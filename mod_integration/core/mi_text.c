/* mi_text.c: identifiers and the small text rules of the contract. */
#include <stdlib.h>
#include <string.h>
#include <apr_escape.h>
#include "mi_text.h"
#include "mi_crypto.h"
#include "mi_time.h"

#define ID_TIME_CHARS 8
#define ID_RANDOM_CHARS 16

static const char base36[] = "0123456789abcdefghijklmnopqrstuvwxyz";

static int id_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

mi_result_e mi_ids_new(apr_pool_t *pool, const char *prefix, apr_size_t n,
                       const char **ids)
{
    apr_size_t plen = strlen(prefix), len = plen + ID_TIME_CHARS
                                            + ID_RANDOM_CHARS + 1, i, k;
    apr_uint64_t t = (apr_uint64_t)mi_now_ms();
    unsigned char *rnd = apr_palloc(pool, n * ID_RANDOM_CHARS + 1);
    char head[64];

    /* One draw of randomness for all of them. */
    if (plen > sizeof(head) - ID_TIME_CHARS
        || mi_random_bytes(rnd, n * ID_RANDOM_CHARS) != APR_SUCCESS) {
        return MI_ERR_INTERNAL;
    }
    memcpy(head, prefix, plen);
    for (i = ID_TIME_CHARS; i > 0; i--) {
        head[plen + i - 1] = base36[t % 36];
        t /= 36;
    }
    for (k = 0; k < n; k++) {
        char *id = apr_palloc(pool, len);

        memcpy(id, head, plen + ID_TIME_CHARS);
        /* 252 = 7 * 36: rejecting nothing keeps this simple, and the bias
         * of byte % 36 costs well under a bit of the ~82 bits of
         * randomness. */
        for (i = 0; i < ID_RANDOM_CHARS; i++) {
            id[plen + ID_TIME_CHARS + i] =
                base36[rnd[k * ID_RANDOM_CHARS + i] % 36];
        }
        id[len - 1] = '\0';
        ids[k] = id;
    }
    /* In ascending order: records given them in the order they are
     * written are stored in the order they are listed (a listing orders
     * the records of one write by id), so that a page reads its rows
     * side by side, and the primary key grows at one place per write. */
    qsort(ids, n, sizeof(*ids), id_order);
    return MI_OK;
}

char *mi_id_new(apr_pool_t *pool, const char *prefix)
{
    const char *id;

    return mi_ids_new(pool, prefix, 1, &id) == MI_OK ? (char *)id : NULL;
}

/* ISO 3166-1 alpha-2, officially assigned codes (249). */
static const char countries[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZ"
    "BABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ"
    "CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ"
    "DEDJDKDMDODZ" "ECEEEGEHERESET" "FIFJFKFMFOFR"
    "GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY" "HKHMHNHRHTHU"
    "IDIEILIMINIOIQIRISIT" "JEJMJOJP" "KEKGKHKIKMKNKPKRKWKYKZ"
    "LALBLCLILKLRLSLTLULVLY"
    "MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZ"
    "NANCNENFNGNINLNONPNRNUNZ" "OM" "PAPEPFPGPHPKPLPMPNPRPSPTPWPY" "QA"
    "RERORSRURW" "SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZ"
    "TCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ" "UAUGUMUSUYUZ" "VAVCVEVGVIVNVU"
    "WFWS" "YEYT" "ZAZMZW";

int mi_country_valid(const char *s)
{
    const char *p;

    if (strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A'
        || s[1] > 'Z') {
        return 0;
    }
    for (p = countries; *p; p += 2) {
        if (p[0] == s[0] && p[1] == s[1]) {
            return 1;
        }
    }
    return 0;
}

int mi_email_valid(const char *s)
{
    const char *at = strchr(s, '@'), *dot;

    if (!at || at == s || strchr(at + 1, '@')) {
        return 0;
    }
    dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] != '\0';
}

apr_size_t mi_utf8_length(const char *s, apr_size_t len)
{
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

apr_size_t mi_utf8_sequence(const unsigned char *s, apr_size_t n)
{
    unsigned char lo = 0x80, hi = 0xBF;
    apr_size_t len, i;

    if (n == 0) {
        return 0;
    }
    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
    }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        lo = s[0] == 0xE0 ? 0xA0 : 0x80;    /* no overlong forms */
        hi = s[0] == 0xED ? 0x9F : 0xBF;    /* no surrogates */
    }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        lo = s[0] == 0xF0 ? 0x90 : 0x80;    /* no overlong forms */
        hi = s[0] == 0xF4 ? 0x8F : 0xBF;    /* nothing past U+10FFFF */
    }
    else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return len;
}

int mi_utf8_valid(const char *s, apr_size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        apr_size_t n = mi_utf8_sequence(p, (apr_size_t)(end - p));

        if (n == 0) {
            return 0;
        }
        p += n;
    }
    return 1;
}

const char *mi_utf8_clean(apr_pool_t *pool, const char *s)
{
    static const char replacement[] = "\xEF\xBF\xBD";    /* U+FFFD */
    const unsigned char *p = (const unsigned char *)s, *end;
    char *out, *o;

    if (!s || mi_utf8_valid(s, strlen(s))) {
        return s;
    }
    end = p + strlen(s);
    o = out = apr_palloc(pool, 3 * (apr_size_t)(end - p) + 1);
    while (p < end) {
        apr_size_t n = mi_utf8_sequence(p, (apr_size_t)(end - p));

        if (n == 0) {
            memcpy(o, replacement, 3);
            o += 3;
            p++;
        }
        else {
            memcpy(o, p, n);
            o += n;
            p += n;
        }
    }
    *o = '\0';
    return out;
}

const char *mi_url_decode(apr_pool_t *pool, const char *s)
{
    /* NULL on a malformed escape (APR_EINVAL) or an escaped NUL (APR_BADCH,
     * forbidden always); "+" stays "+". s itself when it has no escape. */
    return apr_punescape_url(pool, s, NULL, NULL, 0);
}

const char *mi_query_parse(apr_pool_t *pool, const char *args,
                           apr_table_t **out)
{
    char *copy, *pair, *state = NULL;

    *out = apr_table_make(pool, 8);
    if (!args) {
        return NULL;
    }
    copy = apr_pstrdup(pool, args);
    for (pair = apr_strtok(copy, "&", &state); pair;
         pair = apr_strtok(NULL, "&", &state)) {
        char *eq = strchr(pair, '=');
        const char *name, *value;

        if (eq) {
            *eq = '\0';
        }
        name = mi_url_decode(pool, pair);
        value = mi_url_decode(pool, eq ? eq + 1 : "");
        if (!name || !value) {
            return "Malformed percent-encoding in the query";
        }
        if (!mi_utf8_valid(name, strlen(name))
            || !mi_utf8_valid(value, strlen(value))) {
            return "Query parameters must be valid UTF-8";
        }
        apr_table_set(*out, name, value);
    }
    return NULL;
}

char *mi_text_fill(apr_pool_t *pool, const char *template, const char *value)
{
    const char *at = strstr(template, "%s");

    if (!at) {
        return apr_pstrdup(pool, template);
    }
    return apr_pstrcat(pool, apr_pstrndup(pool, template, at - template),
                       value, at + 2, NULL);
}

int mi_text_in(const char *s, const char *const *list)
{
    for (; s && *list; list++) {
        if (!strcmp(*list, s)) {
            return 1;
        }
    }
    return 0;
}
