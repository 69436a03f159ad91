/* test_nsx_fast.c — the NSX one-pass path and the header's hour cache give exactly what the
 * general scanner and a full timestamp parse give.
 *
 * Body: every generated line is parsed twice, once as written (single spaces, eligible for the
 * one-pass path) and once with a second space after the family word, which only the general
 * token scanner accepts; verdict, reject reason and every record field must agree.  Bodies mix
 * valid values with near misses (octet 256, four-digit octets, port 65536, six-digit ports, one
 * side without a port, odd vif ids, unknown words, lines cut anywhere).
 *
 * Time: ISO header stamps parsed through the hour cache equal ld_time_parse_rfc3339() of the same
 * text, across runs of one hour, hour/day/month/year changes, leap seconds and impossible dates.
 *
 * Bytes: the dispatcher's block-wise control-byte screen flags a line exactly when a byte below
 * 0x20 other than TAB is in it, at any position and line length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ld_parse.h"
#include "ld_time.h"

#define ROUNDS 60000

static uint64_t rng_state = 0x243f6a8885a308d3u;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic across runs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* Appends printf output at *pos, bounded by cap. */
static void put(char *buf, size_t cap, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < cap - *pos);
	*pos += (size_t)n;
}

static void put_octet(char *buf, size_t cap, size_t *pos)
{
	switch (pick(150)) {
	case 0: put(buf, cap, pos, "256"); break;
	case 1: put(buf, cap, pos, "1000"); break;
	case 2: put(buf, cap, pos, "010"); break;
	case 3: put(buf, cap, pos, "255"); break;
	case 4: put(buf, cap, pos, "0"); break;
	case 5: put(buf, cap, pos, "%u", 100 + pick(156)); break;
	case 6: put(buf, cap, pos, "x"); break;
	default: put(buf, cap, pos, "%u", pick(pick(2) ? 100 : 256)); break;
	}
}

static void put_endpoint(char *buf, size_t cap, size_t *pos, bool port)
{
	if (pick(100) == 0) {
		put(buf, cap, pos, "fe80::%x", pick(0xffff));
	} else {
		unsigned parts = pick(200) == 0 ? 3 : 4;
		for (unsigned i = 0; i < parts; i++) {
			if (i)
				put(buf, cap, pos, pick(500) ? "." : ",");
			put_octet(buf, cap, pos);
		}
	}
	if (!port)
		return;
	switch (pick(60)) {
	case 0: put(buf, cap, pos, "/65535"); break;
	case 1: put(buf, cap, pos, "/65536"); break;
	case 2: put(buf, cap, pos, "/123456"); break;
	case 3: put(buf, cap, pos, "/"); break;
	case 4: put(buf, cap, pos, "/0"); break;
	case 5: put(buf, cap, pos, "/99999"); break;
	case 6: put(buf, cap, pos, "/00080"); break;
	default: put(buf, cap, pos, "/%u", pick(65536)); break;
	}
}

/* One NSX body; `sep` goes between the family word and the reason. */
static size_t make_body(char *buf, size_t cap, const char *sep)
{
	size_t pos = 0;
	static const char *const vifs[] = {"8f2c000e", "8F2C00AB", "1234567", "0123456789", "8f2c00g1",
					   "abcdef12", "12345678"};
	if (pick(3))
		put(buf, cap, &pos, "%s ", vifs[pick(7)]);
	put(buf, cap, &pos, "%s%s", pick(30) ? "INET" : "INET6", sep);
	static const char *const why[] = {"TERM", "reason-match", "match"};
	put(buf, cap, &pos, "%s ", why[pick(10) ? 2 : pick(3)]);
	static const char *const act[] = {"DROP", "PASS", "REJECT", "NAT", "", "DROPX"};
	const char *a = act[pick(4) ? 0 : pick(6)];
	if (*a)
		put(buf, cap, &pos, "%s ", a);
	static const char *const rules[] = {"4015", "1001", "default/5", "IN", "r", "OUT"};
	put(buf, cap, &pos, "%s ", rules[pick(6)]);
	static const char *const dirs[] = {"OUT", "IN", "IN-OUT", "UP"};
	put(buf, cap, &pos, "%s ", dirs[pick(3) ? 0 : pick(4)]);
	switch (pick(20)) {
	case 0: break;
	case 1: put(buf, cap, &pos, "4294967295 "); break;
	case 2: put(buf, cap, &pos, "4294967296 "); break;
	case 3: put(buf, cap, &pos, "12345678901 "); break;
	default: put(buf, cap, &pos, "%u ", 40 + pick(1500)); break;
	}
	static const char *const protos[] = {"TCP", "UDP", "ICMP", "PROTO 47", "GRE", "TCPX"};
	put(buf, cap, &pos, "%s ", protos[pick(3) ? pick(2) : pick(6)]);
	bool sport = pick(10) != 0, dport = pick(40) ? sport : !sport;
	put_endpoint(buf, cap, &pos, sport);
	put(buf, cap, &pos, "->");
	put_endpoint(buf, cap, &pos, dport);
	static const char *const tails[] = {"", " S", " SA", " S 2 120", " FPU", " X", "  S", " S "};
	put(buf, cap, &pos, "%s", tails[pick(8)]);
	return pos;
}

static size_t make_header(char *buf, size_t cap, int64_t ts_ms)
{
	char ts[64];
	time_t secs = (time_t)(ts_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000));
	size_t pos = 0;
	switch (pick(4)) {
	case 0: put(buf, cap, &pos, "%s ", ts); break;
	case 1: put(buf, cap, &pos, "<134>%s esx%02u.vdi.example FIREWALL_PKTLOG: ", ts, pick(40)); break;
	case 2:
		put(buf, cap, &pos, "<13>1 %s esx%02u.vdi.example FIREWALL-PKTLOG - - - ", ts, pick(40));
		break;
	default: put(buf, cap, &pos, "%s No(13) FIREWALL-PKTLOG[1069031]: ", ts); break;
	}
	return pos;
}

static bool str_eq(ld_str a, ld_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void assert_same(const char *line, int ra, uint8_t wa, const ld_record *a, int rb,
			uint8_t wb, const ld_record *b)
{
	bool same = ra == rb && wa == wb;
	if (same && ra != LD_PARSE_REJECT)
		same = a->ts_ns == b->ts_ns && ld_addr_eq(&a->src, &b->src) &&
		       ld_addr_eq(&a->dst, &b->dst) && a->sport == b->sport && a->dport == b->dport &&
		       a->len == b->len && a->proto == b->proto && a->action == b->action &&
		       a->dir == b->dir && a->tcp_flags == b->tcp_flags && a->format == b->format &&
		       a->present == b->present && str_eq(a->rule, b->rule) &&
		       str_eq(a->reporter, b->reporter) && str_eq(a->vif, b->vif);
	if (!same)
		fail_msg("one-pass and general scanner differ on: %s (result %d/%d, reason %u/%u)", line,
			 ra, rb, wa, wb);
}

static void test_body_matches_general_scanner(void **state)
{
	(void)state;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = INT64_C(1777882390000) * 1000000;
	ld_parse_state *st = ld_parse_state_new(&o);
	assert_non_null(st);
	int64_t ts = INT64_C(1777882390000);
	unsigned fast_drops = 0;
	for (int i = 0; i < ROUNDS; i++) {
		ts += (int64_t)pick(4000);
		char hdr[160], b1[400], b2[400], l1[600], l2[600];
		make_header(hdr, sizeof hdr, ts);
		uint64_t seed = rng_state;
		size_t n1 = make_body(b1, sizeof b1, " ");
		rng_state = seed; /* same choices, wider separator */
		size_t n2 = make_body(b2, sizeof b2, "  ");
		assert_int_equal(n1 + 1, n2);
		/* also lines cut short, as UDP syslog truncates them */
		if (pick(8) == 0) {
			size_t cut = pick((unsigned)n1);
			size_t fam = (size_t)(strstr(b1, "INET") - b1);
			size_t sep = fam + (b1[fam + 4] == '6' ? 5 : 4); /* where the separators differ */
			n1 = cut;
			n2 = cut > sep ? cut + 1 : cut;
		}
		snprintf(l1, sizeof l1, "%s%.*s", hdr, (int)n1, b1);
		snprintf(l2, sizeof l2, "%s%.*s", hdr, (int)n2, b2);
		ld_record r1, r2;
		uint8_t w1, w2;
		int x1 = ld_parse_line(st, l1, strlen(l1), &r1, &w1);
		int x2 = ld_parse_line(st, l2, strlen(l2), &r2, &w2);
		assert_same(l1, x1, w1, &r1, x2, w2, &r2);
		if (x1 == LD_PARSE_DROP)
			fast_drops++;
	}
	/* the generator must reach the accepted shape often, or the comparison proves little */
	assert_true(fast_drops > ROUNDS / 5);
	ld_parse_state_free(st);
}

/* Header stamp of `line` as the dispatcher sees it, LD_TIME_NONE for a rejected line. */
static int64_t header_ts(ld_parse_state *st, const char *line, uint8_t *why)
{
	ld_record r;
	int x = ld_parse_line(st, line, strlen(line), &r, why);
	return x == LD_PARSE_REJECT ? LD_TIME_NONE : r.ts_ns;
}

static void check_stamp(ld_parse_state *st, const char *ts)
{
	char line[256];
	snprintf(line, sizeof line,
		 "<13>1 %s esx01 FIREWALL-PKTLOG - - - INET match DROP 4015 OUT 60 TCP "
		 "10.40.0.3/51380->10.40.1.8/445 S",
		 ts);
	int64_t want;
	bool had_zone;
	size_t used = ld_time_parse_rfc3339(ts, strlen(ts), &want, &had_zone);
	uint8_t why;
	int64_t got = header_ts(st, line, &why);
	if (used == strlen(ts)) {
		if (got != want)
			fail_msg("stamp %s: got %lld want %lld", ts, (long long)got, (long long)want);
	} else {
		/* impossible date or time: the line is a bad_time reject */
		if (got != LD_TIME_NONE || why != LD_REJ_BAD_TIME)
			fail_msg("stamp %s should be bad_time (got %lld, reason %u)", ts, (long long)got,
				 why);
	}
}

static void test_hour_cache_matches_full_parse(void **state)
{
	(void)state;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = INT64_C(1777882390000) * 1000000;
	ld_parse_state *st = ld_parse_state_new(&o);
	assert_non_null(st);
	static const char *const fixed[] = {
		"2026-05-04T08:13:10.001Z", "2026-05-04T08:59:59.999Z", "2026-05-04T08:59:60.000Z",
		"2026-05-04T08:60:00.000Z", "2026-05-04T08:13:61.000Z", "2026-05-04T08:13:10Z",
		"2026-05-04T08:13:10.5Z",   "2026-05-04T08:13:10.123456789Z",
		"2026-05-04T08:13:10.001+02:00", "2026-05-04T08:13:10.001-0530",
		"2026-05-04T09:00:00.000Z", "2026-02-28T23:59:59.999Z", "2026-02-29T00:00:00.000Z",
		"2024-02-29T00:00:00.000Z", "2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00.000Z",
		"2026-04-31T10:00:00.000Z", "2026-04-30T24:00:00.000Z", "2026-13-01T00:00:00.000Z",
		"2261-12-31T23:00:00.000Z", "2262-01-01T00:00:00.000Z", "2026-05-04T08:13:10.001Z",
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		check_stamp(st, fixed[i]);
	/* random walks: mostly within an hour, sometimes jumps, sometimes an impossible field */
	for (int i = 0; i < ROUNDS / 4; i++) {
		char ts[64];
		unsigned y = 2020 + pick(10), mo = 1 + pick(13), d = 1 + pick(31), h = pick(25);
		unsigned mi = pick(61), s = pick(62), ms = pick(1000);
		for (int k = 0; k < 4; k++) {
			snprintf(ts, sizeof ts, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", y, mo, d, h, mi, s,
				 ms);
			check_stamp(st, ts);
			mi = pick(61);
			s = pick(62);
		}
	}
	ld_parse_state_free(st);
}

/* The control-byte screen of the dispatcher (block-wise) flags exactly the lines with a byte below
 * 0x20 other than TAB, wherever it sits and whatever the line length. */
static void test_control_bytes_any_position(void **state)
{
	(void)state;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = INT64_C(1777882390000) * 1000000;
	ld_parse_state *st = ld_parse_state_new(&o);
	assert_non_null(st);
	static const unsigned char probes[] = {0x00, 0x01, 0x1b, 0x1f, '\t', 0x20, 0x7f, 0x80, 0xc3, 0xff};
	char line[120];
	for (size_t len = 1; len <= sizeof line; len++) {
		for (size_t pos = 0; pos < len; pos++) {
			for (size_t k = 0; k < sizeof probes; k++) {
				memset(line, 'a', len);
				line[pos] = (char)probes[k];
				ld_record r;
				uint8_t why;
				int x = ld_parse_line(st, line, len, &r, &why);
				bool ctl = probes[k] < 0x20 && probes[k] != '\t';
				if (ctl != (x == LD_PARSE_REJECT && why == LD_REJ_BINARY))
					fail_msg("byte 0x%02x at %zu of %zu: result %d reason %u", probes[k],
						 pos, len, x, why);
			}
		}
	}
	ld_parse_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_matches_general_scanner),
		cmocka_unit_test(test_hour_cache_matches_full_parse),
		cmocka_unit_test(test_control_bytes_any_position),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
