/* ld_time.h — event-time parsing and formatting.
 *
 * Contract: all times are int64 nanoseconds since the Unix epoch, UTC.  Parsers never call
 * mktime/localtime (slow, locale- and TZ-environment-dependent); civil dates are converted with
 * the days-from-civil arithmetic, which is exact for the proleptic Gregorian calendar.
 */
#ifndef LD_TIME_H
#define LD_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LD_NS_PER_SEC INT64_C(1000000000)
#define LD_TIME_NONE INT64_MIN

/* Days since 1970-01-01 for a proleptic Gregorian date (month 1-12). */
int64_t ld_days_from_civil(int64_t y, unsigned m, unsigned d);
void ld_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Validates ranges (year 1970-2261, the span of int64 ns; month; day of month incl. leap years;
 * hour<24, min<60, sec<=60). */
bool ld_civil_valid(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s);
/* ns since epoch from UTC civil fields; leap second 60 folds into the next second. */
int64_t ld_time_from_civil(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
			   uint32_t nsec);

/* RFC 3339 / ISO 8601: "2026-11-02T08:00:00Z", "2026-11-02 08:00:00.123+01:00", 0-9 fraction
 * digits, 'Z'/'z' or ±hh:mm or ±hhmm.  When the zone is missing, *had_zone is set false and the
 * time is taken as UTC (had_zone may be NULL).  Returns the number of bytes consumed, 0 on error. */
size_t ld_time_parse_rfc3339(const char *s, size_t len, int64_t *out_ns, bool *had_zone);

/* Month abbreviation "Jan".."Dec" (case-insensitive) -> 1..12, 0 if not a month. */
unsigned ld_month_from_abbr(const char *s);

/* RFC 3164 / kernel style timestamps lack a year: pick the year of `now_ns` unless that puts the
 * record more than a day in the future, then the year before.  year_override > 0 forces a year. */
int64_t ld_infer_year(unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s, int64_t now_ns,
		      int year_override);

/* Command-line times: RFC 3339, "now", or relative "-2h", "-30m", "-90s", "-7d" (relative to now).
 * Returns false on a syntax error. */
bool ld_time_parse_arg(const char *s, int64_t now_ns, int64_t *out_ns);
/* Durations "90s", "15m", "2h", "7d", "500ms" -> ns.  Returns false on error. */
bool ld_duration_parse(const char *s, int64_t *out_ns);

/* "2026-11-02T08:00:00.123Z" (always milliseconds, UTC).  buf >= LD_TIME_STRLEN. */
#define LD_TIME_STRLEN 32
size_t ld_time_format_ms(int64_t ns, char *buf);

int64_t ld_now_ns(void);

#endif
