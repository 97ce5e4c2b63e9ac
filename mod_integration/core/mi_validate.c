/* mi_validate.c: one validation engine for every resource. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "mi_validate.h"
#include "mi_text.h"
#include "mi_time.h"

static const char *type_name(mi_field_type_e type)
{
    switch (type) {
    case MI_FIELD_NUMBER:
        return "number";
    case MI_FIELD_BOOLEAN:
        return "boolean";
    case MI_FIELD_STRING_ARRAY:
        return "array of strings";
    default:
        return "string";
    }
}

/* Rules every string shares: no NUL, at most max characters. */
static const char *check_string(apr_pool_t *pool, const char *name,
                                const mi_jv_t *value, apr_size_t max)
{
    const char *s = value->u.str;
    apr_size_t len = value->len;

    if (memchr(s, '\0', len)) {
        return apr_psprintf(pool, "%s must not contain NUL characters", name);
    }
    if (mi_utf8_length(s, len) > max) {
        return apr_psprintf(pool, "%s must be at most %" APR_SIZE_T_FMT
                            " characters", name, max);
    }
    return NULL;
}

static const char *check_array(apr_pool_t *pool, const mi_field_t *f,
                               const mi_jv_t *value)
{
    apr_size_t i;

    for (i = 0; i < value->len; i++) {
        const mi_jv_t *item = value->u.items[i];
        const char *err;

        if (!mi_jv_is(item, MI_JV_STRING)) {
            return apr_psprintf(pool, "%s must be a %s", f->json,
                                type_name(f->type));
        }
        if ((err = check_string(pool, f->json, item, f->max)) != NULL) {
            return err;
        }
    }
    if (value->len > MI_ARRAY_MAX_ITEMS) {
        return apr_psprintf(pool, "%s must have at most %d items", f->json,
                            MI_ARRAY_MAX_ITEMS);
    }
    return NULL;
}

/* Checks a present, non-null value of field f. */
static const char *check_value(apr_pool_t *pool, const mi_field_t *f,
                               const mi_jv_t *value)
{
    const char *err, *s;

    switch (f->type) {
    case MI_FIELD_NUMBER:
        if (!mi_jv_is_number(value)) {
            break;
        }
        if (mi_jv_number(value) < 0 || !isfinite(mi_jv_number(value))) {
            return apr_psprintf(pool, "%s must be a non-negative number",
                                f->json);
        }
        return NULL;
    case MI_FIELD_BOOLEAN:
        return mi_jv_is_boolean(value) ? NULL : apr_psprintf(pool,
            "%s must be a boolean", f->json);
    case MI_FIELD_STRING_ARRAY:
        if (!mi_jv_is(value, MI_JV_ARRAY)) {
            break;
        }
        return check_array(pool, f, value);
    default:
        if (!mi_jv_is(value, MI_JV_STRING)) {
            break;
        }
        if ((err = check_string(pool, f->json, value, f->max)) != NULL) {
            return err;
        }
        s = value->u.str;
        if (f->required && *s == '\0') {
            return f->required;
        }
        if (f->type == MI_FIELD_COUNTRY && !mi_country_valid(s)) {
            return apr_psprintf(pool, "Invalid country code \"%s\"", s);
        }
        if (f->type == MI_FIELD_EMAIL && !mi_email_valid(s)) {
            return apr_psprintf(pool, "Invalid email \"%s\"", s);
        }
        if (f->type == MI_FIELD_DATE && !mi_date_valid(s)) {
            return apr_psprintf(pool, "%s must be an ISO date (YYYY-MM-DD)",
                                f->json);
        }
        return NULL;
    }
    return apr_psprintf(pool, "%s must be a %s", f->json, type_name(f->type));
}

static const char *external_id_of(apr_pool_t *pool, const mi_jv_t *record,
                                  const char **external_id)
{
    const mi_jv_t *v = mi_jv_get(record, "externalId");
    const char *err;

    *external_id = "";
    if (!mi_jv_is(v, MI_JV_STRING) || v->len == 0) {
        return "externalId is required";
    }
    if ((err = check_string(pool, "externalId", v, MI_STRING_MAX)) != NULL) {
        return err;
    }
    *external_id = v->u.str;
    return NULL;
}

/* A valid, non-null value as the text of its parameter. */
static const char *text_of(apr_pool_t *pool, const mi_field_t *f,
                           const mi_jv_t *value)
{
    char tmp[32];

    switch (f->type) {
    case MI_FIELD_NUMBER:
        if (value->type == MI_JV_INTEGER) {
            return apr_psprintf(pool, "%" APR_INT64_T_FMT, value->u.integer);
        }
        /* libc's %g: APR's writes 1e308 as "0.e+79". */
        snprintf(tmp, sizeof(tmp), "%.17g", value->u.real);
        return apr_pstrdup(pool, tmp);
    case MI_FIELD_BOOLEAN:
        return value->type == MI_JV_TRUE ? "1" : "0";
    case MI_FIELD_STRING_ARRAY:
        return mi_jv_dump(pool, value);
    default:
        return value->u.str;
    }
}

const char *mi_validate_record(apr_pool_t *pool, const mi_resource_t *res,
                               const mi_jv_t *record, const char ***row,
                               const char **external_id)
{
    const char **out;
    const char *err;
    apr_uint64_t carried = 0;
    int i;

    *row = NULL;
    if (!mi_jv_is(record, MI_JV_OBJECT)) {
        *external_id = "";
        return "Record must be a JSON object";
    }
    if ((err = external_id_of(pool, record, external_id)) != NULL) {
        return err;
    }
    out = apr_pcalloc(pool, (MI_ROW_FIELDS + res->nfields) * sizeof(*out));
    out[MI_ROW_EXTERNAL_ID] = *external_id;
    for (i = 0; i < res->nfields; i++) {
        const mi_field_t *f = &res->fields[i];
        const mi_jv_t *v = mi_jv_get(record, f->json);

        if (!v && f->alias) {
            v = mi_jv_get(record, f->alias);
        }
        if (!v || v->type == MI_JV_NULL) {
            if (f->required) {
                return f->required;
            }
            if (v) {
                carried |= (apr_uint64_t)1 << i;
            }
            continue;
        }
        if ((err = check_value(pool, f, v)) != NULL) {
            return err;
        }
        out[MI_ROW_FIELDS + i] = text_of(pool, f, v);
        carried |= (apr_uint64_t)1 << i;
    }
    out[MI_ROW_MASK] = apr_psprintf(pool, "%" APR_UINT64_T_FMT, carried);
    *row = out;
    return NULL;
}
