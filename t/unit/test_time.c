/* test_time.c: unit tests of mi_time (ISO timestamps, dates, since). */
#include "unit.h"
#include "mi_time.h"

static void test_time(apr_pool_t *p)
{
    apr_int64_t ms = 0;

    is_str(mi_time_iso(p, 0), "1970-01-01T00:00:00.000Z", "epoch");
    is_str(mi_time_iso(p, 1705314600123LL), "2024-01-15T10:30:00.123Z",
           "ISO with milliseconds");
    ok(mi_date_valid("2024-02-29"), "leap day 2024 is a date");
    ok(!mi_date_valid("2023-02-29"), "2023-02-29 is not a date");
    ok(!mi_date_valid("2024-13-01"), "month 13 is not a date");
    ok(!mi_date_valid("2024-1-01"), "short month refused");
    ok(!mi_date_valid("2024-01-01T00:00:00Z"), "date-time is not a date");
    ok(mi_datetime_parse("2024-01-15", &ms) && ms == 1705276800000LL,
       "since as a date is midnight UTC");
    ok(mi_datetime_parse("2024-01-15T10:30:00.123Z", &ms)
       && ms == 1705314600123LL, "date-time with Z");
    ok(mi_datetime_parse("2024-01-15T12:30:00+02:00", &ms)
       && ms == 1705314600000LL, "date-time with offset");
    ok(!mi_datetime_parse("2024-01-15T10:30", &ms), "no seconds refused");
    ok(!mi_datetime_parse("yesterday", &ms), "words refused");
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p = unit_start(&argc, &argv);

    test_time(p);
    return unit_done(p);
}
