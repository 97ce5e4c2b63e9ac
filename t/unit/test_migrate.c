/* test_migrate.c: unit tests of mi_migrate: the embedded migrations apply
 * to an empty in-memory SQLite database, once. */
#include "unit.h"

static void test_migrate(apr_pool_t *p)
{
    mi_db_t *db = NULL;
    const char *err = NULL;
    int applied = 0;

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
    mi_db_close(db);
}

static apr_status_t run(mi_db_t *db, apr_pool_t *p, const char *name,
                        const char *sql)
{
    const mi_stmt_t st = { name, { sql, NULL } };

    return mi_db_exec(db, p, &st, NULL, 0, NULL);
}

/* A database of version 10 with events queued, one row each: migration 11
 * carries them over to webhook_outbox, one write each. */
static void test_outbox_upgrade(apr_pool_t *p)
{
    static const mi_stmt_t outbox = { "test_migrate_outbox", {
        "SELECT organization_id, events, event_count, fanned_out, "
        "event_time FROM webhook_outbox ORDER BY event_time", NULL } };
    mi_db_t *db = unit_db(p);
    mi_rows_t rows;
    int applied = 0;

    if (!db) {
        ok(0, "a migrated in-memory SQLite");
        return;
    }
    ok(run(db, p, "t1", "DELETE FROM schema_migrations WHERE version = 11")
           == APR_SUCCESS
       && run(db, p, "t2", "DROP TABLE webhook_outbox") == APR_SUCCESS
       && run(db, p, "t3", "CREATE TABLE webhook_events (id TEXT PRIMARY "
              "KEY, organization_id TEXT NOT NULL, event TEXT NOT NULL, "
              "data TEXT NOT NULL, event_time INTEGER NOT NULL)")
              == APR_SUCCESS
       && run(db, p, "t4", "INSERT INTO webhook_events VALUES ('e1', 'o1', "
              "'supplier.created', '{\"externalId\":\"S-1\","
              "\"internalId\":\"c1\"}', 2000), ('e2', 'o2', "
              "'sync.completed', '{\"created\":1}', 1000)") == APR_SUCCESS,
       "version 10, two events queued");
    ok(mi_migrate_apply(db, p, &applied) == APR_SUCCESS && applied == 1,
       "migration 11 applies");
    ok(mi_db_select(db, p, &outbox, &rows, 0, NULL) == APR_SUCCESS
       && rows.nrows == 2
       && !strcmp(rows.rows[0][0], "o2")
       && !strcmp(rows.rows[0][1],
                  "[{\"event\":\"sync.completed\",\"data\":"
                  "{\"created\":1}}]")
       && !strcmp(rows.rows[0][2], "1") && !strcmp(rows.rows[0][3], "0")
       && !strcmp(rows.rows[0][4], "1000")
       && !strcmp(rows.rows[1][1],
                  "[{\"event\":\"supplier.created\",\"data\":"
                  "{\"externalId\":\"S-1\",\"internalId\":\"c1\"}}]"),
       "each event is a write of one in webhook_outbox, its data as it was");
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_migrate(p);
    test_outbox_upgrade(p);
    return unit_done(p);
}
