/* mod_integration.c: the module record, its directives and hooks, and the
 * handler that walks a request through route, gate and handler.
 *
 *   LoadModule dbd_module         modules/mod_dbd.so
 *   LoadModule integration_module modules/mod_integration.so
 *   <Location /api/v1/integration>
 *       SetHandler integration
 *   </Location>
 */
#include "mi_httpd.h"
#include <dlfcn.h>
#include <http_core.h>
#include "mi_api.h"
#include "mi_auth.h"
#include "mi_conn.h"
#include "mi_http.h"
#include "mi_migrate.h"
#include "mi_ratelimit.h"
#include "mi_route.h"
#include "mi_text.h"
#include "mi_watchdog.h"

#define MI_HANDLER "integration"

#define MI_DEFAULT_RATE_LIMIT   100
#define MI_DEFAULT_RATE_WINDOW  60
#define MI_DEFAULT_MAX_BODY     (8 * 1024 * 1024)
#define MI_DEFAULT_LIST_CACHE   (8 * 1024 * 1024)
#define MI_DEFAULT_WEBHOOK_TIMEOUT apr_time_from_sec(10)
#define MI_DEFAULT_DISABLE_AFTER 10
#define MI_DEFAULT_DB_TIMEOUT   apr_time_from_sec(5)

/* ---- configuration ---------------------------------------------------- */

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    mi_server_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->rate_limit = MI_DEFAULT_RATE_LIMIT;
    conf->rate_window = MI_DEFAULT_RATE_WINDOW;
    conf->max_records = MI_MAX_RECORDS_DEFAULT;
    conf->max_body = MI_DEFAULT_MAX_BODY;
    conf->list_cache = MI_DEFAULT_LIST_CACHE;
    conf->delivery.timeout = MI_DEFAULT_WEBHOOK_TIMEOUT;
    conf->delivery.delays[0] = apr_time_from_sec(1);
    conf->delivery.delays[1] = apr_time_from_sec(5);
    conf->delivery.delays[2] = apr_time_from_sec(30);
    conf->delivery.ndelays = 3;
    conf->delivery.disable_after = MI_DEFAULT_DISABLE_AFTER;
    conf->db_timeout = MI_DEFAULT_DB_TIMEOUT;
    return conf;
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    const mi_server_conf_t *base = basev, *add = addv;
    mi_server_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->rate_limit = add->set & MI_SET_RATE ? add->rate_limit
                                              : base->rate_limit;
    conf->rate_window = add->set & MI_SET_RATE ? add->rate_window
                                               : base->rate_window;
    conf->max_records = add->set & MI_SET_RECORDS ? add->max_records
                                                  : base->max_records;
    conf->max_body = add->set & MI_SET_BODY ? add->max_body : base->max_body;
    conf->list_cache = add->set & MI_SET_LISTS ? add->list_cache
                                               : base->list_cache;
    conf->webhook_allow_http = add->set & MI_SET_HTTP
                                   ? add->webhook_allow_http
                                   : base->webhook_allow_http;
    conf->delivery = base->delivery;
    if (add->set & MI_SET_TIMEOUT) {
        conf->delivery.timeout = add->delivery.timeout;
    }
    if (add->set & MI_SET_DELAYS) {
        memcpy(conf->delivery.delays, add->delivery.delays,
               sizeof(conf->delivery.delays));
        conf->delivery.ndelays = add->delivery.ndelays;
    }
    if (add->set & MI_SET_DISABLE) {
        conf->delivery.disable_after = add->delivery.disable_after;
    }
    conf->db_timeout = add->set & MI_SET_DB_TIMEOUT ? add->db_timeout
                                                    : base->db_timeout;
    conf->set = base->set | add->set;
    conf->limiter = base->limiter;
    return conf;
}

static mi_server_conf_t *server_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &integration_module);
}

/* A whole number in [min, max], or NULL. */
static int parse_int(const char *arg, long min, long max, long *out)
{
    char *end;
    long v = strtol(arg, &end, 10);

    if (!*arg || *end || v < min || v > max) {
        return 0;
    }
    *out = v;
    return 1;
}

static const char *set_rate_limit(cmd_parms *cmd, void *dc, const char *count,
                                  const char *window)
{
    mi_server_conf_t *conf = server_conf(cmd->server);
    long n, w = MI_DEFAULT_RATE_WINDOW;

    if (!parse_int(count, 0, 1000000000L, &n)) {
        return "IntegrationRateLimit: the request count must be a whole "
               "number >= 0 (0 disables the limit)";
    }
    if (window && !parse_int(window, 1, 86400, &w)) {
        return "IntegrationRateLimit: the window must be a whole number of "
               "seconds from 1 to 86400";
    }
    conf->rate_limit = (int)n;
    conf->rate_window = (int)w;
    conf->set |= MI_SET_RATE;
    return NULL;
}

static const char *set_max_records(cmd_parms *cmd, void *dc, const char *arg)
{
    mi_server_conf_t *conf = server_conf(cmd->server);
    long n;

    if (!parse_int(arg, 1, 100000, &n)) {
        return "IntegrationMaxRecords must be a whole number from 1 to "
               "100000";
    }
    conf->max_records = (int)n;
    conf->set |= MI_SET_RECORDS;
    return NULL;
}

/* A size in bytes, optionally with K, M or G, in [min, 1T]. */
static int parse_size(const char *arg, apr_int64_t min, apr_int64_t *out)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10), unit = 1;

    switch (*end) {
    case 'K': case 'k':
        unit = 1024;
        end++;
        break;
    case 'M': case 'm':
        unit = 1024 * 1024;
        end++;
        break;
    case 'G': case 'g':
        unit = 1024 * 1024 * 1024;
        end++;
        break;
    }
    if (end == arg || *end || n < min || n > (APR_INT64_C(1) << 40) / unit) {
        return 0;
    }
    *out = n * unit;
    return 1;
}

static const char *set_max_body(cmd_parms *cmd, void *dc, const char *arg)
{
    mi_server_conf_t *conf = server_conf(cmd->server);
    apr_int64_t n;

    if (!parse_size(arg, 1, &n)) {
        return "IntegrationMaxBodySize must be a size in bytes greater than "
               "0, optionally with K, M or G (e.g. 8M), at most 1T";
    }
    conf->max_body = (apr_off_t)n;
    conf->set |= MI_SET_BODY;
    return NULL;
}

static const char *set_list_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    mi_server_conf_t *conf = server_conf(cmd->server);
    apr_int64_t n;

    if (!parse_size(arg, 0, &n) || n > APR_INT64_C(1) << 32) {
        return "IntegrationListCache must be a size in bytes, optionally "
               "with K, M or G (e.g. 8M), at most 4G; 0 disables";
    }
    conf->list_cache = (apr_size_t)n;
    conf->set |= MI_SET_LISTS;
    return NULL;
}

/* "10s", "500ms", "2m"; a bare number is seconds. */
static int parse_duration(const char *arg, apr_interval_time_t *out)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (end == arg || n < 0 || n > 86400000) {
        return 0;
    }
    if (!strcmp(end, "ms")) {
        *out = apr_time_from_msec(n);
    }
    else if (!*end || !strcmp(end, "s")) {
        *out = apr_time_from_sec(n);
    }
    else if (!strcmp(end, "m")) {
        *out = apr_time_from_sec(n * 60);
    }
    else {
        return 0;
    }
    return *out <= apr_time_from_sec(86400);
}

static const char *set_allow_http(cmd_parms *cmd, void *dc, int flag)
{
    mi_server_conf_t *conf = server_conf(cmd->server);

    conf->webhook_allow_http = flag;
    conf->set |= MI_SET_HTTP;
    return NULL;
}

static const char *set_webhook_timeout(cmd_parms *cmd, void *dc,
                                       const char *arg)
{
    mi_server_conf_t *conf = server_conf(cmd->server);

    if (!parse_duration(arg, &conf->delivery.timeout)
        || conf->delivery.timeout < apr_time_from_msec(10)) {
        return "IntegrationWebhookTimeout must be a duration from 10ms to "
               "1 day, e.g. 10s or 500ms";
    }
    conf->set |= MI_SET_TIMEOUT;
    return NULL;
}

static const char *set_retry_delays(cmd_parms *cmd, void *dc,
                                    const char *arg)
{
    mi_server_conf_t *conf = server_conf(cmd->server);
    apr_interval_time_t delay;

    /* The first value of this directive replaces the defaults. */
    if (!(conf->set & MI_SET_DELAYS)) {
        conf->delivery.ndelays = 0;
        conf->set |= MI_SET_DELAYS;
    }
    if (!parse_duration(arg, &delay)) {
        return "IntegrationWebhookRetryDelays takes durations, e.g. 1s 5s 30s "
               "or 50ms 100ms 200ms";
    }
    if (conf->delivery.ndelays >= MI_DELIVERY_MAX_DELAYS) {
        return "IntegrationWebhookRetryDelays: at most 8 retries";
    }
    conf->delivery.delays[conf->delivery.ndelays++] = delay;
    return NULL;
}

static const char *set_disable_after(cmd_parms *cmd, void *dc,
                                     const char *arg)
{
    mi_server_conf_t *conf = server_conf(cmd->server);
    long n;

    if (!parse_int(arg, 1, 1000000, &n)) {
        return "IntegrationWebhookDisableAfter must be a whole number >= 1";
    }
    conf->delivery.disable_after = (int)n;
    conf->set |= MI_SET_DISABLE;
    return NULL;
}

static const char *set_db_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    mi_server_conf_t *conf = server_conf(cmd->server);

    if (!parse_duration(arg, &conf->db_timeout)
        || conf->db_timeout < apr_time_from_msec(100)
        || conf->db_timeout > apr_time_from_sec(600)) {
        return "IntegrationDbTimeout must be a duration from 100ms to 10m, "
               "e.g. 5s";
    }
    conf->set |= MI_SET_DB_TIMEOUT;
    return NULL;
}

static const command_rec mi_cmds[] = {
    AP_INIT_TAKE12("IntegrationRateLimit", set_rate_limit, NULL, RSRC_CONF,
                   "requests per window per token, and the window in "
                   "seconds (default 100 60; 0 disables)"),
    AP_INIT_TAKE1("IntegrationMaxRecords", set_max_records, NULL, RSRC_CONF,
                  "records per bulk request (default 500)"),
    AP_INIT_TAKE1("IntegrationMaxBodySize", set_max_body, NULL, RSRC_CONF,
                  "request body limit, e.g. 8M (default 8M)"),
    AP_INIT_TAKE1("IntegrationListCache", set_list_cache, NULL, RSRC_CONF,
                  "bytes of answered listings kept per process, e.g. 8M "
                  "(default 8M; 0 disables)"),
    AP_INIT_FLAG("IntegrationWebhookAllowHttp", set_allow_http, NULL,
                 RSRC_CONF, "On permits plain-http webhook URLs (default Off)"),
    AP_INIT_TAKE1("IntegrationWebhookTimeout", set_webhook_timeout, NULL,
                  RSRC_CONF, "time a receiver has to answer (default 10s)"),
    AP_INIT_ITERATE("IntegrationWebhookRetryDelays", set_retry_delays, NULL,
                    RSRC_CONF, "delays before each retry (default 1s 5s 30s)"),
    AP_INIT_TAKE1("IntegrationWebhookDisableAfter", set_disable_after, NULL,
                  RSRC_CONF, "consecutive failed attempts that disable a "
                  "webhook (default 10)"),
    AP_INIT_TAKE1("IntegrationDbTimeout", set_db_timeout, NULL, RSRC_CONF,
                  "longest wait for a pooled connection, a lock or a "
                  "statement, then 503 (default 5s)"),
    { NULL }
};

/* ---- start-up --------------------------------------------------------- */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    return mi_ratelimit_register(pconf) == APR_SUCCESS ? OK : !OK;
}

/* 1 at a cold start, 0 at a restart (graceful or not) of a running
 * httpd: the parent process keeps the retained data across them. */
static int cold_start(void)
{
    return ap_retained_data_get("mod_integration:started") == NULL
           && ap_retained_data_create("mod_integration:started", 1) != NULL;
}

/* Checks the database before children exist. Only a bad DBDriver stops
 * httpd. A database that cannot be reached never does (children answer
 * 503 until it answers); a missing SQLite file or an old schema refuses a
 * cold start, naming the fix, but only logs at a restart: a running httpd
 * (and whatever else it serves) is never taken down by its database. */
static int check_schema(server_rec *s, apr_pool_t *ptemp, int cold)
{
    const dbd_cfg_t *cfg = mi_conn_config(s);
    int refuse = cold ? APLOG_CRIT : APLOG_ERR;
    apr_finfo_t finfo;
    const char *err = NULL;
    mi_db_t *db;
    int dialect, have = 0, need;

    if (!cfg || !cfg->name || mi_db_dialect_of(cfg->name) < 0) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00001)
                     "mod_integration needs DBDriver sqlite3 or pgsql "
                     "(DBDriver is \"%s\")", cfg && cfg->name ? cfg->name
                                                             : "unset");
        return !OK;
    }
    dialect = mi_db_dialect_of(cfg->name);
    /* sqlite3_open would create a missing file, owned by whoever starts
     * httpd and empty. */
    if (dialect == MI_DIALECT_SQLITE3
        && apr_stat(&finfo, cfg->params, APR_FINFO_TYPE, ptemp)
               != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, refuse, 0, s, MI_LOGNO(00002)
                     "mod_integration: SQLite database %s does not exist; "
                     "create it with: integration-admin --driver sqlite3 "
                     "--params %s migrate%s", cfg->params, cfg->params,
                     cold ? "" : " (requests are answered 503 meanwhile)");
        return cold ? !OK : OK;
    }
    if (mi_db_open(ptemp, cfg->name, cfg->params, &db, &err) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, MI_LOGNO(00003)
                     "mod_integration: cannot reach the %s database to check "
                     "its schema (%s); starting anyway, requests are "
                     "answered 503 until it answers", cfg->name,
                     err ? err : "unknown error");
        return OK;
    }
    need = mi_migrate_latest((mi_dialect_e)dialect);
    if (mi_migrate_current(db, ptemp, &have) != APR_SUCCESS || have < need) {
        ap_log_error(APLOG_MARK, refuse, 0, s, MI_LOGNO(00004)
                     "mod_integration: the %s database has schema version %d, "
                     "this module needs %d; run: integration-admin --driver "
                     "%s --params '...' migrate%s", cfg->name, have, need,
                     cfg->name, cold ? "" : " (requests are answered 503 "
                     "meanwhile)");
        mi_db_close(db);
        return cold ? !OK : OK;
    }
    mi_db_close(db);
    return OK;
}

/* SQLite is built "serialized" on Debian: every sqlite3_* call of the
 * apr_dbd driver (three per column read) takes the connection's mutex. Here
 * no connection is ever used by two threads at once (mod_dbd hands each to
 * one request, and the driver holds its own lock around every call), so
 * multi-thread mode is safe and drops those locks, a quarter of a listing's
 * CPU time. It can only be set before SQLite is first used, which in httpd
 * is this module's own schema check; the symbol is looked up at run time
 * because the module does not link SQLite itself. */
static void sqlite_multithread(server_rec *s)
{
    typedef int (*config_fn)(int, ...);
    config_fn config = (config_fn)(apr_uintptr_t)dlsym(RTLD_DEFAULT,
                                                       "sqlite3_config");
    const int multithread = 2;  /* SQLITE_CONFIG_MULTITHREAD */

    if (config && config(multithread) != 0) {
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s, MI_LOGNO(00008)
                     "SQLite was already initialised; keeping its mode");
    }
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s)
{
    mi_server_conf_t *conf = server_conf(s);
    server_rec *vs;
    apr_status_t rv;

    /* The first pass only checks the configuration's syntax. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (!mi_conn_setup()) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, MI_LOGNO(00005)
                     "mod_integration needs mod_dbd: add \"LoadModule "
                     "dbd_module modules/mod_dbd.so\" before it");
        return !OK;
    }
    mi_resources_init(pconf);
    sqlite_multithread(s);
    if (check_schema(s, ptemp, cold_start()) != OK) {
        return !OK;
    }
    if (mi_delivery_global_init() != APR_SUCCESS
        || mi_watchdog_setup(s, pconf) != APR_SUCCESS) {
        return !OK;
    }
    rv = mi_ratelimit_create(&conf->limiter, s, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00006)
                     "mod_integration: cannot create the rate limit table");
        return !OK;
    }
    for (vs = s->next; vs; vs = vs->next) {
        server_conf(vs)->limiter = conf->limiter;
    }
    return OK;
}

static void child_init(apr_pool_t *p, server_rec *s)
{
    mi_server_conf_t *conf = server_conf(s);
    apr_status_t rv;

    server_rec *vs;

    if (conf->limiter
        && (rv = mi_ratelimit_child_init(conf->limiter, p)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, MI_LOGNO(00007)
                     "mod_integration: cannot attach the rate limit mutex");
    }
    mi_conn_child_init(s, p);
    mi_watchdog_child_init(p);
    /* One cache per server: each may have a database of its own. */
    for (vs = s; vs; vs = vs->next) {
        mi_server_conf_t *vc = server_conf(vs);

        if ((rv = mi_listcache_create(&vc->lists, p, vc->list_cache))
                != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, vs, MI_LOGNO(00009)
                         "mod_integration: no listing cache in this process");
        }
    }
}

/* ---- requests --------------------------------------------------------- */

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

/* The {id} segment decoded exactly once, and the query: what is not UTF-8
 * is answered here, before any handler or the database sees it (API.md
 * section 1, "Hostile input"). 1 when it answered. */
static int read_request(mi_req_t *req, const char *raw_param)
{
    request_rec *r = req->r;
    const char *err;

    if (raw_param) {
        char *id = mi_url_decode(r->pool, raw_param);

        if (!id) {
            return mi_http_invalid(r, "Malformed percent-encoding in path"),
                   1;
        }
        if (!mi_utf8_valid(id, strlen(id))) {
            return mi_api_not_found(req, id), 1;
        }
        req->param = id;
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
    const char *param = NULL, *path;

    if (!r->handler || strcmp(r->handler, MI_HANDLER)) {
        return DECLINED;
    }
    req = apr_pcalloc(r->pool, sizeof(*req));
    req->r = r;
    req->conf = server_conf(r->server);
    req->limiter = req->conf->limiter;
    path = relative_path(r);
    switch (mi_route_match(r->pool, path, r->method_number, &route, &param,
                           &allow)) {
    case MI_ROUTE_NO_PATH:
        return mi_http_error(r, HTTP_NOT_FOUND, "NOT_FOUND",
                             apr_psprintf(r->pool, "No endpoint %s", path));
    case MI_ROUTE_NO_METHOD:
        apr_table_setn(r->err_headers_out, "Allow", allow);
        return mi_http_error(r, HTTP_METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                             apr_psprintf(r->pool, "Method %s is not allowed "
                                          "here; allowed: %s", r->method,
                                          allow));
    case MI_ROUTE_FOUND:
        break;
    }
    req->route = route;
    req->res = route->resource ? mi_resource_find(route->resource) : NULL;
    if (route->scope && mi_auth_gate(req)) {
        mi_req_db_done(req);
        return OK;
    }
    if (!read_request(req, param)) {
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
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
}

/* Not AP_DECLARE_MODULE: mi_httpd.h already says APLOG_USE_MODULE for
 * every file of the module, this one included. */
module AP_MODULE_DECLARE_DATA integration_module = {
    STANDARD20_MODULE_STUFF,
    NULL,
    NULL,
    create_server_conf,
    merge_server_conf,
    mi_cmds,
    register_hooks,
    AP_MODULE_FLAG_NONE
};
