/* mi_idem.c: Idempotency-Key claims and stored responses. */
#include <stdlib.h>
#include <string.h>
#include "mi_idem.h"
#include "mi_time.h"

static const mi_stmt_t purge = { "mi_idem_purge", {
    "DELETE FROM idempotency_keys WHERE organization_id = %s "
    "AND expires_at < {bigint:%s}",
    NULL } };

static const mi_stmt_t claim = { "mi_idem_claim", {
    "INSERT INTO idempotency_keys (organization_id, idem_key, request_hash, "
    "state, created_at, expires_at) VALUES (%s, %s, %s, 'RUNNING', "
    "{bigint:%s}, {bigint:%s}) "
    "ON CONFLICT (organization_id, idem_key) DO NOTHING RETURNING idem_key",
    NULL } };

static const mi_stmt_t takeover = { "mi_idem_takeover", {
    "UPDATE idempotency_keys SET created_at = {bigint:%s} "
    "WHERE organization_id = %s AND idem_key = %s AND request_hash = %s "
    "AND state = 'RUNNING' AND created_at < {bigint:%s} "
    "RETURNING idem_key",
    NULL } };

static const mi_stmt_t lookup = { "mi_idem_lookup", {
    "SELECT request_hash, state, response_status, response_body "
    "FROM idempotency_keys WHERE organization_id = %s AND idem_key = %s",
    NULL } };

static const mi_stmt_t complete = { "mi_idem_complete", {
    "UPDATE idempotency_keys SET state = 'DONE', "
    "response_status = {integer:%s}, response_body = %s "
    "WHERE organization_id = %s AND idem_key = %s",
    NULL } };

static const mi_stmt_t release = { "mi_idem_release", {
    "DELETE FROM idempotency_keys WHERE organization_id = %s "
    "AND idem_key = %s AND state = 'RUNNING'",
    NULL } };

int mi_idem_key_valid(const char *key)
{
    apr_size_t n = strlen(key), i;

    if (n < 1 || n > 255) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (key[i] < 0x20 || key[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

/* The key's row when the claim did not insert one: replay, mismatch, or
 * a claim still running (taken over when it is stale). */
static mi_result_e claimed_before(mi_db_t *db, apr_pool_t *pool,
                                  const mi_idem_t *idem, apr_int64_t now,
                                  mi_idem_e *state, int *status,
                                  const char **body)
{
    const char *args[5] = { idem->organization_id, idem->key };
    mi_rows_t rows;

    if (mi_db_select(db, pool, &lookup, &rows, 2, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (rows.nrows != 1) {
        /* Purged or released between the two statements. */
        return MI_ERR_DB;
    }
    if (strcmp(rows.rows[0][0], idem->request_hash)) {
        *state = MI_IDEM_MISMATCH;
        return MI_OK;
    }
    if (!strcmp(rows.rows[0][1], "DONE")) {
        *status = atoi(rows.rows[0][2]);
        *body = rows.rows[0][3];
        *state = MI_IDEM_REPLAY;
        return MI_OK;
    }
    args[0] = mi_db_int(pool, now);
    args[1] = idem->organization_id;
    args[2] = idem->key;
    args[3] = idem->request_hash;
    args[4] = mi_db_int(pool, now - MI_IDEM_STALE_MS);
    if (mi_db_select(db, pool, &takeover, &rows, 5, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    *state = rows.nrows == 1 ? MI_IDEM_NEW : MI_IDEM_IN_USE;
    return MI_OK;
}

mi_result_e mi_idem_claim(mi_db_t *db, apr_pool_t *pool, const mi_idem_t *idem,
                          mi_idem_e *state, int *status, const char **body)
{
    apr_int64_t now = mi_now_ms();
    const char *args[5];
    mi_rows_t rows;

    args[0] = idem->organization_id;
    args[1] = mi_db_int(pool, now);
    if (mi_db_exec(db, pool, &purge, NULL, 2, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    args[1] = idem->key;
    args[2] = idem->request_hash;
    args[3] = mi_db_int(pool, now);
    args[4] = mi_db_int(pool, now + MI_IDEM_TTL_MS);
    if (mi_db_select(db, pool, &claim, &rows, 5, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (rows.nrows == 1) {
        *state = MI_IDEM_NEW;
        return MI_OK;
    }
    return claimed_before(db, pool, idem, now, state, status, body);
}

mi_result_e mi_idem_complete(mi_db_t *db, apr_pool_t *pool,
                             const mi_idem_t *idem, int status,
                             const char *body)
{
    const char *args[4];

    args[0] = apr_itoa(pool, status);
    args[1] = body;
    args[2] = idem->organization_id;
    args[3] = idem->key;
    return mi_db_result(db, mi_db_exec(db, pool, &complete, NULL, 4, args));
}

void mi_idem_release(mi_db_t *db, apr_pool_t *pool, const mi_idem_t *idem)
{
    const char *args[2] = { idem->organization_id, idem->key };

    mi_db_exec(db, pool, &release, NULL, 2, args);
}
