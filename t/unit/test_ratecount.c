/* test_ratecount.c: unit tests of mi_ratecount: the key, the commands
 * that count or read a token's requests, what Redis's replies mean, and
 * the X-RateLimit-* state that follows. */
#include "unit.h"
#include "mi_ratecount.h"

/* The replies of text, as mi_redis_exchange would read them. */
static int replies_of(apr_pool_t *p, const char *text, int n,
                      mi_redis_reply_t *r)
{
    apr_size_t len = strlen(text), pos = 0, used;
    int i;

    for (i = 0; i < n; i++) {
        if (mi_redis_reply_parse(p, text + pos, len - pos, &r[i], &used)
            != MI_REDIS_PARSED) {
            return 0;
        }
        pos += used;
    }
    return pos == len;
}

static void test_request(apr_pool_t *p)
{
    const char *key = mi_ratecount_key(p, "tok_0123abcd");
    int n = 0;

    is_str(key, "mi:rl:tok_0123abcd", "the key is the token's id");
    is_str(mi_ratecount_request(p, key, 60, 1700000000, 1, &n),
           "*1\r\n$5\r\nMULTI\r\n"
           "*6\r\n$3\r\nSET\r\n$18\r\nmi:rl:tok_0123abcd\r\n$1\r\n0\r\n"
           "$4\r\nEXAT\r\n$10\r\n1700000060\r\n$2\r\nNX\r\n"
           "*2\r\n$4\r\nINCR\r\n$18\r\nmi:rl:tok_0123abcd\r\n"
           "*2\r\n$4\r\nPTTL\r\n$18\r\nmi:rl:tok_0123abcd\r\n"
           "*1\r\n$4\r\nEXEC\r\n",
           "counting: one transaction: SET NX to expire at the window's "
           "end, INCR, PTTL");
    ok(n == 5, "...five replies");
    is_str(mi_ratecount_request(p, key, 60, 1700000000, 0, &n),
           "*2\r\n$3\r\nGET\r\n$18\r\nmi:rl:tok_0123abcd\r\n"
           "*2\r\n$4\r\nPTTL\r\n$18\r\nmi:rl:tok_0123abcd\r\n",
           "reading: GET and PTTL");
    ok(n == 2, "...two replies");
}

static void test_read(apr_pool_t *p)
{
    static const struct {
        const char *text;
        int consume, good;
        apr_int64_t count, ttl;
        const char *name;
    } cases[] = {
        { "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:1\r\n"
          ":60000\r\n", 1, 1, 1, 60000, "the first request of a window" },
        { "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n$-1\r\n:7\r\n"
          ":1234\r\n", 1, 1, 7, 1234, "a later one (SET NX did nothing)" },
        { "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n", 1, 0, 0, 0,
          "an aborted transaction" },
        { "+OK\r\n-WRONGTYPE x\r\n+QUEUED\r\n+QUEUED\r\n-EXECABORT x\r\n",
          1, 0, 0, 0, "a refused command" },
        { "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n"
          "-ERR not an integer\r\n:5\r\n", 1, 0, 0, 0,
          "INCR failed inside the transaction" },
        { "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n:1\r\n",
          1, 0, 0, 0, "an EXEC of the wrong size" },
        { "-NOAUTH x\r\n-NOAUTH x\r\n-NOAUTH x\r\n-NOAUTH x\r\n-NOAUTH x\r\n",
          1, 0, 0, 0, "a Redis that wants a password" },
        { "$2\r\n12\r\n:30500\r\n", 0, 1, 12, 30500, "a peek" },
        { "$-1\r\n:-2\r\n", 0, 1, 0, -2, "a peek of an idle token" },
        { "$3\r\nabc\r\n:5\r\n", 0, 0, 0, 0, "a peek of something else" },
        { "$0\r\n\r\n:5\r\n", 0, 0, 0, 0, "a peek of an empty string" },
    };
    mi_redis_reply_t r[5];
    apr_int64_t count, ttl;
    apr_size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        int good;

        count = ttl = 0;
        good = replies_of(p, cases[i].text, cases[i].consume ? 5 : 2, r)
               && mi_ratecount_read(r, cases[i].consume, &count, &ttl);
        ok(good == cases[i].good
           && (!good || (count == cases[i].count && ttl == cases[i].ttl)),
           cases[i].name);
    }
}

static void test_state(apr_pool_t *p)
{
    /* now: 1700000000.250 */
    const apr_int64_t now = 1700000000250LL;
    mi_rate_state_t st;

    mi_ratecount_state(1, 59750, 5, 60, 1, now, &st);
    ok(st.allowed && st.limit == 5 && st.remaining == 4
       && st.reset == 1700000060, "first: 4 left, resets at the window's "
       "end");
    mi_ratecount_state(1, 59700, 5, 60, 1, now, &st);
    ok(st.reset == 1700000060, "a reset between seconds: the next second");
    mi_ratecount_state(5, 1000, 5, 60, 1, now, &st);
    ok(st.allowed && st.remaining == 0 && st.reset == 1700000002,
       "the limit itself passes");
    mi_ratecount_state(6, 750, 5, 60, 1, now, &st);
    ok(!st.allowed && st.remaining == 0 && st.reset == 1700000001,
       "over it: refused, none left");
    mi_ratecount_state(9, 750, 5, 60, 0, now, &st);
    ok(st.allowed && st.remaining == 0, "a peek is never refused");
    mi_ratecount_state(0, -2, 5, 60, 0, now, &st);
    ok(st.allowed && st.remaining == 5 && st.reset == 1700000061,
       "a peek of an idle token: a whole window ahead");
    mi_ratecount_state(3, -1, 5, 60, 1, now, &st);
    ok(st.allowed && st.remaining == 2 && st.reset == 1700000061,
       "a key without expiry (not ours): its count, a window ahead");
    (void)p;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_request(p);
    test_read(p);
    test_state(p);
    return unit_done(p);
}
