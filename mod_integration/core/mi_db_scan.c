/* mi_db_scan.c: rows read straight from SQLite's and libpq's own
 * functions (see mi_db_scan.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "mi_db_scan.h"
#include "mi_buf.h"

/* The functions used, looked up once per process: the module links
 * neither library; apr_dbd's driver has loaded its own, globally, by the
 * time a connection exists. A table is complete or unused. */
#define SQLITE_ROW 100
#define SQLITE_DONE 101
#define SQLITE_NULL 5
#define PGRES_TUPLES_OK 2

static struct {
    int (*prepare)(void *, const char *, int, void **, const char **);
    int (*bind_text)(void *, int, const char *, int, void (*)(void *));
    int (*bind_null)(void *, int);
    int (*step)(void *);
    int (*reset)(void *);
    int (*clear_bindings)(void *);
    int (*finalize)(void *);
    int (*column_type)(void *, int);
    const unsigned char *(*column_text)(void *, int);
    int (*column_bytes)(void *, int);
    long long (*column_int64)(void *, int);
    const char *(*errmsg)(void *);
    int found;
} lite;

static struct {
    void *(*exec_prepared)(void *, const char *, int, const char *const *,
                           const int *, const int *, int);
    int (*result_status)(const void *);
    int (*ntuples)(const void *);
    char *(*getvalue)(const void *, int, int);
    int (*getlength)(const void *, int, int);
    int (*getisnull)(const void *, int, int);
    char *(*result_error)(const void *);
    char *(*error)(const void *);
    void (*clear)(void *);
    int found;
} pq;

static pthread_once_t found_once = PTHREAD_ONCE_INIT;

#define FIND(table, field, name) \
    (*(void **)&table.field = dlsym(RTLD_DEFAULT, name), \
     table.found &= table.field != NULL)

static void find_functions(void)
{
    lite.found = 1;
    FIND(lite, prepare, "sqlite3_prepare_v2");
    FIND(lite, bind_text, "sqlite3_bind_text");
    FIND(lite, bind_null, "sqlite3_bind_null");
    FIND(lite, step, "sqlite3_step");
    FIND(lite, reset, "sqlite3_reset");
    FIND(lite, clear_bindings, "sqlite3_clear_bindings");
    FIND(lite, finalize, "sqlite3_finalize");
    FIND(lite, column_type, "sqlite3_column_type");
    FIND(lite, column_text, "sqlite3_column_text");
    FIND(lite, column_bytes, "sqlite3_column_bytes");
    FIND(lite, column_int64, "sqlite3_column_int64");
    FIND(lite, errmsg, "sqlite3_errmsg");
    pq.found = 1;
    FIND(pq, exec_prepared, "PQexecPrepared");
    FIND(pq, result_status, "PQresultStatus");
    FIND(pq, ntuples, "PQntuples");
    FIND(pq, getvalue, "PQgetvalue");
    FIND(pq, getlength, "PQgetlength");
    FIND(pq, getisnull, "PQgetisnull");
    FIND(pq, result_error, "PQresultErrorMessage");
    FIND(pq, error, "PQerrorMessage");
    FIND(pq, clear, "PQclear");
}

typedef enum { ROW_SQLITE, ROW_PGSQL, ROW_COPIED } row_kind_e;

struct mi_db_row_s {
    row_kind_e kind;
    void *stmt;                 /* ROW_SQLITE: the sqlite3_stmt */
    const void *res;            /* ROW_PGSQL: the PGresult... */
    int r;                      /* ...and the row's number */
    const char *const *values;  /* ROW_COPIED: mi_db_select's row */
};

const char *mi_db_row_text(const mi_db_row_t *row, int col, apr_size_t *len)
{
    const char *v;

    switch (row->kind) {
    case ROW_SQLITE:
        v = (const char *)lite.column_text(row->stmt, col);
        if (v && len) {
            *len = (apr_size_t)lite.column_bytes(row->stmt, col);
        }
        return v;
    case ROW_PGSQL:
        if (pq.getisnull(row->res, row->r, col)) {
            return NULL;
        }
        if (len) {
            *len = (apr_size_t)pq.getlength(row->res, row->r, col);
        }
        return pq.getvalue(row->res, row->r, col);
    default:
        v = row->values[col];
        if (v && len) {
            *len = strlen(v);
        }
        return v;
    }
}

apr_int64_t mi_db_row_int(const mi_db_row_t *row, int col)
{
    const char *v;

    if (row->kind == ROW_SQLITE) {
        return (apr_int64_t)lite.column_int64(row->stmt, col);
    }
    v = mi_db_row_text(row, col, NULL);
    return v ? (apr_int64_t)strtoll(v, NULL, 10) : 0;
}

/* The statements of a SQLite connection, by name, in its pool's userdata:
 * finalized when the pool goes, or by mi_db_scan_release before the
 * connection is closed. */
#define NATIVE_KEY "mi_db_scan:statements"

static apr_status_t finalize_all(void *data)
{
    apr_hash_t *stmts = data;
    apr_hash_index_t *hi;

    for (hi = apr_hash_first(NULL, stmts); hi; hi = apr_hash_next(hi)) {
        void *stmt = NULL;

        apr_hash_this(hi, NULL, NULL, &stmt);
        lite.finalize(stmt);
    }
    apr_hash_clear(stmts);
    return APR_SUCCESS;
}

static apr_hash_t *native_statements(apr_pool_t *conn_pool, int create)
{
    void *stmts = NULL;

    apr_pool_userdata_get(&stmts, NATIVE_KEY, conn_pool);
    if (!stmts && create) {
        stmts = apr_hash_make(conn_pool);
        apr_pool_userdata_setn(stmts, NATIVE_KEY, NULL, conn_pool);
        apr_pool_cleanup_register(conn_pool, stmts, finalize_all,
                                  apr_pool_cleanup_null);
    }
    return stmts;
}

void mi_db_scan_release(mi_db_t *db)
{
    apr_hash_t *stmts;

    if (db->dialect == MI_DIALECT_SQLITE3 && lite.found
        && (stmts = native_statements(db->conn_pool, 0)) != NULL) {
        apr_pool_cleanup_run(db->conn_pool, stmts, finalize_all);
        apr_pool_userdata_setn(NULL, NATIVE_KEY, NULL, db->conn_pool);
    }
}

/* apr_dbd's placeholders as SQLite's: each "%s" a "?", "%%" a "%". */
static const char *sqlite_text(apr_pool_t *pool, const char *sql)
{
    mi_buf_t b;
    const char *at;

    mi_buf_init(&b, pool, strlen(sql) + 1);
    while ((at = strchr(sql, '%')) != NULL) {
        mi_buf_append(&b, sql, (apr_size_t)(at - sql));
        mi_buf_append(&b, at[1] == 's' ? "?" : "%", 1);
        sql = at + (at[1] ? 2 : 1);
    }
    mi_buf_append(&b, sql, strlen(sql));
    return mi_buf_cstr(&b);
}

static apr_status_t sqlite_failed(mi_db_t *db, apr_pool_t *pool)
{
    mi_db_note_failure(db, pool,
        lite.errmsg(apr_dbd_native_handle(db->driver, db->handle)));
    return APR_EGENERAL;
}

static apr_status_t sqlite_scan(mi_db_t *db, apr_pool_t *pool,
                                const mi_stmt_t *st, int nargs,
                                const char *const *args, mi_db_row_fn fn,
                                void *ctx)
{
    apr_hash_t *stmts = native_statements(db->conn_pool, 1);
    void *conn = apr_dbd_native_handle(db->driver, db->handle);
    void *stmt = apr_hash_get(stmts, st->name, APR_HASH_KEY_STRING);
    mi_db_row_t row = { ROW_SQLITE, NULL, NULL, 0, NULL };
    int i, rc;

    if (!stmt) {
        const char *sql = sqlite_text(pool,
                                      mi_db_sql(pool, st, db->dialect));

        if (lite.prepare(conn, sql, -1, &stmt, NULL) != 0 || !stmt) {
            return sqlite_failed(db, pool);
        }
        apr_hash_set(stmts, st->name, APR_HASH_KEY_STRING, stmt);
    }
    for (i = 0; i < nargs; i++) {
        /* Static: args outlive the statement's use, which ends here. */
        rc = args[i] ? lite.bind_text(stmt, i + 1, args[i], -1, NULL)
                     : lite.bind_null(stmt, i + 1);
        if (rc != 0) {
            lite.clear_bindings(stmt);
            return sqlite_failed(db, pool);
        }
    }
    row.stmt = stmt;
    /* Busy: the connection's busy handler (mi_db_bound) waits first. */
    while ((rc = lite.step(stmt)) == SQLITE_ROW) {
        if (fn(ctx, &row)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        sqlite_failed(db, pool);
    }
    lite.reset(stmt);
    lite.clear_bindings(stmt);
    if (rc != SQLITE_DONE) {
        return APR_EGENERAL;
    }
    mi_db_note_success(db);
    return APR_SUCCESS;
}

static apr_status_t pgsql_scan(mi_db_t *db, apr_pool_t *pool,
                               const mi_stmt_t *st, int nargs,
                               const char *const *args, mi_db_row_fn fn,
                               void *ctx)
{
    void *conn = apr_dbd_native_handle(db->driver, db->handle);
    void *res = pq.exec_prepared(conn, st->name, nargs, args, NULL, NULL, 0);
    mi_db_row_t row = { ROW_PGSQL, NULL, NULL, 0, NULL };
    int n;

    if (!res || pq.result_status(res) != PGRES_TUPLES_OK) {
        mi_db_note_failure(db, pool, res ? pq.result_error(res)
                                         : pq.error(conn));
        if (res) {
            pq.clear(res);
        }
        return APR_EGENERAL;
    }
    row.res = res;
    n = pq.ntuples(res);
    for (row.r = 0; row.r < n && !fn(ctx, &row); row.r++) {
    }
    pq.clear(res);
    mi_db_note_success(db);
    return APR_SUCCESS;
}

apr_status_t mi_db_scan(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st,
                        int nargs, const char *const *args, mi_db_row_fn fn,
                        void *ctx)
{
    mi_db_row_t row = { ROW_COPIED, NULL, NULL, 0, NULL };
    mi_rows_t rows;
    int r;

    pthread_once(&found_once, find_functions);
    if (!db->in_txn) {
        if (db->dialect == MI_DIALECT_SQLITE3 && lite.found) {
            return sqlite_scan(db, pool, st, nargs, args, fn, ctx);
        }
        if (db->dialect == MI_DIALECT_PGSQL && pq.found) {
            switch (mi_db_prepare_named(db, pool, st)) {
            case 1:
                return pgsql_scan(db, pool, st, nargs, args, fn, ctx);
            case -1:
                return APR_EGENERAL;
            default:
                break;
            }
        }
    }
    if (mi_db_select(db, pool, st, &rows, nargs, args) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    for (r = 0; r < rows.nrows; r++) {
        row.values = rows.rows[r];
        if (fn(ctx, &row)) {
            break;
        }
    }
    return APR_SUCCESS;
}
