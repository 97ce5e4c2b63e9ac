/* test_token.c: unit tests of mi_token (token format, scopes), and of
 * tokens in an in-memory SQLite database with the schema: stored only as
 * their hash and display prefix, looked up (unknown, revoked, expiry, the
 * integration's status and tenant), revoked, their use recorded. */
#include "unit.h"
#include "mi_crypto.h"
#include "mi_tenant.h"
#include "mi_time.h"
#include "mi_token.h"

static void test_tokens(apr_pool_t *p)
{
    const char *bad = NULL;
    const char *all = mi_scopes_parse(p, "all", &bad);

    ok(mi_token_well_formed("eudr_live_0123456789abcdef0123456789abcdef"
                            "0123456789abcdef"), "well-formed token");
    ok(!mi_token_well_formed("eudr_live_0123456789ABCDEF0123456789abcdef"
                             "0123456789abcdef"), "uppercase hex refused");
    ok(!mi_token_well_formed("eudr_live_abc"), "short token refused");
    ok(all && mi_scopes_contain(all, "integration:sync:read"), "all scopes");
    ok(!mi_scopes_parse(p, "integration:nope", &bad) && bad
       && !strcmp(bad, "integration:nope"), "unknown scope named");
    ok(mi_scopes_contain("integration:suppliers:read",
                         "integration:suppliers:read")
       && !mi_scopes_contain("integration:suppliers:read",
                             "integration:suppliers:write"),
       "scope membership is exact");
    /* ("", "") first: before the fix it said yes, where the second hung. */
    ok(!mi_scopes_contain("", "")
       && !mi_scopes_contain("integration:sync:read", "")
       && !mi_scopes_contain("integration:sync:read,", ""),
       "an empty scope is never contained (and does not loop)");
}

static const mi_stmt_t token_row = { "test_token_row", {
    "SELECT id, token_hash, prefix, scopes, expires_at, revoked, "
    "last_used_at, name, created_at FROM tokens WHERE token_hash = %s",
    NULL } };

/* Each case a token made (or not) and what its lookup says. The gate
 * (mod_integration_auth.c) turns revoked into TOKEN_REVOKED and an
 * expires_at at or before now into TOKEN_EXPIRED: lookup must hand both
 * over as stored. */
static void test_lookup(apr_pool_t *p)
{
    apr_int64_t now = mi_now_ms();
    const struct {
        const char *name;
        int make;                   /* 0: a well-formed unknown token */
        apr_int64_t expires_at;     /* -1: never */
        int revoke;                 /* 1: by id, 2: by the raw token */
        int integration;            /* 0 ACTIVE, 1 INACTIVE, 2 other org */
        mi_result_e rc;
        int revoked;
    } cases[] = {
        { "ok, never expires", 1, -1, 0, 0, MI_OK, 0 },
        { "ok, expires tomorrow", 1, now + 86400000, 0, 0, MI_OK, 0 },
        { "expired yesterday", 1, now - 86400000, 0, 0, MI_OK, 0 },
        { "expires this millisecond", 1, now, 0, 0, MI_OK, 0 },
        { "revoked by id", 1, -1, 1, 0, MI_OK, 1 },
        { "revoked by the raw token", 1, now + 86400000, 2, 0, MI_OK, 1 },
        { "revoked and expired", 1, now - 1, 1, 0, MI_OK, 1 },
        { "of an INACTIVE integration", 1, -1, 0, 1, MI_OK, 0 },
        { "of another organization", 1, -1, 0, 2, MI_OK, 0 },
        { "unknown", 0, -1, 0, 0, MI_ERR_NOT_FOUND, 0 },
    };
    mi_db_t *db = unit_db(p);
    const char *org[2], *integration[3], *raw, *hash;
    size_t i;

    if (!db) {
        ok(0, "a migrated in-memory SQLite");
        return;
    }
    mi_org_create(db, p, "Org", &org[0]);
    mi_org_create(db, p, "Other", &org[1]);
    mi_integration_create(db, p, org[0], "ERP", &integration[0]);
    mi_integration_create(db, p, org[0], "Old ERP", &integration[1]);
    mi_integration_create(db, p, org[1], "Their ERP", &integration[2]);
    mi_integration_set_status(db, p, integration[1], "INACTIVE");
    ok(mi_token_create(db, p, "int_nope", "x", "integration:sync:read", -1,
                       &raw) == MI_ERR_NOT_FOUND,
       "no token for an unknown integration");

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        const char *name = cases[i].name;
        mi_token_info_t info;
        mi_rows_t rows;
        mi_result_e rc;
        int j;

        memset(&info, 0, sizeof(info));
        raw = "eudr_live_0123456789abcdef0123456789abcdef0123456789abcdef";
        if (cases[i].make
            && mi_token_create(db, p, integration[cases[i].integration],
                               name, "integration:suppliers:read,"
                               "integration:sync:read",
                               cases[i].expires_at, &raw) != MI_OK) {
            ok(0, apr_psprintf(p, "%s: created", name));
            continue;
        }
        hash = mi_sha256_hex(p, raw, strlen(raw));
        if (cases[i].make) {
            ok(mi_token_well_formed(raw), apr_psprintf(p, "%s: the raw token "
                                                       "is well-formed",
                                                       name));
            ok(mi_db_select(db, p, &token_row, &rows, 1, &hash)
                   == APR_SUCCESS && rows.nrows == 1
               && !strncmp(rows.rows[0][2], raw, MI_TOKEN_DISPLAY_LEN)
               && strlen(rows.rows[0][2]) == MI_TOKEN_DISPLAY_LEN,
               apr_psprintf(p, "%s: stored as its SHA-256 and its first "
                            "16 characters", name));
            for (j = 0; j < rows.ncols && rows.nrows == 1; j++) {
                if (rows.rows[0][j] && strstr(rows.rows[0][j], raw + 16)) {
                    break;
                }
            }
            ok(rows.nrows == 1 && j == rows.ncols,
               apr_psprintf(p, "%s: the raw token is stored nowhere",
                            name));
        }
        if (cases[i].revoke) {
            const char *by = raw;

            if (cases[i].revoke == 1) {
                by = mi_db_select(db, p, &token_row, &rows, 1, &hash)
                         == APR_SUCCESS && rows.nrows == 1
                     ? rows.rows[0][0] : "?";
            }
            ok(mi_token_revoke(db, p, by) == MI_OK,
               apr_psprintf(p, "%s: revoke", name));
        }
        rc = mi_token_lookup(db, p, raw, &info);
        ok(rc == cases[i].rc, apr_psprintf(p, "%s: lookup %s", name,
                                           cases[i].rc == MI_OK
                                               ? "finds it" : "finds none"));
        if (rc != MI_OK) {
            continue;
        }
        ok(info.revoked == cases[i].revoked,
           apr_psprintf(p, "%s: revoked %d", name, cases[i].revoked));
        ok(info.expires_at == cases[i].expires_at,
           apr_psprintf(p, "%s: expires_at as stored", name));
        ok(info.last_used_at == -1, apr_psprintf(p, "%s: never used", name));
        is_str(info.scopes, "integration:suppliers:read,integration:sync:read",
               apr_psprintf(p, "%s: scopes", name));
        is_str(info.integration_id, integration[cases[i].integration],
               apr_psprintf(p, "%s: its integration", name));
        is_str(info.integration_status,
               cases[i].integration == 1 ? "INACTIVE" : "ACTIVE",
               apr_psprintf(p, "%s: the integration's status", name));
        is_str(info.organization_id, org[cases[i].integration == 2],
               apr_psprintf(p, "%s: the organization", name));
        ok(info.id && !strncmp(info.id, "tok_", 4),
           apr_psprintf(p, "%s: its id", name));
    }
    ok(mi_token_revoke(db, p, "tok_nope") == MI_ERR_NOT_FOUND,
       "revoking an unknown id");
    ok(mi_token_revoke(db, p, "eudr_live_0123456789abcdef0123456789abcdef"
                       "0123456789abcdef") == MI_ERR_NOT_FOUND,
       "revoking an unknown token");
    ok(mi_token_lookup(db, p, "eudr_live_0123456789ABCDEF0123456789abcdef"
                       "0123456789abcdef", &(mi_token_info_t){ 0 })
           == MI_ERR_NOT_FOUND, "lookup is case-sensitive");
    {
        /* Use is recorded at most once a minute. */
        const struct {
            apr_int64_t at;         /* ms after the first use */
            apr_int64_t want;       /* last_used_at after, the same base */
        } uses[] = {
            { 0, 0 }, { 1000, 0 }, { MI_TOKEN_TOUCH_MS - 1, 0 },
            { MI_TOKEN_TOUCH_MS, MI_TOKEN_TOUCH_MS },
            { MI_TOKEN_TOUCH_MS + 5, MI_TOKEN_TOUCH_MS },
            { 3 * MI_TOKEN_TOUCH_MS, 3 * MI_TOKEN_TOUCH_MS },
        };
        mi_token_info_t info;
        apr_int64_t base = now - 3600000;

        mi_token_create(db, p, integration[0], "touch",
                        "integration:sync:read", -1, &raw);
        for (i = 0; i < MI_ARRAY_SIZE(uses); i++) {
            ok(mi_token_lookup(db, p, raw, &info) == MI_OK
               && mi_token_touch(db, p, &info, base + uses[i].at) == MI_OK
               && mi_token_lookup(db, p, raw, &info) == MI_OK
               && info.last_used_at == base + uses[i].want,
               apr_psprintf(p, "used at +%d ms: last used at +%d ms",
                            (int)uses[i].at, (int)uses[i].want));
        }
    }
    {
        mi_rows_t rows;

        ok(mi_token_list(db, p, integration[0], &rows) == MI_OK
           && rows.nrows == 8 && rows.ncols == 8,
           "the integration's tokens are listed, and no other's");
    }
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_tokens(p);
    test_lookup(p);
    return unit_done(p);
}
