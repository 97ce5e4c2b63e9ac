/* mi_resource.c: the record types of the API, described as data. */
#include <string.h>
#include "mi_resource.h"

static const mi_field_t supplier_fields[] = {
    { "name", "name", MI_FIELD_STRING, MI_STRING_MAX,
      "Supplier name is required", NULL },
    { "code", "code", MI_FIELD_STRING, MI_STRING_MAX, NULL, NULL },
    { "country", "country", MI_FIELD_COUNTRY, MI_STRING_MAX, NULL, NULL },
    { "address", "address", MI_FIELD_STRING, MI_TEXT_MAX, NULL, NULL },
    { "city", "city", MI_FIELD_STRING, MI_STRING_MAX, NULL, NULL },
    { "state", "state", MI_FIELD_STRING, MI_STRING_MAX, NULL, NULL },
    { "postalCode", "postal_code", MI_FIELD_STRING, MI_STRING_MAX, NULL, NULL },
    { "website", "website", MI_FIELD_STRING, MI_STRING_MAX, NULL, NULL },
    { "taxId", "tax_id", MI_FIELD_STRING, MI_STRING_MAX, NULL, NULL },
    { "contactPerson", "contact_person", MI_FIELD_STRING, MI_STRING_MAX, NULL,
      NULL },
    { "email", "email", MI_FIELD_EMAIL, MI_STRING_MAX, NULL, NULL },
    { "phone", "phone", MI_FIELD_STRING, MI_STRING_MAX, NULL, NULL },
    { "certifications", "certifications", MI_FIELD_STRING_ARRAY,
      MI_STRING_MAX, NULL, NULL },
    { "isEuOrigin", "is_eu_origin", MI_FIELD_BOOLEAN, 0, NULL, NULL },
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

const mi_resource_t *const mi_resources[] = { &suppliers, NULL };

void mi_resources_init(apr_pool_t *pool)
{
    mi_resource_sql_build(pool, &suppliers);
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
