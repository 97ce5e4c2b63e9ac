/* test_resource_table.c: a resource described once. What the API derives
 * from the list of resources (routes, scopes, webhook events, entity
 * types) comes out of the table builders, for the three resources of the
 * contract exactly as API.md names them, and for a fourth, test-only
 * resource ("widgets") from its descriptor alone; the engines then serve
 * that resource given only its table (what its migration would create).
 * TAP output. */
#include "unit.h"
#include "mi_dds.h"
#include "mi_tenant.h"
#include "mi_token.h"
#include "mi_webhook.h"

static const mi_field_t widget_fields[] = {
    { .json = "name", .column = "name", .type = MI_FIELD_STRING,
      .max = MI_STRING_MAX, .required = "Widget name is required" },
    { .json = "weight", .column = "weight", .type = MI_FIELD_NUMBER },
};

/* The fourth resource: one descriptor... */
static mi_resource_t widgets = {
    .plural = "widgets",
    .entity_type = "WIDGET",
    .event = "widget",
    .table = "widgets",
    .fields = widget_fields,
    .nfields = (int)MI_ARRAY_SIZE(widget_fields),
    .name_field = 0,
};

/* ...and its migration. */
static const mi_stmt_t create_widgets = { "test_create_widgets", {
    "CREATE TABLE widgets (id TEXT PRIMARY KEY, "
    "organization_id TEXT NOT NULL REFERENCES organizations(id), "
    "external_id TEXT NOT NULL, name TEXT, weight REAL, "
    "sync_status TEXT NOT NULL DEFAULT 'SYNCED', "
    "last_synced_at INTEGER NOT NULL, created_at INTEGER NOT NULL, "
    "updated_at INTEGER NOT NULL, UNIQUE (organization_id, external_id))",
    NULL } };

/* The names of a NULL-terminated list, comma-separated. */
static const char *joined(apr_pool_t *p, const char *const *names)
{
    apr_array_header_t *a = apr_array_make(p, 16, sizeof(char *));
    int i;

    for (i = 0; names[i]; i++) {
        APR_ARRAY_PUSH(a, const char *) = names[i];
    }
    return apr_array_pstrcat(p, a, ',');
}

/* The routes of a resource, one a line: "action path scope [404]". */
static const char *routes_of(apr_pool_t *p, const mi_resource_t *res)
{
    static const char *const names[MI_ACTION_COUNT] = {
        [MI_ACTION_LIST] = "list", [MI_ACTION_UPSERT] = "upsert",
        [MI_ACTION_GET] = "get", [MI_ACTION_DELETE] = "delete"
    };
    mi_resource_route_t routes[MI_ACTION_COUNT];
    const char *out = "";
    int i;

    mi_resource_routes(p, res, routes);
    for (i = 0; i < MI_ACTION_COUNT; i++) {
        out = apr_pstrcat(p, out, i ? "\n" : "", names[routes[i].action],
                          " ", routes[i].path, " ", routes[i].scope,
                          routes[i].missing ? " " : "",
                          routes[i].missing ? routes[i].missing : "", NULL);
    }
    return out;
}

/* The contract's names (API.md sections 2, 8, 9), in its order. */
static void test_contract(apr_pool_t *p)
{
    const mi_resource_t *batches = mi_resource_find("batches");

    is_str(joined(p, mi_scopes),
           "integration:suppliers:read,integration:suppliers:write,"
           "integration:products:read,integration:products:write,"
           "integration:batches:read,integration:batches:write,"
           "integration:dds:read,integration:webhooks:manage,"
           "integration:sync:read", "the scopes of the contract, in order");
    is_str(joined(p, mi_webhook_events),
           "supplier.created,supplier.updated,supplier.deleted,"
           "product.created,product.updated,product.deleted,"
           "batch.created,batch.updated,batch.deleted,"
           "sync.completed,sync.failed,"
           "dds.status_changed,dds.submitted,dds.approved",
           "the webhook events of the contract, in order");
    is_str(mi_entity_type_error,
           "entityType must be SUPPLIER, PRODUCT or BATCH",
           "the entityType message names the three types");
    is_str(routes_of(p, mi_resource_find("suppliers")),
           "list /suppliers integration:suppliers:read\n"
           "upsert /suppliers integration:suppliers:write\n"
           "get /suppliers/* integration:suppliers:read "
           "No supplier found with externalId \"%s\"\n"
           "delete /suppliers/* integration:suppliers:write "
           "No supplier found with externalId \"%s\"",
           "the routes of suppliers");
    is_str(routes_of(p, batches),
           "list /batches integration:batches:read\n"
           "upsert /batches integration:batches:write\n"
           "get /batches/* integration:batches:read "
           "No batch found with externalId \"%s\"\n"
           "delete /batches/* integration:batches:write "
           "No batch found with externalId \"%s\"",
           "the routes of batches");
    ok(batches->after_create == &mi_dds_auto_create
       && !strcmp(batches->after_create->flag, "autoCreateDDS")
       && !strcmp(batches->after_create->key, "ddsCreated")
       && !mi_resource_find("suppliers")->after_create
       && !mi_resource_find("products")->after_create,
       "only batches create DDS drafts, asked by autoCreateDDS");
}

/* What the builders make of a list with the test-only resource in it. */
static void test_builders(apr_pool_t *p)
{
    const mi_resource_t *one[] = { &widgets, NULL };
    const mi_resource_t *two[] = { mi_resource_find("suppliers"), &widgets,
                                   NULL };
    const mi_resource_t *four[] = { mi_resource_find("suppliers"),
                                    mi_resource_find("products"),
                                    mi_resource_find("batches"), &widgets,
                                    NULL };
    const char *const others[] = { "other:one", "other:two", NULL };
    const mi_resource_t *none[] = { NULL };

    is_str(routes_of(p, &widgets),
           "list /widgets integration:widgets:read\n"
           "upsert /widgets integration:widgets:write\n"
           "get /widgets/* integration:widgets:read "
           "No widget found with externalId \"%s\"\n"
           "delete /widgets/* integration:widgets:write "
           "No widget found with externalId \"%s\"",
           "a new resource's routes, scopes and 404s");
    is_str(joined(p, mi_resource_scopes(p, two, others)),
           "integration:suppliers:read,integration:suppliers:write,"
           "integration:widgets:read,integration:widgets:write,"
           "other:one,other:two", "scopes: the resources', then the others");
    is_str(joined(p, mi_resource_events(p, two, NULL)),
           "supplier.created,supplier.updated,supplier.deleted,"
           "widget.created,widget.updated,widget.deleted",
           "events: created, updated, deleted of each resource");
    is_str(joined(p, mi_resource_scopes(p, none, others)),
           "other:one,other:two", "no resource: only the others");
    is_str(mi_resource_types_text(p, one), "WIDGET", "one entity type");
    is_str(mi_resource_types_text(p, two), "SUPPLIER or WIDGET",
           "two entity types");
    is_str(mi_resource_types_text(p, four),
           "SUPPLIER, PRODUCT, BATCH or WIDGET", "four entity types");

    /* The checks of tokens and webhooks take what the list gives. */
    mi_scopes_init(p, four);
    mi_webhook_events_init(p, four);
    {
        const char *bad = NULL, *body = "[\"widget.deleted\",\"dds.approved\"]";
        const char *all = mi_scopes_parse(p, "all", &bad);
        json_t *events = NULL;

        ok(mi_scopes_parse(p, "integration:widgets:write", &bad) != NULL,
           "a token may have the new resource's scope");
        ok(all && mi_scopes_contain(all, "integration:widgets:read")
           && mi_scopes_contain(all, "integration:sync:read"),
           "all scopes include it");
        ok(mi_json_parse(p, body, strlen(body), &events) == MI_JSON_OK
           && mi_webhook_events_check(p, events) == NULL,
           "a webhook may subscribe to its events");
    }
    /* Back to the API's own list. */
    mi_resources_init(p);
    {
        const char *bad = NULL, *body = "[\"widget.deleted\"]";
        json_t *events = NULL;

        ok(!mi_scopes_parse(p, "integration:widgets:write", &bad),
           "the API's own list has no widgets scope");
        ok(mi_json_parse(p, body, strlen(body), &events) == MI_JSON_OK
           && mi_webhook_events_check(p, events) != NULL,
           "nor widget events");
    }
}

/* The engines serve the new resource from its descriptor and its table. */
static void test_engines(apr_pool_t *p)
{
    mi_db_t *db = unit_db(p);
    const char *org = NULL, *body = NULL;
    const char *recs = "[{\"externalId\":\"W1\",\"name\":\"Cog\","
                       "\"weight\":2.5},{\"externalId\":\"W2\"}]";
    mi_caller_t caller = { NULL, "int_test", "tok_test" };
    const mi_jv_t *records = NULL;
    json_t *resp = NULL, *entity = NULL;

    if (!db) {
        ok(0, "an in-memory SQLite database with the schema");
        return;
    }
    mi_resource_build(p, &widgets);
    ok(mi_db_exec(db, p, &create_widgets, NULL, 0, NULL) == APR_SUCCESS
       && mi_org_create(db, p, "Org", &org) == MI_OK,
       "the widgets table, an organization");
    caller.organization_id = org;
    mi_jsonr_parse(p, recs, strlen(recs), &records);
    ok(mi_upsert_run(db, p, &widgets, &caller, records, 1, NULL, &body,
                     NULL)
           == MI_OK
       && mi_json_parse(p, body, strlen(body), &resp) == MI_JSON_OK,
       "upsert of widgets runs");
    ok(json_integer_value(json_object_get(resp, "created")) == 1
       && json_array_size(json_object_get(resp, "errors")) == 1
       && !json_object_get(resp, "ddsCreated"),
       "one created, the nameless one refused, no after_create member");
    is_str(json_string_value(json_object_get(json_array_get(
               json_object_get(resp, "errors"), 0), "error")),
           "Widget name is required", "the descriptor's message");
    ok(unit_get_record(db, p, &widgets, org, "W1", &entity) == MI_OK
       && json_real_value(json_object_get(entity, "weight")) == 2.5,
       "the widget reads back");
    ok(mi_records_delete(db, p, &widgets, &caller, "W1") == MI_OK
       && unit_get_record(db, p, &widgets, org, "W1", &entity)
              == MI_ERR_NOT_FOUND,
       "and is deleted");
    if (db->error) {
        printf("# %s\n", db->error);
    }
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_contract(p);
    test_builders(p);
    test_engines(p);
    return unit_done(p);
}
