/* mod_integration.c: the module record and its hooks, and the handler that
 * walks a request through route, gate and handler.
 *
 *   LoadModule dbd_module         modules/mod_dbd.so
 *   LoadModule integration_module modules/mod_integration.so
 *   <Location /api/v1/integration>
 *       SetHandler integration
 *   </Location>
 */
#include "mod_integration.h"
#include <http_core.h>
#include "mod_integration_api.h"
#include "mod_integration_auth.h"
#include "mod_integration_conf.h"
#include "mod_integration_dbd.h"
#include "mod_integration_http.h"
#include "mod_integration_metrics.h"
#include "mod_integration_ratelimit.h"
#include "mod_integration_route.h"
#include "mod_integration_startup.h"
#include "mi_text.h"
#include "mod_integration_watchdog.h"
#include <mod_status.h>

#define MI_HANDLER "integration"

/* ---- start-up --------------------------------------------------------- */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    return mi_ratelimit_register(pconf) == APR_SUCCESS ? OK : !OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s)
{
    mi_server_conf_t *conf = mi_conf_of(s);
    server_rec *vs;
    apr_status_t rv;

    /* The first pass only checks the configuration's syntax. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (!mi_dbd_setup()) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00005)
                     "mod_integration needs mod_dbd: add \"LoadModule "
                     "dbd_module modules/mod_dbd.so\" before it");
        return !OK;
    }
    mi_resources_init(pconf);
    mi_routes_init(pconf, mi_resources);
    mi_metrics_setup(s);
    if (mi_startup_check(s, ptemp) != OK) {
        return !OK;
    }
    if (mi_delivery_global_init() != APR_SUCCESS
        || mi_watchdog_setup(s, pconf) != APR_SUCCESS) {
        return !OK;
    }
    rv = mi_ratelimit_create(&conf->limiter, s, pconf, conf->rate_store);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00006)
                     "mod_integration: cannot create the rate limit table");
        return !OK;
    }
    for (vs = s->next; vs; vs = vs->next) {
        mi_conf_of(vs)->limiter = conf->limiter;
        /* The delivery thread sends every host's webhooks: http ones
         * while any host takes them, none once none does. */
        conf->delivery.allow_http |= mi_conf_of(vs)->delivery.allow_http;
    }
    return OK;
}

static void child_init(apr_pool_t *p, server_rec *s)
{
    mi_server_conf_t *conf = mi_conf_of(s);
    apr_status_t rv;

    server_rec *vs;

    if (conf->limiter
        && (rv = mi_ratelimit_child_init(conf->limiter, p)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00007)
                     "mod_integration: cannot attach the rate limit mutex");
    }
    mi_dbd_child_init(s, p);
    mi_watchdog_child_init(p);
    /* One cache per server: each may have a database of its own. */
    for (vs = s; vs; vs = vs->next) {
        mi_server_conf_t *vc = mi_conf_of(vs);

        if ((rv = mi_listcache_create(&vc->lists, p, vc->list_cache))
                != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, vs, MI_LOGNO(00009)
                         "mod_integration: no listing cache in this process");
        }
        if ((rv = mi_keys_create(&vc->keys, p)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, vs, MI_LOGNO(00011)
                         "mod_integration: no key cache in this process; "
                         "the key is read at every listing");
        }
    }
}

/* ---- requests --------------------------------------------------------- */

/* A request the module answers names no file: core's walk of the file
 * system for it (a stat and an open of .htaccess for each directory on
 * the way to the DocumentRoot) is skipped, as mod_proxy skips it for what
 * it proxies, and <Directory> sections and .htaccess files do not apply
 * to it (<Location> ones do). Which handler SetHandler names is known
 * after the first walk of <Location>, which runs before translate_name;
 * map_to_storage only sees the server's defaults, so this notes it. */
#define NOT_A_FILE "mod_integration: not a file"

static int translate_name(request_rec *r)
{
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *h;

    if (core && core->expr_handler
        && (h = ap_expr_str_exec(r, core->expr_handler, &err)) != NULL
        && !err && (!strcmp(h, MI_HANDLER) || !strcmp(h, MI_METRICS_HANDLER))) {
        apr_table_setn(r->notes, NOT_A_FILE, "1");
    }
    return DECLINED;
}

static int map_to_storage(request_rec *r)
{
    return apr_table_get(r->notes, NOT_A_FILE) ? OK : DECLINED;
}

/* The raw path below the <Location> that set the handler: as many leading
 * segments skipped as the location has. Raw (r->unparsed_uri: httpd decodes
 * r->uri and r->parsed_uri.path in place), so that an encoded "/" stays
 * inside its segment and a segment is decoded exactly once, by us. The
 * location is the section core merged last (a <Location> with SetHandler
 * creates no config of ours). */
static const char *relative_path(request_rec *r)
{
    const core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *base = core && core->d && core->d[0] == '/' ? core->d : "/";
    const char *path = r->unparsed_uri, *b;

    if (!path || *path != '/') {
        path = r->uri;
    }
    path = apr_pstrndup(r->pool, path, strcspn(path, "?#"));

    for (b = base; *b; b++) {
        if (*b == '/' && b[1] != '\0' && b[1] != '/') {
            path = strchr(path + 1, '/');
            if (!path) {
                return "";
            }
        }
    }
    return path;
}

/* A "*" segment decoded exactly once into *id; 1 when it answered (a
 * segment that is not UTF-8 is an id that cannot exist: the 404 of
 * missing, the route's message for it). */
static int segment_answered(mi_req_t *req, const char *raw,
                            const char *missing, const char **id)
{
    request_rec *r = req->r;

    if (!(*id = mi_url_decode(r->pool, raw))) {
        return mi_http_invalid(r, "Malformed percent-encoding in path"), 1;
    }
    if (!mi_utf8_valid(*id, strlen(*id))) {
        return mi_api_not_found(req, missing, *id), 1;
    }
    return 0;
}

/* The {id} segments decoded exactly once, and the query: what is not UTF-8
 * is answered here, before any handler or the database sees it (API.md
 * section 1, "Hostile input"). 1 when it answered. */
static int read_request(mi_req_t *req, const char *const *raw_params)
{
    request_rec *r = req->r;
    const char *err;

    if (raw_params[0] && segment_answered(req, raw_params[0],
                                          req->route->missing, &req->param)) {
        return 1;
    }
    if (raw_params[1] && segment_answered(req, raw_params[1],
                                          req->route->missing_sub,
                                          &req->sub_param)) {
        return 1;
    }
    if ((err = mi_query_parse(r->pool, r->args, &req->query)) != NULL) {
        return mi_http_invalid(r, err), 1;
    }
    return 0;
}

static int handler(request_rec *r)
{
    mi_req_t *req;
    const char *allow = NULL;
    const mi_route_t *route = NULL;
    const char *params[MI_ROUTE_PARAMS] = { NULL }, *path;

    if (!r->handler || strcmp(r->handler, MI_HANDLER)) {
        return DECLINED;
    }
    req = apr_pcalloc(r->pool, sizeof(*req));
    req->r = r;
    req->conf = mi_conf_of(r->server);
    req->limiter = req->conf->limiter;
    path = relative_path(r);
    switch (mi_route_match(r->pool, path, r->method_number, &route, params,
                           &allow)) {
    case MI_ROUTE_NO_PATH:
        mi_metrics_request(r, NULL);
        return mi_http_error(r, HTTP_NOT_FOUND, "NOT_FOUND",
                             apr_psprintf(r->pool, "No endpoint %s", path));
    case MI_ROUTE_NO_METHOD:
        mi_metrics_request(r, NULL);
        apr_table_setn(r->err_headers_out, "Allow", allow);
        return mi_http_error(r, HTTP_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                             apr_psprintf(r->pool, "Method %s is not allowed "
                                          "here; allowed: %s", r->method,
                                          allow));
    case MI_ROUTE_FOUND:
        mi_metrics_request(r, route);
        break;
    }
    req->route = route;
    req->res = route->resource ? mi_resource_find(route->resource) : NULL;
    /* Whatever a token reads is its organization's: no shared cache may
     * keep it, and the client's own must ask again (a conditional GET). */
    if (route->scope) {
        apr_table_setn(r->headers_out, "Cache-Control", "private, no-cache");
    }
    if (route->scope && mi_auth_gate(req)) {
        mi_req_db_done(req);
        return OK;
    }
    if (!read_request(req, params)) {
        route->handler(req);
    }
    mi_req_db_done(req);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    /* After mod_dbd's own post_config, which sets up its configuration. */
    static const char *const after_dbd[] = { "mod_dbd.c", NULL };

    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* First: a translate_name that answers OK (mod_alias, mod_rewrite)
     * ends the hook's run. */
    ap_hook_translate_name(translate_name, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_map_to_storage(map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(mi_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(mi_metrics_log_transaction, NULL, NULL,
                            APR_HOOK_MIDDLE);
    /* mod_status's page, when it is loaded. */
    APR_OPTIONAL_HOOK(ap, status_hook, mi_metrics_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
}

/* Not AP_DECLARE_MODULE: mod_integration.h already says APLOG_USE_MODULE for
 * every file of the module, this one included. */
module AP_MODULE_DECLARE_DATA integration_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    mi_conf_create,
    mi_conf_merge,
    mi_conf_directives,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
