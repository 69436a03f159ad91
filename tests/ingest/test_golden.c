/* test_golden.c — golden-file tests of ld_parse_line().
 *
 * Arguments name fixture files, each checked as its own test:
 *   FILE.golden   lines "> <input>" (">x <input>" decodes \xHH escapes), each followed by one
 *                 "= <result> [key=value ...]" line written from the format reference.  Every
 *                 record field the expectation does not name must be empty/absent, so a parser
 *                 that fills a field it should not is caught too.
 *   peer:LOG:EXPECT  a log of drop lines and JSON Lines with src, dst, sport, dport, proto, action.
 *   nondrop:LOG   every line must parse to something other than a drop.
 * Results: drop | notdrop | skip | reject:<reason>.  Keys: ts (RFC 3339, compared to the ns),
 * src dst sport dport proto (name or number) action dir len flags (NSX letters; "flags=" = given
 * and empty) rule vif reporter fmt partial assumed.  Directives: "@now <RFC 3339>", "@year Y",
 * "@reporter NAME", "@format NAME", "@reset" (new stream).  Default now: 2026-11-22T12:00:00Z.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ld_parse.h"
#include "ld_record.h"
#include "ld_time.h"

#define DEFAULT_NOW "2026-11-22T12:00:00Z"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	if (b) {
		b[n] = 0;
		*len = (size_t)n;
	}
	return b;
}

static size_t unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x') {
			unsigned v;
			char hx[3] = {s[i + 2], s[i + 3], 0};
			if (sscanf(hx, "%2x", &v) == 1) {
				out[o++] = (char)v;
				i += 3;
				continue;
			}
		}
		out[o++] = s[i];
	}
	return o;
}

/* Next key=value (value may be "quoted"); returns false at the end. */
static bool next_kv(const char **pp, char *key, size_t kcap, char *val, size_t vcap)
{
	const char *p = *pp;
	while (*p == ' ')
		p++;
	if (!*p)
		return false;
	size_t k = 0;
	while (*p && *p != '=' && *p != ' ' && k + 1 < kcap)
		key[k++] = *p++;
	key[k] = 0;
	size_t v = 0;
	if (*p == '=') {
		p++;
		if (*p == '"') {
			p++;
			while (*p && *p != '"' && v + 1 < vcap) {
				if (*p == '\\' && p[1])
					p++;
				val[v++] = *p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ' ' && v + 1 < vcap)
				val[v++] = *p++;
		}
	}
	val[v] = 0;
	*pp = p;
	return true;
}

static bool str_is(ld_str s, const char *want)
{
	return s.len == strlen(want) && (s.len == 0 || memcmp(s.ptr, want, s.len) == 0);
}

typedef struct ctx {
	const char *file;
	int lineno;
	const char *input;
	size_t input_len;
} ctx;

static int failures;

static void fail_at(const ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s:%d: ", c->file, c->lineno);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n    line: %.*s\n", (int)(c->input_len > 200 ? 200 : c->input_len), c->input);
	va_end(ap);
	failures++;
}

static const char *result_name(int r)
{
	switch (r) {
	case LD_PARSE_DROP: return "drop";
	case LD_PARSE_NOT_DROP: return "notdrop";
	case LD_PARSE_SKIP: return "skip";
	default: return "reject";
	}
}

static void check(const ctx *c, const char *expect, int r, uint8_t why, const ld_record *rec)
{
	char word[64];
	const char *p = expect;
	size_t w = 0;
	while (*p && *p != ' ' && w + 1 < sizeof word)
		word[w++] = *p++;
	word[w] = 0;
	char want_reason[48] = "";
	char *colon = strchr(word, ':');
	if (colon) {
		*colon = 0;
		snprintf(want_reason, sizeof want_reason, "%s", colon + 1);
	}
	if (strcmp(word, result_name(r)) != 0) {
		fail_at(c, "result %s (%s), expected %s", result_name(r),
			r == LD_PARSE_REJECT ? ld_reject_name(why) : "-", word);
		return;
	}
	if (r == LD_PARSE_REJECT) {
		if (want_reason[0] && strcmp(want_reason, ld_reject_name(why)) != 0)
			fail_at(c, "reason %s, expected %s", ld_reject_name(why), want_reason);
		return;
	}
	if (r == LD_PARSE_SKIP)
		return;
	bool seen_sport = false, seen_dport = false, seen_len = false, seen_flags = false;
	bool seen_rule = false, seen_vif = false, seen_rep = false, seen_dir = false;
	bool seen_partial = false, seen_assumed = false, seen_ts = false;
	char key[32], val[512];
	while (next_kv(&p, key, sizeof key, val, sizeof val)) {
		if (strcmp(key, "ts") == 0) {
			int64_t ns;
			seen_ts = true;
			if (!ld_time_parse_rfc3339(val, strlen(val), &ns, NULL))
				fail_at(c, "bad expected ts %s", val);
			else if (ns != rec->ts_ns) {
				char got[LD_TIME_STRLEN];
				ld_time_format_ms(rec->ts_ns, got);
				fail_at(c, "ts %s (%lld ns), expected %s", got, (long long)rec->ts_ns, val);
			}
		} else if (strcmp(key, "src") == 0 || strcmp(key, "dst") == 0) {
			ld_addr a;
			const ld_addr *got = key[0] == 's' ? &rec->src : &rec->dst;
			if (!ld_addr_parse(&a, val, strlen(val)))
				fail_at(c, "bad expected address %s", val);
			else if (!ld_addr_eq(&a, got)) {
				char t[LD_ADDR_STRLEN];
				ld_addr_format(got, t);
				fail_at(c, "%s %s, expected %s", key, t, val);
			}
		} else if (strcmp(key, "sport") == 0 || strcmp(key, "dport") == 0) {
			unsigned want = (unsigned)atoi(val);
			unsigned got = key[0] == 's' ? rec->sport : rec->dport;
			if (key[0] == 's')
				seen_sport = true;
			else
				seen_dport = true;
			if (got != want)
				fail_at(c, "%s %u, expected %u", key, got, want);
		} else if (strcmp(key, "proto") == 0) {
			int want = (val[0] >= '0' && val[0] <= '9') ? atoi(val)
								   : ld_proto_from_name(val, strlen(val));
			if (want != rec->proto)
				fail_at(c, "proto %u, expected %s", rec->proto, val);
		} else if (strcmp(key, "action") == 0) {
			if (ld_action_from_name(val, strlen(val)) != rec->action)
				fail_at(c, "action %s, expected %s", ld_action_name(rec->action), val);
		} else if (strcmp(key, "dir") == 0) {
			seen_dir = true;
			if (ld_dir_from_name(val, strlen(val)) != rec->dir)
				fail_at(c, "dir %s, expected %s", ld_dir_name(rec->dir), val);
		} else if (strcmp(key, "len") == 0) {
			seen_len = true;
			if (!(rec->present & LD_RF_LEN) || rec->len != (uint32_t)atol(val))
				fail_at(c, "len %u (present %d), expected %s", rec->len,
					!!(rec->present & LD_RF_LEN), val);
		} else if (strcmp(key, "flags") == 0) {
			seen_flags = true;
			int want = ld_tcp_flags_parse(val, strlen(val));
			if (!(rec->present & LD_RF_TCPFLAGS) || want != rec->tcp_flags) {
				char t[16];
				t[ld_tcp_flags_format(rec->tcp_flags, t)] = 0;
				fail_at(c, "flags '%s' (present %d), expected '%s'", t,
					!!(rec->present & LD_RF_TCPFLAGS), val);
			}
		} else if (strcmp(key, "rule") == 0 || strcmp(key, "vif") == 0 ||
			   strcmp(key, "reporter") == 0) {
			ld_str got = key[0] == 'r' ? (key[1] == 'u' ? rec->rule : rec->reporter) : rec->vif;
			if (key[0] == 'v')
				seen_vif = true;
			else if (key[1] == 'u')
				seen_rule = true;
			else
				seen_rep = true;
			if (!str_is(got, val))
				fail_at(c, "%s '%.*s', expected '%s'", key, (int)got.len, got.ptr, val);
		} else if (strcmp(key, "fmt") == 0) {
			if (ld_format_from_name(val, strlen(val)) != rec->format)
				fail_at(c, "format %s, expected %s", ld_format_name(rec->format), val);
		} else if (strcmp(key, "partial") == 0) {
			seen_partial = true;
			if (!(rec->present & LD_RF_PARTIAL))
				fail_at(c, "not marked partial");
		} else if (strcmp(key, "assumed") == 0) {
			seen_assumed = true;
			if (!(rec->present & LD_RF_ASSUMED))
				fail_at(c, "not marked assumed");
		} else {
			fail_at(c, "unknown expectation key %s", key);
		}
	}
	/* what the expectation leaves out must be absent */
	if (!seen_ts)
		fail_at(c, "expectation without ts");
	if (seen_sport != seen_dport)
		fail_at(c, "expectation names only one port");
	if (seen_sport && !(rec->present & LD_RF_PORTS) && !seen_partial)
		fail_at(c, "ports not marked present");
	if (!seen_sport && (rec->present & LD_RF_PORTS))
		fail_at(c, "ports %u/%u present, expected none", rec->sport, rec->dport);
	if (!seen_len && (rec->present & LD_RF_LEN))
		fail_at(c, "len %u present, expected none", rec->len);
	if (!seen_flags && (rec->present & LD_RF_TCPFLAGS))
		fail_at(c, "tcp flags present, expected none");
	if (!seen_rule && rec->rule.len)
		fail_at(c, "rule '%.*s', expected none", (int)rec->rule.len, rec->rule.ptr);
	if (!seen_vif && rec->vif.len)
		fail_at(c, "vif '%.*s', expected none", (int)rec->vif.len, rec->vif.ptr);
	if (!seen_rep && rec->reporter.len)
		fail_at(c, "reporter '%.*s', expected none", (int)rec->reporter.len, rec->reporter.ptr);
	if (!seen_dir && rec->dir != LD_DIR_UNKNOWN)
		fail_at(c, "dir %s, expected unknown", ld_dir_name(rec->dir));
	if (!seen_partial && (rec->present & LD_RF_PARTIAL))
		fail_at(c, "marked partial, expected complete");
	if (!seen_assumed && (rec->present & LD_RF_ASSUMED))
		fail_at(c, "marked assumed, expected stated");
}

static ld_parse_state *new_state(ld_parse_opts *o)
{
	ld_parse_state *st = ld_parse_state_new(o);
	assert_non_null(st);
	return st;
}

static void run_golden(const char *path)
{
	size_t len;
	char *buf = slurp(path, &len);
	if (!buf)
		fail_msg("cannot read %s", path);
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	assert_true(ld_time_parse_rfc3339(DEFAULT_NOW, strlen(DEFAULT_NOW), &o.now_ns, NULL) > 0);
	char reporter[128] = "";
	ld_parse_state *st = new_state(&o);
	static char line[LD_LINE_MAX * 2];
	size_t line_len = 0;
	bool pending = false;
	int r = 0, checked = 0;
	uint8_t why = 0;
	ld_record rec;
	ctx c = {path, 0, line, 0};
	int lineno = 0;
	char *next = buf;
	while (next && *next) {
		char *l = next;
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		next = nl ? nl + 1 : NULL;
		lineno++;
		if (l[0] == '#' || l[0] == 0)
			continue;
		if (l[0] == '@') {
			if (strncmp(l, "@now ", 5) == 0)
				assert_true(ld_time_parse_rfc3339(l + 5, strlen(l + 5), &o.now_ns, NULL));
			else if (strncmp(l, "@year ", 6) == 0)
				o.year_override = atoi(l + 6);
			else if (strncmp(l, "@reporter ", 10) == 0) {
				snprintf(reporter, sizeof reporter, "%s", l + 10);
				o.reporter = ld_str_c(reporter);
			} else if (strncmp(l, "@format ", 8) == 0)
				o.forced_format = ld_format_from_name(l + 8, strlen(l + 8));
			else if (strcmp(l, "@reset") != 0)
				fail_msg("%s:%d: unknown directive %s", path, lineno, l);
			ld_parse_state_free(st);
			st = new_state(&o);
			continue;
		}
		if (l[0] == '>') {
			if (pending) {
				c.lineno = lineno;
				fail_at(&c, "input without expectation");
			}
			bool esc = l[1] == 'x';
			const char *s = l + (esc ? 3 : 2);
			size_t n = strlen(s);
			line_len = esc ? unescape(s, n, line) : (memcpy(line, s, n), n);
			c.input_len = line_len;
			/* parse from an exact-size heap copy so sanitizers see over-reads */
			char *exact = malloc(line_len ? line_len : 1);
			memcpy(exact, line, line_len);
			r = ld_parse_line(st, exact, line_len, &rec, &why);
			/* the record borrows from `exact`: re-point its strings into `line` */
			ld_str *strs[] = {&rec.rule, &rec.reporter, &rec.vif, &rec.raw};
			for (size_t i = 0; i < 4; i++)
				if (strs[i]->len && strs[i]->ptr >= exact && strs[i]->ptr < exact + line_len)
					strs[i]->ptr = line + (strs[i]->ptr - exact);
			free(exact);
			pending = true;
			continue;
		}
		if (l[0] == '=') {
			c.lineno = lineno;
			if (!pending)
				fail_at(&c, "expectation without input");
			else
				check(&c, l + 2, r, why, &rec);
			pending = false;
			checked++;
			continue;
		}
		fail_msg("%s:%d: unexpected fixture line: %s", path, lineno, l);
	}
	if (pending)
		fail_at(&c, "last input without expectation");
	ld_parse_state_free(st);
	free(buf);
	printf("%s: %d lines checked\n", path, checked);
	assert_true(checked > 0);
}

/* "key": value from a flat JSON object; false when absent. */
static bool json_get(const char *obj, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *p = strstr(obj, pat);
	if (!p)
		return false;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	size_t n = 0;
	if (*p == '"') {
		p++;
		while (*p && *p != '"' && n + 1 < cap)
			out[n++] = *p++;
	} else {
		while (*p && *p != ',' && *p != '}' && *p != ' ' && n + 1 < cap)
			out[n++] = *p++;
	}
	out[n] = 0;
	return true;
}

static void run_peer(const char *log, const char *expect)
{
	size_t ll, el;
	char *lb = slurp(log, &ll), *eb = slurp(expect, &el);
	if (!lb || !eb)
		fail_msg("cannot read %s / %s", log, expect);
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	assert_true(ld_time_parse_rfc3339(DEFAULT_NOW, strlen(DEFAULT_NOW), &o.now_ns, NULL) > 0);
	ld_parse_state *st = new_state(&o);
	char *s1 = NULL, *s2 = NULL;
	char *l = strtok_r(lb, "\n", &s1), *e = strtok_r(eb, "\n", &s2);
	int n = 0;
	for (; l && e; l = strtok_r(NULL, "\n", &s1), e = strtok_r(NULL, "\n", &s2)) {
		n++;
		ctx c = {log, n, l, strlen(l)};
		ld_record rec;
		uint8_t why;
		int r = ld_parse_line(st, l, strlen(l), &rec, &why);
		if (r != LD_PARSE_DROP) {
			fail_at(&c, "result %s (%s), expected drop", result_name(r), ld_reject_name(why));
			continue;
		}
		char v[128];
		ld_addr a;
		if (json_get(e, "src", v, sizeof v) &&
		    (!ld_addr_parse(&a, v, strlen(v)) || !ld_addr_eq(&a, &rec.src)))
			fail_at(&c, "src differs from %s", v);
		if (json_get(e, "dst", v, sizeof v) &&
		    (!ld_addr_parse(&a, v, strlen(v)) || !ld_addr_eq(&a, &rec.dst)))
			fail_at(&c, "dst differs from %s", v);
		if (json_get(e, "sport", v, sizeof v) && strcmp(v, "null") != 0 &&
		    (unsigned)atoi(v) != rec.sport)
			fail_at(&c, "sport %u, expected %s", rec.sport, v);
		if (json_get(e, "dport", v, sizeof v) && strcmp(v, "null") != 0 &&
		    (unsigned)atoi(v) != rec.dport)
			fail_at(&c, "dport %u, expected %s", rec.dport, v);
		if (json_get(e, "proto", v, sizeof v)) {
			int want = (v[0] >= '0' && v[0] <= '9') ? atoi(v) : ld_proto_from_name(v, strlen(v));
			if (want != rec.proto)
				fail_at(&c, "proto %u, expected %s", rec.proto, v);
		}
		if (json_get(e, "action", v, sizeof v)) {
			/* the peer files say "drop" for drop/deny/block and "reject" for reject/reset */
			bool ok = strcmp(v, "reject") == 0 ? rec.action == LD_ACTION_REJECT
							    : (rec.action == LD_ACTION_DROP ||
							       rec.action == LD_ACTION_DENY);
			if (!ok)
				fail_at(&c, "action %s, expected %s", ld_action_name(rec.action), v);
		}
	}
	if (l || e)
		fail_msg("%s and %s differ in line count", log, expect);
	ld_parse_state_free(st);
	free(lb);
	free(eb);
	printf("%s: %d lines checked\n", log, n);
	assert_true(n > 0);
}

static void run_nondrop(const char *log)
{
	size_t ll;
	char *lb = slurp(log, &ll);
	if (!lb)
		fail_msg("cannot read %s", log);
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_now_ns();
	ld_parse_state *st = new_state(&o);
	char *s1 = NULL;
	int n = 0;
	for (char *l = strtok_r(lb, "\n", &s1); l; l = strtok_r(NULL, "\n", &s1)) {
		n++;
		ctx c = {log, n, l, strlen(l)};
		ld_record rec;
		uint8_t why;
		int r = ld_parse_line(st, l, strlen(l), &rec, &why);
		if (r == LD_PARSE_DROP)
			fail_at(&c, "parsed as a drop (%s)", ld_action_name(rec.action));
	}
	ld_parse_state_free(st);
	free(lb);
	printf("%s: %d lines checked\n", log, n);
	assert_true(n > 0);
}

static void test_one(void **state)
{
	const char *arg = *state;
	failures = 0;
	if (strncmp(arg, "peer:", 5) == 0) {
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s", arg + 5);
		char *sep = strchr(tmp, ':');
		assert_non_null(sep);
		*sep = 0;
		run_peer(tmp, sep + 1);
	} else if (strncmp(arg, "nondrop:", 8) == 0) {
		run_nondrop(arg + 8);
	} else {
		run_golden(arg);
	}
	assert_int_equal(failures, 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_golden FIXTURE...\n");
		return 2;
	}
	struct CMUnitTest *tests = calloc((size_t)argc - 1, sizeof *tests);
	for (int i = 1; i < argc; i++) {
		tests[i - 1].name = argv[i];
		tests[i - 1].test_func = test_one;
		tests[i - 1].initial_state = argv[i];
	}
	int rc = _cmocka_run_group_tests("golden", tests, (size_t)argc - 1, NULL, NULL);
	free(tests);
	return rc;
}
