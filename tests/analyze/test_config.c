/* test_config.c — [analyze] settings and the inventory CSV: defaults, overrides, and errors that
 * name the file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ld_analyze_config.h"
#include "ld_inventory.h"
#include "ld_time.h"

static char path[64];

static void write_tmp(const char *text)
{
	strcpy(path, "/tmp/ld-analyze-cfg-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static ld_analyze_config *cfg_new(void)
{
	ld_analyze_config *c = malloc(sizeof *c);
	assert_non_null(c);
	ld_analyze_config_default(c);
	return c;
}

static void test_defaults(void **state)
{
	(void)state;
	ld_analyze_config *c = cfg_new();
	ld_addr a;
	assert_true(ld_addr_parse(&a, "172.16.5.5", 10));
	bool inside = false;
	for (unsigned i = 0; i < c->n_internal; i++)
		inside |= ld_prefix_contains(&c->internal[i], &a);
	assert_true(inside);
	assert_int_equal(ld_analyze_port_class(c, 6, 50000, 445, true), LD_PC_LATERAL);
	assert_int_equal(ld_analyze_port_class(c, 6, 50000, 389, true), LD_PC_DISCOVERY);
	assert_int_equal(ld_analyze_port_class(c, 6, 50000, 7680, true), LD_PC_BENIGN);
	assert_int_equal(ld_analyze_port_class(c, 6, 50000, 9100, true), LD_PC_OTHER);
	/* a reply from LLMNR's port to an ephemeral one is discovery chatter */
	assert_int_equal(ld_analyze_port_class(c, 17, 5355, 61000, true), LD_PC_BENIGN);
	/* an ephemeral source port inside the Teams range says nothing */
	assert_int_equal(ld_analyze_port_class(c, 6, 50010, 3389, true), LD_PC_LATERAL);
	assert_int_equal(ld_analyze_port_class(c, 1, 0, 0, false), LD_PC_DISCOVERY);
	free(c);
}

static void test_overrides(void **state)
{
	(void)state;
	write_tmp("# site settings\n[analyze]\ninternal_networks = 10.64.0.0/10, fd00::/8\n"
		  "allow_scanners = 10.9.0.5/32\nfast_threshold = 6\nslow_leak = 2h\n"
		  "lateral_ports = 445,3389,8000-8002\n[store]\nretention = 30d\n");
	ld_analyze_config *c = cfg_new();
	ld_err err;
	assert_true(ld_analyze_config_load(c, path, &err));
	assert_int_equal(c->n_internal, 2);
	assert_int_equal(c->n_scanners, 1);
	assert_true(c->threshold[LD_TIER_FAST] == 6.0f);
	assert_true(c->leak_ns[LD_TIER_SLOW] == 2 * 3600 * LD_NS_PER_SEC);
	assert_int_equal(ld_analyze_port_class(c, 6, 50000, 8001, true), LD_PC_LATERAL);
	assert_int_equal(ld_analyze_port_class(c, 6, 50000, 22, true), LD_PC_OTHER);
	assert_int_equal(ld_analyze_port_class(c, 6, 50000, 389, true), LD_PC_DISCOVERY);
	unlink(path);
	free(c);
}

static void test_unknown_key(void **state)
{
	(void)state;
	write_tmp("[analyze]\nfast_threshold = 5\nfast_treshold = 6\n");
	ld_analyze_config *c = cfg_new();
	ld_err err;
	assert_false(ld_analyze_config_load(c, path, &err));
	assert_non_null(strstr(err.msg, "fast_treshold"));
	assert_non_null(strstr(err.msg, ":3:"));
	unlink(path);
	write_tmp("[analyze]\nmedium_leak = soon\n");
	assert_false(ld_analyze_config_load(c, path, &err));
	assert_non_null(strstr(err.msg, "medium_leak"));
	assert_non_null(strstr(err.msg, ":2:"));
	unlink(path);
	write_tmp("[analyze]\ninternal_networks = 10.0.0.0/33\n");
	assert_false(ld_analyze_config_load(c, path, &err));
	assert_non_null(strstr(err.msg, "internal_networks"));
	unlink(path);
	write_tmp("[analyse]\nfast_leak = 30s\n");
	assert_false(ld_analyze_config_load(c, path, &err));
	assert_non_null(strstr(err.msg, "analyse"));
	unlink(path);
	free(c);
}

static void test_inventory_windows(void **state)
{
	(void)state;
	write_tmp("ip,name,user,pool,role,valid_from,valid_to\n"
		  "10.20.1.50,VDI-A,alice,pool-a,desktop,,2026-11-02T10:00:00Z\n"
		  "10.20.1.50,VDI-B,bob,pool-a,,2026-11-02T10:05:00+00:00,\n"
		  "fd20::32,VDI-A,alice,pool-a,desktop,,\n"
		  "\"10.9.0.5\",\"NESSUS, main\",,infra,scanner,,\n");
	ld_err err;
	ld_inventory *inv = ld_inventory_load(path, &err);
	assert_non_null(inv);
	assert_int_equal(inv->n_desktops, 3);
	ld_addr a, a6, s;
	ld_addr_parse(&a, "10.20.1.50", 10);
	ld_addr_parse(&a6, "fd20::32", 8);
	ld_addr_parse(&s, "10.9.0.5", 8);
	int64_t t9 = ld_time_from_civil(2026, 11, 2, 9, 0, 0, 0);
	int64_t t1002 = ld_time_from_civil(2026, 11, 2, 10, 2, 0, 0);
	int64_t t11 = ld_time_from_civil(2026, 11, 2, 11, 0, 0, 0);
	int64_t da = ld_inventory_lookup(inv, &a, t9), db = ld_inventory_lookup(inv, &a, t11);
	assert_true(da >= 0 && db >= 0 && da != db);
	assert_string_equal(inv->desktops[da].name, "VDI-A");
	assert_string_equal(inv->desktops[db].name, "VDI-B");
	assert_int_equal(ld_inventory_lookup(inv, &a, t1002), -1); /* the gap between holders */
	assert_int_equal(ld_inventory_lookup(inv, &a6, t11), da);  /* v6 address, same desktop */
	int64_t ds = ld_inventory_lookup(inv, &s, t9);
	assert_string_equal(inv->desktops[ds].name, "NESSUS, main");
	assert_int_equal(inv->desktops[ds].role, LD_ROLE_SCANNER);
	ld_inventory_free(inv);
	unlink(path);
}

static void test_inventory_errors(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
		{"ip,name\n10.1.1.1,X\n10.1.1.300,Y\n", ":3: bad ip"},
		{"ip,name,role\n10.1.1.1,X,printer\n", ":2: role"},
		{"ip,name,valid_from\n10.1.1.1,X,yesterday\n", ":2: bad valid_from"},
		{"ip,name,valid_from,valid_to\n10.1.1.1,X,2026-11-02T10:00:00Z,2026-11-02T09:00:00Z\n",
		 ":2: valid_to"},
		{"name,user\nX,alice\n", ":1: header"},
		{"ip,name\n10.1.1.1,\"X\n", ":2: malformed"},
		{"", "empty inventory"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_tmp(bad[i][0]);
		ld_err err;
		ld_inventory *inv = ld_inventory_load(path, &err);
		if (inv)
			fail_msg("case %zu accepted", i);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i][1]);
		assert_non_null(strstr(err.msg, path));
		unlink(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_inventory_windows),
		cmocka_unit_test(test_inventory_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
