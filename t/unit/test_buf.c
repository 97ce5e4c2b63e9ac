/* test_buf.c: unit tests of the core's shared helpers, TAP output: the
 * growable buffer (mi_buf), the typed placeholders of statements (mi_db),
 * the list lookup (mi_text_in) and the escapes done by APR for us. */
#include <apr_general.h>
#include "tap.h"
#include "mi_buf.h"
#include "mi_crypto.h"
#include "mi_db.h"
#include "mi_json.h"
#include "mi_jsonw.h"
#include "mi_text.h"

/* Many appends of every size: the text is kept, the room only doubles. */
static void test_buf(apr_pool_t *p)
{
    char *want = apr_palloc(p, 100000);
    apr_size_t i, n, grown = 0, cap;
    mi_buf_t b;
    int same, doubled = 1;

    mi_buf_init(&b, p, 1);
    ok(b.len == 0 && b.cap == 1, "a buffer starts empty with its room");
    is_str(mi_buf_cstr(&b), "", "an empty buffer is an empty string");
    ok(b.len == 0, "the NUL is not counted");
    for (i = n = 0; n + (i % 97) < 100000; i++) {
        apr_size_t k, len = i % 97;
        char *o;

        cap = b.cap;
        o = mi_buf_reserve(&b, len);
        for (k = 0; k < len; k++) {
            o[k] = want[n + k] = (char)('a' + (n + k) % 26);
        }
        b.len += len;
        n += len;
        if (b.cap != cap) {
            grown++;
            /* Doubled, or doubled until there was room. */
            doubled = doubled && b.cap >= 2 * cap
                      && (b.cap == 2 * cap || b.cap / 2 < b.len);
        }
    }
    same = b.len == n && !memcmp(b.buf, want, n);
    ok(same, "what was written is what is there");
    ok(doubled && grown <= 17, "the room grows by doubling");
    ok(b.cap < 2 * n + 256, "and stays below twice the length");
    mi_buf_append(&b, "xyz", 3);
    ok(b.len == n + 3 && !memcmp(b.buf + n, "xyz", 3), "append");
    ok(strlen(mi_buf_cstr(&b)) == n + 3, "a C string of it");

    mi_buf_init(&b, p, 0);
    ok(b.cap == 256, "room 0 means a default room");
}

/* The JSON writer and the dump are buffers too. */
static void test_writers(apr_pool_t *p)
{
    json_t *big = mi_json_own(p, json_array());
    mi_jsonw_t w;
    const char *text;
    int i;

    mi_jsonw_init(&w, p, 2);
    mi_jsonw_lit(&w, "[");
    for (i = 0; i < 1000; i++) {
        if (i) {
            mi_jsonw_lit(&w, ",");
        }
        mi_jsonw_str(&w, "caf\xc3\xa9\n");
        json_array_append_new(big, json_string("caf\xc3\xa9\n"));
    }
    mi_jsonw_lit(&w, "]");
    text = mi_json_dump(p, big);
    ok(text && strlen(text) == w.len && !memcmp(text, w.buf, w.len),
       "the writer and Jansson's dump agree on 1000 strings");
    is_str(mi_json_dump(p, mi_json_own(p, json_integer(7))), "7",
           "a dump is a C string");
    {
        static const char odd[] = "a\"b\\c\x01\x1f\x7f d\0e\xe2\x82\xac"
                                  "\xff plain text, long enough for a run";
        json_t *back;

        mi_jsonw_init(&w, p, 2);
        mi_jsonw_strn(&w, odd, sizeof(odd) - 1);
        back = mi_json_own(p, json_loadb(w.buf, w.len, JSON_DECODE_ANY
                                                       | JSON_ALLOW_NUL,
                                         NULL));
        ok(back && json_string_length(back) == sizeof(odd) - 1 + 2
           && !memcmp(json_string_value(back), odd, 15)
           && !memcmp(json_string_value(back) + 15, "\xef\xbf\xbd", 3)
           && !memcmp(json_string_value(back) + 18, odd + 16,
                      sizeof(odd) - 1 - 16),
           "escapes, a NUL kept, a byte that is not UTF-8 as U+FFFD");
    }
}

/* Typed placeholders: a cast on PostgreSQL, the bare expression on SQLite;
 * {rows} still expands after them. */
static void test_placeholders(apr_pool_t *p)
{
    static const mi_stmt_t typed = { "test_typed", {
        "UPDATE t SET a = {bigint:%s}, b = {integer:v.status} "
        "WHERE c = '{x}' LIMIT {bigint:%s}",
        NULL } };
    static const mi_stmt_t chunked = { "test_typed_rows", {
        "WITH v(a) AS (VALUES {rows}) SELECT {bigint:a} FROM v "
        "WHERE a > {bigint:%s}",
        NULL }, 1 };
    static const mi_stmt_t two = { "test_two_texts", {
        "SELECT {bigint:%s}",
        "SELECT %s" } };
    static const mi_stmt_t plain = { "test_plain", { "SELECT 1", NULL } };
    static const mi_stmt_t run = { "test_typed_run", {
        "SELECT {bigint:%s} + 1, {integer:%s} * 2",
        NULL } };
    const char *sql;
    mi_db_t *db = NULL;
    const char *err = NULL, *args[2] = { "41", "21" };
    mi_rows_t rows;

    is_str(mi_db_sql(p, &typed, MI_DIALECT_SQLITE3),
           "UPDATE t SET a = %s, b = v.status WHERE c = '{x}' LIMIT %s",
           "SQLite: the bare expressions, other braces kept");
    is_str(mi_db_sql(p, &typed, MI_DIALECT_PGSQL),
           "UPDATE t SET a = CAST(%s AS BIGINT), b = CAST(v.status AS "
           "INTEGER) WHERE c = '{x}' LIMIT CAST(%s AS BIGINT)",
           "PostgreSQL: the casts");
    sql = mi_db_sql(p, &chunked, MI_DIALECT_SQLITE3);
    ok(!strncmp(sql, "WITH v(a) AS (VALUES (%s),(%s),", 31)
       && strstr(sql, "(%s)) SELECT a FROM v WHERE a > %s"),
       "a chunked statement on SQLite: rows of parameters");
    is_str(mi_db_sql(p, &chunked, MI_DIALECT_PGSQL),
           "WITH v(a) AS (SELECT e->>0 FROM jsonb_array_elements(CAST(%s AS "
           "jsonb)) AS e) SELECT CAST(a AS BIGINT) FROM v WHERE a > "
           "CAST(%s AS BIGINT)",
           "on PostgreSQL: the rows as one JSON parameter, and the casts");
    is_str(mi_db_sql(p, &two, MI_DIALECT_PGSQL), "SELECT %s",
           "a dialect's own text wins");
    ok(mi_db_sql(p, &plain, MI_DIALECT_PGSQL) == plain.sql[0],
       "no placeholder: the text itself, not a copy");

    if (mi_db_open(p, "sqlite3", ":memory:", &db, &err) != APR_SUCCESS) {
        ok(0, "typed placeholders run on SQLite");
        return;
    }
    ok(mi_db_select(db, p, &run, &rows, 2, args) == APR_SUCCESS
       && rows.nrows == 1 && !strcmp(rows.rows[0][0], "42")
       && !strcmp(rows.rows[0][1], "42"), "typed placeholders run on SQLite");
    ok(mi_db_select(db, p, &run, &rows, 2, args) == APR_SUCCESS
       && rows.nrows == 1, "and again, from the connection's cache");
    mi_db_close(db);
}

static void test_small(apr_pool_t *p)
{
    static const char *const list[] = { "DRAFT", "SUBMITTED", NULL };
    static const char *const none[] = { NULL };

    ok(mi_text_in("DRAFT", list) && mi_text_in("SUBMITTED", list),
       "in the list");
    ok(!mi_text_in("draft", list) && !mi_text_in("DRAFTS", list)
       && !mi_text_in("", list), "only whole, exact matches");
    ok(!mi_text_in(NULL, list) && !mi_text_in("DRAFT", none),
       "NULL and the empty list");

    is_str(mi_url_decode(p, "a%2Fb%20c+d%c3%A9"), "a/b c+d\xc3\xa9",
           "decode: any case of hex, + stays");
    is_str(mi_url_decode(p, "plain"), "plain", "decode: nothing to do");
    ok(!mi_url_decode(p, "%") && !mi_url_decode(p, "%4")
       && !mi_url_decode(p, "%4g") && !mi_url_decode(p, "a%00b"),
       "decode: a cut or bad escape, an escaped NUL");
    is_str(mi_sha256_hex(p, "", 0),
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "hex: lowercase, no separators");
    ok(strlen(mi_random_hex(p, 16)) == 32
       && strspn(mi_random_hex(p, 16), "0123456789abcdef") == 32,
       "random hex");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;

    setvbuf(stdout, NULL, _IOLBF, 0);
    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    test_buf(p);
    test_writers(p);
    test_placeholders(p);
    test_small(p);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
