/* fuzz_route.c: mi_route_match, the route table of the glue (built from the
 * resources once, as post_config does). Built with
 * httpd's headers (mod_integration_route.c includes mod_integration.h) and
 * linked with the stubs below in place of the module record and the handlers, which
 * mod_integration_route.c only takes the addresses of.
 *
 * The input's first byte picks the method (modulo 6: '0' GET, '1' POST,
 * '2' PUT, '3' DELETE, '4' PATCH, '5' OPTIONS), the rest is the path below
 * the API base, as the handler passes it. */
#include "fuzz.h"
#include "mod_integration_api.h"
#include "mod_integration_route.h"

module AP_MODULE_DECLARE_DATA integration_module;

#define STUB(name)                                                         \
    int name(mi_req_t *req)                                                \
    {                                                                      \
        (void)req;                                                         \
        return OK;                                                         \
    }
STUB(mi_api_health) STUB(mi_api_openapi) STUB(mi_api_list)
STUB(mi_api_upsert) STUB(mi_api_get) STUB(mi_api_delete) STUB(mi_api_dds)
STUB(mi_api_sync_status) STUB(mi_api_sync_logs)
STUB(mi_api_webhook_create) STUB(mi_api_webhook_list)
STUB(mi_api_webhook_get) STUB(mi_api_webhook_update)
STUB(mi_api_webhook_delete) STUB(mi_api_webhook_rotate)
STUB(mi_api_webhook_test) STUB(mi_api_webhook_deliveries)
STUB(mi_api_webhook_redeliver)

static const int methods[] = { M_GET, M_POST, M_PUT, M_DELETE, M_PATCH,
                               M_OPTIONS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    const mi_route_t *route = NULL;
    const char *path, *params[MI_ROUTE_PARAMS] = { NULL }, *allow = NULL;
    const char *star;
    static int built;
    int method;
    mi_route_match_e rc;

    if (size < 1) {
        return 0;
    }
    if (!built) {
        mi_routes_init(fuzz_init(), mi_resources);
        built = 1;
    }
    pool = fuzz_pool();
    method = methods[data[0] % MI_ARRAY_SIZE(methods)];
    path = fuzz_cstring(pool, data + 1, size - 1);
    rc = mi_route_match(pool, path, method, &route, params, &allow);
    switch (rc) {
    case MI_ROUTE_FOUND:
        /* The route's method; each "*" took one whole, non-empty segment,
         * in order, and there are no more params than "*"s. */
        FUZZ_ASSERT(route && route->method == method && route->handler);
        star = strchr(route->path, '*');
        FUZZ_ASSERT(!star == !params[0]);
        FUZZ_ASSERT(!(star && strchr(star + 1, '*')) == !params[1]);
        FUZZ_ASSERT(!params[0] || (*params[0] && !strchr(params[0], '/')));
        FUZZ_ASSERT(!params[1] || (*params[1] && !strchr(params[1], '/')));
        FUZZ_ASSERT(!params[1] || route->missing_sub);
        FUZZ_ASSERT(*path == '/');
        break;
    case MI_ROUTE_NO_METHOD:
        FUZZ_ASSERT(allow && *allow && *path == '/');
        break;
    default:
        FUZZ_ASSERT(rc == MI_ROUTE_NO_PATH);
    }
    fuzz_pool_done(pool);
    return 0;
}
