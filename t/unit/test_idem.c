/* test_idem.c: unit tests of mi_idem, the Idempotency-Key claims (API.md
 * section 4): the key's syntax, then one table of steps on an in-memory
 * SQLite database with the schema, each step a call and its outcome: a
 * claim is new, replays, is refused for another request (mismatch) or
 * while the first is running (in use), is taken over once stale; release
 * and complete; keys per organization; expiry after 24 hours. */
#include "unit.h"
#include "mi_idem.h"
#include "mi_time.h"
#include "mi_tenant.h"

static void test_key_valid(apr_pool_t *p)
{
    static const struct {
        const char *name, *key;
        int want;
    } cases[] = {
        { "one character", "k", 1 },
        { "a UUID", "550e8400-e29b-41d4-a716-446655440000", 1 },
        { "a space", " ", 1 },
        { "a tilde", "~", 1 },
        { "printable ASCII", "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", 1 },
        { "empty", "", 0 },
        { "a tab", "a\tb", 0 },
        { "a newline", "a\nb", 0 },
        { "a control character", "\x1f", 0 },
        { "DEL", "\x7f", 0 },
        { "UTF-8", "caf\xc3\xa9", 0 },
    };
    char *k255 = apr_palloc(p, 257);
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        ok(mi_idem_key_valid(cases[i].key) == cases[i].want,
           apr_psprintf(p, "key %s: %s", cases[i].name,
                        cases[i].want ? "valid" : "invalid"));
    }
    memset(k255, 'k', 256);
    k255[255] = '\0';
    ok(mi_idem_key_valid(k255), "key of 255 characters: valid");
    k255[255] = 'k';
    k255[256] = '\0';
    ok(!mi_idem_key_valid(k255), "key of 256 characters: invalid");
}

typedef enum {
    CLAIM,          /* mi_idem_claim: want rc MI_OK and state */
    COMPLETE,       /* mi_idem_complete with status and body */
    RELEASE,        /* mi_idem_release */
    AGE,            /* the claim began ms earlier (a request still running) */
    EXPIRE,         /* its 24 hours are over */
    ROWS            /* want ms rows of the key in the organization */
} op_e;

typedef struct {
    op_e op;
    int org;                /* 0 or 1 */
    const char *key, *hash;
    mi_idem_e state;        /* CLAIM */
    int status;             /* CLAIM (REPLAY), COMPLETE */
    const char *body;       /* CLAIM (REPLAY), COMPLETE */
    apr_int64_t ms;         /* AGE, ROWS */
    const char *name;
} step_t;

/* A response, its bytes kept exactly: spacing, a newline, UTF-8. */
#define BODY "{\"success\":true, \"created\":1,\n \"name\":\"S\xc3\xa3o\"}"

static const step_t steps[] = {
    { CLAIM, 0, "k1", "h1", MI_IDEM_NEW, 0, NULL, 0, "a new key is claimed" },
    { ROWS, 0, "k1", NULL, 0, 0, NULL, 1, "the claim is a row" },
    { CLAIM, 0, "k1", "h1", MI_IDEM_IN_USE, 0, NULL, 0,
      "the same request while the first runs: in use" },
    { CLAIM, 0, "k1", "h2", MI_IDEM_MISMATCH, 0, NULL, 0,
      "another request with the key: mismatch" },
    { CLAIM, 1, "k1", "h2", MI_IDEM_NEW, 0, NULL, 0,
      "the key in another organization is its own" },
    { AGE, 0, "k1", NULL, 0, 0, NULL, MI_IDEM_STALE_MS - 60000, NULL },
    { CLAIM, 0, "k1", "h1", MI_IDEM_IN_USE, 0, NULL, 0,
      "a claim younger than 5 minutes is not taken over" },
    { AGE, 0, "k1", NULL, 0, 0, NULL, 120000, NULL },
    { CLAIM, 0, "k1", "h2", MI_IDEM_MISMATCH, 0, NULL, 0,
      "a stale claim is not taken over by another request" },
    { CLAIM, 0, "k1", "h1", MI_IDEM_NEW, 0, NULL, 0,
      "a stale claim is taken over by the same request" },
    { CLAIM, 0, "k1", "h1", MI_IDEM_IN_USE, 0, NULL, 0,
      "once taken over, it is in use again" },
    { COMPLETE, 0, "k1", NULL, 0, 201, BODY, 0, NULL },
    { CLAIM, 0, "k1", "h1", MI_IDEM_REPLAY, 201, BODY, 0,
      "after complete: replay of status and body, byte for byte" },
    { CLAIM, 0, "k1", "h1", MI_IDEM_REPLAY, 201, BODY, 0,
      "and again" },
    { CLAIM, 0, "k1", "h2", MI_IDEM_MISMATCH, 0, NULL, 0,
      "after complete, another request is still a mismatch" },
    { RELEASE, 0, "k1", NULL, 0, 0, NULL, 0, NULL },
    { CLAIM, 0, "k1", "h1", MI_IDEM_REPLAY, 201, BODY, 0,
      "release leaves a completed key alone" },
    { AGE, 0, "k1", NULL, 0, 0, NULL, MI_IDEM_STALE_MS * 2, NULL },
    { CLAIM, 0, "k1", "h1", MI_IDEM_REPLAY, 201, BODY, 0,
      "a completed key is never taken over" },
    { CLAIM, 0, "k2", "h1", MI_IDEM_NEW, 0, NULL, 0, "a second key" },
    { RELEASE, 0, "k2", NULL, 0, 0, NULL, 0, NULL },
    { ROWS, 0, "k2", NULL, 0, 0, NULL, 0, "release drops a running claim" },
    { CLAIM, 0, "k2", "h3", MI_IDEM_NEW, 0, NULL, 0,
      "after release, a retry (of any body) runs" },
    { COMPLETE, 0, "k2", NULL, 0, 400, "{\"error\":\"VALIDATION_ERROR\"}", 0,
      NULL },
    { CLAIM, 0, "k2", "h3", MI_IDEM_REPLAY, 400,
      "{\"error\":\"VALIDATION_ERROR\"}", 0, "an error response replays" },
    { EXPIRE, 1, "k1", NULL, 0, 0, NULL, 0, NULL },
    { EXPIRE, 0, "k1", NULL, 0, 0, NULL, 0, NULL },
    { CLAIM, 0, "k1", "h2", MI_IDEM_NEW, 0, NULL, 0,
      "after 24 hours the key is free, for any request" },
    { ROWS, 1, "k1", NULL, 0, 0, NULL, 1,
      "another organization's expired key stays until it claims" },
    { CLAIM, 1, "k1", "h9", MI_IDEM_NEW, 0, NULL, 0,
      "then it is purged too" },
};

static const mi_stmt_t age_stmt = { "test_idem_age", {
    "UPDATE idempotency_keys SET created_at = created_at - {bigint:%s} "
    "WHERE organization_id = %s AND idem_key = %s", NULL } };
static const mi_stmt_t expire_stmt = { "test_idem_expire", {
    "UPDATE idempotency_keys SET expires_at = {bigint:%s} "
    "WHERE organization_id = %s AND idem_key = %s", NULL } };
static const mi_stmt_t rows_stmt = { "test_idem_rows", {
    "SELECT created_at, expires_at FROM idempotency_keys "
    "WHERE organization_id = %s AND idem_key = %s", NULL } };

static const char *const state_names[] = { "NEW", "REPLAY", "MISMATCH",
                                           "IN_USE" };

static void run_step(mi_db_t *db, apr_pool_t *p, const char *const *orgs,
                     const step_t *s, int n)
{
    mi_idem_t idem = { orgs[s->org], s->key, s->hash };
    const char *args[3];
    const char *label = s->name ? s->name
                                : apr_psprintf(p, "step %d runs", n);
    mi_rows_t rows;

    switch (s->op) {
    case CLAIM: {
        mi_idem_e state = (mi_idem_e)-1;
        int status = -1;
        const char *body = NULL;
        mi_result_e rc = mi_idem_claim(db, p, &idem, &state, &status, &body);

        ok(rc == MI_OK && state == s->state, label);
        if (rc != MI_OK || state != s->state) {
            printf("#   rc %d, state %s, expected %s\n", rc,
                   (unsigned)state < 4 ? state_names[state] : "?",
                   state_names[s->state]);
        }
        if (s->state == MI_IDEM_REPLAY) {
            ok(status == s->status, apr_psprintf(p, "%s: status %d", label,
                                                 s->status));
            is_str(body, s->body, apr_psprintf(p, "%s: body", label));
        }
        break;
    }
    case COMPLETE:
        ok(mi_idem_complete(db, p, &idem, s->status, s->body) == MI_OK,
           label);
        break;
    case RELEASE:
        mi_idem_release(db, p, &idem);
        break;
    case AGE:
    case EXPIRE:
        args[0] = mi_db_int(p, s->op == AGE ? s->ms : mi_now_ms() - 1);
        args[1] = idem.organization_id;
        args[2] = idem.key;
        ok(mi_db_exec(db, p, s->op == AGE ? &age_stmt : &expire_stmt, NULL,
                      3, args) == APR_SUCCESS, label);
        break;
    case ROWS:
        args[0] = idem.organization_id;
        args[1] = idem.key;
        ok(mi_db_select(db, p, &rows_stmt, &rows, 2, args) == APR_SUCCESS
           && rows.nrows == s->ms, label);
        break;
    }
}

static void test_claims(apr_pool_t *p)
{
    mi_db_t *db = unit_db(p);
    const char *orgs[2] = { NULL, NULL };
    size_t i;

    if (!db) {
        ok(0, "a migrated in-memory SQLite");
        return;
    }
    mi_org_create(db, p, "Org", &orgs[0]);
    mi_org_create(db, p, "Other", &orgs[1]);
    for (i = 0; i < MI_ARRAY_SIZE(steps); i++) {
        run_step(db, p, orgs, &steps[i], (int)i + 1);
    }
    {
        /* A claim holds its key for 24 hours from the claim. */
        mi_idem_t idem = { orgs[0], "k-ttl", "h" };
        const char *args[2] = { orgs[0], "k-ttl" };
        mi_idem_e state;
        int status;
        const char *body;
        apr_int64_t before = mi_now_ms(), created;
        mi_rows_t rows;

        ok(mi_idem_claim(db, p, &idem, &state, &status, &body) == MI_OK
           && state == MI_IDEM_NEW
           && mi_db_select(db, p, &rows_stmt, &rows, 2, args) == APR_SUCCESS
           && rows.nrows == 1, "a claim for the 24 hours");
        created = rows.nrows == 1 ? apr_atoi64(rows.rows[0][0]) : 0;
        ok(created >= before && created <= mi_now_ms()
           && apr_atoi64(rows.rows[0][1]) - created == MI_IDEM_TTL_MS
           && MI_IDEM_TTL_MS == 24 * 3600 * 1000LL,
           "it expires 24 hours after it was made");
    }
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_key_valid(p);
    test_claims(p);
    return unit_done(p);
}
