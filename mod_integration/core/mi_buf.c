/* mi_buf.c: a growable byte buffer in pool memory (see mi_buf.h). */
#include <string.h>
#include "mi_buf.h"

void mi_buf_init(mi_buf_t *b, apr_pool_t *pool, apr_size_t cap)
{
    b->pool = pool;
    b->cap = cap ? cap : 256;
    b->buf = apr_palloc(pool, b->cap);
    b->len = 0;
}

char *mi_buf_grow(mi_buf_t *b, apr_size_t n)
{
    apr_size_t cap = b->cap * 2;
    char *grown;

    while (cap - b->len < n) {
        cap *= 2;
    }
    grown = apr_palloc(b->pool, cap);
    memcpy(grown, b->buf, b->len);
    b->buf = grown;
    b->cap = cap;
    return b->buf + b->len;
}

char *mi_buf_cstr(mi_buf_t *b)
{
    *mi_buf_reserve(b, 1) = '\0';
    return b->buf;
}
