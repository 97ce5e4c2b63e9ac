/* fuzz_webhook_url.c: mi_webhook_url_check, with and without plain http,
 * and the destinations rule's own readers of text (mi_egress_literal,
 * mi_cidr_parse) on the same input. */
#include <strings.h>
#include <sys/socket.h>
#include "fuzz.h"
#include "mi_webhook.h"

/* An accepted URL's host is a name or a public address. */
static void check_host(const char *url)
{
    CURLU *u;
    char *host = NULL;
    unsigned char addr[16];
    int family;

    FUZZ_ASSERT(!mi_webhook_url_parse(url, 1, NULL, &u, NULL));
    FUZZ_ASSERT(curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK);
    FUZZ_ASSERT(*host);
    if (mi_egress_literal(host, &family, addr)) {
        FUZZ_ASSERT(mi_egress_allows(NULL, family, addr));
    }
    curl_free(host);
    curl_url_cleanup(u);
}

/* A network parsed contains its own address, and allows it. */
static void check_cidr(apr_pool_t *pool, const char *text)
{
    mi_cidr_t net;
    mi_egress_t egress = { NULL, NULL, NULL };

    if (mi_cidr_parse(text, &net)) {
        return;
    }
    FUZZ_ASSERT(net.family == AF_INET ? net.bits <= 32
                                      : net.family == AF_INET6
                                        && net.bits <= 128);
    egress.allow = apr_array_make(pool, 1, sizeof(mi_cidr_t));
    *(mi_cidr_t *)apr_array_push(egress.allow) = net;
    FUZZ_ASSERT(mi_egress_allows(&egress, net.family, net.addr));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *url = fuzz_cstring(pool, data, size);
    unsigned char addr[16];
    int family;

    if (!mi_webhook_url_check(url, 0, NULL)) {
        FUZZ_ASSERT(!strncasecmp(url, "https://", 8) && strlen(url) > 8);
        FUZZ_ASSERT(!mi_webhook_url_check(url, 1, NULL));
    }
    if (!mi_webhook_url_check(url, 1, NULL)) {
        FUZZ_ASSERT(!strncasecmp(url, "https://", 8)
                    || !strncasecmp(url, "http://", 7));
        FUZZ_ASSERT(strlen(url) <= 2048 && !strpbrk(url, " \r\n\t"));
        check_host(url);
    }
    if (mi_egress_literal(url, &family, addr)) {
        FUZZ_ASSERT(family == AF_INET || family == AF_INET6);
    }
    check_cidr(pool, url);
    fuzz_pool_done(pool);
    return 0;
}
