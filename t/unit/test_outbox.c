/* test_outbox.c: unit tests of mi_outbox against an in-memory SQLite
 * database with the schema: events are queued in the write's transaction
 * (a rolled-back write queues nothing) and fanned out, once, into one
 * delivery row per active webhook of the event's organization subscribed
 * to it, with the body that is signed and sent (API.md section 9). */
#include "unit.h"
#include "mi_outbox.h"
#include "mi_tenant.h"
#include "mi_time.h"
#include "mi_webhook.h"

/* The webhooks, by the name the tables below use. */
static const struct {
    const char *name;
    int org, integration;
    const char *events;
    int active;
} hooks[] = {
    { "W1", 0, 0, "[\"supplier.created\"]", 1 },
    { "W2", 0, 1, "[\"supplier.created\",\"supplier.deleted\"]", 1 },
    { "W3", 0, 0, "[\"supplier.created\",\"supplier.deleted\"]", 0 },
    { "W4", 1, 2, "[\"supplier.created\",\"batch.created\"]", 1 },
    { "W5", 0, 0, "[\"sync.completed\",\"product.created\"]", 1 },
    { "W6", 3, 3, "[\"supplier.created\"]", 0 },
};
#define NHOOKS MI_ARRAY_SIZE(hooks)

typedef struct {
    mi_db_t *db;
    apr_pool_t *p;
    const char *org[4];             /* A, B, C (no webhook), D (inactive) */
    const char *integration[4];     /* A's two, B's, D's */
    const char *hook_id[NHOOKS];
} fixture_t;

static const mi_stmt_t count_events = { "test_outbox_events", {
    "SELECT COALESCE(SUM(event_count - fanned_out), 0) FROM webhook_outbox",
    NULL } };

static int queued(fixture_t *f)
{
    mi_rows_t rows;

    return mi_db_select(f->db, f->p, &count_events, &rows, 0, NULL)
               == APR_SUCCESS ? atoi(rows.rows[0][0]) : -1;
}

static const char *hook_name(fixture_t *f, const char *id)
{
    size_t i;

    for (i = 0; i < NHOOKS; i++) {
        if (f->hook_id[i] && !strcmp(f->hook_id[i], id)) {
            return hooks[i].name;
        }
    }
    return "?";
}

static const mi_stmt_t deliveries_stmt = { "test_outbox_deliveries", {
    "SELECT webhook_id, event, payload, event_time, state, attempts, "
    "next_attempt_at, lease_until FROM webhook_deliveries "
    "ORDER BY webhook_id, event", NULL } };
static const mi_stmt_t clear_deliveries = { "test_outbox_clear", {
    "DELETE FROM webhook_deliveries", NULL } };

/* The delivery rows as "W1:supplier.created,W2:..." (sorted by the
 * webhooks' names), checking each row's state and body. */
static const char *fanned_out(fixture_t *f, apr_int64_t before,
                              json_t *sent_data, int *rows_ok)
{
    apr_array_header_t *names = apr_array_make(f->p, 8, sizeof(char *));
    mi_rows_t rows;
    int i, j;

    *rows_ok = 1;
    if (mi_db_select(f->db, f->p, &deliveries_stmt, &rows, 0, NULL)
            != APR_SUCCESS) {
        *rows_ok = 0;
        return "(select failed)";
    }
    for (i = 0; i < rows.nrows; i++) {
        const char **r = rows.rows[i];
        const char *name = hook_name(f, r[0]);
        json_t *body = NULL;
        size_t h;
        int good;

        for (h = 0; h < NHOOKS && strcmp(hooks[h].name, name); h++) {
        }
        good = h < NHOOKS
            && mi_json_parse(f->p, r[2], strlen(r[2]), &body) == MI_JSON_OK
            && json_object_size(body) == 4
            && !strcmp(json_string_value(json_object_get(body, "event"))
                           ? json_string_value(json_object_get(body, "event"))
                           : "", r[1])
            && json_string_value(json_object_get(body, "timestamp"))
            && !strcmp(json_string_value(json_object_get(body, "timestamp")),
                       mi_time_iso(f->p, apr_atoi64(r[3])))
            && json_string_value(json_object_get(body, "integrationId"))
            && !strcmp(json_string_value(json_object_get(body,
                                                         "integrationId")),
                       f->integration[hooks[h].integration])
            && json_equal(json_object_get(body, "data"),
                          json_object_get(sent_data, apr_psprintf(f->p,
                              "%d:%s", hooks[h].org, r[1])))
            && !strcmp(r[4], "PENDING") && !strcmp(r[5], "0")
            && apr_atoi64(r[6]) >= before && apr_atoi64(r[6]) <= mi_now_ms()
            && r[7] == NULL;
        if (!good) {
            printf("# delivery row: %s %s %s %s %s %s\n", name, r[1], r[2],
                   r[3], r[4], r[5]);
        }
        *rows_ok &= good;
        APR_ARRAY_PUSH(names, char *) = apr_pstrcat(f->p, name, ":", r[1],
                                                     NULL);
    }
    /* A few rows: a plain insertion sort. */
    for (i = 1; i < names->nelts; i++) {
        for (j = i; j > 0 && strcmp(APR_ARRAY_IDX(names, j - 1, char *),
                                    APR_ARRAY_IDX(names, j, char *)) > 0;
             j--) {
            char *t = APR_ARRAY_IDX(names, j, char *);

            APR_ARRAY_IDX(names, j, char *) = APR_ARRAY_IDX(names, j - 1,
                                                            char *);
            APR_ARRAY_IDX(names, j - 1, char *) = t;
        }
    }
    return apr_array_pstrcat(f->p, names, ',');
}

/* Queues events of one organization, each with its own data (kept in
 * data_by_event as "ORG:EVENT"): every other one as a record's event, the
 * others with their data as JSON, each external id with characters that
 * JSON escapes. */
static mi_result_e queue(fixture_t *f, int org, const char *const *events,
                         json_t *data_by_event)
{
    mi_outbox_t q;
    size_t i;

    mi_outbox_init(&q, f->p);
    for (i = 0; events[i]; i++) {
        const char *external = apr_psprintf(f->p, "X-%d-%d \"\\/\xc3\xa9",
                                            org, (int)i);
        const char *internal = apr_psprintf(f->p, "c%d%d", org, (int)i);
        const char *dot = strchr(events[i], '.');
        json_t *data = json_pack("{s:s, s:s}", "externalId", external,
                                 "internalId", internal);

        if (data_by_event) {
            json_object_set(data_by_event,
                            apr_psprintf(f->p, "%d:%s", org, events[i]),
                            data);
        }
        if (i % 2 == 0 && dot) {
            mi_outbox_add_record(&q, apr_pstrndup(f->p, events[i],
                                                  (apr_size_t)(dot
                                                               - events[i])),
                                 dot + 1, external, internal);
        }
        else {
            mi_outbox_add(&q, events[i], data);
        }
        json_decref(data);
    }
    return mi_outbox_queue(f->db, f->p, f->org[org], &q);
}

static void test_fan_out(fixture_t *f)
{
    /* Each case: the events queued per organization, and the deliveries
     * they make. */
    static const struct {
        const char *const a[4], *const b[4];
        const char *want;
        const char *name;
    } cases[] = {
        { { "supplier.created", NULL }, { NULL },
          "W1:supplier.created,W2:supplier.created",
          "to every active webhook subscribed, of both integrations" },
        { { "supplier.deleted", NULL }, { NULL },
          "W2:supplier.deleted", "only to those subscribed" },
        { { "batch.created", NULL }, { NULL }, "",
          "an event nobody of the organization wants: no delivery "
          "(another organization's webhook wants it)" },
        { { NULL }, { "supplier.created", NULL }, "W4:supplier.created",
          "the other organization's event to its own webhook only" },
        { { "supplier.created", "supplier.deleted", "product.created", NULL },
          { "batch.created", "supplier.deleted", NULL },
          "W1:supplier.created,W2:supplier.created,W2:supplier.deleted,"
          "W4:batch.created,W5:product.created",
          "several events of both at once" },
        { { "sync.failed", "dds.approved", NULL }, { NULL }, "",
          "events no webhook is subscribed to" },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        json_t *data = json_object();
        apr_int64_t before = mi_now_ms();
        int n = 0, taken = -1, rows_ok, queued_a = 0, queued_b = 0;

        while (cases[i].a[queued_a]) {
            queued_a++;
        }
        while (cases[i].b[queued_b]) {
            queued_b++;
        }
        if (queued_a) {
            n += queue(f, 0, cases[i].a, data) == MI_OK ? queued_a : 0;
        }
        if (queued_b) {
            n += queue(f, 1, cases[i].b, data) == MI_OK ? queued_b : 0;
        }
        ok(n == queued_a + queued_b && queued(f) == n,
           apr_psprintf(f->p, "%s: %d events queued", cases[i].name, n));
        ok(mi_outbox_fan_out(f->db, f->p, 100, &taken) == APR_SUCCESS
           && taken == n,
           apr_psprintf(f->p, "%s: all taken", cases[i].name));
        is_str(fanned_out(f, before, data, &rows_ok), cases[i].want,
               cases[i].name);
        ok(rows_ok, apr_psprintf(f->p, "%s: each row PENDING, due now, "
                                 "with its body", cases[i].name));
        ok(queued(f) == 0
           && mi_outbox_fan_out(f->db, f->p, 100, &taken) == APR_SUCCESS
           && taken == 0
           && !strcmp(fanned_out(f, before, data, &rows_ok),
                      cases[i].want),
           apr_psprintf(f->p, "%s: fanned out once", cases[i].name));
        json_decref(data);
        mi_db_exec(f->db, f->p, &clear_deliveries, NULL, 0, NULL);
    }
}

static void test_queue(fixture_t *f)
{
    static const char *const five[] = { "supplier.created",
        "supplier.created", "supplier.created", "supplier.created",
        "supplier.created", NULL };
    static const char *const one[] = { "supplier.deleted", NULL };
    int taken = -1;

    ok(mi_db_begin(f->db, f->p) == APR_SUCCESS
       && queue(f, 0, one, NULL) == MI_OK && queued(f) == 1,
       "queued inside a transaction");
    mi_db_rollback(f->db);
    ok(queued(f) == 0, "a rolled-back write queues nothing");
    {
        mi_outbox_t none;

        mi_outbox_init(&none, f->p);
        ok(mi_outbox_queue(f->db, f->p, f->org[0], &none) == MI_OK
           && queued(f) == 0, "no events: nothing queued");
    }
    {
        static const mi_stmt_t row = { "test_outbox_row", {
            "SELECT events FROM webhook_outbox", NULL } };
        mi_outbox_t nulls;
        mi_rows_t rows;

        mi_outbox_init(&nulls, f->p);
        mi_outbox_add(&nulls, "dds.status_changed", NULL);
        ok(mi_outbox_queue(f->db, f->p, f->org[0], &nulls) == MI_OK
           && mi_db_select(f->db, f->p, &row, &rows, 0, NULL) == APR_SUCCESS
           && rows.nrows == 1
           && !strcmp(rows.rows[0][0],
                      "[{\"event\":\"dds.status_changed\",\"data\":null}]"),
           "data that could not be built: queued as null");
        mi_outbox_fan_out(f->db, f->p, 10, &taken);
        mi_db_exec(f->db, f->p, &clear_deliveries, NULL, 0, NULL);
    }

    ok(queue(f, 0, five, NULL) == MI_OK && queued(f) == 5,
       "five events queued");
    ok(mi_outbox_fan_out(f->db, f->p, 2, &taken) == APR_SUCCESS
       && taken == 2 && queued(f) == 3, "at most max are taken");
    ok(mi_outbox_fan_out(f->db, f->p, 10, &taken) == APR_SUCCESS
       && taken == 3 && queued(f) == 0, "then the rest");
    {
        static const mi_stmt_t per_hook = { "test_outbox_per_hook", {
            "SELECT webhook_id, COUNT(*) FROM webhook_deliveries "
            "GROUP BY webhook_id ORDER BY webhook_id", NULL } };
        mi_rows_t rows;

        ok(mi_db_select(f->db, f->p, &per_hook, &rows, 0, NULL)
               == APR_SUCCESS && rows.nrows == 2
           && !strcmp(rows.rows[0][1], "5") && !strcmp(rows.rows[1][1], "5"),
           "five deliveries for each of the two subscribed webhooks");
    }
    mi_db_exec(f->db, f->p, &clear_deliveries, NULL, 0, NULL);

    ok(queue(f, 0, five, NULL) == MI_OK
       && mi_outbox_fan_out(f->db, f->p, 5, &taken) == APR_SUCCESS
       && taken == 5 && queued(f) == 0,
       "a write of exactly max events: taken whole at once");
    ok(queue(f, 0, five, NULL) == MI_OK
       && mi_outbox_fan_out(f->db, f->p, 4, &taken) == APR_SUCCESS
       && taken == 4 && queued(f) == 1
       && mi_outbox_fan_out(f->db, f->p, 4, &taken) == APR_SUCCESS
       && taken == 1 && queued(f) == 0,
       "one past max: max of it, then the last one");
    mi_db_exec(f->db, f->p, &clear_deliveries, NULL, 0, NULL);

    /* A write's events are one row: taken a part at a time while it has
     * more than max, then whole, with the rows after it. */
    ok(queue(f, 0, five, NULL) == MI_OK
       && (apr_sleep(apr_time_from_msec(2)), queue(f, 0, one, NULL)) == MI_OK
       && queued(f) == 6, "two writes: five events and one, a moment later "
       "(in the same millisecond, their order is their random ids')");
    ok(mi_outbox_fan_out(f->db, f->p, 2, &taken) == APR_SUCCESS
       && taken == 2 && queued(f) == 4, "two of the first write's");
    ok(mi_outbox_fan_out(f->db, f->p, 2, &taken) == APR_SUCCESS
       && taken == 2 && queued(f) == 2, "two more");
    ok(mi_outbox_fan_out(f->db, f->p, 2, &taken) == APR_SUCCESS
       && taken == 2 && queued(f) == 0,
       "its last one and the second write's, each row whole");
    {
        static const mi_stmt_t per_event = { "test_outbox_per_event", {
            "SELECT event, COUNT(*), COUNT(DISTINCT webhook_id), "
            "MIN(webhook_id) FROM webhook_deliveries GROUP BY event "
            "ORDER BY event", NULL } };
        mi_rows_t rows;

        ok(mi_db_select(f->db, f->p, &per_event, &rows, 0, NULL)
               == APR_SUCCESS && rows.nrows == 2
           && !strcmp(rows.rows[0][0], "supplier.created")
           && !strcmp(rows.rows[0][1], "10") && !strcmp(rows.rows[0][2], "2")
           && !strcmp(rows.rows[1][0], "supplier.deleted")
           && !strcmp(rows.rows[1][1], "1")
           && !strcmp(hook_name(f, rows.rows[1][3]), "W2"),
           "each event fanned out once: five to W1 and W2, the deletion to "
           "W2");
    }
    mi_db_exec(f->db, f->p, &clear_deliveries, NULL, 0, NULL);
}

static void test_wanted(fixture_t *f)
{
    static const struct {
        int org, want;
        const char *name;
    } cases[] = {
        { 0, 1, "an organization with active webhooks" },
        { 1, 1, "another with one" },
        { 2, 0, "an organization without webhooks" },
        { 3, 0, "an organization with an inactive webhook only" },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        int wanted = -1;

        ok(mi_outbox_wanted(f->db, f->p, f->org[cases[i].org], &wanted)
               == MI_OK && wanted == cases[i].want,
           apr_psprintf(f->p, "wanted: %s", cases[i].name));
    }
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);
    fixture_t f = { unit_db(p), p, { NULL }, { NULL }, { NULL } };
    static const int integration_org[4] = { 0, 0, 1, 3 };
    size_t i;

    if (!f.db) {
        ok(0, "a migrated in-memory SQLite");
        return unit_done(p);
    }
    for (i = 0; i < 4; i++) {
        mi_org_create(f.db, p, apr_psprintf(p, "Org %d", (int)i), &f.org[i]);
    }
    for (i = 0; i < 4; i++) {
        mi_integration_create(f.db, p, f.org[integration_org[i]],
                              apr_psprintf(p, "ERP %d", (int)i),
                              &f.integration[i]);
    }
    for (i = 0; i < NHOOKS; i++) {
        mi_caller_t c = { f.org[hooks[i].org],
                          f.integration[hooks[i].integration], "tok" };
        json_t *events = json_loads(hooks[i].events, 0, NULL), *body = NULL;

        if (mi_webhook_create(f.db, p, &c, "https://example.com/h", events,
                              &body) == MI_OK) {
            f.hook_id[i] = json_string_value(json_object_get(body, "id"));
        }
        if (!hooks[i].active) {
            mi_webhook_update(f.db, p, &c, f.hook_id[i], NULL, NULL, 0,
                              &body);
        }
        json_decref(events);
    }
    test_wanted(&f);
    test_fan_out(&f);
    test_queue(&f);
    mi_db_close(f.db);
    return unit_done(p);
}
