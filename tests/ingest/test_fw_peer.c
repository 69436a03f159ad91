/* test_fw_peer.c — lines from other projects' test suites (tests/ingest/fixtures/peer, see
 * NOTICE-firewall.md): every <fmt>.log line must parse to a drop with the fields of the matching
 * <fmt>.expect JSON line, and no <fmt>.nondrop.log line may give a drop record.
 * Usage: test_fw_peer PEER_DIR.
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

static const char *peer_dir;

static ld_parse_state *peer_state(void)
{
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_time_from_civil(2026, 11, 22, 0, 0, 0, 0);
	o.reporter = ld_str_c("peer");
	return ld_parse_state_new(&o);
}

/* Value of "key" in a flat JSON object line: string contents or a bare number; NULL if absent. */
static const char *json_get(const char *obj, const char *key, char *buf, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(obj, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	size_t n = 0;
	if (*p == '"') {
		p++;
		while (p[n] && p[n] != '"' && n + 1 < cap)
			n++;
	} else {
		while (p[n] && p[n] != ',' && p[n] != '}' && p[n] != ' ' && n + 1 < cap)
			n++;
	}
	memcpy(buf, p, n);
	buf[n] = 0;
	return buf;
}

static FILE *peer_open(const char *fmt, const char *ext)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s.%s", peer_dir, fmt, ext);
	FILE *f = fopen(path, "rb");
	if (!f)
		fprintf(stderr, "cannot open %s\n", path);
	return f;
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
}

static int peer_compare(const char *fmt, int lineno, const char *exp, int rc, const ld_record *r)
{
	int bad = 0;
	char v[128], got[LD_ADDR_STRLEN];
	if (rc != LD_PARSE_DROP) {
		fprintf(stderr, "%s.log:%d: not a drop (result %d)\n", fmt, lineno, rc);
		return 1;
	}
	if (json_get(exp, "src", v, sizeof v)) {
		ld_addr a;
		ld_addr_format(&r->src, got);
		if (!ld_addr_parse(&a, v, strlen(v)) || !ld_addr_eq(&a, &r->src)) {
			fprintf(stderr, "%s.log:%d: src want %s got %s\n", fmt, lineno, v, got);
			bad++;
		}
	}
	if (json_get(exp, "dst", v, sizeof v)) {
		ld_addr a;
		ld_addr_format(&r->dst, got);
		if (!ld_addr_parse(&a, v, strlen(v)) || !ld_addr_eq(&a, &r->dst)) {
			fprintf(stderr, "%s.log:%d: dst want %s got %s\n", fmt, lineno, v, got);
			bad++;
		}
	}
	if (json_get(exp, "sport", v, sizeof v) &&
	    (!(r->present & LD_RF_PORTS) || strtoul(v, NULL, 10) != r->sport)) {
		fprintf(stderr, "%s.log:%d: sport want %s got %u\n", fmt, lineno, v, r->sport);
		bad++;
	}
	if (json_get(exp, "dport", v, sizeof v) &&
	    (!(r->present & LD_RF_PORTS) || strtoul(v, NULL, 10) != r->dport)) {
		fprintf(stderr, "%s.log:%d: dport want %s got %u\n", fmt, lineno, v, r->dport);
		bad++;
	}
	if (json_get(exp, "proto", v, sizeof v) && ld_proto_from_name(v, strlen(v)) != r->proto) {
		fprintf(stderr, "%s.log:%d: proto want %s got %u\n", fmt, lineno, v, r->proto);
		bad++;
	}
	if (json_get(exp, "action", v, sizeof v)) {
		bool ok = !strcmp(v, "reject") ? r->action == LD_ACTION_REJECT
					       : r->action == LD_ACTION_DROP || r->action == LD_ACTION_DENY;
		if (!ok) {
			fprintf(stderr, "%s.log:%d: action want %s got %s\n", fmt, lineno, v,
				ld_action_name(r->action));
			bad++;
		}
	}
	return bad;
}

static void peer_format(const char *fmt, int min_lines)
{
	FILE *lf = peer_open(fmt, "log"), *ef = peer_open(fmt, "expect");
	assert_non_null(lf);
	assert_non_null(ef);
	ld_parse_state *st = peer_state();
	static char line[70000], exp[4096];
	int n = 0, bad = 0;
	while (fgets(line, sizeof line, lf)) {
		chomp(line);
		assert_non_null(fgets(exp, sizeof exp, ef));
		chomp(exp);
		n++;
		ld_record r;
		uint8_t why = 0;
		int rc = ld_parse_line(st, line, strlen(line), &r, &why);
		bad += peer_compare(fmt, n, exp, rc, &r);
		if (rc == LD_PARSE_DROP && r.format != ld_format_from_name(fmt, strlen(fmt))) {
			fprintf(stderr, "%s.log:%d: detected as %s\n", fmt, n, ld_format_name(r.format));
			bad++;
		}
	}
	assert_null(fgets(exp, sizeof exp, ef)); /* as many expectations as lines */
	fclose(lf);
	fclose(ef);
	ld_parse_state_free(st);

	FILE *nf = peer_open(fmt, "nondrop.log");
	assert_non_null(nf);
	st = peer_state();
	int nn = 0;
	while (fgets(line, sizeof line, nf)) {
		chomp(line);
		nn++;
		ld_record r;
		uint8_t why = 0;
		int rc = ld_parse_line(st, line, strlen(line), &r, &why);
		if (rc == LD_PARSE_DROP) {
			fprintf(stderr, "%s.nondrop.log:%d: gave a drop record\n", fmt, nn);
			bad++;
		}
	}
	fclose(nf);
	ld_parse_state_free(st);
	printf("%s: %d drop lines, %d non-drop lines, %d mismatches\n", fmt, n, nn, bad);
	assert_true(n >= min_lines);
	assert_true(nn >= 1);
	assert_int_equal(bad, 0);
}

static void test_asa(void **s)
{
	(void)s;
	peer_format("asa", 8);
}
static void test_panos(void **s)
{
	(void)s;
	peer_format("panos", 1);
}
static void test_fortigate(void **s)
{
	(void)s;
	peer_format("fortigate", 1);
}
static void test_pfsense(void **s)
{
	(void)s;
	peer_format("pfsense", 10);
}
static void test_srx(void **s)
{
	(void)s;
	peer_format("srx", 2);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PEER_DIR\n", argv[0]);
		return 2;
	}
	peer_dir = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asa),	  cmocka_unit_test(test_panos),
		cmocka_unit_test(test_fortigate), cmocka_unit_test(test_pfsense),
		cmocka_unit_test(test_srx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
