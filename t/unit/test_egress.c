/* test_egress.c: unit tests of the destinations rule (API.md section 9,
 * "Destinations"): which addresses are public, in every spelling; the
 * networks of IntegrationWebhookAllowNetworks; literal hosts of URLs,
 * refused when a webhook is made with the exact message. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "unit.h"
#include "mi_egress.h"
#include "mi_webhook.h"

#define RESERVED MI_WEBHOOK_URL_RESERVED

/* mi_egress_allows on an address given as text (inet_pton's). */
static int allows(const mi_egress_t *egress, const char *text)
{
    unsigned char addr[16];

    if (inet_pton(AF_INET, text, addr) == 1) {
        return mi_egress_allows(egress, AF_INET, addr);
    }
    if (inet_pton(AF_INET6, text, addr) == 1) {
        return mi_egress_allows(egress, AF_INET6, addr);
    }
    return -1;
}

static mi_egress_t *allowing(apr_pool_t *p, const char *const *nets)
{
    mi_egress_t *egress = apr_pcalloc(p, sizeof(*egress));

    egress->allow = apr_array_make(p, 4, sizeof(mi_cidr_t));
    for (; *nets; nets++) {
        if (mi_cidr_parse(*nets, apr_array_push(egress->allow))) {
            return NULL;
        }
    }
    return egress;
}

static void test_public(apr_pool_t *p)
{
    static const char *const refused[] = {
        "0.0.0.0", "0.255.255.255", "10.0.0.1", "10.255.255.255",
        "100.64.0.0", "100.127.255.255", "127.0.0.1", "127.255.255.254",
        "169.254.169.254", "169.254.0.1", "172.16.0.0", "172.31.255.255",
        "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.0.1",
        "192.168.255.255", "198.18.0.1", "198.19.255.255", "198.51.100.7",
        "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255",
        "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:7f00:1",
        "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:0.0.0.0",
        "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::808:808",
        "2002:7f00:1::", "2002:a00:1::1", "2001::1", "2001:0:4136::1",
        "2001:db8::1", "3fff::1", "fc00::1", "fd12:3456::1", "fe80::1",
        "febf::1", "fec0::1", "ff02::1", "ff0e::1", "100::1",
        "::ffff:0:7f00:1",
    };
    static const char *const public[] = {
        "8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0",
        "172.15.255.255", "172.32.0.0", "169.253.255.255", "192.0.1.1",
        "192.167.255.255", "198.17.255.255", "198.20.0.0", "223.255.255.255",
        "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8",
        "64:ff9b::808:808", "2002:808:808::1", "2001:200::1",
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(refused); i++) {
        ok(allows(NULL, refused[i]) == 0, apr_psprintf(p, "%s refused",
                                                       refused[i]));
    }
    for (i = 0; i < MI_ARRAY_SIZE(public); i++) {
        ok(allows(NULL, public[i]) == 1, apr_psprintf(p, "%s public",
                                                      public[i]));
    }
    ok(!mi_egress_allows(NULL, AF_UNIX, (const unsigned char *)"xxxx"),
       "another family refused");
}

static void test_allow_networks(apr_pool_t *p)
{
    static const char *const loopback[] = { "127.0.0.0/8", "::1/128", NULL };
    static const char *const closed[] = { "10.20.0.0/16", "fd00:1::/32",
                                          "192.0.2.7", NULL };
    const mi_egress_t *lo = allowing(p, loopback);
    const mi_egress_t *net = allowing(p, closed);

    ok(lo && net, "the networks parse");
    ok(allows(lo, "127.0.0.1") == 1 && allows(lo, "127.9.9.9") == 1,
       "127.0.0.0/8 allows loopback");
    ok(allows(lo, "::ffff:127.0.0.1") == 1,
       "and its IPv4-mapped spelling");
    ok(allows(lo, "::1") == 1, "::1/128 allows ::1");
    ok(allows(lo, "10.0.0.1") == 0 && allows(lo, "169.254.169.254") == 0
           && allows(lo, "::2") == 0,
       "and nothing else that is not public");
    ok(allows(lo, "8.8.8.8") == 1, "public addresses stay allowed");
    ok(allows(net, "10.20.255.1") == 1 && allows(net, "10.21.0.1") == 0,
       "10.20.0.0/16: in it, and next to it");
    ok(allows(net, "fd00:1:ffff::1") == 1 && allows(net, "fd00:2::1") == 0,
       "fd00:1::/32: in it, and next to it");
    ok(allows(net, "192.0.2.7") == 1 && allows(net, "192.0.2.8") == 0,
       "one address is a /32");
    {
        static const char *const wide[] = { "::/0", "64:ff9b::/96",
                                            "2002::/16", NULL };
        static const char *const mapped[] = { "::ffff:10.0.0.0/104", NULL };
        const mi_egress_t *v6 = allowing(p, wide);
        const mi_egress_t *m = allowing(p, mapped);

        ok(v6 && allows(v6, "::ffff:127.0.0.1") == 0
               && allows(v6, "64:ff9b::a9fe:a9fe") == 0
               && allows(v6, "2002:7f00:1::") == 0 && allows(v6, "::1") == 1,
           "IPv6 networks allow no embedded IPv4 address: judged as IPv4");
        ok(m && allows(m, "10.1.2.3") == 1 && allows(m, "::ffff:10.1.2.3") == 1
               && allows(m, "11.0.0.1") == 1 && allows(m, "127.0.0.1") == 0,
           "::ffff:10.0.0.0/104 is 10.0.0.0/8");
    }
}

static void test_cidr_parse(apr_pool_t *p)
{
    static const struct {
        const char *text;
        const char *want;       /* NULL: parsed */
    } cases[] = {
        { "10.0.0.0/8", NULL },
        { "0.0.0.0/0", NULL },
        { "::/0", NULL },
        { "fe80::/10", NULL },
        { "192.0.2.1", NULL },
        { "::1", NULL },
        { "10.0.0.0/", "has no prefix length after /" },
        { "10.0.0.0/33", "has a prefix length too long for its address" },
        { "::/129", "has a prefix length too long for its address" },
        { "10.0.0.0/1x", "has a prefix length that is not a number" },
        { "10.0.0.0/-1", "has a prefix length that is not a number" },
        { "10.0.0.0/0008", "has no prefix length after /" },
        { "10.0.0/8", "is not an IPv4 or IPv6 address" },
        { "127.1", "is not an IPv4 or IPv6 address" },
        { "localhost", "is not an IPv4 or IPv6 address" },
        { "", "is not an IPv4 or IPv6 address" },
        { "/8", "is not an IPv4 or IPv6 address" },
        { "1111111111111111111111111111111111111111111111111111111111111111",
          "is too long for an address" },
    };
    mi_cidr_t net;
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        is_str(mi_cidr_parse(cases[i].text, &net), cases[i].want,
               apr_psprintf(p, "network \"%s\"", cases[i].text));
    }
    ok(!mi_cidr_parse("10.20.30.40/16", &net) && net.family == AF_INET
           && net.bits == 16 && net.addr[0] == 10 && net.addr[1] == 20
           && !net.addr[2] && !net.addr[3],
       "the host bits are dropped: 10.20.30.40/16 is 10.20.0.0/16");
    ok(!mi_cidr_parse("fd00::1/7", &net) && net.family == AF_INET6
           && net.bits == 7 && net.addr[0] == 0xfc && !net.addr[15],
       "and in IPv6: fd00::1/7 is fc00::/7");
}

static void test_literal(apr_pool_t *p)
{
    static const struct {
        const char *host;
        int family;             /* 0: a name */
        const char *addr;       /* as inet_ntop writes it */
    } cases[] = {
        { "127.0.0.1", AF_INET, "127.0.0.1" },
        { "127.1", AF_INET, "127.0.0.1" },
        { "2130706433", AF_INET, "127.0.0.1" },
        { "0x7f000001", AF_INET, "127.0.0.1" },
        { "0177.0.0.1", AF_INET, "127.0.0.1" },
        { "0", AF_INET, "0.0.0.0" },
        { "[::1]", AF_INET6, "::1" },
        { "[0:0:0:0:0:0:0:1]", AF_INET6, "::1" },
        { "[::ffff:127.0.0.1]", AF_INET6, "::ffff:127.0.0.1" },
        { "[fe80::1%25eth0]", AF_INET6, "fe80::1" },
        { "[fe80::1%eth0]", AF_INET6, "fe80::1" },
        { "127.0.0.1.", AF_INET, "127.0.0.1" },
        { "127.1.", AF_INET, "127.0.0.1" },
        { "127.0.0.1..", 0, NULL },
        { ".", 0, NULL },
        { "localhost", 0, NULL },
        { "example.com", 0, NULL },
        { "cafe.beef", 0, NULL },
        { "127.0.0.1.nip.io", 0, NULL },
        { "1.2.3.4 x", 0, NULL },
        { "[::1", 0, NULL },
        { "[]", 0, NULL },
        { "[example.com]", 0, NULL },
        { "", 0, NULL },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        unsigned char addr[16];
        char text[INET6_ADDRSTRLEN] = "";
        int family = 0, lit = mi_egress_literal(cases[i].host, &family, addr);

        if (lit) {
            inet_ntop(family, addr, text, sizeof(text));
        }
        ok(cases[i].family ? lit && family == cases[i].family
                                 && !strcmp(text, cases[i].addr)
                           : !lit,
           apr_psprintf(p, "host \"%s\": %s", cases[i].host,
                        cases[i].family ? cases[i].addr : "a name"));
    }
}

static void test_sockaddr(void)
{
    struct sockaddr_in in = { 0 };
    struct sockaddr_in6 in6 = { 0 };
    struct sockaddr other = { 0 };

    in.sin_family = AF_INET;
    inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
    ok(!mi_egress_allows_sockaddr(NULL, &in), "sockaddr_in: metadata refused");
    inet_pton(AF_INET, "93.184.216.34", &in.sin_addr);
    ok(mi_egress_allows_sockaddr(NULL, &in), "sockaddr_in: public allowed");
    in6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:10.0.0.1", &in6.sin6_addr);
    ok(!mi_egress_allows_sockaddr(NULL, &in6), "sockaddr_in6: mapped refused");
    inet_pton(AF_INET6, "2606:4700:4700::1111", &in6.sin6_addr);
    ok(mi_egress_allows_sockaddr(NULL, &in6), "sockaddr_in6: public allowed");
    other.sa_family = AF_UNIX;
    ok(!mi_egress_allows_sockaddr(NULL, &other), "a unix socket refused");
}

/* The literal forms API.md section 9 names, refused when a webhook is
 * made; names are left to the connection. */
static void test_url_literals(apr_pool_t *p)
{
    static const char *const refused[] = {
        "https://127.0.0.1:8443/h", "https://127.1/", "https://2130706433/",
        "https://0x7f000001/", "https://0177.0.0.1/", "https://[::1]/",
        "https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/",
        "https://0.0.0.0/", "https://0/", "https://10.0.0.1/",
        "https://172.16.5.4/", "https://192.168.1.1/", "https://100.64.0.1/",
        "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/",
        "https://[fe80::1%25eth0]/", "https://[fc00::1]/", "https://[fd00::1]/",
        "https://224.0.0.1/", "https://255.255.255.255/",
        "https://user@10.0.0.1/", "https://10.0.0.1@192.168.0.1/",
        "HTTPS://127.0.0.1/", "https://[64:ff9b::a00:1]/",
        "https://[2002:c0a8:101::1]/", "https://127.0.0.1./",
        "https://127.1./", "https://2130706433./", "https://127.0.0.1%2e/",
    };
    /* International spellings of 127.0.0.1: refused whether libcurl can
     * map them (a UTF-8 locale) or not (the C locale: no host). */
    static const char *const unicode[] = {
        "https://\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.0.0.1/",
        "https://\xe2\x91\xa0\xe2\x91\xa1\xe2\x91\xa6.0.0.1/",
        "https://127\xe3\x80\x82" "0\xe3\x80\x82" "0\xe3\x80\x82" "1/",
    };
    static const char *const loopback[] = { "127.0.0.0/8", "::1/128", NULL };
    const mi_egress_t *lo = allowing(p, loopback);
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(refused); i++) {
        is_str(mi_webhook_url_check(refused[i], 0, NULL), RESERVED,
               apr_psprintf(p, "url \"%s\" refused", refused[i]));
    }
    for (i = 0; i < MI_ARRAY_SIZE(unicode); i++) {
        ok(mi_webhook_url_check(unicode[i], 0, NULL) != NULL,
           apr_psprintf(p, "url \"%s\" refused", unicode[i]));
    }
    is_str(mi_webhook_url_check("https://8.8.8.8/h", 0, NULL), NULL,
           "a public literal accepted");
    is_str(mi_webhook_url_check("https://[2606:4700:4700::1111]/h", 0, NULL),
           NULL, "a public IPv6 literal accepted");
    is_str(mi_webhook_url_check("https://localhost/h", 0, NULL), NULL,
           "a name is left to the connection (localhost)");
    is_str(mi_webhook_url_check("https://127.0.0.1.nip.io/h", 0, NULL), NULL,
           "a name is left to the connection (one that reads like an address)");
    is_str(mi_webhook_url_check("http://127.0.0.1:9/h", 1, lo), NULL,
           "127.0.0.0/8 allowed: accepted");
    is_str(mi_webhook_url_check("http://127.1:9/h", 1, lo), NULL,
           "in any spelling");
    is_str(mi_webhook_url_check("http://[::1]:9/h", 1, lo), NULL,
           "::1/128 allowed: accepted");
    is_str(mi_webhook_url_check("http://10.0.0.1/h", 1, lo), RESERVED,
           "what is not allowed still refused");
    is_str(mi_webhook_url_check("ftp://10.0.0.1/h", 1, NULL),
           "url must be an absolute http or https URL",
           "the scheme is checked first");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_public(p);
    test_allow_networks(p);
    test_cidr_parse(p);
    test_literal(p);
    test_sockaddr();
    test_url_literals(p);
    return unit_done(p);
}
