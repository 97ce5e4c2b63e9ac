/* mod_integration_auth.h: the gate every route with a scope passes: bearer
 * token, integration status, scope, rate limit (API.md sections 1-3). */
#ifndef MOD_INTEGRATION_AUTH_H
#define MOD_INTEGRATION_AUTH_H

#include "mod_integration.h"

/* Returns 0 and fills req->caller when the request may go on; otherwise
 * the answer (401, 403, 429, 503) has been written and it returns 1 (the
 * convention of mod_integration.h). */
int mi_auth_gate(mi_req_t *req);

#endif
