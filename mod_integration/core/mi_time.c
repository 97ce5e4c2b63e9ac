/* mi_time.c: times as Unix epoch milliseconds and their ISO 8601 form. */
#include <ctype.h>
#include <string.h>
#include "mi_time.h"

apr_int64_t mi_now_ms(void)
{
    return apr_time_now() / 1000;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant. */
static apr_int64_t days_from_civil(apr_int64_t y, unsigned m, unsigned d)
{
    apr_int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (apr_int64_t)doe - 719468;
}

static void civil_from_days(apr_int64_t z, int *y, int *m, int *d)
{
    apr_int64_t era, yy;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = (apr_int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static void put_digits(char *out, int v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void mi_time_iso_buf(char *out, apr_int64_t ms)
{
    apr_int64_t days = ms / 86400000, rem = ms % 86400000;
    int y, m, d;

    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    memcpy(out, "0000-00-00T00:00:00.000Z", MI_ISO_LEN + 1);
    put_digits(out, y, 4);
    put_digits(out + 5, m, 2);
    put_digits(out + 8, d, 2);
    put_digits(out + 11, (int)(rem / 3600000), 2);
    put_digits(out + 14, (int)(rem / 60000 % 60), 2);
    put_digits(out + 17, (int)(rem / 1000 % 60), 2);
    put_digits(out + 20, (int)(rem % 1000), 3);
}

char *mi_time_iso(apr_pool_t *pool, apr_int64_t ms)
{
    char *out = apr_palloc(pool, MI_ISO_LEN + 1);

    mi_time_iso_buf(out, ms);
    return out;
}

static int digits(const char *s, int n, int *out)
{
    int i, v = 0;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads YYYY-MM-DD at s; returns 1 on a real calendar date. */
static int parse_date(const char *s, int *y, int *m, int *d)
{
    if (!digits(s, 4, y) || s[4] != '-' || !digits(s + 5, 2, m)
        || s[7] != '-' || !digits(s + 8, 2, d)) {
        return 0;
    }
    return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1
           && *d <= days_in_month(*y, *m);
}

int mi_date_valid(const char *s)
{
    int y, m, d;

    return strlen(s) == 10 && parse_date(s, &y, &m, &d);
}

int mi_datetime_parse(const char *s, apr_int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh, om, sign;
    const char *p;
    apr_int64_t offset = 0;

    if (strlen(s) < 10 || !parse_date(s, &y, &mo, &d)) {
        return 0;
    }
    p = s + 10;
    if (*p == '\0') {
        *ms = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000;
        return 1;
    }
    if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, 2, &h)
        || p[3] != ':' || !digits(p + 4, 2, &mi) || p[6] != ':'
        || !digits(p + 7, 2, &sec) || h > 23 || mi > 59 || sec > 59) {
        return 0;
    }
    p += 9;
    if (*p == '.') {
        int n = 0, scale = 100;

        for (p++; isdigit((unsigned char)*p); p++, n++) {
            frac += (*p - '0') * scale;
            scale /= 10;
        }
        if (n == 0) {
            return 0;
        }
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset = 0;
    }
    /* A space stands where a query string's "+" was decoded. */
    else if ((*p == '+' || *p == '-' || *p == ' ') && digits(p + 1, 2, &oh) && p[3] == ':'
             && digits(p + 4, 2, &om) && p[6] == '\0' && oh < 24 && om < 60) {
        sign = *p == '-' ? -1 : 1;
        offset = sign * ((apr_int64_t)oh * 3600000 + (apr_int64_t)om * 60000);
    }
    else {
        return 0;
    }
    *ms = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000
          + (apr_int64_t)h * 3600000 + (apr_int64_t)mi * 60000
          + (apr_int64_t)sec * 1000 + frac - offset;
    return 1;
}
