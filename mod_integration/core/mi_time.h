/* mi_time.h: times as Unix epoch milliseconds, their ISO 8601 form, and
 * the date and date-time syntax the contract accepts. */
#ifndef MI_TIME_H
#define MI_TIME_H

#include "mi_common.h"

apr_int64_t mi_now_ms(void);

#define MI_ISO_LEN 24

/* "2024-01-15T10:30:00.000Z" in pool memory, or into out (MI_ISO_LEN + 1
 * bytes). Years 0 to 9999. */
char *mi_time_iso(apr_pool_t *pool, apr_int64_t ms);
void mi_time_iso_buf(char *out, apr_int64_t ms);

/* 1 when s is exactly YYYY-MM-DD and a real calendar date. */
int mi_date_valid(const char *s);

/* Parses YYYY-MM-DD (midnight UTC) or a date-time with seconds, optional
 * fraction and "Z" or a +hh:mm offset. Returns 1 and sets *ms, else 0. */
int mi_datetime_parse(const char *s, apr_int64_t *ms);

#endif
