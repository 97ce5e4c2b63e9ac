/* mi_db.h: the database seen through plain apr_dbd.
 *
 * One mi_db_t is one connection for the span of one unit of work: in the
 * module a mod_dbd connection for one request, in integration-admin one
 * connection opened by hand. Statements are prepared lazily, once per
 * connection, and cached in a hash in the connection pool's userdata.
 * On PostgreSQL they are named statements of the server session; the cache
 * remembers the session each was prepared in, so that after the driver
 * reconnects (a database restart) they are prepared again instead of failing
 * for good as stock mod_dbd's do. Behind a transaction pooler, where the
 * session changes at every transaction, they are unnamed instead
 * (mi_db_use_unnamed).
 */
#ifndef MI_DB_H
#define MI_DB_H

#include <apr_dbd.h>
#include "mi_common.h"

typedef enum {
    MI_DIALECT_SQLITE3 = 0,
    MI_DIALECT_PGSQL = 1,
    MI_DIALECT_COUNT
} mi_dialect_e;

/* A statement: a cache key and its SQL, one text per dialect; NULL for
 * PostgreSQL where the SQLite text serves both. Placeholders in the text
 * are expanded once per connection, when it first prepares the statement:
 *
 *   {bigint:EXPR}, {integer:EXPR}   EXPR (up to the next "}") as a number:
 *       CAST(EXPR AS BIGINT) (or INTEGER) on PostgreSQL, whose parameters
 *       arrive as text (pgsql types "%s" as varchar); EXPR as it is on
 *       SQLite, which converts by column affinity. So "... LIMIT
 *       {bigint:%s}" serves both dialects.
 *   {rows}   in a chunked statement (width > 0), which writes many rows at
 *       once: a VALUES list of MI_DB_CHUNK rows of width parameters,
 *       which come first; see mi_db_write_rows. On PostgreSQL "VALUES
 *       {rows}" is instead a query of one JSON parameter that holds every
 *       row (an array of arrays of strings and nulls; column i: item i as
 *       text), so that a write is one statement, planned once.
 *
 * A statement needs its own PostgreSQL text only when the dialects differ
 * in more than these (functions, catalogs, pragmas). */
typedef struct {
    const char *name;
    const char *sql[MI_DIALECT_COUNT];
    int width;
} mi_stmt_t;

/* The text of st as dialect d prepares it: its own or the SQLite text,
 * placeholders expanded (in pool; st's text itself when there are none). */
const char *mi_db_sql(apr_pool_t *pool, const mi_stmt_t *st, mi_dialect_e d);

/* Rows per run of a chunked statement. 100 rows of 20 parameters stay far
 * below SQLite's 32766 and PostgreSQL's 65535 parameters. */
#define MI_DB_CHUNK 100

typedef struct {
    const apr_dbd_driver_t *driver;
    apr_dbd_t *handle;
    apr_pool_t *pool;               /* the unit of work's */
    apr_pool_t *conn_pool;          /* lives as long as the connection */
    apr_hash_t *cache;              /* statement name -> prepared, in
                                     * conn_pool's userdata */
    mi_dialect_e dialect;
    int in_txn;                     /* between mi_db_begin and its end */
    int failed;                     /* a statement of this txn failed */
    int used;                       /* a statement succeeded on it */
    int unnamed;                    /* mi_db_use_unnamed */
    apr_interval_time_t timeout;    /* mi_db_bound's, for each transaction
                                     * when unnamed */
    apr_interval_time_t bound;      /* mi_db_bound's timeout, or 0 */
    apr_time_t deadline;            /* ...and when it ends */
    const char *error;              /* last error, copied from the driver */
    int errors;                     /* statements that failed on it */
    int reconnects;                 /* times the driver opened a new
                                     * session for it (PostgreSQL) */
} mi_db_t;

/* Rows of a select: each row an array of ncols strings, NULL for SQL NULL. */
typedef struct {
    int ncols;
    int nrows;
    const char ***rows;
} mi_rows_t;

/* The dialect of a driver name ("sqlite3", "pgsql"); -1 if unsupported. */
int mi_db_dialect_of(const char *driver_name);

/* Opens a connection by driver name and parameters (integration-admin, the
 * module's start-up schema check). Its statements are unnamed
 * (mi_db_use_unnamed): they run once or a few times, and so work through a
 * transaction pooler too. */
apr_status_t mi_db_open(apr_pool_t *pool, const char *driver,
                        const char *params, mi_db_t **db, const char **err);
void mi_db_close(mi_db_t *db);

/* Wraps a connection opened elsewhere (mod_dbd) for a unit of work that
 * allocates from pool; what lives as long as the connection (prepared
 * statements, its set-up) is kept in conn_pool's userdata. */
mi_db_t *mi_db_wrap(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                    apr_dbd_t *handle, apr_pool_t *conn_pool);

/* Keeps nothing in the PostgreSQL session between transactions, for a
 * transaction pooler (PgBouncer's pool_mode = transaction), which may run
 * each transaction, and each statement outside one, on another server
 * connection: statements are unnamed, parsed and planned at every run
 * (their parameters typed as a named statement's are), and mi_db_bound's
 * timeouts are set with SET LOCAL at the start of each transaction instead
 * of once per session (statements outside a transaction then have the
 * database's or role's defaults). Call it right after mi_db_wrap, on every
 * unit of work of the connection. Nothing changes on SQLite. */
void mi_db_use_unnamed(mi_db_t *db);

/* Bounds the waits of the unit of work that began at started (when it
 * began waiting for db) to timeout (0: no bound): PostgreSQL's lock_timeout
 * and statement_timeout for each statement (set again whenever the driver
 * has reconnected); on SQLite a busy handler that gives up at started +
 * timeout for the whole unit. The first time on a connection it also runs
 * mi_db_configure. */
apr_status_t mi_db_bound(mi_db_t *db, apr_interval_time_t timeout,
                         apr_time_t started);

/* After a statement that may have waited long in a transaction (a lock
 * taken first): on PostgreSQL, which bounds each statement, what remains
 * of the unit's bound becomes the bound of the transaction's later
 * statements, so that two waits never add up past it. Nothing to do on
 * SQLite (its busy handler counts from the start) or after a short wait. */
apr_status_t mi_db_shorten(mi_db_t *db, apr_pool_t *pool);

/* Connection set-up that mod_dbd's post_connect hook and mi_db_open share:
 * SQLite's busy timeout and foreign keys; PostgreSQL's errors with their
 * SQLSTATE. */
apr_status_t mi_db_configure(const apr_dbd_driver_t *driver,
                             apr_dbd_t *handle, apr_pool_t *pool);

/* Runs a statement; *nrows (may be NULL) gets the affected row count. */
apr_status_t mi_db_exec(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st,
                        int *nrows, int nargs, const char *const *args);

/* Runs a statement that returns rows (SELECT, or RETURNING). */
apr_status_t mi_db_select(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st,
                          mi_rows_t *rows, int nargs,
                          const char *const *args);

/* Runs chunked statement st once per MI_DB_CHUNK of the nrows rows (row
 * i: the st->width texts at rows[i], NULL for SQL NULL), the rows a chunk
 * lacks bound as NULL, then the ntail parameters of tail (on PostgreSQL
 * once for all the rows, as one JSON parameter). What the runs
 * return goes into out (may be NULL), in order. Rows of NULLs must be
 * filtered out by st (for example WHERE <a NOT NULL column> IS NOT NULL). */
apr_status_t mi_db_write_rows(mi_db_t *db, apr_pool_t *pool,
                              const mi_stmt_t *st, int nrows,
                              const char *const *const *rows, int ntail,
                              const char *const *tail, mi_rows_t *out);

/* Runs a plain SQL text without parameters (migrations). */
apr_status_t mi_db_run(mi_db_t *db, const char *sql);

/* Drops the cached statements where that is needed: after a schema change
 * SQLite refuses statements prepared before it. */
void mi_db_forget_statements(mi_db_t *db);

/* Transactions, as plain BEGIN/COMMIT/ROLLBACK: apr_dbd's own transaction
 * calls report a rolled-back commit as success, and pgsql's start crashes
 * when BEGIN fails on a dead connection. Commit ends with a rollback when
 * any statement failed. Unnamed, BEGIN sets the timeouts for the
 * transaction in the same round trip. */
apr_status_t mi_db_begin(mi_db_t *db, apr_pool_t *pool);
apr_status_t mi_db_commit(mi_db_t *db);
void mi_db_rollback(mi_db_t *db);

/* What the last failed call on db means for its unit of work: MI_ERR_RETRY
 * when PostgreSQL rolled it back to let another go on (deadlock,
 * serialization failure), MI_ERR_DB otherwise. The operations of the core
 * return it, so that the retry signal travels in their result. */
mi_result_e mi_db_failure(const mi_db_t *db);

/* MI_OK when rv (of a call on db) is APR_SUCCESS, else mi_db_failure. */
mi_result_e mi_db_result(const mi_db_t *db, apr_status_t rv);

/* Convenience: an int64 as a decimal string parameter. */
const char *mi_db_int(apr_pool_t *pool, apr_int64_t v);

/* For mi_db_scan, which runs statements outside apr_dbd.
 * mi_db_prepare_named: 1 when st runs on db as a named PostgreSQL
 * statement, then prepared in the connection's current session (named
 * st->name); 0 when it does not (SQLite, unnamed statements); -1 when it
 * could not be prepared (db->error says why). mi_db_note_failure and
 * mi_db_note_success record a statement's outcome as mi_db's own. */
int mi_db_prepare_named(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st);
void mi_db_note_failure(mi_db_t *db, apr_pool_t *pool, const char *msg);
void mi_db_note_success(mi_db_t *db);

#endif
