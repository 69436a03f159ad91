/* test_tz_local.c — IANA zone reader and local->UTC conversion (ingest/tz_local.h).
 *
 * The offsets are cross-checked against the C library's own zone code (localtime_r with TZ set in
 * this test process only) over many instants from 1950 to 2100, which covers the transition
 * tables and the POSIX footer rule used past the last listed transition.  DST gap/overlap choices
 * and leap days are checked on hand-computed values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ld_time.h"
#include "tz_local.h"

static const char *const zones[] = {
	"Europe/Berlin",   "America/New_York", "Australia/Sydney", "Asia/Kolkata",
	"America/Sao_Paulo", "Pacific/Chatham", "Europe/Dublin",   "Africa/Casablanca",
	"America/St_Johns", "UTC",
};

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t civil_s(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
	return ld_time_from_civil(y, mo, d, h, mi, s, 0) / LD_NS_PER_SEC;
}

static void test_offsets_match_libc(void **state)
{
	(void)state;
	const int64_t lo = civil_s(1950, 1, 1, 0, 0, 0), hi = civil_s(2100, 1, 1, 0, 0, 0);
	for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		const ld_tz *tz = ld_tz_get(zones[z]);
		assert_non_null(tz);
		setenv("TZ", zones[z], 1);
		tzset();
		int bad = 0;
		for (int i = 0; i < 20000; i++) {
			int64_t t = lo + (int64_t)(next_rand() % (uint64_t)(hi - lo));
			time_t tt = (time_t)t;
			struct tm tm;
			assert_non_null(localtime_r(&tt, &tm));
			int32_t mine = ld_tz_offset_at(tz, t);
			if (mine != tm.tm_gmtoff && bad++ < 5)
				fprintf(stderr, "%s at %lld: mine %d libc %ld\n", zones[z], (long long)t,
					mine, tm.tm_gmtoff);
		}
		assert_int_equal(bad, 0);
	}
	unsetenv("TZ");
	tzset();
}

/* Every local time that exists exactly once maps back onto itself. */
static void test_local_roundtrip(void **state)
{
	(void)state;
	const int64_t lo = civil_s(1970, 1, 1, 0, 0, 0), hi = civil_s(2090, 1, 1, 0, 0, 0);
	for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		const ld_tz *tz = ld_tz_get(zones[z]);
		assert_non_null(tz);
		for (int i = 0; i < 20000; i++) {
			int64_t utc = lo + (int64_t)(next_rand() % (uint64_t)(hi - lo));
			int64_t local = utc + ld_tz_offset_at(tz, utc);
			int64_t back = ld_tz_local_to_utc(tz, local);
			/* in an overlap the first occurrence is chosen: back <= utc, same local time */
			assert_int_equal(back + ld_tz_offset_at(tz, back), local);
			assert_true(back <= utc);
		}
	}
}

/* The conversion window: every local time inside it converts with its one offset. */
static void test_local_window(void **state)
{
	(void)state;
	const int64_t lo0 = civil_s(1960, 1, 1, 0, 0, 0), hi0 = civil_s(2036, 1, 1, 0, 0, 0);
	int windows = 0;
	for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		const ld_tz *tz = ld_tz_get(zones[z]);
		assert_non_null(tz);
		for (int i = 0; i < 3000; i++) {
			int64_t local = lo0 + (int64_t)(next_rand() % (uint64_t)(hi0 - lo0));
			int64_t utc, lo, hi;
			int32_t off;
			bool w = ld_tz_local_window(tz, local, &utc, &lo, &hi, &off);
			assert_int_equal(utc, ld_tz_local_to_utc(tz, local));
			if (!w)
				continue;
			windows++;
			assert_true(lo <= local && local < hi);
			int64_t probe[4] = {lo, hi - 1, local, lo + (int64_t)(next_rand() % (uint64_t)(hi - lo))};
			for (int k = 0; k < 4; k++) {
				if (probe[k] < civil_s(1900, 1, 1, 0, 0, 0) || probe[k] > civil_s(2100, 1, 1, 0, 0, 0))
					continue;
				assert_int_equal(ld_tz_local_to_utc(tz, probe[k]), probe[k] - off);
			}
		}
	}
	assert_true(windows > 1000);
}

static void test_dst_gap_and_overlap(void **state)
{
	(void)state;
	const ld_tz *be = ld_tz_get("Europe/Berlin");
	const ld_tz *ny = ld_tz_get("America/New_York");
	const ld_tz *sy = ld_tz_get("Australia/Sydney");
	assert_non_null(be);
	assert_non_null(ny);
	assert_non_null(sy);
	/* Berlin spring 2026-03-29: 02:00 CET -> 03:00 CEST; 02:30 does not exist: read with the
	 * offset before the change (+1) = 01:30Z, which is 03:30 CEST. */
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2026, 3, 29, 2, 30, 0)),
			 civil_s(2026, 3, 29, 1, 30, 0));
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2026, 3, 29, 1, 59, 59)),
			 civil_s(2026, 3, 29, 0, 59, 59));
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2026, 3, 29, 3, 0, 0)),
			 civil_s(2026, 3, 29, 1, 0, 0));
	/* Berlin autumn 2026-10-25: 03:00 CEST -> 02:00 CET; 02:30 happens twice: first (+2). */
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2026, 10, 25, 2, 30, 0)),
			 civil_s(2026, 10, 25, 0, 30, 0));
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2026, 10, 25, 3, 0, 0)),
			 civil_s(2026, 10, 25, 2, 0, 0));
	/* New York 2026-03-08 02:30 (gap, EST before) = 07:30Z; 2026-11-01 01:30 (overlap) = EDT. */
	assert_int_equal(ld_tz_local_to_utc(ny, civil_s(2026, 3, 8, 2, 30, 0)),
			 civil_s(2026, 3, 8, 7, 30, 0));
	assert_int_equal(ld_tz_local_to_utc(ny, civil_s(2026, 11, 1, 1, 30, 0)),
			 civil_s(2026, 11, 1, 5, 30, 0));
	/* Sydney (southern hemisphere): 2026-04-05 02:30 happens twice (AEDT first, +11). */
	assert_int_equal(ld_tz_local_to_utc(sy, civil_s(2026, 4, 5, 2, 30, 0)),
			 civil_s(2026, 4, 4, 15, 30, 0));
	assert_int_equal(ld_tz_local_to_utc(sy, civil_s(2026, 1, 15, 12, 0, 0)),
			 civil_s(2026, 1, 15, 1, 0, 0));
	/* far future: beyond the transition table, the POSIX footer rule decides */
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2075, 7, 1, 12, 0, 0)),
			 civil_s(2075, 7, 1, 10, 0, 0));
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2075, 12, 1, 12, 0, 0)),
			 civil_s(2075, 12, 1, 11, 0, 0));
}

static void test_leap_days(void **state)
{
	(void)state;
	const ld_tz *be = ld_tz_get("Europe/Berlin");
	assert_non_null(be);
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2024, 2, 29, 12, 0, 0)),
			 civil_s(2024, 2, 29, 11, 0, 0));
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2024, 3, 1, 0, 30, 0)),
			 civil_s(2024, 2, 29, 23, 30, 0));
	assert_int_equal(ld_tz_local_to_utc(be, civil_s(2000, 2, 29, 0, 30, 0)),
			 civil_s(2000, 2, 28, 23, 30, 0));
	assert_false(ld_civil_valid(2100, 2, 29, 0, 0, 0));
	assert_true(ld_civil_valid(2096, 2, 29, 0, 0, 0));
}

/* A zone with no transitions at all: only the footer rule. */
static void test_footer_only(void **state)
{
	(void)state;
	static const char footer[] = "\nCET-1CEST,M3.5.0,M10.5.0/3\n";
	uint8_t buf[256];
	memset(buf, 0, sizeof buf);
	size_t n = 0;
	for (int block = 0; block < 2; block++) {
		memcpy(buf + n, "TZif2", 5);
		/* counts: isut, isstd, leap, time, type=1, char=4 */
		buf[n + 39] = 1;
		buf[n + 43] = 4;
		n += 44;
		buf[n + 0] = 0; /* utoff = 3600 */
		buf[n + 1] = 0;
		buf[n + 2] = 0x0e;
		buf[n + 3] = 0x10;
		buf[n + 4] = 0; /* isdst */
		buf[n + 5] = 0; /* abbr index */
		memcpy(buf + n + 6, "CET", 4);
		n += 10;
	}
	memcpy(buf + n, footer, sizeof footer - 1);
	n += sizeof footer - 1;
	ld_tz *tz = ld_tz_parse(buf, n);
	assert_non_null(tz);
	const ld_tz *be = ld_tz_get("Europe/Berlin");
	for (int i = 0; i < 5000; i++) {
		int64_t t = civil_s(2040, 1, 1, 0, 0, 0) + (int64_t)(next_rand() % (86400ull * 365 * 30));
		assert_int_equal(ld_tz_offset_at(tz, t), ld_tz_offset_at(be, t));
	}
	ld_tz_free(tz);
}

static void test_bad_input(void **state)
{
	(void)state;
	assert_null(ld_tz_get("Nowhere/Zone"));
	assert_null(ld_tz_get("../../etc/passwd"));
	assert_null(ld_tz_get("/etc/localtime"));
	assert_null(ld_tz_get(""));
	assert_null(ld_tz_get(NULL));
	/* every prefix of a real file parses or fails cleanly; garbage does not crash */
	FILE *f = fopen("/usr/share/zoneinfo/America/New_York", "rb");
	assert_non_null(f);
	static uint8_t data[65536];
	size_t n = fread(data, 1, sizeof data, f);
	fclose(f);
	assert_true(n > 44);
	for (size_t k = 0; k <= n; k += (k < 200 ? 1 : 37)) {
		uint8_t *copy = malloc(k ? k : 1);
		memcpy(copy, data, k);
		ld_tz *tz = ld_tz_parse(copy, k);
		ld_tz_free(tz);
		free(copy);
	}
	for (int i = 0; i < 200; i++) {
		uint8_t junk[300];
		for (size_t k = 0; k < sizeof junk; k++)
			junk[k] = (uint8_t)next_rand();
		memcpy(junk, "TZif2", 5);
		ld_tz_free(ld_tz_parse(junk, sizeof junk));
	}
	int32_t off;
	assert_true(ld_tz_abbr_offset("EDT", 3, &off));
	assert_int_equal(off, -4 * 3600);
	assert_true(ld_tz_abbr_offset("cest", 4, &off));
	assert_int_equal(off, 2 * 3600);
	assert_false(ld_tz_abbr_offset("IST", 3, &off)); /* ambiguous: India / Ireland / Israel */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_match_libc), cmocka_unit_test(test_local_roundtrip),
		cmocka_unit_test(test_local_window),
		cmocka_unit_test(test_dst_gap_and_overlap), cmocka_unit_test(test_leap_days),
		cmocka_unit_test(test_footer_only),	   cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
