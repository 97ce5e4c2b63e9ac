/* core_test.c: unit tests of the core library (no httpd), TAP output.
 * The engines run against an in-memory SQLite database. */
#include <stdlib.h>
#include <apr_general.h>
#include "tap.h"
#include "mi_crypto.h"
#include "mi_db.h"
#include "mi_json.h"
#include "mi_jsonw.h"
#include "mi_listcache.h"
#include "mi_migrate.h"
#include "mi_records.h"
#include "mi_resource.h"
#include "mi_tenant.h"
#include "mi_text.h"
#include "mi_time.h"
#include "mi_token.h"
#include "mi_upsert.h"
#include "mi_validate.h"

static void test_time(apr_pool_t *p)
{
    apr_int64_t ms = 0;

    is_str(mi_time_iso(p, 0), "1970-01-01T00:00:00.000Z", "epoch");
    is_str(mi_time_iso(p, 1705314600123LL), "2024-01-15T10:30:00.123Z",
           "ISO with milliseconds");
    ok(mi_date_valid("2024-02-29"), "leap day 2024 is a date");
    ok(!mi_date_valid("2023-02-29"), "2023-02-29 is not a date");
    ok(!mi_date_valid("2024-13-01"), "month 13 is not a date");
    ok(!mi_date_valid("2024-1-01"), "short month refused");
    ok(!mi_date_valid("2024-01-01T00:00:00Z"), "date-time is not a date");
    ok(mi_datetime_parse("2024-01-15", &ms) && ms == 1705276800000LL,
       "since as a date is midnight UTC");
    ok(mi_datetime_parse("2024-01-15T10:30:00.123Z", &ms)
       && ms == 1705314600123LL, "date-time with Z");
    ok(mi_datetime_parse("2024-01-15T12:30:00+02:00", &ms)
       && ms == 1705314600000LL, "date-time with offset");
    ok(!mi_datetime_parse("2024-01-15T10:30", &ms), "no seconds refused");
    ok(!mi_datetime_parse("yesterday", &ms), "words refused");
}

static void test_text(apr_pool_t *p)
{
    const char *id = mi_id_new(p, "c"), *id2 = mi_id_new(p, "c");

    ok(strlen(id) == 25 && id[0] == 'c', "record ids: c + 24 characters");
    ok(strcmp(id, id2) != 0, "ids differ");
    ok(strlen(mi_id_new(p, "int_")) <= 32, "prefixed ids stay <= 32");
    ok(mi_country_valid("BR") && mi_country_valid("DE")
       && mi_country_valid("ZW"), "assigned country codes");
    ok(!mi_country_valid("XX") && !mi_country_valid("br")
       && !mi_country_valid("BRA") && !mi_country_valid("UK"),
       "unassigned, lowercase, alpha-3 refused");
    ok(mi_email_valid("a@b.co"), "plain email");
    ok(!mi_email_valid("ab.co") && !mi_email_valid("a@bco")
       && !mi_email_valid("@b.co") && !mi_email_valid("a@b."),
       "malformed emails refused");
    is_str(mi_url_decode(p, "LOT%2F2024%20001"), "LOT/2024 001", "decode");
    ok(mi_url_decode(p, "bad%zz") == NULL, "malformed escape refused");
    ok(mi_url_decode(p, "nul%00") == NULL, "escaped NUL refused");
    ok(mi_utf8_length("\xc3\xa9t\xc3\xa9", 5) == 3, "UTF-8 length");
}

/* Every text that reaches a JSON body is UTF-8 (API.md section 1). */
static void test_utf8(apr_pool_t *p)
{
    static const struct {
        const char *bytes;
        int valid;
        const char *what;
    } cases[] = {
        { "plain", 1, "ASCII" },
        { "Ma\xc3\xafs \xe2\x82\xac \xf0\x9f\x8c\xb3", 1,
          "2, 3 and 4 byte sequences" },
        { "\xff", 0, "0xFF" },
        { "x\xc3", 0, "a sequence cut short" },
        { "\xc0\xaf", 0, "an overlong \"/\"" },
        { "\xe0\x80\xaf", 0, "an overlong 3-byte form" },
        { "\xed\xa0\x80", 0, "a surrogate" },
        { "\xf4\x90\x80\x80", 0, "above U+10FFFF" },
        { "\x80", 0, "a stray continuation byte" },
        { "\xe9", 0, "Latin-1 e-acute" },
    };
    apr_size_t i;
    apr_table_t *q;
    mi_jsonw_t w;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ok(mi_utf8_valid(cases[i].bytes, strlen(cases[i].bytes))
           == cases[i].valid, cases[i].what);
    }
    is_str(mi_utf8_clean(p, "a\xff" "b\xc3"), "a\xef\xbf\xbd" "b\xef\xbf\xbd",
           "clean: each bad byte becomes U+FFFD");
    is_str(mi_utf8_clean(p, "caf\xc3\xa9"), "caf\xc3\xa9",
           "clean: valid text unchanged");
    mi_jsonw_init(&w, p, 4);
    mi_jsonw_str(&w, "\"\xed\xa0\x80\xc3\xa9\n");
    mi_jsonw_lit(&w, "\0");
    is_str(w.buf, "\"\\\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9\\n\"",
           "the JSON writer replaces what is not UTF-8");
    ok(mi_query_parse(p, "limit=10&externalIds=A%2CB+C&flag", &q) == NULL
       && !strcmp(apr_table_get(q, "externalIds"), "A,B+C")
       && !strcmp(apr_table_get(q, "flag"), ""), "query: decoded once");
    ok(mi_query_parse(p, NULL, &q) == NULL && apr_is_empty_table(q),
       "query: none");
    ok(mi_query_parse(p, "since=%FF", &q) != NULL, "query: not UTF-8");
    ok(mi_query_parse(p, "since=\xc3", &q) != NULL, "query: raw bad byte");
    ok(mi_query_parse(p, "a%ff=1", &q) != NULL, "query: name not UTF-8");
    ok(mi_query_parse(p, "page=%00", &q) != NULL, "query: NUL");
    ok(mi_query_parse(p, "page=%zz", &q) != NULL, "query: bad escape");
    ok(mi_query_parse(p, "page=1%", &q) != NULL, "query: lone %");
}

static void test_tokens(apr_pool_t *p)
{
    const char *bad = NULL;
    const char *all = mi_scopes_parse(p, "all", &bad);

    ok(mi_token_well_formed("eudr_live_0123456789abcdef0123456789abcdef"
                            "0123456789abcdef"), "well-formed token");
    ok(!mi_token_well_formed("eudr_live_0123456789ABCDEF0123456789abcdef"
                             "0123456789abcdef"), "uppercase hex refused");
    ok(!mi_token_well_formed("eudr_live_abc"), "short token refused");
    ok(all && mi_scopes_contain(all, "integration:sync:read"), "all scopes");
    ok(!mi_scopes_parse(p, "integration:nope", &bad) && bad
       && !strcmp(bad, "integration:nope"), "unknown scope named");
    ok(mi_scopes_contain("integration:suppliers:read",
                         "integration:suppliers:read")
       && !mi_scopes_contain("integration:suppliers:read",
                             "integration:suppliers:write"),
       "scope membership is exact");
    /* ("", "") first: before the fix it said yes, where the second hung. */
    ok(!mi_scopes_contain("", "")
       && !mi_scopes_contain("integration:sync:read", "")
       && !mi_scopes_contain("integration:sync:read,", ""),
       "an empty scope is never contained (and does not loop)");
    is_str(mi_sha256_hex(p, "abc", 3),
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "SHA-256");
    ok(mi_const_time_equal("abc", "abc") && !mi_const_time_equal("abc", "abd")
       && !mi_const_time_equal("abc", "ab"), "constant-time compare");
}

static void test_json(apr_pool_t *p)
{
    json_t *j = NULL;
    mi_jsonw_t w;

    mi_jsonw_init(&w, p, 4);
    mi_jsonw_str(&w, "a\"b\\c\n\x01\xc3\xa9");
    mi_jsonw_raw(&w, "", 1);
    is_str(w.buf, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"", "JSON writer escapes");

    ok(mi_json_parse(p, "{\"a\":1,\"a\":2}", 13, &j) == MI_JSON_SYNTAX,
       "duplicate keys rejected");
    ok(mi_json_parse(p, "{\"a\":\"\xff\"}", 9, &j) == MI_JSON_ENCODING,
       "invalid UTF-8 told apart");
    ok(mi_json_parse(p, "[1]", 3, &j) == MI_JSON_OK && json_is_array(j),
       "arrays parse");
}

static const char *validate(apr_pool_t *p, const char *text)
{
    json_t *rec = NULL;
    const char **row;
    const char *ext;

    mi_json_parse(p, text, strlen(text), &rec);
    return mi_validate_record(p, mi_resource_find("suppliers"), rec, &row,
                              &ext);
}

static void test_validation(apr_pool_t *p)
{
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\"}"), NULL,
           "minimal supplier");
    is_str(validate(p, "{\"name\":\"x\"}"), "externalId is required",
           "externalId missing");
    is_str(validate(p, "{\"externalId\":\"A\"}"), "Supplier name is required",
           "name missing");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"\"}"),
           "Supplier name is required", "name empty");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":5}"),
           "name must be a string", "name wrong type");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\",\"country\":"
                       "\"XX\"}"), "Invalid country code \"XX\"", "country");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\",\"email\":"
                       "\"nope\"}"), "Invalid email \"nope\"", "email");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\",\"isEuOrigin\":"
                       "\"yes\"}"), "isEuOrigin must be a boolean", "bool");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"x\","
                       "\"certifications\":[\"FSC\",1]}"),
           "certifications must be a array of strings", "array items");
    is_str(validate(p, "{\"externalId\":\"A\",\"name\":\"a\\u0000b\"}"),
           "name must not contain NUL characters", "NUL");
}

/* Reads a record through the engine and parses what it wrote. */
static mi_result_e get_record(mi_db_t *db, apr_pool_t *p,
                              const mi_resource_t *res, const char *org,
                              const char *ext, json_t **entity)
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
static int listing(mi_db_t *db, apr_pool_t *p, const mi_resource_t *res,
                   const char *org, const mi_page_t *page,
                   mi_listcache_t *cache, json_t **body)
{
    mi_jsonw_t w;

    mi_jsonw_init(&w, p, 64);
    return mi_records_list(db, p, res, org, page, cache, &w) == MI_OK
           && mi_json_parse(p, w.buf, w.len, body) == MI_JSON_OK;
}

/* Runs the upsert engine and parses the body it answers with. */
static int upsert(mi_db_t *db, apr_pool_t *p, const mi_resource_t *res,
                  const mi_caller_t *caller, json_t *recs, json_t **resp)
{
    const char *text = NULL;

    return mi_upsert_run(db, p, res, caller, recs, 0, NULL, &text)
               == APR_SUCCESS
           && mi_json_parse(p, text, strlen(text), resp) == MI_JSON_OK;
}

static void test_listcache(apr_pool_t *p)
{
    mi_listcache_t *c;
    apr_size_t len = 0;
    char big[200];
    const char *v;
    int i, kept = 0;

    ok(mi_listcache_create(&c, p, 0) == APR_SUCCESS && c == NULL,
       "a budget of 0 is no cache");
    ok(mi_listcache_get(NULL, p, "k", 1, &len) == NULL, "no cache, no hit");
    mi_listcache_create(&c, p, 1600);
    mi_listcache_put(c, "k", 7, "{\"a\":1}", 7);
    v = mi_listcache_get(c, p, "k", 7, &len);
    ok(v && len == 7 && !memcmp(v, "{\"a\":1}", 7), "kept at its version");
    ok(mi_listcache_get(c, p, "k", 8, &len) == NULL, "not at another version");
    ok(mi_listcache_get(c, p, "kk", 7, &len) == NULL, "not for another key");
    mi_listcache_put(c, "k", 8, "[]", 2);
    ok(mi_listcache_get(c, p, "k", 7, &len) == NULL
       && mi_listcache_get(c, p, "k", 8, &len) != NULL,
       "a newer version replaces the older");
    memset(big, 'x', sizeof(big));
    mi_listcache_put(c, "big", 1, big, sizeof(big));
    ok(mi_listcache_get(c, p, "big", 1, &len) == NULL,
       "a body over an eighth of the budget is not kept");
    for (i = 0; i < 50; i++) {
        mi_listcache_put(c, apr_itoa(p, i), 1, big, 150);
    }
    for (i = 0; i < 50; i++) {
        kept += mi_listcache_get(c, p, apr_itoa(p, i), 1, &len) != NULL;
    }
    ok(kept >= 1 && kept <= 10, "the budget bounds what is kept");
}

/* Chunked writes: every row once, in order, across chunk boundaries. */
static void test_write_rows(apr_pool_t *p)
{
    static const mi_stmt_t create = { "test_chunk_create", {
        "CREATE TABLE chunked (k INTEGER PRIMARY KEY, v TEXT, tag TEXT)",
        NULL } };
    static const mi_stmt_t insert = { "test_chunk_insert", {
        "WITH r(k, v) AS (VALUES {rows}) INSERT INTO chunked (k, v, tag) "
        "SELECT k, v, %s FROM r WHERE k IS NOT NULL RETURNING k",
        NULL }, 2 };
    static const mi_stmt_t count = { "test_chunk_count", {
        "SELECT COUNT(*), COUNT(v), MIN(k), MAX(k), MIN(tag) FROM chunked",
        NULL } };
    static const int sizes[] = { 0, 1, MI_DB_CHUNK, MI_DB_CHUNK + 1, 250 };
    mi_db_t *db = NULL;
    const char *err = NULL, *tag = "t";
    int s, i, base = 0;

    if (mi_db_open(p, "sqlite3", ":memory:", &db, &err) != APR_SUCCESS
        || mi_db_exec(db, p, &create, NULL, 0, NULL) != APR_SUCCESS) {
        ok(0, "chunked writes: a table");
        return;
    }
    for (s = 0; s < (int)(sizeof(sizes) / sizeof(sizes[0])); s++) {
        int n = sizes[s], in_order = 1;
        const char ***rows = apr_palloc(p, (n + 1) * sizeof(*rows));
        mi_rows_t out, c;

        for (i = 0; i < n; i++) {
            const char **row = apr_palloc(p, 2 * sizeof(*row));

            row[0] = apr_itoa(p, base + i + 1);
            row[1] = i % 3 ? "x" : NULL;
            rows[i] = row;
        }
        ok(mi_db_write_rows(db, p, &insert, n,
                            (const char *const *const *)rows, 1, &tag, &out)
               == APR_SUCCESS && out.nrows == n,
           apr_psprintf(p, "%d rows written and returned", n));
        for (i = 0; i < out.nrows; i++) {
            in_order &= atoi(out.rows[i][0]) == base + i + 1;
        }
        ok(in_order, apr_psprintf(p, "%d rows returned in order", n));
        base += n;
        ok(mi_db_select(db, p, &count, &c, 0, NULL) == APR_SUCCESS
           && atoi(c.rows[0][0]) == base
           && (base == 0 || (atoi(c.rows[0][2]) == 1
                             && atoi(c.rows[0][3]) == base
                             && !strcmp(c.rows[0][4], "t"))),
           apr_psprintf(p, "after %d: no padding row stored, tail bound", n));
    }
    mi_db_close(db);
}

static void test_engines(apr_pool_t *p)
{
    mi_db_t *db = NULL;
    const char *err = NULL, *org, *other;
    const mi_resource_t *res = mi_resource_find("suppliers");
    mi_caller_t caller = { NULL, "int_test", "tok_test" };
    json_t *recs = NULL, *resp = NULL, *entity = NULL;
    mi_page_t page = { 1, 50, -1, NULL };
    int applied = 0;
    const char *body;

    if (mi_db_open(p, "sqlite3", ":memory:", &db, &err) != APR_SUCCESS) {
        ok(0, "open in-memory SQLite");
        printf("# %s\n", err ? err : "");
        return;
    }
    ok(1, "open in-memory SQLite");
    ok(mi_migrate_apply(db, p, &applied) == APR_SUCCESS && applied >= 1,
       "migrations apply");
    ok(mi_migrate_apply(db, p, &applied) == APR_SUCCESS && applied == 0,
       "migrate is idempotent");
    if (db->error) {
        printf("# %s\n", db->error);
    }
    mi_org_create(db, p, "Org", &org);
    mi_org_create(db, p, "Other", &other);
    caller.organization_id = org;
    body = "[{\"externalId\":\"V1\",\"name\":\"One\",\"city\":\"Rio\"},"
           "{\"externalId\":\"V2\"},{\"externalId\":\"V1\",\"name\":\"x\"}]";
    mi_json_parse(p, body, strlen(body), &recs);
    ok(upsert(db, p, res, &caller, recs, &resp),
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
    body = "[{\"externalId\":\"V1\",\"name\":\"Uno\",\"city\":null}]";
    mi_json_parse(p, body, strlen(body), &recs);
    ok(upsert(db, p, res, &caller, recs, &resp),
       "update runs");
    if (db->error) {
        printf("# %s\n", db->error);
    }
    ok(json_integer_value(json_object_get(resp, "updated")) == 1,
       "second write updates");
    ok(get_record(db, p, res, org, "V1", &entity) == MI_OK,
       "record read back");
    is_str(json_string_value(json_object_get(entity, "name")), "Uno",
           "name updated");
    ok(json_is_null(json_object_get(entity, "city")), "null clears");
    ok(listing(db, p, res, org, &page, NULL, &resp)
       && json_integer_value(json_object_get(resp, "total")) == 1,
       "listing counts");
    {
        mi_listcache_t *cache;
        json_t *first = NULL, *again = NULL;

        mi_listcache_create(&cache, p, 1 << 20);
        ok(listing(db, p, res, org, &page, cache, &first)
           && listing(db, p, res, org, &page, cache, &again)
           && json_equal(first, again), "a kept listing is the same");
        body = "[{\"externalId\":\"V1\",\"name\":\"Eins\"}]";
        mi_json_parse(p, body, strlen(body), &recs);
        ok(upsert(db, p, res, &caller, recs, &resp)
           && listing(db, p, res, org, &page, cache, &again)
           && !strcmp(json_string_value(json_object_get(json_array_get(
                  json_object_get(again, "entities"), 0), "name")), "Eins"),
           "an update is listed at once, though the total is the same");
        ok(listing(db, p, res, other, &page, cache, &again)
           && json_integer_value(json_object_get(again, "total")) == 0,
           "another tenant's listing is its own");
        ok(mi_records_delete(db, p, res, &caller, "V1") == MI_OK
           && get_record(db, p, res, org, "V1", &entity) == MI_ERR_NOT_FOUND,
           "delete");
        ok(listing(db, p, res, org, &page, cache, &again)
           && json_integer_value(json_object_get(again, "total")) == 0,
           "a delete is listed at once");
    }
    ok(get_record(db, p, res, other, "V1", &entity) == MI_ERR_NOT_FOUND,
       "another tenant sees nothing");
    {
        const mi_resource_t *products = mi_resource_find("products");
        mi_listcache_t *cache;
        json_t *listed = NULL;

        mi_listcache_create(&cache, p, 1 << 20);
        body = "[{\"externalId\":\"S9\",\"name\":\"Nine\"}]";
        mi_json_parse(p, body, strlen(body), &recs);
        upsert(db, p, res, &caller, recs, &resp);
        body = "[{\"externalId\":\"P9\",\"name\":\"Nine\","
               "\"supplierExternalId\":\"S9\"}]";
        mi_json_parse(p, body, strlen(body), &recs);
        ok(upsert(db, p, products, &caller, recs, &resp)
           && listing(db, p, products, org, &page, cache, &listed)
           && !strcmp(json_string_value(json_object_get(json_array_get(
                  json_object_get(listed, "entities"), 0),
                  "supplierExternalId")), "S9"),
           "a product lists its supplier");
        ok(mi_records_delete(db, p, res, &caller, "S9") == MI_OK
           && listing(db, p, products, org, &page, cache, &listed)
           && json_is_null(json_object_get(json_array_get(
                  json_object_get(listed, "entities"), 0),
                  "supplierExternalId")),
           "a deleted supplier leaves no kept product listing naming it");
    }
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;

    setvbuf(stdout, NULL, _IOLBF, 0);
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    mi_resources_init(p);
    test_time(p);
    test_text(p);
    test_utf8(p);
    test_tokens(p);
    test_json(p);
    test_validation(p);
    test_listcache(p);
    test_write_rows(p);
    test_engines(p);
    /* What the pool owns (Jansson values, cache entries) is freed by its
     * cleanups: the sanitizer pass's leak check sees only real leaks. */
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
