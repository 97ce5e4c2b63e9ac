/* mod_integration_route.c: the route table: every path, method and scope of the API. */
#include <string.h>
#include "mod_integration_route.h"
#include "mod_integration_api.h"

/* The 404 of a route with an {id}: its one "%s" is the id. */
#define NO_SUPPLIER "No supplier found with externalId \"%s\""
#define NO_PRODUCT "No product found with externalId \"%s\""
#define NO_BATCH "No batch found with externalId \"%s\""
#define NO_WEBHOOK "No webhook found with id \"%s\""

static const mi_route_t routes[] = {
    { "/health", M_GET, NULL, mi_api_health, NULL },
    { "/openapi.json", M_GET, NULL, mi_api_openapi, NULL },

    { "/suppliers", M_GET, "integration:suppliers:read", mi_api_list,
      "suppliers" },
    { "/suppliers", M_POST, "integration:suppliers:write", mi_api_upsert,
      "suppliers" },
    { "/suppliers/*", M_GET, "integration:suppliers:read", mi_api_get,
      "suppliers", NO_SUPPLIER },
    { "/suppliers/*", M_DELETE, "integration:suppliers:write", mi_api_delete,
      "suppliers", NO_SUPPLIER },

    { "/products", M_GET, "integration:products:read", mi_api_list,
      "products" },
    { "/products", M_POST, "integration:products:write", mi_api_upsert,
      "products" },
    { "/products/*", M_GET, "integration:products:read", mi_api_get,
      "products", NO_PRODUCT },
    { "/products/*", M_DELETE, "integration:products:write", mi_api_delete,
      "products", NO_PRODUCT },

    { "/batches", M_GET, "integration:batches:read", mi_api_list, "batches" },
    { "/batches", M_POST, "integration:batches:write", mi_api_upsert,
      "batches" },
    { "/batches/*", M_GET, "integration:batches:read", mi_api_get,
      "batches", NO_BATCH },
    { "/batches/*", M_DELETE, "integration:batches:write", mi_api_delete,
      "batches", NO_BATCH },

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
#undef WEBHOOKS
};

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
 * and sets *param to the segment that "*" took. */
static int path_matches(const char *pattern, const char *path,
                        const char **param, apr_pool_t *pool)
{
    *param = NULL;
    while (*pattern && *path) {
        const char *pe = strchr(pattern + 1, '/'), *se = strchr(path + 1, '/');
        apr_size_t pl = pe ? (apr_size_t)(pe - pattern) : strlen(pattern);
        apr_size_t sl = se ? (apr_size_t)(se - path) : strlen(path);

        if (pl == 2 && pattern[1] == '*') {
            if (sl < 2) {
                return 0;
            }
            *param = apr_pstrndup(pool, path + 1, sl - 1);
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
                                const char **param, const char **allow)
{
    apr_array_header_t *methods = apr_array_make(pool, 4, sizeof(char *));
    apr_size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(routes); i++) {
        const char *p;

        if (!path_matches(routes[i].path, path, &p, pool)) {
            continue;
        }
        if (routes[i].method == method) {
            *route = &routes[i];
            *param = p;
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
