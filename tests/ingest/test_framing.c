/* test_framing.c — RFC 6587 octet counting vs non-transparent framing, fed whole and byte by
 * byte, with the miscounted frame of the reference and over-long messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "framing.h"

#define MAXM 16

typedef struct got {
	int n;
	char msg[MAXM][512];
	int status[MAXM];
} got;

static void collect(void *ctx, const char *m, size_t len, int status)
{
	got *g = ctx;
	if (g->n >= MAXM)
		fail_msg("too many messages");
	size_t k = len < 511 ? len : 511;
	memcpy(g->msg[g->n], m, k);
	g->msg[g->n][k] = 0;
	g->status[g->n] = status;
	g->n++;
}

/* Runs the stream in chunks of `step` bytes (0 = all at once). */
static ld_framer *run(const char *s, size_t n, size_t step, size_t max, got *g)
{
	memset(g, 0, sizeof *g);
	ld_framer *f = ld_framer_new(max);
	assert_non_null(f);
	if (step == 0)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		char *exact = malloc(k);
		memcpy(exact, s + i, k);
		ld_framer_feed(f, exact, k, collect, g);
		free(exact);
	}
	ld_framer_finish(f, collect, g);
	return f;
}

static const char M1[] = "<13>1 2026-05-04T08:14:25.001Z esx05 FIREWALL-PKTLOG - - - INET match DROP "
			 "5096 OUT 60 TCP 10.40.2.11/60517->10.40.2.10/445 S";
static const char M2[] = "<13>1 2026-05-04T08:14:25.002Z esx05 FIREWALL-PKTLOG - - - INET match DROP "
			 "5096 OUT 60 TCP 10.40.2.11/60518->10.40.2.12/445 S";

static void test_octet_counting(void **state)
{
	(void)state;
	/* the reference sample: both counts are 125, frames back to back without LF */
	assert_int_equal(strlen(M1), 125);
	char s[512];
	int n = snprintf(s, sizeof s, "125 %s125 %s", M1, M2);
	size_t steps[] = {0, 1, 3, 7, 64};
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		got g;
		ld_framer *f = run(s, (size_t)n, steps[k], 65536, &g);
		assert_int_equal(g.n, 2);
		assert_string_equal(g.msg[0], M1);
		assert_string_equal(g.msg[1], M2);
		assert_int_equal(ld_framer_errors(f), 0);
		assert_int_equal(ld_framer_messages(f), 2);
		ld_framer_free(f);
	}
}

static void test_non_transparent(void **state)
{
	(void)state;
	char s[512];
	/* LF, CRLF and NUL terminators; the last message has none (delivered at finish) */
	int n = snprintf(s, sizeof s, "%s\n%s\r\n%s", M1, M2, M1);
	s[n++] = 0;
	memcpy(s + n, "2026-05-04T08:12:01.101Z b6507827 INET match", 44);
	n += 44;
	size_t steps[] = {0, 1, 5};
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		got g;
		ld_framer *f = run(s, (size_t)n, steps[k], 65536, &g);
		assert_int_equal(g.n, 4);
		assert_string_equal(g.msg[0], M1);
		assert_string_equal(g.msg[1], M2);
		assert_string_equal(g.msg[2], M1);
		/* a line starting with digits is not mistaken for an octet count */
		assert_string_equal(g.msg[3], "2026-05-04T08:12:01.101Z b6507827 INET match");
		assert_int_equal(ld_framer_errors(f), 0);
		ld_framer_free(f);
	}
}

static void test_digits_space_not_count(void **state)
{
	(void)state;
	/* "0 0 PVEFW..." and "12 apples" start with digits and a space but no '<' follows */
	const char s[] = "0 0 PVEFW-HOST-IN x\n12 apples\n";
	got g;
	ld_framer *f = run(s, sizeof s - 1, 1, 65536, &g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.msg[0], "0 0 PVEFW-HOST-IN x");
	assert_string_equal(g.msg[1], "12 apples");
	ld_framer_free(f);
}

static void test_miscounted_frame_resyncs(void **state)
{
	(void)state;
	/* declared 200, only 125 bytes belong to the message: the count swallows the head of the
	 * next frame; the rest is dropped as a framing error up to the next frame start */
	char s[1024];
	int n = snprintf(s, sizeof s, "200 %s125 %s125 %s", M1, M2, M1);
	size_t steps[] = {0, 1};
	for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
		got g;
		ld_framer *f = run(s, (size_t)n, steps[k], 65536, &g);
		assert_true(ld_framer_errors(f) >= 1);
		/* the frame after the damage comes through intact */
		assert_true(g.n >= 2);
		assert_string_equal(g.msg[g.n - 1], M1);
		assert_int_equal(strncmp(g.msg[0], M1, 125), 0);
		ld_framer_free(f);
	}
}

static void test_miscount_then_lf(void **state)
{
	(void)state;
	char s[1024];
	int n = snprintf(s, sizeof s, "200 %s\n%s\n", M1, M2);
	got g;
	ld_framer *f = run(s, (size_t)n, 0, 65536, &g);
	/* 200 bytes = M1 + LF + start of M2; the remainder of M2 up to its LF is dropped */
	assert_int_equal(g.n, 1);
	assert_int_equal(ld_framer_errors(f), 1);
	ld_framer_free(f);
}

static void test_too_long(void **state)
{
	(void)state;
	char s[600];
	memset(s, 'a', 300);
	s[300] = '\n';
	memcpy(s + 301, "short\n", 6);
	got g;
	ld_framer *f = run(s, 307, 1, 100, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.status[0], LD_FRAME_TOO_LONG);
	assert_int_equal(strlen(g.msg[0]), 100);
	assert_int_equal(g.status[1], LD_FRAME_OK);
	assert_string_equal(g.msg[1], "short");
	ld_framer_free(f);
	/* an octet count above the maximum is not taken as a count */
	int n = snprintf(s, sizeof s, "999 <13>x\n");
	f = run(s, (size_t)n, 0, 100, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.msg[0], "999 <13>x");
	ld_framer_free(f);
}

static void test_truncated_octet_frame(void **state)
{
	(void)state;
	const char s[] = "125 <13>1 2026-05-04T08:14:25";
	got g;
	ld_framer *f = run(s, sizeof s - 1, 0, 65536, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(ld_framer_errors(f), 1);
	ld_framer_free(f);
}

static void test_mode(void **state)
{
	(void)state;
	ld_framer *f = ld_framer_new(0);
	got g;
	memset(&g, 0, sizeof g);
	ld_framer_feed(f, "12 <13>abc", 10, collect, &g);
	assert_int_equal(ld_framer_mode(f), LD_FRAMING_OCTET);
	ld_framer_feed(f, "defgh<14>x\n", 11, collect, &g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.msg[0], "<13>abcdefgh");
	assert_string_equal(g.msg[1], "<14>x");
	ld_framer_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_octet_counting),
		cmocka_unit_test(test_non_transparent),
		cmocka_unit_test(test_digits_space_not_count),
		cmocka_unit_test(test_miscounted_frame_resyncs),
		cmocka_unit_test(test_miscount_then_lf),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_truncated_octet_frame),
		cmocka_unit_test(test_mode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
