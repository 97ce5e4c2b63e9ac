/* mi_resource.c: the record types of the API, described as data. */
#include <string.h>
#include "mi_resource.h"

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
    .has_dds = 1,
    .delete_guard = "EXISTS (SELECT 1 FROM dds d WHERE d.batch_id = t.id "
                    "AND d.status IN ('SUBMITTED', 'APPROVED'))",
    .delete_refusal = "Batch \"%s\" has a SUBMITTED or APPROVED DDS",
};

const mi_resource_t *const mi_resources[] = { &suppliers, &products,
                                              &batches, NULL };

void mi_resources_init(apr_pool_t *pool)
{
    mi_resource_sql_build(pool, &suppliers);
    mi_resource_sql_build(pool, &products);
    mi_resource_sql_build(pool, &batches);
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
