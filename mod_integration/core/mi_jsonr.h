/* mi_jsonr.h: a strict JSON reader into pool memory, for the bulk bodies.
 *
 * Jansson builds a reference-counted value with a hash table for every
 * object, one allocation per value, and frees them one by one: for a body
 * of 500 records, most of the time the request spends outside the
 * database. This reader accepts exactly the documents mi_json_parse
 * accepts (RFC 8259, an object or array at the top, no duplicate keys, no
 * NUL in a key, integers within 64 bits, reals finite) and gives each
 * value in pool memory, freed with the pool. Values are read-only. */
#ifndef MI_JSONR_H
#define MI_JSONR_H

#include "mi_common.h"
#include "mi_json.h"

typedef enum {
    MI_JV_NULL,
    MI_JV_FALSE,
    MI_JV_TRUE,
    MI_JV_INTEGER,
    MI_JV_REAL,
    MI_JV_STRING,
    MI_JV_ARRAY,
    MI_JV_OBJECT
} mi_jv_type_e;

typedef struct mi_jv_s mi_jv_t;

typedef struct {
    const char *key;            /* NUL-terminated (a key holds no NUL) */
    apr_size_t key_len;
    const mi_jv_t *value;
} mi_jmember_t;

struct mi_jv_s {
    mi_jv_type_e type;
    apr_size_t len;             /* STRING: its bytes (NUL-terminated after
                                 * them; a NUL may be among them); ARRAY,
                                 * OBJECT: items, members */
    union {
        const char *str;
        apr_int64_t integer;
        double real;
        const mi_jv_t *const *items;
        const mi_jmember_t *members;
    } u;
};

/* Documents nested deeper are refused (Jansson's limit is 2048; a bulk
 * body needs 4). */
#define MI_JSONR_MAX_DEPTH 512

/* Parses the whole of buf: MI_JSON_OK with *out set, MI_JSON_ENCODING
 * when it fails and buf is not UTF-8, MI_JSON_SYNTAX otherwise. */
mi_json_parse_e mi_jsonr_parse(apr_pool_t *pool, const char *buf,
                               apr_size_t len, const mi_jv_t **out);

/* Member key of an object; NULL when absent or v is not an object. */
const mi_jv_t *mi_jv_get(const mi_jv_t *v, const char *key);

/* Item i of an array; NULL past its end or when v is not an array. */
const mi_jv_t *mi_jv_at(const mi_jv_t *v, apr_size_t i);

#define mi_jv_is(v, t) ((v) != NULL && (v)->type == (t))
#define mi_jv_is_number(v) \
    (mi_jv_is((v), MI_JV_INTEGER) || mi_jv_is((v), MI_JV_REAL))
#define mi_jv_is_boolean(v) \
    (mi_jv_is((v), MI_JV_TRUE) || mi_jv_is((v), MI_JV_FALSE))

/* The number as a double (integers converted). */
double mi_jv_number(const mi_jv_t *v);

/* v as compact JSON text, as Jansson's compact dump writes it. */
char *mi_jv_dump(apr_pool_t *pool, const mi_jv_t *v);

#endif
