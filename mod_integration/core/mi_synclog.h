/* mi_synclog.h: one sync log row per write request, written in the same
 * transaction as the records it describes. */
#ifndef MI_SYNCLOG_H
#define MI_SYNCLOG_H

#include "mi_db.h"
#include "mi_json.h"

typedef struct {
    const char *organization_id;
    const char *integration_id;
    const char *entity_type;    /* SUPPLIER, PRODUCT, BATCH */
    const char *action;         /* CREATE, UPDATE, DELETE, FULL_SYNC */
    int created;
    int updated;
    int deleted;
    int errors;
    const char *error_message;  /* NULL when nothing failed */
    apr_int64_t started_at;
    apr_int64_t completed_at;
} mi_synclog_t;

/* SUCCESS, PARTIAL or ERROR, from the counts. */
const char *mi_synclog_status(const mi_synclog_t *log);

mi_result_e mi_synclog_write(mi_db_t *db, apr_pool_t *pool,
                             const mi_synclog_t *log);

/* 1 for SUCCESS, PARTIAL, ERROR, IN_PROGRESS. */
int mi_synclog_status_valid(const char *status);

/* The 200 body of GET /sync-logs: newest first; entity_type and status
 * filter when not NULL. */
mi_result_e mi_synclog_list(mi_db_t *db, apr_pool_t *pool, const char *org,
                            const char *entity_type, const char *status,
                            int page, int limit, json_t **body);

#endif
