/* test_dispatch.c — ld_parse_line() around the field parsers: format cache and re-classification,
 * forced formats, size and byte checks, raw kept, reporter fallback, option copies, reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ld_parse.h"
#include "ld_time.h"
#include "parse_registry.h"

static const char NSX[] = "<134>2026-05-04T08:13:10.551Z esx01 FIREWALL_PKTLOG: 8f2c11aa INET match "
			  "DROP 4012 OUT 60 TCP 10.40.1.23/51544->10.40.1.57/445 S";
static const char IPT[] = "Jan  8 03:37:09 fw01 kernel: DROP: IN=eth0 OUT= SRC=10.2.69.143 "
			  "DST=10.16.54.114 LEN=52 PROTO=TCP SPT=17805 DPT=445 SYN URGP=0";

static int parse(ld_parse_state *st, const char *s, ld_record *r, uint8_t *why)
{
	return ld_parse_line(st, s, strlen(s), r, why);
}

static ld_parse_state *state(int forced)
{
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_now_ns();
	o.forced_format = forced;
	ld_parse_state *st = ld_parse_state_new(&o);
	assert_non_null(st);
	return st;
}

static void test_reclassify(void **state_)
{
	(void)state_;
	ld_parse_state *st = state(0);
	ld_record r;
	uint8_t why;
	assert_int_equal(ld_parse_state_format(st), 0);
	assert_int_equal(parse(st, NSX, &r, &why), LD_PARSE_DROP);
	assert_int_equal(r.format, LD_FMT_NSX);
	assert_int_equal(ld_parse_state_format(st), LD_FMT_NSX);
	/* a relay mixing senders: each line goes to its own parser, the cache follows */
	assert_int_equal(parse(st, IPT, &r, &why), LD_PARSE_DROP);
	assert_int_equal(r.format, LD_FMT_IPTABLES);
	assert_int_equal(ld_parse_state_format(st), LD_FMT_IPTABLES);
	assert_int_equal(parse(st, NSX, &r, &why), LD_PARSE_DROP);
	assert_int_equal(r.format, LD_FMT_NSX);
	/* a pre-seeded cache that is wrong for the line is corrected */
	ld_parse_state_set_format(st, LD_FMT_IPTABLES);
	assert_int_equal(parse(st, NSX, &r, &why), LD_PARSE_DROP);
	assert_int_equal(r.format, LD_FMT_NSX);
	/* unknown formats are not accepted as a seed */
	ld_parse_state_set_format(st, 200);
	assert_int_equal(ld_parse_state_format(st), LD_FMT_NSX);
	ld_parse_state_free(st);
}

static void test_forced(void **state_)
{
	(void)state_;
	ld_parse_state *st = state(LD_FMT_IPTABLES);
	ld_record r;
	uint8_t why;
	assert_int_equal(parse(st, IPT, &r, &why), LD_PARSE_DROP);
	assert_int_equal(parse(st, NSX, &r, &why), LD_PARSE_REJECT);
	ld_parse_state_set_format(st, LD_FMT_NSX); /* forced wins over seeding */
	assert_int_equal(parse(st, NSX, &r, &why), LD_PARSE_REJECT);
	ld_parse_state_reset(st); /* keeps options */
	assert_int_equal(parse(st, NSX, &r, &why), LD_PARSE_REJECT);
	assert_int_equal(parse(st, IPT, &r, &why), LD_PARSE_DROP);
	ld_parse_state_free(st);
	/* a format without a text parser (IPFIX) rejects every line */
	st = state(LD_FMT_IPFIX);
	assert_int_equal(parse(st, NSX, &r, &why), LD_PARSE_REJECT);
	assert_int_equal(why, LD_REJ_UNRECOGNISED);
	ld_parse_state_free(st);
}

static void test_sizes_and_bytes(void **state_)
{
	(void)state_;
	ld_parse_state *st = state(0);
	ld_record r;
	uint8_t why;
	char *big = malloc(LD_LINE_MAX + 1);
	memset(big, 'a', LD_LINE_MAX + 1);
	assert_int_equal(ld_parse_line(st, big, LD_LINE_MAX + 1, &r, &why), LD_PARSE_REJECT);
	assert_int_equal(why, LD_REJ_TOO_LONG);
	assert_int_equal(ld_parse_line(st, big, LD_LINE_MAX, &r, &why), LD_PARSE_REJECT);
	assert_int_equal(why, LD_REJ_UNRECOGNISED);
	/* a valid record padded to the limit is still a record */
	memset(big, ' ', LD_LINE_MAX);
	memcpy(big, NSX, sizeof NSX - 1);
	assert_int_equal(ld_parse_line(st, big, LD_LINE_MAX, &r, &why), LD_PARSE_DROP);
	free(big);
	/* control bytes anywhere, including in the 8-byte-word tail */
	for (size_t at = 0; at < sizeof NSX - 1; at += 13) {
		char l[sizeof NSX];
		memcpy(l, NSX, sizeof NSX);
		l[at] = '\x1b';
		assert_int_equal(ld_parse_line(st, l, sizeof NSX - 1, &r, &why), LD_PARSE_REJECT);
		assert_int_equal(why, LD_REJ_BINARY);
	}
	/* tab is text; CR/LF at the end are line ends */
	char l[sizeof NSX + 2];
	memcpy(l, NSX, sizeof NSX - 1);
	l[sizeof NSX - 1] = '\r';
	l[sizeof NSX] = '\n';
	assert_int_equal(ld_parse_line(st, l, sizeof NSX + 1, &r, &why), LD_PARSE_DROP);
	assert_int_equal(parse(st, "\t \t", &r, &why), LD_PARSE_SKIP);
	assert_int_equal(ld_parse_line(st, "", 0, &r, &why), LD_PARSE_SKIP);
	assert_int_equal(parse(st, "# comment line", &r, &why), LD_PARSE_SKIP);
	/* non-ASCII UTF-8 in free text is fine */
	assert_int_equal(parse(st, "<134>2026-05-04T08:13:10.551Z esx01 FIREWALL_PKTLOG: 8f2c11aa INET "
				   "match DROP 4012 OUT 60 TCP 10.40.1.23/1->10.40.1.57/445 S r\xc3\xa9gle",
			       &r, &why),
			 LD_PARSE_DROP);
	ld_parse_state_free(st);
}

static void test_raw_and_reporter(void **state_)
{
	(void)state_;
	char name[32] = "file-reporter";
	char zone[32] = "Europe/Berlin";
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_now_ns();
	o.keep_raw = true;
	o.reporter = ld_str_c(name);
	o.local_tz = zone;
	ld_parse_state *st = ld_parse_state_new(&o);
	memset(name, 0, sizeof name); /* the state keeps its own copies */
	memset(zone, 0, sizeof zone);
	ld_record r;
	uint8_t why;
	const char *bare = "2026-05-04T08:12:02.338Z 7396c504 INET match DROP 1 OUT 52 TCP "
			   "10.20.4.3/1->10.20.4.4/2 S";
	assert_int_equal(parse(st, bare, &r, &why), LD_PARSE_DROP);
	assert_int_equal(r.reporter.len, strlen("file-reporter"));
	assert_memory_equal(r.reporter.ptr, "file-reporter", r.reporter.len);
	assert_int_equal(r.raw.len, strlen(bare));
	assert_ptr_equal(r.raw.ptr, bare);
	/* a line naming its host keeps it */
	assert_int_equal(parse(st, NSX, &r, &why), LD_PARSE_DROP);
	assert_int_equal(r.reporter.len, 5);
	assert_memory_equal(r.reporter.ptr, "esx01", 5);
	/* rejects leave an empty record */
	assert_int_equal(parse(st, "2026-05-04T08:12:02.338Z 7396c504 INET", &r, &why), LD_PARSE_REJECT);
	assert_int_equal(r.raw.len, 0);
	assert_int_equal(r.format, 0);
	ld_parse_state_free(st);
}

static void test_no_time_uses_now(void **state_)
{
	(void)state_;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = INT64_C(1795348800) * LD_NS_PER_SEC;
	ld_parse_state *st = ld_parse_state_new(&o);
	ld_record r;
	uint8_t why;
	assert_int_equal(parse(st, "7396c504 INET match DROP 1 OUT 52 TCP 10.20.4.3/1->10.20.4.4/2 S", &r,
			       &why),
			 LD_PARSE_DROP);
	assert_int_equal(r.ts_ns, o.now_ns);
	ld_parse_state_free(st);
}

static void test_winfw_header_routing(void **state_)
{
	(void)state_;
	if (!ld_format_lookup(LD_FMT_WINFW))
		skip();
	ld_parse_state *st = state(0);
	ld_record r;
	uint8_t why;
	assert_int_equal(parse(st, "\xEF\xBB\xBF#Version: 1.5", &r, &why), LD_PARSE_SKIP);
	assert_int_equal(ld_parse_state_format(st), LD_FMT_WINFW);
	assert_int_equal(parse(st, "#Fields: date time action protocol src-ip dst-ip src-port dst-port "
				   "size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid",
			       &r, &why),
			 LD_PARSE_SKIP);
	assert_int_equal(parse(st, "2026-05-04 11:10:01 DROP TCP 10.40.1.33 10.40.1.57 50122 445 0 - 0 0 "
				   "0 - - - SEND 4",
			       &r, &why),
			 LD_PARSE_DROP);
	assert_int_equal(r.format, LD_FMT_WINFW);
	ld_parse_state_free(st);
}

static void test_reject_names(void **state_)
{
	(void)state_;
	for (unsigned i = 0; i < LD_REJ_COUNT_; i++) {
		assert_non_null(ld_reject_name(i));
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(ld_reject_name(i), ld_reject_name(j));
	}
	assert_string_equal(ld_reject_name(LD_REJ_TRUNCATED), "truncated");
	assert_string_equal(ld_reject_name(LD_REJ_TOO_LONG), "too_long");
	assert_string_equal(ld_reject_name(999), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reclassify),
		cmocka_unit_test(test_forced),
		cmocka_unit_test(test_sizes_and_bytes),
		cmocka_unit_test(test_raw_and_reporter),
		cmocka_unit_test(test_no_time_uses_now),
		cmocka_unit_test(test_winfw_header_routing),
		cmocka_unit_test(test_reject_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
