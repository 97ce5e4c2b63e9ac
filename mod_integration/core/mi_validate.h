/* mi_validate.h: checks one record of a bulk request against its resource
 * descriptor and turns it into the row the upsert writes. */
#ifndef MI_VALIDATE_H
#define MI_VALIDATE_H

#include "mi_jsonr.h"
#include "mi_resource.h"

/* On success returns NULL and sets *row to the record's parameters
 * (mi_row_e; MI_ROW_ID is left for the caller) and *external_id. On
 * failure returns the contract's message; *external_id is then the
 * record's externalId, or "" when it has none. */
const char *mi_validate_record(apr_pool_t *pool, const mi_resource_t *res,
                               const mi_jv_t *record, const char ***row,
                               const char **external_id);

#endif
