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
#include "ld_reorder.h"
#include "ld_time.h"
#include "ld_writer.h"

typedef struct arrival {
	int64_t key;
	uint64_t i;
} arrival;

static int arrival_cmp(const void *a, const void *b)
{
	const arrival *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

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
	/* live with arrival disorder: each ESXi host's stream runs up to 50 s late; a 60 s reorder
	 * buffer gives the engine the sorted sequence again */
	arrival *arr = malloc(n * sizeof *arr);
	assert_non_null(arr);
	for (uint64_t i = 0; i < n; i++) {
		ld_record r;
		ld_estate_record(es, i, &r);
		uint32_t h = 0;
		for (uint32_t k = 0; k < r.reporter.len; k++)
			h = h * 31 + (uint8_t)r.reporter.ptr[k];
		arr[i].key = r.ts_ns + (int64_t)(h % 51) * LD_NS_PER_SEC;
		arr[i].i = i;
	}
	qsort(arr, n, sizeof *arr, arrival_cmp);
	alerts *jit = calloc(1, sizeof *jit);
	assert_non_null(jit);
	ld_engine *e3 = ld_engine_new(cfg, inv, &err);
	assert_non_null(e3);
	ld_engine_set_alert_fn(e3, on_alert, jit);
	ld_reorder *ro = ld_reorder_new(e3, 60 * LD_NS_PER_SEC, 1u << 20);
	assert_non_null(ro);
	uint64_t disorder = 0;
	int64_t newest = INT64_MIN;
	for (uint64_t k = 0; k < n; k++) {
		ld_record r;
		ld_estate_record(es, arr[k].i, &r);
		if (r.ts_ns < newest)
			disorder++;
		else
			newest = r.ts_ns;
		ld_reorder_push(ro, &r);
	}
	ld_reorder_flush(ro);
	assert_true(disorder > 1000); /* the arrival order really was shuffled */
	assert_int_equal(ld_reorder_late(ro), 0);
	assert_int_equal(jit->n, live->n);
	for (int i = 0; i < live->n; i++) {
		assert_true(live->v[i].ts_ns == jit->v[i].ts_ns);
		assert_int_equal(live->v[i].tier, jit->v[i].tier);
		assert_true(live->v[i].onset_ns == jit->v[i].onset_ns);
	}
	ld_reorder_free(ro);
	ld_engine_free(e3);
	free(jit);
	free(arr);

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

/* Batch scoring over one store laid out three ways: many one-block segments, segments of
 * several blocks (dictionaries shared by the blocks of a segment), and rows still only in the
 * journal of an open writer.  All three give the same alerts and the same counts. */
static void run_layout(const ld_estate *es, const ld_analyze_config *cfg, uint32_t segment_rows,
		       bool leave_in_journal, alerts *out, ld_engine_stats *st)
{
	ld_err err;
	char dir[] = "/tmp/ld-analyze-layout-XXXXXX";
	assert_non_null(mkdtemp(dir));
	ld_store_opts so;
	ld_store_opts_default(&so);
	so.segment_rows = segment_rows;
	ld_writer *w = ld_writer_open(dir, &so, &err);
	assert_non_null(w);
	uint64_t n = ld_estate_count(es);
	for (uint64_t i = 0; i < n; i++) {
		ld_record r;
		ld_estate_record(es, i, &r);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
	}
	if (leave_in_journal)
		assert_int_equal(ld_writer_sync(w, &err), 0);
	else
		assert_int_equal(ld_writer_close(w, &err), 0);
	ld_engine *e = ld_engine_new(cfg, ld_estate_inventory(es), &err);
	assert_non_null(e);
	ld_engine_set_alert_fn(e, on_alert, out);
	ld_batch_stats bs;
	assert_int_equal(ld_batch_run(e, dir, INT64_MIN, INT64_MAX, &bs, &err), 0);
	assert_int_equal(bs.rows, n);
	ld_engine_stats_get(e, st);
	ld_engine_free(e);
	if (leave_in_journal)
		assert_int_equal(ld_writer_close(w, &err), 0);
	rm_rf(dir);
}

static void test_batch_store_layouts(void **state)
{
	(void)state;
	ld_estate_opts o;
	ld_estate_opts_default(&o);
	o.desktops = 320;
	o.seed = 5;
	o.duration_ns = 24 * 3600 * LD_NS_PER_SEC;
	o.scenarios = 1u << LD_SC_WANNACRY | 1u << LD_SC_NMAP_T1 | 1u << LD_SC_DHCP;
	ld_err err;
	ld_estate *es = ld_estate_generate(&o, &err);
	assert_non_null(es);
	/* more rows than two blocks, so a segment of the second layout has several */
	assert_true(ld_estate_count(es) > 2 * 65536);
	ld_analyze_config *cfg = malloc(sizeof *cfg);
	assert_non_null(cfg);
	ld_analyze_config_default(cfg);
	alerts *a[3];
	ld_engine_stats st[3];
	const uint32_t seg_rows[3] = {40000, 4000000, 4000000};
	for (int k = 0; k < 3; k++) {
		a[k] = calloc(1, sizeof *a[k]);
		assert_non_null(a[k]);
		run_layout(es, cfg, seg_rows[k], k == 2, a[k], &st[k]);
	}
	assert_true(a[0]->n >= 2); /* the worm and the T1 scan */
	for (int k = 1; k < 3; k++) {
		assert_int_equal(a[k]->n, a[0]->n);
		for (int i = 0; i < a[0]->n; i++) {
			assert_true(a[k]->v[i].ts_ns == a[0]->v[i].ts_ns);
			assert_int_equal(a[k]->v[i].host, a[0]->v[i].host);
			assert_int_equal(a[k]->v[i].tier, a[0]->v[i].tier);
		}
		assert_int_equal(st[k].records, st[0].records);
		assert_int_equal(st[k].east_west, st[0].east_west);
		assert_int_equal(st[k].noise, st[0].noise);
		assert_int_equal(st[k].attempts, st[0].attempts);
		assert_int_equal(st[k].scored, st[0].scored);
		assert_int_equal(st[k].hosts, st[0].hosts);
	}
	for (int k = 0; k < 3; k++)
		free(a[k]);
	free(cfg);
	ld_estate_free(es);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_equals_batch),
		cmocka_unit_test(test_batch_store_layouts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
