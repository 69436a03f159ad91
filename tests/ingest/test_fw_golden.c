/* test_fw_golden.c — golden fixtures of the firewall format parsers (asa, panos, fortigate,
 * pfsense, srx, winfw): every `< line` of each .txt file in tests/ingest/fixtures/<fmt>/ goes through the full
 * line dispatcher (syslog header, format detection, field parser) and must give what the `= ...`
 * line after it says.  Usage: test_fw_golden FIXTURE_DIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>

#include "fw_expect.h"

static const char *fixture_dir;

typedef struct golden_opts {
	char tz[64];
	char reporter[64];
	int32_t tzoff;
} golden_opts;

static ld_parse_state *golden_state(const golden_opts *g)
{
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_time_from_civil(2026, 11, 22, 0, 0, 0, 0);
	o.local_tz = g->tz[0] ? g->tz : NULL;
	o.local_tz_offset_s = g->tzoff;
	o.reporter = ld_str_c(g->reporter);
	ld_parse_state *st = ld_parse_state_new(&o);
	assert_non_null(st);
	return st;
}

/* Runs one fixture file; returns the number of mismatches, adds the lines checked to *lines. */
static int golden_file(const char *path, int *lines)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	golden_opts g;
	memset(&g, 0, sizeof g);
	strcpy(g.reporter, "host-file");
	ld_parse_state *st = golden_state(&g);
	static char buf[70000], input[70000];
	int bad = 0, lineno = 0, have_input = 0, input_line = 0;
	size_t input_len = 0;
	while (fgets(buf, sizeof buf, f)) {
		lineno++;
		size_t n = strlen(buf);
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = 0;
		if (n == 0 || buf[0] == '#')
			continue;
		if (buf[0] == '@') {
			char *kv = buf + 1, *key;
			const char *val;
			while (fw_next_kv(&kv, &key, &val)) {
				if (!strcmp(key, "tz"))
					snprintf(g.tz, sizeof g.tz, "%s", val);
				else if (!strcmp(key, "tzoff"))
					g.tzoff = (int32_t)strtol(val, NULL, 10);
				else if (!strcmp(key, "reporter"))
					snprintf(g.reporter, sizeof g.reporter, "%s", val);
			}
			/* options are copied into the state: any @ line starts a new stream */
			ld_parse_state_free(st);
			st = golden_state(&g);
			continue;
		}
		if (buf[0] == '<' && n >= 2) {
			assert_false(have_input); /* every input needs its expectation */
			input_len = n - 2;
			memcpy(input, buf + 2, input_len);
			have_input = 1;
			input_line = lineno;
			continue;
		}
		if (buf[0] == '=' && have_input) {
			/* hand the parser an exact-size copy so sanitizers see any overread */
			char *line = malloc(input_len ? input_len : 1);
			assert_non_null(line);
			memcpy(line, input, input_len);
			ld_record r;
			uint8_t reason = 0;
			int rc = ld_parse_line(st, line, input_len, &r, &reason);
			char where[2200];
			snprintf(where, sizeof where, "%s:%d", path, input_line);
			bad += fw_check(where, buf + 1, rc, reason, &r, st);
			if (rc == LD_PARSE_REJECT && reason == LD_REJ_NONE)
				bad += fw_mismatch(where, "reject without reason", "", "");
			free(line);
			have_input = 0;
			(*lines)++;
			continue;
		}
		fprintf(stderr, "%s:%d: stray fixture line\n", path, lineno);
		bad++;
	}
	assert_false(have_input);
	fclose(f);
	ld_parse_state_free(st);
	return bad;
}

static void golden_format(const char *fmt)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/%s", fixture_dir, fmt);
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	int bad = 0, lines = 0, files = 0;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".txt"))
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		bad += golden_file(path, &lines);
		files++;
	}
	closedir(d);
	printf("%s: %d fixture files, %d lines, %d mismatches\n", fmt, files, lines, bad);
	assert_true(files > 0);
	assert_true(lines >= 10);
	assert_int_equal(bad, 0);
}

static void test_asa(void **s)
{
	(void)s;
	golden_format("asa");
}
static void test_panos(void **s)
{
	(void)s;
	golden_format("panos");
}
static void test_fortigate(void **s)
{
	(void)s;
	golden_format("fortigate");
}
static void test_pfsense(void **s)
{
	(void)s;
	golden_format("pfsense");
}
static void test_srx(void **s)
{
	(void)s;
	golden_format("srx");
}
static void test_winfw(void **s)
{
	(void)s;
	golden_format("winfw");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
		return 2;
	}
	fixture_dir = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_asa),	  cmocka_unit_test(test_panos),
		cmocka_unit_test(test_fortigate), cmocka_unit_test(test_pfsense),
		cmocka_unit_test(test_srx),	  cmocka_unit_test(test_winfw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
