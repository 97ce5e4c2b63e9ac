/* mod_integration_route.c: the route table: every path, method and scope
 * of the API. */
#include <string.h>
#include "mod_integration_route.h"
#include "mod_integration_api.h"

/* The 404 of a route with an {id}: its one "%s" is the id. /dds/{batch}
 * names a batch as the batches' own routes do (mi_resource_routes). */
#define NO_BATCH "No batch found with externalId \"%s\""
#define NO_WEBHOOK "No webhook found with id \"%s\""
#define NO_DELIVERY "No delivery found with id \"%s\""

/* The routes of no resource. Those of the resources (GET and POST
 * /<plural>, GET and DELETE /<plural>/{externalId}) come from their
 * descriptors: mi_routes_init. */
static const mi_route_t other_routes[] = {
    { "/health", M_GET, NULL, mi_api_health, NULL },
    { "/openapi.json", M_GET, NULL, mi_api_openapi, NULL },

    { "/dds/*", M_GET, "integration:dds:read", mi_api_dds, NULL, NO_BATCH },
    { "/sync-status", M_GET, "integration:sync:read", mi_api_sync_status,
      NULL },
    { "/sync-logs", M_GET, "integration:sync:read", mi_api_sync_logs, NULL },

#define WEBHOOKS "integration:webhooks:manage"
    { "/webhook-events", M_POST, WEBHOOKS, mi_api_webhook_create, NULL },
    { "/webhook-events", M_GET, WEBHOOKS, mi_api_webhook_list, NULL },
    { "/webhook-events/*", M_GET, WEBHOOKS, mi_api_webhook_get, NULL,
      NO_WEBHOOK },
    { "/webhook-events/*", M_PATCH, WEBHOOKS, mi_api_webhook_update, NULL,
      NO_WEBHOOK },
    { "/webhook-events/*", M_DELETE, WEBHOOKS, mi_api_webhook_delete, NULL,
      NO_WEBHOOK },
    { "/webhook-events/*/rotate-secret", M_POST, WEBHOOKS,
      mi_api_webhook_rotate, NULL, NO_WEBHOOK },
    { "/webhook-events/*/test", M_POST, WEBHOOKS, mi_api_webhook_test, NULL,
      NO_WEBHOOK },
    { "/webhook-events/*/deliveries", M_GET, WEBHOOKS,
      mi_api_webhook_deliveries, NULL, NO_WEBHOOK },
    { "/webhook-events/*/deliveries/*/redeliver", M_POST, WEBHOOKS,
      mi_api_webhook_redeliver, NULL, NO_WEBHOOK, NO_DELIVERY },
#undef WEBHOOKS
};

/* The method and handler of each route of a resource. */
static const struct {
    int method;
    mi_handler_fn handler;
} actions[MI_ACTION_COUNT] = {
    [MI_ACTION_LIST] = { M_GET, mi_api_list },
    [MI_ACTION_UPSERT] = { M_POST, mi_api_upsert },
    [MI_ACTION_GET] = { M_GET, mi_api_get },
    [MI_ACTION_DELETE] = { M_DELETE, mi_api_delete },
};

/* The table mi_routes_init built; read-only once requests run. */
static const mi_route_t *routes;
static int nroutes;

void mi_routes_init(apr_pool_t *pool, const mi_resource_t *const *resources)
{
    apr_array_header_t *table = apr_array_make(pool, 32, sizeof(mi_route_t));
    apr_size_t i;
    int r, a;

    for (i = 0; i < MI_ARRAY_SIZE(other_routes); i++) {
        *(mi_route_t *)apr_array_push(table) = other_routes[i];
    }
    for (r = 0; resources[r]; r++) {
        mi_resource_route_t made[MI_ACTION_COUNT];

        mi_resource_routes(pool, resources[r], made);
        for (a = 0; a < MI_ACTION_COUNT; a++) {
            mi_route_t *route = apr_array_push(table);

            route->path = made[a].path;
            route->method = actions[made[a].action].method;
            route->scope = made[a].scope;
            route->handler = actions[made[a].action].handler;
            route->resource = resources[r]->plural;
            route->missing = made[a].missing;
        }
    }
    routes = (const mi_route_t *)table->elts;
    nroutes = table->nelts;
}

const mi_route_t *mi_routes_table(int *n)
{
    *n = nroutes;
    return routes;
}

/* httpd's ap_method_name_of may answer HEAD for M_GET. */
static const char *method_name(int method)
{
    switch (method) {
    case M_GET:
        return "GET";
    case M_POST:
        return "POST";
    case M_PUT:
        return "PUT";
    case M_DELETE:
        return "DELETE";
    case M_PATCH:
        return "PATCH";
    default:
        return "OPTIONS";
    }
}

/* Compares a pattern with a path segment by segment; on a match returns 1
 * and sets params to the segments that the "*"s took. */
static int path_matches(const char *pattern, const char *path,
                        const char *params[MI_ROUTE_PARAMS], apr_pool_t *pool)
{
    int n = 0;

    memset(params, 0, MI_ROUTE_PARAMS * sizeof(*params));
    while (*pattern && *path) {
        const char *pe = strchr(pattern + 1, '/'), *se = strchr(path + 1, '/');
        apr_size_t pl = pe ? (apr_size_t)(pe - pattern) : strlen(pattern);
        apr_size_t sl = se ? (apr_size_t)(se - path) : strlen(path);

        if (pl == 2 && pattern[1] == '*') {
            if (sl < 2 || n == MI_ROUTE_PARAMS) {
                return 0;
            }
            params[n++] = apr_pstrndup(pool, path + 1, sl - 1);
        }
        else if (pl != sl || strncmp(pattern, path, pl)) {
            return 0;
        }
        pattern += pl;
        path += sl;
    }
    return *pattern == '\0' && *path == '\0';
}

mi_route_match_e mi_route_match(apr_pool_t *pool, const char *path,
                                int method, const mi_route_t **route,
                                const char *params[MI_ROUTE_PARAMS],
                                const char **allow)
{
    apr_array_header_t *methods = apr_array_make(pool, 4, sizeof(char *));
    int i;

    for (i = 0; i < nroutes; i++) {
        const char *p[MI_ROUTE_PARAMS];

        if (!path_matches(routes[i].path, path, p, pool)) {
            continue;
        }
        if (routes[i].method == method) {
            *route = &routes[i];
            memcpy(params, p, sizeof(p));
            return MI_ROUTE_FOUND;
        }
        APR_ARRAY_PUSH(methods, const char *) = method_name(routes[i].method);
        if (routes[i].method == M_GET) {
            APR_ARRAY_PUSH(methods, const char *) = "HEAD";
        }
    }
    if (methods->nelts == 0) {
        return MI_ROUTE_NO_PATH;
    }
    *allow = apr_array_pstrcat(pool, methods, ',');
    return MI_ROUTE_NO_METHOD;
}
