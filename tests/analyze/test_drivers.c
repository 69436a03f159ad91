/* test_drivers.c — one engine, two drivers: feeding records one by one and scanning them back
 * from a real store (ld_writer → ld_batch_run) give the same alerts at the same event times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "estate_gen.h"
#include "ld_analyze.h"
#include "ld_batch.h"
#include "ld_report.h"
#include "ld_time.h"
#include "ld_writer.h"

typedef struct alerts {
	ld_alert v[512];
	int n;
} alerts;

static void on_alert(void *ctx, const ld_alert *a)
{
	alerts *x = ctx;
	if (x->n < 512)
		x->v[x->n++] = *a;
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

static void test_live_equals_batch(void **state)
{
	(void)state;
	ld_estate_opts o;
	ld_estate_opts_default(&o);
	o.desktops = 80;
	o.seed = 11;
	o.duration_ns = 24 * 3600 * LD_NS_PER_SEC;
	o.scenarios = 1u << LD_SC_WANNACRY | 1u << LD_SC_NMAP_T1 | 1u << LD_SC_CHAIN |
		      1u << LD_SC_DHCP | 1u << LD_SC_IPV6 | 1u << LD_SC_JUMPHOST;
	ld_err err;
	ld_estate *es = ld_estate_generate(&o, &err);
	assert_non_null(es);
	ld_analyze_config *cfg = malloc(sizeof *cfg);
	assert_non_null(cfg);
	ld_analyze_config_default(cfg);
	const ld_inventory *inv = ld_estate_inventory(es);

	/* live: records one at a time, in the canonical event order */
	uint64_t n = ld_estate_count(es);
	ld_event *ev = malloc(n * sizeof *ev);
	assert_non_null(ev);
	for (uint64_t i = 0; i < n; i++) {
		ld_record r;
		ld_estate_record(es, i, &r);
		ld_event_from_record(&ev[i], &r);
	}
	ld_batch_sort(ev, n);
	alerts *live = calloc(1, sizeof *live), *batch = calloc(1, sizeof *batch);
	assert_non_null(live);
	assert_non_null(batch);
	ld_engine *e1 = ld_engine_new(cfg, inv, &err);
	assert_non_null(e1);
	ld_engine_set_alert_fn(e1, on_alert, live);
	for (uint64_t i = 0; i < n; i++)
		ld_engine_feed_event(e1, &ev[i]);
	free(ev);

	/* batch: through a real store, in several segments */
	char dir[] = "/tmp/ld-analyze-drivers-XXXXXX";
	assert_non_null(mkdtemp(dir));
	ld_store_opts so;
	ld_store_opts_default(&so);
	so.segment_rows = 50000;
	ld_writer *w = ld_writer_open(dir, &so, &err);
	assert_non_null(w);
	for (uint64_t i = 0; i < n; i++) {
		ld_record r;
		ld_estate_record(es, i, &r);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
	}
	assert_int_equal(ld_writer_close(w, &err), 0);
	ld_engine *e2 = ld_engine_new(cfg, inv, &err);
	assert_non_null(e2);
	ld_engine_set_alert_fn(e2, on_alert, batch);
	ld_batch_stats bs;
	assert_int_equal(ld_batch_run(e2, dir, INT64_MIN, INT64_MAX, &bs, &err), 0);

	assert_true(live->n >= 8); /* worm, T1, chain ×4, DHCP-A, IPv6 */
	assert_int_equal(live->n, batch->n);
	for (int i = 0; i < live->n; i++) {
		assert_true(live->v[i].ts_ns == batch->v[i].ts_ns);
		assert_int_equal(live->v[i].host, batch->v[i].host);
		assert_int_equal(live->v[i].tier, batch->v[i].tier);
		assert_true(live->v[i].onset_ns == batch->v[i].onset_ns);
	}
	/* and the same ranking */
	ld_report r1, r2;
	assert_int_equal(ld_report_build(e1, &r1, &err), 0);
	assert_int_equal(ld_report_build(e2, &r2, &err), 0);
	assert_int_equal(r1.n, r2.n);
	for (size_t i = 0; i < r1.n; i++) {
		assert_string_equal(r1.s[i].h.name, r2.s[i].h.name);
		assert_true(r1.s[i].h.score == r2.s[i].h.score);
		assert_int_equal(r1.s[i].parent, r2.s[i].parent);
	}
	ld_report_free(&r1);
	ld_report_free(&r2);
	ld_engine_free(e1);
	ld_engine_free(e2);
	free(live);
	free(batch);
	free(cfg);
	ld_estate_free(es);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_equals_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
