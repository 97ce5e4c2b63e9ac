/* test_backlog.c: unit tests of mi_backlog against an in-memory SQLite
 * database with the schema: pending deliveries and queued events are
 * counted, delivered and failed ones are not, and the oldest of each is
 * found. */
#include "unit.h"
#include "mi_backlog.h"
#include "mi_tenant.h"

static int run(mi_db_t *db, apr_pool_t *p, const char *name, const char *sql)
{
    mi_stmt_t st = { name, { sql, NULL }, 0 };

    return mi_db_exec(db, p, &st, NULL, 0, NULL) == APR_SUCCESS;
}

static void test_backlog(apr_pool_t *p)
{
    mi_db_t *db = unit_db(p);
    const char *org = NULL, *integration = NULL;
    mi_backlog_t b;

    if (!db) {
        ok(0, "a migrated in-memory SQLite");
        return;
    }
    ok(mi_backlog_read(db, p, &b) == APR_SUCCESS, "empty: read");
    ok(b.pending == 0 && b.oldest_pending_ms == -1 && b.queued_events == 0
       && b.oldest_event_ms == -1, "empty: nothing waits");

    mi_org_create(db, p, "Org", &org);
    mi_integration_create(db, p, org, "ERP", &integration);
    ok(run(db, p, "test_backlog_hook", apr_psprintf(p,
           "INSERT INTO webhooks (id, organization_id, integration_id, url, "
           "events, secret, created_at, updated_at) VALUES ('wh_1', '%s', "
           "'%s', 'https://example.com/', '[]', 'whsec_x', 1, 1), ('wh_2', "
           "'%s', '%s', 'https://example.com/', '[]', 'whsec_x', 1, 1)",
           org, integration, org, integration)), "webhooks");
    ok(run(db, p, "test_backlog_deliveries",
           "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, "
           "event_time, state, next_attempt_at, created_at, updated_at) "
           "VALUES ('d1', 'wh_1', 'e', '{}', 1, 'PENDING', 1, 3000, 1), "
           "('d2', 'wh_2', 'e', '{}', 1, 'PENDING', 1, 2000, 1), "
           "('d3', 'wh_2', 'e', '{}', 1, 'DELIVERED', 1, 1000, 1), "
           "('d4', 'wh_1', 'e', '{}', 1, 'FAILED', 1, 500, 1)"),
       "deliveries");
    ok(run(db, p, "test_backlog_events",
           "INSERT INTO webhook_outbox (id, organization_id, events, "
           "event_count, fanned_out, event_time) VALUES ('e1', 'o', '[]', "
           "3, 2, 7000), ('e2', 'o', '[]', 1, 0, 6000)"), "events");
    ok(mi_backlog_read(db, p, &b) == APR_SUCCESS, "read");
    ok(b.pending == 2, "two deliveries pending");
    ok(b.oldest_pending_ms == 2000, "the oldest pending one's time");
    ok(b.queued_events == 2, "two events queued");
    ok(b.oldest_event_ms == 6000, "the oldest event's time");
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_backlog(p);
    return unit_done(p);
}
