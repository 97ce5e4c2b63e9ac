/* mi_migrate.c: applies and checks the embedded schema migrations. */
#include <stdlib.h>
#include <string.h>
#include "mi_migrate.h"
#include "mi_time.h"

static const char *const dialect_names[] = { "sqlite3", "pgsql" };

static const mi_stmt_t create_table = { "mi_migrations_create", {
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
    "KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
    "KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)" } };

static const mi_stmt_t current_version = { "mi_migrations_current", {
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
    NULL } };

static const mi_stmt_t table_exists = { "mi_migrations_exists", {
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
    "AND name = 'schema_migrations'",
    "SELECT COUNT(*) FROM information_schema.tables "
    "WHERE table_schema = current_schema() "
    "AND table_name = 'schema_migrations'" } };

/* SQLite: write-ahead logging is a property of the file, set once here, so
 * that readers never wait for the writer. */
static const mi_stmt_t journal_mode = { "mi_migrations_journal", {
    "PRAGMA journal_mode = WAL",
    "SELECT 1" } };

static const mi_stmt_t record_version = { "mi_migrations_record", {
    "INSERT INTO schema_migrations (version, name, applied_at) "
    "VALUES ({integer:%s}, %s, {bigint:%s})",
    NULL } };

int mi_migrate_latest(mi_dialect_e dialect)
{
    const mi_migration_t *m;
    int latest = 0;

    for (m = mi_migrations; m->dialect; m++) {
        if (!strcmp(m->dialect, dialect_names[dialect]) && m->version > latest) {
            latest = m->version;
        }
    }
    return latest;
}

apr_status_t mi_migrate_current(mi_db_t *db, apr_pool_t *pool, int *version)
{
    mi_rows_t rows;

    *version = 0;
    if (mi_db_select(db, pool, &table_exists, &rows, 0, NULL) != APR_SUCCESS
        || rows.nrows != 1) {
        return APR_EGENERAL;
    }
    if (atoi(rows.rows[0][0]) == 0) {
        return APR_SUCCESS;
    }
    if (mi_db_select(db, pool, &current_version, &rows, 0, NULL)
            != APR_SUCCESS || rows.nrows != 1) {
        return APR_EGENERAL;
    }
    *version = atoi(rows.rows[0][0]);
    return APR_SUCCESS;
}

/* Runs a migration file statement by statement: a statement ends with ";"
 * at the end of a line; lines starting with "--" are comments. */
static apr_status_t run_script(mi_db_t *db, apr_pool_t *pool, const char *sql)
{
    char *copy = apr_pstrdup(pool, sql), *line, *state = NULL;
    apr_array_header_t *stmt = apr_array_make(pool, 64, sizeof(char *));

    for (line = apr_strtok(copy, "\n", &state); line;
         line = apr_strtok(NULL, "\n", &state)) {
        apr_size_t len = strlen(line);
        const char *p = line;

        while (*p == ' ') {
            p++;
        }
        if (!strncmp(p, "--", 2) || *p == '\0') {
            continue;
        }
        APR_ARRAY_PUSH(stmt, char *) = line;
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\r')) {
            line[--len] = '\0';
        }
        if (len > 0 && line[len - 1] == ';') {
            line[len - 1] = '\0';
            if (mi_db_run(db, apr_array_pstrcat(pool, stmt, '\n'))
                    != APR_SUCCESS) {
                return APR_EGENERAL;
            }
            apr_array_clear(stmt);
        }
    }
    return stmt->nelts ? mi_db_run(db, apr_array_pstrcat(pool, stmt, '\n'))
                       : APR_SUCCESS;
}

apr_status_t mi_migrate_apply(mi_db_t *db, apr_pool_t *pool, int *applied)
{
    const mi_migration_t *m;
    mi_rows_t mode;
    int current;

    *applied = 0;
    mi_db_forget_statements(db);
    if (mi_db_select(db, pool, &journal_mode, &mode, 0, NULL) != APR_SUCCESS
        || mi_db_exec(db, pool, &create_table, NULL, 0, NULL) != APR_SUCCESS
        || mi_migrate_current(db, pool, &current) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    for (m = mi_migrations; m->dialect; m++) {
        const char *args[3];

        if (strcmp(m->dialect, dialect_names[db->dialect])
            || m->version <= current) {
            continue;
        }
        args[0] = apr_itoa(pool, m->version);
        args[1] = m->name;
        args[2] = mi_db_int(pool, mi_now_ms());
        if (mi_db_begin(db, pool) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        if (run_script(db, pool, m->sql) != APR_SUCCESS
            || mi_db_exec(db, pool, &record_version, NULL, 3, args)
                   != APR_SUCCESS) {
            mi_db_rollback(db);
            return APR_EGENERAL;
        }
        if (mi_db_commit(db) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        mi_db_forget_statements(db);
        (*applied)++;
    }
    return APR_SUCCESS;
}
