/* mod_integration_conf.c: the module's server configuration: defaults,
 * merging, and the Integration* directives (docs/directives.md). */
#include "mod_integration.h"
#include "mod_integration_conf.h"
#include "mi_redis.h"
#include "mi_text.h"
#include "mi_webhook.h"

#define MI_DEFAULT_RATE_LIMIT   100
#define MI_DEFAULT_RATE_WINDOW  60
#define MI_DEFAULT_MAX_BODY     (8 * 1024 * 1024)
#define MI_DEFAULT_LIST_CACHE   (8 * 1024 * 1024)
#define MI_DEFAULT_WEBHOOK_TIMEOUT apr_time_from_sec(10)
#define MI_DEFAULT_DISABLE_AFTER 10
#define MI_DEFAULT_CONCURRENCY  64
#define MI_DEFAULT_DB_TIMEOUT   apr_time_from_sec(5)

void *mi_conf_create(apr_pool_t *p, server_rec *s)
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
    conf->delivery.concurrency = MI_DEFAULT_CONCURRENCY;
    conf->db_timeout = MI_DEFAULT_DB_TIMEOUT;
    return conf;
}

void *mi_conf_merge(apr_pool_t *p, void *basev, void *addv)
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
    conf->delivery = base->delivery;
    if (add->set & MI_SET_HTTP) {
        conf->delivery.allow_http = add->delivery.allow_http;
    }
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
    conf->db_unnamed = base->db_unnamed;
    conf->set = base->set | add->set;
    conf->limiter = base->limiter;
    return conf;
}

mi_server_conf_t *mi_conf_of(server_rec *s)
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
    mi_server_conf_t *conf = mi_conf_of(cmd->server);
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

/* Server-wide, as the table it replaces is: "shm", or the Redis that
 * counts for every node. */
static const char *set_rate_store(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    mi_redis_addr_t *addr;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "shm")) {
        mi_conf_of(cmd->server)->rate_store = NULL;
        return NULL;
    }
    addr = apr_pcalloc(cmd->pool, sizeof(*addr));
    if ((err = mi_redis_url_parse(cmd->pool, arg, addr))) {
        /* A URL with credentials is not repeated: they may be a secret. */
        return apr_psprintf(cmd->pool, "IntegrationRateLimitStore: %s %s; "
                            "give shm or redis://host[:port][/db], e.g. "
                            "redis://127.0.0.1:6379",
                            strchr(arg, '@') ? "the URL"
                                : apr_psprintf(cmd->temp_pool, "\"%s\"",
                                               arg), err);
    }
    mi_conf_of(cmd->server)->rate_store = addr;
    return NULL;
}

static const char *set_max_records(cmd_parms *cmd, void *dc, const char *arg)
{
    mi_server_conf_t *conf = mi_conf_of(cmd->server);
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
    mi_server_conf_t *conf = mi_conf_of(cmd->server);
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
    mi_server_conf_t *conf = mi_conf_of(cmd->server);
    apr_int64_t n;

    if (!parse_size(arg, 0, &n) || n > APR_INT64_C(1) << 32) {
        return "IntegrationListCache must be a size in bytes, optionally "
               "with K, M or G (e.g. 8M), at most 4G; 0 disables";
    }
    conf->list_cache = (apr_size_t)n;
    conf->set |= MI_SET_LISTS;
    return NULL;
}

/* "10s", "500ms", "2m", "1h" (httpd's ap_timeout_parameter_parse, which
 * also takes "2mi" and "2min"); a bare number is seconds. At most a day. */
static int parse_duration(apr_pool_t *p, const char *arg,
                          apr_interval_time_t *out)
{
    static const char *const units[] = { "", "ms", "s", "m", "mi", "min",
                                         "h", NULL };
    char *unit;
    apr_int64_t n = apr_strtoi64(arg, &unit, 10);

    /* httpd's parser reads a missing number as 0 and only the first letters
     * of the unit ("10sx" is 10 s), and could overflow: the whole text is
     * checked here first. */
    if (unit == arg || n < 0 || n > 86400000 || !mi_text_in(unit, units)) {
        return 0;
    }
    if (!strcmp(unit, "m")) {
        arg = apr_pstrcat(p, arg, "i", NULL);   /* httpd's minutes: "mi" */
    }
    if (ap_timeout_parameter_parse(arg, out, "s") != APR_SUCCESS) {
        return 0;
    }
    return *out <= apr_time_from_sec(86400);
}

static const char *set_allow_http(cmd_parms *cmd, void *dc, int flag)
{
    mi_server_conf_t *conf = mi_conf_of(cmd->server);

    conf->delivery.allow_http = flag;
    conf->set |= MI_SET_HTTP;
    return NULL;
}

static const char *set_webhook_timeout(cmd_parms *cmd, void *dc,
                                       const char *arg)
{
    mi_server_conf_t *conf = mi_conf_of(cmd->server);

    if (!parse_duration(cmd->temp_pool, arg, &conf->delivery.timeout)
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
    mi_server_conf_t *conf = mi_conf_of(cmd->server);
    apr_interval_time_t delay;

    /* The first value of this directive replaces the defaults. */
    if (!(conf->set & MI_SET_DELAYS)) {
        conf->delivery.ndelays = 0;
        conf->set |= MI_SET_DELAYS;
    }
    if (!parse_duration(cmd->temp_pool, arg, &delay)) {
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
    mi_server_conf_t *conf = mi_conf_of(cmd->server);
    long n;

    if (!parse_int(arg, 1, 1000000, &n)) {
        return "IntegrationWebhookDisableAfter must be a whole number from 1 "
               "to 1000000";
    }
    conf->delivery.disable_after = (int)n;
    conf->set |= MI_SET_DISABLE;
    return NULL;
}

/* Per node: the delivery thread is the main server's. */
static const char *set_concurrency(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    long n;

    if (err) {
        return err;
    }
    if (!parse_int(arg, 1, 1024, &n)) {
        return "IntegrationWebhookConcurrency must be a whole number from 1 "
               "to 1024";
    }
    mi_conf_of(cmd->server)->delivery.concurrency = (int)n;
    return NULL;
}

/* Server-wide, as the delivery thread is: "none", or networks that
 * deliveries may reach besides public addresses. */
static const char *set_allow_networks(cmd_parms *cmd, void *dc,
                                      const char *arg)
{
    mi_egress_t *egress = &mi_conf_of(cmd->server)->delivery.egress;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    mi_cidr_t *net;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "none")) {
        egress->allow = NULL;
        return NULL;
    }
    if (!egress->allow) {
        egress->allow = apr_array_make(cmd->pool, 4, sizeof(mi_cidr_t));
    }
    if (egress->allow->nelts >= MI_EGRESS_NETWORKS_MAX) {
        return apr_psprintf(cmd->pool, "IntegrationWebhookAllowNetworks "
                            "takes at most %d networks; give wider ones",
                            MI_EGRESS_NETWORKS_MAX);
    }
    net = apr_array_push(egress->allow);
    if ((err = mi_cidr_parse(arg, net))) {
        return apr_psprintf(cmd->pool, "IntegrationWebhookAllowNetworks: "
                            "\"%s\" %s; give networks such as 10.20.0.0/16 "
                            "or fd00::/8, or none", arg, err);
    }
    return NULL;
}

static const char *set_proxy(cmd_parms *cmd, void *dc, const char *arg)
{
    mi_egress_t *egress = &mi_conf_of(cmd->server)->delivery.egress;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    int reserved;
    CURLU *u;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "none")) {
        egress->proxy = NULL;
        return NULL;
    }
    /* A proxy URL is the operator's: any address, http or https. */
    err = mi_webhook_url_parse(arg, 1, NULL, &u, &reserved);
    curl_url_cleanup(u);
    if (err && !reserved) {
        return "IntegrationWebhookProxy must be none or an http:// or "
               "https:// URL, e.g. http://proxy.internal:3128";
    }
    egress->proxy = arg;
    return NULL;
}

static const char *set_cafile(cmd_parms *cmd, void *dc, const char *arg)
{
    mi_egress_t *egress = &mi_conf_of(cmd->server)->delivery.egress;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    const char *path;
    apr_file_t *f;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "system")) {
        egress->cafile = NULL;
        return NULL;
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path || apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool)
                     != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "IntegrationWebhookCAFile: cannot "
                            "read \"%s\"; give a PEM file of CA "
                            "certificates, or system", arg);
    }
    apr_file_close(f);
    egress->cafile = path;
    return NULL;
}

static const char *set_db_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    mi_server_conf_t *conf = mi_conf_of(cmd->server);

    if (!parse_duration(cmd->temp_pool, arg, &conf->db_timeout)
        || conf->db_timeout < apr_time_from_msec(100)
        || conf->db_timeout > apr_time_from_sec(600)) {
        return "IntegrationDbTimeout must be a duration from 100ms to 10m, "
               "e.g. 5s";
    }
    conf->set |= MI_SET_DB_TIMEOUT;
    return NULL;
}

/* Per database connection pool, which virtual hosts may share: the main
 * server's. */
static const char *set_db_statements(cmd_parms *cmd, void *dc,
                                     const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "named") || !strcasecmp(arg, "unnamed")) {
        mi_conf_of(cmd->server)->db_unnamed = !strcasecmp(arg, "unnamed");
        return NULL;
    }
    return "IntegrationDbStatements must be named or unnamed (unnamed for a "
           "transaction pooler such as PgBouncer)";
}

const command_rec mi_conf_directives[] = {
    AP_INIT_TAKE12("IntegrationRateLimit", set_rate_limit, NULL, RSRC_CONF,
                   "requests per window per token, and the window in "
                   "seconds (default 100 60; 0 disables)"),
    AP_INIT_TAKE1("IntegrationRateLimitStore", set_rate_store, NULL,
                  RSRC_CONF, "where tokens' requests are counted: shm (this "
                  "node) or redis://host[:port][/db] (every node; default "
                  "shm)"),
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
    AP_INIT_TAKE1("IntegrationWebhookConcurrency", set_concurrency, NULL,
                  RSRC_CONF, "webhook deliveries in flight at once per node "
                  "(default 64)"),
    AP_INIT_ITERATE("IntegrationWebhookAllowNetworks", set_allow_networks,
                    NULL, RSRC_CONF, "networks webhook deliveries may reach "
                    "besides public addresses, e.g. 10.20.0.0/16 (default "
                    "none)"),
    AP_INIT_TAKE1("IntegrationWebhookProxy", set_proxy, NULL, RSRC_CONF,
                  "outbound proxy for webhook deliveries, e.g. "
                  "http://proxy.internal:3128 (default none)"),
    AP_INIT_TAKE1("IntegrationWebhookCAFile", set_cafile, NULL, RSRC_CONF,
                  "PEM bundle of the CAs that verify webhook receivers "
                  "(default system)"),
    AP_INIT_TAKE1("IntegrationDbTimeout", set_db_timeout, NULL, RSRC_CONF,
                  "longest wait for a pooled connection, a lock or a "
                  "statement, then 503 (default 5s)"),
    AP_INIT_TAKE1("IntegrationDbStatements", set_db_statements, NULL,
                  RSRC_CONF, "named: PostgreSQL statements prepared once per "
                  "session; unnamed: sent whole each time, for a transaction "
                  "pooler (default named)"),
    { NULL }
};
