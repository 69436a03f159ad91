/* Civil-time arithmetic, RFC 3339, year inference, CLI times and durations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "ld_time.h"

static int64_t parse(const char *s)
{
	int64_t t;
	assert_int_equal(ld_time_parse_rfc3339(s, strlen(s), &t, NULL), strlen(s));
	return t;
}

static void test_civil(void **state)
{
	(void)state;
	assert_int_equal(ld_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(ld_days_from_civil(2000, 3, 1), 11017);
	/* Every day of 1970..2400 survives a round trip. */
	for (int64_t d = 0; d < 157000; d += 1) {
		int64_t y;
		unsigned m, dd;
		ld_civil_from_days(d, &y, &m, &dd);
		assert_int_equal(ld_days_from_civil(y, m, dd), d);
	}
	assert_true(ld_civil_valid(2024, 2, 29, 0, 0, 0));
	assert_false(ld_civil_valid(2023, 2, 29, 0, 0, 0));
	assert_false(ld_civil_valid(1900, 2, 29, 0, 0, 0));
	assert_true(ld_civil_valid(2000, 2, 29, 0, 0, 0));
	assert_false(ld_civil_valid(2026, 4, 31, 0, 0, 0));
	assert_false(ld_civil_valid(2026, 1, 1, 24, 0, 0));
	assert_false(ld_civil_valid(6848, 1, 1, 0, 0, 0));
	assert_true(ld_civil_valid(2261, 12, 31, 23, 59, 59));
	int64_t t;
	assert_int_equal(ld_time_parse_rfc3339("6848-01-01T00:00:00Z", 20, &t, NULL), 0);
}

static void test_rfc3339(void **state)
{
	(void)state;
	/* 2026-11-02T08:00:00Z = 1793606400 s */
	assert_int_equal(parse("2026-11-02T08:00:00Z"), INT64_C(1793606400) * LD_NS_PER_SEC);
	assert_int_equal(parse("2026-11-02T09:00:00+01:00"), INT64_C(1793606400) * LD_NS_PER_SEC);
	assert_int_equal(parse("2026-11-02T03:30:00-0430"), INT64_C(1793606400) * LD_NS_PER_SEC);
	assert_int_equal(parse("2026-11-02T08:00:00.123Z"),
			 INT64_C(1793606400) * LD_NS_PER_SEC + 123000000);
	assert_int_equal(parse("2026-11-02T08:00:00.123456789Z"),
			 INT64_C(1793606400) * LD_NS_PER_SEC + 123456789);
	assert_int_equal(parse("2020-09-21T22:14:12.080427+00:00") % LD_NS_PER_SEC, 80427000);
	bool zone = true;
	int64_t t;
	assert_int_equal(ld_time_parse_rfc3339("2026-11-02 08:00:00", 19, &t, &zone), 19);
	assert_false(zone);
	static const char *bad[] = {"2026-13-02T08:00:00Z", "2026-02-30T08:00:00Z", "2026-11-02T08:00",
				    "2026-11-02X08:00:00Z", "2026-11-02T08:00:00.Z",
				    "2026-11-02T08:00:00.1234567890Z", "2026-11-02T08:00:00+25:00"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ld_time_parse_rfc3339(bad[i], strlen(bad[i]), &t, NULL), 0);
}

static void test_format(void **state)
{
	(void)state;
	char buf[LD_TIME_STRLEN];
	ld_time_format_ms(parse("2024-02-29T23:59:59.9996Z"), buf);
	assert_string_equal(buf, "2024-02-29T23:59:59.999Z");
	ld_time_format_ms(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

static void test_year_inference(void **state)
{
	(void)state;
	int64_t now = parse("2026-01-01T00:30:00Z");
	/* Dec 31 23:59 seen just after new year: last year. */
	assert_int_equal(ld_infer_year(12, 31, 23, 59, 0, now, 0), 2025);
	/* Within a day in the future: this year (clock skew). */
	assert_int_equal(ld_infer_year(1, 1, 12, 0, 0, now, 0), 2026);
	assert_int_equal(ld_infer_year(1, 3, 0, 0, 0, now, 0), 2025);
	assert_int_equal(ld_infer_year(6, 1, 0, 0, 0, now, 2019), 2019);
	int64_t now2 = parse("2027-03-01T00:00:00Z");
	assert_int_equal(ld_infer_year(2, 29, 10, 0, 0, now2, 0), 2024);
	assert_int_equal(ld_infer_year(2, 29, 10, 0, 0, parse("2101-03-01T00:00:00Z"), 0), 2096);
}

static void test_args(void **state)
{
	(void)state;
	int64_t now = parse("2026-11-02T08:00:00Z"), t, d;
	assert_true(ld_time_parse_arg("now", now, &t));
	assert_int_equal(t, now);
	assert_true(ld_time_parse_arg("-2h", now, &t));
	assert_int_equal(t, now - 7200 * LD_NS_PER_SEC);
	assert_true(ld_time_parse_arg("-30m", now, &t));
	assert_int_equal(t, now - 1800 * LD_NS_PER_SEC);
	/* beyond the clock's range (about year 2262) is an error, not a wrapped time */
	assert_false(ld_time_parse_arg("+7777777777s", now, &t));
	assert_true(ld_time_parse_arg("2026-11-02T09:00:00+01:00", now, &t));
	assert_int_equal(t, now);
	assert_true(ld_time_parse_arg("2026-11-02", now, &t));
	assert_int_equal(t, now - 8 * 3600 * LD_NS_PER_SEC);
	assert_false(ld_time_parse_arg("yesterday", now, &t));
	assert_false(ld_time_parse_arg("-2x", now, &t));
	assert_true(ld_duration_parse("90s", &d));
	assert_int_equal(d, 90 * LD_NS_PER_SEC);
	assert_true(ld_duration_parse("7d", &d));
	assert_int_equal(d, 7 * 86400 * LD_NS_PER_SEC);
	assert_true(ld_duration_parse("15m", &d));
	assert_false(ld_duration_parse("15", &d));
	assert_false(ld_duration_parse("m", &d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil),  cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_format), cmocka_unit_test(test_year_inference),
		cmocka_unit_test(test_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
