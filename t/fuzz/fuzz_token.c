/* fuzz_token.c: the bearer token format (mi_token_well_formed) and scope
 * lists: the input's first line is a list for mi_scopes_parse and
 * mi_scopes_contain, the rest a scope looked up in it. */
#include "fuzz.h"
#include "mi_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    char *raw = fuzz_cstring(pool, data, size), *list, *scope, *tok;
    char *copy, *state = NULL;
    const char *bad = NULL, *scopes;
    int i;

    if (mi_token_well_formed(raw)) {
        FUZZ_ASSERT(strlen(raw) == strlen(MI_TOKEN_PREFIX) + MI_TOKEN_HEX_LEN);
    }

    fuzz_split(pool, data, size, &list, &scope);
    if (mi_scopes_contain(list, scope)) {
        FUZZ_ASSERT(*scope != '\0' && strstr(list, scope));
    }
    FUZZ_ASSERT(!mi_scopes_contain(list, ""));

    /* A parsed list names known scopes only, and contains each of them. */
    scopes = mi_scopes_parse(pool, list, &bad);
    FUZZ_ASSERT(!scopes == !!bad);
    if (scopes) {
        copy = apr_pstrdup(pool, scopes);
        for (tok = apr_strtok(copy, ",", &state); tok;
             tok = apr_strtok(NULL, ",", &state)) {
            for (i = 0; mi_scopes[i] && strcmp(mi_scopes[i], tok); i++) {
            }
            FUZZ_ASSERT(mi_scopes[i] != NULL);
            FUZZ_ASSERT(mi_scopes_contain(scopes, tok));
        }
    }
    fuzz_pool_done(pool);
    return 0;
}
