/* test_redis.c: unit tests of mi_redis: the redis:// URL, RESP commands
 * and replies, and a connection's deadline, against a listener on
 * loopback that answers what the test wrote for it (or nothing). */
#include "unit.h"
#include "mi_redis.h"

static void test_url(apr_pool_t *p)
{
    static const struct {
        const char *url, *host;
        int port, db;
    } good[] = {
        { "redis://127.0.0.1:6379", "127.0.0.1", 6379, 0 },
        { "redis://127.0.0.1", "127.0.0.1", 6379, 0 },
        { "REDIS://cache.internal:7000/3", "cache.internal", 7000, 3 },
        { "redis://[::1]:6380/0", "::1", 6380, 0 },
        { "redis://redis_1:1/", "redis_1", 1, 0 },
        { "redis://h:65535/2147483647", "h", 65535, 2147483647 },
    };
    static const struct {
        const char *url, *why;
    } bad[] = {
        { "shm", "is not a redis:// URL" },
        { "rediss://h:6379", "is not a redis:// URL" },
        { "http://h:6379", "is not a redis:// URL" },
        { "redis://", "has no host" },
        { "redis://:6379", "has no host" },
        { "redis://:secret@h:6379",
          "has credentials (user:password@), which are not supported" },
        { "redis://[::1:6379", "has an IPv6 address that is not closed by ] "
          "or not valid" },
        { "redis://[]:6379", "has an IPv6 address that is not closed by ] "
          "or not valid" },
        { "redis://h:0", "has a port that is not a number from 1 to 65535" },
        { "redis://h:65536", "has a port that is not a number from 1 to "
          "65535" },
        { "redis://h:", "has a port that is not a number from 1 to 65535" },
        { "redis://h:63x79", "has a port that is not a number from 1 to "
          "65535" },
        { "redis://h:6379/x", "has a database that is not a number from 0 "
          "to 2147483647" },
        { "redis://h:6379/-1", "has a database that is not a number from 0 "
          "to 2147483647" },
        { "redis://h:6379/2147483648", "has a database that is not a number "
          "from 0 to 2147483647" },
        { "redis://h:6379/0?timeout=1", "has a database that is not a "
          "number from 0 to 2147483647" },
        { "redis://h?x", "has more than a host, a port and a database "
          "number" },
        { "redis://h/0/1", "has a database that is not a number from 0 to "
          "2147483647" },
    };
    mi_redis_addr_t a;
    apr_size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(good); i++) {
        const char *err = mi_redis_url_parse(p, good[i].url, &a);

        ok(!err && !strcmp(a.host, good[i].host) && a.port == good[i].port
           && a.db == good[i].db, good[i].url);
    }
    for (i = 0; i < MI_ARRAY_SIZE(bad); i++) {
        is_str(mi_redis_url_parse(p, bad[i].url, &a), bad[i].why, bad[i].url);
    }
    mi_redis_url_parse(p, "redis://[::1]:6380", &a);
    is_str(mi_redis_addr_text(p, &a), "[::1]:6380", "IPv6 in brackets");
    mi_redis_url_parse(p, "redis://10.0.0.5", &a);
    is_str(mi_redis_addr_text(p, &a), "10.0.0.5:6379", "default port");
}

static void test_command(apr_pool_t *p)
{
    const char *argv[] = { "SET", "mi:rl:tok_1", "", "EX", "60" };

    is_str(mi_redis_command(p, 5, argv),
           "*5\r\n$3\r\nSET\r\n$11\r\nmi:rl:tok_1\r\n$0\r\n\r\n$2\r\nEX\r\n"
           "$2\r\n60\r\n", "a command is an array of bulk strings");
}

/* text with CR and LF written as \r and \n, for a test's name. */
static const char *visible(apr_pool_t *p, const char *text)
{
    char *out = apr_palloc(p, 2 * strlen(text) + 1), *o = out;

    for (; *text; text++) {
        if (*text == '\r' || *text == '\n') {
            *o++ = '\\';
            *o++ = *text == '\r' ? 'r' : 'n';
        }
        else {
            *o++ = *text;
        }
    }
    *o = '\0';
    return out;
}

/* One reply parsed from text: the parse result, and *used. */
static mi_redis_parse_e parse(apr_pool_t *p, const char *text,
                              mi_redis_reply_t *r, apr_size_t *used)
{
    *used = 0;
    return mi_redis_reply_parse(p, text, strlen(text), r, used);
}

static void test_replies(apr_pool_t *p)
{
    static const char *const partial[] = {
        "", "+O", "+OK\r", ":1", "$5\r\nhel", "$5\r\nhello\r", "*2\r\n:1\r\n",
        "*1\r\n*1\r\n",
    };
    static const char *const malformed[] = {
        "?x\r\n", "+OK\n", "\r\n", ":\r\n", ":1x\r\n", ":--1\r\n",
        "$-2\r\n", "$x\r\n", "$2\r\nabc\r\n", "*-2\r\n", "*65\r\n",
        "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "$4097\r\n",
        ":1234567890123456789\r\n",
    };
    mi_redis_reply_t r;
    apr_size_t used, i;
    char big[MI_REDIS_REPLY_MAX + 2];

    ok(parse(p, "+OK\r\n+QUEUED\r\n", &r, &used) == MI_REDIS_PARSED
       && r.type == MI_REDIS_STATUS && !strcmp(r.str, "OK") && used == 5,
       "a status, and only the first reply");
    ok(parse(p, "-ERR wrong\r\n", &r, &used) == MI_REDIS_PARSED
       && r.type == MI_REDIS_ERROR && !strcmp(r.str, "ERR wrong"),
       "an error");
    ok(parse(p, ":-2\r\n", &r, &used) == MI_REDIS_PARSED
       && r.type == MI_REDIS_INTEGER && r.integer == -2, "an integer");
    ok(parse(p, "$2\r\n\r\n\r\n", &r, &used) == MI_REDIS_PARSED
       && r.type == MI_REDIS_BULK && r.len == 2 && !strcmp(r.str, "\r\n")
       && used == 8, "a bulk string holding CRLF");
    ok(parse(p, "$0\r\n\r\n", &r, &used) == MI_REDIS_PARSED
       && r.type == MI_REDIS_BULK && r.len == 0, "an empty bulk string");
    ok(parse(p, "$-1\r\n", &r, &used) == MI_REDIS_PARSED
       && r.type == MI_REDIS_NIL, "nil");
    ok(parse(p, "*-1\r\n", &r, &used) == MI_REDIS_PARSED
       && r.type == MI_REDIS_NIL, "a nil array (an aborted EXEC)");
    ok(parse(p, "*3\r\n$-1\r\n:7\r\n:59998\r\n", &r, &used)
       == MI_REDIS_PARSED && r.type == MI_REDIS_ARRAY && r.n == 3
       && r.elements[0].type == MI_REDIS_NIL
       && r.elements[1].integer == 7 && r.elements[2].integer == 59998,
       "EXEC's array");
    ok(parse(p, "*0\r\n", &r, &used) == MI_REDIS_PARSED && r.n == 0,
       "an empty array");
    for (i = 0; i < MI_ARRAY_SIZE(partial); i++) {
        ok(parse(p, partial[i], &r, &used) == MI_REDIS_PARTIAL,
           apr_psprintf(p, "partial: %s", visible(p, partial[i])));
    }
    for (i = 0; i < MI_ARRAY_SIZE(malformed); i++) {
        ok(parse(p, malformed[i], &r, &used) == MI_REDIS_MALFORMED,
           apr_psprintf(p, "malformed: %s",
                        visible(p, malformed[i])));
    }
    memset(big, 'x', sizeof(big) - 1);
    big[0] = '+';
    big[sizeof(big) - 1] = '\0';
    ok(parse(p, big, &r, &used) == MI_REDIS_MALFORMED,
       "a line longer than MI_REDIS_REPLY_MAX without its end");
}

/* A listener on loopback; its port in *port. */
static apr_socket_t *listener(apr_pool_t *p, apr_port_t *port)
{
    apr_sockaddr_t *sa;
    apr_socket_t *s;

    apr_sockaddr_info_get(&sa, "127.0.0.1", APR_INET, 0, 0, p);
    apr_socket_create(&s, APR_INET, SOCK_STREAM, APR_PROTO_TCP, p);
    apr_socket_bind(s, sa);
    apr_socket_listen(s, 4);
    apr_socket_addr_get(&sa, APR_LOCAL, s);
    *port = sa->port;
    return s;
}

/* Accepts the connection a client made, and writes answer on it at once
 * (the client reads it after it sent its request). */
static apr_socket_t *accept_and_answer(apr_socket_t *l, apr_pool_t *p,
                                       const char *answer)
{
    apr_socket_t *c = NULL;
    apr_size_t n = strlen(answer);

    apr_socket_timeout_set(l, apr_time_from_sec(5));
    if (apr_socket_accept(&c, l, p) == APR_SUCCESS && n) {
        apr_socket_send(c, answer, &n);
    }
    return c;
}

static apr_interval_time_t since(apr_time_t t0)
{
    return apr_time_now() - t0;
}

static void test_connection(apr_pool_t *p)
{
    apr_pool_t *cp;
    apr_port_t port;
    apr_socket_t *l = listener(p, &port), *server;
    mi_redis_addr_t addr = { "127.0.0.1", port, 0 };
    const char *ping[] = { "PING" }, *sel[] = { "SELECT", "2" };
    mi_redis_conn_t *conn;
    mi_redis_reply_t r[2];
    apr_status_t rv;
    apr_time_t t0;
    char got[64];
    apr_size_t n = sizeof(got) - 1;

    apr_pool_create(&cp, p);
    ok(mi_redis_connect(&conn, cp, &addr, apr_time_now()
                        + apr_time_from_msec(500)) == APR_SUCCESS,
       "connects to a listener");
    server = accept_and_answer(l, p, "+PONG\r\n:5\r\n");
    rv = mi_redis_exchange(conn, p, mi_redis_command(p, 1, ping), 2, r,
                           apr_time_now() + apr_time_from_msec(500));
    ok(rv == APR_SUCCESS && r[0].type == MI_REDIS_STATUS
       && r[1].integer == 5, "reads as many replies as asked");
    apr_socket_timeout_set(server, apr_time_from_sec(1));
    got[0] = '\0';
    if (apr_socket_recv(server, got, &n) == APR_SUCCESS) {
        got[n] = '\0';
    }
    is_str(got, "*1\r\n$4\r\nPING\r\n", "sent the command");

    /* Nothing more comes: the wait ends at the deadline. */
    t0 = apr_time_now();
    rv = mi_redis_exchange(conn, p, mi_redis_command(p, 1, ping), 1, r,
                           apr_time_now() + apr_time_from_msec(150));
    ok(rv == APR_TIMEUP, "no answer: APR_TIMEUP");
    ok(since(t0) >= apr_time_from_msec(100)
       && since(t0) < apr_time_from_msec(1000),
       apr_psprintf(p, "...at the deadline (150 ms; waited %" APR_TIME_T_FMT
                    " ms)", apr_time_as_msec(since(t0))));
    apr_socket_close(server);
    apr_pool_destroy(cp);

    /* More than was asked for: out of step. */
    apr_pool_create(&cp, p);
    mi_redis_connect(&conn, cp, &addr, apr_time_now() + apr_time_from_msec(500));
    server = accept_and_answer(l, p, "+PONG\r\n+PONG\r\n");
    apr_sleep(apr_time_from_msec(20));
    ok(mi_redis_exchange(conn, p, mi_redis_command(p, 1, ping), 1, r,
                         apr_time_now() + apr_time_from_msec(500))
       == APR_EGENERAL, "an extra reply is an error");
    apr_socket_close(server);
    apr_pool_destroy(cp);

    /* The server closes: APR_EOF, at once. */
    apr_pool_create(&cp, p);
    mi_redis_connect(&conn, cp, &addr, apr_time_now() + apr_time_from_msec(500));
    server = accept_and_answer(l, p, "");
    apr_socket_close(server);
    t0 = apr_time_now();
    rv = mi_redis_exchange(conn, p, mi_redis_command(p, 1, ping), 1, r,
                           apr_time_now() + apr_time_from_sec(5));
    ok(rv != APR_SUCCESS && since(t0) < apr_time_from_sec(1),
       "a closed connection fails at once");
    apr_pool_destroy(cp);

    /* SELECT on connect, when a database is named: refused here. */
    addr.db = 2;
    apr_pool_create(&cp, p);
    t0 = apr_time_now();
    rv = mi_redis_connect(&conn, cp, &addr,
                          apr_time_now() + apr_time_from_msec(150));
    ok(rv == APR_TIMEUP && since(t0) < apr_time_from_sec(1),
       "SELECT unanswered: the connect ends at its deadline");
    server = accept_and_answer(l, p, "");
    n = sizeof(got) - 1;
    got[0] = '\0';
    apr_socket_timeout_set(server, apr_time_from_sec(1));
    if (server && apr_socket_recv(server, got, &n) == APR_SUCCESS) {
        got[n] = '\0';
    }
    is_str(got, mi_redis_command(p, 2, sel), "SELECT db sent on connect");
    if (server) {
        apr_socket_close(server);
    }
    apr_pool_destroy(cp);

    /* Nothing listens: refused at once. */
    apr_socket_close(l);
    addr.db = 0;
    apr_pool_create(&cp, p);
    t0 = apr_time_now();
    rv = mi_redis_connect(&conn, cp, &addr,
                          apr_time_now() + apr_time_from_sec(5));
    ok(rv != APR_SUCCESS && since(t0) < apr_time_from_sec(1),
       "nothing listens: the connect fails at once");
    apr_pool_destroy(cp);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_url(p);
    test_command(p);
    test_replies(p);
    test_connection(p);
    return unit_done(p);
}
