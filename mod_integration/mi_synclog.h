/* mi_synclog.h: one sync log row per write request, written in the same
 * transaction as the records it describes. */
#ifndef MI_SYNCLOG_H
#define MI_SYNCLOG_H

#include "mi_db.h"

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

apr_status_t mi_synclog_write(mi_db_t *db, apr_pool_t *pool,
                              const mi_synclog_t *log);

#endif
