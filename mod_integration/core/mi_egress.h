/* mi_egress.h: where webhook deliveries may connect (API.md section 9,
 * "Destinations"): public addresses only, besides the networks the operator
 * allows (IntegrationWebhookAllowNetworks). Decided on the address actually
 * connected to, so that no host name, spelling or DNS answer gets around
 * it; literal addresses in a URL are refused when the webhook is made. */
#ifndef MI_EGRESS_H
#define MI_EGRESS_H

#include <apr_pools.h>
#include <apr_tables.h>

/* An IPv4 or IPv6 network: family AF_INET (4 bytes of addr) or AF_INET6. */
typedef struct {
    int family;
    unsigned char addr[16];
    int bits;
} mi_cidr_t;

/* Networks IntegrationWebhookAllowNetworks takes (each connection is
 * checked against every one). */
#define MI_EGRESS_NETWORKS_MAX 64

typedef struct {
    apr_array_header_t *allow;  /* of mi_cidr_t, or NULL: public only */
    const char *proxy;          /* outbound proxy URL, or NULL: direct */
    const char *cafile;         /* PEM bundle, or NULL: the system's */
} mi_egress_t;

/* "10.20.0.0/16", "fd00::/8", or one address ("192.0.2.7", "::1"). NULL
 * when *out is set; otherwise what is wrong with text. */
const char *mi_cidr_parse(const char *text, mi_cidr_t *out);

/* Whether a delivery may connect to addr (4 bytes for AF_INET, 16 for
 * AF_INET6): a public address, or one in an allowed network. An IPv6
 * address that embeds an IPv4 one (mapped, NAT64, 6to4) is judged by it. */
int mi_egress_allows(const mi_egress_t *egress, int family,
                     const unsigned char *addr);

/* The same for a socket address (struct sockaddr_in or _in6); 0 for any
 * other family. */
int mi_egress_allows_sockaddr(const mi_egress_t *egress, const void *sa);

/* Whether host (a URL's host as libcurl gives it: "[...]" around IPv6)
 * is a literal address, in any spelling the resolver would take
 * ("127.1", "0x7f000001", "[::ffff:127.0.0.1]"); 1 and *family and addr
 * set when it is. */
int mi_egress_literal(const char *host, int *family, unsigned char addr[16]);

#endif
