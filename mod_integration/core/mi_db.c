/* mi_db.c: the database seen through plain apr_dbd (see mi_db.h). */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include "mi_db.h"
#include "mi_buf.h"
#include "mi_jsonw.h"
#include "mi_db_scan.h"

#define SQLITE_BUSY_TIMEOUT_SQL "PRAGMA busy_timeout = 5000"

int mi_db_dialect_of(const char *driver_name)
{
    if (!strcmp(driver_name, "sqlite3")) {
        return MI_DIALECT_SQLITE3;
    }
    if (!strcmp(driver_name, "pgsql")) {
        return MI_DIALECT_PGSQL;
    }
    return -1;
}

/* Two functions of libpq, looked up once per process. The module does not
 * link libpq: apr_dbd's pgsql driver has loaded it, globally, by the time a
 * pgsql connection exists. */
static struct {
    pthread_once_t once;
    int (*backend_pid)(const void *conn);         /* PQbackendPID */
    void (*verbosity)(void *conn, int verbosity); /* PQsetErrorVerbosity */
} libpq = { PTHREAD_ONCE_INIT, NULL, NULL };

static void find_libpq(void)
{
    libpq.backend_pid = (int (*)(const void *))(apr_uintptr_t)
        dlsym(RTLD_DEFAULT, "PQbackendPID");
    libpq.verbosity = (void (*)(void *, int))(apr_uintptr_t)
        dlsym(RTLD_DEFAULT, "PQsetErrorVerbosity");
}

apr_status_t mi_db_configure(const apr_dbd_driver_t *driver,
                             apr_dbd_t *handle, apr_pool_t *pool)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int nrows;

    if (mi_db_dialect_of(apr_dbd_name(driver)) == MI_DIALECT_PGSQL) {
        /* Errors read "ERROR:  40P01: deadlock detected ...": the SQLSTATE
         * tells a deadlock from other errors in any server language. The
         * setting outlives a reconnect (PQreset keeps the connection
         * object). */
        pthread_once(&libpq.once, find_libpq);
        if (libpq.verbosity) {
            libpq.verbosity(apr_dbd_native_handle(driver, handle),
                            2 /* PQERRORS_VERBOSE */);
        }
        return APR_SUCCESS;
    }
    /* This pragma answers with a row: a select, not a query. */
    if (apr_dbd_select(driver, pool, handle, &res, SQLITE_BUSY_TIMEOUT_SQL, 1)
        != 0) {
        return APR_EGENERAL;
    }
    while (apr_dbd_get_row(driver, pool, res, &row, -1) == 0) {
    }
    /* The driver retries SQLITE_BUSY by itself only for ~1.5 s and with
     * its process-wide mutex released; with one connection per process the
     * busy timeout is what makes writers of several processes queue. */
    if (apr_dbd_query(driver, handle, &nrows, "PRAGMA foreign_keys = ON")
            != 0) {
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The PostgreSQL session of the connection: it changes when the driver
 * reconnects (check_conn's PQreset), and with it the named statements are
 * gone. 0 on SQLite; -1 when libpq's PQbackendPID was not found. */
static int session_of(mi_db_t *db)
{
    if (db->dialect != MI_DIALECT_PGSQL) {
        return 0;
    }
    return libpq.backend_pid ? libpq.backend_pid(apr_dbd_native_handle(
                                   db->driver, db->handle))
                             : -1;
}

/* What was set up on a connection, kept in its pool's userdata under
 * STATE_KEY (it lives as long as the connection). */
typedef struct {
    int session;                /* PostgreSQL backend the SETs ran in */
    apr_interval_time_t timeout;    /* and the timeout they set */
    apr_time_t deadline;        /* SQLite: the busy handler gives up then */
} conn_state_t;

#define STATE_KEY "mi_db:state"
#define CACHE_KEY "mi_db:statements"
#define UNNAMED_CACHE_KEY "mi_db:unnamed statements"

/* The apr_dbd sqlite3 driver retries a busy statement by itself, 16 times
 * with 100 ms between: the busy handler stops that much before the bound
 * (which so cannot be below 1.6 s). */
#define SQLITE_DRIVER_RETRIES apr_time_from_msec(1600)

/* Short naps: other writers' transactions (the delivery thread's above
 * all) are short and come often; a writer that slept for tens of
 * milliseconds would miss the gaps between them. */
static int sqlite_busy_wait(void *data, int attempt)
{
    const conn_state_t *st = data;
    apr_time_t left = st->deadline - apr_time_now();
    apr_interval_time_t nap = attempt < 16 ? 250 : apr_time_from_msec(1);

    if (left <= 0) {
        return 0;
    }
    apr_sleep(nap < left ? nap : left);
    return 1;
}

static apr_status_t sqlite_bound(mi_db_t *db, conn_state_t *st,
                                 apr_time_t until)
{
    typedef int (*busy_handler_fn)(void *, int (*)(void *, int), void *);
    static busy_handler_fn busy_handler;

    if (!busy_handler) {
        /* The module does not link SQLite; the driver has loaded it. */
        busy_handler = (busy_handler_fn)(apr_uintptr_t)dlsym(
            RTLD_DEFAULT, "sqlite3_busy_handler");
    }
    st->deadline = until - SQLITE_DRIVER_RETRIES;
    if (st->session == 0) {
        if (!busy_handler
            || busy_handler(apr_dbd_native_handle(db->driver, db->handle),
                            sqlite_busy_wait, st) != 0) {
            return APR_EGENERAL;
        }
        st->session = 1;
    }
    return APR_SUCCESS;
}

static void note_error(mi_db_t *db, apr_pool_t *pool, int rc);

/* PostgreSQL's SET of both timeouts to timeout, for scope "SESSION" or
 * "LOCAL" (the transaction). */
static const char *timeouts_sql(apr_pool_t *pool, const char *scope,
                                apr_interval_time_t timeout)
{
    apr_int64_t ms = (apr_int64_t)apr_time_as_msec(timeout);

    return apr_psprintf(pool, "SET %s lock_timeout = %" APR_INT64_T_FMT
                        "; SET %s statement_timeout = %" APR_INT64_T_FMT,
                        scope, ms, scope, ms);
}

/* What a PostgreSQL session of named statements is set up with: the
 * timeouts, and each statement planned once for the session rather than
 * at every execution (their plans are index paths whatever the
 * parameters; a custom plan per execution was a sixth of a listing's
 * time). plan_cache_mode came with PostgreSQL 12. */
static const char *session_sql(apr_pool_t *pool, apr_interval_time_t timeout)
{
    return apr_pstrcat(pool, timeouts_sql(pool, "SESSION", timeout),
                       "; SELECT set_config('plan_cache_mode', "
                       "'force_generic_plan', false) WHERE "
                       "current_setting('server_version_num')::int >= 120000",
                       NULL);
}

static apr_status_t pgsql_bound(mi_db_t *db, conn_state_t *st,
                                apr_interval_time_t timeout)
{
    int session, n, rc, replaced;
    const char *sql;

    if (db->unnamed) {
        /* Behind a transaction pooler a session SET would stay on whichever
         * server connection ran it: each transaction sets its own. */
        db->timeout = timeout;
        return APR_SUCCESS;
    }
    session = session_of(db);
    if (session == st->session && timeout == st->timeout) {
        return APR_SUCCESS;
    }
    /* Set up anew: a connection set up in another session before was
     * opened again, by mod_dbd's check when it took the connection from
     * the pool, or below (may_retry counts its own and forgets the
     * session); or one pool serves virtual hosts of different
     * IntegrationDbTimeout, and this request's is another. */
    replaced = st->session != 0 && st->session != session;
    sql = session_sql(db->pool, timeout);
    rc = apr_dbd_query(db->driver, db->handle, &n, sql);
    /* A pooled connection that died with its server (a restart) fails
     * its first command: reconnect once, as run_or_retry does. */
    if (rc != 0 && apr_dbd_check_conn(db->driver, db->conn_pool, db->handle)
                       == APR_SUCCESS) {
        replaced = replaced || session_of(db) != session;
        session = session_of(db);
        rc = apr_dbd_query(db->driver, db->handle, &n, sql);
    }
    if (rc != 0) {
        note_error(db, db->pool, rc);
        return APR_EGENERAL;
    }
    if (replaced) {
        db->reconnects++;
    }
    st->session = session;
    st->timeout = timeout;
    return APR_SUCCESS;
}

apr_status_t mi_db_bound(mi_db_t *db, apr_interval_time_t timeout,
                         apr_time_t started)
{
    void *data = NULL;
    conn_state_t *st;

    apr_pool_userdata_get(&data, STATE_KEY, db->conn_pool);
    if (!(st = data)) {
        if (mi_db_configure(db->driver, db->handle, db->conn_pool)
                != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        st = apr_pcalloc(db->conn_pool, sizeof(*st));
        apr_pool_userdata_setn(st, STATE_KEY, NULL, db->conn_pool);
    }
    if (timeout <= 0) {
        return APR_SUCCESS;
    }
    db->bound = timeout;
    db->deadline = started + timeout;
    return db->dialect == MI_DIALECT_PGSQL
               ? pgsql_bound(db, st, timeout)
               : sqlite_bound(db, st, started + timeout);
}

/* The statements of a connection, in its pool's userdata under key: they
 * live as long as the connection. */
static apr_hash_t *statement_cache(apr_pool_t *conn_pool, const char *key)
{
    void *cache = NULL;

    apr_pool_userdata_get(&cache, key, conn_pool);
    if (!cache) {
        cache = apr_hash_make(conn_pool);
        apr_pool_userdata_setn(cache, key, NULL, conn_pool);
    }
    return cache;
}

mi_db_t *mi_db_wrap(apr_pool_t *pool, const apr_dbd_driver_t *driver,
                    apr_dbd_t *handle, apr_pool_t *conn_pool)
{
    mi_db_t *db = apr_pcalloc(pool, sizeof(*db));

    db->driver = driver;
    db->handle = handle;
    db->pool = pool;
    db->conn_pool = conn_pool;
    db->cache = statement_cache(conn_pool, CACHE_KEY);
    db->dialect = (mi_dialect_e)mi_db_dialect_of(apr_dbd_name(driver));
    if (db->dialect == MI_DIALECT_PGSQL) {
        pthread_once(&libpq.once, find_libpq);
    }
    return db;
}

void mi_db_use_unnamed(mi_db_t *db)
{
    if (db->dialect == MI_DIALECT_PGSQL) {
        db->unnamed = 1;
        /* Their texts differ from the named ones' (typed_params). */
        db->cache = statement_cache(db->conn_pool, UNNAMED_CACHE_KEY);
    }
}

apr_status_t mi_db_open(apr_pool_t *pool, const char *driver,
                        const char *params, mi_db_t **db, const char **err)
{
    const apr_dbd_driver_t *drv;
    apr_dbd_t *handle = NULL;
    apr_status_t rv;

    *db = NULL;
    if (mi_db_dialect_of(driver) < 0) {
        *err = apr_psprintf(pool, "unsupported database driver \"%s\" "
                            "(use sqlite3 or pgsql)", driver);
        return APR_ENOTIMPL;
    }
    apr_dbd_init(pool);
    rv = apr_dbd_get_driver(pool, driver, &drv);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(pool, "cannot load the apr_dbd driver \"%s\" "
                            "(is libaprutil1-dbd-%s installed?)", driver,
                            driver);
        return rv;
    }
    rv = apr_dbd_open_ex(drv, pool, params, &handle, err);
    if (rv != APR_SUCCESS || !handle) {
        if (!*err) {
            *err = "cannot connect to the database";
        }
        return rv ? rv : APR_EGENERAL;
    }
    if (mi_db_configure(drv, handle, pool) != APR_SUCCESS) {
        *err = "cannot configure the database connection";
        apr_dbd_close(drv, handle);
        return APR_EGENERAL;
    }
    *db = mi_db_wrap(pool, drv, handle, pool);
    mi_db_use_unnamed(*db);
    return APR_SUCCESS;
}

void mi_db_close(mi_db_t *db)
{
    if (db && db->handle) {
        mi_db_scan_release(db);
        apr_dbd_close(db->driver, db->handle);
        db->handle = NULL;
    }
}

/* A PostgreSQL error ("<severity>:  <SQLSTATE>: ...") that aborted the
 * transaction only to let another go on: serialization_failure (40001) or
 * deadlock_detected (40P01). */
static int is_transient(const char *msg)
{
    const char *c = strchr(msg, ':');

    return c && !strncmp(c, ":  ", 3)
           && (!strncmp(c + 3, "40001:", 6) || !strncmp(c + 3, "40P01:", 6));
}

mi_result_e mi_db_failure(const mi_db_t *db)
{
    return db->dialect == MI_DIALECT_PGSQL && db->error
                   && is_transient(db->error)
               ? MI_ERR_RETRY : MI_ERR_DB;
}

mi_result_e mi_db_result(const mi_db_t *db, apr_status_t rv)
{
    return rv == APR_SUCCESS ? MI_OK : mi_db_failure(db);
}

static void note_error(mi_db_t *db, apr_pool_t *pool, int rc)
{
    /* The driver's text lives in the connection and is overwritten by the
     * next call: copied. */
    mi_db_note_failure(db, pool, apr_dbd_error(db->driver, db->handle, rc));
}

/* A prepared statement as cached for a connection: on PostgreSQL, named
 * statements live in the server session, so each entry remembers the
 * session (backend process id) it was prepared in. */
typedef struct {
    const char *sql;            /* the statement's text for this connection:
                                 * its dialect's, placeholders expanded */
    apr_dbd_prepared_t *stmt;   /* NULL until prepared */
    int session;
    int nparams;                /* its "%s" */
} cached_t;

/* run's own error, besides the drivers' codes. */
#define BAD_ARGS INT_MIN

/* The "%s" parameters of sql ("%%" is none). */
static int count_params(const char *sql)
{
    int n = 0;

    while ((sql = strchr(sql, '%')) != NULL) {
        n += sql[1] == 's';
        sql += sql[1] ? 2 : 1;
    }
    return n;
}

/* PostgreSQL's PREPARE takes these; DDL it does not. */
static int preparable(const char *sql)
{
    static const char *const verbs[] = { "SELECT", "INSERT", "UPDATE",
                                         "DELETE", "WITH", NULL };
    int i;

    for (i = 0; verbs[i]; i++) {
        if (!strncmp(sql, verbs[i], strlen(verbs[i]))) {
            return 1;
        }
    }
    return 0;
}

/* The SQL of a chunked statement: "{rows}" replaced by MI_DB_CHUNK rows of
 * width placeholders. */
static const char *expand_rows(apr_pool_t *pool, const char *sql, int width)
{
    const char *at = strstr(sql, "{rows}");
    char *rows, *o;
    int i, k;

    if (!at) {
        return sql;
    }
    /* Each row: "(", width times "%s" with commas between, ")", and a comma
     * before every row but the first. */
    o = rows = apr_palloc(pool, MI_DB_CHUNK * (3 * (apr_size_t)width + 2));
    for (i = 0; i < MI_DB_CHUNK; i++) {
        if (i) {
            *o++ = ',';
        }
        *o++ = '(';
        for (k = 0; k < width; k++) {
            if (k) {
                *o++ = ',';
            }
            *o++ = '%';
            *o++ = 's';
        }
        *o++ = ')';
    }
    *o = '\0';
    return apr_pstrcat(pool, apr_pstrmemdup(pool, sql, at - sql), rows,
                       at + strlen("{rows}"), NULL);
}

/* PostgreSQL's chunked statements take all their rows at once, as one
 * JSON parameter, an array of rows (arrays of strings and nulls):
 * "VALUES {rows}" becomes a query of its elements, column i the text of
 * item i (jsonb: parsed once, a tenth of json's time for 500 rows).
 * One statement for every row, planned in a moment, instead of one per
 * MI_DB_CHUNK rows of bound parameters, which PostgreSQL plans anew
 * each time (1.6 ms for an update of 100 suppliers). */
#define JSON_ROWS_AT "VALUES {rows}"
#define JSON_ROWS_FROM " FROM jsonb_array_elements(CAST(%s AS jsonb)) AS e"

static const char *json_rows(apr_pool_t *pool, const char *sql, int width)
{
    const char *at = strstr(sql, JSON_ROWS_AT);
    mi_buf_t b;
    char col[32];
    int k;

    if (!at) {
        return sql;
    }
    mi_buf_init(&b, pool, strlen(sql) + 64 + (apr_size_t)width * 16);
    mi_buf_append(&b, sql, (apr_size_t)(at - sql));
    mi_buf_append(&b, "SELECT ", 7);
    for (k = 0; k < width; k++) {
        int n = apr_snprintf(col, sizeof(col), "%se->>%d", k ? ", " : "", k);

        mi_buf_append(&b, col, (apr_size_t)n);
    }
    mi_buf_append(&b, JSON_ROWS_FROM, sizeof(JSON_ROWS_FROM) - 1);
    at += strlen(JSON_ROWS_AT);
    mi_buf_append(&b, at, strlen(at));
    return mi_buf_cstr(&b);
}

static int takes_json_rows(const mi_stmt_t *st, mi_dialect_e d)
{
    const char *sql = st->sql[d] ? st->sql[d] : st->sql[MI_DIALECT_SQLITE3];

    return d == MI_DIALECT_PGSQL && st->width > 0
           && strstr(sql, JSON_ROWS_AT) != NULL;
}

/* The typed placeholders of mi_db.h: "{bigint:EXPR}" and
 * "{integer:EXPR}". */
static const struct {
    const char *open;
    const char *pg_type;
} typed[] = {
    { "{bigint:", "BIGINT" },
    { "{integer:", "INTEGER" },
};

/* sql with its typed placeholders expanded for dialect d: CAST(EXPR AS
 * <type>) on PostgreSQL, EXPR on SQLite. Other braces ("{rows}") stay. */
static const char *expand_types(apr_pool_t *pool, const char *sql,
                                mi_dialect_e d)
{
    const char *at, *end;
    mi_buf_t b;
    apr_size_t i, n = 0;

    if (!strchr(sql, '{')) {
        return sql;
    }
    mi_buf_init(&b, pool, strlen(sql) + 128);
    while ((at = strchr(sql, '{')) != NULL) {
        mi_buf_append(&b, sql, (apr_size_t)(at - sql));
        for (i = 0; i < MI_ARRAY_SIZE(typed); i++) {
            n = strlen(typed[i].open);
            if (!strncmp(at, typed[i].open, n)) {
                break;
            }
        }
        if (i == MI_ARRAY_SIZE(typed) || !(end = strchr(at + n, '}'))) {
            mi_buf_append(&b, "{", 1);
            sql = at + 1;
            continue;
        }
        if (d == MI_DIALECT_PGSQL) {
            mi_buf_append(&b, "CAST(", 5);
        }
        mi_buf_append(&b, at + n, (apr_size_t)(end - at - n));
        if (d == MI_DIALECT_PGSQL) {
            mi_buf_append(&b, " AS ", 4);
            mi_buf_append(&b, typed[i].pg_type, strlen(typed[i].pg_type));
            mi_buf_append(&b, ")", 1);
        }
        sql = end + 1;
    }
    mi_buf_append(&b, sql, strlen(sql));
    return mi_buf_cstr(&b);
}

/* sql with each "%s" parameter typed as apr_dbd's PREPARE of a named
 * statement types it, as varchar: "CAST(%s AS VARCHAR)". For an unnamed
 * one the driver sends no types, and the server would infer them: none at
 * all in some places ("%s IS NULL" fails), others than varchar in others.
 * The statements of mi_db use "%s" only; "%%" stays. */
static const char *typed_params(apr_pool_t *pool, const char *sql)
{
    const char *at;
    mi_buf_t b;

    if (!strstr(sql, "%s")) {
        return sql;
    }
    mi_buf_init(&b, pool, strlen(sql) * 2);
    while ((at = strchr(sql, '%')) != NULL) {
        mi_buf_append(&b, sql, (apr_size_t)(at - sql));
        if (at[1] == 's') {
            mi_buf_append(&b, "CAST(%s AS VARCHAR)", 19);
        }
        else {
            mi_buf_append(&b, at, at[1] ? 2 : 1);
        }
        sql = at + (at[1] ? 2 : 1);
    }
    mi_buf_append(&b, sql, strlen(sql));
    return mi_buf_cstr(&b);
}

const char *mi_db_sql(apr_pool_t *pool, const mi_stmt_t *st, mi_dialect_e d)
{
    const char *sql = st->sql[d] ? st->sql[d] : st->sql[MI_DIALECT_SQLITE3];

    sql = expand_types(pool, sql, d);
    if (takes_json_rows(st, d)) {
        return json_rows(pool, sql, st->width);
    }
    return st->width > 0 ? expand_rows(pool, sql, st->width) : sql;
}

/* Whether db prepares sql as a named PostgreSQL statement: not DDL, not
 * unnamed (mi_db_use_unnamed), and libpq's PQbackendPID found (it tells
 * when the session, and its statements, are new). */
static int named(const mi_db_t *db, const char *sql)
{
    return db->dialect == MI_DIALECT_PGSQL && !db->unnamed
           && libpq.backend_pid && preparable(sql);
}

/* The statement prepared on this connection, preparing it when needed;
 * 0 or the driver's error. *nparams (may be NULL): the parameters it
 * takes. */
static int prepared(mi_db_t *db, const mi_stmt_t *st,
                    apr_dbd_prepared_t **out, int *nparams)
{
    cached_t *c = apr_hash_get(db->cache, st->name, APR_HASH_KEY_STRING);
    apr_dbd_prepared_t *stmt = NULL;
    int session, rc;

    if (!c) {
        /* Its text, once per connection and into the connection's pool:
         * prepared again after a reconnect, it is not expanded again. */
        c = apr_pcalloc(db->conn_pool, sizeof(*c));
        c->sql = mi_db_sql(db->conn_pool, st, db->dialect);
        if (db->dialect == MI_DIALECT_PGSQL && preparable(c->sql)
            && !named(db, c->sql)) {
            c->sql = typed_params(db->conn_pool, c->sql);
        }
        c->nparams = count_params(c->sql);
        apr_hash_set(db->cache, st->name, APR_HASH_KEY_STRING, c);
    }
    if (nparams) {
        *nparams = c->nparams;
    }
    session = named(db, c->sql) ? session_of(db) : 0;
    if (c->stmt && c->session == session) {
        *out = c->stmt;
        return 0;
    }
    /* PostgreSQL: a named statement, parsed and planned once per session;
     * unnamed ones (the driver's PQexecParams) at every run. */
    rc = apr_dbd_prepare(db->driver, db->conn_pool, db->handle, c->sql,
                         session > 0 ? st->name : NULL, &stmt);
    if (rc != 0) {
        return rc;
    }
    c->stmt = stmt;
    c->session = session;
    *out = stmt;
    return 0;
}

/* Prepares (when needed) and runs st once, as a select when res is given;
 * 0 or the driver's error. */
static int run(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st,
               apr_dbd_results_t **res, int *nrows, int nargs,
               const char *const *args)
{
    apr_dbd_prepared_t *stmt = NULL;
    int nparams = 0;
    int rc = prepared(db, st, &stmt, &nparams);

    if (rc != 0) {
        return rc;
    }
    /* The drivers read as many arguments as the statement takes, whatever
     * nargs says: a mistake of ours, refused before it reads past them. */
    if (nargs != nparams) {
        mi_db_note_failure(db, pool, apr_psprintf(pool,
            "statement %s takes %d arguments, given %d: not run", st->name,
            nparams, nargs));
        return BAD_ARGS;
    }
    if (res) {
        *res = NULL;
        /* seek = 1: pgsql's asynchronous mode turns errors into "no
         * rows". */
        return apr_dbd_pselect(db->driver, pool, db->handle, res, stmt, 1,
                               nargs, (const char **)args);
    }
    return apr_dbd_pquery(db->driver, pool, db->handle, nrows, stmt, nargs,
                          (const char **)args);
}

/* A pooled connection may have died with its server (a PostgreSQL
 * restart): the first statement on it then fails (to prepare, or to run),
 * and only that failure lets the driver notice. So when the first statement
 * of a unit of work fails outside a transaction, check_conn (which
 * reconnects a broken pgsql connection) runs and the statement is tried
 * once more, prepared again in the new session. Nothing can have been
 * half-done: nothing ran before it. */
static int may_retry(mi_db_t *db, apr_pool_t *pool)
{
    int session;

    if (db->used || db->in_txn) {
        return 0;
    }
    session = session_of(db);
    if (apr_dbd_check_conn(db->driver, pool, db->handle) != APR_SUCCESS) {
        return 0;
    }
    if (session_of(db) != session) {
        void *data = NULL;

        db->reconnects++;
        /* The new session is set up when the connection is next taken
         * (mi_db_bound), as a first one: counted once, here. */
        apr_pool_userdata_get(&data, STATE_KEY, db->conn_pool);
        if (data) {
            ((conn_state_t *)data)->session = 0;
        }
    }
    return 1;
}

static int run_or_retry(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st,
                        apr_dbd_results_t **res, int *nrows, int nargs,
                        const char *const *args)
{
    int rc = run(db, pool, st, res, nrows, nargs, args);

    if (rc == BAD_ARGS) {
        return rc;          /* noted by run */
    }
    if (rc != 0 && may_retry(db, pool)) {
        rc = run(db, pool, st, res, nrows, nargs, args);
    }
    if (rc != 0) {
        note_error(db, pool, rc);
        return rc;
    }
    db->used = 1;
    return 0;
}

int mi_db_prepare_named(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st)
{
    apr_dbd_prepared_t *stmt = NULL;
    const cached_t *c;
    int rc;

    if (db->dialect != MI_DIALECT_PGSQL || db->unnamed
        || !libpq.backend_pid) {
        return 0;
    }
    rc = prepared(db, st, &stmt, NULL);
    if (rc != 0 && may_retry(db, pool)) {
        rc = prepared(db, st, &stmt, NULL);
    }
    if (rc != 0) {
        note_error(db, pool, rc);
        return -1;
    }
    c = apr_hash_get(db->cache, st->name, APR_HASH_KEY_STRING);
    return c && c->session > 0;
}

void mi_db_note_failure(mi_db_t *db, apr_pool_t *pool, const char *msg)
{
    db->error = apr_pstrdup(pool, msg && *msg ? msg
                                              : "unknown database error");
    db->errors++;
    if (db->in_txn) {
        db->failed = 1;
    }
}

void mi_db_note_success(mi_db_t *db)
{
    db->used = 1;
}

apr_status_t mi_db_exec(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st,
                        int *nrows, int nargs, const char *const *args)
{
    int n = 0;

    if (run_or_retry(db, pool, st, NULL, &n, nargs, args) != 0) {
        return APR_EGENERAL;
    }
    if (nrows) {
        *nrows = n;
    }
    return APR_SUCCESS;
}

apr_status_t mi_db_select(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st,
                          mi_rows_t *rows, int nargs,
                          const char *const *args)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    apr_array_header_t *out;
    int i;

    memset(rows, 0, sizeof(*rows));
    if (run_or_retry(db, pool, st, &res, NULL, nargs, args) != 0) {
        return APR_EGENERAL;
    }
    rows->ncols = apr_dbd_num_cols(db->driver, res);
    out = apr_array_make(pool, 16, sizeof(const char **));
    while (apr_dbd_get_row(db->driver, pool, res, &row, -1) == 0) {
        const char **cols = apr_palloc(pool, rows->ncols * sizeof(char *));

        for (i = 0; i < rows->ncols; i++) {
            char *v = NULL;

            /* datum_get tells NULL from "" (get_entry does not on pgsql).
             * pgsql frees the whole result once the last row has been
             * read, so its values are copied; sqlite3's are pool memory
             * already. */
            if (apr_dbd_datum_get(db->driver, row, i, APR_DBD_TYPE_STRING,
                                  &v) != APR_SUCCESS || !v) {
                cols[i] = NULL;
            }
            else {
                cols[i] = db->dialect == MI_DIALECT_PGSQL
                              ? apr_pstrdup(pool, v) : v;
            }
        }
        APR_ARRAY_PUSH(out, const char **) = cols;
    }
    rows->nrows = out->nelts;
    rows->rows = (const char ***)out->elts;
    return APR_SUCCESS;
}

/* mi_db_write_rows on PostgreSQL: every row in one run. */
static apr_status_t write_json_rows(mi_db_t *db, apr_pool_t *pool,
                                    const mi_stmt_t *st, int nrows,
                                    const char *const *const *rows,
                                    int ntail, const char *const *tail,
                                    mi_rows_t *out)
{
    const char **args = apr_palloc(pool, (1 + (apr_size_t)ntail)
                                         * sizeof(*args));
    mi_jsonw_t w;
    mi_rows_t got;
    int i, k;

    mi_jsonw_init(&w, pool, 256 + (apr_size_t)nrows * st->width * 24);
    mi_jsonw_lit(&w, "[");
    for (i = 0; i < nrows; i++) {
        if (i) {
            mi_jsonw_lit(&w, ",");
        }
        mi_jsonw_lit(&w, "[");
        for (k = 0; k < st->width; k++) {
            if (k) {
                mi_jsonw_lit(&w, ",");
            }
            mi_jsonw_str(&w, rows[i][k]);
        }
        mi_jsonw_lit(&w, "]");
    }
    mi_jsonw_lit(&w, "]");
    args[0] = mi_buf_cstr(&w);
    if (ntail > 0) {
        memcpy(args + 1, tail, (apr_size_t)ntail * sizeof(*args));
    }
    if (mi_db_select(db, pool, st, &got, 1 + ntail, args) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    if (out) {
        *out = got;
    }
    return APR_SUCCESS;
}

apr_status_t mi_db_write_rows(mi_db_t *db, apr_pool_t *pool,
                              const mi_stmt_t *st, int nrows,
                              const char *const *const *rows, int ntail,
                              const char *const *tail, mi_rows_t *out)
{
    apr_size_t width = (apr_size_t)st->width;
    apr_size_t nvalues = MI_DB_CHUNK * width;
    const char **args = apr_palloc(pool, (nvalues + (apr_size_t)ntail)
                                         * sizeof(*args));
    apr_array_header_t *all = apr_array_make(pool, out ? nrows : 1,
                                             sizeof(const char **));
    mi_rows_t got;
    int done, n, i, ncols = 0;

    if (takes_json_rows(st, db->dialect)) {
        if (nrows == 0) {
            if (out) {
                memset(out, 0, sizeof(*out));
            }
            return APR_SUCCESS;
        }
        return write_json_rows(db, pool, st, nrows, rows, ntail, tail, out);
    }
    if (ntail > 0) {
        memcpy(args + nvalues, tail, (apr_size_t)ntail * sizeof(*args));
    }
    for (done = 0; done < nrows; done += n) {
        n = nrows - done < MI_DB_CHUNK ? nrows - done : MI_DB_CHUNK;
        for (i = 0; i < n; i++) {
            memcpy(args + (apr_size_t)i * width, rows[done + i],
                   width * sizeof(*args));
        }
        memset(args + (apr_size_t)n * width, 0,
               (nvalues - (apr_size_t)n * width) * sizeof(*args));
        if (mi_db_select(db, pool, st, &got, (int)nvalues + ntail, args)
                != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        ncols = got.ncols;
        for (i = 0; i < got.nrows; i++) {
            APR_ARRAY_PUSH(all, const char **) = got.rows[i];
        }
    }
    if (out) {
        out->ncols = ncols;
        out->nrows = all->nelts;
        out->rows = (const char ***)all->elts;
    }
    return APR_SUCCESS;
}

apr_status_t mi_db_run(mi_db_t *db, const char *sql)
{
    int n, rc = apr_dbd_query(db->driver, db->handle, &n, sql);

    if (rc != 0) {
        note_error(db, db->pool, rc);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

void mi_db_forget_statements(mi_db_t *db)
{
    /* PostgreSQL re-plans its named statements after a schema change by
     * itself, and would refuse to prepare one of the same name again. */
    if (db->dialect == MI_DIALECT_SQLITE3) {
        apr_hash_clear(db->cache);
    }
}

static apr_status_t txn_cleanup(void *data)
{
    mi_db_rollback(data);
    return APR_SUCCESS;
}

/* A wait shorter than this leaves the bounds as they are (no round trip). */
#define SHORTEN_AFTER apr_time_from_msec(100)

apr_status_t mi_db_shorten(mi_db_t *db, apr_pool_t *pool)
{
    apr_interval_time_t left = db->deadline - apr_time_now();
    int n, rc;

    if (db->dialect != MI_DIALECT_PGSQL || !db->in_txn || db->bound <= 0
        || left > db->bound - SHORTEN_AFTER) {
        return APR_SUCCESS;
    }
    /* Nothing left: the next statement times out at once, as a wait
     * past the bound would have. */
    if (left < apr_time_from_msec(1)) {
        left = apr_time_from_msec(1);
    }
    rc = apr_dbd_query(db->driver, db->handle, &n,
                       timeouts_sql(pool, "LOCAL", left));
    if (rc != 0) {
        note_error(db, pool, rc);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t mi_db_begin(mi_db_t *db, apr_pool_t *pool)
{
    /* IMMEDIATE: take SQLite's write lock now, so that two writers queue
     * on the busy timeout instead of deadlocking on lock upgrades. */
    const char *begin = db->dialect == MI_DIALECT_SQLITE3 ? "BEGIN IMMEDIATE"
                                                          : "BEGIN";
    int n, rc;

    if (db->unnamed && db->timeout > 0) {
        begin = apr_pstrcat(pool, begin, "; ",
                            timeouts_sql(pool, "LOCAL", db->timeout), NULL);
    }
    rc = apr_dbd_query(db->driver, db->handle, &n, begin);

    if (rc != 0 && may_retry(db, pool)) {
        rc = apr_dbd_query(db->driver, db->handle, &n, begin);
    }
    if (rc != 0) {
        note_error(db, pool, rc);
        return APR_EGENERAL;
    }
    db->in_txn = 1;
    db->failed = 0;
    db->used = 1;
    /* The connection returns to the pool as it is: never with an open
     * transaction, whatever path the request takes. */
    apr_pool_cleanup_register(pool, db, txn_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

apr_status_t mi_db_commit(mi_db_t *db)
{
    int n, rc;

    if (!db->in_txn) {
        return APR_EGENERAL;
    }
    if (db->failed) {
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    rc = apr_dbd_query(db->driver, db->handle, &n, "COMMIT");
    if (rc != 0) {
        note_error(db, db->pool, rc);
        mi_db_rollback(db);
        return APR_EGENERAL;
    }
    db->in_txn = 0;
    return APR_SUCCESS;
}

void mi_db_rollback(mi_db_t *db)
{
    int n;

    if (db->in_txn) {
        db->in_txn = 0;
        apr_dbd_query(db->driver, db->handle, &n, "ROLLBACK");
    }
}

const char *mi_db_int(apr_pool_t *pool, apr_int64_t v)
{
    return apr_psprintf(pool, "%" APR_INT64_T_FMT, v);
}
