/* mi_jsonw.c: a small JSON writer into pool memory. */
#include <string.h>
#include "mi_jsonw.h"
#include "mi_text.h"

void mi_jsonw_init(mi_jsonw_t *w, apr_pool_t *pool, apr_size_t cap)
{
    mi_buf_init(w, pool, cap);
}

void mi_jsonw_str(mi_jsonw_t *w, const char *s)
{
    if (!s) {
        mi_jsonw_lit(w, "null");
        return;
    }
    mi_jsonw_strn(w, s, strlen(s));
}

/* The bytes a JSON string holds as they are: printable ASCII but the
 * quote and the backslash. */
static const unsigned char plain[256] = {
#define P(c) ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')
#define P8(c) P(c), P((c) + 1), P((c) + 2), P((c) + 3), P((c) + 4), \
              P((c) + 5), P((c) + 6), P((c) + 7)
#define P64(c) P8(c), P8((c) + 8), P8((c) + 16), P8((c) + 24), \
               P8((c) + 32), P8((c) + 40), P8((c) + 48), P8((c) + 56)
    P64(0), P64(64)
#undef P64
#undef P8
#undef P
};

void mi_jsonw_strn(mi_jsonw_t *w, const char *s, apr_size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const char *end = s + n;
    char *o;

    /* Worst case: every byte a \u00XX escape, plus the quotes. */
    o = mi_buf_reserve(w, n * 6 + 2);
    *o++ = '"';
    for (; s < end; s++) {
        const char *run = s;
        unsigned char c;
        apr_size_t seq;

        /* A run of bytes that stand for themselves, copied at once. */
        while (s < end && plain[(unsigned char)*s]) {
            s++;
        }
        if (s > run) {
            memcpy(o, run, (apr_size_t)(s - run));
            o += s - run;
            if (s == end) {
                break;
            }
        }
        c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        }
        else if (c < 0x20) {
            *o++ = '\\';
            switch (c) {
            case '\n': *o++ = 'n'; break;
            case '\r': *o++ = 'r'; break;
            case '\t': *o++ = 't'; break;
            case '\b': *o++ = 'b'; break;
            case '\f': *o++ = 'f'; break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 0xf];
            }
        }
        else if (c < 0x80) {
            *o++ = (char)c;
        }
        else if ((seq = mi_utf8_sequence((const unsigned char *)s,
                                         (apr_size_t)(end - s))) > 0) {
            memcpy(o, s, seq);
            o += seq;
            s += seq - 1;
        }
        else {
            /* Not UTF-8: U+FFFD, so that the document stays JSON. */
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
        }
    }
    *o++ = '"';
    w->len = (apr_size_t)(o - w->buf);
}

void mi_jsonw_int(mi_jsonw_t *w, apr_int64_t v)
{
    char tmp[24];
    int n = apr_snprintf(tmp, sizeof(tmp), "%" APR_INT64_T_FMT, v);

    mi_jsonw_raw(w, tmp, (apr_size_t)n);
}
