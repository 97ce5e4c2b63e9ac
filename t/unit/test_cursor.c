/* test_cursor.c: unit tests of mi_cursor (listing cursors), mi_etag
 * (entity tags, If-None-Match), mi_keys (the shared key) and the cursor
 * walk of mi_records_list. */
#include <string.h>
#include "unit.h"
#include "mi_cursor.h"
#include "mi_etag.h"
#include "mi_keys.h"
#include "mi_tenant.h"

static const unsigned char key[MI_KEY_LEN] = "0123456789abcdef0123456789abcde";
static const unsigned char other_key[MI_KEY_LEN] =
    "another key, of 32 bytes.......";

/* text with character i replaced by c. */
static const char *altered(apr_pool_t *p, const char *text, apr_size_t i,
                           char c)
{
    char *s = apr_pstrdup(p, text);

    s[i] = c;
    return s;
}

static void test_cursor_codec(apr_pool_t *p)
{
    mi_cursor_t pos = { 1700000000123LL, "c0abcdefghijklmno" }, got;
    const char *c = mi_cursor_encode(p, key, "org1", "suppliers", &pos);
    apr_size_t i, len;
    int all_refused = 1;

    ok(c != NULL && strlen(c) < MI_CURSOR_MAX, "a cursor is made");
    ok(c && !strpbrk(c, "+/="), "it is base64url without padding");
    ok(mi_cursor_decode(p, key, "org1", "suppliers", c, &got)
       && got.synced_at == pos.synced_at && !strcmp(got.id, pos.id),
       "it reads back as the place it names");
    ok(!mi_cursor_decode(p, key, "org2", "suppliers", c, &got),
       "another organization's is refused");
    ok(!mi_cursor_decode(p, key, "org1", "products", c, &got),
       "another resource's is refused");
    ok(!mi_cursor_decode(p, other_key, "org1", "suppliers", c, &got),
       "one signed with another key is refused");
    len = strlen(c);
    for (i = 1; i < len; i++) {
        if (mi_cursor_decode(p, key, "org1", "suppliers",
                             apr_pstrndup(p, c, i), &got)) {
            all_refused = 0;
        }
    }
    ok(all_refused, "every truncation is refused");
    all_refused = 1;
    for (i = 0; i < len; i++) {
        const char *a = altered(p, c, i, c[i] == 'A' ? 'B' : 'A');

        if (mi_cursor_decode(p, key, "org1", "suppliers", a, &got)) {
            all_refused = 0;
        }
    }
    ok(all_refused, "every altered character is refused");
    ok(!mi_cursor_decode(p, key, "org1", "suppliers",
                         apr_pstrcat(p, c, "A", NULL), &got)
       && !mi_cursor_decode(p, key, "org1", "suppliers", "", &got)
       && !mi_cursor_decode(p, key, "org1", "suppliers", "!!!!", &got)
       && !mi_cursor_decode(p, key, "org1", "suppliers",
                            apr_pstrcat(p, c, "==", NULL), &got),
       "longer, empty, not base64url, padded: refused");
    {
        char *huge = apr_palloc(p, MI_CURSOR_MAX + 2);

        memset(huge, 'A', MI_CURSOR_MAX + 1);
        huge[MI_CURSOR_MAX + 1] = '\0';
        ok(!mi_cursor_decode(p, key, "org1", "suppliers", huge, &got),
           "over MI_CURSOR_MAX characters: refused");
    }
    pos.synced_at = -1;
    ok(!mi_cursor_encode(p, key, "org1", "suppliers", &pos),
       "no cursor of a negative time");
    pos.synced_at = 0;
    pos.id = "has space";
    ok(!mi_cursor_encode(p, key, "org1", "suppliers", &pos),
       "no cursor of an id that is not printable ASCII");
    {
        char *longest = apr_palloc(p, MI_CURSOR_ID_MAX + 1);

        memset(longest, 'x', MI_CURSOR_ID_MAX);
        longest[MI_CURSOR_ID_MAX] = '\0';
        pos.id = longest;
    }
    c = mi_cursor_encode(p, key, "org1", "suppliers", &pos);
    ok(c && strlen(c) <= MI_CURSOR_MAX
       && mi_cursor_decode(p, key, "org1", "suppliers", c, &got)
       && strlen(got.id) == MI_CURSOR_ID_MAX,
       "the longest id fits in MI_CURSOR_MAX");
}

static void test_etag(apr_pool_t *p)
{
    const char *t = mi_etag_make(p, key, "org1", "list 3 q", 8);
    const char *o = mi_etag_make(p, key, "org2", "list 3 q", 8);
    const char *v = mi_etag_make(p, key, "org1", "list 4 q", 8);

    ok(t && t[0] == '"' && t[strlen(t) - 1] == '"', "a quoted tag");
    ok(o && strcmp(t, o), "another organization's differs");
    ok(v && strcmp(t, v), "another version's differs");
    ok(mi_etag_matches(t, t), "the tag itself matches");
    ok(mi_etag_matches(apr_pstrcat(p, "W/", t, NULL), t), "W/ ignored");
    ok(mi_etag_matches(apr_pstrcat(p, "\"x\", ", o, " ,", t, NULL), t),
       "a list naming it");
    ok(mi_etag_matches(" * ", t), "*");
    ok(!mi_etag_matches(NULL, t) && !mi_etag_matches("", t)
       && !mi_etag_matches(o, t) && !mi_etag_matches("*, \"x\"", t)
       && !mi_etag_matches(t + 1, t)
       && !mi_etag_matches(apr_pstrndup(p, t, strlen(t) - 1), t)
       && !mi_etag_matches(apr_pstrcat(p, "\"x\" y, ", t, NULL), t),
       "none, empty, another, malformed: no match");
    {
        char *huge = apr_palloc(p, MI_IF_NONE_MATCH_MAX + strlen(t) + 8);

        memset(huge, ' ', MI_IF_NONE_MATCH_MAX);
        strcpy(huge + MI_IF_NONE_MATCH_MAX, t);
        ok(!mi_etag_matches(huge, t), "over MI_IF_NONE_MATCH_MAX: no match");
        /* Exactly MI_IF_NONE_MATCH_MAX: still read. */
        strcpy(huge + MI_IF_NONE_MATCH_MAX - strlen(t), t);
        ok(strlen(huge) == MI_IF_NONE_MATCH_MAX && mi_etag_matches(huge, t),
           "exactly MI_IF_NONE_MATCH_MAX: read, and it matches");
    }
}

/* A walk by cursor over 7 suppliers, 3 a page, while two are written
 * (one moved to the end, one created): every other listed once, the
 * written ones after their new place. */
static void test_walk(apr_pool_t *p)
{
    const mi_resource_t *res = mi_resource_find("suppliers");
    mi_caller_t caller = { NULL, "int_walk", "tok_walk" };
    mi_db_t *db = unit_db(p);
    mi_keys_t *keys;
    const unsigned char *k1 = NULL, *k2 = NULL;
    mi_page_t page = { 1, 3, -1, NULL, NULL };
    json_t *resp, *body;
    const char *seen = "";
    int pages = 0, i;

    if (!db) {
        ok(0, "database");
        return;
    }
    mi_org_create(db, p, "Walk", &caller.organization_id);
    ok(mi_keys_create(&keys, p) == APR_SUCCESS
       && mi_keys_listing(keys, db, p, &k1) == MI_OK
       && mi_keys_listing(keys, db, p, &k2) == MI_OK && k1 == k2,
       "the key is read once and kept");
    for (i = 1; i <= 7; i++) {
        const char *rec = apr_psprintf(p, "[{\"externalId\":\"S%d\","
                                       "\"name\":\"n\"}]", i);

        apr_sleep(2000);
        unit_upsert(db, p, res, &caller, rec, &resp);
    }
    for (;;) {
        json_t *ents, *next;
        size_t n;

        if (!unit_listing(db, p, res, caller.organization_id, &page, NULL,
                          &body)) {
            ok(0, apr_psprintf(p, "page %d listed", pages + 1));
            break;
        }
        ents = json_object_get(body, "entities");
        for (n = 0; n < json_array_size(ents); n++) {
            seen = apr_pstrcat(p, seen, json_string_value(json_object_get(
                                   json_array_get(ents, n), "externalId")),
                               " ", NULL);
        }
        if (pages == 0) {
            ok(json_integer_value(json_object_get(body, "page")) == 1,
               "the first page says page 1");
            /* S1 is listed; S2 moves after S7; S8 is new. */
            apr_sleep(2000);
            unit_upsert(db, p, res, &caller,
                        "[{\"externalId\":\"S2\",\"name\":\"m\"},"
                        "{\"externalId\":\"S8\",\"name\":\"n\"}]", &resp);
        }
        else {
            ok(json_is_null(json_object_get(body, "page")),
               apr_psprintf(p, "page %d says page null", pages + 1));
        }
        pages++;
        next = json_object_get(body, "nextCursor");
        if (json_is_null(next) || pages > 10) {
            break;
        }
        page.cursor = apr_pstrdup(p, json_string_value(next));
        page.page = 0;
    }
    is_str(seen, "S1 S2 S3 S4 S5 S6 S7 S2 S8 ",
           "each unchanged once, the written after their new place");
    page.cursor = "AAAA";
    {
        mi_conditional_t cond = { k1, NULL, NULL, 0 };
        mi_jsonw_t w;

        mi_jsonw_init(&w, p, 64);
        ok(mi_records_list(db, p, res, caller.organization_id, &page, NULL,
                           &cond, &w) == MI_ERR_INVALID,
           "a bad cursor is MI_ERR_INVALID");
        page.cursor = NULL;
        page.page = 1;
        ok(mi_records_list(db, p, res, caller.organization_id, &page, NULL,
                           &cond, &w) == MI_OK && cond.etag
           && !cond.not_modified, "a listing's tag");
        cond.if_none_match = cond.etag;
        w.len = 0;
        ok(mi_records_list(db, p, res, caller.organization_id, &page, NULL,
                           &cond, &w) == MI_OK && cond.not_modified
           && w.len == 0, "If-None-Match of it: not modified, no body");
        unit_upsert(db, p, res, &caller,
                    "[{\"externalId\":\"S3\",\"name\":\"x\"}]", &resp);
        ok(mi_records_list(db, p, res, caller.organization_id, &page, NULL,
                           &cond, &w) == MI_OK && !cond.not_modified
           && w.len > 0, "after a write, another tag");
    }
    mi_db_close(db);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_cursor_codec(p);
    test_etag(p);
    test_walk(p);
    return unit_done(p);
}
