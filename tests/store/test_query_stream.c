/* The time-ordered record stream: overlapping segments of one day (several writer sessions,
 * small seals), other days, and unordered rows still in the journal come out exactly in
 * (time, source name, stored order) order — checked against a full scan sorted afterwards —
 * with --where and a time window applied, only the sources covering the current time open,
 * an early stop that leaves later sources unopened, and a damaged segment reported and
 * skipped while every other row still comes out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ld_query.h"
#include "ld_scan.h"
#include "ld_scan_cursor.h"
#include "ld_time.h"
#include "ld_writer.h"

#define T0 INT64_C(1793577600000000000) /* 2026-11-02T00:00:00Z */
#define DAY (INT64_C(86400) * LD_NS_PER_SEC)
#define SESSIONS 3
#define PER_SESSION 5000
#define NEXT_DAY 3000
#define JOURNAL 2500
#define N_ALL (SESSIONS * PER_SESSION + NEXT_DAY + JOURNAL)

static char dir[] = "/tmp/test_query_stream.XXXXXX";
static char store[600];
static ld_writer *live; /* keeps the journal rows unsealed */

static uint64_t rs = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)((rs >> 7) % n);
}

/* Record id in len (unique); coarse times (whole seconds over a few hours) so that rows of
 * different sessions tie often. */
static void make(ld_record *r, uint32_t id, int64_t ts)
{
	memset(r, 0, sizeof *r);
	r->ts_ns = ts;
	ld_addr_from_v4(&r->src, 0x0a000000u + rnd(50));
	ld_addr_from_v4(&r->dst, 0x0a010000u + rnd(50));
	r->sport = (uint16_t)(1024 + rnd(60000));
	r->dport = rnd(3) ? 445 : 137;
	r->proto = 6;
	r->len = id;
	r->present = LD_RF_PORTS | LD_RF_LEN;
	r->rule = ld_str_c("r1");
	r->reporter = ld_str_c(id % 2 ? "esx-1" : "esx-2");
	r->vif = ld_str_c("");
}

static int write_session(uint32_t *id, int n, int64_t t0, int64_t span_s, bool close)
{
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.segment_rows = 1200; /* several overlapping seals per session */
	ld_err err;
	ld_writer *w = ld_writer_open(store, &o, &err);
	if (!w)
		return -1;
	for (int i = 0; i < n; i++) {
		ld_record r;
		make(&r, (*id)++, t0 + (int64_t)rnd((uint32_t)span_s) * LD_NS_PER_SEC);
		if (ld_writer_append(w, &r, &err) != 0)
			return -1;
	}
	if (!close) {
		live = w;
		return ld_writer_sync(w, &err);
	}
	return ld_writer_close(w, &err);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(store, sizeof store, "%s/store", dir);
	uint32_t id = 1;
	for (int s = 0; s < SESSIONS; s++)
		if (write_session(&id, PER_SESSION, T0, 4 * 3600, true) != 0)
			return -1;
	if (write_session(&id, NEXT_DAY, T0 + DAY, 3600, true) != 0)
		return -1;
	/* unsealed: spans both days, appended in random time order */
	return write_session(&id, JOURNAL, T0, 2 * 86400, false);
}

static int teardown(void **state)
{
	(void)state;
	ld_err err;
	if (live)
		ld_writer_close(live, &err);
	char cmd[700];
	snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- reference: every matching row from a full scan, sorted by (ts, source name, position) --- */

typedef struct ref_row {
	int64_t ts;
	char seg[96];
	uint64_t pos; /* order within its source */
	uint32_t id;
} ref_row;

typedef struct ref {
	ref_row *rows;
	size_t n, cap;
	ld_query_eval *ev;
	uint32_t sel[65536];
	char last_seg[96];
	uint64_t pos;
} ref;

static int ref_block(void *ctx, int thread, const ld_block *b)
{
	(void)thread;
	ref *r = ctx;
	if (strcmp(r->last_seg, b->segment) != 0) {
		snprintf(r->last_seg, sizeof r->last_seg, "%s", b->segment);
		r->pos = 0;
	}
	uint32_t k = ld_query_eval_block(r->ev, b, r->sel);
	for (uint32_t j = 0; j < k; j++) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 4096;
			r->rows = realloc(r->rows, r->cap * sizeof *r->rows);
			if (!r->rows)
				return 1;
		}
		ref_row *o = &r->rows[r->n++];
		o->ts = b->ts[r->sel[j]];
		snprintf(o->seg, sizeof o->seg, "%s", b->segment);
		o->pos = r->pos + r->sel[j];
		o->id = b->len[r->sel[j]];
	}
	r->pos += b->n;
	return 0;
}

static int cmp_ref(const void *x, const void *y)
{
	const ref_row *a = x, *b = y;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	int c = strcmp(a->seg, b->seg);
	if (c)
		return c;
	return (a->pos > b->pos) - (a->pos < b->pos);
}

static void reference(const ld_query_expr *e, const ld_scan_spec *spec, ref *r)
{
	memset(r, 0, sizeof *r);
	ld_err err;
	ld_archive *a = ld_archive_open(store, &err);
	assert_non_null(a);
	r->ev = ld_query_eval_new(e, spec->from_ns, spec->to_ns);
	assert_non_null(r->ev);
	ld_scan_spec s = *spec;
	s.threads = 1; /* blocks of one segment arrive together, in order */
	s.columns = LD_COL_ALL & ~LD_COL_RAW;
	assert_int_equal(ld_scan(a, &s, ref_block, r, NULL, &err), 0);
	qsort(r->rows, r->n, sizeof *r->rows, cmp_ref);
	ld_query_eval_free(r->ev);
	ld_archive_close(a);
}

static void damage_count(void *ctx, const char *segment, const char *why)
{
	(void)segment;
	(void)why;
	(*(int *)ctx)++;
}

/* Streams everything matching and checks it against the reference, row by row. */
static void check_stream(const char *where, int64_t from, int64_t to)
{
	ld_err err;
	ld_query_expr *e = NULL;
	if (where) {
		e = ld_query_parse(where, T0, &err);
		assert_non_null(e);
	}
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.from_ns = from;
	spec.to_ns = to;
	ld_query_pushdown(e, &spec);
	spec.columns = LD_COL_ALL & ~LD_COL_RAW;
	spec.on_damage = damage_count;
	ref r;
	reference(e, &spec, &r);
	assert_true(r.n > 0);
	int damaged = 0;
	ld_query_stream *s = ld_query_stream_open(store, e, &spec, &damaged, &err);
	assert_non_null(s);
	const ld_block *b;
	uint32_t row;
	size_t n = 0;
	int rc;
	while ((rc = ld_query_stream_next(s, &b, &row, &err)) == 1) {
		assert_true(n < r.n);
		assert_int_equal(b->ts[row], r.rows[n].ts);
		assert_string_equal(b->segment, r.rows[n].seg);
		assert_int_equal(b->len[row], r.rows[n].id);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, r.n);
	assert_int_equal(damaged, 0);
	ld_query_stream_stats st;
	ld_query_stream_get_stats(s, &st);
	assert_int_equal(st.rows_out, r.n);
	assert_int_equal(st.unordered_sources, 0);
	/* the journal spans both days, so at most it plus one day's overlapping seals are open */
	assert_true(st.max_open < st.sources_total);
	ld_query_stream_close(s);
	free(r.rows);
	ld_query_free(e);
}

static void test_whole_store_in_order(void **state)
{
	(void)state;
	check_stream(NULL, INT64_MIN, INT64_MAX);
}

static void test_where_and_window(void **state)
{
	(void)state;
	check_stream("dport = 445 and src in 10.0.0.0/28", INT64_MIN, INT64_MAX);
	check_stream("dport = 137 or reporter = \"esx-1\"", T0 + 3600 * LD_NS_PER_SEC, T0 + DAY + 1800 * LD_NS_PER_SEC);
	check_stream(NULL, T0 + DAY, INT64_MAX); /* the second day: the first day's segments stay closed */
}

static void test_sources_and_cursor(void **state)
{
	(void)state;
	ld_err err;
	ld_scan_sources *s = ld_scan_sources_open(store, &err);
	assert_non_null(s);
	size_t n = ld_scan_sources_count(s);
	assert_true(n > 5);
	uint64_t rows = 0;
	int journals = 0;
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	for (size_t i = 0; i < n; i++) {
		const ld_scan_source *src = ld_scan_sources_get(s, i);
		if (i)
			assert_true(ld_scan_sources_get(s, i - 1)->min_ns <= src->min_ns);
		journals += src->journal;
		ld_scan_cursor *c = ld_scan_cursor_open(s, i, &spec, NULL, &err);
		assert_non_null(c);
		ld_block b;
		int64_t last = INT64_MIN;
		uint64_t got = 0;
		int rc;
		while ((rc = ld_scan_cursor_next(c, &b, &err)) == 1) {
			for (uint32_t k = 0; k < b.n; k++) {
				assert_true(b.ts[k] >= last); /* journal rows too: sorted on open */
				assert_true(b.ts[k] >= src->min_ns && b.ts[k] <= src->max_ns);
				last = b.ts[k];
			}
			got += b.n;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(got, src->rows);
		rows += got;
		ld_scan_cursor_close(c);
	}
	assert_int_equal(journals, 1);
	assert_int_equal(rows, N_ALL);
	ld_scan_sources_close(s);
}

static void test_early_stop(void **state)
{
	(void)state;
	ld_err err;
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	ld_query_stream *s = ld_query_stream_open(store, NULL, &spec, NULL, &err);
	assert_non_null(s);
	const ld_block *b;
	uint32_t row;
	for (int i = 0; i < 10; i++)
		assert_int_equal(ld_query_stream_next(s, &b, &row, &err), 1);
	ld_query_stream_stats st;
	ld_query_stream_get_stats(s, &st);
	/* the first ten rows need only the sources starting in the first hours, not day two */
	assert_true(st.sources_opened > 0 && st.sources_opened < st.sources_total);
	assert_true(st.rows_scanned < N_ALL / 2);
	ld_query_stream_close(s);
}

static void test_damaged_segment(void **state)
{
	(void)state;
	/* damage a block of the first segment of day two: reported, skipped, the rest intact */
	char cmd[1024], path[1024] = "";
	snprintf(cmd, sizeof cmd, "find '%s/segments/2026-11-03' -type f | sort | head -1", store);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(path, sizeof path, p))
		path[0] = 0;
	pclose(p);
	path[strcspn(path, "\n")] = 0;
	assert_true(path[0] != 0);
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	fseek(f, 200, SEEK_SET);
	int c = fgetc(f);
	fseek(f, 200, SEEK_SET);
	fputc(c ^ 0x5a, f);
	fclose(f);
	ld_err err;
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.columns = LD_COL_ALL & ~LD_COL_RAW;
	spec.on_damage = damage_count;
	int damaged = 0;
	ld_query_stream *s = ld_query_stream_open(store, NULL, &spec, &damaged, &err);
	assert_non_null(s);
	const ld_block *b;
	uint32_t row;
	uint64_t n = 0;
	int64_t last = INT64_MIN;
	int rc;
	while ((rc = ld_query_stream_next(s, &b, &row, &err)) == 1) {
		assert_true(b->ts[row] >= last);
		last = b->ts[row];
		n++;
	}
	assert_int_equal(rc, 0);
	assert_true(damaged >= 1);
	/* one 1200-row block at most is lost */
	assert_true(n < N_ALL && n >= N_ALL - 1200);
	ld_query_stream_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_store_in_order),
		cmocka_unit_test(test_where_and_window),
		cmocka_unit_test(test_sources_and_cursor),
		cmocka_unit_test(test_early_stop),
		cmocka_unit_test(test_damaged_segment),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
