/* mi_token.c: API tokens, stored only as SHA-256 hashes. */
#include <string.h>
#include "mi_token.h"
#include "mi_crypto.h"
#include "mi_text.h"
#include "mi_time.h"

/* The scopes of no resource: those of the routes the glue's route table
 * names by hand. */
static const char *const other_scopes[] = {
    "integration:dds:read", "integration:webhooks:manage",
    "integration:sync:read", NULL
};

const char *const *mi_scopes;

void mi_scopes_init(apr_pool_t *pool, const mi_resource_t *const *resources)
{
    mi_scopes = mi_resource_scopes(pool, resources, other_scopes);
}

static const mi_stmt_t lookup_stmt = { "mi_token_lookup", {
    "SELECT t.id, t.token_hash, t.scopes, t.expires_at, t.revoked, "
    "t.last_used_at, i.id, i.status, i.organization_id FROM tokens t "
    "JOIN integrations i ON i.id = t.integration_id WHERE t.token_hash = %s",
    NULL } };

static const mi_stmt_t touch_stmt = { "mi_token_touch", {
    "UPDATE tokens SET last_used_at = {bigint:%s} WHERE id = %s",
    NULL } };

static const mi_stmt_t insert_stmt = { "mi_token_insert", {
    "INSERT INTO tokens (id, integration_id, name, token_hash, prefix, "
    "scopes, expires_at, revoked, created_at) VALUES (%s, %s, %s, %s, %s, "
    "%s, {bigint:%s}, 0, {bigint:%s})",
    NULL } };

static const mi_stmt_t list_stmt = { "mi_token_list", {
    "SELECT id, name, prefix, scopes, expires_at, revoked, created_at, "
    "last_used_at FROM tokens WHERE integration_id = %s ORDER BY created_at, id",
    NULL } };

static const mi_stmt_t revoke_stmt = { "mi_token_revoke", {
    "UPDATE tokens SET revoked = 1 WHERE id = %s OR token_hash = %s",
    NULL } };

static const mi_stmt_t integration_exists = { "mi_token_integration", {
    "SELECT id FROM integrations WHERE id = %s",
    NULL } };

int mi_token_well_formed(const char *s)
{
    apr_size_t plen = strlen(MI_TOKEN_PREFIX), i;

    if (strncmp(s, MI_TOKEN_PREFIX, plen)
        || strlen(s) != plen + MI_TOKEN_HEX_LEN) {
        return 0;
    }
    for (i = plen; s[i]; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

const char *mi_scopes_parse(apr_pool_t *pool, const char *list,
                            const char **bad)
{
    apr_array_header_t *out = apr_array_make(pool, 9, sizeof(char *));
    char *copy = apr_pstrdup(pool, list), *tok, *state = NULL;
    int i;

    *bad = NULL;
    if (!strcmp(list, "all")) {
        for (i = 0; mi_scopes[i]; i++) {
            APR_ARRAY_PUSH(out, const char *) = mi_scopes[i];
        }
        return apr_array_pstrcat(pool, out, ',');
    }
    for (tok = apr_strtok(copy, ", ", &state); tok;
         tok = apr_strtok(NULL, ", ", &state)) {
        if (!mi_text_in(tok, mi_scopes)) {
            *bad = tok;
            return NULL;
        }
        APR_ARRAY_PUSH(out, const char *) = tok;
    }
    if (out->nelts == 0) {
        *bad = "";
        return NULL;
    }
    return apr_array_pstrcat(pool, out, ',');
}

int mi_scopes_contain(const char *scopes, const char *scope)
{
    apr_size_t len = strlen(scope);
    const char *p = scopes;

    /* strstr finds "" everywhere without moving on: never contained. */
    if (len == 0) {
        return 0;
    }
    while ((p = strstr(p, scope)) != NULL) {
        if ((p == scopes || p[-1] == ',') && (p[len] == ',' || !p[len])) {
            return 1;
        }
        p += len;
    }
    return 0;
}

static apr_int64_t opt_int(const char *v)
{
    return v ? apr_atoi64(v) : -1;
}

mi_result_e mi_token_lookup(mi_db_t *db, apr_pool_t *pool, const char *raw,
                            mi_token_info_t *info)
{
    const char *hash = mi_sha256_hex(pool, raw, strlen(raw));
    const char **r;
    mi_rows_t rows;

    if (!hash) {
        return MI_ERR_INTERNAL;
    }
    if (mi_db_select(db, pool, &lookup_stmt, &rows, 1, &hash)
            != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    /* The index finds the row by hash; the final word is a comparison
     * whose time does not depend on the token. */
    if (rows.nrows != 1 || !mi_const_time_equal(rows.rows[0][1], hash)) {
        return MI_ERR_NOT_FOUND;
    }
    r = rows.rows[0];
    info->id = r[0];
    info->scopes = r[2];
    info->expires_at = opt_int(r[3]);
    info->revoked = r[4] && strcmp(r[4], "0") != 0;
    info->last_used_at = opt_int(r[5]);
    info->integration_id = r[6];
    info->integration_status = r[7];
    info->organization_id = r[8];
    return MI_OK;
}

mi_result_e mi_token_touch(mi_db_t *db, apr_pool_t *pool,
                           const mi_token_info_t *info, apr_int64_t now)
{
    const char *args[2];

    if (info->last_used_at >= 0
        && now - info->last_used_at < MI_TOKEN_TOUCH_MS) {
        return MI_OK;
    }
    args[0] = mi_db_int(pool, now);
    args[1] = info->id;
    return mi_db_result(db, mi_db_exec(db, pool, &touch_stmt, NULL, 2, args));
}

mi_result_e mi_token_create(mi_db_t *db, apr_pool_t *pool,
                            const char *integration_id, const char *name,
                            const char *scopes, apr_int64_t expires_at,
                            const char **raw)
{
    const char *args[8];
    mi_rows_t rows;
    const char *hex = mi_random_hex(pool, MI_TOKEN_HEX_LEN / 2);

    if (mi_db_select(db, pool, &integration_exists, &rows, 1,
                     &integration_id) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    if (rows.nrows == 0) {
        return MI_ERR_NOT_FOUND;
    }
    if (!hex || !(args[0] = mi_id_new(pool, "tok_"))) {
        return MI_ERR_INTERNAL;
    }
    *raw = apr_pstrcat(pool, MI_TOKEN_PREFIX, hex, NULL);
    args[1] = integration_id;
    args[2] = name;
    args[3] = mi_sha256_hex(pool, *raw, strlen(*raw));
    args[4] = apr_pstrndup(pool, *raw, MI_TOKEN_DISPLAY_LEN);
    args[5] = scopes;
    args[6] = expires_at >= 0 ? mi_db_int(pool, expires_at) : NULL;
    args[7] = mi_db_int(pool, mi_now_ms());
    return mi_db_result(db, mi_db_exec(db, pool, &insert_stmt, NULL, 8,
                                       args));
}

mi_result_e mi_token_list(mi_db_t *db, apr_pool_t *pool,
                          const char *integration_id, mi_rows_t *rows)
{
    return mi_db_result(db, mi_db_select(db, pool, &list_stmt, rows, 1,
                                         &integration_id));
}

mi_result_e mi_token_revoke(mi_db_t *db, apr_pool_t *pool,
                            const char *id_or_raw)
{
    const char *args[2];
    int n = 0;

    args[0] = id_or_raw;
    args[1] = mi_token_well_formed(id_or_raw)
                  ? mi_sha256_hex(pool, id_or_raw, strlen(id_or_raw))
                  : "-";
    if (mi_db_exec(db, pool, &revoke_stmt, &n, 2, args) != APR_SUCCESS) {
        return mi_db_failure(db);
    }
    return n > 0 ? MI_OK : MI_ERR_NOT_FOUND;
}
