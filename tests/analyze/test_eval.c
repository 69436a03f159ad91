/* test_eval.c — the scenario suite at CI size (300 desktops, one day): logdrop must meet the
 * targets on every attack scenario and beat every anchor rule on the combined score. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval_harness.h"
#include "ld_time.h"

static eval_result *res;

static int setup(void **state)
{
	(void)state;
	ld_estate_opts o;
	ld_estate_opts_default(&o);
	o.desktops = 300;
	o.seed = 7;
	o.scenarios = LD_SC_ALL;
	ld_analyze_config *cfg = malloc(sizeof *cfg);
	res = malloc(sizeof *res);
	if (!cfg || !res)
		return -1;
	ld_analyze_config_default(cfg);
	ld_err err;
	int rc = eval_run(&o, cfg, res, &err);
	free(cfg);
	if (rc != 0) {
		fprintf(stderr, "eval_run: %s\n", err.msg);
		return -1;
	}
	eval_print(stdout, res);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	eval_free(res);
	free(res);
	return 0;
}

static const eval_hit *logdrop_hit(unsigned scenario, unsigned nth)
{
	unsigned k = 0;
	for (size_t t = 0; t < res->n_truth; t++)
		if (res->truth[t].scenario == scenario && res->truth[t].infected && k++ == nth)
			return &res->hit[0][t];
	fail_msg("scenario S%02u row %u not generated", scenario, nth);
	return NULL;
}

static void test_recall_every_scenario(void **state)
{
	(void)state;
	unsigned expected = 0;
	for (size_t t = 0; t < res->n_truth; t++) {
		const ld_truth *tr = &res->truth[t];
		if (!tr->expect_alert)
			continue;
		expected++;
		if (!res->hit[0][t].alerted)
			fail_msg("S%02u %s not detected", tr->scenario, tr->name);
	}
	assert_true(expected >= 17);
	assert_true(res->recall[0] == 1.0);
}

static void test_false_alerts(void **state)
{
	(void)state;
	/* ≤ 0.1 per 1000 desktops per day: at 300 desktops for a day that is none at all */
	assert_int_equal(res->fp_hosts[0], 0);
	assert_true(res->fp_rate[0] <= 0.1);
	assert_true(res->dhcp_b_clean);
}

static void test_speed_targets(void **state)
{
	(void)state;
	const eval_hit *worm = logdrop_hit(LD_SC_WANNACRY, 0);
	assert_true(worm->attempts <= 5 && worm->seconds <= 10);
	const eval_hit *t1 = logdrop_hit(LD_SC_NMAP_T1, 0);
	assert_true(t1->seconds <= 180);
	const eval_hit *per_min = logdrop_hit(LD_SC_STEALTH, 0);
	assert_true(per_min->seconds <= 15 * 60 && per_min->attempts <= 15);
	const eval_hit *t0 = logdrop_hit(LD_SC_STEALTH, 1);
	assert_true(t0->seconds <= 90 * 60);
	const eval_hit *nmap = logdrop_hit(LD_SC_NMAP_T4, 0);
	assert_true(nmap->seconds <= 5);
	for (unsigned k = 0; k < 4; k++)
		assert_true(logdrop_hit(LD_SC_CHAIN, k)->seconds <= 10);
}

static void test_floor_documented(void **state)
{
	(void)state;
	/* manual lateral movement to 3 desktops is the documented floor: no alert expected */
	for (size_t t = 0; t < res->n_truth; t++)
		if (res->truth[t].floor)
			assert_false(res->truth[t].expect_alert);
}

static void test_spread_order(void **state)
{
	(void)state;
	assert_true(res->parents_total == 2);
	assert_int_equal(res->parents_right, res->parents_total);
	assert_true(res->patient_zero_top1);
	assert_true(res->patient_zeros_found);
	/* independent infections are rarely linked to an earlier scanner by mistake */
	assert_true(res->spurious_parents * 4 <= res->independent);
}

static void test_better_than_anchors(void **state)
{
	(void)state;
	for (int d = 1; d < EVAL_DET; d++)
		if (!(res->combined[0] > res->combined[d]))
			fail_msg("%s combined %.1f >= logdrop %.1f", eval_det_name(d), res->combined[d],
				 res->combined[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recall_every_scenario),
		cmocka_unit_test(test_false_alerts),
		cmocka_unit_test(test_speed_targets),
		cmocka_unit_test(test_floor_documented),
		cmocka_unit_test(test_spread_order),
		cmocka_unit_test(test_better_than_anchors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
