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

/* The outcome of every core operation that the glue or the admin tool
 * acts on: one vocabulary, mapped to HTTP in one place (mi_http_result in
 * the glue). apr_status_t stays below it, in mi_db's driver calls and APR's
 * own; checks of input return NULL or their VALIDATION_ERROR message (what
 * MI_ERR_INVALID carries to the glue). */
typedef enum {
    MI_OK = 0,
    MI_ERR_NOT_FOUND,     /* the record (or token, org, ...) does not exist */
    MI_ERR_CONFLICT,      /* refused to keep references intact */
    MI_ERR_INVALID,       /* the request breaks a rule; a message says which */
    MI_ERR_RETRY,         /* the database rolled the unit of work back to let
                           * another go on (deadlock, serialization failure):
                           * running it again may succeed */
    MI_ERR_DB,            /* the database failed or could not be reached */
    MI_ERR_INTERNAL       /* neither the request nor the database: no random
                           * bytes from libcrypto, no memory */
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
