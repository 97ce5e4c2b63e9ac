/* mi_jsonw.h: a small JSON writer into pool memory, for the responses that
 * are built from database rows (listings, single records): the values go
 * straight from the row into the text, without a tree of json_t. */
#ifndef MI_JSONW_H
#define MI_JSONW_H

#include "mi_buf.h"

/* The text written so far is w.buf, w.len bytes (no NUL after it). */
typedef mi_buf_t mi_jsonw_t;

void mi_jsonw_init(mi_jsonw_t *w, apr_pool_t *pool, apr_size_t cap);

/* Appends text as it is (punctuation, keys written by the caller, numbers
 * and JSON read back from the database). */
static APR_INLINE void mi_jsonw_raw(mi_jsonw_t *w, const char *s,
                                    apr_size_t len)
{
    mi_buf_append(w, s, len);
}
/* s must be a string literal (the "" around it make sure of that). */
#define mi_jsonw_lit(w, s) mi_jsonw_raw((w), "" s "", sizeof(s) - 1)

/* Appends s as a JSON string, or null when s is NULL. */
void mi_jsonw_str(mi_jsonw_t *w, const char *s);

/* The same for the n bytes at s (a NUL among them is written \u0000). */
void mi_jsonw_strn(mi_jsonw_t *w, const char *s, apr_size_t n);

/* Appends a decimal integer. */
void mi_jsonw_int(mi_jsonw_t *w, apr_int64_t v);

#endif
