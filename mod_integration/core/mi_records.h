/* mi_records.h: listing, reading and deleting records of any resource
 * (API.md sections 5 and 7). */
#ifndef MI_RECORDS_H
#define MI_RECORDS_H

#include "mi_cursor.h"
#include "mi_etag.h"
#include "mi_json.h"
#include "mi_jsonw.h"
#include "mi_listcache.h"
#include "mi_resource.h"

typedef struct {
    int page;               /* 1-based; 0 with a cursor */
    int limit;              /* 1..MI_PAGE_LIMIT_MAX */
    apr_int64_t since;      /* only lastSyncedAt > since; -1 for all */
    const char *ids;        /* JSON array of externalIds to keep, or NULL */
    const char *cursor;     /* the cursor sent (at most MI_CURSOR_MAX
                             * characters, not yet checked), or NULL */
} mi_page_t;

/* Reads page, limit and since from a query string (already split into
 * name/value pairs), and cursor for a listing that takes cursors (the
 * records', mi_records_list; for others it is a parameter like any
 * unknown one). Returns NULL, or the VALIDATION_ERROR message. */
const char *mi_page_parse(apr_pool_t *pool, apr_table_t *query,
                          int cursors, mi_page_t *page);

/* Writes the 200 body of GET /<resource>, from cache (may be NULL) when
 * it holds the answer for the records' current version, and sets
 * cond->etag, the tag of that version of it; writes nothing when
 * cond->if_none_match names it (cond->not_modified). MI_ERR_INVALID when
 * page->cursor is not a cursor of this listing (MI_CURSOR_INVALID). */
mi_result_e mi_records_list(mi_db_t *db, apr_pool_t *pool,
                            const mi_resource_t *res, const char *org,
                            const mi_page_t *page, mi_listcache_t *cache,
                            mi_conditional_t *cond, mi_jsonw_t *out);

/* Writes the stored record as a JSON entity. */
mi_result_e mi_records_get(mi_db_t *db, apr_pool_t *pool,
                           const mi_resource_t *res, const char *org,
                           const char *external_id, mi_jsonw_t *out);

/* Deletes one record with its sync log row, in one transaction;
 * MI_ERR_CONFLICT when the resource's delete guard refuses. */
mi_result_e mi_records_delete(mi_db_t *db, apr_pool_t *pool,
                              const mi_resource_t *res,
                              const mi_caller_t *caller,
                              const char *external_id);

#endif
