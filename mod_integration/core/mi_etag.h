/* mi_etag.h: entity tags of what an organization reads, and the
 * If-None-Match that a conditional GET compares them with (API.md
 * section 5). */
#ifndef MI_ETAG_H
#define MI_ETAG_H

#include "mi_common.h"

/* The longest If-None-Match read; a longer one matches nothing. */
#define MI_IF_NONE_MATCH_MAX 8192

/* A strong ETag, quotes included, for what org is shown: 128 bits of
 * HMAC-SHA256 with key (MI_KEY_LEN bytes) over org and the len bytes of
 * what (a version and the query it answers, or a body), base64url. Another
 * organization's tag for the same thing is another. */
const char *mi_etag_make(apr_pool_t *pool, const unsigned char *key,
                         const char *org, const char *what, apr_size_t len);

/* 1 when header (an If-None-Match value, untrusted; NULL for none) names
 * etag or is "*": the weak comparison of RFC 9110 section 13.1.2, which
 * ignores a W/ prefix. A malformed list matches nothing. */
int mi_etag_matches(const char *header, const char *etag);

/* What a request's conditional GET needs from an engine that makes the
 * tag before it reads what it tags (mi_records_list). */
typedef struct {
    const unsigned char *key;   /* in: the listing key (mi_keys) */
    const char *if_none_match;  /* in: the request's, or NULL */
    const char *etag;           /* out: the answer's tag */
    int not_modified;           /* out: 1 when if_none_match names it;
                                 * then nothing was written */
} mi_conditional_t;

#endif
