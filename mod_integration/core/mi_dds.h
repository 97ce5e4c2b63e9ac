/* mi_dds.h: Due Diligence Statements of batches: drafts created by
 * POST /batches (autoCreateDDS), numbered DDS-<year>-<5 digits> per
 * organization; their status (GET /dds/{batch}); status changes made with
 * integration-admin, recorded for webhook events. */
#ifndef MI_DDS_H
#define MI_DDS_H

#include "mi_json.h"
#include "mi_db.h"
#include "mi_resource.h"

/* 1 for DRAFT, SUBMITTED, APPROVED, REJECTED. */
int mi_dds_status_valid(const char *status);

/* A DRAFT DDS for each batch (mi_record_id_t), numbered without gaps or
 * duplicates under concurrent requests; appends { batchExternalId, ddsId,
 * ddsNumber, status } to created. Runs in the caller's transaction. */
mi_result_e mi_dds_create_drafts(mi_db_t *db, apr_pool_t *pool,
                                 const char *org,
                                 const apr_array_header_t *batches,
                                 json_t *created);

/* The batch descriptor's after_create: "autoCreateDDS": true asks for
 * mi_dds_create_drafts of the batches created, listed in "ddsCreated". */
extern const mi_after_create_t mi_dds_auto_create;

/* The body of GET /dds/{batchExternalId}. */
mi_result_e mi_dds_status(mi_db_t *db, apr_pool_t *pool, const char *org,
                          const char *batch_external_id, json_t **body);

/* Sets the newest DDS of the batch to status (creating the first DDS when
 * there is none), records the change, and says what it was. */
mi_result_e mi_dds_set_status(mi_db_t *db, apr_pool_t *pool, const char *org,
                              const char *batch_external_id,
                              const char *status, const char **previous,
                              const char **dds_number);

#endif
