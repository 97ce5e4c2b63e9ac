/* unit.h: what the C unit test programs (t/unit/test_*.c) share beside
 * the TAP helpers: the start and end of a program, an in-memory SQLite
 * database with the schema, and the engines' calls with their answers
 * parsed. */
#ifndef UNIT_H
#define UNIT_H

#include <apr_general.h>
#include "tap.h"
#include "mi_db.h"
#include "mi_json.h"
#include "mi_keys.h"
#include "mi_jsonw.h"
#include "mi_listcache.h"
#include "mi_migrate.h"
#include "mi_records.h"
#include "mi_resource.h"
#include "mi_upsert.h"

/* APR, a pool and the resource descriptors. */
static inline apr_pool_t *unit_start(int *argc, const char *const **argv)
{
    apr_pool_t *p;

    setvbuf(stdout, NULL, _IOLBF, 0);
    apr_app_initialize(argc, argv, NULL);
    apr_pool_create(&p, NULL);
    mi_resources_init(p);
    return p;
}

/* Frees the pool and prints the plan; the program's exit code. What the
 * pool owns (Jansson values, cache entries) is freed by its cleanups: the
 * sanitizer pass's leak check sees only real leaks. */
static inline int unit_done(apr_pool_t *p)
{
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}

/* An in-memory SQLite database with every migration applied, or NULL
 * (and a diagnostic line). */
static inline mi_db_t *unit_db(apr_pool_t *p)
{
    mi_db_t *db = NULL;
    const char *err = NULL;
    int applied = 0;

    if (mi_db_open(p, "sqlite3", ":memory:", &db, &err) != APR_SUCCESS) {
        printf("# open in-memory SQLite: %s\n", err ? err : "");
        return NULL;
    }
    if (mi_migrate_apply(db, p, &applied) != APR_SUCCESS) {
        printf("# migrations: %s\n", db->error ? db->error : "");
        mi_db_close(db);
        return NULL;
    }
    return db;
}

/* Reads a record through the engine and parses what it wrote. */
static inline mi_result_e unit_get_record(mi_db_t *db, apr_pool_t *p,
                                          const mi_resource_t *res,
                                          const char *org, const char *ext,
                                          json_t **entity)
{
    mi_jsonw_t w;
    mi_result_e rc;

    mi_jsonw_init(&w, p, 64);
    rc = mi_records_get(db, p, res, org, ext, &w);
    if (rc == MI_OK
        && mi_json_parse(p, w.buf, w.len, entity) != MI_JSON_OK) {
        return MI_ERR_DB;
    }
    return rc;
}

/* Lists a page and parses the body. */
static inline int unit_listing(mi_db_t *db, apr_pool_t *p,
                               const mi_resource_t *res, const char *org,
                               const mi_page_t *page, mi_listcache_t *cache,
                               json_t **body)
{
    mi_conditional_t cond = { NULL, NULL, NULL, 0 };
    mi_jsonw_t w;

    mi_jsonw_init(&w, p, 64);
    return mi_keys_listing(NULL, db, p, &cond.key) == MI_OK
           && mi_records_list(db, p, res, org, page, cache, &cond, &w)
                  == MI_OK
           && mi_json_parse(p, w.buf, w.len, body) == MI_JSON_OK;
}

/* Runs the upsert engine on a JSON array's text and parses the body it
 * answers with. */
static inline int unit_upsert(mi_db_t *db, apr_pool_t *p,
                              const mi_resource_t *res,
                              const mi_caller_t *caller, const char *body,
                              json_t **resp)
{
    const mi_jv_t *recs = NULL;
    const char *text = NULL;

    mi_jsonr_parse(p, body, strlen(body), &recs);
    return mi_upsert_run(db, p, res, caller, recs, 0, NULL, &text, NULL)
               == APR_SUCCESS
           && mi_json_parse(p, text, strlen(text), resp) == MI_JSON_OK;
}

#endif
