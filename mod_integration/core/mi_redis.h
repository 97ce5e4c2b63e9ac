/* mi_redis.h: the little of Redis that a shared rate limit needs: the
 * redis:// address of IntegrationRateLimitStore, commands written in RESP
 * (Redis's protocol), its replies read back, and a connection whose every
 * wait ends at a deadline that the caller sets. */
#ifndef MI_REDIS_H
#define MI_REDIS_H

#include <apr_network_io.h>
#include "mi_common.h"

#define MI_REDIS_DEFAULT_PORT 6379

typedef struct {
    const char *host;           /* a name, an IPv4 or an IPv6 address */
    apr_port_t port;
    int db;                     /* the SELECT number; 0 by default */
} mi_redis_addr_t;

/* "redis://host[:port][/db]" (IPv6 in brackets). NULL when it is one,
 * with *addr set (strings in p); else why not, for the directive's
 * message. */
const char *mi_redis_url_parse(apr_pool_t *p, const char *url,
                               mi_redis_addr_t *addr);

/* host:port (IPv6 in brackets), for logs. */
const char *mi_redis_addr_text(apr_pool_t *p, const mi_redis_addr_t *addr);

typedef enum {
    MI_REDIS_STATUS,            /* +OK */
    MI_REDIS_ERROR,             /* -ERR ... */
    MI_REDIS_INTEGER,           /* :42 */
    MI_REDIS_BULK,              /* $2\r\nhi */
    MI_REDIS_NIL,               /* $-1 or *-1 */
    MI_REDIS_ARRAY              /* *2 ... */
} mi_redis_type_e;

typedef struct mi_redis_reply_t {
    mi_redis_type_e type;
    apr_int64_t integer;        /* MI_REDIS_INTEGER */
    const char *str;            /* STATUS, ERROR, BULK: NUL-terminated */
    apr_size_t len;
    int n;                      /* ARRAY: its elements */
    struct mi_redis_reply_t *elements;
} mi_redis_reply_t;

/* Arrays nest at most this deep and hold at most this many elements; a
 * bulk string is at most MI_REDIS_REPLY_MAX bytes: what the rate limit
 * reads is far smaller, and anything larger is a protocol error. */
#define MI_REDIS_MAX_DEPTH 4
#define MI_REDIS_MAX_ELEMENTS 64
#define MI_REDIS_REPLY_MAX 4096

/* The command argv[0..argc) as a RESP array of bulk strings, in p.
 * Commands written one after the other are sent as one request (Redis
 * answers each in turn). */
char *mi_redis_command(apr_pool_t *p, int argc, const char *const *argv);

typedef enum {
    MI_REDIS_PARSED,            /* *reply set, *used bytes consumed */
    MI_REDIS_PARTIAL,           /* more bytes are needed */
    MI_REDIS_MALFORMED          /* not RESP, or beyond the limits above */
} mi_redis_parse_e;

/* Reads one reply from buf[0..len). */
mi_redis_parse_e mi_redis_reply_parse(apr_pool_t *p, const char *buf,
                                      apr_size_t len, mi_redis_reply_t *reply,
                                      apr_size_t *used);

typedef struct mi_redis_conn_t mi_redis_conn_t;

/* Connects to addr (and SELECTs its db) by deadline; the connection lives
 * in pool, and its socket is closed when pool goes. APR_TIMEUP when the
 * deadline passed, APR_EGENERAL when the server answered with an error. */
apr_status_t mi_redis_connect(mi_redis_conn_t **conn, apr_pool_t *pool,
                              const mi_redis_addr_t *addr,
                              apr_time_t deadline);

/* Sends request (one or more commands) and reads nreplies replies into
 * replies[] (strings in p), by deadline. On any failure the connection is
 * out of step with the server: close it. */
apr_status_t mi_redis_exchange(mi_redis_conn_t *conn, apr_pool_t *p,
                               const char *request,
                               int nreplies, mi_redis_reply_t *replies,
                               apr_time_t deadline);

#endif
