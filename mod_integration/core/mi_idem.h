/* mi_idem.h: Idempotency-Key (API.md section 4): the first response to a
 * key is stored with the write it answers, in the same transaction, and
 * replayed byte for byte for 24 hours. Keys belong to an organization. */
#ifndef MI_IDEM_H
#define MI_IDEM_H

#include "mi_db.h"

#define MI_IDEM_TTL_MS    (24 * 3600 * 1000LL)
/* A claim older than this whose request never finished (the process died)
 * may be taken over. */
#define MI_IDEM_STALE_MS  (5 * 60 * 1000LL)

typedef enum {
    MI_IDEM_NEW,        /* claimed: process the request */
    MI_IDEM_REPLAY,     /* answered before: replay *status and *body */
    MI_IDEM_MISMATCH,   /* the key came with another request */
    MI_IDEM_IN_USE      /* the first request is still running */
} mi_idem_e;

typedef struct {
    const char *organization_id;
    const char *key;
    const char *request_hash;   /* SHA-256 of method, path and body */
} mi_idem_t;

/* 1 when key is 1 to 255 printable ASCII characters. */
int mi_idem_key_valid(const char *key);

/* Claims the key for this request (purging the organization's expired
 * keys first), or says in *state why not. */
mi_result_e mi_idem_claim(mi_db_t *db, apr_pool_t *pool, const mi_idem_t *idem,
                          mi_idem_e *state, int *status, const char **body);

/* Stores the response; call inside the write's transaction. */
mi_result_e mi_idem_complete(mi_db_t *db, apr_pool_t *pool,
                             const mi_idem_t *idem, int status,
                             const char *body);

/* Gives the claim up after a failed request, so that a retry may run. */
void mi_idem_release(mi_db_t *db, apr_pool_t *pool, const mi_idem_t *idem);

#endif
