/* test_db.c: unit tests of mi_db (chunked writes) against an in-memory
 * SQLite database. */
#include <stdlib.h>
#include <apr_strings.h>
#include "unit.h"

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

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_write_rows(p);
    return unit_done(p);
}
