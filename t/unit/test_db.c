/* test_db.c: unit tests of mi_db (chunked writes) against an in-memory
 * SQLite database. */
#include <stdlib.h>
#include <apr_strings.h>
#include "unit.h"
#include "mi_db_scan.h"

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

/* What a scan saw: each row's columns as text, its second as an integer;
 * it stops after stop rows when stop > 0. */
typedef struct {
    apr_pool_t *pool;
    int n, stop;
    const char *text[8][3];
    apr_size_t len[8][3];
    apr_int64_t num[8];
} seen_t;

static int see(void *ctx, const mi_db_row_t *row)
{
    seen_t *s = ctx;
    int c;

    for (c = 0; c < 3; c++) {
        const char *v = mi_db_row_text(row, c, &s->len[s->n][c]);

        s->text[s->n][c] = v ? apr_pstrmemdup(s->pool, v, s->len[s->n][c])
                             : NULL;
    }
    s->num[s->n] = mi_db_row_int(row, 1);
    return ++s->n == s->stop;
}

/* A scan gives what a select gives, natively and inside a transaction
 * (where it reads through mi_db_select); it stops when told; a failure is
 * the connection's error; the prepared statement goes with the
 * connection. */
static void test_scan(apr_pool_t *p)
{
    static const mi_stmt_t create = { "test_scan_create", {
        "CREATE TABLE scanned (k TEXT, n INTEGER, v TEXT)", NULL } };
    static const mi_stmt_t fill = { "test_scan_fill", {
        "INSERT INTO scanned VALUES ('a', 1, 'x'), ('b', 1700000000123, "
        "NULL), ('c', -5, ''), ('d', 0, 'caf\xc3\xa9')", NULL } };
    static const mi_stmt_t pick = { "test_scan_pick", {
        "SELECT k, n, v FROM scanned WHERE k > %s ORDER BY k", NULL } };
    static const mi_stmt_t broken = { "test_scan_broken", {
        "SELECT k FROM no_such_table WHERE k > %s", NULL } };
    const char *from = "a", *err = NULL;
    mi_db_t *db = NULL;
    mi_rows_t rows;
    seen_t native, txn, stopped;
    int r, c, same = 1;

    if (mi_db_open(p, "sqlite3", ":memory:", &db, &err) != APR_SUCCESS
        || mi_db_exec(db, p, &create, NULL, 0, NULL) != APR_SUCCESS
        || mi_db_exec(db, p, &fill, NULL, 0, NULL) != APR_SUCCESS
        || mi_db_select(db, p, &pick, &rows, 1, &from) != APR_SUCCESS) {
        ok(0, "scans: a table");
        return;
    }
    memset(&native, 0, sizeof(native));
    native.pool = p;
    txn = stopped = native;
    stopped.stop = 2;
    ok(mi_db_scan(db, p, &pick, 1, &from, see, &native) == APR_SUCCESS
       && mi_db_scan(db, p, &pick, 1, &from, see, &native) == APR_SUCCESS
       && native.n == 2 * rows.nrows && rows.nrows == 3,
       "a scan reads every row, and again on its kept statement");
    for (r = 0; r < native.n; r++) {
        for (c = 0; c < 3; c++) {
            const char *want = rows.rows[r % 3][c];

            same &= want ? native.text[r][c]
                           && native.len[r][c] == strlen(want)
                           && !strcmp(native.text[r][c], want)
                         : !native.text[r][c];
        }
        same &= native.num[r] == apr_atoi64(rows.rows[r % 3][1]);
    }
    ok(same, "the same texts, lengths, NULLs and integers as a select");
    ok(native.num[0] == 1700000000123 && native.num[1] == -5,
       "integers read as integers");
    ok(mi_db_begin(db, p) == APR_SUCCESS
       && mi_db_scan(db, p, &pick, 1, &from, see, &txn) == APR_SUCCESS
       && mi_db_commit(db) == APR_SUCCESS && txn.n == 3
       && !strcmp(txn.text[2][2], "caf\xc3\xa9") && !txn.text[0][2]
       && txn.num[1] == -5,
       "in a transaction: the same rows");
    ok(mi_db_scan(db, p, &pick, 1, &from, see, &stopped) == APR_SUCCESS
       && stopped.n == 2, "a scan stops when told");
    db->error = NULL;
    ok(mi_db_scan(db, p, &broken, 1, &from, see, &stopped) != APR_SUCCESS
       && db->error && strstr(db->error, "no_such_table"),
       "a failure is the database's error");
    mi_db_close(db);
}

/* A statement given fewer or more arguments than it takes is not run (the
 * drivers would read past them), and says so. */
static void test_argument_count(apr_pool_t *p)
{
    static const mi_stmt_t pair = { "test_args_pair", {
        "SELECT %s || %s", NULL } };
    const char *args[] = { "a", "b", "c" };
    mi_db_t *db = unit_db(p);
    mi_rows_t rows;

    if (!db) {
        ok(0, "argument count: a database");
        return;
    }
    ok(mi_db_select(db, p, &pair, &rows, 2, args) == APR_SUCCESS
       && rows.nrows == 1 && !strcmp(rows.rows[0][0], "ab"),
       "two arguments for its two: run");
    db->error = NULL;
    ok(mi_db_select(db, p, &pair, &rows, 1, args) != APR_SUCCESS
       && db->error && strstr(db->error, "takes 2 arguments, given 1"),
       "one for its two: not run, and why");
    db->error = NULL;
    ok(mi_db_exec(db, p, &pair, NULL, 3, args) != APR_SUCCESS
       && db->error && strstr(db->error, "takes 2 arguments, given 3"),
       "three for its two: not run");
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_write_rows(p);
    test_scan(p);
    test_argument_count(p);
    return unit_done(p);
}
