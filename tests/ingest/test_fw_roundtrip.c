/* test_fw_roundtrip.c — property test of the firewall format parsers: random records (IPv4/IPv6,
 * TCP/UDP/ICMP, drop/reject/allow, random times, rule and host names) are rendered in each
 * vendor's documented layout, parsed back through ld_parse_line, and must come back equal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_parse.h"
#include "ld_record.h"
#include "ld_time.h"

#define ROUNDS 3000

static uint64_t rng = 0x2545f4914f6cdd1du;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

typedef struct gen {
	ld_record r;
	char src[LD_ADDR_STRLEN], dst[LD_ADDR_STRLEN];
	char rule[24], host[24];
	bool ports;
} gen;

static void rand_name(char *buf, size_t cap)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = 3 + rnd() % (cap - 4);
	buf[0] = (char)('a' + rnd() % 26);
	for (size_t i = 1; i < n; i++)
		buf[i] = cs[rnd() % (sizeof cs - 1)];
	buf[n] = 0;
}

static void rand_addr(ld_addr *a, bool v6)
{
	if (!v6) {
		ld_addr_from_v4(a, (uint32_t)rnd() | 0x01000000u);
		return;
	}
	for (int i = 0; i < 16; i++)
		a->b[i] = (uint8_t)rnd();
	a->b[0] = 0x20; /* global unicast, never v4-mapped */
}

/* A record with what every format can carry; ts at second (or finer) resolution. */
static void gen_record(gen *g, bool allow_v6, int ns_digits, bool can_reject)
{
	memset(g, 0, sizeof *g);
	bool v6 = allow_v6 && rnd() % 3 == 0;
	rand_addr(&g->r.src, v6);
	rand_addr(&g->r.dst, v6);
	ld_addr_format(&g->r.src, g->src);
	ld_addr_format(&g->r.dst, g->dst);
	static const uint8_t protos[] = {6, 17, 1};
	g->r.proto = protos[rnd() % 3];
	if (v6 && g->r.proto == 1)
		g->r.proto = 58;
	g->ports = g->r.proto == 6 || g->r.proto == 17;
	if (g->ports) {
		g->r.sport = (uint16_t)rnd();
		g->r.dport = (uint16_t)rnd();
	}
	unsigned a = (unsigned)(rnd() % 3);
	g->r.action = a == 0 ? LD_ACTION_DROP : a == 1 && can_reject ? LD_ACTION_REJECT : LD_ACTION_ALLOW;
	int64_t s = ld_time_from_civil(2019, 1, 1, 0, 0, 0, 0) / LD_NS_PER_SEC +
		    (int64_t)(rnd() % (86400ull * 365 * 7));
	int64_t frac = 0;
	if (ns_digits > 0) {
		int64_t scale = 1;
		for (int i = ns_digits; i < 9; i++)
			scale *= 10;
		frac = (int64_t)(rnd() % (uint64_t)(LD_NS_PER_SEC / scale)) * scale;
	}
	g->r.ts_ns = s * LD_NS_PER_SEC + frac;
	rand_name(g->rule, sizeof g->rule);
	rand_name(g->host, sizeof g->host);
}

static void civil(int64_t ts_ns, int64_t *y, unsigned *mo, unsigned *d, unsigned *h, unsigned *mi,
		  unsigned *s)
{
	int64_t sec = ts_ns / LD_NS_PER_SEC;
	int64_t days = sec / 86400, rem = sec % 86400;
	ld_civil_from_days(days, y, mo, d);
	*h = (unsigned)(rem / 3600);
	*mi = (unsigned)(rem / 60 % 60);
	*s = (unsigned)(rem % 60);
}

static const char *proto_word(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "ipv6-icmp";
}

static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* --- renderers (layouts from the vendors' field descriptions) ---------------------------- */

static int render_asa(gen *g, char *b, size_t cap)
{
	int64_t y;
	unsigned mo, d, h, mi, s;
	civil(g->r.ts_ns, &y, &mo, &d, &h, &mi, &s);
	int n = snprintf(b, cap, "<164>%s %02u %04lld %02u:%02u:%02u %s : ", mon[mo - 1], d,
			 (long long)y, h, mi, s, g->host);
	if (g->r.action == LD_ACTION_ALLOW) {
		/* 106100 carries ports always; ICMP shows type/code there */
		return n + snprintf(b + n, cap - (size_t)n,
				    "%%ASA-6-106100: access-list %s permitted %s inside/%s(%u) -> "
				    "outside/%s(%u) hit-cnt 1 first hit [0x0, 0x0]",
				    g->rule, proto_word(g->r.proto), g->src, g->r.sport, g->dst,
				    g->r.dport);
	}
	if (g->ports)
		return n + snprintf(b + n, cap - (size_t)n,
				    "%%ASA-4-106023: Deny %s src inside:%s/%u dst outside:%s/%u by "
				    "access-group \"%s\" [0x0, 0x0]",
				    proto_word(g->r.proto), g->src, g->r.sport, g->dst, g->r.dport,
				    g->rule);
	return n + snprintf(b + n, cap - (size_t)n,
			    "%%ASA-4-106023: Deny %s src inside:%s dst outside:%s (type 8, code 0) by "
			    "access-group \"%s\" [0x0, 0x0]",
			    g->r.proto == 1 ? "icmp" : "icmp6", g->src, g->dst, g->rule);
}

static int render_panos(gen *g, char *b, size_t cap)
{
	int64_t y;
	unsigned mo, d, h, mi, s;
	civil(g->r.ts_ns, &y, &mo, &d, &h, &mi, &s);
	char t[24];
	snprintf(t, sizeof t, "%04lld/%02u/%02u %02u:%02u:%02u", (long long)y, mo, d, h, mi, s);
	const char *act = g->r.action == LD_ACTION_DROP	  ? "deny"
			  : g->r.action == LD_ACTION_REJECT ? "reset-both"
							    : "allow";
	const char *sub = g->r.action == LD_ACTION_ALLOW ? "end" : "deny";
	/* cols 0-30 */
	int n = snprintf(b, cap,
			 "%s %2u %02u:%02u:%02u %s 1,%s,0123456789,TRAFFIC,%s,2049,%s,%s,%s,0.0.0.0,"
			 "0.0.0.0,\"%s, x\",,,app,vsys1,z1,z2,ethernet1/1,ethernet1/2,fwd,%s,1,1,%u,%u,0,"
			 "0,0x0,%s,%s,",
			 mon[mo - 1], d, h, mi, s, g->host, t, sub, t, g->src, g->dst, g->rule, t,
			 g->r.sport, g->r.dport, proto_word(g->r.proto), act);
	/* cols 31-51 */
	n += snprintf(b + n, cap - (size_t)n,
		      "66,66,0,1,%s,0,any,0,1,0x0,US,US,0,1,0,policy-deny,0,0,0,0,,", t);
	/* 52 device, 53-74 */
	n += snprintf(b + n, cap - (size_t)n, "%s,from-policy,,,0,,0,,N/A,0,0,0,0,,0,0,,,,,,,",
		      g->host);
	return n;
}

static int render_fortigate(gen *g, char *b, size_t cap)
{
	int64_t y;
	unsigned mo, d, h, mi, s;
	civil(g->r.ts_ns, &y, &mo, &d, &h, &mi, &s);
	int n = snprintf(b, cap,
			 "<189>date=%04lld-%02u-%02u time=%02u:%02u:%02u devname=\"%s\" "
			 "devid=\"FG100E\" eventtime=%lld tz=\"+0000\" logid=\"0000000013\" "
			 "type=\"traffic\" subtype=\"forward\" level=\"notice\" vd=\"root\" srcip=%s ",
			 (long long)y, mo, d, h, mi, s, g->host, (long long)g->r.ts_ns, g->src);
	if (g->ports)
		n += snprintf(b + n, cap - (size_t)n, "srcport=%u ", g->r.sport);
	n += snprintf(b + n, cap - (size_t)n, "srcintf=\"vdi\" dstip=%s ", g->dst);
	if (g->ports)
		n += snprintf(b + n, cap - (size_t)n, "dstport=%u ", g->r.dport);
	return n + snprintf(b + n, cap - (size_t)n,
			    "dstintf=\"srv\" proto=%u action=\"%s\" policyid=%s service=\"x y\"",
			    g->r.proto, g->r.action == LD_ACTION_DROP ? "deny" : "accept", g->rule);
}

static int render_pfsense(gen *g, char *b, size_t cap)
{
	char ts[LD_TIME_STRLEN];
	ld_time_format_ms(g->r.ts_ns, ts);
	bool v6 = !ld_addr_is_v4(&g->r.src);
	unsigned rule = (unsigned)(rnd() % 1000);
	snprintf(g->rule, sizeof g->rule, "%u", rule);
	const char *act = g->r.action == LD_ACTION_DROP ? "block" : "pass";
	int n = snprintf(b, cap, "<134>1 %s %s filterlog 123 - - %u,,,1000000103,em0,match,%s,in,%s,",
			 ts, g->host, rule, act, v6 ? "6" : "4");
	const char *pname = proto_word(g->r.proto);
	if (v6)
		n += snprintf(b + n, cap - (size_t)n, "0x00,0x00000,64,%s,%u,60,%s,%s", pname,
			      g->r.proto, g->src, g->dst);
	else
		n += snprintf(b + n, cap - (size_t)n, "0x0,,64,1,0,DF,%u,%s,60,%s,%s", g->r.proto,
			      pname, g->src, g->dst);
	if (g->r.proto == 6)
		n += snprintf(b + n, cap - (size_t)n, ",%u,%u,0,S,1,,64240,,mss", g->r.sport,
			      g->r.dport);
	else if (g->r.proto == 17)
		n += snprintf(b + n, cap - (size_t)n, ",%u,%u,40", g->r.sport, g->r.dport);
	else
		n += snprintf(b + n, cap - (size_t)n, ",request,1,1");
	return n;
}

static int render_srx(gen *g, char *b, size_t cap)
{
	char ts[LD_TIME_STRLEN];
	ld_time_format_ms(g->r.ts_ns, ts);
	return snprintf(b, cap,
			"<14>1 %s %s RT_FLOW - RT_FLOW_SESSION_%s [junos@2636.1.1.1.2.129 "
			"source-address=\"%s\" source-port=\"%u\" destination-address=\"%s\" "
			"destination-port=\"%u\" service-name=\"None\" protocol-id=\"%u\" "
			"icmp-type=\"0\" policy-name=\"%s\" source-zone-name=\"a\" "
			"destination-zone-name=\"b\" encrypted=\"No\"]",
			ts, g->host, g->r.action == LD_ACTION_DROP ? "DENY" : "CREATE", g->src,
			g->r.sport, g->dst, g->r.dport, g->r.proto, g->rule);
}

#define WINFW_OFF (5 * 3600 + 1800) /* a fixed +05:30 device offset */

static int render_winfw(gen *g, char *b, size_t cap)
{
	int64_t y;
	unsigned mo, d, h, mi, s;
	civil(g->r.ts_ns + (int64_t)WINFW_OFF * LD_NS_PER_SEC, &y, &mo, &d, &h, &mi, &s);
	char sp[8] = "-", dp[8] = "-";
	if (g->ports) {
		snprintf(sp, sizeof sp, "%u", g->r.sport);
		snprintf(dp, sizeof dp, "%u", g->r.dport);
	}
	return snprintf(b, cap, "%04lld-%02u-%02u %02u:%02u:%02u %s %s %s %s %s %s 0 - 0 0 0 - - - SEND 4",
			(long long)y, mo, d, h, mi, s, g->r.action == LD_ACTION_DROP ? "DROP" : "ALLOW",
			g->r.proto == 6 ? "TCP" : g->r.proto == 17 ? "UDP" : g->r.proto == 1 ? "ICMP" : "ICMPv6",
			g->src, g->dst, sp, dp);
}

typedef struct fmt_case {
	const char *name;
	int (*render)(gen *, char *, size_t);
	bool v6;
	int ns_digits;
	bool reject, rule, reporter;
} fmt_case;

static void roundtrip(const fmt_case *fc)
{
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_time_from_civil(2026, 11, 22, 0, 0, 0, 0);
	o.reporter = ld_str_c("file-host");
	if (!strcmp(fc->name, "winfw"))
		o.local_tz_offset_s = WINFW_OFF;
	ld_parse_state *st = ld_parse_state_new(&o);
	assert_non_null(st);
	static char line[4096];
	int bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		gen g;
		gen_record(&g, fc->v6, fc->ns_digits, fc->reject);
		int n = fc->render(&g, line, sizeof line);
		assert_true(n > 0 && (size_t)n < sizeof line);
		char *copy = malloc((size_t)n);
		memcpy(copy, line, (size_t)n);
		ld_record r;
		uint8_t why = 0;
		int rc = ld_parse_line(st, copy, (size_t)n, &r, &why);
		int want_rc = g.r.action == LD_ACTION_ALLOW ? LD_PARSE_NOT_DROP : LD_PARSE_DROP;
		bool ok = rc == want_rc && r.format == ld_format_from_name(fc->name, strlen(fc->name)) &&
			  ld_addr_eq(&r.src, &g.r.src) && ld_addr_eq(&r.dst, &g.r.dst) &&
			  r.proto == g.r.proto && r.ts_ns == g.r.ts_ns;
		if (ok && rc == LD_PARSE_DROP)
			ok = r.action == g.r.action;
		if (ok && g.ports)
			ok = (r.present & LD_RF_PORTS) && r.sport == g.r.sport && r.dport == g.r.dport;
		if (ok && fc->rule)
			ok = r.rule.len >= strlen(g.rule) && !memcmp(r.rule.ptr, g.rule, strlen(g.rule));
		if (ok && fc->reporter)
			ok = r.reporter.len == strlen(g.host) && !memcmp(r.reporter.ptr, g.host, r.reporter.len);
		if (!ok && bad++ < 5) {
			char t[LD_TIME_STRLEN];
			ld_time_format_ms(r.ts_ns, t);
			fprintf(stderr, "%s: rc=%d why=%s ts=%s act=%s line: %.*s\n", fc->name, rc,
				ld_reject_name(why), t, ld_action_name(r.action), n, line);
		}
		free(copy);
	}
	ld_parse_state_free(st);
	printf("%s: %d records rendered and parsed back, %d differ\n", fc->name, ROUNDS, bad);
	assert_int_equal(bad, 0);
}

static const fmt_case cases[] = {
	{"asa", render_asa, true, 0, false, true, true},
	{"panos", render_panos, true, 0, true, true, true},
	{"fortigate", render_fortigate, true, 9, false, true, true},
	{"pfsense", render_pfsense, true, 3, false, true, true},
	{"srx", render_srx, true, 3, false, true, true},
	{"winfw", render_winfw, true, 0, false, false, false},
};

static void test_asa(void **s)
{
	(void)s;
	roundtrip(&cases[0]);
}
static void test_panos(void **s)
{
	(void)s;
	roundtrip(&cases[1]);
}
static void test_fortigate(void **s)
{
	(void)s;
	roundtrip(&cases[2]);
}
static void test_pfsense(void **s)
{
	(void)s;
	roundtrip(&cases[3]);
}
static void test_srx(void **s)
{
	(void)s;
	roundtrip(&cases[4]);
}
static void test_winfw(void **s)
{
	(void)s;
	roundtrip(&cases[5]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asa),	  cmocka_unit_test(test_panos),
		cmocka_unit_test(test_fortigate), cmocka_unit_test(test_pfsense),
		cmocka_unit_test(test_srx),	  cmocka_unit_test(test_winfw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
