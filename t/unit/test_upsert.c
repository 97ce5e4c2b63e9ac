/* test_upsert.c: unit tests of mi_upsert, the one upsert engine (and the
 * sync log row it writes), against an in-memory SQLite database with the
 * schema; what it wrote is read back through mi_records. */
#include "unit.h"
#include "mi_tenant.h"

/* The counts mi_upsert_run gives beside its body (the module's records
 * metric): each record created, updated or failed. */
static void test_counts(mi_db_t *db, apr_pool_t *p, const mi_resource_t *res,
                        const mi_caller_t *caller)
{
    static const char recs[] =
        "[{\"externalId\":\"V1\",\"name\":\"One\"},"
        "{\"externalId\":\"C3\",\"name\":\"Three\"},"
        "{\"externalId\":\"C4\"},{\"name\":\"no id\"}]";
    mi_upsert_counts_t counts = { -1, -1, -1 };
    const mi_jv_t *records = NULL;
    const char *body = NULL;

    mi_jsonr_parse(p, recs, strlen(recs), &records);
    ok(mi_upsert_run(db, p, res, caller, records, 0, NULL, &body, &counts)
           == MI_OK, "upsert with counts runs");
    ok(counts.created == 1 && counts.updated == 1 && counts.failed == 2,
       "counts: 1 created, 1 updated, 2 failed");
}

static void test_upsert(apr_pool_t *p)
{
    mi_db_t *db = unit_db(p);
    const char *org;
    const mi_resource_t *res = mi_resource_find("suppliers");
    mi_caller_t caller = { NULL, "int_test", "tok_test" };
    json_t *resp = NULL, *entity = NULL;

    if (!db) {
        ok(0, "a migrated in-memory SQLite");
        return;
    }
    mi_org_create(db, p, "Org", &org);
    caller.organization_id = org;
    ok(unit_upsert(db, p, res, &caller,
                   "[{\"externalId\":\"V1\",\"name\":\"One\",\"city\":\"Rio\"},"
                   "{\"externalId\":\"V2\"},"
                   "{\"externalId\":\"V1\",\"name\":\"x\"}]", &resp),
       "upsert runs");
    ok(json_integer_value(json_object_get(resp, "created")) == 1,
       "one created");
    is_str(json_string_value(json_object_get(json_array_get(
               json_object_get(resp, "errors"), 1), "error")),
           "Duplicate externalId \"V1\" in request", "duplicate reported");
    {
        static const mi_stmt_t last_log = { "test_last_log", {
            "SELECT status, action, records_affected, metadata, "
            "error_message FROM sync_logs ORDER BY created_at DESC LIMIT 1",
            NULL } };
        mi_rows_t rows;

        ok(mi_db_select(db, p, &last_log, &rows, 0, NULL) == APR_SUCCESS
           && rows.nrows == 1, "the request wrote one sync log row");
        is_str(rows.rows[0][0], "PARTIAL", "sync log status PARTIAL");
        is_str(rows.rows[0][1], "CREATE", "sync log action");
        is_str(rows.rows[0][2], "1", "records affected");
        is_str(rows.rows[0][3], "{\"created\":1,\"updated\":0,\"errors\":2}",
               "sync log metadata");
        is_str(rows.rows[0][4], "2 of 3 records failed", "sync log message");
    }
    ok(unit_upsert(db, p, res, &caller,
                   "[{\"externalId\":\"V1\",\"name\":\"Uno\",\"city\":null}]",
                   &resp),
       "update runs");
    if (db->error) {
        printf("# %s\n", db->error);
    }
    ok(json_integer_value(json_object_get(resp, "updated")) == 1,
       "second write updates");
    ok(unit_get_record(db, p, res, org, "V1", &entity) == MI_OK,
       "record read back");
    is_str(json_string_value(json_object_get(entity, "name")), "Uno",
           "name updated");
    ok(json_is_null(json_object_get(entity, "city")), "null clears");
    test_counts(db, p, res, &caller);
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_upsert(p);
    return unit_done(p);
}
