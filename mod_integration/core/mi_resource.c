/* mi_resource.c: the record types of the API, described as data, and what
 * the API derives from them. */
#include <string.h>
#include "mi_resource.h"
#include "mi_dds.h"
#include "mi_token.h"
#include "mi_webhook.h"

/* A plain optional field: name in JSON, column, type, limit. */
#define FIELD(json_, column_, type_, max_) \
    { .json = (json_), .column = (column_), .type = (type_), .max = (max_) }
#define TEXT(json_, column_) FIELD(json_, column_, MI_FIELD_STRING, MI_STRING_MAX)

static const mi_field_t supplier_fields[] = {
    { .json = "name", .column = "name", .type = MI_FIELD_STRING,
      .max = MI_STRING_MAX, .required = "Supplier name is required" },
    TEXT("code", "code"),
    FIELD("country", "country", MI_FIELD_COUNTRY, MI_STRING_MAX),
    FIELD("address", "address", MI_FIELD_STRING, MI_TEXT_MAX),
    TEXT("city", "city"),
    TEXT("state", "state"),
    TEXT("postalCode", "postal_code"),
    TEXT("website", "website"),
    TEXT("taxId", "tax_id"),
    TEXT("contactPerson", "contact_person"),
    FIELD("email", "email", MI_FIELD_EMAIL, MI_STRING_MAX),
    TEXT("phone", "phone"),
    FIELD("certifications", "certifications", MI_FIELD_STRING_ARRAY,
          MI_STRING_MAX),
    FIELD("isEuOrigin", "is_eu_origin", MI_FIELD_BOOLEAN, 0),
};

static const mi_field_t product_fields[] = {
    { .json = "name", .column = "name", .type = MI_FIELD_STRING,
      .max = MI_STRING_MAX, .required = "Product name is required" },
    TEXT("category", "category"),
    FIELD("country", "country", MI_FIELD_COUNTRY, MI_STRING_MAX),
    TEXT("hsCode", "hs_code"),
    TEXT("unit", "unit"),
    TEXT("code", "code"),
    FIELD("description", "description", MI_FIELD_STRING, MI_TEXT_MAX),
    { .json = "supplierExternalId", .column = "supplier_id",
      .type = MI_FIELD_REF, .max = MI_STRING_MAX, .ref = "suppliers",
      .missing = "Supplier with externalId \"%s\" not found. "
                 "Sync suppliers first." },
};

static const mi_field_t batch_fields[] = {
    { .json = "batchNumber", .column = "batch_number",
      .type = MI_FIELD_STRING, .max = MI_STRING_MAX,
      .required = "Batch number is required" },
    { .json = "productExternalId", .column = "product_id",
      .type = MI_FIELD_REF, .max = MI_STRING_MAX,
      .required = "productExternalId is required", .ref = "products",
      .missing = "Product with externalId \"%s\" not found. "
                 "Sync products first." },
    FIELD("quantity", "quantity", MI_FIELD_NUMBER, 0),
    TEXT("unit", "unit"),
    { .json = "receivedDate", .column = "received_date",
      .type = MI_FIELD_DATE, .max = MI_STRING_MAX, .alias = "batchDate" },
    FIELD("expiryDate", "expiry_date", MI_FIELD_DATE, MI_STRING_MAX),
};

static mi_resource_t suppliers = {
    .plural = "suppliers",
    .entity_type = "SUPPLIER",
    .event = "supplier",
    .table = "suppliers",
    .fields = supplier_fields,
    .nfields = (int)MI_ARRAY_SIZE(supplier_fields),
    .name_field = 0,
};

static mi_resource_t products = {
    .plural = "products",
    .entity_type = "PRODUCT",
    .event = "product",
    .table = "products",
    .fields = product_fields,
    .nfields = (int)MI_ARRAY_SIZE(product_fields),
    .name_field = 0,
    .delete_guard = "EXISTS (SELECT 1 FROM batches b WHERE b.product_id = t.id)",
    .delete_refusal = "Product \"%s\" still has batches; delete them first",
};

static mi_resource_t batches = {
    .plural = "batches",
    .entity_type = "BATCH",
    .event = "batch",
    .table = "batches",
    .fields = batch_fields,
    .nfields = (int)MI_ARRAY_SIZE(batch_fields),
    .name_field = 0,
    .after_create = &mi_dds_auto_create,
    .delete_guard = "EXISTS (SELECT 1 FROM dds d WHERE d.batch_id = t.id "
                    "AND d.status IN ('SUBMITTED', 'APPROVED'))",
    .delete_refusal = "Batch \"%s\" has a SUBMITTED or APPROVED DDS",
};

const mi_resource_t *const mi_resources[] = { &suppliers, &products,
                                              &batches, NULL };

const char *mi_entity_type_error;

void mi_resource_build(apr_pool_t *pool, mi_resource_t *res)
{
    int i;

    mi_resource_sql_build(pool, res);
    res->members = apr_palloc(pool, res->nfields * sizeof(*res->members));
    res->member_lens = apr_palloc(pool,
                                  res->nfields * sizeof(*res->member_lens));
    for (i = 0; i < res->nfields; i++) {
        res->members[i] = apr_pstrcat(pool, ",\"", res->fields[i].json,
                                      "\":", NULL);
        res->member_lens[i] = strlen(res->members[i]);
    }
}

void mi_resources_init(apr_pool_t *pool)
{
    int i;

    /* The list is read-only to the rest of the API; the descriptors it
     * points to are this file's, and their SQL is filled in here. */
    for (i = 0; mi_resources[i]; i++) {
        mi_resource_build(pool, (mi_resource_t *)mi_resources[i]);
    }
    mi_scopes_init(pool, mi_resources);
    mi_webhook_events_init(pool, mi_resources);
    mi_entity_type_error = apr_pstrcat(pool, "entityType must be ",
                                       mi_resource_types_text(pool,
                                                              mi_resources),
                                       NULL);
}

static const char *scope_of(apr_pool_t *pool, const mi_resource_t *res,
                            const char *access)
{
    return apr_pstrcat(pool, "integration:", res->plural, ":", access, NULL);
}

void mi_resource_routes(apr_pool_t *pool, const mi_resource_t *res,
                        mi_resource_route_t routes[MI_ACTION_COUNT])
{
    const char *collection = apr_pstrcat(pool, "/", res->plural, NULL);
    const char *record = apr_pstrcat(pool, collection, "/*", NULL);
    const char *read_scope = scope_of(pool, res, "read");
    const char *write_scope = scope_of(pool, res, "write");
    /* Filled by mi_text_fill, not a printf: "%s" as it is. */
    const char *missing = apr_pstrcat(pool, "No ", res->event,
                                      " found with externalId \"%s\"", NULL);
    const mi_resource_route_t all[MI_ACTION_COUNT] = {
        { MI_ACTION_LIST, collection, read_scope, NULL },
        { MI_ACTION_UPSERT, collection, write_scope, NULL },
        { MI_ACTION_GET, record, read_scope, missing },
        { MI_ACTION_DELETE, record, write_scope, missing },
    };

    memcpy(routes, all, sizeof(all));
}

/* The names make builds of each resource of list, one per suffix (per of
 * them), then others; NULL-terminated. */
static const char *const *names_of(apr_pool_t *pool,
                                   const mi_resource_t *const *list,
                                   const char *const *suffixes, int per,
                                   const char *(*make)(apr_pool_t *,
                                                       const mi_resource_t *,
                                                       const char *),
                                   const char *const *others)
{
    apr_array_header_t *out = apr_array_make(pool, 16, sizeof(char *));
    int i, j;

    for (i = 0; list[i]; i++) {
        for (j = 0; j < per; j++) {
            APR_ARRAY_PUSH(out, const char *) = make(pool, list[i],
                                                     suffixes[j]);
        }
    }
    for (i = 0; others && others[i]; i++) {
        APR_ARRAY_PUSH(out, const char *) = others[i];
    }
    APR_ARRAY_PUSH(out, const char *) = NULL;
    return (const char *const *)out->elts;
}

const char *const *mi_resource_scopes(apr_pool_t *pool,
                                      const mi_resource_t *const *list,
                                      const char *const *others)
{
    static const char *const accesses[] = { "read", "write" };

    return names_of(pool, list, accesses, 2, scope_of, others);
}

static const char *event_of(apr_pool_t *pool, const mi_resource_t *res,
                            const char *what)
{
    return apr_pstrcat(pool, res->event, ".", what, NULL);
}

const char *const *mi_resource_events(apr_pool_t *pool,
                                      const mi_resource_t *const *list,
                                      const char *const *others)
{
    static const char *const changes[] = { "created", "updated", "deleted" };

    return names_of(pool, list, changes, 3, event_of, others);
}

const char *mi_resource_types_text(apr_pool_t *pool,
                                   const mi_resource_t *const *list)
{
    const char *text = "";
    int i;

    for (i = 0; list[i]; i++) {
        text = apr_pstrcat(pool, text,
                           i == 0 ? "" : list[i + 1] ? ", " : " or ",
                           list[i]->entity_type, NULL);
    }
    return text;
}

const mi_resource_t *mi_resource_of_type(const char *entity_type)
{
    int i;

    for (i = 0; mi_resources[i]; i++) {
        if (!strcmp(mi_resources[i]->entity_type, entity_type)) {
            return mi_resources[i];
        }
    }
    return NULL;
}

const mi_resource_t *mi_resource_find(const char *plural)
{
    int i;

    for (i = 0; mi_resources[i]; i++) {
        if (!strcmp(mi_resources[i]->plural, plural)) {
            return mi_resources[i];
        }
    }
    return NULL;
}
