/* mi_common.h: what every core file of mod_integration shares.
 *
 * The core knows nothing of httpd: APR, APR-util, Jansson and libcrypto only,
 * so that the module, integration-admin and the unit tests link the same code.
 */
#ifndef MI_COMMON_H
#define MI_COMMON_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_hash.h>
#include <apr_time.h>

/* Limits of the contract (API.md section 4). */
#define MI_MAX_RECORDS_DEFAULT   500
#define MI_STRING_MAX            255
#define MI_TEXT_MAX              2000
#define MI_ARRAY_MAX_ITEMS       50
#define MI_PAGE_LIMIT_DEFAULT    50
#define MI_PAGE_LIMIT_MAX        100

/* Outcome of a core operation, mapped to HTTP once, in the glue. */
typedef enum {
    MI_OK = 0,
    MI_ERR_NOT_FOUND,     /* the record (or token, org, ...) does not exist */
    MI_ERR_CONFLICT,      /* refused to keep references intact */
    MI_ERR_DB             /* the database failed or could not be reached */
} mi_result_e;

#define MI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Who is calling: the tenant every query is confined to, and the
 * integration whose token made the request. */
typedef struct {
    const char *organization_id;
    const char *integration_id;
    const char *token_id;
} mi_caller_t;

#endif
