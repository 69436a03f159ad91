/* `--where` parser: accepted forms (checked through the canonical, fully parenthesized text),
 * precedence, errors with their column, and the push-down derived from the top-level and. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ld_time.h"

#include "ld_query.h"

#define NOW INT64_C(1793606400000000000) /* 2026-11-02T08:00:00Z */

static void parses_to(const char *text, const char *canonical)
{
	ld_err err = {{0}};
	ld_query_expr *e = ld_query_parse(text, NOW, &err);
	if (!e)
		fail_msg("'%s' rejected: %s", text, err.msg);
	char buf[1024];
	ld_query_format(e, buf, sizeof buf);
	if (strcmp(buf, canonical) != 0)
		fail_msg("'%s' parsed as '%s', expected '%s'", text, buf, canonical);
	ld_query_free(e);
}

static void fails_with(const char *text, const char *msg)
{
	ld_err err = {{0}};
	ld_query_expr *e = ld_query_parse(text, NOW, &err);
	if (e) {
		ld_query_free(e);
		fail_msg("'%s' accepted, expected error '%s'", text, msg);
	}
	if (strncmp(err.msg, msg, strlen(msg)) != 0)
		fail_msg("'%s': error '%s', expected it to start with '%s'", text, err.msg, msg);
}

static void test_comparisons(void **state)
{
	(void)state;
	parses_to("dport = 445", "(dport = 445)");
	parses_to("dport == 445", "(dport = 445)");
	parses_to("dport != 445", "(dport != 445)");
	parses_to("dport < 1024", "(dport <= 1023)");
	parses_to("dport <= 1024", "(dport <= 1024)");
	parses_to("dport > 1024", "(dport >= 1025)");
	parses_to("sport >= 49152", "(sport >= 49152)");
	parses_to("len > 0x40", "(len >= 65)");
	parses_to("proto = tcp", "(proto = 6)");
	parses_to("proto = 47", "(proto = 47)");
	parses_to("action = drop", "(action = 1)");
	parses_to("action in (drop, reject)", "(action in (1, 2))");
	parses_to("dir = in", "(dir = 1)");
	parses_to("dir = out", "(dir = 2)");
	parses_to("flags = S", "(flags = 2)");
	parses_to("flags = SA", "(flags = 18)");
	parses_to("format = nsx", "(format = 1)");
	parses_to("ts >= 2026-11-02T08:00:00Z", "(ts >= 1793606400000000000)");
	parses_to("ts < 2026-11-02T09:00:00+01:00", "(ts <= 1793606399999999999)");
	parses_to("ts >= -1h", "(ts >= 1793602800000000000)");
	parses_to("DPORT = 445 AND PROTO = TCP", "((dport = 445) and (proto = 6))");
}

static void test_addresses_and_strings(void **state)
{
	(void)state;
	parses_to("src = 10.64.3.7", "(src in (10.64.3.7))");
	parses_to("src in 10.64.3.0/24", "(src in (10.64.3.0/24))");
	parses_to("dst in (10.0.0.9, 10.1.0.0/16, fd00::/8, 2001:db8::1)",
		  "(dst in (10.0.0.9, 2001:db8::1, 10.1.0.0/16, fd00::/8))");
	parses_to("src != 10.0.0.1", "(src not in (10.0.0.1))");
	parses_to("src not in (10.0.0.0/8)", "(src not in (10.0.0.0/8))");
	parses_to("host 10.0.0.1", "(host in (10.0.0.1))");
	parses_to("src = \"10.0.0.1\"", "(src in (10.0.0.1))");
	parses_to("src = ::ffff:10.0.0.1", "(src in (10.0.0.1))");
	parses_to("dst in fd00::/8", "(dst in (fd00::/8))");
	parses_to("host = 2001:DB8:0:0:0:0:0:1", "(host in (2001:db8::1))");
	parses_to("host 10.64.0.0/16", "(host in (10.64.0.0/16))");
	parses_to("host in (10.0.0.1, 10.0.0.2)", "(host in (10.0.0.1, 10.0.0.2))");
	parses_to("rule = \"1234\"", "(rule in (\"1234\"))");
	parses_to("reporter = 'esx-01.lab'", "(reporter in (\"esx-01.lab\"))");
	parses_to("vif in (\"a b\", c)", "(vif in (\"a b\", \"c\"))");
	parses_to("rule = \"say \\\"hi\\\"\"", "(rule in (\"say \"hi\"\"))");
}

static void test_precedence(void **state)
{
	(void)state;
	parses_to("dport = 1 or dport = 2 and dport = 3",
		  "((dport = 1) or ((dport = 2) and (dport = 3)))");
	parses_to("dport = 1 and dport = 2 or dport = 3",
		  "(((dport = 1) and (dport = 2)) or (dport = 3))");
	parses_to("not dport = 1 and dport = 2", "((not (dport = 1)) and (dport = 2))");
	parses_to("not (dport = 1 and dport = 2)", "(not ((dport = 1) and (dport = 2)))");
	parses_to("(dport = 1 or dport = 2) and proto = udp",
		  "(((dport = 1) or (dport = 2)) and (proto = 17))");
	parses_to("dport = 1 && !(proto = 6) || dir = in",
		  "(((dport = 1) and (not (proto = 6))) or (dir = 1))");
	parses_to("not not dport = 1", "(not (not (dport = 1)))");
	parses_to("dport=1 and(proto=6)", "((dport = 1) and (proto = 6))");
}

static void test_errors(void **state)
{
	(void)state;
	fails_with("", "at column 1: empty expression");
	fails_with("   ", "at column 4: empty expression");
	fails_with("dport =", "at column 8: expected a value after '='");
	fails_with("dport = 445 and", "at column 16: expected a column");
	fails_with("dport = 445 and and", "at column 17: expected a column");
	fails_with("foo = 1", "at column 1: unknown column 'foo'");
	fails_with("src = 10.0.0.300", "at column 7: '10.0.0.300' is not an IPv4 or IPv6 address");
	fails_with("src in 10.0.0.0/33", "at column 8: '10.0.0.0/33' is not a CIDR prefix");
	fails_with("(dport = 1", "at column 11: expected ')' to close the '(' at column 1");
	fails_with("dport = 70000", "at column 9: '70000' is not a port number");
	fails_with("dport = -1", "at column 9: '-1' is not a port number");
	fails_with("action < drop", "at column 1: 'action' cannot be compared with '<'");
	fails_with("src > 10.0.0.1", "at column 1: 'src' cannot be compared with '>'");
	fails_with("action = dropped", "at column 10: 'dropped' is not an action");
	fails_with("proto = tcpx", "at column 9: 'tcpx' is not a protocol");
	fails_with("flags = SX", "at column 9: 'SX' is not a set of TCP flag letters");
	fails_with("rule = \"abc", "at column 8: unterminated string");
	fails_with("dport 445", "at column 7: expected an operator");
	fails_with("dport = 445 proto = tcp", "at column 13: expected 'and', 'or' or the end");
	fails_with("dport in (1, 2", "at column 15: expected ',' or ')' in the list");
	fails_with("dport in ()", "at column 11: expected a value in the list");
	fails_with("src not 10.0.0.1", "at column 9: expected 'in' after 'src not'");
	fails_with("ts > yesterday", "at column 6: 'yesterday' is not a time");
	fails_with("dport = 1)", "at column 10: expected 'and', 'or' or the end, got ')'");
	fails_with("dport = 1 & proto = 6", "at column 11: expected 'and', 'or' or the end");
	fails_with("dport = \"445\"", "at column 9: expected a number for dport");
	fails_with("src = \"\"", "at column 7: expected an address or prefix for src");
	fails_with("host", "at column 5: expected an operator");
}

static void test_nesting_limit(void **state)
{
	(void)state;
	char buf[2048];
	size_t o = 0;
	for (int i = 0; i < 300; i++)
		buf[o++] = '(';
	memcpy(buf + o, "dport = 1", 9);
	o += 9;
	for (int i = 0; i < 300; i++)
		buf[o++] = ')';
	buf[o] = 0;
	fails_with(buf, "at column 201: expression nested too deeply");
	/* 100 levels are fine. */
	o = 0;
	for (int i = 0; i < 100; i++)
		buf[o++] = '(';
	memcpy(buf + o, "dport = 1", 9);
	o += 9;
	for (int i = 0; i < 100; i++)
		buf[o++] = ')';
	buf[o] = 0;
	ld_err err;
	ld_query_expr *e = ld_query_parse(buf, NOW, &err);
	assert_non_null(e);
	ld_query_free(e);
}

static void test_long_chain(void **state)
{
	(void)state;
	/* Long and/or chains are not nesting: 5000 terms parse, print and free without deep
	 * recursion. */
	size_t cap = 5000 * 24;
	char *buf = malloc(cap);
	assert_non_null(buf);
	size_t o = 0;
	for (int i = 0; i < 5000; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%sdport = %d", i ? (i % 2 ? " or " : " and ") : "", i);
	ld_err err;
	ld_query_expr *e = ld_query_parse(buf, NOW, &err);
	assert_non_null(e);
	assert_int_equal(ld_query_columns(e), LD_COL_DPORT);
	ld_query_free(e);
	free(buf);
}

static ld_scan_spec pushed(const char *text)
{
	/* The defaults ld_scan_spec_init() documents: everything open. */
	ld_scan_spec s;
	memset(&s, 0, sizeof s);
	s.from_ns = INT64_MIN;
	s.to_ns = INT64_MAX;
	s.dport = -1;
	s.proto = -1;
	ld_err err;
	ld_query_expr *e = ld_query_parse(text, NOW, &err);
	assert_non_null(e);
	ld_query_pushdown(e, &s);
	/* hosts point into e: copy what the tests look at before freeing */
	static ld_addr hosts[4];
	for (uint32_t i = 0; i < s.n_hosts && i < 4; i++)
		hosts[i] = s.hosts[i];
	s.hosts = s.n_hosts ? hosts : NULL;
	ld_query_free(e);
	return s;
}

static void test_pushdown(void **state)
{
	(void)state;
	ld_scan_spec s = pushed("dport = 445 and proto = tcp and action in (drop, deny)");
	assert_int_equal(s.dport, 445);
	assert_int_equal(s.proto, 6);
	assert_int_equal(s.action_mask, (1u << 1) | (1u << 3));
	assert_int_equal(s.n_hosts, 0);

	s = pushed("src = 10.0.0.7 and dport = 445");
	assert_int_equal(s.n_hosts, 1);
	assert_int_equal(s.host_side, 1);
	assert_int_equal(ld_addr_v4(&s.hosts[0]), 0x0a000007);

	s = pushed("host 10.0.0.7");
	assert_int_equal(s.n_hosts, 1);
	assert_int_equal(s.host_side, 0);

	s = pushed("(dst in (10.0.0.1, 10.0.0.2) and proto = udp) and ts >= 2026-11-02T08:00:00Z and "
		   "ts < 2026-11-02T09:00:00Z");
	assert_int_equal(s.n_hosts, 2);
	assert_int_equal(s.host_side, 2);
	assert_int_equal(s.proto, 17);
	assert_true(s.from_ns == NOW);
	assert_true(s.to_ns == NOW + INT64_C(3600) * LD_NS_PER_SEC);

	/* Nothing is pushed through or / not / prefixes / negations. */
	s = pushed("dport = 445 or proto = tcp");
	assert_int_equal(s.dport, -1);
	assert_int_equal(s.proto, -1);
	s = pushed("not dport = 445");
	assert_int_equal(s.dport, -1);
	s = pushed("src in 10.0.0.0/8 and dport != 445");
	assert_int_equal(s.n_hosts, 0);
	assert_int_equal(s.dport, -1);
	/* Contradicting actions leave an impossible mask, not "any". */
	s = pushed("action = drop and action = allow");
	assert_int_not_equal(s.action_mask, 0);
	assert_int_equal(s.action_mask & ((1u << 1) | (1u << 4)), 0);
}

static void test_columns(void **state)
{
	(void)state;
	ld_err err;
	ld_query_expr *e = ld_query_parse("host 10.0.0.1 and not (reporter = x or ts < now)", NOW, &err);
	assert_non_null(e);
	assert_int_equal(ld_query_columns(e), LD_COL_SRC | LD_COL_DST | LD_COL_REPORTER | LD_COL_TS);
	ld_query_free(e);
	assert_int_equal(ld_qcol_from_name("REPORTER", 8), LD_QCOL_REPORTER);
	assert_int_equal(ld_qcol_from_name("nope", 4), -1);
	assert_string_equal(ld_qcol_name(LD_QCOL_FLAGS), "flags");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_addresses_and_strings),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_pushdown),
		cmocka_unit_test(test_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
