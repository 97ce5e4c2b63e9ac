/* mi_db_scan.h: the rows of a select read one at a time, straight from
 * the database's own library, without apr_dbd's copy of every value.
 *
 * For the hot reads (listings): on SQLite the statement stays prepared on
 * the connection and its integers are read as integers; on PostgreSQL a
 * named statement runs with libpq and its values are read where the
 * result holds them. Elsewhere (an unnamed PostgreSQL statement, inside a
 * transaction, a library function not found) the rows come from
 * mi_db_select. Either way the same rows in the same order. */
#ifndef MI_DB_SCAN_H
#define MI_DB_SCAN_H

#include "mi_db.h"

/* A row, valid only during the callback that is given it. */
typedef struct mi_db_row_s mi_db_row_t;

/* Column col's value as text (NULL for NULL) and, when len is given, its
 * length in bytes. */
const char *mi_db_row_text(const mi_db_row_t *row, int col, apr_size_t *len);

/* Column col's value as an integer (0 for NULL). */
apr_int64_t mi_db_row_int(const mi_db_row_t *row, int col);

/* Called for each row in order; a nonzero return stops the scan (the
 * rows not read are not an error). */
typedef int (*mi_db_row_fn)(void *ctx, const mi_db_row_t *row);

apr_status_t mi_db_scan(mi_db_t *db, apr_pool_t *pool, const mi_stmt_t *st,
                        int nargs, const char *const *args, mi_db_row_fn fn,
                        void *ctx);

/* Finalizes the connection's SQLite statements: before it is closed. */
void mi_db_scan_release(mi_db_t *db);

#endif
