/* test_webhook.c: unit tests of mi_webhook's checks and signatures: the
 * url and events of a webhook (API.md section 9, exact messages), the
 * event names, the secrets and mi_webhook_hmac, against HMAC-SHA256
 * computed here with OpenSSL (unit_sign.h). */
#include "unit.h"
#include "unit_sign.h"
#include "mi_text.h"
#include "mi_webhook.h"

#define HTTPS_ONLY "url must be an absolute https URL"
#define HTTP_OR_HTTPS "url must be an absolute http or https URL"
#define NO_HOST "url must be an absolute URL with a host"
#define TOO_LONG "url must be at most 2048 characters"

static void test_url_check(apr_pool_t *p)
{
    static const struct {
        const char *url;
        int allow_http;
        const char *want;       /* NULL: accepted */
    } cases[] = {
        { "https://example.com/hooks/eudr", 0, NULL },
        { "https://example.com", 0, NULL },
        { "https://example.com:8443/h?x=1#f", 0, NULL },
        { "https://user@example.com/h", 0, NULL },
        { "https://example.com/hooks/eudr", 1, NULL },
        { "http://example.com/h", 0, HTTPS_ONLY },
        { "http://example.com/h", 1, NULL },
        { "ftp://example.com/h", 0, HTTPS_ONLY },
        { "ftp://example.com/h", 1, HTTP_OR_HTTPS },
        { "example.com/h", 0, HTTPS_ONLY },
        { "example.com/h", 1, HTTP_OR_HTTPS },
        { "//example.com/h", 0, HTTPS_ONLY },
        { "https:example.com", 0, HTTPS_ONLY },
        { "", 0, HTTPS_ONLY },
        { "", 1, HTTP_OR_HTTPS },
        { "https://", 0, NO_HOST },
        { "http://", 1, NO_HOST },
        { "https:///path", 0, NO_HOST },
        { "https://:443/path", 0, NO_HOST },
        { "https://?q=1", 0, NO_HOST },
        { "https://#fragment", 0, NO_HOST },
        { "https://exa mple.com/", 0, NO_HOST },
        { "https://example.com/a b", 0, NO_HOST },
        { "https://example.com/\t", 0, NO_HOST },
        { "https://example.com/\r\nX-Injected: 1", 0, NO_HOST },
        { "https://example.com/\"", 0, NO_HOST },
        { "https://example.com/<", 0, NO_HOST },
        { "https://example.com/>", 0, NO_HOST },
        { "https://example.com/\\", 0, NO_HOST },
        { "https://example.com/^", 0, NO_HOST },
        { "https://example.com/`", 0, NO_HOST },
        { "https://example.com/{", 0, NO_HOST },
        { "https://example.com/|", 0, NO_HOST },
        { "https://example.com/}", 0, NO_HOST },
        { "http://exa mple.com/", 1, NO_HOST },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        is_str(mi_webhook_url_check(cases[i].url, cases[i].allow_http,
                                    NULL),
               cases[i].want,
               apr_psprintf(p, "url \"%s\"%s", cases[i].url,
                            cases[i].allow_http ? " (http allowed)" : ""));
    }
    {
        /* 2048 characters are the limit, on both sides. */
        const char *head = "https://example.com/";
        char *at = apr_palloc(p, 2050), *over;

        memset(at, 'a', 2048);
        memcpy(at, head, strlen(head));
        at[2048] = '\0';
        over = apr_pstrcat(p, at, "a", NULL);
        is_str(mi_webhook_url_check(at, 0, NULL), NULL,
               "url of 2048 characters accepted");
        is_str(mi_webhook_url_check(over, 0, NULL), TOO_LONG,
               "url of 2049 characters refused");
        is_str(mi_webhook_url_check(apr_pstrcat(p, "ftp", over, NULL), 1,
                                    NULL),
               TOO_LONG, "the length is checked first");
    }
}

/* The events of API.md section 9, exactly. */
static const char *const contract_events[] = {
    "supplier.created", "supplier.updated", "supplier.deleted",
    "product.created", "product.updated", "product.deleted",
    "batch.created", "batch.updated", "batch.deleted",
    "sync.completed", "sync.failed",
    "dds.status_changed", "dds.submitted", "dds.approved", NULL
};

#define NOT_A_LIST "events must be a non-empty array of event names"

static void test_events(apr_pool_t *p)
{
    static const struct {
        const char *json;       /* the events member */
        const char *want;       /* NULL: accepted */
    } cases[] = {
        { "[\"supplier.created\"]", NULL },
        { "[\"dds.approved\",\"sync.failed\",\"batch.deleted\"]", NULL },
        { "[]", NOT_A_LIST },
        { "\"supplier.created\"", NOT_A_LIST },
        { "{\"supplier.created\":true}", NOT_A_LIST },
        { "null", NOT_A_LIST },
        { "true", NOT_A_LIST },
        { "7", NOT_A_LIST },
        { "[null]", NOT_A_LIST },
        { "[1]", NOT_A_LIST },
        { "[[\"supplier.created\"]]", NOT_A_LIST },
        { "[\"supplier.created\",2]", NOT_A_LIST },
        { "[\"supplier.exploded\"]", "Unknown event \"supplier.exploded\"" },
        { "[\"\"]", "Unknown event \"\"" },
        { "[\"Supplier.Created\"]", "Unknown event \"Supplier.Created\"" },
        { "[\"supplier.created \"]", "Unknown event \"supplier.created \"" },
        { "[\"supplier\"]", "Unknown event \"supplier\"" },
        { "[\"supplier.*\"]", "Unknown event \"supplier.*\"" },
        { "[\"webhook.test\"]", "Unknown event \"webhook.test\"" },
        { "[\"dds.rejected\"]", "Unknown event \"dds.rejected\"" },
        { "[\"sync.completed\",\"nope\"]", "Unknown event \"nope\"" },
        { "[\"sync.completed\",\"sync.completed\"]",
          "Duplicate event \"sync.completed\"" },
        { "[\"batch.created\",\"dds.submitted\",\"batch.created\"]",
          "Duplicate event \"batch.created\"" },
        /* The first problem is named. */
        { "[\"nope\",\"nope\"]", "Unknown event \"nope\"" },
        { "[\"batch.created\",\"batch.created\",\"nope\"]",
          "Duplicate event \"batch.created\"" },
    };
    json_t *all = json_array();
    size_t i, n = 0;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);

        is_str(v ? mi_webhook_events_check(p, v) : "(bad test JSON)",
               cases[i].want, apr_psprintf(p, "events %s", cases[i].json));
        json_decref(v);
    }
    {
        /* The whole string counts: a NUL inside is no event name. */
        json_t *v = json_loads("[\"sync.completed\\u0000x\"]",
                               JSON_ALLOW_NUL, NULL);
        const char *err = v ? mi_webhook_events_check(p, v) : NULL;

        ok(err && !strncmp(err, "Unknown event ", 14),
           "an event name with a NUL inside is unknown");
        json_decref(v);
    }
    /* The list is the contract's: each name known, nothing more. */
    for (i = 0; mi_webhook_events[i]; i++) {
        ok(mi_text_in(mi_webhook_events[i], contract_events),
           apr_psprintf(p, "%s is an event of API.md",
                        mi_webhook_events[i]));
    }
    for (n = 0; contract_events[n]; n++) {
        json_t *one = json_pack("[s]", contract_events[n]);

        is_str(mi_webhook_events_check(p, one), NULL,
               apr_psprintf(p, "event %s accepted", contract_events[n]));
        json_array_append_new(all, json_string(contract_events[n]));
        json_decref(one);
    }
    ok(i == n, apr_psprintf(p, "%d events, as in API.md", (int)i));
    is_str(mi_webhook_events_check(p, all), NULL,
           "all events at once accepted");
    json_decref(all);
}

static void test_secrets(apr_pool_t *p)
{
    unsigned char key[64];
    char *a = mi_webhook_secret_new(p), *b = mi_webhook_secret_new(p);

    ok(a && !strncmp(a, "whsec_", 6) && strlen(a) == 6 + 44,
       "a secret is whsec_ and the base64 of 32 bytes");
    ok(a && unit_secret_key(a, key) == 32, "its key is 32 bytes");
    ok(a && b && strcmp(a, b), "two secrets differ");
}

/* mi_webhook_hmac against known answers (RFC 4231 cases 1 and 2, the
 * keys as secrets) and against OpenSSL's HMAC for fresh secrets. */
static void test_hmac(apr_pool_t *p)
{
    static const struct {
        const char *secret, *msg, *hex, *b64;
    } known[] = {
        { "whsec_CwsLCwsLCwsLCwsLCwsLCwsLCws=", "Hi There",
          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
          "sDRMYdjbOFNcqK/OrwvxK4gdwgDJgz2nJuk3bC4yz/c=" },
        { "whsec_SmVmZQ==", "what do ya want for nothing?",
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
          "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=" },
        { "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
          "2024-01-15T10:30:00.000Z.{\"event\":\"supplier.created\"}",
          "a3d3d686bf7866e08686011100598799efa1d7e75d34cc9fb0378bc2934e34c5",
          "o9PWhr94ZuCGhgERAFmHme+h1+ddNMyfsDeLwpNONMU=" },
    };
    static const struct {
        const char *name;
        const char *msg;
        size_t len;
    } msgs[] = {
        { "an empty message", "", 0 },
        { "timestamp.body", "2024-01-15T10:30:00.000Z.{\"event\":"
          "\"supplier.created\",\"timestamp\":\"2024-01-15T10:30:00.000Z\","
          "\"integrationId\":\"int_1\",\"data\":{\"externalId\":\"V-1\","
          "\"internalId\":\"c1\"}}", 0 },
        { "id.unix.body", "d0123.1705314600.{\"event\":\"sync.completed\"}",
          0 },
        { "UTF-8", "2024-01-15T10:30:00.000Z.{\"name\":\"S\xc3\xa3o Paulo\"}",
          0 },
        { "bytes after a NUL count", "a\0b", 3 },
    };
    const char *hex, *b64, *want_hex, *want_b64;
    size_t i, j;

    for (i = 0; i < MI_ARRAY_SIZE(known); i++) {
        hex = b64 = NULL;
        ok(mi_webhook_hmac(p, known[i].secret, known[i].msg,
                           strlen(known[i].msg), &hex, &b64) == APR_SUCCESS,
           apr_psprintf(p, "known answer %d signs", (int)i + 1));
        is_str(hex, known[i].hex,
               apr_psprintf(p, "known answer %d: hex", (int)i + 1));
        is_str(b64, known[i].b64,
               apr_psprintf(p, "known answer %d: base64", (int)i + 1));
    }
    for (j = 0; j < 3; j++) {
        const char *secret = mi_webhook_secret_new(p);

        for (i = 0; i < MI_ARRAY_SIZE(msgs); i++) {
            size_t len = msgs[i].len ? msgs[i].len : strlen(msgs[i].msg);

            hex = b64 = want_hex = want_b64 = NULL;
            ok(secret && unit_sign(p, secret, msgs[i].msg, len, &want_hex,
                                   &want_b64)
               && mi_webhook_hmac(p, secret, msgs[i].msg, len, &hex, &b64)
                      == APR_SUCCESS
               && !strcmp(hex, want_hex) && !strcmp(b64, want_b64),
               apr_psprintf(p, "secret %d, %s: as OpenSSL's HMAC",
                            (int)j + 1, msgs[i].name));
        }
    }
    {
        char *big = apr_palloc(p, 100001);

        memset(big, 'x', 100000);
        big[100000] = '\0';
        ok(unit_sign(p, known[2].secret, big, 100000, &want_hex, &want_b64)
           && mi_webhook_hmac(p, known[2].secret, big, 100000, &hex, &b64)
                  == APR_SUCCESS
           && !strcmp(hex, want_hex) && !strcmp(b64, want_b64),
           "100,000 bytes: as OpenSSL's HMAC");
        ok(mi_webhook_hmac(p, known[2].secret, big, 99999, &hex, &b64)
               == APR_SUCCESS && strcmp(hex, want_hex),
           "the length given is what is signed");
    }
    ok(mi_webhook_hmac(p, "wh_CwsLCwsLCwsLCwsLCwsLCwsLCws=", "x", 1, &hex,
                       &b64) != APR_SUCCESS,
       "a secret without whsec_ signs nothing");
}

/* webhook-signature: one v1 signature, or the new secret's then the
 * previous one's during a rotation's overlap, each as OpenSSL signs. */
static void test_signature_v1(apr_pool_t *p)
{
    const char *msg = "d0123.1705314600.{\"event\":\"sync.completed\"}";
    const char *new_secret = mi_webhook_secret_new(p);
    const char *old_secret = mi_webhook_secret_new(p);
    const char *hex, *with_new = NULL, *with_old = NULL;

    ok(new_secret && old_secret
       && unit_sign(p, new_secret, msg, strlen(msg), &hex, &with_new)
       && unit_sign(p, old_secret, msg, strlen(msg), &hex, &with_old),
       "signed here with two secrets");
    is_str(mi_webhook_signature_v1(p, new_secret, NULL, msg, strlen(msg)),
           apr_pstrcat(p, "v1,", with_new, NULL),
           "no previous secret: one signature");
    is_str(mi_webhook_signature_v1(p, new_secret, old_secret, msg,
                                   strlen(msg)),
           apr_pstrcat(p, "v1,", with_new, " v1,", with_old, NULL),
           "a previous secret: the new one's, a space, the old one's");
    ok(!mi_webhook_signature_v1(p, "not-a-secret", NULL, msg, strlen(msg)),
       "a malformed secret: none");
    ok(!mi_webhook_signature_v1(p, new_secret, "not-a-secret", msg,
                                strlen(msg)),
       "a malformed previous secret: none");
}

#define OVERLAP_ERROR "overlapSeconds must be an integer from 0 to 604800"

/* The body of rotate-secret: overlapSeconds 0 to 604800, 86400 when
 * absent; other members are ignored, as in every body of the API. */
static void test_rotation_read(apr_pool_t *p)
{
    static const struct {
        const char *body;
        const char *want_error;
        int want_overlap;
    } cases[] = {
        { "{}", NULL, 86400 },
        { "{\"other\":1}", NULL, 86400 },
        { "{\"overlapSeconds\":0}", NULL, 0 },
        { "{\"overlapSeconds\":1}", NULL, 1 },
        { "{\"overlapSeconds\":3600}", NULL, 3600 },
        { "{\"overlapSeconds\":604800}", NULL, 604800 },
        { "{\"overlapSeconds\":604801}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":-1}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":9223372036854775807}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":-9223372036854775808}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":4294967296}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":\"3600\"}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":3600.0}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":1.5}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":null}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":true}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":[60]}", OVERLAP_ERROR, 0 },
        { "{\"overlapSeconds\":{}}", OVERLAP_ERROR, 0 },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        json_t *body = NULL;
        const char *err = "(not parsed)";
        int overlap = -1;

        if (mi_json_parse(p, cases[i].body, strlen(cases[i].body), &body)
                == MI_JSON_OK) {
            err = mi_webhook_rotation_read(body, &overlap);
        }
        is_str(err, cases[i].want_error,
               apr_psprintf(p, "rotate body %s: %s", cases[i].body,
                            cases[i].want_error ? "refused" : "accepted"));
        if (!cases[i].want_error) {
            ok(overlap == cases[i].want_overlap,
               apr_psprintf(p, "rotate body %s: overlap %d", cases[i].body,
                            cases[i].want_overlap));
        }
    }
}

static void test_delivery_status(apr_pool_t *p)
{
    static const struct {
        const char *status;
        int valid;
    } cases[] = {
        { "PENDING", 1 }, { "DELIVERED", 1 }, { "FAILED", 1 },
        { "pending", 0 }, { "", 0 }, { "LEASED", 0 }, { "PENDING ", 0 },
        { "SUCCESS", 0 },
    };
    size_t i;

    for (i = 0; i < MI_ARRAY_SIZE(cases); i++) {
        ok(mi_webhook_delivery_status_valid(cases[i].status)
               == cases[i].valid,
           apr_psprintf(p, "delivery status \"%s\" %s", cases[i].status,
                        cases[i].valid ? "valid" : "invalid"));
    }
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_url_check(p);
    test_events(p);
    test_secrets(p);
    test_hmac(p);
    test_signature_v1(p);
    test_rotation_read(p);
    test_delivery_status(p);
    return unit_done(p);
}
