/* mi_json.c: Jansson tied to APR pools, strict parsing, compact dumps. */
#include "mi_json.h"
#include "mi_buf.h"
#include "mi_time.h"

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *mi_json_own(apr_pool_t *pool, json_t *json)
{
    if (json) {
        apr_pool_cleanup_register(pool, json, json_cleanup,
                                  apr_pool_cleanup_null);
    }
    return json;
}

mi_json_parse_e mi_json_parse(apr_pool_t *pool, const char *buf,
                              apr_size_t len, json_t **out)
{
    json_error_t err;
    json_t *json = json_loadb(buf, len,
                              JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);

    *out = NULL;
    if (!json) {
        if (json_error_code(&err) == json_error_invalid_utf8) {
            return MI_JSON_ENCODING;
        }
        return MI_JSON_SYNTAX;
    }
    *out = mi_json_own(pool, json);
    return MI_JSON_OK;
}

static int dump_append(const char *chunk, size_t size, void *data)
{
    mi_buf_append(data, chunk, size);
    return 0;
}

char *mi_json_dump(apr_pool_t *pool, const json_t *json)
{
    mi_buf_t b;

    mi_buf_init(&b, pool, 1024);
    if (json_dump_callback(json, dump_append, &b,
                           JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
        return NULL;
    }
    return mi_buf_cstr(&b);
}

json_t *mi_json_string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *mi_json_time_or_null(apr_pool_t *pool, const char *ms)
{
    return ms ? json_string(mi_time_iso(pool, apr_atoi64(ms))) : json_null();
}
