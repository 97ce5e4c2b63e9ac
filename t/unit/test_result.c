/* test_result.c: the one result vocabulary of the core (mi_result_e), TAP
 * output: what a database failure means (MI_ERR_RETRY or MI_ERR_DB), and
 * that the operations the handlers call say MI_ERR_NOT_FOUND, MI_ERR_DB or
 * MI_ERR_INTERNAL as mi_http_result expects. A failed random draw cannot be
 * provoked from outside: here libcrypto is given a random method that
 * fails. */
#define OPENSSL_SUPPRESS_DEPRECATED     /* RAND_set_rand_method */
#include <openssl/rand.h>
#include <apr_general.h>
#include "tap.h"
#include "mi_db.h"
#include "mi_idem.h"
#include "mi_json.h"
#include "mi_jsonw.h"
#include "mi_migrate.h"
#include "mi_records.h"
#include "mi_resource.h"
#include "mi_tenant.h"
#include "mi_text.h"
#include "mi_token.h"
#include "mi_upsert.h"
#include "mi_webhook.h"

static void test_failure(void)
{
    mi_db_t db;

    memset(&db, 0, sizeof(db));
    db.dialect = MI_DIALECT_PGSQL;
    ok(mi_db_failure(&db) == MI_ERR_DB, "a failure without a text: DB");
    db.error = "ERROR:  40P01: deadlock detected";
    ok(mi_db_failure(&db) == MI_ERR_RETRY, "deadlock: RETRY");
    db.error = "ERROR:  40001: could not serialize access due to concurrent "
               "update";
    ok(mi_db_failure(&db) == MI_ERR_RETRY, "serialization failure: RETRY");
    db.error = "ERROR:  23505: duplicate key value violates unique "
               "constraint";
    ok(mi_db_failure(&db) == MI_ERR_DB, "another SQLSTATE: DB");
    db.error = "FATAL:  57P01: terminating connection due to administrator "
               "command";
    ok(mi_db_failure(&db) == MI_ERR_DB, "a restart: DB");
    db.error = "could not connect: 40P01: text that merely looks like it";
    ok(mi_db_failure(&db) == MI_ERR_DB, "only the SQLSTATE position counts");
    db.dialect = MI_DIALECT_SQLITE3;
    db.error = "ERROR:  40P01: deadlock detected";
    ok(mi_db_failure(&db) == MI_ERR_DB, "SQLite never says RETRY");
    ok(mi_db_result(&db, APR_SUCCESS) == MI_OK, "APR_SUCCESS: OK");
    ok(mi_db_result(&db, APR_EGENERAL) == MI_ERR_DB, "a failure: its meaning");
}

static const mi_jv_t *records_of(apr_pool_t *p, const char *text)
{
    const mi_jv_t *recs = NULL;

    mi_jsonr_parse(p, text, strlen(text), &recs);
    return recs;
}

/* Without a schema every statement fails: the operations say DB. */
static void test_no_schema(apr_pool_t *p)
{
    const mi_resource_t *res = mi_resource_find("suppliers");
    mi_caller_t caller = { "org_x", "int_x", "tok_x" };
    mi_idem_t idem = { "org_x", "key", "hash" };
    mi_token_info_t tok;
    mi_idem_e state;
    mi_jsonw_t w;
    mi_db_t *db;
    const char *err = NULL, *body = NULL;
    int status = 0;

    if (mi_db_open(p, "sqlite3", ":memory:", &db, &err) != APR_SUCCESS) {
        ok(0, "open in-memory SQLite without schema");
        return;
    }
    mi_jsonw_init(&w, p, 256);
    ok(mi_records_get(db, p, res, "org_x", "A", &w) == MI_ERR_DB,
       "get without schema: DB");
    ok(mi_upsert_run(db, p, res, &caller,
                     records_of(p, "[{\"externalId\":\"A\",\"name\":\"a\"}]"),
                     0, NULL, &body, NULL) == MI_ERR_DB,
       "upsert without schema: DB");
    ok(mi_idem_claim(db, p, &idem, &state, &status, &body) == MI_ERR_DB,
       "idempotency claim without schema: DB");
    ok(mi_token_lookup(db, p, "eudr_live_0123456789abcdef0123456789abcdef"
                       "0123456789abcdef", &tok) == MI_ERR_DB,
       "token lookup without schema: DB");
    mi_db_close(db);
}

static int no_bytes(unsigned char *buf, int num)
{
    (void)buf;
    (void)num;
    return 0;
}

static int rand_ready(void)
{
    return 1;
}

/* libcrypto with no randomness to give. */
static const RAND_METHOD failing_rand = { NULL, no_bytes, NULL, NULL,
                                          no_bytes, rand_ready };

static void test_random_draw(apr_pool_t *p, mi_db_t *db, mi_caller_t *caller)
{
    const mi_resource_t *res = mi_resource_find("suppliers");
    const RAND_METHOD *saved = RAND_get_rand_method();
    json_t *events = mi_json_own(p, json_pack("[s]", "supplier.created"));
    json_t *out = NULL;
    const char *ids[2], *id = NULL, *body = NULL;
    mi_jsonw_t w;

    ok(RAND_set_rand_method(&failing_rand) == 1, "libcrypto's draw fails");
    ok(mi_ids_new(p, "c", 2, ids) == MI_ERR_INTERNAL, "ids: INTERNAL");
    is_str(mi_id_new(p, "c"), NULL, "one id: NULL");
    is_str(mi_webhook_secret_new(p), NULL, "webhook secret: NULL");
    ok(mi_org_create(db, p, "Org", &id) == MI_ERR_INTERNAL,
       "organization: INTERNAL, not DB");
    ok(mi_token_create(db, p, caller->integration_id, "t", "all", -1, &id)
           == MI_ERR_INTERNAL, "token: INTERNAL, not DB");
    ok(mi_webhook_create(db, p, caller, "https://example.com/h", events,
                         &out) == MI_ERR_INTERNAL,
       "webhook: INTERNAL, not DB");
    ok(mi_upsert_run(db, p, res, caller,
                     records_of(p, "[{\"externalId\":\"R1\",\"name\":\"r\"}]"),
                     0, NULL, &body, NULL) == MI_ERR_INTERNAL,
       "upsert: INTERNAL, not DB");
    mi_jsonw_init(&w, p, 256);
    ok(mi_records_get(db, p, res, caller->organization_id, "R1", &w)
           == MI_ERR_NOT_FOUND, "...and nothing was written");
    RAND_set_rand_method(saved);
    ok(mi_upsert_run(db, p, res, caller,
                     records_of(p, "[{\"externalId\":\"R1\",\"name\":\"r\"}]"),
                     0, NULL, &body, NULL) == MI_OK,
       "with randomness back the same upsert succeeds");
}

static void test_outcomes(apr_pool_t *p)
{
    const mi_resource_t *res = mi_resource_find("suppliers");
    mi_caller_t caller = { NULL, NULL, "tok_test" };
    mi_idem_t idem = { NULL, "key-1", "hash-1" };
    mi_idem_e state = MI_IDEM_IN_USE;
    json_t *out = NULL;
    const char *err = NULL, *id = NULL, *body = NULL;
    int applied = 0, status = 0;
    mi_db_t *db;

    if (mi_db_open(p, "sqlite3", ":memory:", &db, &err) != APR_SUCCESS
        || mi_migrate_apply(db, p, &applied) != APR_SUCCESS) {
        ok(0, "in-memory SQLite with the schema");
        return;
    }
    ok(mi_org_create(db, p, "Org", &caller.organization_id) == MI_OK,
       "organization created");
    ok(mi_integration_create(db, p, "org_none", "I", &id)
           == MI_ERR_NOT_FOUND, "integration of no organization: NOT_FOUND");
    ok(mi_integration_create(db, p, caller.organization_id, "I",
                             &caller.integration_id) == MI_OK,
       "integration created");
    ok(mi_token_create(db, p, "int_none", "t", "all", -1, &id)
           == MI_ERR_NOT_FOUND, "token of no integration: NOT_FOUND");
    ok(mi_webhook_get(db, p, &caller, "wh_none", &out) == MI_ERR_NOT_FOUND,
       "unknown webhook: NOT_FOUND");
    ok(mi_webhook_deliveries(db, p, &caller, "wh_none", NULL, 1, 50, &out)
           == MI_ERR_NOT_FOUND, "deliveries of an unknown webhook: NOT_FOUND");
    ok(mi_webhook_redeliver(db, p, &caller, "wh_none", "d_none")
           == MI_ERR_NOT_FOUND,
       "redelivery of an unknown delivery: NOT_FOUND");
    ok(mi_records_delete(db, p, res, &caller, "nobody") == MI_ERR_NOT_FOUND,
       "delete of an unknown record: NOT_FOUND");

    idem.organization_id = caller.organization_id;
    ok(mi_idem_claim(db, p, &idem, &state, &status, &body) == MI_OK
       && state == MI_IDEM_NEW, "a new key: OK, NEW");
    ok(mi_idem_claim(db, p, &idem, &state, &status, &body) == MI_OK
       && state == MI_IDEM_IN_USE, "the same key again: OK, IN_USE");
    idem.request_hash = "hash-2";
    ok(mi_idem_claim(db, p, &idem, &state, &status, &body) == MI_OK
       && state == MI_IDEM_MISMATCH, "another request: OK, MISMATCH");

    test_random_draw(p, db, &caller);
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;

    setvbuf(stdout, NULL, _IOLBF, 0);
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    mi_resources_init(p);
    test_failure();
    test_no_schema(p);
    test_outcomes(p);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
