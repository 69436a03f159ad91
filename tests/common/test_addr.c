/* Address parsing and RFC 5952 formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ld_record.h"

static void roundtrip(const char *in, const char *canonical)
{
	ld_addr a;
	char buf[LD_ADDR_STRLEN];
	assert_true(ld_addr_parse(&a, in, strlen(in)));
	ld_addr_format(&a, buf);
	assert_string_equal(buf, canonical);
}

static void test_v4(void **state)
{
	(void)state;
	roundtrip("10.20.4.3", "10.20.4.3");
	roundtrip("0.0.0.0", "0.0.0.0");
	roundtrip("255.255.255.255", "255.255.255.255");
	ld_addr a;
	assert_true(ld_addr_parse(&a, "10.1.2.3", 8));
	assert_true(ld_addr_is_v4(&a));
	assert_int_equal(ld_addr_v4(&a), 0x0a010203);
}

static void test_v4_rejects(void **state)
{
	(void)state;
	static const char *bad[] = {"", "10.1.2", "10.1.2.3.4", "256.1.1.1", "10.1.2.", "10..2.3",
				    "10.1.2.3a", "010.1.2.3", "1.2.3.4444", " 1.2.3.4", "a.b.c.d"};
	ld_addr a;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(ld_addr_parse(&a, bad[i], strlen(bad[i])));
}

static void test_v6_forms(void **state)
{
	(void)state;
	roundtrip("fe80:0:0:0:68c2:8472:2364:9be", "fe80::68c2:8472:2364:9be");
	roundtrip("fe80:0000:0000:0000:0084:88ff:feae:790a", "fe80::84:88ff:feae:790a");
	roundtrip("ff02:0:0:0:0:0:1:2", "ff02::1:2");
	roundtrip("::", "::");
	roundtrip("::1", "::1");
	roundtrip("2001:DB8::1", "2001:db8::1");
	/* RFC 5952 4.2.2: a single zero group is not compressed. */
	roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	/* 4.2.3: first of equal runs. */
	roundtrip("2001:0:0:1:0:0:0:1", "2001:0:0:1::1");
	roundtrip("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");
	roundtrip("1::", "1::");
	/* Embedded IPv4 that is not v4-mapped stays in hex. */
	roundtrip("64:ff9b::10.1.2.3", "64:ff9b::a01:203");
	/* v4-mapped text becomes the IPv4 form (one identity for both spellings). */
	roundtrip("::ffff:10.1.2.3", "10.1.2.3");
}

static void test_v6_rejects(void **state)
{
	(void)state;
	static const char *bad[] = {":", ":::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1::2::3",
				    "12345::", "1:2:3:4:5:6:7:", "g::1", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4"};
	ld_addr a;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(ld_addr_parse(&a, bad[i], strlen(bad[i])));
}

static void test_prefix(void **state)
{
	(void)state;
	ld_prefix p;
	ld_addr a;
	assert_true(ld_prefix_parse(&p, "10.64.3.0/24", 12));
	assert_true(ld_addr_parse(&a, "10.64.3.77", 10));
	assert_true(ld_prefix_contains(&p, &a));
	assert_true(ld_addr_parse(&a, "10.64.4.1", 9));
	assert_false(ld_prefix_contains(&p, &a));
	assert_true(ld_prefix_parse(&p, "172.16.0.0/12", 13));
	assert_true(ld_addr_parse(&a, "172.31.255.255", 14));
	assert_true(ld_prefix_contains(&p, &a));
	assert_true(ld_addr_parse(&a, "172.32.0.0", 10));
	assert_false(ld_prefix_contains(&p, &a));
	assert_true(ld_prefix_parse(&p, "fc00::/7", 8));
	assert_true(ld_addr_parse(&a, "fd12:3456::1", 12));
	assert_true(ld_prefix_contains(&p, &a));
	assert_true(ld_addr_parse(&a, "10.0.0.1", 8));
	assert_false(ld_prefix_contains(&p, &a));
	/* Host bits set in the prefix text are cleared. */
	assert_true(ld_prefix_parse(&p, "10.1.2.3/8", 10));
	assert_true(ld_addr_parse(&a, "10.200.0.1", 10));
	assert_true(ld_prefix_contains(&p, &a));
	/* A bare address is a host prefix. */
	assert_true(ld_prefix_parse(&p, "10.1.2.3", 8));
	assert_int_equal(p.bits, 128);
	assert_false(ld_prefix_parse(&p, "10.0.0.0/33", 11));
	assert_false(ld_prefix_parse(&p, "10.0.0.0/", 9));
	assert_false(ld_prefix_parse(&p, "::/129", 6));
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(ld_proto_from_name("TCP", 3), 6);
	assert_int_equal(ld_proto_from_name("icmpv6", 6), 58);
	assert_int_equal(ld_proto_from_name("47", 2), 47);
	assert_int_equal(ld_proto_from_name("256", 3), -1);
	assert_int_equal(ld_action_from_name("DROP", 4), LD_ACTION_DROP);
	assert_int_equal(ld_format_from_name("winfw", 5), LD_FMT_WINFW);
	assert_string_equal(ld_format_name(LD_FMT_PANOS), "panos");
	char f[9];
	assert_int_equal(ld_tcp_flags_format(LD_TCP_SYN | LD_TCP_ACK, f), 2);
	assert_string_equal(f, "SA");
	assert_int_equal(ld_tcp_flags_parse("SEW", 3), LD_TCP_SYN | LD_TCP_ECE | LD_TCP_CWR);
	assert_int_equal(ld_tcp_flags_parse("SX", 2), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),	  cmocka_unit_test(test_v4_rejects),
		cmocka_unit_test(test_v6_forms), cmocka_unit_test(test_v6_rejects),
		cmocka_unit_test(test_prefix),	  cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
