/* mi_egress.c: the destinations rule of webhook deliveries. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "mi_egress.h"

#define CIDR_TEXT_MAX 64

/* IPv4 networks that are not public (IANA's special-purpose registry):
 * "this network", private, carrier-grade NAT, loopback, link-local, IETF
 * protocol assignments, documentation, 6to4 relays, benchmarking,
 * multicast, reserved and broadcast. */
static const mi_cidr_t reserved4[] = {
    { AF_INET, { 0 }, 8 },
    { AF_INET, { 10 }, 8 },
    { AF_INET, { 100, 64 }, 10 },
    { AF_INET, { 127 }, 8 },
    { AF_INET, { 169, 254 }, 16 },
    { AF_INET, { 172, 16 }, 12 },
    { AF_INET, { 192, 0, 0 }, 24 },
    { AF_INET, { 192, 0, 2 }, 24 },
    { AF_INET, { 192, 88, 99 }, 24 },
    { AF_INET, { 192, 168 }, 16 },
    { AF_INET, { 198, 18 }, 15 },
    { AF_INET, { 198, 51, 100 }, 24 },
    { AF_INET, { 203, 0, 113 }, 24 },
    { AF_INET, { 224 }, 4 },
    { AF_INET, { 240 }, 4 },
};

/* IPv6: only global unicast (2000::/3) is public, less what IANA keeps
 * in it: IETF protocol assignments (Teredo among them) and documentation.
 * Everything else (unspecified, loopback, unique-local, link-local,
 * site-local, multicast, discard, local NAT64) is outside 2000::/3. */
static const mi_cidr_t global6 = { AF_INET6, { 0x20 }, 3 };
static const mi_cidr_t reserved6[] = {
    { AF_INET6, { 0x20, 0x01 }, 23 },
    { AF_INET6, { 0x20, 0x01, 0x0d, 0xb8 }, 32 },
    { AF_INET6, { 0x3f, 0xff }, 20 },
};

/* IPv6 forms that carry an IPv4 address, which decides. */
static const mi_cidr_t mapped6 = {
    AF_INET6, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96 };
static const mi_cidr_t nat64 = { AF_INET6, { 0, 0x64, 0xff, 0x9b }, 96 };
static const mi_cidr_t six_to_four = { AF_INET6, { 0x20, 0x02 }, 16 };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int in_cidr(const mi_cidr_t *c, int family, const unsigned char *a)
{
    int whole = c->bits / 8, rest = c->bits % 8;

    if (c->family != family || memcmp(c->addr, a, (size_t)whole)) {
        return 0;
    }
    return !rest || !((c->addr[whole] ^ a[whole]) & (0xff00 >> rest) & 0xff);
}

static int in_any(const mi_cidr_t *list, size_t n, int family,
                  const unsigned char *a)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (in_cidr(&list[i], family, a)) {
            return 1;
        }
    }
    return 0;
}

/* The IPv4 address inside an IPv6 one, into v4; 0 when there is none. */
static int embedded_ipv4(const unsigned char *a, unsigned char v4[4])
{
    if (in_cidr(&mapped6, AF_INET6, a) || in_cidr(&nat64, AF_INET6, a)) {
        memcpy(v4, a + 12, 4);
        return 1;
    }
    if (in_cidr(&six_to_four, AF_INET6, a)) {
        memcpy(v4, a + 2, 4);
        return 1;
    }
    return 0;
}

static int is_public(int family, const unsigned char *a)
{
    if (family == AF_INET) {
        return !in_any(reserved4, COUNT(reserved4), AF_INET, a);
    }
    return in_cidr(&global6, AF_INET6, a)
           && !in_any(reserved6, COUNT(reserved6), AF_INET6, a);
}

static int is_listed(const apr_array_header_t *allow, int family,
                     const unsigned char *a)
{
    return allow && in_any((const mi_cidr_t *)allow->elts,
                           (size_t)allow->nelts, family, a);
}

int mi_egress_allows(const mi_egress_t *egress, int family,
                     const unsigned char *addr)
{
    const apr_array_header_t *allow = egress ? egress->allow : NULL;
    unsigned char v4[4];

    if (family != AF_INET && family != AF_INET6) {
        return 0;
    }
    /* Judged by the IPv4 address alone: allowing ::/0 or 64:ff9b::/96
     * does not allow ::ffff:127.0.0.1. */
    if (family == AF_INET6 && embedded_ipv4(addr, v4)) {
        family = AF_INET;
        addr = v4;
    }
    return is_listed(allow, family, addr) || is_public(family, addr);
}

int mi_egress_allows_sockaddr(const mi_egress_t *egress, const void *sa)
{
    const struct sockaddr *s = sa;

    if (s->sa_family == AF_INET) {
        const struct sockaddr_in *in = sa;
        return mi_egress_allows(egress, AF_INET,
                                (const unsigned char *)&in->sin_addr);
    }
    if (s->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = sa;
        return mi_egress_allows(egress, AF_INET6,
                                (const unsigned char *)&in6->sin6_addr);
    }
    return 0;
}

const char *mi_cidr_parse(const char *text, mi_cidr_t *out)
{
    char buf[CIDR_TEXT_MAX];
    char *slash;
    int max, bits, i;

    if (strlen(text) >= sizeof(buf)) {
        return "is too long for an address";
    }
    strcpy(buf, text);
    if ((slash = strchr(buf, '/'))) {
        *slash = '\0';
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        max = 32;
    }
    else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        max = 128;
    }
    else {
        return "is not an IPv4 or IPv6 address";
    }
    bits = max;
    if (slash) {
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3) {
            return "has no prefix length after /";
        }
        for (bits = 0; *p; p++) {
            if (*p < '0' || *p > '9') {
                return "has a prefix length that is not a number";
            }
            bits = bits * 10 + (*p - '0');
        }
        if (bits > max) {
            return "has a prefix length too long for its address";
        }
    }
    /* ::ffff:10.0.0.0/104 is 10.0.0.0/8: embedded addresses are judged
     * as IPv4 (mi_egress_allows). */
    if (out->family == AF_INET6 && bits >= 96
        && in_cidr(&mapped6, AF_INET6, out->addr)) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = AF_INET;
        bits -= 96;
        max = 32;
    }
    out->bits = bits;
    /* The host bits are not part of the network. */
    for (i = bits; i < max; i++) {
        out->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
    }
    return NULL;
}

int mi_egress_literal(const char *host, int *family, unsigned char addr[16])
{
    char buf[CIDR_TEXT_MAX];
    size_t len = strlen(host);
    struct in_addr in;

    if (host[0] == '[') {
        char *zone;
        if (len < 3 || len - 2 >= sizeof(buf) || host[len - 1] != ']') {
            return 0;
        }
        memcpy(buf, host + 1, len - 2);
        buf[len - 2] = '\0';
        if ((zone = strchr(buf, '%'))) {
            *zone = '\0';
        }
        if (inet_pton(AF_INET6, buf, addr) != 1) {
            return 0;
        }
        *family = AF_INET6;
        return 1;
    }
    /* inet_aton reads what the resolver reads: "127.1", "2130706433",
     * "0x7f000001", "0177.0.0.1"; only those characters are let near it
     * (it stops quietly at a space). The resolver also takes one final
     * dot ("127.0.0.1."), which inet_aton does not. */
    if (!len || len >= sizeof(buf)
        || strspn(host, "0123456789abcdefABCDEFxX.") != len) {
        return 0;
    }
    memcpy(buf, host, len + 1);
    if (len > 1 && buf[len - 1] == '.') {
        buf[len - 1] = '\0';
    }
    if (!inet_aton(buf, &in)) {
        return 0;
    }
    memcpy(addr, &in, 4);
    *family = AF_INET;
    return 1;
}
