/* mi_api.h: the handlers of the route table. Each writes its answer and
 * returns OK. */
#ifndef MI_API_H
#define MI_API_H

#include "mi_httpd.h"

int mi_api_health(mi_req_t *req);
int mi_api_openapi(mi_req_t *req);
int mi_api_list(mi_req_t *req);
int mi_api_upsert(mi_req_t *req);
int mi_api_get(mi_req_t *req);
int mi_api_delete(mi_req_t *req);

/* mi_api_status.c */
int mi_api_dds(mi_req_t *req);
int mi_api_sync_status(mi_req_t *req);
int mi_api_sync_logs(mi_req_t *req);

#endif
