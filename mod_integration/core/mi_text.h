/* mi_text.h: identifiers and the small text rules of the contract. */
#ifndef MI_TEXT_H
#define MI_TEXT_H

#include "mi_common.h"

/* A new opaque id: prefix, then 24 lowercase base36 characters (8 of time,
 * 16 of randomness); URL-safe, collision-free across processes and nodes.
 * "c" gives the cuid-like record ids of the public API. */
char *mi_id_new(apr_pool_t *pool, const char *prefix);

/* n new ids into ids[0..n-1], ascending, from one draw of randomness;
 * MI_ERR_INTERNAL when libcrypto has none to give (mi_id_new: NULL). */
mi_result_e mi_ids_new(apr_pool_t *pool, const char *prefix, apr_size_t n,
                       const char **ids);

/* 1 when s is an officially assigned ISO 3166-1 alpha-2 code. */
int mi_country_valid(const char *s);

/* 1 when s has a non-empty local part, "@" and a dotted domain. */
int mi_email_valid(const char *s);

/* Number of Unicode characters in valid UTF-8 s of len bytes. */
apr_size_t mi_utf8_length(const char *s, apr_size_t len);

/* The length of the well-formed UTF-8 sequence at s (at most n bytes):
 * 1 to 4, or 0 when s starts no such sequence (a stray continuation byte,
 * an overlong form, a surrogate, a code point above U+10FFFF, a sequence
 * cut short). RFC 3629's table, byte by byte. */
apr_size_t mi_utf8_sequence(const unsigned char *s, apr_size_t n);

/* 1 when the len bytes at s are well-formed UTF-8 (NUL bytes included). */
int mi_utf8_valid(const char *s, apr_size_t len);

/* s itself when it is well-formed UTF-8; otherwise a copy in pool with
 * every byte that starts no well-formed sequence replaced by U+FFFD, so
 * that text from a request can be quoted in a JSON body. NULL stays NULL. */
const char *mi_utf8_clean(apr_pool_t *pool, const char *s);

/* Decodes %XX escapes of a path segment (apr_punescape_url); NULL on a
 * malformed escape or an escaped NUL. */
const char *mi_url_decode(apr_pool_t *pool, const char *s);

/* Splits a query string ("a=1&b=x%2Cy"; NULL for none) into a table of
 * decoded names and values (a name without "=" gets ""). "+" stays "+":
 * externalIds may contain it. Returns NULL, or the message of a 400 when
 * an escape is malformed, decodes to NUL, or a name or value is not
 * UTF-8. */
const char *mi_query_parse(apr_pool_t *pool, const char *args,
                           apr_table_t **out);

/* 1 when s (may be NULL: 0) is one of the strings of list, which ends with
 * NULL. */
int mi_text_in(const char *s, const char *const *list);

/* template with its one "%s" replaced by value (messages kept as data). */
char *mi_text_fill(apr_pool_t *pool, const char *template, const char *value);

#endif
