/* fuzz_time.c: mi_date_valid and mi_datetime_parse (record dates, since).
 * A date is a date-time at midnight UTC; a parsed time within years 1 to
 * 9999 comes back unchanged through its ISO form (mi_time_iso). */
#include "fuzz.h"
#include "mi_time.h"

#define MS_0001 (-62135596800000LL)     /* 0001-01-01T00:00:00.000Z */
#define MS_10000 253402300800000LL      /* 10000-01-01T00:00:00.000Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool = fuzz_pool();
    const char *s = fuzz_cstring(pool, data, size);
    apr_int64_t ms = 0, again = 0;
    int date = mi_date_valid(s), parsed = mi_datetime_parse(s, &ms);

    if (date) {
        FUZZ_ASSERT(strlen(s) == 10 && parsed && ms % 86400000 == 0);
    }
    if (parsed && ms >= MS_0001 && ms < MS_10000) {
        const char *iso = mi_time_iso(pool, ms);

        FUZZ_ASSERT(strlen(iso) == MI_ISO_LEN);
        FUZZ_ASSERT(mi_datetime_parse(iso, &again) && again == ms);
        FUZZ_ASSERT(mi_date_valid(apr_pstrndup(pool, iso, 10)));
    }
    fuzz_pool_done(pool);
    return 0;
}
