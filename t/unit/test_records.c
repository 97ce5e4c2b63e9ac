/* test_records.c: unit tests of mi_records, the listing, reading and
 * deleting engine, with the listing cache in front of it and tenants apart,
 * against an in-memory SQLite database with the schema (written through
 * mi_upsert, test_upsert.c). */
#include "unit.h"
#include "mi_tenant.h"

static void test_records(apr_pool_t *p)
{
    mi_db_t *db = unit_db(p);
    const char *org, *other;
    const mi_resource_t *res = mi_resource_find("suppliers");
    mi_caller_t caller = { NULL, "int_test", "tok_test" };
    json_t *resp = NULL, *entity = NULL;
    mi_page_t page = { 1, 50, -1, NULL };

    if (!db) {
        ok(0, "a migrated in-memory SQLite");
        return;
    }
    mi_org_create(db, p, "Org", &org);
    mi_org_create(db, p, "Other", &other);
    caller.organization_id = org;
    /* One supplier of Org's, as test_upsert.c leaves it. */
    if (!unit_upsert(db, p, res, &caller,
                     "[{\"externalId\":\"V1\",\"name\":\"Uno\"}]", &resp)) {
        ok(0, "a supplier to list");
        printf("# %s\n", db->error ? db->error : "");
        mi_db_close(db);
        return;
    }
    ok(unit_listing(db, p, res, org, &page, NULL, &resp)
       && json_integer_value(json_object_get(resp, "total")) == 1,
       "listing counts");
    {
        mi_listcache_t *cache;
        json_t *first = NULL, *again = NULL;

        mi_listcache_create(&cache, p, 1 << 20);
        ok(unit_listing(db, p, res, org, &page, cache, &first)
           && unit_listing(db, p, res, org, &page, cache, &again)
           && json_equal(first, again), "a kept listing is the same");
        ok(unit_upsert(db, p, res, &caller,
                       "[{\"externalId\":\"V1\",\"name\":\"Eins\"}]", &resp)
           && unit_listing(db, p, res, org, &page, cache, &again)
           && !strcmp(json_string_value(json_object_get(json_array_get(
                  json_object_get(again, "entities"), 0), "name")), "Eins"),
           "an update is listed at once, though the total is the same");
        ok(unit_listing(db, p, res, other, &page, cache, &again)
           && json_integer_value(json_object_get(again, "total")) == 0,
           "another tenant's listing is its own");
        ok(mi_records_delete(db, p, res, &caller, "V1") == MI_OK
           && unit_get_record(db, p, res, org, "V1", &entity)
                  == MI_ERR_NOT_FOUND,
           "delete");
        ok(unit_listing(db, p, res, org, &page, cache, &again)
           && json_integer_value(json_object_get(again, "total")) == 0,
           "a delete is listed at once");
    }
    ok(unit_get_record(db, p, res, other, "V1", &entity) == MI_ERR_NOT_FOUND,
       "another tenant sees nothing");
    {
        const mi_resource_t *products = mi_resource_find("products");
        mi_listcache_t *cache;
        json_t *listed = NULL;

        mi_listcache_create(&cache, p, 1 << 20);
        unit_upsert(db, p, res, &caller,
                    "[{\"externalId\":\"S9\",\"name\":\"Nine\"}]", &resp);
        ok(unit_upsert(db, p, products, &caller,
                       "[{\"externalId\":\"P9\",\"name\":\"Nine\","
                       "\"supplierExternalId\":\"S9\"}]", &resp)
           && unit_listing(db, p, products, org, &page, cache, &listed)
           && !strcmp(json_string_value(json_object_get(json_array_get(
                  json_object_get(listed, "entities"), 0),
                  "supplierExternalId")), "S9"),
           "a product lists its supplier");
        ok(mi_records_delete(db, p, res, &caller, "S9") == MI_OK
           && unit_listing(db, p, products, org, &page, cache, &listed)
           && json_is_null(json_object_get(json_array_get(
                  json_object_get(listed, "entities"), 0),
                  "supplierExternalId")),
           "a deleted supplier leaves no kept product listing naming it");
    }
    mi_db_close(db);
}

/* A cursor's page on SQLite seeks to the cursor's place in the
 * (organization_id, last_synced_at, id) index: its plan ranges on the
 * place, not on since's bound (which walked every record before the
 * cursor, t/cursor.t's deep pages 20 times slower), for each resource. */
static void test_cursor_plan(apr_pool_t *p)
{
    static const char *const names[] = { "suppliers", "products", "batches" };
    /* The org of list_columns' two subqueries, then the page's own. */
    const char *const args[] = { "org", "org", "org", "0", "5", "id-5",
                                 "101" };
    mi_db_t *db = unit_db(p);
    int i, r;

    for (i = 0; db && i < (int)MI_ARRAY_SIZE(names); i++) {
        const mi_resource_t *res = mi_resource_find(names[i]);
        mi_stmt_t plan = { apr_pstrcat(p, "test_plan_", names[i], NULL),
                           { NULL, NULL }, 0 };
        mi_rows_t rows;
        const char *details = "";

        plan.sql[MI_DIALECT_SQLITE3] = apr_pstrcat(p, "EXPLAIN QUERY PLAN ",
            res->sql.list_after.sql[MI_DIALECT_SQLITE3], NULL);
        if (mi_db_select(db, p, &plan, &rows, (int)MI_ARRAY_SIZE(args), args)
                == APR_SUCCESS) {
            for (r = 0; r < rows.nrows; r++) {
                details = apr_pstrcat(p, details, rows.rows[r][3], "; ", NULL);
            }
        }
        ok(strstr(details, "last_synced_at,id)>(?,?)") != NULL,
           apr_pstrcat(p, names[i], ": a cursor's page seeks to its place",
                       NULL));
        if (!strstr(details, "last_synced_at,id)>(?,?)")) {
            printf("# plan: %s %s\n", details, db->error ? db->error : "");
        }
    }
    if (!db) {
        ok(0, "a migrated in-memory SQLite");
    }
    else {
        mi_db_close(db);
    }
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_records(p);
    test_cursor_plan(p);
    return unit_done(p);
}
