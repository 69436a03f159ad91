/* test_property.c — generated records rendered as NSX (all header styles) and netfilter LOG
 * lines parse back to the same fields. */
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
#include "render_lines.h"

#define ROUNDS 20000

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

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

static void rnd_addr(ld_addr *a, bool v4)
{
	if (v4) {
		ld_addr_from_v4(a, (uint32_t)(0x0a000000u | (rnd() & 0xffffff)));
		return;
	}
	a->b[0] = 0x20;
	a->b[1] = 0x01;
	a->b[2] = 0x0d;
	a->b[3] = 0xb8;
	for (int i = 4; i < 16; i++)
		a->b[i] = pick(3) == 0 ? 0 : (uint8_t)rnd();
	if (ld_addr_is_v4(a))
		a->b[4] = 1;
}

static bool str_eq(ld_str a, ld_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void expect_equal(const ld_record *want, const ld_record *got, const char *line)
{
#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond))                                                    \
			fail_msg("%s\n  line: %s", #cond, line);                \
	} while (0)
	CHECK(got->ts_ns == want->ts_ns);
	CHECK(ld_addr_eq(&got->src, &want->src));
	CHECK(ld_addr_eq(&got->dst, &want->dst));
	CHECK(got->sport == want->sport && got->dport == want->dport);
	CHECK(got->proto == want->proto);
	CHECK(got->action == want->action);
	CHECK(got->dir == want->dir);
	CHECK(got->len == want->len);
	CHECK(got->tcp_flags == want->tcp_flags);
	CHECK(got->present == want->present);
	CHECK(got->format == want->format);
	CHECK(str_eq(got->rule, want->rule));
	CHECK(str_eq(got->vif, want->vif));
	CHECK(str_eq(got->reporter, want->reporter));
#undef CHECK
}

static void test_nsx_roundtrip(void **state)
{
	(void)state;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_now_ns();
	ld_parse_state *st = ld_parse_state_new(&o);
	assert_non_null(st);
	static const uint8_t protos[] = {6, 6, 6, 17, 17, 1, 2, 47, 50};
	static const uint8_t actions[] = {LD_ACTION_DROP, LD_ACTION_REJECT, LD_ACTION_ALLOW};
	char vif[16], rule[32], host[32], line[1024];
	for (int i = 0; i < ROUNDS; i++) {
		ld_record w;
		memset(&w, 0, sizeof w);
		int style = (int)pick(4);
		/* 2020..2030, millisecond precision */
		w.ts_ns = (INT64_C(1577836800000) + (int64_t)(rnd() % INT64_C(315360000000))) * 1000000;
		bool v4 = pick(4) != 0;
		rnd_addr(&w.src, v4);
		rnd_addr(&w.dst, v4);
		w.proto = protos[pick(sizeof protos)];
		w.action = actions[pick(3)];
		w.dir = pick(2) ? LD_DIR_IN : LD_DIR_OUT;
		w.len = 20 + pick(1480);
		w.present = LD_RF_LEN;
		if (w.proto == 6 || w.proto == 17) {
			w.sport = (uint16_t)rnd();
			w.dport = (uint16_t)rnd();
			w.present |= LD_RF_PORTS;
		}
		if (w.proto == 6) {
			w.tcp_flags = (uint8_t)(1 + pick(255));
			w.present |= LD_RF_TCPFLAGS;
		}
		switch (pick(3)) {
		case 0: snprintf(rule, sizeof rule, "mainrs/%u", 1000 + pick(9000)); break;
		case 1: snprintf(rule, sizeof rule, "%u", pick(100000)); break;
		default: snprintf(rule, sizeof rule, "domain-c%u/%u", pick(50), 1000 + pick(10)); break;
		}
		w.rule = ld_str_c(rule);
		if (style != LD_NSX_RFC5424 || pick(2)) {
			if (pick(5) == 0)
				snprintf(vif, sizeof vif, "%u", pick(100000));
			else
				snprintf(vif, sizeof vif, "%08x", (unsigned)rnd());
			w.vif = ld_str_c(vif);
		}
		if (style == LD_NSX_LEGACY || style == LD_NSX_RFC5424) {
			snprintf(host, sizeof host, "esx%02u.vdi.example", pick(64));
			w.reporter = ld_str_c(host);
		}
		w.format = LD_FMT_NSX;
		size_t n = ld_render_nsx(&w, style, line, sizeof line);
		assert_true(n > 0);
		ld_record got;
		uint8_t why;
		int r = ld_parse_line(st, line, n, &got, &why);
		int want_r = w.action == LD_ACTION_ALLOW ? LD_PARSE_NOT_DROP : LD_PARSE_DROP;
		if (r != want_r)
			fail_msg("result %d (%s), expected %d\n  line: %s", r, ld_reject_name(why), want_r,
				 line);
		expect_equal(&w, &got, line);
	}
	ld_parse_state_free(st);
}

static void test_iptables_roundtrip(void **state)
{
	(void)state;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_now_ns();
	o.year_override = 2025; /* RFC 3164 lines carry no year */
	ld_parse_state *st = ld_parse_state_new(&o);
	assert_non_null(st);
	static const struct {
		const char *prefix;
		uint8_t action;
	} prefixes[] = {
		{"[UFW BLOCK]", LD_ACTION_DENY},
		{"iptables DROP_INPUT", LD_ACTION_DROP},
		{"filter_IN_public_REJECT", LD_ACTION_REJECT},
		{"[LAN_IN-default-D]", LD_ACTION_DROP},
		{"[UFW ALLOW]", LD_ACTION_ALLOW},
	};
	char host[32], line[1024];
	for (int i = 0; i < ROUNDS; i++) {
		ld_record w;
		memset(&w, 0, sizeof w);
		/* 2025, second precision */
		w.ts_ns = (INT64_C(1735689600) + (int64_t)(rnd() % INT64_C(31536000))) * LD_NS_PER_SEC;
		bool v4 = pick(3) != 0;
		rnd_addr(&w.src, v4);
		rnd_addr(&w.dst, v4);
		static const uint8_t protos[] = {6, 6, 17, 1, 47};
		w.proto = protos[pick(sizeof protos)];
		if (w.proto == 1 && !v4)
			w.proto = 58;
		unsigned pi = pick(sizeof prefixes / sizeof prefixes[0]);
		w.rule = ld_str_c(prefixes[pi].prefix);
		w.action = prefixes[pi].action;
		w.dir = pick(2) ? LD_DIR_IN : LD_DIR_OUT;
		w.len = 40 + pick(1400);
		w.present = LD_RF_LEN;
		if (w.proto == 6 || w.proto == 17) {
			w.sport = (uint16_t)rnd();
			w.dport = (uint16_t)rnd();
			w.present |= LD_RF_PORTS;
		}
		if (w.proto == 6) {
			w.tcp_flags = (uint8_t)pick(256);
			w.present |= LD_RF_TCPFLAGS;
		}
		snprintf(host, sizeof host, "lx-%03u", pick(1000));
		w.reporter = ld_str_c(host);
		w.format = LD_FMT_IPTABLES;
		size_t n = ld_render_iptables(&w, line, sizeof line);
		assert_true(n > 0);
		ld_record got;
		uint8_t why;
		int r = ld_parse_line(st, line, n, &got, &why);
		int want_r = w.action == LD_ACTION_ALLOW ? LD_PARSE_NOT_DROP : LD_PARSE_DROP;
		if (r != want_r)
			fail_msg("result %d (%s), expected %d\n  line: %s", r, ld_reject_name(why), want_r,
				 line);
		expect_equal(&w, &got, line);
	}
	ld_parse_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nsx_roundtrip),
		cmocka_unit_test(test_iptables_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
