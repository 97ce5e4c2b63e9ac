/* mi_cursor.h: the cursors of listings (API.md section 5).
 *
 * A cursor names the last entity of a page by its place in the listing
 * order, (lastSyncedAt, internalId), and is signed with the shared listing
 * key (mi_keys) for the organization and the resource type it was given
 * for: opaque to the client, and any change to it, or its use by another
 * organization or for another resource, is refused. It is base64url (no
 * padding) of a version byte, the time (8 bytes, big-endian), 16 bytes of
 * HMAC-SHA256 and the id.
 */
#ifndef MI_CURSOR_H
#define MI_CURSOR_H

#include "mi_common.h"

/* The longest cursor a request may send, in characters; the longest made
 * is far shorter (MI_CURSOR_ID_MAX). */
#define MI_CURSOR_MAX 256
/* The longest internal id a cursor carries. */
#define MI_CURSOR_ID_MAX 64
/* The 400 message of every cursor refused. */
#define MI_CURSOR_INVALID "cursor is invalid"

typedef struct {
    apr_int64_t synced_at;      /* lastSyncedAt, ms; >= 0 */
    const char *id;             /* internalId: 1 to MI_CURSOR_ID_MAX
                                 * printable ASCII characters */
} mi_cursor_t;

/* The cursor after pos, for org's listing of resource type (its plural),
 * signed with key (MI_KEY_LEN bytes); NULL when pos cannot be one (an id
 * too long or not printable, a negative time). */
const char *mi_cursor_encode(apr_pool_t *pool, const unsigned char *key,
                             const char *org, const char *type,
                             const mi_cursor_t *pos);

/* Reads text (untrusted, NUL-terminated) as a cursor of org's listing of
 * type: 1 and *pos set (its id in pool), or 0 when it is not exactly one
 * that mi_cursor_encode made for them. */
int mi_cursor_decode(apr_pool_t *pool, const unsigned char *key,
                     const char *org, const char *type, const char *text,
                     mi_cursor_t *pos);

#endif
