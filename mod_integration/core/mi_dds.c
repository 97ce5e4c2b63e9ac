/* mi_dds.c: Due Diligence Statements of batches. */
#include <string.h>
#include "mi_dds.h"
#include "mi_outbox.h"
#include "mi_text.h"
#include "mi_time.h"

static const char *const statuses[] = { "DRAFT", "SUBMITTED", "APPROVED",
                                        "REJECTED", NULL };

/* Reserves count numbers of the organization's sequence for year; returns
 * the last one. The row lock serialises concurrent requests. */
static const mi_stmt_t next_numbers = { "mi_dds_next_numbers", {
    "INSERT INTO dds_sequences (organization_id, year, last_value) "
    "VALUES (%s, {bigint:%s}, {bigint:%s}) "
    "ON CONFLICT (organization_id, year) DO UPDATE "
    "SET last_value = dds_sequences.last_value + excluded.last_value "
    "RETURNING last_value",
    NULL } };

static const mi_stmt_t insert_dds = { "mi_dds_insert", {
    "WITH v(id, batch, number, status, submitted) AS (VALUES {rows}) "
    "INSERT INTO dds (id, organization_id, batch_id, dds_number, status, "
    "submitted_at, created_at, updated_at) "
    "SELECT id, %s, batch, number, status, {bigint:submitted}, "
    "{bigint:%s}, {bigint:%s} FROM v WHERE id IS NOT NULL",
    NULL }, 5 };

static const mi_stmt_t batch_of = { "mi_dds_batch", {
    "SELECT b.id, b.external_id, b.batch_number, p.id, p.name, p.hs_code, "
    "s.id, s.name, s.country FROM batches b "
    "JOIN products p ON p.id = b.product_id "
    "LEFT JOIN suppliers s ON s.id = p.supplier_id "
    "WHERE b.organization_id = %s AND b.external_id = %s",
    NULL } };

static const mi_stmt_t dds_of = { "mi_dds_of_batch", {
    "SELECT id, status, dds_number, submitted_at, created_at FROM dds "
    "WHERE batch_id = %s ORDER BY created_at DESC, dds_number DESC",
    NULL } };

static const mi_stmt_t update_status = { "mi_dds_update_status", {
    "UPDATE dds SET status = %s, submitted_at = {bigint:%s}, "
    "updated_at = {bigint:%s} WHERE id = %s",
    NULL } };

int mi_dds_status_valid(const char *status)
{
    return mi_text_in(status, statuses);
}

/* Inserts one DDS per batch, numbered from the organization's sequence;
 * ids and numbers go into out (may be NULL). */
static mi_result_e insert_numbered(mi_db_t *db, apr_pool_t *pool,
                                   const char *org,
                                   const apr_array_header_t *batches,
                                   const char *status, apr_int64_t now,
                                   json_t *out)
{
    char year[MI_ISO_LEN + 1];
    const char ***rows = apr_palloc(pool, batches->nelts * sizeof(*rows));
    const char **ids = apr_palloc(pool, batches->nelts * sizeof(*ids));
    const char *args[3], *submitted = NULL;
    apr_int64_t last;
    mi_rows_t r;
    int i;

    mi_time_iso_buf(year, now);
    year[4] = '\0';
    args[0] = org;
    args[1] = year;
    args[2] = apr_itoa(pool, batches->nelts);
    if (mi_db_select(db, pool, &next_numbers, &r, 3, args) != APR_SUCCESS
        || r.nrows != 1) {
        return mi_db_failure(db);
    }
    if (mi_ids_new(pool, "c", (apr_size_t)batches->nelts, ids) != MI_OK) {
        return MI_ERR_INTERNAL;
    }
    last = apr_atoi64(r.rows[0][0]);
    if (!strcmp(status, "SUBMITTED")) {
        submitted = mi_db_int(pool, now);
    }
    for (i = 0; i < batches->nelts; i++) {
        const mi_record_id_t *b = &APR_ARRAY_IDX(batches, i, mi_record_id_t);
        const char **row = apr_palloc(pool, 5 * sizeof(*row));

        row[0] = ids[i];
        row[1] = b->id;
        row[2] = apr_psprintf(pool, "DDS-%s-%05" APR_INT64_T_FMT, year,
                              last - batches->nelts + 1 + i);
        row[3] = status;
        row[4] = submitted;
        rows[i] = row;
        if (out) {
            json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}",
                "batchExternalId", b->external_id, "ddsId", row[0],
                "ddsNumber", row[2], "status", status));
        }
    }
    args[0] = org;
    args[1] = args[2] = mi_db_int(pool, now);
    return mi_db_result(db, mi_db_write_rows(db, pool, &insert_dds,
                                             batches->nelts,
                                             (const char *const *const *)rows,
                                             3, args, NULL));
}

mi_result_e mi_dds_create_drafts(mi_db_t *db, apr_pool_t *pool,
                                 const char *org,
                                 const apr_array_header_t *batches,
                                 json_t *created)
{
    if (batches->nelts == 0) {
        return MI_OK;
    }
    return insert_numbered(db, pool, org, batches, "DRAFT", mi_now_ms(),
                           created);
}

const mi_after_create_t mi_dds_auto_create = {
    "autoCreateDDS", "ddsCreated", mi_dds_create_drafts
};

mi_result_e mi_dds_status(mi_db_t *db, apr_pool_t *pool, const char *org,
                          const char *batch_external_id, json_t **body)
{
    const char *args[2] = { org, batch_external_id };
    const char **b;
    mi_rows_t batch, dds;
    json_t *subs, *supplier = NULL;
    int i;

    if (mi_db_select(db, pool, &batch_of, &batch, 2, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (batch.nrows == 0) {
        return MI_ERR_NOT_FOUND;
    }
    b = batch.rows[0];
    if (mi_db_select(db, pool, &dds_of, &dds, 1, &b[0]) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    subs = json_array();
    for (i = 0; i < dds.nrows; i++) {
        const char **d = dds.rows[i];

        json_array_append_new(subs, json_pack("{s:s, s:s, s:s, s:o, s:o}",
            "id", d[0], "status", d[1], "ddsNumber", d[2],
            "submittedAt", mi_json_time_or_null(pool, d[3]),
            "createdAt", mi_json_time_or_null(pool, d[4])));
    }
    if (b[6]) {
        supplier = json_pack("{s:s, s:o, s:o}", "id", b[6],
                             "name", mi_json_string_or_null(b[7]),
                             "country", mi_json_string_or_null(b[8]));
    }
    *body = mi_json_own(pool, json_pack(
        "{s:s, s:o, s:s, s:{s:s, s:o, s:o}, s:o, s:o, s:o, s:o}",
        "batchExternalId", b[1],
        "batchNumber", mi_json_string_or_null(b[2]),
        "internalBatchId", b[0],
        "product", "id", b[3], "name", mi_json_string_or_null(b[4]),
        "hsCode", mi_json_string_or_null(b[5]),
        "supplier", supplier ? supplier : json_null(),
        "ddsNumber", dds.nrows ? json_string(dds.rows[0][2]) : json_null(),
        "ddsStatus", dds.nrows ? json_string(dds.rows[0][1]) : json_null(),
        "ddsSubmissions", subs));
    return MI_OK;
}

/* dds.status_changed on every change; dds.submitted and dds.approved on
 * entering those states. */
static mi_result_e queue_status_events(mi_db_t *db, apr_pool_t *pool,
                                       const char *org, const char *batch,
                                       const char *number,
                                       const char *previous,
                                       const char *status)
{
    mi_outbox_t events;
    json_t *data = json_pack("{s:s, s:s, s:o, s:s}", "batchExternalId", batch,
                             "ddsNumber", number, "previousStatus",
                             mi_json_string_or_null(previous), "newStatus",
                             status);

    mi_outbox_init(&events, pool);
    mi_outbox_add(&events, "dds.status_changed", data);
    if (!strcmp(status, "SUBMITTED")) {
        mi_outbox_add(&events, "dds.submitted", data);
    }
    else if (!strcmp(status, "APPROVED")) {
        mi_outbox_add(&events, "dds.approved", data);
    }
    json_decref(data);
    return mi_outbox_queue(db, pool, org, &events);
}

mi_result_e mi_dds_set_status(mi_db_t *db, apr_pool_t *pool, const char *org,
                              const char *batch_external_id,
                              const char *status, const char **previous,
                              const char **dds_number)
{
    const char *args[4] = { org, batch_external_id };
    apr_int64_t now = mi_now_ms();
    mi_rows_t batch, dds;
    const char *dds_id, *submitted;
    mi_result_e rc;

    *previous = NULL;
    if (mi_db_begin(db, pool) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (mi_db_select(db, pool, &batch_of, &batch, 2, args) != APR_SUCCESS
        || (batch.nrows
            && mi_db_select(db, pool, &dds_of, &dds, 1, &batch.rows[0][0])
                   != APR_SUCCESS)) {
        mi_db_rollback(db);
        return mi_db_failure(db);
    }
    if (batch.nrows == 0) {
        mi_db_rollback(db);
        return MI_ERR_NOT_FOUND;
    }
    if (dds.nrows == 0) {
        apr_array_header_t *one = apr_array_make(pool, 1,
                                                 sizeof(mi_record_id_t));
        json_t *made = mi_json_own(pool, json_array());
        mi_record_id_t *b = apr_array_push(one);

        b->id = batch.rows[0][0];
        b->external_id = batch_external_id;
        if ((rc = insert_numbered(db, pool, org, one, status, now, made))
                != MI_OK) {
            mi_db_rollback(db);
            return rc;
        }
        *dds_number = json_string_value(json_object_get(
            json_array_get(made, 0), "ddsNumber"));
    }
    else {
        dds_id = dds.rows[0][0];
        *previous = dds.rows[0][1];
        *dds_number = dds.rows[0][2];
        submitted = dds.rows[0][3];
        if (!strcmp(status, "SUBMITTED") && !submitted) {
            submitted = mi_db_int(pool, now);
        }
        args[0] = status;
        args[1] = submitted;
        args[2] = mi_db_int(pool, now);
        args[3] = dds_id;
        if (mi_db_exec(db, pool, &update_status, NULL, 4, args)
                != APR_SUCCESS) {
            mi_db_rollback(db);
            return mi_db_failure(db);
        }
    }
    /* The change is recorded as its webhook events, in this transaction. */
    if ((!*previous || strcmp(*previous, status))
        && (rc = queue_status_events(db, pool, org, batch_external_id,
                                     *dds_number, *previous, status))
               != MI_OK) {
        mi_db_rollback(db);
        return rc;
    }
    return mi_db_result(db, mi_db_commit(db));
}
