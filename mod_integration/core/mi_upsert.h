/* mi_upsert.h: the bulk upsert of any resource (API.md section 4). */
#ifndef MI_UPSERT_H
#define MI_UPSERT_H

#include "mi_idem.h"
#include "mi_jsonr.h"
#include "mi_resource.h"

/* How the records of one upsert went: each record is one of the three. */
typedef struct {
    int created;
    int updated;
    int failed;                 /* reported in the body's errors */
} mi_upsert_counts_t;

/* Validates every record, then writes the valid ones, set-based, with the
 * request's sync log row, in one transaction. run_after_create (the
 * request's after_create flag was true, for a resource that has one): its
 * work on the records created, in the same transaction. On MI_OK *body is
 * the 200 body, stored with the write for idem when it is not NULL, and
 * *counts (when not NULL) how the records went. Any
 * other result wrote nothing: MI_ERR_RETRY (run it again), MI_ERR_DB or
 * MI_ERR_INTERNAL. */
mi_result_e mi_upsert_run(mi_db_t *db, apr_pool_t *pool,
                          const mi_resource_t *res, const mi_caller_t *caller,
                          const mi_jv_t *records, int run_after_create,
                          const mi_idem_t *idem, const char **body,
                          mi_upsert_counts_t *counts);

#endif
