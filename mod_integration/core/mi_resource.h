/* mi_resource.h: the record types of the API, described as data.
 *
 * Suppliers, products and batches differ only in their fields, their table
 * and their scopes; one validation engine (mi_validate), one upsert engine
 * (mi_upsert) and one read/delete engine (mi_records) serve them all from
 * these descriptors. A new field is one line in mi_resource.c (and a column
 * in a migration); a new resource is one descriptor there (and its
 * migrations): its routes, scopes, webhook events and entity type are
 * built from the descriptors at start-up (mi_resources_init).
 */
#ifndef MI_RESOURCE_H
#define MI_RESOURCE_H

#include "mi_db.h"
#include "mi_json.h"

typedef enum {
    MI_FIELD_STRING,        /* string of at most max characters */
    MI_FIELD_COUNTRY,       /* ISO 3166-1 alpha-2 code */
    MI_FIELD_EMAIL,         /* string with "@" and a dotted domain */
    MI_FIELD_DATE,          /* YYYY-MM-DD, a real calendar date */
    MI_FIELD_NUMBER,        /* finite, non-negative number */
    MI_FIELD_BOOLEAN,
    MI_FIELD_STRING_ARRAY,  /* at most MI_ARRAY_MAX_ITEMS strings of max */
    MI_FIELD_REF            /* externalId of a record of resource ref; the
                             * column holds that record's internal id */
} mi_field_type_e;

typedef struct {
    const char *json;       /* name in requests and responses */
    const char *column;     /* column of the resource's table */
    mi_field_type_e type;
    apr_size_t max;         /* characters of a string (or of each item) */
    const char *required;   /* message when missing or empty; NULL: optional */
    const char *alias;      /* another name accepted in requests, or NULL */
    const char *ref;        /* MI_FIELD_REF: plural of the resource named */
    const char *missing;    /* MI_FIELD_REF: message when it is not found,
                             * with %s for the externalId */
} mi_field_t;

/* The statements of one resource, generated from its fields at start-up. */
typedef struct {
    mi_stmt_t upsert;       /* chunked (mi_row_e rows), then (org, now,
                             * now, now, then '1' or '0' per field: the
                             * records carried it) -> ext, id */
    /* The listings: (org, org, then their own) -> columns, then the
     * type's total and version (mi_counts) on every row. */
    mi_stmt_t list;         /* (org, since, limit, offset) */
    mi_stmt_t list_after;   /* a cursor's page, the records after a place
                             * in the order: (org, since, synced_at, id,
                             * limit) */
    mi_stmt_t count;        /* (org, since) -> count */
    mi_stmt_t latest;       /* (org) -> the greatest last_synced_at, or
                             * NULL */
    mi_stmt_t get;          /* (org, external_id) -> columns */
    mi_stmt_t remove;       /* (org, external_id) -> id */
    mi_stmt_t guard;        /* (org, external_id) -> id, refused (0/1) */
    mi_stmt_t resolve;      /* (org, JSON array of external_ids) -> ext, id */
    mi_stmt_t list_ids;     /* list, limited to a JSON array of external_ids:
                             * (org, since, ids, limit, offset) */
    mi_stmt_t list_ids_after;   /* list_after, so limited: (org, since,
                                 * ids, synced_at, id, limit) */
    mi_stmt_t count_ids;    /* (org, since, ids) -> count */
} mi_resource_sql_t;

/* A stored record by both its ids. */
typedef struct {
    const char *id;             /* internal id */
    const char *external_id;
} mi_record_id_t;

/* Work of one resource's own that an upsert does in its transaction, after
 * its writes, on the records it created (mi_record_id_t), when the request
 * asked for it with a boolean member (batches: DDS drafts, mi_dds.c). */
typedef mi_result_e (*mi_after_create_fn)(mi_db_t *db, apr_pool_t *pool,
                                          const char *org,
                                          const apr_array_header_t *created,
                                          json_t *out);

typedef struct {
    const char *flag;           /* the request's boolean that asks for it */
    const char *key;            /* the response's array of what run appended
                                 * to out; there even when not asked for */
    mi_after_create_fn run;
} mi_after_create_t;

typedef struct {
    const char *plural;         /* "suppliers": path segment, body key and
                                 * scope name */
    const char *entity_type;    /* "SUPPLIER" in sync logs and status */
    const char *event;          /* "supplier": prefix of webhook events, and
                                 * the name of one record in messages */
    const char *table;
    const mi_field_t *fields;
    int nfields;
    int name_field;             /* index of the field listed as "name" */
    const mi_after_create_t *after_create;  /* or NULL */
    const char *delete_guard;   /* SQL over "t" that refuses a delete */
    const char *delete_refusal; /* the 409 message, %s the externalId */
    mi_resource_sql_t sql;      /* filled once by mi_resources_init */
    /* Filled with it, for writing records (mi_records): each field's
     * member text, ,"<json>": and its length. */
    const char **members;
    apr_size_t *member_lens;
} mi_resource_t;

/* Columns every resource table has besides its fields, in the order that
 * the list and get statements return them. */
enum {
    MI_COL_ID = 0,
    MI_COL_EXTERNAL_ID,
    MI_COL_SYNC_STATUS,
    MI_COL_LAST_SYNCED_AT,
    MI_COL_CREATED_AT,
    MI_COL_UPDATED_AT,
    MI_COL_FIELDS             /* the fields follow, in descriptor order */
};

/* The texts a record is written with (mi_validate, mi_upsert), one per
 * parameter: its internal id, its externalId, the mask of the fields it
 * carried (bit i for field i, in decimal), then one per field in
 * descriptor order; NULL for SQL NULL, and for a field it did not carry. */
typedef enum {
    MI_ROW_ID = 0,
    MI_ROW_EXTERNAL_ID,
    MI_ROW_MASK,
    MI_ROW_FIELDS             /* the fields follow */
} mi_row_e;

/* Generates the SQL of every resource, and what the API derives from the
 * list of resources (mi_scopes, mi_webhook_events, mi_entity_type_error);
 * call once, before any request. The route table is the glue's
 * (mi_routes_init). */
void mi_resources_init(apr_pool_t *pool);

/* The resource with this plural name, or NULL. */
const mi_resource_t *mi_resource_find(const char *plural);

/* The resource with this entity type (SUPPLIER, ...), or NULL. */
const mi_resource_t *mi_resource_of_type(const char *entity_type);

/* Every resource, NULL-terminated. */
extern const mi_resource_t *const mi_resources[];

/* The 400 message of an entityType that names no resource ("entityType
 * must be SUPPLIER, PRODUCT or BATCH"), set by mi_resources_init. */
extern const char *mi_entity_type_error;

/* What one resource serves: its collection and each record by its
 * externalId. */
typedef enum {
    MI_ACTION_LIST = 0,         /* GET /<plural> */
    MI_ACTION_UPSERT,           /* POST /<plural> */
    MI_ACTION_GET,              /* GET /<plural>/{externalId} */
    MI_ACTION_DELETE,           /* DELETE /<plural>/{externalId} */
    MI_ACTION_COUNT
} mi_action_e;

typedef struct {
    mi_action_e action;
    const char *path;           /* "/suppliers"; a record's: the same and a
                                 * segment "*", its externalId */
    const char *scope;          /* "integration:suppliers:read" (or write) */
    const char *missing;        /* "*" paths: the 404 message, "%s" the id;
                                 * NULL otherwise */
} mi_resource_route_t;

/* The routes of res, in mi_action_e order (the order of the Allow header
 * of a 405). */
void mi_resource_routes(apr_pool_t *pool, const mi_resource_t *res,
                        mi_resource_route_t routes[MI_ACTION_COUNT]);

/* The scopes of the resources of list (NULL-terminated), read then write
 * of each in list order, followed by others; NULL-terminated. */
const char *const *mi_resource_scopes(apr_pool_t *pool,
                                      const mi_resource_t *const *list,
                                      const char *const *others);

/* The webhook events of the resources of list, created, updated, deleted
 * of each in list order, followed by others; NULL-terminated. */
const char *const *mi_resource_events(apr_pool_t *pool,
                                      const mi_resource_t *const *list,
                                      const char *const *others);

/* The entity types of list as a message says them: "SUPPLIER, PRODUCT or
 * BATCH". */
const char *mi_resource_types_text(apr_pool_t *pool,
                                   const mi_resource_t *const *list);

/* Generates what mi_resources_init fills in for one resource: its
 * statements and its member texts. */
void mi_resource_build(apr_pool_t *pool, mi_resource_t *res);

/* Generates one resource's statements (mi_resource_sql.c). */
void mi_resource_sql_build(apr_pool_t *pool, mi_resource_t *res);

#endif
