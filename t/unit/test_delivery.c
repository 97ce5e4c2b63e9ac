/* test_delivery.c: unit tests of mi_delivery (API.md section 9). The retry
 * and disable policy, against an in-memory SQLite database with the
 * schema: claims (due, of active webhooks, leased), then what a finished
 * attempt records (delivered; retried after the configured delays; failed
 * for good after the last; the webhook's consecutive failures, disabled at
 * the limit or at once on 410, its pending deliveries dropped). And
 * mi_delivery_send against a receiver on loopback, here: the request, its
 * headers and both signatures recomputed with OpenSSL (unit_sign.h), and
 * what each kind of answer (or none) comes to. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <apr_thread_proc.h>
#include <curl/curl.h>
#include "unit.h"
#include "unit_sign.h"
#include "mi_delivery.h"
#include "mi_sender.h"
#include "mi_tenant.h"
#include "mi_text.h"
#include "mi_time.h"
#include "mi_webhook.h"

#define SECRET "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define PAYLOAD "{\"event\":\"supplier.created\",\"timestamp\":" \
    "\"2024-01-15T10:30:00.000Z\",\"integrationId\":\"int_1\"," \
    "\"data\":{\"externalId\":\"S\xc3\xa3o-1\",\"internalId\":\"c1\"}}"
#define EVENT_TIME 1705314600000LL  /* 2024-01-15T10:30:00.000Z */

/* A URL that is not http or https, read as it is sent. */
#define NOT_HTTP "url must be an absolute http or https URL"

/* The tests' receivers are plain http on loopback, which deliveries may
 * reach only when both are allowed (IntegrationWebhookAllowHttp On,
 * IntegrationWebhookAllowNetworks 127.0.0.0/8). */
static void allow_loopback(apr_pool_t *p, mi_delivery_conf_t *conf)
{
    conf->allow_http = 1;
    conf->egress.allow = apr_array_make(p, 1, sizeof(mi_cidr_t));
    mi_cidr_parse("127.0.0.0/8", apr_array_push(conf->egress.allow));
}

/* ---- the database side ------------------------------------------------ */

typedef struct {
    mi_db_t *db;
    apr_pool_t *p;
    mi_caller_t caller;
    mi_delivery_conf_t conf;
} fixture_t;

static const mi_stmt_t insert_delivery = { "test_delivery_insert", {
    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, "
    "event_time, state, attempts, next_attempt_at, created_at, updated_at) "
    "VALUES (%s, %s, 'supplier.created', %s, {bigint:%s}, %s, "
    "{integer:%s}, {bigint:%s}, {bigint:%s}, {bigint:%s})", NULL } };
static const mi_stmt_t delivery_row = { "test_delivery_row", {
    "SELECT state, attempts, last_status, last_error, next_attempt_at, "
    "lease_until FROM webhook_deliveries WHERE id = %s", NULL } };
static const mi_stmt_t hook_row = { "test_delivery_hook", {
    "SELECT active, failure_count FROM webhooks WHERE id = %s", NULL } };
static const mi_stmt_t set_lease = { "test_delivery_lease", {
    "UPDATE webhook_deliveries SET lease_until = {bigint:%s} "
    "WHERE id = %s", NULL } };

static int fixture_open(fixture_t *f, apr_pool_t *p)
{
    const char *org, *integration;

    memset(f, 0, sizeof(*f));
    f->p = p;
    if (!(f->db = unit_db(p))) {
        return 0;
    }
    mi_org_create(f->db, p, "Org", &org);
    mi_integration_create(f->db, p, org, "ERP", &integration);
    f->caller.organization_id = org;
    f->caller.integration_id = integration;
    f->caller.token_id = "tok";
    /* The defaults of API.md section 9. */
    f->conf.timeout = apr_time_from_sec(10);
    f->conf.delays[0] = apr_time_from_sec(1);
    f->conf.delays[1] = apr_time_from_sec(5);
    f->conf.delays[2] = apr_time_from_sec(30);
    f->conf.ndelays = 3;
    f->conf.disable_after = 10;
    return 1;
}

static const char *new_hook(fixture_t *f)
{
    json_t *events = json_pack("[s]", "supplier.created"), *body = NULL;
    const char *id = NULL;

    if (mi_webhook_create(f->db, f->p, &f->caller, "https://example.com/h",
                          events, &body) == MI_OK) {
        id = json_string_value(json_object_get(body, "id"));
    }
    json_decref(events);
    return id;
}

/* A delivery of hook: state, attempts made, due at next (ms). */
static const char *new_delivery(fixture_t *f, const char *hook,
                                const char *state, int attempts,
                                apr_int64_t next)
{
    const char *id = mi_id_new(f->p, "d");
    const char *now = mi_db_int(f->p, mi_now_ms());
    const char *args[9] = { id, hook, PAYLOAD,
                            mi_db_int(f->p, EVENT_TIME), state,
                            apr_itoa(f->p, attempts),
                            mi_db_int(f->p, next), now, now };

    return mi_db_exec(f->db, f->p, &insert_delivery, NULL, 9, args)
               == APR_SUCCESS ? id : NULL;
}

static const char **row_of(fixture_t *f, const mi_stmt_t *st, const char *id)
{
    mi_rows_t rows;

    if (mi_db_select(f->db, f->p, st, &rows, 1, &id) != APR_SUCCESS
        || rows.nrows != 1) {
        return NULL;
    }
    return rows.rows[0];
}

/* "ACTIVE/3" or "INACTIVE/10": the webhook's state and failure count. */
static const char *hook_state(fixture_t *f, const char *hook)
{
    const char **r = row_of(f, &hook_row, hook);

    return r ? apr_psprintf(f->p, "%s/%s", strcmp(r[0], "0") ? "ACTIVE"
                                                             : "INACTIVE",
                            r[1])
             : "(no row)";
}

static int claim(fixture_t *f, int max, apr_array_header_t **claimed)
{
    return mi_delivery_claim(f->db, f->p, &f->conf, max, claimed)
               == APR_SUCCESS ? (*claimed)->nelts : -1;
}

/* One attempt and its outcome, for each number of attempts made. */
static void test_retries(apr_pool_t *p)
{
    static const struct {
        int attempts;               /* made before */
        int status, success;        /* the outcome */
        const char *error;
        const char *want_state;
        apr_int64_t want_delay;     /* ms after now; -1: not checked */
        const char *want_hook;
        const char *name;
    } cases[] = {
        { 0, 500, 0, "HTTP 500", "PENDING", 1000, "ACTIVE/1",
          "a first failure is retried after 1 s" },
        { 1, 503, 0, "HTTP 503", "PENDING", 5000, "ACTIVE/1",
          "a second after 5 s" },
        { 2, 0, 0, "Timeout was reached", "PENDING", 30000, "ACTIVE/1",
          "no response: a third after 30 s" },
        { 3, 500, 0, "HTTP 500", "FAILED", 0, "ACTIVE/1",
          "after the third retry, failed for good" },
        { 0, 200, 1, NULL, "DELIVERED", -1, "ACTIVE/0", "delivered" },
        { 3, 204, 1, NULL, "DELIVERED", -1, "ACTIVE/0",
          "delivered on the last retry" },
        { 0, 410, 0, "HTTP 410", "FAILED", 0, "INACTIVE/1",
          "410 Gone: failed, and the webhook disabled at once" },
        { 2, 410, 0, "HTTP 410", "FAILED", 0, "INACTIVE/1",
          "410 Gone with retries left: not retried" },
        { 0, 301, 0, "HTTP 301", "PENDING", 1000, "ACTIVE/1",
          "a redirect is a failure" },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        fixture_t f;
        const char *hook, *id, **r;
        apr_array_header_t *claimed;
        mi_send_result_t res = { cases[i].status, cases[i].success,
                                 cases[i].error, 5 };
        apr_int64_t before, after;
        const char *name = cases[i].name;

        if (!fixture_open(&f, p) || !(hook = new_hook(&f))
            || !(id = new_delivery(&f, hook, "PENDING", cases[i].attempts,
                                   mi_now_ms()))) {
            ok(0, apr_psprintf(p, "%s: set up", name));
            continue;
        }
        ok(claim(&f, 10, &claimed) == 1
           && !strcmp(APR_ARRAY_IDX(claimed, 0, mi_delivery_t).id, id)
           && APR_ARRAY_IDX(claimed, 0, mi_delivery_t).attempts
                  == cases[i].attempts,
           apr_psprintf(p, "%s: claimed, with its attempts", name));
        before = mi_now_ms();
        ok(mi_delivery_finish(f.db, p, &f.conf, claimed, 1, &res)
               == APR_SUCCESS, apr_psprintf(p, "%s: recorded", name));
        after = mi_now_ms();
        r = row_of(&f, &delivery_row, id);
        is_str(r ? r[0] : NULL, cases[i].want_state,
               apr_psprintf(p, "%s: %s", name, cases[i].want_state));
        ok(r && atoi(r[1]) == cases[i].attempts + 1,
           apr_psprintf(p, "%s: attempts %d", name, cases[i].attempts + 1));
        ok(r && (cases[i].status ? r[2] && atoi(r[2]) == cases[i].status
                                 : r[2] == NULL),
           apr_psprintf(p, "%s: last status %d", name, cases[i].status));
        is_str(r ? r[3] : NULL, cases[i].error,
               apr_psprintf(p, "%s: last error", name));
        if (cases[i].want_delay >= 0) {
            apr_int64_t next = r ? apr_atoi64(r[4]) : 0;

            ok(next >= before + cases[i].want_delay
               && next <= after + cases[i].want_delay,
               apr_psprintf(p, "%s: next attempt %d ms later", name,
                            (int)cases[i].want_delay));
        }
        ok(r && r[5] == NULL, apr_psprintf(p, "%s: lease ended", name));
        is_str(hook_state(&f, hook), cases[i].want_hook,
               apr_psprintf(p, "%s: webhook %s", name, cases[i].want_hook));
        mi_db_close(f.db);
    }
}

/* The delays and the number of retries are the configuration's. */
static void test_conf(apr_pool_t *p)
{
    static const struct {
        int ndelays;
        apr_interval_time_t delay0;
        const char *want_state;
        const char *name;
    } cases[] = {
        { 0, 0, "FAILED", "no retries: the first failure is final" },
        { 1, 50000, "PENDING", "a retry after 50 ms" },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        fixture_t f;
        const char *hook, *id, **r;
        apr_array_header_t *claimed;
        mi_send_result_t res = { 500, 0, "HTTP 500", 1 };
        apr_int64_t before;

        if (!fixture_open(&f, p) || !(hook = new_hook(&f))
            || !(id = new_delivery(&f, hook, "PENDING", 0, mi_now_ms()))) {
            ok(0, "set up");
            continue;
        }
        f.conf.ndelays = cases[i].ndelays;
        f.conf.delays[0] = cases[i].delay0;
        claim(&f, 10, &claimed);
        before = mi_now_ms();
        mi_delivery_finish(f.db, p, &f.conf, claimed, 1, &res);
        r = row_of(&f, &delivery_row, id);
        is_str(r ? r[0] : NULL, cases[i].want_state, cases[i].name);
        if (cases[i].ndelays) {
            ok(r && apr_atoi64(r[4]) >= before + 50
               && apr_atoi64(r[4]) <= mi_now_ms() + 50,
               "the next attempt 50 ms later");
        }
        mi_db_close(f.db);
    }
}

/* Consecutive failures of one webhook, each attempt a fresh delivery. */
static void test_disable(apr_pool_t *p)
{
    static const struct {
        int status, success;
        const char *want_hook;
    } steps[] = {
        { 500, 0, "ACTIVE/1" }, { 500, 0, "ACTIVE/2" },
        { 200, 1, "ACTIVE/0" },             /* a 2xx resets the count */
        { 0, 0, "ACTIVE/1" }, { 404, 0, "ACTIVE/2" },
        { 502, 0, "INACTIVE/3" },           /* the limit */
    };
    fixture_t f;
    const char *hook, *other, *waiting, *others, *failed[8], **r;
    apr_array_header_t *claimed;
    size_t i;
    int n = 0;

    if (!fixture_open(&f, p) || !(hook = new_hook(&f))
        || !(other = new_hook(&f))) {
        ok(0, "set up");
        return;
    }
    f.conf.disable_after = 3;
    /* Deliveries due later: the disabled webhook's are dropped, the other
     * webhook's stay. */
    waiting = new_delivery(&f, hook, "PENDING", 0, mi_now_ms() + 3600000);
    others = new_delivery(&f, other, "PENDING", 0, mi_now_ms() + 3600000);
    for (i = 0; i < MI_ARRAY_SIZE(steps); i++) {
        const char *id = new_delivery(&f, hook, "PENDING", 0, mi_now_ms());
        mi_send_result_t res = { steps[i].status, steps[i].success,
                                 steps[i].success ? NULL
                                     : apr_psprintf(p, "HTTP %d",
                                                    steps[i].status), 1 };

        if (!steps[i].status) {
            res.error = "Could not connect to server";
        }
        ok(claim(&f, 10, &claimed) == 1
           && mi_delivery_finish(f.db, p, &f.conf, claimed, 1, &res)
                  == APR_SUCCESS,
           apr_psprintf(p, "attempt %d (%d) recorded", (int)i + 1,
                        steps[i].status));
        is_str(hook_state(&f, hook), steps[i].want_hook,
               apr_psprintf(p, "after attempt %d: %s", (int)i + 1,
                            steps[i].want_hook));
        if (!steps[i].success) {
            failed[n++] = id;
        }
    }
    r = row_of(&f, &delivery_row, failed[n - 1]);
    ok(r && !strcmp(r[0], "FAILED") && !strcmp(r[3], "HTTP 502"),
       "the attempt that disabled it: FAILED with its own error");
    r = row_of(&f, &delivery_row, failed[0]);
    ok(r && !strcmp(r[0], "FAILED") && !strcmp(r[3], "webhook disabled"),
       "its deliveries waiting for a retry: FAILED, webhook disabled");
    r = row_of(&f, &delivery_row, waiting);
    ok(r && !strcmp(r[0], "FAILED") && !strcmp(r[3], "webhook disabled")
       && atoi(r[1]) == 0,
       "its queued deliveries: FAILED, webhook disabled, never attempted");
    r = row_of(&f, &delivery_row, others);
    ok(r && !strcmp(r[0], "PENDING"), "another webhook's stay PENDING");
    is_str(hook_state(&f, other), "ACTIVE/0",
           "the other webhook is untouched");
    new_delivery(&f, hook, "PENDING", 0, mi_now_ms());
    ok(claim(&f, 10, &claimed) == 0,
       "a disabled webhook's due delivery is not claimed");
    {
        json_t *body;

        ok(mi_webhook_update(f.db, p, &f.caller, hook, NULL, NULL, 1, &body)
               == MI_OK, "re-activated");
        is_str(hook_state(&f, hook), "ACTIVE/0",
               "re-activation resets the failure count");
        ok(claim(&f, 10, &claimed) == 1, "and its due delivery is claimed");
    }
    mi_db_close(f.db);

    /* The default limit, 10. */
    if (!fixture_open(&f, p) || !(hook = new_hook(&f))) {
        ok(0, "set up");
        return;
    }
    for (i = 1; i <= 10; i++) {
        mi_send_result_t res = { 500, 0, "HTTP 500", 1 };

        new_delivery(&f, hook, "PENDING", 0, mi_now_ms());
        claim(&f, 10, &claimed);
        mi_delivery_finish(f.db, p, &f.conf, claimed, 1, &res);
        if (i >= 9) {
            is_str(hook_state(&f, hook),
                   i == 9 ? "ACTIVE/9" : "INACTIVE/10",
                   i == 9 ? "9 consecutive failures: still active"
                          : "the 10th disables it");
        }
    }
    mi_db_close(f.db);
}

/* Which deliveries a claim takes, and its lease. */
static void test_claims(apr_pool_t *p)
{
    fixture_t f;
    const char *hook, *off, **r;
    apr_array_header_t *claimed, *again, *none;
    apr_int64_t before;
    json_t *body;
    int i;

    if (!fixture_open(&f, p) || !(hook = new_hook(&f))
        || !(off = new_hook(&f))) {
        ok(0, "set up");
        return;
    }
    mi_webhook_update(f.db, p, &f.caller, off, NULL, NULL, 0, &body);
    ok(claim(&f, 10, &claimed) == 0, "nothing due: nothing claimed");
    /* Five due; one due later, one delivered, one failed, one of a
     * disabled webhook. */
    for (i = 0; i < 5; i++) {
        new_delivery(&f, hook, "PENDING", 0, mi_now_ms() - 10 - i);
    }
    new_delivery(&f, hook, "PENDING", 0, mi_now_ms() + 60000);
    new_delivery(&f, hook, "DELIVERED", 1, mi_now_ms() - 100);
    new_delivery(&f, hook, "FAILED", 4, mi_now_ms() - 100);
    new_delivery(&f, off, "PENDING", 0, mi_now_ms() - 100);

    before = mi_now_ms();
    ok(claim(&f, 2, &claimed) == 2, "at most max claimed");
    r = row_of(&f, &delivery_row, APR_ARRAY_IDX(claimed, 0, mi_delivery_t).id);
    ok(r && r[5] && apr_atoi64(r[5]) >= before + 10000 + 5000
       && apr_atoi64(r[5]) <= mi_now_ms() + 10000 + 5000,
       "leased for one attempt: the timeout, and 5 s more");
    {
        const mi_delivery_t *d = &APR_ARRAY_IDX(claimed, 0, mi_delivery_t);

        ok(!strcmp(d->webhook_id, hook) && !strcmp(d->url,
                                                   "https://example.com/h")
           && !strncmp(d->secret, "whsec_", 6)
           && !strcmp(d->event, "supplier.created")
           && !strcmp(d->payload, PAYLOAD) && d->event_time == EVENT_TIME
           && d->attempts == 0, "a claimed delivery: what a sender needs");
    }
    ok(claim(&f, 10, &again) == 3, "a second claim takes only the rest");
    ok(claim(&f, 10, &none) == 0,
       "leased deliveries are not claimed twice; not due, delivered, "
       "failed, and a disabled webhook's, not at all");
    {
        /* Two sent (one delivered, one failed), three not sent. */
        mi_send_result_t res[2] = { { 200, 1, NULL, 1 },
                                    { 500, 0, "HTTP 500", 1 } };

        ok(mi_delivery_finish(f.db, p, &f.conf, again, 2, res)
               == APR_SUCCESS, "a claim partly sent recorded");
        for (i = 2; i < again->nelts; i++) {
            r = row_of(&f, &delivery_row,
                       APR_ARRAY_IDX(again, i, mi_delivery_t).id);
            ok(r && !strcmp(r[0], "PENDING") && atoi(r[1]) == 0
               && r[5] == NULL,
               apr_psprintf(p, "unsent %d: lease ended, no attempt counted",
                            i - 1));
        }
        /* The first claim's two delivered: their webhook is healthy
         * again (a failing one gets one attempt at a time). */
        mi_send_result_t two[2] = { { 200, 1, NULL, 1 }, { 200, 1, NULL, 1 } };

        mi_delivery_finish(f.db, p, &f.conf, claimed, 2, two);
        ok(claim(&f, 10, &claimed) == 1, "and claimed again");
        ok(claimed->nelts == 1
           && !strcmp(APR_ARRAY_IDX(claimed, 0, mi_delivery_t).id,
                      APR_ARRAY_IDX(again, 2, mi_delivery_t).id),
           "the unsent one");
    }
    /* A node that died holding a claim: its lease runs out. */
    {
        const char *args[2] = { mi_db_int(p, mi_now_ms() - 1), NULL };

        args[1] = APR_ARRAY_IDX(claimed, 0, mi_delivery_t).id;
        mi_db_exec(f.db, p, &set_lease, NULL, 2, args);
        ok(claim(&f, 10, &again) == 1
           && !strcmp(APR_ARRAY_IDX(again, 0, mi_delivery_t).id, args[1]),
           "a claim whose lease ran out is claimed again");
    }
    mi_db_close(f.db);
}

/* Claims in turns across webhooks, at most MI_DELIVERY_PER_WEBHOOK in
 * flight per webhook, whatever its backlog. */
static void test_turns(apr_pool_t *p)
{
    fixture_t f;
    const char *a, *b, *c, *first = NULL;
    apr_array_header_t *claimed;
    apr_hash_t *seen;
    int i, na = 0, nb = 0, nc = 0;

    if (!fixture_open(&f, p) || !(a = new_hook(&f)) || !(b = new_hook(&f))
        || !(c = new_hook(&f))) {
        ok(0, "set up");
        return;
    }
    /* a: a backlog of 30, older than anything of b's or c's. */
    for (i = 0; i < 30; i++) {
        new_delivery(&f, a, "PENDING", 0, mi_now_ms() - 100000 + i);
    }
    for (i = 0; i < 3; i++) {
        new_delivery(&f, b, "PENDING", 0, mi_now_ms() - 10 - i);
    }
    new_delivery(&f, c, "PENDING", 0, mi_now_ms() - 10);
    ok(claim(&f, 10, &claimed) == 10, "ten claimed");
    seen = apr_hash_make(p);
    for (i = 0; i < claimed->nelts; i++) {
        const char *w = APR_ARRAY_IDX(claimed, i, mi_delivery_t).webhook_id;

        if (i < 3) {
            apr_hash_set(seen, w, APR_HASH_KEY_STRING, w);
        }
        na += !strcmp(w, a);
        nb += !strcmp(w, b);
        nc += !strcmp(w, c);
    }
    ok(apr_hash_count(seen) == 3,
       "each webhook's first before any webhook's second");
    ok(na == 6 && nb == 3 && nc == 1,
       apr_psprintf(p, "the backlog takes only the turns left (%d/%d/%d)",
                    na, nb, nc));
    ok(claim(&f, 10, &claimed) == 2,
       "then only what keeps the backlog's webhook at 8 in flight");
    ok(claim(&f, 10, &claimed) == 0,
       "8 in flight: nothing more of it, 22 due or not");
    {
        /* A node died holding one of them: its lease ran out. */
        mi_rows_t rows;
        const char *args[2];

        mi_db_select(f.db, f.p, &(const mi_stmt_t){ "test_delivery_leased", {
            "SELECT id FROM webhook_deliveries WHERE lease_until IS NOT NULL "
            "AND webhook_id = %s LIMIT 1", NULL } }, &rows, 1, &a);
        first = rows.nrows ? rows.rows[0][0] : "";
        args[0] = mi_db_int(p, mi_now_ms() - 1);
        args[1] = first;
        mi_db_exec(f.db, p, &set_lease, NULL, 2, args);
    }
    ok(claim(&f, 10, &claimed) == 1
       && !strcmp(APR_ARRAY_IDX(claimed, 0, mi_delivery_t).id, first),
       "a lease that ran out frees its turn, and its delivery comes first");
    mi_db_close(f.db);
}

/* A webhook whose last attempt failed: one attempt at a time, and all
 * such webhooks together at most half of the concurrency. */
static void test_failing(apr_pool_t *p)
{
    fixture_t f;
    const char *hooks[4], *healthy;
    apr_array_header_t *claimed;
    mi_send_result_t fail = { 0, 0, "timeout", 1000 };
    int i, j, nhealthy = 0;

    if (!fixture_open(&f, p)) {
        ok(0, "set up");
        return;
    }
    f.conf.concurrency = 4;
    for (i = 0; i < 4; i++) {
        if (!(hooks[i] = new_hook(&f))) {
            ok(0, "set up");
            return;
        }
        for (j = 0; j < 5; j++) {
            new_delivery(&f, hooks[i], "PENDING", 0, mi_now_ms() - 100 - j);
        }
    }
    /* Each fails once: now failing. */
    ok(claim(&f, 4, &claimed) == 4, "four healthy webhooks: one each");
    {
        mi_send_result_t r[4] = { fail, fail, fail, fail };

        mi_delivery_finish(f.db, p, &f.conf, claimed, 4, r);
    }
    /* The failed ones are due again only after their retry delay. */
    if (!(healthy = new_hook(&f))) {
        ok(0, "set up");
        return;
    }
    for (j = 0; j < 5; j++) {
        new_delivery(&f, healthy, "PENDING", 0, mi_now_ms() - 10 - j);
    }
    ok(claim(&f, 20, &claimed) == 2 + 5,
       apr_psprintf(p, "failing webhooks: 2 of concurrency 4 among them, "
                    "one each; the healthy one all of its 5 (got %d)",
                    claimed->nelts));
    for (i = 0; i < claimed->nelts; i++) {
        nhealthy += !strcmp(APR_ARRAY_IDX(claimed, i, mi_delivery_t)
                                .webhook_id, healthy);
    }
    ok(nhealthy == 5, "the healthy webhook is not held back");
    ok(claim(&f, 20, &claimed) == 0,
       "the failing ones' half is taken: nothing more of theirs");
    mi_db_close(f.db);
}

/* ---- management: rotation, redelivery, the listing ---------------------- */

static const mi_stmt_t set_outcome = { "test_delivery_outcome", {
    "UPDATE webhook_deliveries SET last_status = 500, "
    "last_error = 'HTTP 500' WHERE id = %s", NULL } };
static const mi_stmt_t set_times = { "test_delivery_times", {
    "UPDATE webhook_deliveries SET created_at = {bigint:%s}, "
    "updated_at = {bigint:%s} WHERE id = %s", NULL } };

/* The secret of a webhook and the previous one it keeps, as claims and
 * /test read them. */
static int target_of(fixture_t *f, const char *hook, mi_webhook_target_t *t)
{
    return mi_webhook_target(f->db, f->p, &f->caller, hook, t) == MI_OK;
}

static void test_rotation(apr_pool_t *p)
{
    fixture_t f;
    mi_caller_t other;
    mi_webhook_target_t t0, t1, t2;
    apr_array_header_t *claimed;
    const char *hook, *text, *expires;
    json_t *body = NULL;
    apr_int64_t before, after;

    if (!fixture_open(&f, p) || !(hook = new_hook(&f))
        || !target_of(&f, hook, &t0)) {
        ok(0, "rotation: set up");
        return;
    }
    ok(t0.previous_secret == NULL, "a new webhook has no previous secret");
    before = mi_now_ms();
    ok(mi_webhook_rotate(f.db, p, &f.caller, hook, 3600, &body) == MI_OK,
       "rotated with an overlap of an hour");
    after = mi_now_ms();
    text = body ? mi_json_dump(p, body) : "";
    ok(target_of(&f, hook, &t1) && strcmp(t1.secret, t0.secret)
       && !strcmp(json_string_value(json_object_get(body, "secret")),
                  t1.secret), "the answer carries the new secret");
    ok(t1.previous_secret && !strcmp(t1.previous_secret, t0.secret),
       "the old secret is kept");
    ok(t1.previous_secret_until >= before + 3600000
       && t1.previous_secret_until <= after + 3600000,
       "until an hour from now");
    expires = json_string_value(json_object_get(body,
                                                "previousSecretExpiresAt"));
    is_str(expires, mi_time_iso(p, t1.previous_secret_until),
           "previousSecretExpiresAt: the end of the overlap");
    ok(json_object_size(body) == 3 && !strstr(text, t0.secret),
       "the answer has id, secret, previousSecretExpiresAt: never the old "
       "secret");
    ok(mi_webhook_get(f.db, p, &f.caller, hook, &body) == MI_OK
       && !strstr(mi_json_dump(p, body), t0.secret)
       && !strstr(mi_json_dump(p, body), t1.secret),
       "the webhook shows neither secret");
    new_delivery(&f, hook, "PENDING", 0, mi_now_ms());
    ok(claim(&f, 10, &claimed) == 1
       && !strcmp(APR_ARRAY_IDX(claimed, 0, mi_delivery_t).secret, t1.secret)
       && !strcmp(APR_ARRAY_IDX(claimed, 0, mi_delivery_t).previous_secret,
                  t0.secret)
       && APR_ARRAY_IDX(claimed, 0, mi_delivery_t).previous_secret_until
              == t1.previous_secret_until,
       "a claimed delivery carries both secrets and the end of the overlap");

    ok(mi_webhook_rotate(f.db, p, &f.caller, hook, 60, &body) == MI_OK
       && target_of(&f, hook, &t2) && t2.previous_secret
       && !strcmp(t2.previous_secret, t1.secret),
       "a second rotation keeps the secret it replaced, only that one");
    ok(mi_webhook_rotate(f.db, p, &f.caller, hook, 0, &body) == MI_OK
       && target_of(&f, hook, &t2) && t2.previous_secret == NULL
       && t2.previous_secret_until == 0,
       "overlap 0: no previous secret");
    ok(json_is_null(json_object_get(body, "previousSecretExpiresAt")),
       "overlap 0: previousSecretExpiresAt is null");
    other = f.caller;
    other.integration_id = "int_other";
    ok(mi_webhook_rotate(f.db, p, &other, hook, 60, &body)
           == MI_ERR_NOT_FOUND
       && mi_webhook_rotate(f.db, p, &f.caller, "wh_none", 60, &body)
              == MI_ERR_NOT_FOUND
       && target_of(&f, hook, &t1) && !strcmp(t1.secret, t2.secret),
       "another integration's or an unknown webhook: NOT_FOUND, unchanged");
    mi_db_close(f.db);
}

static void test_redeliver(apr_pool_t *p)
{
    fixture_t f;
    mi_caller_t other;
    apr_array_header_t *claimed;
    const char *hook, *hook_b, *delivered, *failed, *pending, *leased;
    const char *of_b, *when_off, **r;
    apr_int64_t before, after;
    json_t *body;
    int i, found;

    if (!fixture_open(&f, p) || !(hook = new_hook(&f))
        || !(hook_b = new_hook(&f))
        || !(delivered = new_delivery(&f, hook, "DELIVERED", 2, 0))
        || !(failed = new_delivery(&f, hook, "FAILED", 4, 0))
        || !(pending = new_delivery(&f, hook, "PENDING", 1,
                                    mi_now_ms() + 60000))
        || !(leased = new_delivery(&f, hook, "PENDING", 0,
                                   mi_now_ms() + 60000))
        || !(of_b = new_delivery(&f, hook_b, "FAILED", 4, 0))
        || !(when_off = new_delivery(&f, hook, "FAILED", 4, 0))) {
        ok(0, "redelivery: set up");
        return;
    }
    mi_db_exec(f.db, p, &set_outcome, NULL, 1, &failed);
    mi_db_exec(f.db, p, &set_lease, NULL, 2, (const char *[]) {
        mi_db_int(p, mi_now_ms() + 15000), leased });
    other = f.caller;
    other.integration_id = "int_other";

    before = mi_now_ms();
    ok(mi_webhook_redeliver(f.db, p, &f.caller, hook, failed) == MI_OK,
       "a failed delivery: queued again");
    after = mi_now_ms();
    r = row_of(&f, &delivery_row, failed);
    ok(r && !strcmp(r[0], "PENDING") && !strcmp(r[1], "0") && !r[2] && !r[3]
       && apr_atoi64(r[4]) >= before && apr_atoi64(r[4]) <= after && !r[5],
       "PENDING, no attempts, no outcome, due now, no lease");
    ok(mi_webhook_redeliver(f.db, p, &f.caller, hook, delivered) == MI_OK,
       "a delivered one: queued again");
    ok(mi_webhook_redeliver(f.db, p, &f.caller, hook, delivered)
           == MI_ERR_CONFLICT, "again at once: CONFLICT (it is pending)");
    ok(mi_webhook_redeliver(f.db, p, &f.caller, hook, pending)
           == MI_ERR_CONFLICT, "waiting for a retry: CONFLICT");
    ok(mi_webhook_redeliver(f.db, p, &f.caller, hook, leased)
           == MI_ERR_CONFLICT, "in flight (leased): CONFLICT");
    r = row_of(&f, &delivery_row, pending);
    ok(r && !strcmp(r[1], "1"), "a refused redelivery changes nothing");
    ok(mi_webhook_redeliver(f.db, p, &f.caller, hook, "d_none")
           == MI_ERR_NOT_FOUND, "an unknown delivery: NOT_FOUND");
    ok(mi_webhook_redeliver(f.db, p, &f.caller, hook, of_b)
           == MI_ERR_NOT_FOUND, "another webhook's delivery: NOT_FOUND");
    ok(mi_webhook_redeliver(f.db, p, &other, hook, when_off)
           == MI_ERR_NOT_FOUND,
       "another integration's webhook: NOT_FOUND");
    r = row_of(&f, &delivery_row, of_b);
    ok(r && !strcmp(r[0], "FAILED") && !strcmp(r[1], "4"),
       "and nothing changed");
    ok(claim(&f, 10, &claimed) == 2, "the two queued again are claimed");
    for (i = found = 0; i < claimed->nelts; i++) {
        const mi_delivery_t *d = &APR_ARRAY_IDX(claimed, i, mi_delivery_t);

        found += (!strcmp(d->id, failed) || !strcmp(d->id, delivered))
                 && d->attempts == 0;
    }
    ok(found == 2, "with their own ids and no attempts made");

    /* A webhook that is not active: queued, sent once it is again. */
    mi_webhook_update(f.db, p, &f.caller, hook, NULL, NULL, 0, &body);
    ok(mi_webhook_redeliver(f.db, p, &f.caller, hook, when_off) == MI_OK,
       "a webhook not active: queued");
    ok(claim(&f, 10, &claimed) == 0, "but not sent while it is not active");
    mi_webhook_update(f.db, p, &f.caller, hook, NULL, NULL, 1, &body);
    ok(claim(&f, 10, &claimed) == 1
       && !strcmp(APR_ARRAY_IDX(claimed, 0, mi_delivery_t).id, when_off),
       "sent once it is active again");
    mi_db_close(f.db);
}

/* The ids of a listing's entries, "a,b,c". */
static const char *ids_of(apr_pool_t *p, json_t *body)
{
    json_t *data = json_object_get(body, "data");
    const char *ids = "";
    size_t i;

    for (i = 0; i < json_array_size(data); i++) {
        ids = apr_pstrcat(p, ids, i ? "," : "", json_string_value(
            json_object_get(json_array_get(data, i), "id")), NULL);
    }
    return ids;
}

/* A page of the listing: "ids / total", or "(error)". */
static const char *page_of(fixture_t *f, const char *hook,
                           const char *status, int page, int limit,
                           json_t **body)
{
    if (mi_webhook_deliveries(f->db, f->p, &f->caller, hook, status, page,
                              limit, body) != MI_OK) {
        return "(error)";
    }
    return apr_psprintf(f->p, "%s / %d", ids_of(f->p, *body),
                        (int)json_integer_value(json_object_get(*body,
                                                                "total")));
}

static void test_listing(apr_pool_t *p)
{
    static const char *const states[] = { "DELIVERED", "FAILED", "PENDING",
                                          "PENDING", "DELIVERED" };
    static const int attempts[] = { 1, 4, 0, 1, 2 };
    fixture_t f;
    mi_caller_t other;
    const char *hook, *ids[5], *want, *keys;
    apr_int64_t t0 = EVENT_TIME, next = EVENT_TIME + 90000;
    json_t *body = NULL, *e;
    const char *k;
    json_t *v;
    int i;

    if (!fixture_open(&f, p) || !(hook = new_hook(&f))) {
        ok(0, "listing: set up");
        return;
    }
    /* Created a second apart, oldest first; the last attempt 500 ms
     * after. Another webhook's delivery is never listed. */
    for (i = 0; i < 5; i++) {
        const char *at = mi_db_int(p, t0 + i * 1000);

        ids[i] = new_delivery(&f, hook, states[i], attempts[i], next);
        mi_db_exec(f.db, p, &set_times, NULL, 3, (const char *[]) {
            at, mi_db_int(p, t0 + i * 1000 + 500), ids[i] });
    }
    new_delivery(&f, new_hook(&f), "DELIVERED", 1, next);
    mi_db_exec(f.db, p, &set_outcome, NULL, 1, &ids[1]);
    mi_db_exec(f.db, p, &set_lease, NULL, 2, (const char *[]) {
        mi_db_int(p, mi_now_ms() + 15000), ids[3] });

    want = apr_psprintf(p, "%s,%s,%s,%s,%s / 5", ids[4], ids[3], ids[2],
                        ids[1], ids[0]);
    is_str(page_of(&f, hook, NULL, 1, 50, &body), want,
           "all, newest first, and their total");
    keys = "";
    json_object_foreach(body, k, v) {
        keys = apr_pstrcat(p, keys, " ", k, NULL);
    }
    ok(json_object_size(body) == 4 && json_is_array(json_object_get(body,
                                                                    "data"))
       && json_integer_value(json_object_get(body, "page")) == 1
       && json_integer_value(json_object_get(body, "limit")) == 50,
       apr_psprintf(p, "data, total, page, limit (got%s)", keys));
    is_str(page_of(&f, hook, NULL, 2, 2, &body),
           apr_psprintf(p, "%s,%s / 5", ids[2], ids[1]), "page 2 of 2");
    is_str(page_of(&f, hook, NULL, 3, 2, &body),
           apr_psprintf(p, "%s / 5", ids[0]), "page 3 of 2: the last one");
    is_str(page_of(&f, hook, NULL, 4, 2, &body), " / 5",
           "past the end: none, the total still");
    is_str(page_of(&f, hook, "PENDING", 1, 50, &body),
           apr_psprintf(p, "%s,%s / 2", ids[3], ids[2]),
           "PENDING: waiting and in flight");
    is_str(page_of(&f, hook, "DELIVERED", 1, 1, &body),
           apr_psprintf(p, "%s / 2", ids[4]), "DELIVERED, a page of one");
    is_str(page_of(&f, hook, "FAILED", 1, 50, &body),
           apr_psprintf(p, "%s / 1", ids[1]), "FAILED");

    page_of(&f, hook, NULL, 1, 50, &body);
    for (i = 0; i < 5; i++) {
        e = json_array_get(json_object_get(body, "data"), 4 - i);
        keys = "";
        json_object_foreach(e, k, v) {
            keys = apr_pstrcat(p, keys, " ", k, NULL);
        }
        ok(json_object_size(e) == 9 && json_object_get(e, "id")
           && json_object_get(e, "event") && json_object_get(e, "status")
           && json_object_get(e, "attempts")
           && json_object_get(e, "lastStatusCode")
           && json_object_get(e, "lastError")
           && json_object_get(e, "createdAt")
           && json_object_get(e, "lastAttemptAt")
           && json_object_get(e, "nextAttemptAt"),
           apr_psprintf(p, "entry %d: exactly its nine members (got%s)", i,
                        keys));
    }
    e = json_array_get(json_object_get(body, "data"), 3);
    is_str(mi_json_dump(p, e), apr_psprintf(p,
        "{\"id\":\"%s\",\"event\":\"supplier.created\",\"status\":\"FAILED\","
        "\"attempts\":4,\"lastStatusCode\":500,\"lastError\":\"HTTP 500\","
        "\"createdAt\":\"%s\",\"lastAttemptAt\":\"%s\","
        "\"nextAttemptAt\":null}",
        ids[1], mi_time_iso(p, t0 + 1000), mi_time_iso(p, t0 + 1500)),
        "a failed one: its outcome, when it was last tried, no next attempt");
    e = json_array_get(json_object_get(body, "data"), 2);
    is_str(mi_json_dump(p, e), apr_psprintf(p,
        "{\"id\":\"%s\",\"event\":\"supplier.created\",\"status\":\"PENDING\","
        "\"attempts\":0,\"lastStatusCode\":null,\"lastError\":null,"
        "\"createdAt\":\"%s\",\"lastAttemptAt\":null,"
        "\"nextAttemptAt\":\"%s\"}",
        ids[2], mi_time_iso(p, t0 + 2000), mi_time_iso(p, next)),
        "one never tried: no last attempt, its next");
    other = f.caller;
    other.integration_id = "int_other";
    ok(mi_webhook_deliveries(f.db, p, &other, hook, NULL, 1, 50, &body)
           == MI_ERR_NOT_FOUND, "another integration's webhook: NOT_FOUND");
    mi_db_close(f.db);
}

/* ---- mi_delivery_send against a receiver on loopback ------------------ */

typedef struct {
    int fd;                 /* listening */
    int status;             /* answered; 0: read and never answer */
    const char *headers;    /* more response header lines */
    char req[16384];
    size_t len;
    int requests;
} receiver_t;

static int listen_loopback(int *port)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))
        || listen(fd, 4) || getsockname(fd, (struct sockaddr *)&a, &alen)) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Waits up to ms for fd to be readable. */
static int readable(int fd, int ms)
{
    struct pollfd pfd = { fd, POLLIN, 0 };

    return poll(&pfd, 1, ms) == 1;
}

/* Serves one connection: reads the request (headers and Content-Length
 * bytes), answers, closes; with status 0 holds it until the client gives
 * up. Never waits more than 5 s for anything. */
static void *APR_THREAD_FUNC serve(apr_thread_t *t, void *data)
{
    receiver_t *rc = data;
    int c;
    char *end;
    size_t want = 0;

    (void)t;
    if (!readable(rc->fd, 5000) || (c = accept(rc->fd, NULL, NULL)) < 0) {
        return NULL;
    }
    rc->requests++;
    while (rc->len < sizeof(rc->req) - 1 && readable(c, 5000)) {
        ssize_t n = recv(c, rc->req + rc->len, sizeof(rc->req) - 1 - rc->len,
                         0);

        if (n <= 0) {
            break;
        }
        rc->len += (size_t)n;
        rc->req[rc->len] = '\0';
        if ((end = strstr(rc->req, "\r\n\r\n")) != NULL) {
            const char *cl = strstr(rc->req, "Content-Length: ");

            want = (size_t)(end + 4 - rc->req)
                   + (cl && cl < end ? (size_t)atol(cl + 16) : 0);
            if (rc->len >= want) {
                break;
            }
        }
    }
    if (rc->status) {
        char *resp = apr_psprintf(apr_thread_pool_get(t),
            "HTTP/1.1 %d X\r\nContent-Length: 2\r\n%sConnection: close\r\n"
            "\r\nok", rc->status, rc->headers ? rc->headers : "");

        if (send(c, resp, strlen(resp), 0) < 0) {
            printf("# send: %s\n", strerror(errno));
        }
    }
    else {
        char sink[256];

        while (readable(c, 5000) && recv(c, sink, sizeof(sink), 0) > 0) {
        }
    }
    close(c);
    return NULL;
}

/* The value of a request header (exact name), or NULL. */
static const char *header(apr_pool_t *p, const char *req, const char *name)
{
    const char *at = strstr(req, apr_pstrcat(p, "\r\n", name, ": ", NULL));
    const char *end;

    if (!at) {
        return NULL;
    }
    at += strlen(name) + 4;
    end = strstr(at, "\r\n");
    return end ? apr_pstrndup(p, at, (apr_size_t)(end - at)) : NULL;
}

static void test_send(apr_pool_t *p)
{
    static const struct {
        int status;
        const char *headers;
        int want_status, want_success;
        const char *want_error;     /* "*": any, not NULL */
        const char *name;
    } cases[] = {
        { 200, NULL, 200, 1, NULL, "200" },
        { 204, NULL, 204, 1, NULL, "204" },
        { 299, NULL, 299, 1, NULL, "299 is a 2xx" },
        { 302, "Location: http://127.0.0.1:9/elsewhere\r\n", 302, 0,
          "HTTP 302", "a redirect is not followed" },
        { 304, NULL, 304, 0, "HTTP 304", "304 fails" },
        { 400, NULL, 400, 0, "HTTP 400", "400 fails" },
        { 410, NULL, 410, 0, "HTTP 410", "410 fails (the caller disables)" },
        { 500, NULL, 500, 0, "HTTP 500", "500 fails" },
        { 0, NULL, 0, 0, "*", "no answer within the timeout fails" },
    };
    mi_delivery_conf_t conf;
    size_t i;

    memset(&conf, 0, sizeof(conf));
    allow_loopback(p, &conf);
    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        receiver_t *rc = apr_pcalloc(p, sizeof(*rc));
        mi_delivery_t d = { "d0123456789abcdef", "wh_abc",
                            NULL, SECRET, "supplier.created", PAYLOAD,
                            EVENT_TIME, 0 };
        mi_send_result_t res;
        apr_thread_t *thread;
        apr_status_t trv;
        apr_int64_t t0, t1;
        const char *name = cases[i].name, *hex, *b64, *body, *ts;
        int port;

        rc->status = cases[i].status;
        rc->headers = cases[i].headers;
        if ((rc->fd = listen_loopback(&port)) < 0
            || apr_thread_create(&thread, NULL, serve, rc, p)
                   != APR_SUCCESS) {
            ok(0, apr_psprintf(p, "%s: a receiver on loopback", name));
            continue;
        }
        d.url = apr_psprintf(p, "http://127.0.0.1:%d/hooks/eudr?x=1", port);
        /* Ample for an answer on a loaded machine; short where none comes. */
        conf.timeout = cases[i].status ? apr_time_from_sec(10)
                                       : apr_time_from_msec(300);
        t0 = apr_time_sec(apr_time_now());
        mi_delivery_send(p, &conf, &d, &res);
        t1 = apr_time_sec(apr_time_now());
        apr_thread_join(&trv, thread);
        close(rc->fd);

        ok(res.status == cases[i].want_status
           && res.success == cases[i].want_success,
           apr_psprintf(p, "%s: status %d, success %d", name,
                        cases[i].want_status, cases[i].want_success));
        if (res.status != cases[i].want_status
            || res.success != cases[i].want_success) {
            printf("#   got status %d, success %d, error %s\n", res.status,
                   res.success, res.error ? res.error : "(null)");
        }
        if (cases[i].want_error && !strcmp(cases[i].want_error, "*")) {
            ok(res.error != NULL && res.duration_ms >= 250,
               apr_psprintf(p, "%s: an error, after the timeout", name));
        }
        else {
            is_str(res.error, cases[i].want_error,
                   apr_psprintf(p, "%s: error", name));
        }
        ok(rc->requests == 1, apr_psprintf(p, "%s: one request", name));
        if (i > 0) {
            continue;
        }
        /* The request itself, once. */
        ok(!strncmp(rc->req, "POST /hooks/eudr?x=1 HTTP/1.1\r\n", 31),
           "POST to the url");
        body = strstr(rc->req, "\r\n\r\n");
        is_str(body ? body + 4 : NULL, PAYLOAD, "the body is the payload");
        is_str(header(p, rc->req, "Content-Type"), "application/json",
               "Content-Type");
        is_str(header(p, rc->req, "Content-Length"),
               apr_itoa(p, (int)strlen(PAYLOAD)), "Content-Length");
        is_str(header(p, rc->req, "User-Agent"), "EUDR-Platform-Webhook/1.0",
               "User-Agent");
        is_str(header(p, rc->req, "X-Webhook-Event"), "supplier.created",
               "X-Webhook-Event");
        is_str(header(p, rc->req, "X-Webhook-Id"), "wh_abc",
               "X-Webhook-Id: the webhook's id");
        is_str(header(p, rc->req, "X-Webhook-Delivery"), "d0123456789abcdef",
               "X-Webhook-Delivery: the delivery's id");
        is_str(header(p, rc->req, "X-Webhook-Timestamp"),
               "2024-01-15T10:30:00.000Z",
               "X-Webhook-Timestamp: the event's ISO time");
        ok(unit_sign(p, SECRET, apr_pstrcat(p, "2024-01-15T10:30:00.000Z.",
                                            PAYLOAD, NULL),
                     strlen("2024-01-15T10:30:00.000Z.") + strlen(PAYLOAD),
                     &hex, &b64), "signed here");
        is_str(header(p, rc->req, "X-Webhook-Signature"),
               apr_pstrcat(p, "sha256=", hex, NULL),
               "X-Webhook-Signature: sha256=hex HMAC of timestamp.body");
        is_str(header(p, rc->req, "webhook-id"), "d0123456789abcdef",
               "webhook-id is X-Webhook-Delivery");
        ts = header(p, rc->req, "webhook-timestamp");
        ok(ts && apr_atoi64(ts) >= t0 && apr_atoi64(ts) <= t1
           && !strcmp(ts, apr_psprintf(p, "%" APR_INT64_T_FMT,
                                       apr_atoi64(ts))),
           "webhook-timestamp: Unix seconds of the attempt");
        ok(ts && unit_sign(p, SECRET, apr_pstrcat(p, "d0123456789abcdef.", ts,
                                                  ".", PAYLOAD, NULL),
                           strlen("d0123456789abcdef.") + strlen(ts) + 1
                               + strlen(PAYLOAD), &hex, &b64),
           "signed here, the Standard Webhooks way");
        is_str(header(p, rc->req, "webhook-signature"),
               apr_pstrcat(p, "v1,", b64, NULL),
               "webhook-signature: v1,base64 HMAC of id.timestamp.body");
        ok(!header(p, rc->req, "Expect"), "no Expect header");
    }
    {
        /* Nothing listening; a scheme other than http(s); a secret that
         * is none: no status, an error, no success. */
        mi_delivery_t d = { "d1", "wh_abc", NULL, SECRET,
                            "supplier.created", PAYLOAD, EVENT_TIME, 0 };
        mi_send_result_t res;
        int port, fd = listen_loopback(&port);

        if (fd >= 0) {
            close(fd);
        }
        conf.timeout = apr_time_from_sec(10);
        d.url = apr_psprintf(p, "http://127.0.0.1:%d/h", port);
        mi_delivery_send(p, &conf, &d, &res);
        ok(fd >= 0 && res.status == 0 && !res.success && res.error,
           "connection refused: an error, no status");
        conf.allow_http = 0;
        mi_delivery_send(p, &conf, &d, &res);
        ok(res.status == 0 && !res.success && res.error
           && !strcmp(res.error, "url must be an absolute https URL"),
           "http where only https is allowed: not sent");
        conf.allow_http = 1;
        d.url = "ftp://127.0.0.1/h";
        mi_delivery_send(p, &conf, &d, &res);
        ok(res.status == 0 && !res.success && res.error
           && !strcmp(res.error, NOT_HTTP),
           "ftp is not followed: " NOT_HTTP);
        d.url = "file:///dev/null";
        mi_delivery_send(p, &conf, &d, &res);
        ok(res.status == 0 && !res.success && res.error
           && !strcmp(res.error, NOT_HTTP),
           "file is not followed: " NOT_HTTP);
        d.url = apr_psprintf(p, "http://127.0.0.1:%d/h", port);
        d.secret = "not-a-secret";
        mi_delivery_send(p, &conf, &d, &res);
        ok(res.status == 0 && !res.success && res.error
           && !strcmp(res.error, "cannot sign the delivery"),
           "a bad secret: nothing sent");
    }
}

/* A rotation's overlap: while it lasts webhook-signature carries the new
 * secret's signature, then the previous one's; X-Webhook-Signature only
 * the new one's; after it, one signature again. */
#define OLD_SECRET "whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

static void test_send_overlap(apr_pool_t *p)
{
    static const struct {
        apr_int64_t until_from_now;     /* ms */
        int two;
        const char *name;
    } cases[] = {
        { 60000, 1, "during the overlap" },
        { -1, 0, "after the overlap" },
    };
    mi_delivery_conf_t conf;
    size_t i;

    memset(&conf, 0, sizeof(conf));
    allow_loopback(p, &conf);
    conf.timeout = apr_time_from_sec(10);
    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        receiver_t *rc = apr_pcalloc(p, sizeof(*rc));
        mi_delivery_t d = { "d0123456789abcdef", "wh_abc", NULL, SECRET,
                            "supplier.created", PAYLOAD, EVENT_TIME, 0,
                            OLD_SECRET, 0 };
        mi_send_result_t res;
        apr_thread_t *thread;
        apr_status_t trv;
        const char *name = cases[i].name, *ts, *msg, *hex, *with_new,
                   *with_old, *x_hex, *unused;
        int port;

        rc->status = 200;
        if ((rc->fd = listen_loopback(&port)) < 0
            || apr_thread_create(&thread, NULL, serve, rc, p)
                   != APR_SUCCESS) {
            ok(0, apr_psprintf(p, "%s: a receiver on loopback", name));
            continue;
        }
        d.url = apr_psprintf(p, "http://127.0.0.1:%d/h", port);
        d.previous_secret_until = mi_now_ms() + cases[i].until_from_now;
        mi_delivery_send(p, &conf, &d, &res);
        apr_thread_join(&trv, thread);
        close(rc->fd);
        ok(res.success, apr_psprintf(p, "%s: delivered", name));
        ts = header(p, rc->req, "webhook-timestamp");
        msg = apr_pstrcat(p, d.id, ".", ts ? ts : "", ".", PAYLOAD, NULL);
        ok(ts && unit_sign(p, SECRET, msg, strlen(msg), &hex, &with_new)
           && unit_sign(p, OLD_SECRET, msg, strlen(msg), &hex, &with_old)
           && unit_sign(p, SECRET, apr_pstrcat(p, "2024-01-15T10:30:00.000Z.",
                                              PAYLOAD, NULL),
                        strlen("2024-01-15T10:30:00.000Z.") + strlen(PAYLOAD),
                        &x_hex, &unused),
           apr_psprintf(p, "%s: signed here with both secrets", name));
        is_str(header(p, rc->req, "webhook-signature"),
               cases[i].two ? apr_pstrcat(p, "v1,", with_new, " v1,",
                                          with_old, NULL)
                            : apr_pstrcat(p, "v1,", with_new, NULL),
               apr_psprintf(p, "%s: webhook-signature %s", name,
                            cases[i].two ? "v1,<new> v1,<old>"
                                         : "v1,<new> only"));
        is_str(header(p, rc->req, "X-Webhook-Signature"),
               apr_pstrcat(p, "sha256=", x_hex, NULL),
               apr_psprintf(p, "%s: X-Webhook-Signature with the new secret",
                            name));
        ok(!strstr(rc->req, OLD_SECRET) && !strstr(rc->req, SECRET),
           apr_psprintf(p, "%s: no secret in the request", name));
    }
}

/* Without IntegrationWebhookAllowNetworks, loopback is refused by any
 * name or spelling, on the address connected to: no connection reaches
 * the listener (the kernel would complete one even unaccepted). */
static void test_refused(apr_pool_t *p)
{
    static const char *const hosts[] = {
        "127.0.0.1", "localhost", "127.1",
        "[::ffff:127.0.0.1]", "2130706433",
    };
    mi_delivery_conf_t conf;
    size_t i;
    int port, fd = listen_loopback(&port);

    memset(&conf, 0, sizeof(conf));
    conf.timeout = apr_time_from_sec(5);
    conf.allow_http = 1;
    ok(fd >= 0, "a listener on loopback");
    for (i = 0; fd >= 0 && i < MI_ARRAY_SIZE(hosts); i++) {
        mi_delivery_t d = { "d-refused", "wh_a", NULL, SECRET,
                            "supplier.created", PAYLOAD, EVENT_TIME, 0 };
        mi_send_result_t res;

        d.url = apr_psprintf(p, "http://%s:%d/h", hosts[i], port);
        mi_delivery_send(p, &conf, &d, &res);
        ok(res.status == 0 && !res.success
               && res.error && !strcmp(res.error, MI_DELIVERY_REFUSED),
           apr_psprintf(p, "%s: destination not allowed", d.url));
        if (!res.error || strcmp(res.error, MI_DELIVERY_REFUSED)) {
            printf("#   got status %d, error %s\n", res.status,
                   res.error ? res.error : "(null)");
        }
    }
    /* Through a proxy, which resolves names itself: those that mean this
     * machine are refused before anything is sent (the proxy here is a
     * port where nothing listens, so a request would fail otherwise). */
    conf.egress.proxy = "http://127.0.0.1:9";
    for (i = 0; fd >= 0 && i < 3; i++) {
        static const char *const names[] = { "localhost", "LocalHost.",
                                              "x.localhost" };
        mi_delivery_t d = { "d-refused", "wh_a", NULL, SECRET,
                            "supplier.created", PAYLOAD, EVENT_TIME, 0 };
        mi_send_result_t res;

        d.url = apr_psprintf(p, "http://%s:%d/h", names[i], port);
        mi_delivery_send(p, &conf, &d, &res);
        is_str(res.error, MI_DELIVERY_REFUSED,
               apr_psprintf(p, "through a proxy: %s refused", d.url));
    }
    ok(fd >= 0 && !readable(fd, 200), "no connection reached the listener");
    if (fd >= 0) {
        close(fd);
    }
}

/* ---- mi_sender: several attempts in flight ------------------------------ */

static void test_sender(apr_pool_t *p)
{
    mi_delivery_conf_t conf;
    mi_sender_t *s;
    apr_pool_t *sp;
    receiver_t *rc[3];
    apr_thread_t *thread[3];
    apr_array_header_t *done;
    mi_delivery_t d = { "d-x", "wh_a", "http://127.0.0.1:9/",
                        SECRET, "supplier.created", PAYLOAD, EVENT_TIME, 0 };
    apr_time_t until;
    int port[3], i, started = 1;

    memset(&conf, 0, sizeof(conf));
    allow_loopback(p, &conf);
    conf.timeout = apr_time_from_msec(400);
    apr_pool_create(&sp, p);
    if (!(s = mi_sender_create(sp, &conf, 3, 2))) {
        ok(0, "a sender");
        return;
    }
    /* Limits, before anything runs. */
    ok(mi_sender_room(s) == 3, "room: the concurrency");
    for (i = 0; i < 3; i++) {
        rc[i] = apr_pcalloc(p, sizeof(*rc[i]));
        rc[i]->status = i == 2 ? 0 : 200;   /* the third never answers */
        if ((rc[i]->fd = listen_loopback(&port[i])) < 0
            || apr_thread_create(&thread[i], NULL, serve, rc[i], p)
                   != APR_SUCCESS) {
            started = 0;
        }
    }
    if (!started) {
        ok(0, "receivers on loopback");
        return;
    }
    /* Two of webhook a (the hanging receiver's, then a fast one), one of
     * b; a third of a finds no room for its webhook, one of c no room at
     * all. */
    d.id = "d-a1";
    d.url = apr_psprintf(p, "http://127.0.0.1:%d/", port[2]);
    ok(mi_sender_add(s, &d), "a first of webhook a");
    d.id = "d-a2";
    d.url = apr_psprintf(p, "http://127.0.0.1:%d/", port[0]);
    ok(mi_sender_add(s, &d), "a second of a");
    d.id = "d-a3";
    ok(!mi_sender_add(s, &d), "no third of a: 2 per webhook");
    d.id = "d-b1";
    d.webhook_id = "wh_b";
    d.url = apr_psprintf(p, "http://127.0.0.1:%d/", port[1]);
    ok(mi_sender_add(s, &d), "one of b");
    d.id = "d-c1";
    d.webhook_id = "wh_c";
    ok(!mi_sender_add(s, &d) && mi_sender_room(s) == 0
       && mi_sender_in_flight(s) == 3, "none of c: 3 in flight at most");
    until = apr_time_now() + apr_time_from_sec(5);
    while (mi_sender_done_count(s) < 2 && apr_time_now() < until) {
        mi_sender_run(s, apr_time_from_msec(50));
    }
    done = mi_sender_done(s, p);
    ok(done->nelts == 2 && mi_sender_in_flight(s) == 1,
       "the fast two come out while the third hangs");
    for (i = 0; i < done->nelts; i++) {
        const mi_sent_t *o = &APR_ARRAY_IDX(done, i, mi_sent_t);

        ok(o->result.success && o->result.status == 200
           && (!strcmp(o->delivery.id, "d-a2")
               || !strcmp(o->delivery.id, "d-b1")),
           apr_psprintf(p, "%s delivered", o->delivery.id));
    }
    ok(mi_sender_room(s) == 2, "their room is free again");
    until = apr_time_now() + apr_time_from_sec(5);
    while (mi_sender_in_flight(s) > 0 && apr_time_now() < until) {
        mi_sender_run(s, apr_time_from_msec(50));
    }
    done = mi_sender_done(s, p);
    ok(done->nelts == 1
       && !strcmp(APR_ARRAY_IDX(done, 0, mi_sent_t).delivery.id, "d-a1")
       && !APR_ARRAY_IDX(done, 0, mi_sent_t).result.success
       && APR_ARRAY_IDX(done, 0, mi_sent_t).result.error
       && APR_ARRAY_IDX(done, 0, mi_sent_t).result.duration_ms >= 350,
       "the hanging one fails after the timeout");
    for (i = 0; i < 3; i++) {
        apr_status_t trv;

        apr_thread_join(&trv, thread[i]);
        close(rc[i]->fd);
    }
    /* Cancelled in flight: given back, nothing done. */
    {
        receiver_t *hang = apr_pcalloc(p, sizeof(*hang));
        apr_thread_t *t;
        apr_status_t trv;
        apr_array_header_t *back;
        int hp;

        if ((hang->fd = listen_loopback(&hp)) < 0
            || apr_thread_create(&t, NULL, serve, hang, p) != APR_SUCCESS) {
            ok(0, "a receiver on loopback");
            return;
        }
        d.id = "d-cancel";
        d.url = apr_psprintf(p, "http://127.0.0.1:%d/", hp);
        mi_sender_add(s, &d);
        mi_sender_run(s, apr_time_from_msec(50));
        back = mi_sender_cancel(s, p);
        ok(back->nelts == 1
           && !strcmp(APR_ARRAY_IDX(back, 0, mi_delivery_t).id, "d-cancel")
           && mi_sender_in_flight(s) == 0 && mi_sender_done_count(s) == 0,
           "cancel gives back what is in flight");
        d.url = "ftp://127.0.0.1/";
        d.id = "d-ftp";
        ok(mi_sender_add(s, &d), "taken, though it cannot be sent");
        until = apr_time_now() + apr_time_from_sec(5);
        while (mi_sender_done_count(s) < 1 && apr_time_now() < until) {
            mi_sender_run(s, apr_time_from_msec(50));
        }
        back = mi_sender_done(s, p);
        ok(back->nelts == 1 && APR_ARRAY_IDX(back, 0, mi_sent_t).result.error
           && !strcmp(APR_ARRAY_IDX(back, 0, mi_sent_t).result.error,
                      NOT_HTTP), "and comes out failed");
        apr_pool_destroy(sp);
        apr_thread_join(&trv, t);
        close(hang->fd);
    }
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_retries(p);
    test_conf(p);
    test_disable(p);
    test_claims(p);
    test_turns(p);
    test_failing(p);
    test_rotation(p);
    test_redeliver(p);
    test_listing(p);
    if (mi_delivery_global_init() != APR_SUCCESS) {
        ok(0, "libcurl initialised");
    }
    else {
        test_send(p);
        test_send_overlap(p);
        test_refused(p);
        test_sender(p);
        curl_global_cleanup();
    }
    return unit_done(p);
}
