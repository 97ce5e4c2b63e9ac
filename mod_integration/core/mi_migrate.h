/* mi_migrate.h: the numbered schema migrations of sql/<dialect>/, embedded
 * at build time (build/embed-sql), applied by integration-admin and checked
 * by the module at start-up. */
#ifndef MI_MIGRATE_H
#define MI_MIGRATE_H

#include "mi_db.h"

typedef struct {
    const char *dialect;
    int version;
    const char *name;
    const char *sql;
} mi_migration_t;

extern const mi_migration_t mi_migrations[];

/* The newest version this build knows for the dialect. */
int mi_migrate_latest(mi_dialect_e dialect);

/* The version the database holds: 0 when it has no schema yet. */
apr_status_t mi_migrate_current(mi_db_t *db, apr_pool_t *pool, int *version);

/* Applies every missing migration, each in its own transaction. *applied
 * gets how many ran. */
apr_status_t mi_migrate_apply(mi_db_t *db, apr_pool_t *pool, int *applied);

#endif
