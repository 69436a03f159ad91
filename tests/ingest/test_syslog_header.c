/* test_syslog_header.c — ld_syslog_parse_header() on every header variant of the reference. */
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
#include "parse_state.h"

typedef struct hcase {
	const char *line;
	int pri;
	const char *ts; /* NULL = absent, "!" = present but impossible */
	const char *host, *tag, *msgid, *sd;
	const char *msg;
} hcase;

static const hcase cases[] = {
	/* RFC 3164, space-padded day, host + tag */
	{"<13>May  4 08:13:10 esx01 dfwpktlogs: 8f2c11aa INET match", 13, "2026-05-04T08:13:10Z",
	 "esx01", "dfwpktlogs", "", "", "8f2c11aa INET match"},
	/* single-digit day with one space */
	{"Mar 8 22:35:42 linux kernel: SuSE-FW-DROP IN=ppp0", -1, "2026-03-08T22:35:42Z", "linux",
	 "kernel", "", "", "SuSE-FW-DROP IN=ppp0"},
	/* hostname absent, tag with pid */
	{"<134>May  4 10:40:30 filterlog[72237]: 5,,,1000102433,em0", 134, "2026-05-04T10:40:30Z", "",
	 "filterlog", "", "", "5,,,1000102433,em0"},
	/* host without tag (PAN-OS) */
	{"May  4 10:20:01 pa-dc1 1,2026/05/04 10:20:01,0128", -1, "2026-05-04T10:20:01Z", "pa-dc1", "",
	 "", "", "1,2026/05/04 10:20:01,0128"},
	/* year inference: more than a day ahead of now -> previous year */
	{"Dec 23 21:43:36 lv1 kernel: x", -1, "2025-12-23T21:43:36Z", "lv1", "kernel", "", "", "x"},
	/* leap day in a non-leap current year belongs to the last leap year */
	{"Feb 29 01:02:03 h kernel: x", -1, "2024-02-29T01:02:03Z", "h", "kernel", "", "", "x"},
	/* impossible BSD date */
	{"Feb 30 01:02:03 h kernel: x", -1, "!", "h", "kernel", "", "", "x"},
	/* ASA own timestamp with year, host, " : " */
	{"<164>May 04 2026 10:01:02 asa-dc1 : %ASA-4-106023: Deny udp", 164, "2026-05-04T10:01:02Z",
	 "asa-dc1", "", "", "", "%ASA-4-106023: Deny udp"},
	/* ASA own timestamp, no host: "...:40: %ASA" */
	{"Apr 30 2013 09:23:40: %ASA-4-106023: Deny tcp", -1, "2013-04-30T09:23:40Z", "", "", "", "",
	 "%ASA-4-106023: Deny tcp"},
	/* no timestamp, no host */
	{"<164>%ASA-4-106023: Deny tcp src", 164, NULL, "", "", "", "", "%ASA-4-106023: Deny tcp src"},
	/* RFC 5424 with NIL procid/msgid/SD */
	{"<13>1 2026-05-04T08:14:25.001Z esx05.vdi.example FIREWALL-PKTLOG - - - INET match", 13,
	 "2026-05-04T08:14:25.001Z", "esx05.vdi.example", "FIREWALL-PKTLOG", "", "-", "INET match"},
	/* RFC 5424 with microseconds, offset, MSGID and real SD */
	{"<181>1 2026-05-04T08:21:06.102211+00:00 edge01-gw NSX 2802 FIREWALL [nsx@6876 comp=\"nsx-edge\" "
	 "level=\"INFO\"] <2 8a11:9c0e> INET",
	 181, "2026-05-04T08:21:06.102211Z", "edge01-gw", "NSX", "FIREWALL",
	 "[nsx@6876 comp=\"nsx-edge\" level=\"INFO\"]", "<2 8a11:9c0e> INET"},
	/* several SD elements, escaped quote and bracket inside a value */
	{"<14>1 2026-05-04T10:50:47Z srx RT_FLOW - RT_FLOW_SESSION_DENY [a@1 k=\"v\\\"]\"][b@2 x=\"y\"] tail",
	 14, "2026-05-04T10:50:47Z", "srx", "RT_FLOW", "RT_FLOW_SESSION_DENY",
	 "[a@1 k=\"v\\\"]\"][b@2 x=\"y\"]", "tail"},
	/* broken SD "[UFW BLOCK]" stays in the message */
	{"<4>1 2026-05-04T10:11:00.123456+02:00 lxgw02 kernel - - [UFW BLOCK] IN=eth0 OUT=", 4,
	 "2026-05-04T08:11:00.123456Z", "lxgw02", "kernel", "", "", "[UFW BLOCK] IN=eth0 OUT="},
	/* Check Point pseudo-SD stays in the message */
	{"<134>1 2026-05-04T11:00:01Z cp-mgmt CheckPoint 26203 - [action:\"Drop\"; src:\"10.4.1.3\"]", 134,
	 "2026-05-04T11:00:01Z", "cp-mgmt", "CheckPoint", "", "", "[action:\"Drop\"; src:\"10.4.1.3\"]"},
	/* BOM before MSG */
	{"<14>1 2026-05-04T10:20:05+02:00 pa-dc1 - - - - \xEF\xBB\xBF" "1,2026/05/04", 14,
	 "2026-05-04T08:20:05Z", "pa-dc1", "", "", "-", "1,2026/05/04"},
	/* NIL timestamp */
	{"<13>1 - host app - - - body", 13, NULL, "host", "app", "", "-", "body"},
	/* 5424 timestamp with a space and no zone: taken as UTC */
	{"<13>1 2026-05-04 08:14:25 esx05 FIREWALL-PKTLOG - - - INET", 13, "2026-05-04T08:14:25Z",
	 "esx05", "FIREWALL-PKTLOG", "", "-", "INET"},
	/* ESXi legacy: ISO time without version digit */
	{"<134>2026-05-04T08:13:10.551Z esx01.vdi.example FIREWALL_PKTLOG: 8f2c11aa INET", 134,
	 "2026-05-04T08:13:10.551Z", "esx01.vdi.example", "FIREWALL_PKTLOG", "", "", "8f2c11aa INET"},
	/* ESXi legacy with the 5424 NIL fields but no version digit */
	{"<13>2024-01-15T10:30:00.123Z testvmw FIREWALL-PKTLOG - - - INET TERM", 13,
	 "2024-01-15T10:30:00.123Z", "testvmw", "FIREWALL-PKTLOG", "", "-", "INET TERM"},
	/* ESXi 8 file form */
	{"2026-03-03T00:02:11.678Z No(13) FIREWALL-PKTLOG[1069031]: 8b4a1980 INET match", -1,
	 "2026-03-03T00:02:11.678Z", "", "FIREWALL-PKTLOG", "", "", "8b4a1980 INET match"},
	/* bare file line: ISO time then the message */
	{"2026-05-04T08:12:01.101Z b6507827 INET match PASS", -1, "2026-05-04T08:12:01.101Z", "", "",
	 "", "", "b6507827 INET match PASS"},
	{"2015-03-10T03:22:22.671Z INET match DROP domain-c7/1002", -1, "2015-03-10T03:22:22.671Z", "",
	 "", "", "", "INET match DROP domain-c7/1002"},
	/* kernel line with ISO header */
	{"<6>2021-03-12T14:10:18Z host kernel: [x-D]IN=eth1", 6, "2021-03-12T14:10:18Z", "host",
	 "kernel", "", "", "[x-D]IN=eth1"},
	/* relay double header: inner names host and time */
	{"<13>1 2026-05-04T08:14:26.000Z relay01 esx05 - - - <13>May  4 08:14:25 esx05 dfwpktlogs: 8f2c INET",
	 13, "2026-05-04T08:14:25Z", "esx05", "dfwpktlogs", "", "", "8f2c INET"},
	/* repeat compression */
	{"<13>May  4 08:13:10 fw1 kernel: message repeated 2 times: [ DROP: IN=eth0 OUT= ]", 13,
	 "2026-05-04T08:13:10Z", "fw1", "kernel", "", "", "DROP: IN=eth0 OUT="},
	/* broken PRI: whole line is the message */
	{"<1999>May  4 08:14:25 esx05 dfwpktlogs: x", -1, NULL, "", "", "", "",
	 "<1999>May  4 08:14:25 esx05 dfwpktlogs: x"},
	{"<13 May  4 08:14:25 esx05 dfwpktlogs: x", -1, NULL, "", "", "", "",
	 "<13 May  4 08:14:25 esx05 dfwpktlogs: x"},
	/* no header at all */
	{"0 0 PVEFW-HOST-IN 20/Jun/2022", -1, NULL, "", "", "", "", "0 0 PVEFW-HOST-IN 20/Jun/2022"},
	{"", -1, NULL, "", "", "", "", ""},
	/* impossible ISO date */
	{"<13>1 2026-13-04T08:14:25Z h a - - - x", 13, "!", "h", "a", "", "-", "x"},
};

static void expect_str(const char *what, const char *line, ld_str got, const char *want)
{
	if (got.len != strlen(want) || (got.len && memcmp(got.ptr, want, got.len) != 0))
		fail_msg("%s: %s '%.*s', expected '%s'", line, what, (int)got.len, got.ptr, want);
}

static void test_cases(void **state)
{
	(void)state;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	const char *now = "2026-11-22T12:00:00Z";
	assert_true(ld_time_parse_rfc3339(now, strlen(now), &o.now_ns, NULL) > 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const hcase *c = &cases[i];
		size_t n = strlen(c->line);
		char *exact = malloc(n ? n : 1); /* exact size: over-reads are caught by ASan */
		memcpy(exact, c->line, n);
		ld_syslog_hdr h;
		ld_syslog_parse_header(exact, n, &o, &h);
		if (h.pri != c->pri)
			fail_msg("%s: pri %d, expected %d", c->line, h.pri, c->pri);
		if (!c->ts) {
			if (h.ts_ns != LD_TIME_NONE)
				fail_msg("%s: has a timestamp, expected none", c->line);
		} else if (strcmp(c->ts, "!") == 0) {
			if (h.ts_ns != LD_HDR_TS_INVALID)
				fail_msg("%s: timestamp not flagged impossible", c->line);
		} else {
			int64_t want;
			assert_true(ld_time_parse_rfc3339(c->ts, strlen(c->ts), &want, NULL) > 0);
			if (h.ts_ns != want)
				fail_msg("%s: ts %lld, expected %s", c->line, (long long)h.ts_ns, c->ts);
		}
		expect_str("host", c->line, h.host, c->host);
		expect_str("tag", c->line, h.tag, c->tag);
		expect_str("msgid", c->line, h.msgid, c->msgid);
		expect_str("sd", c->line, h.sd, c->sd);
		if (c->msg) {
			ld_str m = {h.msg, (uint32_t)h.msg_len};
			expect_str("msg", c->line, m, c->msg);
		}
		free(exact);
	}
}

static void test_year_override(void **state)
{
	(void)state;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_now_ns();
	o.year_override = 2019;
	const char *l = "Dec 31 23:59:59 h kernel: x";
	ld_syslog_hdr h;
	ld_syslog_parse_header(l, strlen(l), &o, &h);
	int64_t want;
	assert_true(ld_time_parse_rfc3339("2019-12-31T23:59:59Z", 20, &want, NULL) > 0);
	assert_int_equal(h.ts_ns, want);
}

/* Every prefix of every case: no over-read, and msg always lies inside the line. */
static void test_prefixes(void **state)
{
	(void)state;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_now_ns();
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = strlen(cases[i].line);
		for (size_t k = 0; k <= n; k++) {
			char *exact = malloc(k ? k : 1);
			memcpy(exact, cases[i].line, k);
			ld_syslog_hdr h;
			ld_syslog_parse_header(exact, k, &o, &h);
			assert_true(h.msg >= exact && h.msg + h.msg_len <= exact + k);
			free(exact);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_year_override),
		cmocka_unit_test(test_prefixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
