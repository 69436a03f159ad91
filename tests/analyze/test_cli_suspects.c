/* test_cli_suspects.c — the commands end to end through the logdrop binary: `demo` generates,
 * imports and ranks; `suspects` reads the store back in JSON; errors exit 1 or 2 with a clear line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static const char *logdrop;
static char dir[64];

/* Runs cmd, captures stdout+stderr into out (truncated), returns the exit status. */
static int run(const char *cmd, char *out, size_t cap)
{
	char full[2048];
	snprintf(full, sizeof full, "%s 2>&1", cmd);
	FILE *p = popen(full, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_demo_and_suspects_json(void **state)
{
	(void)state;
	static char out[1 << 20];
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s demo --dir %s --desktops 40 --seed 3", logdrop, dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	/* the ranking's first row is the infected desktop, at alert level */
	const char *row = strstr(out, "\n1 ");
	assert_non_null(row);
	assert_non_null(strstr(row, " alert "));
	assert_non_null(strstr(out, "Incident 1"));
	assert_non_null(strstr(out, "precedence, not proof"));
	/* who is infected, according to the ground truth the demo wrote */
	char truth[256], infected[64] = "";
	snprintf(truth, sizeof truth, "%s/truth.csv", dir);
	FILE *f = fopen(truth, "r");
	assert_non_null(f);
	char line[512];
	while (fgets(line, sizeof line, f))
		if (strstr(line, ",S03,1,1,"))
			sscanf(line, "%63[^,]", infected);
	fclose(f);
	assert_true(infected[0]);
	snprintf(cmd, sizeof cmd,
		 "%s suspects --data %s/data --inventory %s/inventory.csv --format json --top 3",
		 logdrop, dir, dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	char first[4096];
	sscanf(out, "%4095[^\n]", first);
	static const char *const keys[] = {"\"name\":", "\"ip\":", "\"score\":", "\"level\":",
					   "\"first_seen\":", "\"first_alert\":", "\"last_seen\":",
					   "\"onset\":", "\"attempts\":", "\"peers\":", "\"ports\":[",
					   "\"kind\":", "\"incident\":", "\"parent\":", "\"reasons\":["};
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
		if (!strstr(first, keys[k]))
			fail_msg("missing %s in %s", keys[k], first);
	char want[128];
	snprintf(want, sizeof want, "{\"name\":\"%s\"", infected);
	assert_true(strncmp(first, want, strlen(want)) == 0);
	assert_non_null(strstr(first, "\"level\":\"alert\""));
	assert_non_null(strstr(first, "\"incident\":1"));
	/* times are RFC 3339 UTC with milliseconds */
	const char *fa = strstr(first, "\"first_alert\":\"");
	assert_non_null(fa);
	fa += strlen("\"first_alert\":\"");
	assert_true(strlen(fa) > 24 && fa[4] == '-' && fa[10] == 'T' && fa[19] == '.' && fa[23] == 'Z');
	/* a window before the attack has no alert */
	snprintf(cmd, sizeof cmd,
		 "%s suspects --data %s/data --inventory %s/inventory.csv --to 2026-11-02T09:00:00Z",
		 logdrop, dir, dir);
	assert_int_equal(run(cmd, out, sizeof out), 0);
	assert_null(strstr(out, infected));
}

static void test_errors(void **state)
{
	(void)state;
	static char out[65536];
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s suspects", logdrop);
	assert_int_equal(run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s suspects --data %s/data --format xml", logdrop, dir);
	assert_int_equal(run(cmd, out, sizeof out), 2);
	snprintf(cmd, sizeof cmd, "%s suspects --data %s/data --inventory %s/nope.csv", logdrop,
		 dir, dir);
	assert_int_equal(run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "nope.csv"));
	char ini[128];
	snprintf(ini, sizeof ini, "%s/bad.ini", dir);
	FILE *f = fopen(ini, "w");
	assert_non_null(f);
	fputs("[analyze]\nslow_threshold = 12\nslow_treshold = 3\n", f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s suspects --data %s/data --config %s", logdrop, dir, ini);
	assert_int_equal(run(cmd, out, sizeof out), 1);
	assert_non_null(strstr(out, "slow_treshold"));
	assert_non_null(strstr(out, ":3:"));
	snprintf(cmd, sizeof cmd, "%s demo --desktops 5", logdrop);
	assert_int_equal(run(cmd, out, sizeof out), 2);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_cli_suspects PATH-TO-logdrop\n");
		return 2;
	}
	logdrop = argv[1];
	strcpy(dir, "/tmp/ld-cli-suspects-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_and_suspects_json),
		cmocka_unit_test(test_errors),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
