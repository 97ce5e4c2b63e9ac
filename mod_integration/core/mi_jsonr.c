/* mi_jsonr.c: a strict JSON reader into pool memory (see mi_jsonr.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mi_jsonr.h"
#include "mi_jsonw.h"
#include "mi_text.h"

typedef struct {
    apr_pool_t *pool;
    const char *p, *end;
    int depth;
    /* The values of the containers being read, on one stack: a
     * container's items are copied off it, exactly sized, when it
     * closes. */
    const mi_jv_t **stack;
    const char **keys;
    apr_size_t *key_lens;
    apr_size_t top, cap;
} reader_t;

static const mi_jv_t *value(reader_t *r);

static void skip_space(reader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t'
                             || *r->p == '\n' || *r->p == '\r')) {
        r->p++;
    }
}

static int push(reader_t *r, const char *key, apr_size_t key_len,
                const mi_jv_t *v)
{
    if (r->top == r->cap) {
        apr_size_t cap = r->cap ? r->cap * 2 : 64;
        const mi_jv_t **stack = apr_palloc(r->pool, cap * sizeof(*stack));
        const char **keys = apr_palloc(r->pool, cap * sizeof(*keys));
        apr_size_t *lens = apr_palloc(r->pool, cap * sizeof(*lens));

        if (r->top) {
            memcpy(stack, r->stack, r->top * sizeof(*stack));
            memcpy(keys, r->keys, r->top * sizeof(*keys));
            memcpy(lens, r->key_lens, r->top * sizeof(*lens));
        }
        r->stack = stack;
        r->keys = keys;
        r->key_lens = lens;
        r->cap = cap;
    }
    r->stack[r->top] = v;
    r->keys[r->top] = key;
    r->key_lens[r->top] = key_len;
    r->top++;
    return 1;
}

static mi_jv_t *make(reader_t *r, mi_jv_type_e type)
{
    mi_jv_t *v = apr_palloc(r->pool, sizeof(*v));

    v->type = type;
    v->len = 0;
    return v;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = s[i];

        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= (unsigned)(c - '0');
        }
        else if (c >= 'a' && c <= 'f') {
            v |= (unsigned)(c - 'a' + 10);
        }
        else if (c >= 'A' && c <= 'F') {
            v |= (unsigned)(c - 'A' + 10);
        }
        else {
            return 0;
        }
    }
    *out = v;
    return 1;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    }
    else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* The escape after a backslash at *s (s past the backslash), decoded at
 * *o; 0 when it is not one. */
static int escape(reader_t *r, const char **s, char **o)
{
    const char *in = *s;
    unsigned cp, low;

    if (in >= r->end) {
        return 0;
    }
    switch (*in) {
    case '"': case '\\': case '/':
        *(*o)++ = *in;
        break;
    case 'b': *(*o)++ = '\b'; break;
    case 'f': *(*o)++ = '\f'; break;
    case 'n': *(*o)++ = '\n'; break;
    case 'r': *(*o)++ = '\r'; break;
    case 't': *(*o)++ = '\t'; break;
    case 'u':
        if (r->end - in < 5 || !hex4(in + 1, &cp)) {
            return 0;
        }
        in += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return 0;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            /* A high surrogate: its low one must follow. */
            if (r->end - in < 7 || in[1] != '\\' || in[2] != 'u'
                || !hex4(in + 3, &low) || low < 0xDC00 || low > 0xDFFF) {
                return 0;
            }
            in += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        *o = put_utf8(*o, cp);
        break;
    default:
        return 0;
    }
    *s = in + 1;
    return 1;
}

/* A string at r->p (its opening quote): its decoded bytes into pool
 * memory, NUL-terminated. */
static const char *string(reader_t *r, apr_size_t *len)
{
    const char *s = r->p + 1, *close = s;
    char *out, *o;
    apr_size_t seq;

    /* Where it ends, first: the decoded text is never longer. */
    while (close < r->end && *close != '"') {
        close += *close == '\\' && close + 1 < r->end ? 2 : 1;
    }
    if (close >= r->end) {
        return NULL;
    }
    o = out = apr_palloc(r->pool, (apr_size_t)(close - s) + 1);
    while (s < close) {
        unsigned char c = (unsigned char)*s;

        if (c >= 0x20 && c < 0x80 && c != '\\') {
            *o++ = (char)c;
            s++;
        }
        else if (c == '\\') {
            s++;
            if (!escape(r, &s, &o)) {
                return NULL;
            }
        }
        else if (c < 0x20) {
            return NULL;
        }
        else if ((seq = mi_utf8_sequence((const unsigned char *)s,
                                         (apr_size_t)(close - s))) > 0) {
            memcpy(o, s, seq);
            o += seq;
            s += seq;
        }
        else {
            return NULL;
        }
    }
    *o = '\0';
    *len = (apr_size_t)(o - out);
    r->p = close + 1;
    return out;
}

static int digits(reader_t *r)
{
    const char *start = r->p;

    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        r->p++;
    }
    return r->p > start;
}

/* A number: an integer when it has neither fraction nor exponent (and
 * then within 64 bits), else a finite real. */
static const mi_jv_t *number(reader_t *r)
{
    const char *start = r->p;
    char tmp[64], *text, *end;
    apr_size_t n;
    int integer = 1;
    mi_jv_t *v;

    if (*r->p == '-') {
        r->p++;
    }
    if (r->p < r->end && *r->p == '0') {
        r->p++;
    }
    else if (!digits(r)) {
        return NULL;
    }
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        integer = 0;
        if (!digits(r)) {
            return NULL;
        }
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        integer = 0;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) {
            r->p++;
        }
        if (!digits(r)) {
            return NULL;
        }
    }
    n = (apr_size_t)(r->p - start);
    text = n < sizeof(tmp) ? tmp : apr_palloc(r->pool, n + 1);
    memcpy(text, start, n);
    text[n] = '\0';
    errno = 0;
    if (integer) {
        long long i = strtoll(text, &end, 10);

        if (errno == ERANGE) {
            return NULL;
        }
        v = make(r, MI_JV_INTEGER);
        v->u.integer = (apr_int64_t)i;
        return v;
    }
    v = make(r, MI_JV_REAL);
    v->u.real = strtod(text, &end);
    if (errno == ERANGE && (v->u.real == HUGE_VAL || v->u.real == -HUGE_VAL)) {
        return NULL;
    }
    return v;
}

static const mi_jv_t *literal(reader_t *r, const char *word,
                              mi_jv_type_e type)
{
    apr_size_t n = strlen(word);

    if ((apr_size_t)(r->end - r->p) < n || memcmp(r->p, word, n)) {
        return NULL;
    }
    r->p += n;
    return make(r, type);
}

static int key_order(const void *a, const void *b)
{
    const mi_jmember_t *x = a, *y = b;

    if (x->key_len != y->key_len) {
        return x->key_len < y->key_len ? -1 : 1;
    }
    return memcmp(x->key, y->key, x->key_len);
}

/* 1 when two members share a key: pairwise for a few, sorted beyond. */
static int repeated(apr_pool_t *pool, const mi_jmember_t *m, apr_size_t n)
{
    mi_jmember_t *sorted;
    apr_size_t i, j;

    if (n <= 16) {
        for (i = 0; i < n; i++) {
            for (j = i + 1; j < n; j++) {
                if (!key_order(&m[i], &m[j])) {
                    return 1;
                }
            }
        }
        return 0;
    }
    sorted = apr_pmemdup(pool, m, n * sizeof(*m));
    qsort(sorted, n, sizeof(*sorted), key_order);
    for (i = 1; i < n; i++) {
        if (!key_order(&sorted[i - 1], &sorted[i])) {
            return 1;
        }
    }
    return 0;
}

/* An array or an object at r->p (its opening bracket). */
static const mi_jv_t *container(reader_t *r, int object)
{
    apr_size_t base = r->top, n, i;
    char close = object ? '}' : ']';
    mi_jv_t *v;

    if (++r->depth > MI_JSONR_MAX_DEPTH) {
        return NULL;
    }
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
    }
    else {
        for (;;) {
            const char *key = NULL;
            apr_size_t key_len = 0;
            const mi_jv_t *item;

            if (object) {
                if (r->p >= r->end || *r->p != '"'
                    || !(key = string(r, &key_len))
                    || memchr(key, '\0', key_len)) {
                    return NULL;
                }
                skip_space(r);
                if (r->p >= r->end || *r->p != ':') {
                    return NULL;
                }
                r->p++;
                skip_space(r);
            }
            if (!(item = value(r)) || !push(r, key, key_len, item)) {
                return NULL;
            }
            skip_space(r);
            if (r->p < r->end && *r->p == ',') {
                r->p++;
                skip_space(r);
                continue;
            }
            if (r->p < r->end && *r->p == close) {
                r->p++;
                break;
            }
            return NULL;
        }
    }
    n = r->top - base;
    v = make(r, object ? MI_JV_OBJECT : MI_JV_ARRAY);
    v->len = n;
    if (object) {
        mi_jmember_t *m = apr_palloc(r->pool, (n ? n : 1) * sizeof(*m));

        for (i = 0; i < n; i++) {
            m[i].key = r->keys[base + i];
            m[i].key_len = r->key_lens[base + i];
            m[i].value = r->stack[base + i];
        }
        if (repeated(r->pool, m, n)) {
            return NULL;
        }
        v->u.members = m;
    }
    else {
        const mi_jv_t **items = apr_palloc(r->pool,
                                           (n ? n : 1) * sizeof(*items));

        if (n) {
            memcpy(items, r->stack + base, n * sizeof(*items));
        }
        v->u.items = items;
    }
    r->top = base;
    r->depth--;
    return v;
}

static const mi_jv_t *value(reader_t *r)
{
    mi_jv_t *v;
    const char *s;
    apr_size_t len;

    if (r->p >= r->end) {
        return NULL;
    }
    switch (*r->p) {
    case '{':
        return container(r, 1);
    case '[':
        return container(r, 0);
    case '"':
        if (!(s = string(r, &len))) {
            return NULL;
        }
        v = make(r, MI_JV_STRING);
        v->u.str = s;
        v->len = len;
        return v;
    case 't':
        return literal(r, "true", MI_JV_TRUE);
    case 'f':
        return literal(r, "false", MI_JV_FALSE);
    case 'n':
        return literal(r, "null", MI_JV_NULL);
    default:
        return *r->p == '-' || (*r->p >= '0' && *r->p <= '9') ? number(r)
                                                               : NULL;
    }
}

mi_json_parse_e mi_jsonr_parse(apr_pool_t *pool, const char *buf,
                               apr_size_t len, const mi_jv_t **out)
{
    reader_t r;
    const mi_jv_t *v = NULL;

    memset(&r, 0, sizeof(r));
    r.pool = pool;
    r.p = buf;
    r.end = buf + len;
    *out = NULL;
    skip_space(&r);
    if (r.p < r.end && (*r.p == '{' || *r.p == '[')) {
        v = value(&r);
    }
    if (v) {
        skip_space(&r);
    }
    if (!v || r.p != r.end) {
        return mi_utf8_valid(buf, len) ? MI_JSON_SYNTAX : MI_JSON_ENCODING;
    }
    *out = v;
    return MI_JSON_OK;
}

const mi_jv_t *mi_jv_get(const mi_jv_t *v, const char *key)
{
    apr_size_t n, i;

    if (!mi_jv_is(v, MI_JV_OBJECT)) {
        return NULL;
    }
    n = strlen(key);
    for (i = 0; i < v->len; i++) {
        const mi_jmember_t *m = &v->u.members[i];

        if (m->key_len == n && !memcmp(m->key, key, n)) {
            return m->value;
        }
    }
    return NULL;
}

const mi_jv_t *mi_jv_at(const mi_jv_t *v, apr_size_t i)
{
    return mi_jv_is(v, MI_JV_ARRAY) && i < v->len ? v->u.items[i] : NULL;
}

double mi_jv_number(const mi_jv_t *v)
{
    return v->type == MI_JV_INTEGER ? (double)v->u.integer : v->u.real;
}

static void dump(mi_jsonw_t *w, const mi_jv_t *v)
{
    char tmp[32];
    apr_size_t i;

    switch (v->type) {
    case MI_JV_NULL:
        mi_jsonw_lit(w, "null");
        break;
    case MI_JV_FALSE:
        mi_jsonw_lit(w, "false");
        break;
    case MI_JV_TRUE:
        mi_jsonw_lit(w, "true");
        break;
    case MI_JV_INTEGER:
        mi_jsonw_int(w, v->u.integer);
        break;
    case MI_JV_REAL:
        /* Jansson's: 17 digits, and a real always looks like one. */
        /* libc's: APR's %g writes 1e308 as "0.e+79". */
        snprintf(tmp, sizeof(tmp), "%.17g", v->u.real);
        mi_jsonw_raw(w, tmp, strlen(tmp));
        if (!strpbrk(tmp, ".eE")) {
            mi_jsonw_lit(w, ".0");
        }
        break;
    case MI_JV_STRING:
        mi_jsonw_strn(w, v->u.str, v->len);
        break;
    case MI_JV_ARRAY:
        mi_jsonw_lit(w, "[");
        for (i = 0; i < v->len; i++) {
            if (i) {
                mi_jsonw_lit(w, ",");
            }
            dump(w, v->u.items[i]);
        }
        mi_jsonw_lit(w, "]");
        break;
    case MI_JV_OBJECT:
        mi_jsonw_lit(w, "{");
        for (i = 0; i < v->len; i++) {
            if (i) {
                mi_jsonw_lit(w, ",");
            }
            mi_jsonw_strn(w, v->u.members[i].key, v->u.members[i].key_len);
            mi_jsonw_lit(w, ":");
            dump(w, v->u.members[i].value);
        }
        mi_jsonw_lit(w, "}");
        break;
    }
}

char *mi_jv_dump(apr_pool_t *pool, const mi_jv_t *v)
{
    mi_jsonw_t w;

    mi_jsonw_init(&w, pool, 64);
    dump(&w, v);
    return mi_buf_cstr(&w);
}
