/* tz_local.h — device local time to UTC for formats that log wall-clock time without an offset.
 *
 * Contract:
 *  - ld_tz_get() loads an IANA zone ("Europe/Berlin") from the TZif file under /usr/share/zoneinfo
 *    (or $TZDIR, read once at load), parses the v1/v2+ transition table and the POSIX TZ footer
 *    rule (for instants after the last listed transition), and caches it for the life of the
 *    process.  Thread-safe; the process TZ environment is never touched.  Returns NULL for an
 *    unknown or unreadable zone.  At most LD_TZ_CACHE_MAX zones are kept.
 *  - ld_tz_local_to_utc() maps a local civil time (seconds since 1970 as if it were UTC) to UTC
 *    seconds.  Ambiguous times (autumn overlap) take the FIRST occurrence (the offset in force
 *    before the transition); non-existent times (spring gap) are read with the offset in force
 *    before the transition too, which lands them after the gap (02:30 in a 02:00->03:00 gap is
 *    03:30 daylight time).  Both choices match the usual "fold=0" rule.
 *  - No allocation and no lock on the lookup path; lookups cost a binary search.
 */
#ifndef LD_TZ_LOCAL_H
#define LD_TZ_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LD_TZ_CACHE_MAX 64

typedef struct ld_tz ld_tz;

const ld_tz *ld_tz_get(const char *name);

/* Parse TZif bytes into a new zone (caller frees with ld_tz_free).  NULL on malformed input. */
ld_tz *ld_tz_parse(const uint8_t *data, size_t len);
void ld_tz_free(ld_tz *tz);

/* UTC offset in seconds (east positive) in force at a UTC instant. */
int32_t ld_tz_offset_at(const ld_tz *tz, int64_t utc_s);

/* Local civil seconds -> UTC seconds (see the gap/overlap rule above). */
int64_t ld_tz_local_to_utc(const ld_tz *tz, int64_t local_s);

/* Like ld_tz_local_to_utc(), and also returns the window [*lo, *hi) of local times around
 * local_s that all convert with the same offset *off (no transition, gap or overlap inside), so
 * that callers can convert the next lines with one subtraction.  Returns false (no window, result
 * still valid in *utc) when the time lies in a gap/overlap or beyond the transition table. */
bool ld_tz_local_window(const ld_tz *tz, int64_t local_s, int64_t *utc, int64_t *lo, int64_t *hi,
			int32_t *off);

/* Common zone abbreviations as logged by devices ("UTC", "EDT", "CEST"...): offset in seconds.
 * Returns false for unknown or ambiguous abbreviations. */
bool ld_tz_abbr_offset(const char *s, size_t len, int32_t *off_s);

#endif
