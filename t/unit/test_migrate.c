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

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_migrate(p);
    return unit_done(p);
}
