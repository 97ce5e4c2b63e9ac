/* fuzz_webhook_events.c: mi_webhook_events_check. The input is a JSON
 * document: a webhook body's "events" when it is an object with one, the
 * document itself otherwise. What passes is stored as it is: known event
 * names only (the whole string, NUL characters included), each once. */
#include "fuzz.h"
#include "mi_json.h"
#include "mi_webhook.h"

static int known(const json_t *e)
{
    int i;

    for (i = 0; mi_webhook_events[i]; i++) {
        if (json_string_length(e) == strlen(mi_webhook_events[i])
            && !memcmp(json_string_value(e), mi_webhook_events[i],
                       json_string_length(e))) {
            return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    json_t *doc = NULL, *events, *e, *other;
    size_t i, j;

    if (mi_json_parse(pool, (const char *)data, size, &doc) == MI_JSON_OK) {
        events = json_object_get(doc, "events");
        if (!events) {
            events = doc;
        }
        if (!mi_webhook_events_check(pool, events)) {
            FUZZ_ASSERT(json_is_array(events) && json_array_size(events) > 0);
            json_array_foreach(events, i, e) {
                FUZZ_ASSERT(json_is_string(e) && known(e));
                json_array_foreach(events, j, other) {
                    FUZZ_ASSERT(i == j || !json_equal(e, other));
                }
            }
        }
    }
    fuzz_pool_done(pool);
    return 0;
}
