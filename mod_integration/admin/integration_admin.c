/* integration_admin.c: integration-admin, the administration tool
 * (API.md section 10): schema, organizations, integrations and tokens, over
 * the same apr_dbd drivers as the module.
 *
 * stdout carries only the value a script wants (one per line); messages go
 * to stderr. Exit 0 on success, 1 on a usage error, 2 on a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_getopt.h>
#include "mi_common.h"
#include "mi_db.h"
#include "mi_dds.h"
#include "mi_json.h"
#include "mi_migrate.h"
#include "mi_resource.h"
#include "mi_tenant.h"
#include "mi_text.h"
#include "mi_time.h"
#include "mi_token.h"

#define EXIT_USAGE 1
#define EXIT_FAIL 2

static const char usage_text[] =
"usage: integration-admin [--driver DRIVER] [--params PARAMS] [--json]\n"
"                         COMMAND [ARGS]\n"
"  (defaults: $INTEGRATION_DB_DRIVER and $INTEGRATION_DB_PARAMS)\n"
"\n"
"  migrate                                   create or upgrade the schema\n"
"  org create NAME                           prints the organization id\n"
"  integration create --org ORG NAME         prints the integration id\n"
"  integration activate INT | deactivate INT\n"
"  token create --integration INT --name NAME --scopes SCOPE[,SCOPE...]\n"
"               [--expires DATE_OR_DATETIME] prints the raw token\n"
"  token list --integration INT [--json]\n"
"  token revoke ID_OR_RAW_TOKEN\n"
"  dds set-status --org ORG BATCH_EXTERNAL_ID STATUS\n"
"                                            DRAFT, SUBMITTED, APPROVED or\n"
"                                            REJECTED; creates the first DDS\n"
"                                            if none; prints the DDS number\n"
"\n"
"  --scopes all grants every scope.\n";

typedef struct {
    apr_pool_t *pool;
    const char *driver;
    const char *params;
    int json;
    int argc;               /* the command and its arguments */
    const char **argv;
    mi_db_t *db;
} admin_t;

static int usage(const char *why)
{
    if (why) {
        fprintf(stderr, "integration-admin: %s\n", why);
    }
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "integration-admin: %s%s%s\n", what, why ? ": " : "",
            why ? why : "");
    return EXIT_FAIL;
}

static int db_fail(admin_t *a, const char *what)
{
    return fail(what, a->db && a->db->error ? a->db->error
                                            : "database error");
}

/* A core operation that did not succeed for want of the database or of
 * randomness (what else it may answer, the caller has told). */
static int result_fail(admin_t *a, mi_result_e rc, const char *what)
{
    if (rc == MI_ERR_INTERNAL) {
        return fail(what, "no random bytes from libcrypto, or no memory");
    }
    return db_fail(a, what);
}

/* The value of --name among the command's arguments, or NULL; the
 * positional arguments are collected into pos. */
static const char *option(admin_t *a, const char *name)
{
    int i;

    for (i = 0; i < a->argc - 1; i++) {
        if (!strcmp(a->argv[i], name)) {
            return a->argv[i + 1];
        }
    }
    return NULL;
}

static apr_array_header_t *positionals(admin_t *a, int from)
{
    apr_array_header_t *pos = apr_array_make(a->pool, 4, sizeof(char *));
    int i;

    for (i = from; i < a->argc; i++) {
        if (!strncmp(a->argv[i], "--", 2)) {
            i++;
            continue;
        }
        APR_ARRAY_PUSH(pos, const char *) = a->argv[i];
    }
    return pos;
}

static int open_db(admin_t *a)
{
    const char *err = NULL;

    if (!a->driver || !a->params) {
        return usage("no database: give --driver and --params, or set "
                     "INTEGRATION_DB_DRIVER and INTEGRATION_DB_PARAMS");
    }
    if (mi_db_open(a->pool, a->driver, a->params, &a->db, &err)
            != APR_SUCCESS) {
        return fail("cannot open the database", err);
    }
    return 0;
}

static int cmd_migrate(admin_t *a)
{
    int applied = 0, version = 0;

    if (a->argc != 1) {
        return usage("migrate takes no arguments");
    }
    if (mi_migrate_apply(a->db, a->pool, &applied) != APR_SUCCESS) {
        return db_fail(a, "migration failed");
    }
    mi_migrate_current(a->db, a->pool, &version);
    fprintf(stderr, "schema at version %d (%d migration%s applied)\n",
            version, applied, applied == 1 ? "" : "s");
    return 0;
}

/* Refuses to go on before the schema exists, with a clear message. */
static int need_schema(admin_t *a)
{
    int version = 0;

    if (mi_migrate_current(a->db, a->pool, &version) != APR_SUCCESS) {
        return db_fail(a, "cannot read the schema version");
    }
    if (version < mi_migrate_latest(a->db->dialect)) {
        return fail("the database schema is missing or old",
                    "run integration-admin migrate first");
    }
    return 0;
}

static int cmd_org(admin_t *a)
{
    apr_array_header_t *pos = positionals(a, 2);
    const char *id;
    mi_result_e rc;

    if (a->argc < 2 || strcmp(a->argv[1], "create") || pos->nelts != 1
        || !*APR_ARRAY_IDX(pos, 0, const char *)) {
        return usage("expected: org create NAME");
    }
    if ((rc = mi_org_create(a->db, a->pool,
                            APR_ARRAY_IDX(pos, 0, const char *), &id))
            != MI_OK) {
        return result_fail(a, rc, "cannot create the organization");
    }
    printf("%s\n", id);
    return 0;
}

static int cmd_integration(admin_t *a)
{
    const char *sub = a->argc > 1 ? a->argv[1] : "";
    apr_array_header_t *pos = positionals(a, 2);
    const char *id, *org = option(a, "--org");
    mi_result_e rc;

    if (!strcmp(sub, "create")) {
        if (!org || pos->nelts != 1 || !*APR_ARRAY_IDX(pos, 0, const char *)) {
            return usage("expected: integration create --org ORG NAME");
        }
        rc = mi_integration_create(a->db, a->pool, org,
                                   APR_ARRAY_IDX(pos, 0, const char *), &id);
        if (rc == MI_ERR_NOT_FOUND) {
            return fail("no such organization", org);
        }
        if (rc != MI_OK) {
            return result_fail(a, rc, "cannot create the integration");
        }
        printf("%s\n", id);
        return 0;
    }
    if (!strcmp(sub, "activate") || !strcmp(sub, "deactivate")) {
        if (pos->nelts != 1) {
            return usage(apr_psprintf(a->pool, "expected: integration %s INT",
                                      sub));
        }
        id = APR_ARRAY_IDX(pos, 0, const char *);
        rc = mi_integration_set_status(a->db, a->pool, id,
                                       *sub == 'a' ? "ACTIVE" : "INACTIVE");
        if (rc == MI_ERR_NOT_FOUND) {
            return fail("no such integration", id);
        }
        return rc == MI_OK ? 0 : db_fail(a, "cannot change the integration");
    }
    return usage("expected: integration create|activate|deactivate");
}

static int token_create(admin_t *a)
{
    const char *integration = option(a, "--integration");
    const char *name = option(a, "--name");
    const char *scopes = option(a, "--scopes");
    const char *expires = option(a, "--expires");
    const char *normalized, *bad = NULL, *raw;
    apr_int64_t expires_at = -1;
    mi_result_e rc;

    if (!integration || !name || !scopes || !*name
        || positionals(a, 2)->nelts) {
        return usage("expected: token create --integration INT --name NAME "
                     "--scopes SCOPES [--expires DATE]");
    }
    if (!(normalized = mi_scopes_parse(a->pool, scopes, &bad))) {
        return usage(apr_psprintf(a->pool, "unknown scope \"%s\"", bad));
    }
    if (expires && !mi_datetime_parse(expires, &expires_at)) {
        return usage("--expires must be YYYY-MM-DD or an ISO date-time");
    }
    rc = mi_token_create(a->db, a->pool, integration, name, normalized,
                         expires_at, &raw);
    if (rc == MI_ERR_NOT_FOUND) {
        return fail("no such integration", integration);
    }
    if (rc != MI_OK) {
        return result_fail(a, rc, "cannot create the token");
    }
    printf("%s\n", raw);
    return 0;
}

static const char *time_or_dash(apr_pool_t *p, const char *ms)
{
    return ms ? mi_time_iso(p, apr_atoi64(ms)) : "-";
}

static int token_list(admin_t *a)
{
    const char *integration = option(a, "--integration");
    mi_rows_t rows;
    json_t *out;
    int i;

    if (!integration) {
        return usage("expected: token list --integration INT [--json]");
    }
    if (mi_token_list(a->db, a->pool, integration, &rows) != MI_OK) {
        return db_fail(a, "cannot list tokens");
    }
    out = mi_json_own(a->pool, json_array());
    for (i = 0; i < rows.nrows; i++) {
        const char **r = rows.rows[i];
        int revoked = r[5] && strcmp(r[5], "0");

        if (a->json) {
            json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:o, s:o, "
                "s:b, s:s, s:o}", "id", r[0], "name", r[1], "prefix", r[2],
                "scopes", json_string(r[3]), "expiresAt",
                r[4] ? json_string(time_or_dash(a->pool, r[4])) : json_null(),
                "revoked", revoked, "createdAt",
                time_or_dash(a->pool, r[6]), "lastUsedAt",
                r[7] ? json_string(time_or_dash(a->pool, r[7]))
                     : json_null()));
        }
        else {
            printf("%s\t%s\t%s\t%s\texpires=%s\trevoked=%s\tlast_used=%s\n",
                   r[0], r[1], r[2], r[3], time_or_dash(a->pool, r[4]),
                   revoked ? "yes" : "no", time_or_dash(a->pool, r[7]));
        }
    }
    if (a->json) {
        printf("%s\n", mi_json_dump(a->pool, out));
    }
    return 0;
}

static int cmd_token(admin_t *a)
{
    const char *sub = a->argc > 1 ? a->argv[1] : "";
    apr_array_header_t *pos;
    mi_result_e rc;

    if (!strcmp(sub, "create")) {
        return token_create(a);
    }
    if (!strcmp(sub, "list")) {
        return token_list(a);
    }
    if (!strcmp(sub, "revoke")) {
        pos = positionals(a, 2);
        if (pos->nelts != 1) {
            return usage("expected: token revoke ID_OR_RAW_TOKEN");
        }
        rc = mi_token_revoke(a->db, a->pool,
                             APR_ARRAY_IDX(pos, 0, const char *));
        if (rc == MI_ERR_NOT_FOUND) {
            return fail("no such token", NULL);
        }
        return rc == MI_OK ? 0 : db_fail(a, "cannot revoke the token");
    }
    return usage("expected: token create|list|revoke");
}

static int cmd_dds(admin_t *a)
{
    const char *org = option(a, "--org"), *previous, *number;
    apr_array_header_t *pos = positionals(a, 2);
    const char *batch, *status;
    mi_result_e rc;

    if (a->argc < 2 || strcmp(a->argv[1], "set-status") || !org
        || pos->nelts != 2) {
        return usage("expected: dds set-status --org ORG BATCH_EXTERNAL_ID "
                     "STATUS");
    }
    batch = APR_ARRAY_IDX(pos, 0, const char *);
    status = APR_ARRAY_IDX(pos, 1, const char *);
    if (!mi_dds_status_valid(status)) {
        return usage(apr_psprintf(a->pool, "unknown DDS status \"%s\" (use "
                                  "DRAFT, SUBMITTED, APPROVED or REJECTED)",
                                  status));
    }
    rc = mi_dds_set_status(a->db, a->pool, org, batch, status, &previous,
                           &number);
    if (rc == MI_ERR_NOT_FOUND) {
        return fail("no such batch in that organization", batch);
    }
    if (rc != MI_OK) {
        return result_fail(a, rc, "cannot change the DDS status");
    }
    printf("%s\n", number);
    fprintf(stderr, "%s: %s -> %s\n", number, previous ? previous : "(new)",
            status);
    return 0;
}

typedef struct {
    const char *name;
    int (*run)(admin_t *a);
    int needs_schema;
} command_t;

static const command_t commands[] = {
    { "migrate", cmd_migrate, 0 },
    { "org", cmd_org, 1 },
    { "integration", cmd_integration, 1 },
    { "token", cmd_token, 1 },
    { "dds", cmd_dds, 1 },
};

/* The options before the command; those after it are the command's.
 * Above 255: no one-letter form. */
enum { OPT_DRIVER = 256, OPT_PARAMS, OPT_JSON };

static const apr_getopt_option_t global_options[] = {
    { "driver", OPT_DRIVER, 1, "the apr_dbd driver" },
    { "params", OPT_PARAMS, 1, "the apr_dbd connection parameters" },
    { "json", OPT_JSON, 0, "JSON output" },
    { "help", 'h', 0, "the usage text" },
    { NULL, 0, 0, NULL }
};

int main(int argc, const char *const argv[])
{
    admin_t a;
    const command_t *cmd = NULL;
    apr_getopt_t *opt;
    const char *arg, *bad;
    apr_status_t rv;
    int i, ch, rc;

    memset(&a, 0, sizeof(a));
    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&a.pool, NULL);
    /* The scopes a token may have are built from the resources. */
    mi_resources_init(a.pool);
    a.driver = getenv("INTEGRATION_DB_DRIVER");
    a.params = getenv("INTEGRATION_DB_PARAMS");
    apr_getopt_init(&opt, a.pool, argc, argv);
    opt->errfn = NULL;              /* our messages, then the usage text */
    while ((rv = apr_getopt_long(opt, global_options, &ch, &arg))
               == APR_SUCCESS) {
        switch (ch) {
        case OPT_DRIVER:
            a.driver = arg;
            break;
        case OPT_PARAMS:
            a.params = arg;
            break;
        case OPT_JSON:
            a.json = 1;
            break;
        default:                    /* -h, --help */
            fputs(usage_text, stdout);
            return 0;
        }
    }
    if (rv != APR_EOF) {
        /* The option at fault is the argument apr_getopt_long just read. */
        bad = argv[opt->ind - 1];
        if (rv != APR_BADARG) {
            return usage(apr_psprintf(a.pool, "unknown option %s", bad));
        }
        return usage(apr_pstrcat(a.pool,
                                 apr_pstrndup(a.pool, bad, strcspn(bad, "=")),
                                 strchr(bad, '=') ? " takes no value"
                                                  : " needs a value", NULL));
    }
    i = opt->ind;
    if (i >= argc) {
        return usage("no command given");
    }
    a.argc = argc - i;
    a.argv = (const char **)argv + i;
    for (i = 0; i < (int)MI_ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, a.argv[0])) {
            cmd = &commands[i];
        }
    }
    if (!cmd) {
        return usage(apr_psprintf(a.pool, "unknown command \"%s\"",
                                  a.argv[0]));
    }
    /* argv ends with NULL. */
    if (mi_text_in("--json", a.argv + 1)) {
        a.json = 1;
    }
    if ((rc = open_db(&a)) != 0) {
        return rc;
    }
    rc = cmd->needs_schema ? need_schema(&a) : 0;
    if (rc == 0) {
        rc = cmd->run(&a);
    }
    mi_db_close(a.db);
    return rc;
}
