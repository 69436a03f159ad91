/* The INI reader: sections, values, line numbers, unknown keys named with their line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ld_config_keys.h"
#include "ld_ini.h"

static char path[64];

static void write_file(const char *text)
{
	strcpy(path, "/tmp/ld_ini_testXXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static const char *const sections[] = {"ingest", "store", NULL};
static const char *const ingest_keys[] = {"data_dir", "syslog_udp", NULL};
static const char *const store_keys[] = {"retention", "keep_raw", NULL};
static const char *const *keys_for(const char *s)
{
	return strcmp(s, "ingest") == 0 ? ingest_keys : store_keys;
}

static void test_values(void **state)
{
	(void)state;
	write_file("# comment\n[ingest]\ndata_dir = /var/lib/logdrop\n; other\nsyslog_udp = "
		   "\"[::1]:5514\"\n\n[store]\nkeep_raw = yes\nretention=90d\n");
	ld_err err;
	ld_ini *ini = ld_ini_load(path, &err);
	assert_non_null(ini);
	assert_string_equal(ld_ini_get(ini, "ingest", "data_dir"), "/var/lib/logdrop");
	assert_string_equal(ld_ini_get(ini, "ingest", "syslog_udp"), "[::1]:5514");
	assert_int_equal(ld_ini_line(ini, "store", "retention"), 9);
	assert_null(ld_ini_get(ini, "store", "missing"));
	bool b = false;
	assert_true(ld_ini_bool(ini, "store", "keep_raw", &b, &err));
	assert_true(b);
	assert_true(ld_ini_check(ini, sections, keys_for, &err));
	ld_ini_free(ini);
	unlink(path);
}

static void test_unknown_key(void **state)
{
	(void)state;
	write_file("[ingest]\ndata_dir = x\n[store]\nretension = 9d\n");
	ld_err err;
	ld_ini *ini = ld_ini_load(path, &err);
	assert_non_null(ini);
	assert_false(ld_ini_check(ini, sections, keys_for, &err));
	assert_non_null(strstr(err.msg, ":4: unknown key 'retension' in [store]"));
	ld_ini_free(ini);
	unlink(path);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	static const char *bad[] = {"key = outside\n", "[ingest\n", "[ingest]\njust words\n",
				    "[ingest]\n = value\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(bad[i]);
		ld_err err;
		assert_null(ld_ini_load(path, &err));
		assert_non_null(strstr(err.msg, path));
		unlink(path);
	}
	write_file("[store]\nkeep_raw = maybe\n");
	ld_err err;
	ld_ini *ini = ld_ini_load(path, &err);
	bool b;
	assert_false(ld_ini_bool(ini, "store", "keep_raw", &b, &err));
	assert_non_null(strstr(err.msg, ":2:"));
	ld_ini_free(ini);
	unlink(path);
}

static void test_config_tables(void **state)
{
	(void)state;
	ld_err err;
	write_file("[ingest]\nsyslog_udp = 127.0.0.1:5514\n[store]\nretention = 30d\n[alert]\n"
		   "format = cef\n[analyze]\nanything_analyze_checks = 1\n");
	ld_ini *ini = ld_ini_load(path, &err);
	assert_non_null(ini);
	assert_true(ld_config_check_common(ini, &err));
	ld_ini_free(ini);
	unlink(path);
	write_file("[ingest]\nsyslog_udp = 127.0.0.1:5514\n[store]\nretension = 30d\n");
	ini = ld_ini_load(path, &err);
	assert_false(ld_config_check_common(ini, &err));
	assert_non_null(strstr(err.msg, ":4: unknown key 'retension' in [store]"));
	ld_ini_free(ini);
	unlink(path);
	write_file("[alerts]\nsyslog = udp://127.0.0.1:514\n");
	ini = ld_ini_load(path, &err);
	assert_false(ld_config_check_common(ini, &err));
	assert_non_null(strstr(err.msg, ":2: unknown section [alerts]"));
	ld_ini_free(ini);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_config_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
