/* fuzz_text.c: the small text rules: mi_url_decode (path segments), the
 * UTF-8 checks (mi_utf8_sequence, mi_utf8_valid, checked against Jansson's
 * own, mi_utf8_clean, mi_utf8_length), mi_country_valid, mi_email_valid,
 * mi_text_fill with the input's first line as the template and the rest
 * as the value, and mi_jsonw_strn (a JSON string whatever the bytes, the
 * bytes themselves when they are UTF-8). */
#include <jansson.h>
#include "fuzz.h"
#include "mi_jsonw.h"
#include "mi_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    char *s = fuzz_cstring(pool, data, size), *template, *value, *filled;
    const char *decoded = mi_url_decode(pool, s), *clean, *at;
    json_t *j = json_stringn((const char *)data, size);
    size_t i, n, chars = 0;
    int valid = mi_utf8_valid((const char *)data, size);

    /* Decoding only shortens, and refuses what it cannot decode. */
    FUZZ_ASSERT(!decoded || strlen(decoded) <= strlen(s));
    FUZZ_ASSERT(decoded || strchr(s, '%'));
    FUZZ_ASSERT(strchr(s, '%') || !strcmp(decoded, s));

    /* UTF-8 as Jansson sees it (NUL bytes included); whole sequences. */
    FUZZ_ASSERT(valid == (j != NULL));
    json_decref(j);
    for (i = 0; i < size; i += n) {
        n = mi_utf8_sequence(data + i, size - i);
        FUZZ_ASSERT(n <= 4 && n <= size - i);
        if (n == 0) {
            break;
        }
        chars++;
    }
    FUZZ_ASSERT(valid == (i == size));
    FUZZ_ASSERT(!valid || mi_utf8_length((const char *)data, size) == chars);
    FUZZ_ASSERT(mi_utf8_length((const char *)data, size) <= size);
    clean = mi_utf8_clean(pool, s);
    FUZZ_ASSERT(mi_utf8_valid(clean, strlen(clean)));
    FUZZ_ASSERT(!mi_utf8_valid(s, strlen(s)) || clean == s);

    if (mi_country_valid(s)) {
        FUZZ_ASSERT(strlen(s) == 2);
    }
    if (mi_email_valid(s)) {
        FUZZ_ASSERT(strchr(s, '@') && strchr(s, '@') != s);
    }

    fuzz_split(pool, data, size, &template, &value);
    filled = mi_text_fill(pool, template, value);
    at = strstr(template, "%s");
    FUZZ_ASSERT(filled && strlen(filled) == (at ? strlen(template) - 2
                                                      + strlen(value)
                                                : strlen(template)));

    {
        mi_jsonw_t w;
        json_t *back;

        mi_jsonw_init(&w, pool, 16);
        mi_jsonw_strn(&w, (const char *)data, size);
        back = json_loadb(w.buf, w.len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                          NULL);
        FUZZ_ASSERT(back && json_is_string(back));
        FUZZ_ASSERT(!valid || (json_string_length(back) == size
                               && !memcmp(json_string_value(back), data,
                                          size)));
        json_decref(back);
    }
    fuzz_pool_done(pool);
    return 0;
}
