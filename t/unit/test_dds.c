/* test_dds.c: unit tests of mi_dds against an in-memory SQLite database
 * with the schema: DDS numbers (DDS-<year>-<5 digits>, a sequence per
 * organization and year, without gaps, only for batches created with
 * autoCreateDDS), status changes and the webhook events they queue, and
 * the body of GET /dds/{batchExternalId} (API.md sections 4, 6, 9). */
#include "unit.h"
#include "mi_dds.h"
#include "mi_tenant.h"
#include "mi_time.h"

#define NORGS 4

typedef struct {
    mi_db_t *db;
    apr_pool_t *p;
    const char *year;               /* this year, "2026" */
    const char *org[NORGS];
    mi_caller_t caller[NORGS];
} fixture_t;

/* POST /batches of org, with autoCreateDDS when auto; the 200 body. */
static json_t *post_batches(fixture_t *f, int org, const char *records,
                            int auto_dds)
{
    const mi_jv_t *recs = NULL;
    json_t *resp = NULL;
    const char *text = NULL;

    if (mi_jsonr_parse(f->p, records, strlen(records), &recs) != MI_JSON_OK
        || mi_upsert_run(f->db, f->p, mi_resource_find("batches"),
                         &f->caller[org], recs, auto_dds, NULL, &text, NULL)
               != MI_OK
        || mi_json_parse(f->p, text, strlen(text), &resp) != MI_JSON_OK) {
        printf("# POST /batches failed: %s\n",
               f->db->error ? f->db->error : "");
        return NULL;
    }
    return resp;
}

/* ddsCreated as "B1=00001,B2=00002" (the numbers' sequence part), after
 * checking that each is DDS-<year>-, DRAFT and has an id. */
static const char *created_text(fixture_t *f, const json_t *resp)
{
    const json_t *made = json_object_get(resp, "ddsCreated");
    const char *out = "";
    size_t i;

    if (!json_is_array(made)) {
        return "(no ddsCreated)";
    }
    for (i = 0; i < json_array_size(made); i++) {
        const json_t *d = json_array_get(made, i);
        const char *num = json_string_value(json_object_get(d, "ddsNumber"));
        const char *id = json_string_value(json_object_get(d, "ddsId"));
        const char *st = json_string_value(json_object_get(d, "status"));
        const char *b = json_string_value(json_object_get(d,
                                                          "batchExternalId"));
        const char *prefix = apr_psprintf(f->p, "DDS-%s-", f->year);

        if (!num || !id || !*id || !st || strcmp(st, "DRAFT") || !b
            || strncmp(num, prefix, strlen(prefix))
            || strlen(num) != strlen(prefix) + 5 || json_object_size(d) != 4) {
            return apr_psprintf(f->p, "(malformed: %s)",
                                mi_json_dump(f->p, d));
        }
        out = apr_psprintf(f->p, "%s%s%s=%s", out, i ? "," : "", b,
                           num + strlen(prefix));
    }
    return out;
}

static const mi_stmt_t seed_stmt = { "test_dds_seed", {
    "INSERT INTO dds_sequences (organization_id, year, last_value) "
    "VALUES (%s, {bigint:%s}, {bigint:%s})", NULL } };

/* Numbering: each step a POST /batches and the numbers it got. */
static void test_numbering(fixture_t *f)
{
    static const struct {
        int org;
        const char *records;
        int auto_dds;
        const char *want;           /* ddsCreated, see created_text */
        const char *name;
    } steps[] = {
        { 0, "[{\"externalId\":\"B1\",\"batchNumber\":\"N1\","
             "\"productExternalId\":\"P1\"},"
             "{\"externalId\":\"B2\",\"batchNumber\":\"N2\","
             "\"productExternalId\":\"P1\"}]", 1,
          "B1=00001,B2=00002", "the first numbers, in input order" },
        { 1, "[{\"externalId\":\"B1\",\"batchNumber\":\"N1\","
             "\"productExternalId\":\"P1\"}]", 1,
          "B1=00001", "another organization starts at 00001" },
        { 0, "[{\"externalId\":\"B3\",\"batchNumber\":\"N3\","
             "\"productExternalId\":\"P1\"}]", 1,
          "B3=00003", "the organization's sequence goes on" },
        { 0, "[{\"externalId\":\"B1\",\"batchNumber\":\"N1b\","
             "\"productExternalId\":\"P1\"},"
             "{\"externalId\":\"B4\",\"batchNumber\":\"N4\","
             "\"productExternalId\":\"P1\"}]", 1,
          "B4=00004", "an updated batch gets no DDS, a created one does" },
        { 0, "[{\"externalId\":\"B5\",\"batchNumber\":\"N5\","
             "\"productExternalId\":\"P1\"}]", 0,
          "", "without autoCreateDDS: none (ddsCreated is there, empty)" },
        { 0, "[{\"externalId\":\"B6\",\"batchNumber\":\"N6\","
             "\"productExternalId\":\"P1\"}]", 1,
          "B6=00005", "and no number was used up" },
        { 0, "[{\"externalId\":\"B7\",\"productExternalId\":\"P1\"},"
             "{\"externalId\":\"B8\",\"batchNumber\":\"N8\","
             "\"productExternalId\":\"P1\"},"
             "{\"externalId\":\"B9\",\"batchNumber\":\"N9\","
             "\"productExternalId\":\"NO-SUCH-PRODUCT\"}]", 1,
          "B8=00006", "a failed record gets no DDS and uses no number" },
        { 1, "[{\"externalId\":\"B2\",\"batchNumber\":\"N2\","
             "\"productExternalId\":\"P1\"},"
             "{\"externalId\":\"B3\",\"batchNumber\":\"N3\","
             "\"productExternalId\":\"P1\"},"
             "{\"externalId\":\"B4\",\"batchNumber\":\"N4\","
             "\"productExternalId\":\"P1\"}]", 1,
          "B2=00002,B3=00003,B4=00004",
          "the other organization's sequence is untouched by the first's" },
        { 2, "[{\"externalId\":\"X1\",\"batchNumber\":\"N1\","
             "\"productExternalId\":\"P1\"}]", 1,
          "X1=00042", "a sequence at 41 gives DDS-<year>-00042" },
        { 3, "[{\"externalId\":\"X1\",\"batchNumber\":\"N1\","
             "\"productExternalId\":\"P1\"}]", 1,
          "X1=00001", "last year's sequence is not this year's" },
    };
    const char *args[3];
    size_t i;

    /* Organization 2 is at 41 this year; 3 only last year. */
    args[0] = f->org[2];
    args[1] = f->year;
    args[2] = "41";
    mi_db_exec(f->db, f->p, &seed_stmt, NULL, 3, args);
    args[1] = apr_itoa(f->p, atoi(f->year) - 1);
    args[2] = "99";
    mi_db_exec(f->db, f->p, &seed_stmt, NULL, 3, args);
    args[0] = f->org[3];
    mi_db_exec(f->db, f->p, &seed_stmt, NULL, 3, args);

    for (i = 0; i < MI_ARRAY_SIZE(steps); i++) {
        json_t *resp = post_batches(f, steps[i].org, steps[i].records,
                                    steps[i].auto_dds);

        is_str(resp ? created_text(f, resp) : "(failed)", steps[i].want,
               steps[i].name);
    }
    {
        static const mi_stmt_t distinct = { "test_dds_distinct", {
            "SELECT organization_id, COUNT(*), COUNT(DISTINCT dds_number) "
            "FROM dds GROUP BY organization_id", NULL } };
        mi_rows_t rows;
        int j, dup = 0;

        ok(mi_db_select(f->db, f->p, &distinct, &rows, 0, NULL)
               == APR_SUCCESS && rows.nrows == NORGS,
           "every organization has its DDS rows");
        for (j = 0; j < rows.nrows; j++) {
            dup |= strcmp(rows.rows[j][1], rows.rows[j][2]) != 0;
        }
        ok(!dup, "no number twice within an organization");
    }
    {
        apr_array_header_t *none = apr_array_make(f->p, 1,
                                                  sizeof(mi_record_id_t));
        json_t *made = mi_json_own(f->p, json_array());
        json_t *resp;

        ok(mi_dds_create_drafts(f->db, f->p, f->org[0], none, made) == MI_OK
           && json_array_size(made) == 0, "no batches, no DDS");
        resp = post_batches(f, 0, "[{\"externalId\":\"B10\","
                            "\"batchNumber\":\"N10\","
                            "\"productExternalId\":\"P1\"}]", 1);
        is_str(resp ? created_text(f, resp) : "(failed)", "B10=00007",
               "and no number used up");
    }
}

static const mi_stmt_t events_stmt = { "test_dds_events", {
    "SELECT x.value ->> 'event', json(x.value -> 'data') "
    "FROM webhook_outbox o, json_each(o.events) x "
    "WHERE o.organization_id = %s ORDER BY o.rowid, x.key", NULL } };
static const mi_stmt_t clear_events = { "test_dds_clear", {
    "DELETE FROM webhook_outbox", NULL } };

/* Status changes, each with the events it queues. */
static void test_status(fixture_t *f)
{
    static const struct {
        int org;
        const char *batch, *status;
        mi_result_e rc;
        const char *previous;       /* NULL: none */
        const char *number;         /* its sequence part */
        const char *events;         /* queued, in order */
        const char *name;
    } steps[] = {
        { 0, "B1", "SUBMITTED", MI_OK, "DRAFT", "00001",
          "dds.status_changed,dds.submitted", "DRAFT to SUBMITTED" },
        { 0, "B1", "SUBMITTED", MI_OK, "SUBMITTED", "00001", "",
          "the same status again: no event" },
        { 0, "B1", "APPROVED", MI_OK, "SUBMITTED", "00001",
          "dds.status_changed,dds.approved", "SUBMITTED to APPROVED" },
        { 0, "B1", "REJECTED", MI_OK, "APPROVED", "00001",
          "dds.status_changed", "APPROVED to REJECTED" },
        { 0, "B1", "DRAFT", MI_OK, "REJECTED", "00001",
          "dds.status_changed", "REJECTED to DRAFT" },
        { 0, "B5", "SUBMITTED", MI_OK, NULL, "00008",
          "dds.status_changed,dds.submitted",
          "a batch without a DDS gets its first, numbered next" },
        { 1, "B1", "APPROVED", MI_OK, "DRAFT", "00001",
          "dds.status_changed,dds.approved",
          "the other organization's B1 is its own" },
        { 0, "NO-SUCH-BATCH", "SUBMITTED", MI_ERR_NOT_FOUND, NULL, NULL, "",
          "an unknown batch" },
        { 2, "B1", "SUBMITTED", MI_ERR_NOT_FOUND, NULL, NULL, "",
          "another organization's batch is unknown" },
    };
    size_t i;

    mi_db_exec(f->db, f->p, &clear_events, NULL, 0, NULL);
    for (i = 0; i < MI_ARRAY_SIZE(steps); i++) {
        const char *previous = "(unset)", *number = NULL, *events = "";
        const char *want_number = steps[i].number
            ? apr_psprintf(f->p, "DDS-%s-%s", f->year, steps[i].number)
            : NULL;
        mi_result_e rc = mi_dds_set_status(f->db, f->p, f->org[steps[i].org],
                                           steps[i].batch, steps[i].status,
                                           &previous, &number);
        mi_rows_t rows;
        int j, data_ok = 1;

        ok(rc == steps[i].rc, apr_psprintf(f->p, "%s: result %d",
                                           steps[i].name, steps[i].rc));
        if (rc == MI_OK) {
            is_str(previous, steps[i].previous,
                   apr_psprintf(f->p, "%s: previous status", steps[i].name));
            is_str(number, want_number,
                   apr_psprintf(f->p, "%s: number", steps[i].name));
        }
        mi_db_select(f->db, f->p, &events_stmt, &rows, 1,
                     &f->org[steps[i].org]);
        for (j = 0; j < rows.nrows; j++) {
            json_t *data = NULL, *want;

            events = apr_psprintf(f->p, "%s%s%s", events, j ? "," : "",
                                  rows.rows[j][0]);
            mi_json_parse(f->p, rows.rows[j][1], strlen(rows.rows[j][1]),
                          &data);
            want = json_pack("{s:s, s:s, s:o, s:s}", "batchExternalId",
                             steps[i].batch, "ddsNumber",
                             want_number ? want_number : "",
                             "previousStatus",
                             mi_json_string_or_null(steps[i].previous),
                             "newStatus", steps[i].status);
            data_ok &= data && json_equal(data, want);
            json_decref(want);
        }
        is_str(events, steps[i].events,
               apr_psprintf(f->p, "%s: events", steps[i].name));
        if (rows.nrows) {
            ok(data_ok, apr_psprintf(f->p, "%s: the events' data",
                                     steps[i].name));
        }
        mi_db_exec(f->db, f->p, &clear_events, NULL, 0, NULL);
    }
    {
        const char *previous, *number;

        ok(mi_dds_set_status(f->db, f->p, f->org[0], "B1", "DRAFT",
                             &previous, &number) == MI_OK
           && previous && !strcmp(previous, "DRAFT"),
           "the other organization's change left this one's B1 alone");
    }
}

/* GET /dds/{batchExternalId}. */
static void test_body(fixture_t *f)
{
    const char *year = f->year;
    json_t *body = NULL, *sub, *resp;

    resp = post_batches(f, 0, "[{\"externalId\":\"B20\","
                        "\"productExternalId\":\"P2\","
                        "\"batchNumber\":\"N20\"}]", 0);
    ok(resp != NULL, "a batch of a product with a supplier");
    ok(mi_dds_status(f->db, f->p, f->org[0], "B20", &body) == MI_OK,
       "a batch without a DDS");
    ok(body && json_is_null(json_object_get(body, "ddsNumber"))
       && json_is_null(json_object_get(body, "ddsStatus"))
       && json_array_size(json_object_get(body, "ddsSubmissions")) == 0
       && json_is_array(json_object_get(body, "ddsSubmissions")),
       "ddsNumber and ddsStatus null, ddsSubmissions []");
    is_str(json_string_value(json_object_get(json_object_get(body,
               "supplier"), "name")), "Timber Co.", "its supplier's name");
    is_str(json_string_value(json_object_get(json_object_get(body,
               "supplier"), "country")), "BR", "its supplier's country");
    is_str(json_string_value(json_object_get(json_object_get(body,
               "product"), "hsCode")), "4407.29", "the product's hsCode");
    is_str(json_string_value(json_object_get(body, "batchNumber")), "N20",
           "batchNumber");

    ok(mi_dds_status(f->db, f->p, f->org[0], "B2", &body) == MI_OK, "B2");
    sub = json_array_get(json_object_get(body, "ddsSubmissions"), 0);
    is_str(json_string_value(json_object_get(body, "ddsNumber")),
           apr_psprintf(f->p, "DDS-%s-00002", year), "B2's number");
    is_str(json_string_value(json_object_get(body, "ddsStatus")), "DRAFT",
           "B2 is a DRAFT");
    ok(json_array_size(json_object_get(body, "ddsSubmissions")) == 1
       && json_is_null(json_object_get(sub, "submittedAt"))
       && json_is_string(json_object_get(sub, "createdAt"))
       && json_is_string(json_object_get(sub, "id")),
       "one submission, never submitted: submittedAt null");
    ok(json_is_null(json_object_get(body, "supplier")),
       "supplier null for a product without one");
    is_str(json_string_value(json_object_get(body, "batchExternalId")), "B2",
           "batchExternalId");

    ok(mi_dds_status(f->db, f->p, f->org[0], "B5", &body) == MI_OK, "B5");
    sub = json_array_get(json_object_get(body, "ddsSubmissions"), 0);
    is_str(json_string_value(json_object_get(body, "ddsStatus")),
           "SUBMITTED", "B5 was submitted");
    ok(json_is_string(json_object_get(sub, "submittedAt")),
       "submittedAt set on submission");
    is_str(json_string_value(json_object_get(sub, "ddsNumber")),
           json_string_value(json_object_get(body, "ddsNumber")),
           "the submission's number is the batch's");

    ok(mi_dds_status(f->db, f->p, f->org[0], "NO-SUCH-BATCH", &body)
           == MI_ERR_NOT_FOUND, "an unknown batch: not found");
    ok(mi_dds_status(f->db, f->p, f->org[3], "B2", &body)
           == MI_ERR_NOT_FOUND, "another organization's batch: not found");
}

static void test_status_valid(apr_pool_t *p)
{
    static const struct {
        const char *status;
        int want;
    } cases[] = {
        { "DRAFT", 1 }, { "SUBMITTED", 1 }, { "APPROVED", 1 },
        { "REJECTED", 1 }, { "draft", 0 }, { "", 0 }, { "PENDING", 0 },
        { "SUBMITTED ", 0 }, { "DRAFTS", 0 },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        ok(mi_dds_status_valid(cases[i].status) == cases[i].want,
           apr_psprintf(p, "status \"%s\" %s", cases[i].status,
                        cases[i].want ? "valid" : "invalid"));
    }
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);
    fixture_t f = { unit_db(p), p, NULL };
    json_t *resp = NULL;
    int i;

    test_status_valid(p);
    if (!f.db) {
        ok(0, "a migrated in-memory SQLite");
        return unit_done(p);
    }
    f.year = apr_pstrndup(p, mi_time_iso(p, mi_now_ms()), 4);
    for (i = 0; i < NORGS; i++) {
        mi_org_create(f.db, p, apr_psprintf(p, "Org %d", i), &f.org[i]);
        f.caller[i].organization_id = f.org[i];
        f.caller[i].integration_id = "int_test";
        f.caller[i].token_id = "tok_test";
        unit_upsert(f.db, p, mi_resource_find("products"), &f.caller[i],
                    "[{\"externalId\":\"P1\",\"name\":\"Planks\"}]", &resp);
    }
    unit_upsert(f.db, p, mi_resource_find("suppliers"), &f.caller[0],
                "[{\"externalId\":\"S1\",\"name\":\"Timber Co.\","
                "\"country\":\"BR\"}]", &resp);
    unit_upsert(f.db, p, mi_resource_find("products"), &f.caller[0],
                "[{\"externalId\":\"P2\",\"name\":\"Beams\","
                "\"hsCode\":\"4407.29\",\"supplierExternalId\":\"S1\"}]",
                &resp);
    test_numbering(&f);
    test_status(&f);
    test_body(&f);
    mi_db_close(f.db);
    return unit_done(p);
}
