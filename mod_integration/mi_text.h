/* mi_text.h: identifiers and the small text rules of the contract. */
#ifndef MI_TEXT_H
#define MI_TEXT_H

#include "mi_common.h"

/* A new opaque id: prefix, then 24 lowercase base36 characters (8 of time,
 * 16 of randomness); URL-safe, collision-free across processes and nodes.
 * "c" gives the cuid-like record ids of the public API. */
char *mi_id_new(apr_pool_t *pool, const char *prefix);

/* n new ids into ids[0..n-1], from one draw of randomness. */
apr_status_t mi_ids_new(apr_pool_t *pool, const char *prefix, apr_size_t n,
                        const char **ids);

/* 1 when s is an officially assigned ISO 3166-1 alpha-2 code. */
int mi_country_valid(const char *s);

/* 1 when s has a non-empty local part, "@" and a dotted domain. */
int mi_email_valid(const char *s);

/* Number of Unicode characters in valid UTF-8 s of len bytes. */
apr_size_t mi_utf8_length(const char *s, apr_size_t len);

/* Decodes %XX escapes of a path segment; NULL on a malformed escape or an
 * escaped NUL. */
char *mi_url_decode(apr_pool_t *pool, const char *s);

/* template with its one "%s" replaced by value (messages kept as data). */
char *mi_text_fill(apr_pool_t *pool, const char *template, const char *value);

#endif
