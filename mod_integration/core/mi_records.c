/* mi_records.c: one listing, reading and deleting engine for every
 * resource. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "mi_records.h"
#include "mi_counts.h"
#include "mi_db_scan.h"
#include "mi_outbox.h"
#include "mi_synclog.h"
#include "mi_time.h"

/* Parses a decimal integer in [1, max]; returns 0 when malformed. */
static int parse_positive(const char *s, int max, int *out)
{
    char *end;
    long v;

    /* A digit first: strtol would skip any leading white space. */
    if (!s || !isdigit((unsigned char)*s)) {
        return 0;
    }
    v = strtol(s, &end, 10);
    if (*end || v < 1) {
        return 0;
    }
    *out = v > max ? max : (int)v;
    return 1;
}

const char *mi_page_parse(apr_pool_t *pool, apr_table_t *query,
                          int cursors, mi_page_t *page)
{
    const char *v;

    page->page = 1;
    page->limit = MI_PAGE_LIMIT_DEFAULT;
    page->since = -1;
    page->ids = NULL;
    page->cursor = NULL;
    if (cursors && (v = apr_table_get(query, "cursor")) != NULL) {
        if (apr_table_get(query, "page")) {
            return "page cannot be combined with cursor";
        }
        /* Checked against its listing by mi_records_list; only its
         * length here. */
        if (*v == '\0' || strlen(v) > MI_CURSOR_MAX) {
            return MI_CURSOR_INVALID;
        }
        page->cursor = v;
        page->page = 0;
    }
    /* Pages past 1,000,000 have no use and would overflow the offset. */
    if ((v = apr_table_get(query, "page")) != NULL
        && !parse_positive(v, 1000000, &page->page)) {
        return "page must be an integer >= 1";
    }
    if ((v = apr_table_get(query, "limit")) != NULL
        && !parse_positive(v, MI_PAGE_LIMIT_MAX, &page->limit)) {
        return "limit must be an integer >= 1";
    }
    if ((v = apr_table_get(query, "since")) != NULL
        && !mi_datetime_parse(v, &page->since)) {
        return "since must be an ISO date (YYYY-MM-DD) or date-time";
    }
    return NULL;
}

/* A stored value as JSON: numbers, booleans and arrays of strings were
 * validated on the way in and come back from the database as text. */
static void write_value(mi_jsonw_t *w, const mi_field_t *f,
                        const mi_db_row_t *row, int col)
{
    apr_size_t len = 0;
    const char *v = mi_db_row_text(row, col, &len);

    if (!v) {
        mi_jsonw_lit(w, "null");
        return;
    }
    switch (f->type) {
    case MI_FIELD_NUMBER:
    case MI_FIELD_STRING_ARRAY:
        mi_jsonw_raw(w, v, len);
        break;
    case MI_FIELD_BOOLEAN:
        if (!strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "true")) {
            mi_jsonw_lit(w, "true");
        }
        else {
            mi_jsonw_lit(w, "false");
        }
        break;
    default:
        mi_jsonw_strn(w, v, len);
    }
}

static void write_text(mi_jsonw_t *w, const mi_db_row_t *row, int col)
{
    apr_size_t len = 0;
    const char *v = mi_db_row_text(row, col, &len);

    if (v) {
        mi_jsonw_strn(w, v, len);
    }
    else {
        mi_jsonw_lit(w, "null");
    }
}

/* The last time written as ISO text: the records of one write share
 * their times, and a page has many of them. */
typedef struct {
    apr_int64_t ms;
    char iso[MI_ISO_LEN + 1];
} time_memo_t;

static void write_time(mi_jsonw_t *w, time_memo_t *memo, const char *key,
                       apr_size_t key_len, apr_int64_t ms)
{
    char *o = mi_buf_reserve(w, key_len + MI_ISO_LEN + 2);

    if (ms != memo->ms || !memo->iso[0]) {
        mi_time_iso_buf(memo->iso, ms);
        memo->ms = ms;
    }
    memcpy(o, key, key_len);
    o[key_len] = '"';
    memcpy(o + key_len + 1, memo->iso, MI_ISO_LEN);
    o[key_len + 1 + MI_ISO_LEN] = '"';
    w->len += key_len + MI_ISO_LEN + 2;
}

#define WRITE_TIME(w, memo, key, row, col) \
    write_time((w), (memo), (key), sizeof(key) - 1, \
               mi_db_row_int((row), (col)))

static void write_entity(mi_jsonw_t *w, const mi_resource_t *res,
                         const mi_db_row_t *row, time_memo_t *memo)
{
    const mi_field_t *name = &res->fields[res->name_field];
    int i;

    mi_jsonw_lit(w, "{\"externalId\":");
    write_text(w, row, MI_COL_EXTERNAL_ID);
    mi_jsonw_lit(w, ",\"internalId\":");
    write_text(w, row, MI_COL_ID);
    /* The name field under "name" too, when its own key is another. */
    if (strcmp(name->json, "name")) {
        mi_jsonw_lit(w, ",\"name\":");
        write_value(w, name, row, MI_COL_FIELDS + res->name_field);
    }
    for (i = 0; i < res->nfields; i++) {
        mi_jsonw_raw(w, res->members[i], res->member_lens[i]);
        write_value(w, &res->fields[i], row, MI_COL_FIELDS + i);
    }
    mi_jsonw_lit(w, ",\"syncStatus\":");
    write_text(w, row, MI_COL_SYNC_STATUS);
    WRITE_TIME(w, memo, ",\"lastSyncedAt\":", row, MI_COL_LAST_SYNCED_AT);
    WRITE_TIME(w, memo, ",\"createdAt\":", row, MI_COL_CREATED_AT);
    WRITE_TIME(w, memo, ",\"updatedAt\":", row, MI_COL_UPDATED_AT);
    mi_jsonw_lit(w, "}");
}

/* A page's entities, written as their rows come: at most limit of them;
 * a row after them says that another page follows. */
typedef struct {
    mi_jsonw_t *out;
    apr_pool_t *pool;
    const mi_resource_t *res;
    int limit;
    int shown;
    int more;
    mi_cursor_t last;           /* the place of the limit-th entity */
    time_memo_t memo;
    int listing;                /* rows end with the type's total and
                                 * version (a listing's statements) */
    int counted;                /* and one gave them */
    apr_int64_t total, version;
} page_writer_t;

static int write_row(void *ctx, const mi_db_row_t *row)
{
    page_writer_t *pw = ctx;
    apr_size_t len = 0;
    const char *id;

    if (pw->shown == pw->limit) {
        pw->more = 1;
        return 1;
    }
    if (pw->listing && !pw->counted) {
        pw->counted = 1;
        pw->total = mi_db_row_int(row, MI_COL_FIELDS + pw->res->nfields);
        pw->version = mi_db_row_int(row, MI_COL_FIELDS + pw->res->nfields
                                         + 1);
    }
    if (pw->shown++) {
        mi_jsonw_lit(pw->out, ",");
    }
    write_entity(pw->out, pw->res, row, &pw->memo);
    if (pw->shown == pw->limit) {
        id = mi_db_row_text(row, MI_COL_ID, &len);
        pw->last.synced_at = mi_db_row_int(row, MI_COL_LAST_SYNCED_AT);
        pw->last.id = id ? apr_pstrmemdup(pw->pool, id, len) : "";
    }
    return 0;
}

/* Writes the rows of one page, one more than its limit if there are (so
 * that the page knows whether any follows), and finds their total into
 * *filtered when the type's total (all the organization's records of
 * the type) is not it. after: the place the page starts after, or NULL
 * for the page's offset. */
static mi_result_e write_page(mi_db_t *db, apr_pool_t *pool,
                              const mi_resource_t *res, const char *org,
                              const mi_page_t *page,
                              const mi_cursor_t *after, page_writer_t *pw,
                              apr_int64_t *filtered)
{
    /* The list's two of list_columns, then the filter's (the count's). */
    const char *args[8];
    const mi_stmt_t *list, *count = &res->sql.count;
    mi_rows_t n;
    int nargs = 0, nfilter;

    args[nargs++] = org;
    args[nargs++] = org;
    args[nargs++] = org;
    args[nargs++] = mi_db_int(pool, page->since);
    if (page->ids) {
        args[nargs++] = page->ids;
        count = &res->sql.count_ids;
    }
    nfilter = nargs;
    if (after) {
        list = page->ids ? &res->sql.list_ids_after : &res->sql.list_after;
        /* A since at or past the cursor's place is where the page
         * starts: the range begins there ("" is before every id; since's
         * own term keeps out the records at since). */
        if (page->since >= after->synced_at) {
            args[nargs++] = mi_db_int(pool, page->since);
            args[nargs++] = "";
        }
        else {
            args[nargs++] = mi_db_int(pool, after->synced_at);
            args[nargs++] = after->id;
        }
        args[nargs++] = apr_itoa(pool, page->limit + 1);
    }
    else {
        list = page->ids ? &res->sql.list_ids : &res->sql.list;
        args[nargs++] = apr_itoa(pool, page->limit + 1);
        args[nargs++] = mi_db_int(pool, (apr_int64_t)(page->page - 1)
                                        * page->limit);
    }
    if (mi_db_scan(db, pool, list, nargs, args, write_row, pw)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (page->ids || page->since >= 0) {
        if (mi_db_select(db, pool, count, &n, nfilter - 2, args + 2)
                != APR_SUCCESS
            || n.nrows != 1) {
            return mi_db_failure(db);
        }
        *filtered = apr_atoi64(n.rows[0][0]);
    }
    return MI_OK;
}

/* The nextCursor of a page: after its last entity when another follows,
 * else null. */
static mi_result_e write_next(mi_jsonw_t *out, apr_pool_t *pool,
                              const mi_resource_t *res, const char *org,
                              const unsigned char *key,
                              const page_writer_t *pw)
{
    const char *next;

    mi_jsonw_lit(out, ",\"nextCursor\":");
    if (!pw->more) {
        mi_jsonw_lit(out, "null");
        return MI_OK;
    }
    if (!(next = mi_cursor_encode(pool, key, org, res->plural, &pw->last))) {
        return MI_ERR_INTERNAL;
    }
    mi_jsonw_str(out, next);
    return MI_OK;
}

/* The ETag of a listing: its page's key under the type's version. */
static mi_result_e tag(apr_pool_t *pool, mi_conditional_t *cond,
                       const char *org, const char *key, apr_int64_t version)
{
    const char *what = apr_psprintf(pool, "list %" APR_INT64_T_FMT " %s",
                                    version, key);

    cond->etag = mi_etag_make(pool, cond->key, org, what, strlen(what));
    return cond->etag ? MI_OK : MI_ERR_INTERNAL;
}

mi_result_e mi_records_list(mi_db_t *db, apr_pool_t *pool,
                            const mi_resource_t *res, const char *org,
                            const mi_page_t *page, mi_listcache_t *cache,
                            mi_conditional_t *cond, mi_jsonw_t *out)
{
    apr_int64_t total = 0, version = 0, filtered = -1;
    apr_size_t len;
    const char *key, *kept;
    const mi_cursor_t *start_after;
    mi_cursor_t after;
    page_writer_t pw;
    apr_size_t start = out->len;
    /* The version first when it decides whether the page is read at all
     * (the client's ETag, a kept page): rows read after it are at least
     * as new, so what is kept (or tagged) under it is never older than
     * it. Otherwise the page's rows bring it, of their own snapshot. */
    int version_first = cond->if_none_match != NULL || cache != NULL;
    mi_result_e rc;

    if (page->cursor && !mi_cursor_decode(pool, cond->key, org, res->plural,
                                          page->cursor, &after)) {
        return MI_ERR_INVALID;
    }
    /* The first page is a seek from the start of the range: the cheapest
     * way to it on either database. */
    if (!page->cursor && page->page == 1) {
        after.synced_at = page->since;
        after.id = "";
    }
    start_after = page->cursor || page->page == 1 ? &after : NULL;
    /* A cursor's page is kept under the cursor (checked above, so that
     * only this organization's own can name an entry of it). */
    key = apr_psprintf(pool, "%s %s %d %d %" APR_INT64_T_FMT " %s %s", org,
                       res->plural, page->page, page->limit, page->since,
                       page->ids ? page->ids : "",
                       page->cursor ? page->cursor : "");
    if (version_first) {
        if ((rc = mi_counts_get(db, pool, org, res->entity_type, &total,
                                &version)) != MI_OK
            || (rc = tag(pool, cond, org, key, version)) != MI_OK) {
            return rc;
        }
        if ((cond->not_modified = mi_etag_matches(cond->if_none_match,
                                                  cond->etag))) {
            return MI_OK;
        }
        if ((kept = mi_listcache_get(cache, pool, key, version, &len))
                != NULL) {
            mi_jsonw_raw(out, kept, len);
            return MI_OK;
        }
    }
    memset(&pw, 0, sizeof(pw));
    pw.out = out;
    pw.pool = pool;
    pw.res = res;
    pw.limit = page->limit;
    pw.listing = 1;
    mi_jsonw_lit(out, "{\"entities\":[");
    if ((rc = write_page(db, pool, res, org, page, start_after, &pw,
                         &filtered)) != MI_OK) {
        return rc;
    }
    if (!version_first) {
        if (pw.counted) {
            total = pw.total;
            version = pw.version;
        }
        /* An empty page brought none: the version, then the page again
         * (nothing of it was written), as above. */
        else if ((rc = mi_counts_get(db, pool, org, res->entity_type,
                                     &total, &version)) != MI_OK
                 || (rc = write_page(db, pool, res, org, page, start_after,
                                     &pw, &filtered)) != MI_OK) {
            return rc;
        }
        if ((rc = tag(pool, cond, org, key, version)) != MI_OK) {
            return rc;
        }
    }
    mi_jsonw_lit(out, "],\"total\":");
    mi_jsonw_int(out, filtered >= 0 ? filtered : total);
    mi_jsonw_lit(out, ",\"page\":");
    if (page->cursor) {
        mi_jsonw_lit(out, "null");
    }
    else {
        mi_jsonw_int(out, page->page);
    }
    mi_jsonw_lit(out, ",\"limit\":");
    mi_jsonw_int(out, page->limit);
    if ((rc = write_next(out, pool, res, org, cond->key, &pw)) != MI_OK) {
        return rc;
    }
    mi_jsonw_lit(out, "}");
    mi_listcache_put(cache, key, version, out->buf + start, out->len - start);
    return MI_OK;
}

mi_result_e mi_records_get(mi_db_t *db, apr_pool_t *pool,
                           const mi_resource_t *res, const char *org,
                           const char *external_id, mi_jsonw_t *out)
{
    const char *args[2] = { org, external_id };
    page_writer_t pw;

    memset(&pw, 0, sizeof(pw));
    pw.out = out;
    pw.pool = pool;
    pw.res = res;
    pw.limit = 1;
    if (mi_db_scan(db, pool, &res->sql.get, 2, args, write_row, &pw)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    return pw.shown ? MI_OK : MI_ERR_NOT_FOUND;
}

/* Runs touch on org's records of res's type (when self) and then of each
 * type that names it (a reference field), in the order of mi_resources. */
static mi_result_e with_referrers(mi_db_t *db, apr_pool_t *pool,
                                  const char *org, const mi_resource_t *res,
                                  int self,
                                  mi_result_e (*touch)(mi_db_t *,
                                                       apr_pool_t *,
                                                       const char *,
                                                       const char *))
{
    const mi_resource_t *const *r;
    mi_result_e rc;
    int i;

    if (self && (rc = touch(db, pool, org, res->entity_type)) != MI_OK) {
        return rc;
    }
    for (r = mi_resources; *r; r++) {
        for (i = 0; i < (*r)->nfields; i++) {
            const mi_field_t *f = &(*r)->fields[i];

            if (f->type == MI_FIELD_REF && !strcmp(f->ref, res->plural)) {
                if ((rc = touch(db, pool, org, (*r)->entity_type)) != MI_OK) {
                    return rc;
                }
                break;
            }
        }
    }
    return MI_OK;
}

/* The version of a type moves on. */
static mi_result_e touch_version(mi_db_t *db, apr_pool_t *pool,
                                 const char *org, const char *entity_type)
{
    return mi_counts_add(db, pool, org, entity_type, 0);
}

mi_result_e mi_records_delete(mi_db_t *db, apr_pool_t *pool,
                              const mi_resource_t *res,
                              const mi_caller_t *caller,
                              const char *external_id)
{
    const char *args[2] = { caller->organization_id, external_id };
    mi_synclog_t log = { caller->organization_id, caller->integration_id,
                         res->entity_type, "DELETE", 0, 0, 0, 0, NULL,
                         mi_now_ms(), 0 };
    mi_rows_t rows;
    mi_result_e rc;

    if (mi_db_begin(db, pool) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    /* The writers' turns of every type the delete changes, first, as an
     * upsert takes its own (mi_upsert): in one order, so that no two
     * writers wait for each other. */
    if ((rc = with_referrers(db, pool, caller->organization_id, res, 1,
                             mi_counts_lock)) != MI_OK) {
        mi_db_rollback(db);
        return rc;
    }
    /* The guard and the delete in one transaction: on refusal nothing
     * changes. (A reference made concurrently still meets the foreign
     * key.) */
    if (mi_db_select(db, pool, &res->sql.guard, &rows, 2, args)
            != APR_SUCCESS) {
        mi_db_rollback(db);
        return mi_db_failure(db);
    }
    if (rows.nrows == 0 || strcmp(rows.rows[0][1], "0")) {
        mi_db_rollback(db);
        return rows.nrows == 0 ? MI_ERR_NOT_FOUND : MI_ERR_CONFLICT;
    }
    if (mi_db_select(db, pool, &res->sql.remove, &rows, 2, args)
            != APR_SUCCESS) {
        mi_db_rollback(db);
        return mi_db_failure(db);
    }
    if (rows.nrows == 0) {
        mi_db_rollback(db);
        return MI_ERR_NOT_FOUND;
    }
    log.deleted = rows.nrows;
    {
        mi_outbox_t events;

        mi_outbox_init(&events, pool);
        mi_outbox_add_record(&events, res->event, "deleted", external_id,
                             rows.rows[0][0]);
        if ((rc = mi_outbox_queue(db, pool, caller->organization_id,
                                  &events)) != MI_OK) {
            mi_db_rollback(db);
            return rc;
        }
    }
    log.completed_at = mi_now_ms();
    /* Records of the types that name this one may change with it (the
     * reference is set to NULL): their version moves on as well, so that
     * no kept listing shows the name of a deleted record. */
    if ((rc = mi_counts_add(db, pool, caller->organization_id,
                            res->entity_type, -rows.nrows)) != MI_OK
        || (rc = with_referrers(db, pool, caller->organization_id, res, 0,
                                touch_version)) != MI_OK
        || (rc = mi_synclog_write(db, pool, &log)) != MI_OK
        || (rc = mi_db_result(db, mi_db_commit(db))) != MI_OK) {
        mi_db_rollback(db);
        return rc;
    }
    return MI_OK;
}
