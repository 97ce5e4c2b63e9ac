/* mod_integration_startup.c: what post_config checks before any child
 * exists: the database driver, SQLite's threading mode, the schema. */
#include "mod_integration.h"
#include <dlfcn.h>
#include "mod_integration_dbd.h"
#include "mod_integration_startup.h"
#include "mi_migrate.h"

/* 1 at a cold start, 0 at a restart (graceful or not) of a running
 * httpd: the parent process keeps the retained data across them. */
static int cold_start(void)
{
    return ap_retained_data_get("mod_integration:started") == NULL
           && ap_retained_data_create("mod_integration:started", 1) != NULL;
}

/* Checks the database before children exist. Only a bad DBDriver stops
 * httpd. A database that cannot be reached never does (children answer
 * 503 until it answers); a missing SQLite file or an old schema refuses a
 * cold start, naming the fix, but only logs at a restart: a running httpd
 * (and whatever else it serves) is never taken down by its database. */
static int check_schema(server_rec *s, apr_pool_t *ptemp, int cold)
{
    const dbd_cfg_t *cfg = mi_dbd_config(s);
    int refuse = cold ? APLOG_CRIT : APLOG_ERR;
    apr_finfo_t finfo;
    const char *err = NULL;
    mi_db_t *db;
    int dialect, have = 0, need;

    if (!cfg || !cfg->name || mi_db_dialect_of(cfg->name) < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00001)
                     "mod_integration needs DBDriver sqlite3 or pgsql "
                     "(DBDriver is \"%s\")", cfg && cfg->name ? cfg->name
                                                             : "unset");
        return !OK;
    }
    dialect = mi_db_dialect_of(cfg->name);
    /* sqlite3_open would create a missing file, owned by whoever starts
     * httpd and empty. */
    if (dialect == MI_DIALECT_SQLITE3
        && apr_stat(&finfo, cfg->params, APR_FINFO_TYPE, ptemp)
               != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, refuse, 0, s, MI_LOGNO(00002)
                     "mod_integration: SQLite database %s does not exist; "
                     "create it with: integration-admin --driver sqlite3 "
                     "--params %s migrate%s", cfg->params, cfg->params,
                     cold ? "" : " (requests are answered 503 meanwhile)");
        return cold ? !OK : OK;
    }
    if (mi_db_open(ptemp, cfg->name, cfg->params, &db, &err) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, MI_LOGNO(00003)
                     "mod_integration: cannot reach the %s database to check "
                     "its schema (%s); starting anyway, requests are "
                     "answered 503 until it answers", cfg->name,
                     err ? err : "unknown error");
        return OK;
    }
    need = mi_migrate_latest((mi_dialect_e)dialect);
    if (mi_migrate_current(db, ptemp, &have) != APR_SUCCESS || have < need) {
        ap_log_error(APLOG_MARK, refuse, 0, s, MI_LOGNO(00004)
                     "mod_integration: the %s database has schema version %d, "
                     "this module needs %d; run: integration-admin --driver "
                     "%s --params '...' migrate%s", cfg->name, have, need,
                     cfg->name, cold ? "" : " (requests are answered 503 "
                     "meanwhile)");
        mi_db_close(db);
        return cold ? !OK : OK;
    }
    mi_db_close(db);
    return OK;
}

/* SQLite is built "serialized" on Debian: every sqlite3_* call of the
 * apr_dbd driver (three per column read) takes the connection's mutex. Here
 * no connection is ever used by two threads at once (mod_dbd hands each to
 * one request, and the driver holds its own lock around every call), so
 * multi-thread mode is safe and drops those locks, a quarter of a listing's
 * CPU time. It can only be set before SQLite is first used, which in httpd
 * is this module's own schema check; the symbol is looked up at run time
 * because the module does not link SQLite itself. */
static void sqlite_multithread(server_rec *s)
{
    typedef int (*config_fn)(int, ...);
    config_fn config = (config_fn)(apr_uintptr_t)dlsym(RTLD_DEFAULT,
                                                       "sqlite3_config");
    const int multithread = 2;  /* SQLITE_CONFIG_MULTITHREAD */

    if (config && config(multithread) != 0) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, MI_LOGNO(00008)
                     "SQLite was already initialised; keeping its mode");
    }
}


int mi_startup_check(server_rec *s, apr_pool_t *ptemp)
{
    sqlite_multithread(s);
    return check_schema(s, ptemp, cold_start());
}
