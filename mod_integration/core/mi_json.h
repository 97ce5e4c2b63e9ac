/* mi_json.h: Jansson tied to APR pools, strict parsing, compact dumps. */
#ifndef MI_JSON_H
#define MI_JSON_H

#include <jansson.h>
#include "mi_common.h"

typedef enum {
    MI_JSON_OK = 0,
    MI_JSON_SYNTAX,     /* not JSON, or duplicate keys */
    MI_JSON_ENCODING    /* not valid UTF-8 */
} mi_json_parse_e;

/* Hands the reference to the pool: json_decref runs with its cleanup. */
json_t *mi_json_own(apr_pool_t *pool, json_t *json);

/* Parses a whole document, rejecting duplicate keys; NUL characters inside
 * strings are allowed here so that validation can name the field. */
mi_json_parse_e mi_json_parse(apr_pool_t *pool, const char *buf,
                              apr_size_t len, json_t **out);

/* Compact serialisation into pool memory (NULL on failure). */
char *mi_json_dump(apr_pool_t *pool, const json_t *json);

/* json_string of a possibly NULL C string (JSON null for NULL). */
json_t *mi_json_string_or_null(const char *s);

/* The ISO 8601 time of epoch milliseconds given as text (a database
 * column), or JSON null for NULL. */
json_t *mi_json_time_or_null(apr_pool_t *pool, const char *ms);

#endif
