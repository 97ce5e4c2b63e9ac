/* mod_integration_route.h: the route table: every path, method and scope of
 * the API in one place: the resources' routes built from their descriptors,
 * the others written by hand. */
#ifndef MOD_INTEGRATION_ROUTE_H
#define MOD_INTEGRATION_ROUTE_H

#include "mod_integration.h"

typedef int (*mi_handler_fn)(mi_req_t *req);

typedef struct mi_route_t {
    const char *path;           /* segments; "*" matches one segment */
    int method;                 /* M_GET, M_POST, ... */
    const char *scope;          /* required scope; NULL: no token */
    mi_handler_fn handler;
    const char *resource;       /* plural of the resource served, or NULL */
    const char *missing;        /* "*" routes: the 404 message, "%s" the
                                 * id */
    const char *missing_sub;    /* a second "*": its 404 message */
} mi_route_t;

/* The "*" segments a route may have. */
#define MI_ROUTE_PARAMS 2

typedef enum {
    MI_ROUTE_FOUND,
    MI_ROUTE_NO_PATH,
    MI_ROUTE_NO_METHOD
} mi_route_match_e;

/* Builds the route table: the routes of no resource, then the four of
 * each of resources (NULL-terminated; mi_resource_routes). Call once,
 * before any request (post_config), with the pool the table lives in. */
void mi_routes_init(apr_pool_t *pool, const mi_resource_t *const *resources);

/* The table mi_routes_init built, *n routes (the metrics' route labels). */
const mi_route_t *mi_routes_table(int *n);

/* Matches a path relative to the API base ("/suppliers/A%2FB"). On
 * MI_ROUTE_FOUND sets *route and params (the raw "*" segments in their
 * order, still percent-encoded; NULL past the route's); on
 * MI_ROUTE_NO_METHOD sets *allow to the methods the path has. */
mi_route_match_e mi_route_match(apr_pool_t *pool, const char *path,
                                int method, const mi_route_t **route,
                                const char *params[MI_ROUTE_PARAMS],
                                const char **allow);

#endif
