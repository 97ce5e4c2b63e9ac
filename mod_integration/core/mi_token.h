/* mi_token.h: API tokens: eudr_live_ + 48 lowercase hex, stored only as
 * their SHA-256, with scopes, expiry and revocation (API.md section 2). */
#ifndef MI_TOKEN_H
#define MI_TOKEN_H

#include "mi_db.h"
#include "mi_resource.h"

#define MI_TOKEN_PREFIX      "eudr_live_"
#define MI_TOKEN_HEX_LEN     48
#define MI_TOKEN_DISPLAY_LEN 16

/* Every scope, NULL-terminated: the resources' (mi_resource_scopes), then
 * the others. Set by mi_scopes_init (mi_resources_init calls it). */
extern const char *const *mi_scopes;

void mi_scopes_init(apr_pool_t *pool, const mi_resource_t *const *resources);

/* 1 when s is MI_TOKEN_PREFIX followed by exactly 48 lowercase hex. */
int mi_token_well_formed(const char *s);

/* Normalises "all" or a comma-separated list of known scopes into a
 * comma-separated list; NULL and *bad set to the unknown scope otherwise. */
const char *mi_scopes_parse(apr_pool_t *pool, const char *list,
                            const char **bad);

/* 1 when the comma-separated scopes contain scope; never for "". */
int mi_scopes_contain(const char *scopes, const char *scope);

/* What the auth gate needs to know of a presented token. */
typedef struct {
    const char *id;
    const char *scopes;
    apr_int64_t expires_at;         /* -1: never */
    int revoked;
    apr_int64_t last_used_at;       /* -1: never */
    const char *integration_id;
    const char *integration_status;
    const char *organization_id;
} mi_token_info_t;

/* Looks the raw token up by its hash. */
mi_result_e mi_token_lookup(mi_db_t *db, apr_pool_t *pool, const char *raw,
                            mi_token_info_t *info);

/* Records use, at most once per MI_TOKEN_TOUCH_MS, so that reads do not
 * turn into writes. */
#define MI_TOKEN_TOUCH_MS 60000
mi_result_e mi_token_touch(mi_db_t *db, apr_pool_t *pool,
                           const mi_token_info_t *info, apr_int64_t now);

/* Creates a token; *raw is shown once and never stored. */
mi_result_e mi_token_create(mi_db_t *db, apr_pool_t *pool,
                            const char *integration_id, const char *name,
                            const char *scopes, apr_int64_t expires_at,
                            const char **raw);

/* Token rows of an integration: id, name, prefix, scopes, expires_at,
 * revoked, created_at, last_used_at. */
mi_result_e mi_token_list(mi_db_t *db, apr_pool_t *pool,
                          const char *integration_id, mi_rows_t *rows);

/* Revokes by id or by raw token. */
mi_result_e mi_token_revoke(mi_db_t *db, apr_pool_t *pool,
                            const char *id_or_raw);

#endif
