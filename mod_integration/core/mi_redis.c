/* mi_redis.c: a small Redis client over APR sockets: the redis:// URL,
 * RESP commands and replies, and a connection bounded by a deadline.
 *
 * Not APR-util's apr_redis: in 1.6.3 it waits 1 s for a connection and
 * its reads and writes in whole seconds (a hung Redis would hold a request
 * that long), and it has neither SELECT nor MULTI/EXEC nor an expiry on a
 * counter, which an exact shared count needs (mi_ratecount.c). */
#include <stdlib.h>
#include <string.h>
#include "mi_redis.h"

#define URL_PREFIX "redis://"
#define HOST_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
                   "0123456789.-_"
#define IPV6_CHARS "0123456789ABCDEFabcdef:."

/* A whole number (at most 18 digits, optionally negative) in [min, max]
 * that spans s[0..n) exactly. */
static int parse_number(const char *s, apr_size_t n, apr_int64_t min,
                        apr_int64_t max, apr_int64_t *out)
{
    apr_int64_t v = 0;
    apr_size_t i = 0;
    int negative = n > 0 && s[0] == '-';

    if (negative) {
        i++;
    }
    if (i == n || n - i > 18) {
        return 0;
    }
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    v = negative ? -v : v;
    if (v < min || v > max) {
        return 0;
    }
    *out = v;
    return 1;
}

/* The host of a redis:// URL at s: its length in *n, or a reason. */
static const char *url_host(apr_pool_t *p, const char *s, const char **host,
                            apr_size_t *n)
{
    if (*s == '[') {
        const char *end = strchr(s, ']');
        apr_size_t len = end ? (apr_size_t)(end - s - 1) : 0;

        if (!end || !len || strspn(s + 1, IPV6_CHARS) != len) {
            return "has an IPv6 address that is not closed by ] or not "
                   "valid";
        }
        *host = apr_pstrndup(p, s + 1, len);
        *n = len + 2;
        return NULL;
    }
    *n = strspn(s, HOST_CHARS);
    if (*n == 0) {
        return "has no host";
    }
    *host = apr_pstrndup(p, s, *n);
    return NULL;
}

const char *mi_redis_url_parse(apr_pool_t *p, const char *url,
                               mi_redis_addr_t *addr)
{
    const char *s, *err;
    apr_size_t n;
    apr_int64_t v;

    if (strncasecmp(url, URL_PREFIX, strlen(URL_PREFIX))) {
        return "is not a redis:// URL";
    }
    if (strchr(url, '@')) {
        /* The caller must not repeat such a URL: it may hold a password. */
        return "has credentials (user:password@), which are not supported";
    }
    s = url + strlen(URL_PREFIX);
    if ((err = url_host(p, s, &addr->host, &n))) {
        return err;
    }
    s += n;
    addr->port = MI_REDIS_DEFAULT_PORT;
    addr->db = 0;
    if (*s == ':') {
        n = strcspn(++s, "/");
        if (!parse_number(s, n, 1, 65535, &v)) {
            return "has a port that is not a number from 1 to 65535";
        }
        addr->port = (apr_port_t)v;
        s += n;
    }
    if (*s == '/' && s[1]) {
        n = strlen(++s);
        if (!parse_number(s, n, 0, 2147483647, &v) || *s == '-') {
            return "has a database that is not a number from 0 to "
                   "2147483647";
        }
        addr->db = (int)v;
        s += n;
    }
    else if (*s == '/') {
        s++;
    }
    if (*s) {
        return "has more than a host, a port and a database number";
    }
    return NULL;
}

const char *mi_redis_addr_text(apr_pool_t *p, const mi_redis_addr_t *addr)
{
    int ipv6 = strchr(addr->host, ':') != NULL;

    return apr_psprintf(p, "%s%s%s:%u", ipv6 ? "[" : "", addr->host,
                        ipv6 ? "]" : "", (unsigned)addr->port);
}

/* ---- RESP ------------------------------------------------------------- */

char *mi_redis_command(apr_pool_t *p, int argc, const char *const *argv)
{
    char *out = apr_psprintf(p, "*%d\r\n", argc);
    int i;

    for (i = 0; i < argc; i++) {
        out = apr_psprintf(p, "%s$%" APR_SIZE_T_FMT "\r\n%s\r\n", out,
                           strlen(argv[i]), argv[i]);
    }
    return out;
}

static mi_redis_parse_e parse_at(apr_pool_t *p, const char *buf,
                                 apr_size_t len, apr_size_t *pos,
                                 mi_redis_reply_t *reply, int depth);

/* The elements of an array of n, after its header. */
static mi_redis_parse_e parse_elements(apr_pool_t *p, const char *buf,
                                       apr_size_t len, apr_size_t *pos,
                                       mi_redis_reply_t *reply, int depth)
{
    mi_redis_parse_e rc;
    int i;

    if (depth >= MI_REDIS_MAX_DEPTH || reply->n > MI_REDIS_MAX_ELEMENTS) {
        return MI_REDIS_MALFORMED;
    }
    reply->elements = apr_pcalloc(p, sizeof(*reply->elements)
                                         * (reply->n ? reply->n : 1));
    for (i = 0; i < reply->n; i++) {
        rc = parse_at(p, buf, len, pos, &reply->elements[i], depth + 1);
        if (rc != MI_REDIS_PARSED) {
            return rc;
        }
    }
    return MI_REDIS_PARSED;
}

/* The n bytes of a bulk string and their CRLF, at *pos. */
static mi_redis_parse_e parse_bulk(apr_pool_t *p, const char *buf,
                                   apr_size_t len, apr_size_t *pos,
                                   mi_redis_reply_t *reply)
{
    if (len - *pos < reply->len + 2) {
        return MI_REDIS_PARTIAL;
    }
    if (memcmp(buf + *pos + reply->len, "\r\n", 2)) {
        return MI_REDIS_MALFORMED;
    }
    reply->str = apr_pstrmemdup(p, buf + *pos, reply->len);
    *pos += reply->len + 2;
    return MI_REDIS_PARSED;
}

static mi_redis_parse_e parse_at(apr_pool_t *p, const char *buf,
                                 apr_size_t len, apr_size_t *pos,
                                 mi_redis_reply_t *reply, int depth)
{
    const char *line = buf + *pos, *eol;
    apr_size_t n;
    apr_int64_t v;

    eol = len > *pos ? memchr(line, '\n', len - *pos) : NULL;
    if (!eol) {
        return len - *pos > MI_REDIS_REPLY_MAX ? MI_REDIS_MALFORMED
                                               : MI_REDIS_PARTIAL;
    }
    if (eol - line < 2 || eol[-1] != '\r') {
        return MI_REDIS_MALFORMED;
    }
    n = (apr_size_t)(eol - line) - 2;   /* without the type and CRLF */
    *pos += n + 3;
    memset(reply, 0, sizeof(*reply));
    switch (line[0]) {
    case '+':
    case '-':
        reply->type = line[0] == '+' ? MI_REDIS_STATUS : MI_REDIS_ERROR;
        reply->str = apr_pstrmemdup(p, line + 1, n);
        reply->len = n;
        return MI_REDIS_PARSED;
    case ':':
        reply->type = MI_REDIS_INTEGER;
        return parse_number(line + 1, n, APR_INT64_MIN + 1, APR_INT64_MAX,
                            &reply->integer) ? MI_REDIS_PARSED
                                             : MI_REDIS_MALFORMED;
    case '$':
    case '*':
        if (!parse_number(line + 1, n, -1, MI_REDIS_REPLY_MAX, &v)) {
            return MI_REDIS_MALFORMED;
        }
        if (v == -1) {
            reply->type = MI_REDIS_NIL;
            return MI_REDIS_PARSED;
        }
        if (line[0] == '$') {
            reply->type = MI_REDIS_BULK;
            reply->len = (apr_size_t)v;
            return parse_bulk(p, buf, len, pos, reply);
        }
        reply->type = MI_REDIS_ARRAY;
        reply->n = (int)v;
        return parse_elements(p, buf, len, pos, reply, depth);
    default:
        return MI_REDIS_MALFORMED;
    }
}

mi_redis_parse_e mi_redis_reply_parse(apr_pool_t *p, const char *buf,
                                      apr_size_t len, mi_redis_reply_t *reply,
                                      apr_size_t *used)
{
    apr_size_t pos = 0;
    mi_redis_parse_e rc = parse_at(p, buf, len, &pos, reply, 0);

    if (rc == MI_REDIS_PARSED) {
        *used = pos;
    }
    return rc;
}

/* ---- the connection ---------------------------------------------------- */

#define CONN_BUFFER (2 * MI_REDIS_REPLY_MAX)

struct mi_redis_conn_t {
    apr_socket_t *sock;
    char buf[CONN_BUFFER];
    apr_size_t have;
};

/* The socket's timeout for its next wait: what is left until deadline. */
static apr_status_t wait_at_most_until(apr_socket_t *sock,
                                       apr_time_t deadline)
{
    apr_interval_time_t left = deadline - apr_time_now();

    if (left <= 0) {
        return APR_TIMEUP;
    }
    return apr_socket_timeout_set(sock, left);
}

static apr_status_t send_all(mi_redis_conn_t *conn, const char *data,
                             apr_time_t deadline)
{
    apr_size_t len = strlen(data), off = 0, n;
    apr_status_t rv;

    while (off < len) {
        if ((rv = wait_at_most_until(conn->sock, deadline)) != APR_SUCCESS) {
            return rv;
        }
        n = len - off;
        rv = apr_socket_send(conn->sock, data + off, &n);
        off += n;
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Reads what the server sent next into the buffer. */
static apr_status_t receive_more(mi_redis_conn_t *conn, apr_time_t deadline)
{
    apr_size_t n = CONN_BUFFER - conn->have;
    apr_status_t rv;

    if (n == 0) {
        return APR_ENOSPC;
    }
    if ((rv = wait_at_most_until(conn->sock, deadline)) != APR_SUCCESS) {
        return rv;
    }
    rv = apr_socket_recv(conn->sock, conn->buf + conn->have, &n);
    conn->have += n;
    return n > 0 ? APR_SUCCESS : rv != APR_SUCCESS ? rv : APR_EOF;
}

apr_status_t mi_redis_exchange(mi_redis_conn_t *conn, apr_pool_t *p,
                               const char *request, int nreplies,
                               mi_redis_reply_t *replies, apr_time_t deadline)
{
    apr_size_t pos = 0, used;
    apr_status_t rv;
    int i = 0;

    conn->have = 0;
    if ((rv = send_all(conn, request, deadline)) != APR_SUCCESS) {
        return rv;
    }
    while (i < nreplies) {
        switch (mi_redis_reply_parse(p, conn->buf + pos, conn->have - pos,
                                     &replies[i], &used)) {
        case MI_REDIS_PARSED:
            pos += used;
            i++;
            break;
        case MI_REDIS_PARTIAL:
            if ((rv = receive_more(conn, deadline)) != APR_SUCCESS) {
                return rv;
            }
            break;
        case MI_REDIS_MALFORMED:
            return APR_EGENERAL;
        }
    }
    /* Bytes beyond the replies asked for: out of step with the server. */
    return pos == conn->have ? APR_SUCCESS : APR_EGENERAL;
}

/* SELECT db, when it is not 0. */
static apr_status_t select_db(mi_redis_conn_t *conn, apr_pool_t *pool,
                              int db, apr_time_t deadline)
{
    const char *argv[] = { "SELECT", apr_itoa(pool, db) };
    mi_redis_reply_t reply;
    apr_status_t rv;

    if (db == 0) {
        return APR_SUCCESS;
    }
    rv = mi_redis_exchange(conn, pool, mi_redis_command(pool, 2, argv), 1,
                           &reply, deadline);
    if (rv == APR_SUCCESS && reply.type != MI_REDIS_STATUS) {
        rv = APR_EGENERAL;
    }
    return rv;
}

apr_status_t mi_redis_connect(mi_redis_conn_t **out, apr_pool_t *pool,
                              const mi_redis_addr_t *addr,
                              apr_time_t deadline)
{
    mi_redis_conn_t *conn = apr_pcalloc(pool, sizeof(*conn));
    apr_sockaddr_t *sa;
    apr_status_t rv;

    /* A name is resolved by the system's resolver, whose waits are its
     * own (resolv.conf): give an address, or a name of /etc/hosts. */
    rv = apr_sockaddr_info_get(&sa, addr->host, APR_UNSPEC, addr->port, 0,
                               pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = apr_socket_create(&conn->sock, sa->family, SOCK_STREAM,
                           APR_PROTO_TCP, pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_socket_opt_set(conn->sock, APR_TCP_NODELAY, 1);
    if ((rv = wait_at_most_until(conn->sock, deadline)) != APR_SUCCESS
        || (rv = apr_socket_connect(conn->sock, sa)) != APR_SUCCESS
        || (rv = select_db(conn, pool, addr->db, deadline)) != APR_SUCCESS) {
        apr_socket_close(conn->sock);
        return rv;
    }
    *out = conn;
    return APR_SUCCESS;
}
