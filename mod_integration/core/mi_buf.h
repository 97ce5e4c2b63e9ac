/* mi_buf.h: a growable byte buffer in pool memory.
 *
 * It grows by doubling: a new block from the pool, the old one left to the
 * pool, so n bytes appended cost O(n) copying in all and O(log n) blocks.
 * Writers reserve room, write into it and count what they wrote, so that
 * the common case (room enough) is a comparison and nothing else.
 */
#ifndef MI_BUF_H
#define MI_BUF_H

#include <string.h>
#include "mi_common.h"

typedef struct {
    apr_pool_t *pool;
    char *buf;              /* len bytes written, then cap - len of room */
    apr_size_t len;
    apr_size_t cap;
} mi_buf_t;

/* An empty buffer with room for cap bytes (256 when 0). */
void mi_buf_init(mi_buf_t *b, apr_pool_t *pool, apr_size_t cap);

/* Grows the buffer to room for n more bytes (mi_buf_reserve's slow path). */
char *mi_buf_grow(mi_buf_t *b, apr_size_t n);

/* Where n more bytes can be written, at b->buf + b->len; the writer adds
 * what it wrote to b->len. */
static APR_INLINE char *mi_buf_reserve(mi_buf_t *b, apr_size_t n)
{
    return n <= b->cap - b->len ? b->buf + b->len : mi_buf_grow(b, n);
}

/* Appends the n bytes at s. */
static APR_INLINE void mi_buf_append(mi_buf_t *b, const void *s,
                                     apr_size_t n)
{
    memcpy(mi_buf_reserve(b, n), s, n);
    b->len += n;
}

/* The contents as a C string: a NUL after them, not counted in len. */
char *mi_buf_cstr(mi_buf_t *b);

#endif
