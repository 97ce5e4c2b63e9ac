/* mi_upsert.c: one bulk upsert engine for every resource.
 *
 * Round trips per request, whatever the number of records: one query per
 * reference field (resolve the externalIds named), one upsert of the
 * valid records that carried the same fields (an ERP's usually all do;
 * once per MI_DB_CHUNK records on SQLite, once on PostgreSQL), then the
 * resource's after_create work (batches: the DDS drafts), the record
 * counts and the sync log row -- all in one transaction.
 */
#include <stdlib.h>
#include <string.h>
#include "mi_upsert.h"
#include "mi_counts.h"
#include "mi_jsonw.h"
#include "mi_outbox.h"
#include "mi_synclog.h"
#include "mi_text.h"
#include "mi_time.h"
#include "mi_validate.h"

typedef struct {
    const char *external_id;
    const char *error;      /* NULL when valid */
    const char *id;         /* internal id once written */
    const char *status;     /* CREATED, UPDATED */
    const char **row;       /* its parameters (mi_row_e) */
} item_t;

typedef struct {
    apr_pool_t *pool;
    mi_db_t *db;
    const mi_resource_t *res;
    const mi_caller_t *caller;
    item_t *items;
    size_t n;
    apr_hash_t *by_external_id;
    mi_synclog_t log;
    const char *now;
} upsert_t;

static void fail_item(upsert_t *u, item_t *it, const char *error)
{
    it->error = error;
    u->log.errors++;
}

/* Every record checked on its own, then for a repeated externalId. */
static void validate_all(upsert_t *u, const mi_jv_t *records)
{
    size_t i;

    for (i = 0; i < u->n; i++) {
        item_t *it = &u->items[i];
        const char *err = mi_validate_record(u->pool, u->res,
                                             mi_jv_at(records, i),
                                             &it->row, &it->external_id);

        if (it->external_id[0]) {
            if (apr_hash_get(u->by_external_id, it->external_id,
                             APR_HASH_KEY_STRING)) {
                err = apr_psprintf(u->pool, "Duplicate externalId \"%s\" in "
                                   "request", it->external_id);
            }
            else {
                apr_hash_set(u->by_external_id, it->external_id,
                             APR_HASH_KEY_STRING, it);
            }
        }
        if (err) {
            fail_item(u, it, err);
        }
    }
}

/* Replaces the externalIds that reference field f names by the internal ids
 * of those records: one query for the whole request. A record naming one
 * that does not exist fails with the field's message. */
static mi_result_e resolve_field(upsert_t *u, int f)
{
    const mi_field_t *field = &u->res->fields[f];
    const mi_resource_t *target = mi_resource_find(field->ref);
    json_t *names = mi_json_own(u->pool, json_array());
    apr_hash_t *ids = apr_hash_make(u->pool);
    const char *args[2];
    mi_rows_t rows;
    size_t i;
    int r;

    for (i = 0; i < u->n; i++) {
        if (!u->items[i].error && u->items[i].row[MI_ROW_FIELDS + f]) {
            json_array_append_new(names,
                json_string(u->items[i].row[MI_ROW_FIELDS + f]));
        }
    }
    if (json_array_size(names) == 0) {
        return MI_OK;
    }
    args[0] = u->caller->organization_id;
    args[1] = mi_json_dump(u->pool, names);
    if (mi_db_select(u->db, u->pool, &target->sql.resolve, &rows, 2, args)
            != APR_SUCCESS) {
        return mi_db_failure(u->db);
    }
    for (r = 0; r < rows.nrows; r++) {
        apr_hash_set(ids, rows.rows[r][0], APR_HASH_KEY_STRING,
                     rows.rows[r][1]);
    }
    for (i = 0; i < u->n; i++) {
        item_t *it = &u->items[i];
        const char *name = it->error ? NULL : it->row[MI_ROW_FIELDS + f];
        const char *id;

        if (!name) {
            continue;
        }
        id = apr_hash_get(ids, name, APR_HASH_KEY_STRING);
        if (id) {
            it->row[MI_ROW_FIELDS + f] = id;
        }
        else {
            fail_item(u, it, mi_text_fill(u->pool, field->missing, name));
        }
    }
    return MI_OK;
}

/* The valid records in the order they are written: by the fields they
 * carried (one run of the upsert per set of fields), then by externalId.
 * Writers of a resource in an organization take turns (stamp), and the
 * rows of a run are locked in this order whatever the request's. */
static int by_mask_then_external_id(const void *a, const void *b)
{
    const char *const *x = *(const char *const *const *)a;
    const char *const *y = *(const char *const *const *)b;
    int c = strcmp(x[MI_ROW_MASK], y[MI_ROW_MASK]);

    return c ? c : strcmp(x[MI_ROW_EXTERNAL_ID], y[MI_ROW_EXTERNAL_ID]);
}

/* Runs the upsert over n rows that carried the same fields, and marks
 * each record it returned: created when it kept the id proposed for it,
 * updated when it has its own. */
static mi_result_e write_run(upsert_t *u, const char *const *const *rows,
                             int n)
{
    const int nf = u->res->nfields;
    const char **tail = apr_palloc(u->pool, (4 + (apr_size_t)nf)
                                            * sizeof(*tail));
    apr_uint64_t carried = apr_strtoi64(rows[0][MI_ROW_MASK], NULL, 10);
    mi_rows_t out;
    int f, r;

    tail[0] = u->caller->organization_id;
    tail[1] = tail[2] = tail[3] = u->now;
    for (f = 0; f < nf; f++) {
        tail[4 + f] = (carried >> f) & 1 ? "1" : "0";
    }
    if (mi_db_write_rows(u->db, u->pool, &u->res->sql.upsert, n, rows,
                         4 + nf, tail, &out) != APR_SUCCESS) {
        return mi_db_failure(u->db);
    }
    for (r = 0; r < out.nrows; r++) {
        item_t *it = apr_hash_get(u->by_external_id, out.rows[r][0],
                                  APR_HASH_KEY_STRING);

        if (!it || it->status) {
            continue;
        }
        it->id = out.rows[r][1];
        if (!strcmp(it->id, it->row[MI_ROW_ID])) {
            it->status = "CREATED";
            u->log.created++;
        }
        else {
            it->status = "UPDATED";
            u->log.updated++;
        }
    }
    return MI_OK;
}

static mi_result_e write_all(upsert_t *u)
{
    const char ***rows = apr_palloc(u->pool, (u->n + 1) * sizeof(*rows));
    const char **ids = apr_palloc(u->pool, (u->n + 1) * sizeof(*ids));
    mi_result_e rc;
    size_t i, n = 0, start, end;
    int f;

    for (f = 0; f < u->res->nfields; f++) {
        if (u->res->fields[f].type == MI_FIELD_REF
            && (rc = resolve_field(u, f)) != MI_OK) {
            return rc;
        }
    }
    for (i = 0; i < u->n; i++) {
        if (!u->items[i].error) {
            rows[n++] = u->items[i].row;
        }
    }
    qsort(rows, n, sizeof(*rows), by_mask_then_external_id);
    /* Each valid record's would-be internal id, ascending in the order
     * the records are written (mi_ids_new). */
    if (mi_ids_new(u->pool, "c", n, ids) != MI_OK) {
        return MI_ERR_INTERNAL;
    }
    for (i = 0; i < n; i++) {
        rows[i][MI_ROW_ID] = ids[i];
    }
    for (start = 0; start < n; start = end) {
        for (end = start + 1; end < n && !strcmp(rows[end][MI_ROW_MASK],
                                                 rows[start][MI_ROW_MASK]);
             end++) {
        }
        if ((rc = write_run(u, (const char *const *const *)rows + start,
                            (int)(end - start))) != MI_OK) {
            return rc;
        }
    }
    for (i = 0; i < u->n; i++) {
        /* Every record a run was given comes back, created or updated. */
        if (!u->items[i].error && !u->items[i].status) {
            return MI_ERR_INTERNAL;
        }
    }
    return MI_OK;
}

/* The resource's after_create work on the records this request created. */
static mi_result_e after_create(upsert_t *u, json_t *out)
{
    apr_array_header_t *created = apr_array_make(u->pool, 16,
                                                 sizeof(mi_record_id_t));
    size_t i;

    for (i = 0; i < u->n; i++) {
        if (u->items[i].status && !strcmp(u->items[i].status, "CREATED")) {
            mi_record_id_t *c = apr_array_push(created);

            c->id = u->items[i].id;
            c->external_id = u->items[i].external_id;
        }
    }
    return u->res->after_create->run(u->db, u->pool,
                                     u->caller->organization_id, created,
                                     out);
}

/* Webhook events of the request: one per record written, and the sync
 * outcome, sync.failed also when every record failed (API.md section 9):
 * that is the sync that most needs to reach the customer. */
static mi_result_e queue_events(upsert_t *u)
{
    mi_outbox_t events;
    json_t *outcome;
    size_t i;
    int wanted;
    mi_result_e rc;

    if (u->log.created + u->log.updated + u->log.errors == 0) {
        return MI_OK;
    }
    if ((rc = mi_outbox_wanted(u->db, u->pool, u->caller->organization_id,
                               &wanted)) != MI_OK || !wanted) {
        return rc;
    }
    mi_outbox_init(&events, u->pool);
    for (i = 0; i < u->n; i++) {
        const item_t *it = &u->items[i];

        if (!it->error) {
            mi_outbox_add_record(&events, u->res->event,
                                 !strcmp(it->status, "CREATED") ? "created"
                                                                : "updated",
                                 it->external_id, it->id);
        }
    }
    outcome = json_pack("{s:s, s:i, s:i, s:i}", "entityType",
                        u->res->entity_type, "created", u->log.created,
                        "updated", u->log.updated, "errors", u->log.errors);
    mi_outbox_add(&events, u->log.errors ? "sync.failed" : "sync.completed",
                  outcome);
    json_decref(outcome);
    return mi_outbox_queue(u->db, u->pool, u->caller->organization_id,
                           &events);
}

/* One {"externalId":..., <key>:...} of the response. */
static void write_outcome(mi_jsonw_t *w, int first, const item_t *it)
{
    if (!first) {
        mi_jsonw_lit(w, ",");
    }
    mi_jsonw_lit(w, "{\"externalId\":");
    mi_jsonw_str(w, it->external_id);
}

static const char *response_of(upsert_t *u, json_t *after_created)
{
    mi_jsonw_t w;
    size_t i;
    int first = 1;

    mi_jsonw_init(&w, u->pool, 128 + u->n * 96);
    mi_jsonw_lit(&w, "{\"success\":true,\"created\":");
    mi_jsonw_int(&w, u->log.created);
    mi_jsonw_lit(&w, ",\"updated\":");
    mi_jsonw_int(&w, u->log.updated);
    mi_jsonw_lit(&w, ",\"errors\":[");
    for (i = 0; i < u->n; i++) {
        if (u->items[i].error) {
            write_outcome(&w, first, &u->items[i]);
            mi_jsonw_lit(&w, ",\"error\":");
            mi_jsonw_str(&w, u->items[i].error);
            mi_jsonw_lit(&w, "}");
            first = 0;
        }
    }
    mi_jsonw_lit(&w, "],\"records\":[");
    for (i = 0; i < u->n; i++) {
        const item_t *it = &u->items[i];

        write_outcome(&w, i == 0, it);
        mi_jsonw_lit(&w, ",\"internalId\":");
        mi_jsonw_str(&w, it->error ? "" : it->id);
        mi_jsonw_lit(&w, ",\"status\":");
        mi_jsonw_str(&w, it->error ? "ERROR" : it->status);
        mi_jsonw_lit(&w, "}");
    }
    mi_jsonw_lit(&w, "]");
    if (after_created) {
        const char *made = mi_json_dump(u->pool, after_created);

        mi_jsonw_lit(&w, ",");
        mi_jsonw_str(&w, u->res->after_create->key);
        mi_jsonw_lit(&w, ":");
        mi_jsonw_raw(&w, made, strlen(made));
    }
    mi_jsonw_lit(&w, "}");
    return apr_pstrmemdup(u->pool, w.buf, w.len);
}

/* The lastSyncedAt of this write: taken in the writers' turn
 * (mi_counts_lock), after every write before it has committed, and later
 * than all they stamped even when clocks differ between nodes; so that
 * what commits later is later in the listing order, and a walk by cursor
 * (API.md section 5) finds every record written behind it. */
static mi_result_e stamp(upsert_t *u)
{
    const char *org = u->caller->organization_id;
    apr_int64_t now = mi_now_ms(), latest;
    mi_result_e rc;
    mi_rows_t rows;

    if ((rc = mi_counts_lock(u->db, u->pool, org, u->res->entity_type))
            != MI_OK) {
        return rc;
    }
    if (mi_db_select(u->db, u->pool, &u->res->sql.latest, &rows, 1, &org)
            != APR_SUCCESS) {
        return mi_db_failure(u->db);
    }
    if (rows.nrows == 1 && rows.rows[0][0]
        && (latest = apr_atoi64(rows.rows[0][0])) >= now) {
        now = latest + 1;
    }
    u->now = mi_db_int(u->pool, now);
    return MI_OK;
}

mi_result_e mi_upsert_run(mi_db_t *db, apr_pool_t *pool,
                          const mi_resource_t *res, const mi_caller_t *caller,
                          const mi_jv_t *records, int run_after_create,
                          const mi_idem_t *idem, const char **body,
                          mi_upsert_counts_t *counts)
{
    upsert_t u;
    mi_result_e rc;
    json_t *after_created = res->after_create
                                ? mi_json_own(pool, json_array()) : NULL;

    memset(&u, 0, sizeof(u));
    u.pool = pool;
    u.db = db;
    u.res = res;
    u.caller = caller;
    u.n = records->len;
    u.items = apr_pcalloc(pool, (u.n ? u.n : 1) * sizeof(item_t));
    u.by_external_id = apr_hash_make(pool);
    u.log.organization_id = caller->organization_id;
    u.log.integration_id = caller->integration_id;
    u.log.entity_type = res->entity_type;
    u.log.action = "CREATE";
    u.log.started_at = mi_now_ms();

    validate_all(&u, records);
    if (mi_db_begin(db, pool) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if ((rc = stamp(&u)) != MI_OK
        || (rc = write_all(&u)) != MI_OK
        || (run_after_create && after_created
            && (rc = after_create(&u, after_created)) != MI_OK)
        || (rc = queue_events(&u)) != MI_OK) {
        mi_db_rollback(db);
        return rc;
    }
    if (u.log.updated > 0) {
        u.log.action = "UPDATE";
    }
    if (u.log.errors > 0) {
        u.log.error_message = apr_psprintf(pool, "%d of %d records failed",
                                           u.log.errors, (int)u.n);
    }
    u.log.completed_at = mi_now_ms();
    *body = response_of(&u, after_created);
    if ((u.log.created + u.log.updated > 0
         && (rc = mi_counts_add(db, pool, caller->organization_id,
                                res->entity_type, u.log.created)) != MI_OK)
        || (rc = mi_synclog_write(db, pool, &u.log)) != MI_OK
        || (idem && (rc = mi_idem_complete(db, pool, idem, 200, *body))
                        != MI_OK)
        || (rc = mi_db_result(db, mi_db_commit(db))) != MI_OK) {
        mi_db_rollback(db);
        return rc;
    }
    if (counts) {
        counts->created = u.log.created;
        counts->updated = u.log.updated;
        counts->failed = u.log.errors;
    }
    return MI_OK;
}
