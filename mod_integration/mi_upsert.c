/* mi_upsert.c: one bulk upsert engine for every resource.
 *
 * Round trips per request, whatever the number of records: INSERT of all
 * valid records (new ones are created, known ones left alone), UPDATE of
 * the ones the INSERT did not create, INSERT of the sync log row.
 */
#include "mi_upsert.h"
#include "mi_counts.h"
#include "mi_synclog.h"
#include "mi_text.h"
#include "mi_time.h"
#include "mi_validate.h"

typedef struct {
    const char *external_id;
    const char *error;      /* NULL when valid */
    const char *id;         /* internal id once written */
    const char *status;     /* CREATED, UPDATED, ERROR */
    json_t *row;            /* normalised row for the database */
} item_t;

/* Runs one of the two write statements over rows and marks the items it
 * returned with status. */
static apr_status_t write_rows(mi_db_t *db, apr_pool_t *pool,
                               const mi_stmt_t *st, int nargs,
                               const char *const *args, apr_hash_t *by_external_id, const char *status,
                               int *count)
{
    mi_rows_t out;
    int i;

    if (mi_db_select(db, pool, st, &out, nargs, args) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    for (i = 0; i < out.nrows; i++) {
        item_t *it = apr_hash_get(by_external_id, out.rows[i][0],
                                  APR_HASH_KEY_STRING);

        if (it && !it->status) {
            it->status = status;
            it->id = out.rows[i][1];
            (*count)++;
        }
    }
    return APR_SUCCESS;
}

static json_t *response_of(const item_t *items, size_t n, int created,
                           int updated)
{
    json_t *errors = json_array(), *records = json_array();
    size_t i;

    for (i = 0; i < n; i++) {
        const item_t *it = &items[i];

        if (it->error) {
            json_array_append_new(errors, json_pack("{s:s, s:s}",
                "externalId", it->external_id, "error", it->error));
        }
        json_array_append_new(records, json_pack("{s:s, s:s, s:s}",
            "externalId", it->external_id, "internalId",
            it->error ? "" : it->id, "status", it->error ? "ERROR"
                                                         : it->status));
    }
    return json_pack("{s:b, s:i, s:i, s:o, s:o}", "success", 1,
                     "created", created, "updated", updated,
                     "errors", errors, "records", records);
}

apr_status_t mi_upsert_run(mi_db_t *db, apr_pool_t *pool,
                           const mi_resource_t *res, const mi_caller_t *caller,
                           json_t *records, json_t **response)
{
    size_t n = json_array_size(records), i;
    item_t *items = apr_pcalloc(pool, (n ? n : 1) * sizeof(item_t));
    apr_hash_t *by_external_id = apr_hash_make(pool);
    json_t *valid = mi_json_own(pool, json_array());
    json_t *pending = mi_json_own(pool, json_array());
    mi_synclog_t log = { caller->organization_id, caller->integration_id,
                         res->entity_type, "CREATE", 0, 0, 0, 0, NULL,
                         mi_now_ms(), 0 };
    const char *now, *args[6];

    for (i = 0; i < n; i++) {
        item_t *it = &items[i];

        it->error = mi_validate_record(pool, res, json_array_get(records, i),
                                       &it->row, &it->external_id);
        if (it->external_id[0]) {
            if (apr_hash_get(by_external_id, it->external_id,
                             APR_HASH_KEY_STRING)) {
                it->error = apr_psprintf(pool,
                    "Duplicate externalId \"%s\" in request", it->external_id);
            }
            else {
                apr_hash_set(by_external_id, it->external_id,
                             APR_HASH_KEY_STRING, it);
            }
        }
        if (it->error) {
            log.errors++;
            continue;
        }
        json_object_set_new(it->row, "id", json_string(mi_id_new(pool, "c")));
        json_array_append(valid, it->row);
    }

    now = mi_db_int(pool, mi_now_ms());
    if (mi_db_begin(db, pool) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (json_array_size(valid) > 0) {
        args[0] = mi_json_dump(pool, valid);
        args[1] = args[5] = caller->organization_id;
        args[2] = args[3] = args[4] = now;
        if (write_rows(db, pool, &res->sql.insert, 6, args, by_external_id,
                       "CREATED", &log.created) != APR_SUCCESS) {
            mi_db_rollback(db);
            return APR_EGENERAL;
        }
        for (i = 0; i < n; i++) {
            if (!items[i].error && !items[i].status) {
                json_array_append(pending, items[i].row);
            }
        }
    }
    if (json_array_size(pending) > 0) {
        args[0] = mi_json_dump(pool, pending);
        args[1] = args[2] = now;
        args[3] = caller->organization_id;
        if (write_rows(db, pool, &res->sql.update, 4, args, by_external_id,
                       "UPDATED", &log.updated) != APR_SUCCESS) {
            mi_db_rollback(db);
            return APR_EGENERAL;
        }
    }
    for (i = 0; i < n; i++) {
        /* Neither created nor updated: deleted by a concurrent request
         * between the two statements. Nothing of it was written. */
        if (!items[i].error && !items[i].status) {
            items[i].error = "Record was deleted concurrently; retry";
            log.errors++;
        }
    }
    if (log.updated > 0) {
        log.action = "UPDATE";
    }
    if (log.errors > 0) {
        log.error_message = apr_psprintf(pool, "%d of %d records failed",
                                         log.errors, (int)n);
    }
    log.completed_at = mi_now_ms();
    if (mi_counts_add(db, pool, caller->organization_id, res->entity_type,
                      log.created) != APR_SUCCESS
        || mi_synclog_write(db, pool, &log) != APR_SUCCESS
        || mi_db_commit(db) != APR_SUCCESS) {
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    *response = mi_json_own(pool, response_of(items, n, log.created,
                                              log.updated));
    return APR_SUCCESS;
}
