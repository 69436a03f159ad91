/* Round trip: generated records (every column, IPv4 and IPv6, with and without raw lines) are
 * written, sealed into day-partitioned segments, scanned back in parallel and compared field by
 * field; unsealed journal rows are visible to a read-only open; push-down and pruning agree with
 * a brute-force filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "direct_io.h"
#include "ld_archive.h"
#include "ld_scan.h"
#include "ld_writer.h"
#include "store_testutil.h"

static void write_rows(const char *dir, uint64_t seed, uint64_t n, const ld_store_opts *o,
		       bool close_writer)
{
	ld_err err;
	ld_writer *w = ld_writer_open(dir, o, &err);
	assert_non_null(w);
	tg_bufs bufs;
	for (uint64_t i = 0; i < n; i++) {
		/* neighbours swapped now and then: the writer must put rows back in time order */
		uint64_t id = (i % 16 == 3 && i + 1 < n) ? i + 1 : (i % 16 == 4 ? i - 1 : i);
		ld_record r;
		tg_record(seed, id, o->keep_raw, &r, &bufs);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
	}
	assert_int_equal(ld_writer_appended(w), n);
	if (close_writer) {
		assert_int_equal(ld_writer_close(w, &err), 0);
	} else {
		assert_int_equal(ld_writer_sync(w, &err), 0);
		assert_int_equal(ld_writer_durable(w), n);
		/* leaked on purpose until the caller's process ends?  No: close after the check */
		ld_writer_close(w, &err);
	}
}

static void check_all(const char *dir, uint64_t seed, uint64_t n, bool want_raw, int threads)
{
	ld_err err;
	ld_archive *a = ld_archive_open(dir, &err);
	assert_non_null(a);
	assert_int_equal(ld_archive_rows(a), n);
	tu_check c;
	tu_check_init(&c, seed, want_raw, n);
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.threads = threads;
	spec.on_damage = tu_on_damage;
	ld_scan_stats st;
	assert_int_equal(ld_scan(a, &spec, tu_check_block, &c, &st, &err), 0);
	assert_int_equal(c.rows, n);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(c.out_of_range, 0);
	assert_int_equal(c.damaged, 0);
	for (uint64_t i = 0; i < n; i++)
		if (c.seen[i] != 1)
			fail_msg("row %llu seen %u times", (unsigned long long)i, c.seen[i]);
	free((void *)c.seen);
	ld_archive_close(a);
}

static void test_roundtrip_1m_raw(void **state)
{
	(void)state;
	char dir[256];
	tu_tempdir(dir, sizeof(dir), "rt");
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = true;
	o.segment_rows = 400000;
	write_rows(dir, 7, 1000000, &o, true);
	check_all(dir, 7, 1000000, true, 2);
	long problems = ld_archive_verify(dir, NULL, NULL, NULL);
	assert_int_equal(problems, 0);
	tu_rmrf(dir);
}

static void test_roundtrip_1m_noraw(void **state)
{
	(void)state;
	char dir[256];
	tu_tempdir(dir, sizeof(dir), "rt");
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = false;
	write_rows(dir, 9, 1000000, &o, true);
	check_all(dir, 9, 1000000, false, 1);
	tu_rmrf(dir);
}

/* Every small column varied independently: blocks fall back to per-column encodings.  Journal
 * and segments go through the page cache here (as on a file system without direct I/O); the
 * other round trips write them directly where /tmp allows it. */
static void test_roundtrip_wide(void **state)
{
	(void)state;
	char dir[256];
	tu_tempdir(dir, sizeof(dir), "rt");
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = true;
	ld_direct_io = false;
	write_rows(dir, 10, 200000, &o, true);
	ld_direct_io = true;
	check_all(dir, 10, 200000, true, 2);
	ld_err err;
	assert_int_equal(ld_archive_verify(dir, NULL, NULL, &err), 0);
	tu_rmrf(dir);
}

/* Rows only synced to the journal are visible to a read-only open, and identical after seal. */
static void test_journal_visible(void **state)
{
	(void)state;
	char dir[256];
	tu_tempdir(dir, sizeof(dir), "jv");
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = true;
	ld_err err;
	ld_writer *w = ld_writer_open(dir, &o, &err);
	assert_non_null(w);
	assert_null(ld_writer_open(dir, &o, &err)); /* second writer refused by the lock */
	tg_bufs bufs;
	for (uint64_t i = 0; i < 70000; i++) {
		ld_record r;
		tg_record(3, i, true, &r, &bufs);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
	}
	assert_int_equal(ld_writer_sync(w, &err), 0);
	check_all(dir, 3, 70000, true, 2);
	assert_int_equal(ld_writer_close(w, &err), 0);
	check_all(dir, 3, 70000, true, 2);
	tu_rmrf(dir);
}

/* Interval fsyncs run in the background: durable catches up with appended without an explicit
 * sync, and what is durable is readable. */
static void test_interval_sync(void **state)
{
	(void)state;
	char dir[256];
	tu_tempdir(dir, sizeof(dir), "is");
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.fsync_interval_ms = 2;
	ld_err err;
	ld_writer *w = ld_writer_open(dir, &o, &err);
	assert_non_null(w);
	tg_bufs bufs;
	uint64_t last = 0;
	for (uint64_t i = 0; i < 60000; i++) {
		ld_record r;
		tg_record(3, i, false, &r, &bufs);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
		uint64_t d = ld_writer_durable(w);
		assert_true(d >= last && d <= ld_writer_appended(w)); /* monotonic, never ahead */
		last = d;
	}
	for (int i = 0; i < 2000 && ld_writer_durable(w) < 60000; i++) {
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
		assert_int_equal(ld_writer_tick(w, &err), 0);
	}
	assert_int_equal(ld_writer_durable(w), 60000);
	check_all(dir, 3, 60000, false, 2);
	assert_int_equal(ld_writer_close(w, &err), 0);
	tu_rmrf(dir);
}

static uint64_t brute(uint64_t seed, uint64_t n, const ld_scan_spec *s)
{
	uint64_t m = 0;
	tg_bufs bufs;
	for (uint64_t i = 0; i < n; i++) {
		ld_record r;
		tg_record(seed, i, false, &r, &bufs);
		if (r.ts_ns < s->from_ns || r.ts_ns >= s->to_ns)
			continue;
		if (s->dport >= 0 && r.dport != s->dport)
			continue;
		if (s->proto >= 0 && r.proto != s->proto)
			continue;
		if (s->action_mask && !(s->action_mask & (1u << r.action)))
			continue;
		if (s->n_hosts) {
			bool hit = false;
			for (uint32_t k = 0; k < s->n_hosts; k++)
				hit |= (s->host_side != 2 && ld_addr_eq(&r.src, &s->hosts[k])) ||
				       (s->host_side != 1 && ld_addr_eq(&r.dst, &s->hosts[k]));
			if (!hit)
				continue;
		}
		m++;
	}
	return m;
}

static void test_pushdown(void **state)
{
	(void)state;
	char dir[256];
	tu_tempdir(dir, sizeof(dir), "pd");
	ld_store_opts o;
	ld_store_opts_default(&o);
	const uint64_t n = 300000;
	write_rows(dir, 5, n, &o, true);
	ld_err err;
	ld_archive *a = ld_archive_open(dir, &err);
	assert_non_null(a);
	ld_addr h[2], absent;
	ld_addr_from_v4(&h[0], 0x0a400000u + 17);
	ld_addr_from_v4(&h[1], 0x0a400000u + 2999);
	ld_addr_from_v4(&absent, 0xc0a80001u);
	struct {
		int64_t from, to;
		const ld_addr *hosts;
		uint32_t n_hosts;
		int side;
		int32_t dport, proto;
		uint32_t amask;
	} cases[] = {
		{INT64_MIN, INT64_MAX, NULL, 0, 0, 445, 6, 0},
		{INT64_MIN, INT64_MAX, h, 1, 0, -1, -1, 0},
		{INT64_MIN, INT64_MAX, h, 2, 1, 445, -1, 0},
		{INT64_MIN, INT64_MAX, h + 1, 1, 2, -1, -1, 1u << LD_ACTION_DROP},
		{TG_BASE_NS + 3600 * INT64_C(1000000000), TG_BASE_NS + 7200 * INT64_C(1000000000), NULL,
		 0, 0, -1, 17, 0},
		{INT64_MIN, INT64_MAX, &absent, 1, 0, -1, -1, 0},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		ld_scan_spec s;
		ld_scan_spec_init(&s);
		s.from_ns = cases[k].from;
		s.to_ns = cases[k].to;
		s.hosts = cases[k].hosts;
		s.n_hosts = cases[k].n_hosts;
		s.host_side = cases[k].side;
		s.dport = cases[k].dport;
		s.proto = cases[k].proto;
		s.action_mask = cases[k].amask;
		s.columns = 0; /* only what the predicate needs */
		s.threads = 2;
		tu_match_count p = {&s, 0};
		ld_scan_stats st;
		assert_int_equal(ld_scan(a, &s, tu_count_matches, &p, &st, &err), 0);
		assert_int_equal(p.matched, brute(5, n, &s));
		if (k == 4)
			assert_true(st.blocks_skipped + st.segments_skipped > 0);
		if (k == 5) {
			assert_int_equal(p.matched, 0);
			assert_int_equal(st.rows_scanned, 0); /* the address set rules every segment out */
		}
	}
	ld_archive_close(a);
	tu_rmrf(dir);
}

/* Time stamps on grids: deltas are stored divided by their common divisor, by multiplication
 * with an inverse; every grid, odd or even, tiny or near the 64-bit range, reads back exact. */
typedef struct ts_seen {
	int64_t *ts;
	uint64_t n, cap;
	pthread_mutex_t mu;
} ts_seen;

static int collect_ts(void *ctx, int thread, const ld_block *b)
{
	(void)thread;
	ts_seen *t = ctx;
	pthread_mutex_lock(&t->mu);
	for (uint32_t i = 0; i < b->n && t->n < t->cap; i++)
		t->ts[t->n++] = b->ts[i];
	pthread_mutex_unlock(&t->mu);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_ts_grids(void **state)
{
	(void)state;
	const int64_t day = 86400LL * 1000000000LL, t0 = 1793577600LL * 1000000000LL;
	const int64_t grids[] = {1, 1000, 1000000, 3LL << 20, 7000000, 999999937, 1000000007};
	for (size_t gi = 0; gi < sizeof grids / sizeof grids[0]; gi++) {
		const uint32_t n = 5000;
		int64_t *want = malloc(n * sizeof *want);
		assert_non_null(want);
		uint64_t x = 0x9E3779B97F4A7C15ull * (gi + 1);
		int64_t t = t0 - 3 * day; /* some rows before the epoch of the grid's first day */
		for (uint32_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* repeats, single steps and gaps, all multiples of the grid, over about 2 days */
			uint64_t span = (uint64_t)(4 * day / n / grids[gi]);
			uint64_t k = x % 8 == 0 ? 0 : x % 8 == 1 ? 1 : (x >> 8) % (span > 2 ? span : 2);
			t += (int64_t)k * grids[gi];
			want[i] = t;
		}
		char dir[256];
		tu_tempdir(dir, sizeof(dir), "tsgrid");
		ld_store_opts o;
		ld_store_opts_default(&o);
		o.keep_raw = false;
		ld_err err;
		ld_writer *w = ld_writer_open(dir, &o, &err);
		assert_non_null(w);
		for (uint32_t i = 0; i < n; i++) {
			ld_record r;
			memset(&r, 0, sizeof r);
			r.ts_ns = want[i];
			ld_addr_from_v4(&r.src, 0x0A000001u + i % 7);
			ld_addr_from_v4(&r.dst, 0x0A000100u);
			r.dport = 445;
			r.proto = 6;
			r.action = LD_ACTION_DROP;
			assert_int_equal(ld_writer_append(w, &r, &err), 0);
		}
		assert_int_equal(ld_writer_close(w, &err), 0);
		ld_archive *a = ld_archive_open(dir, &err);
		assert_non_null(a);
		ts_seen got = {.ts = malloc(n * sizeof(int64_t)), .cap = n};
		assert_non_null(got.ts);
		pthread_mutex_init(&got.mu, NULL);
		ld_scan_spec spec;
		ld_scan_spec_init(&spec);
		spec.columns = LD_COL_TS;
		ld_scan_stats st;
		assert_int_equal(ld_scan(a, &spec, collect_ts, &got, &st, &err), 0);
		assert_int_equal(st.segments_damaged, 0);
		assert_int_equal(got.n, n);
		qsort(want, n, sizeof *want, cmp_i64);
		qsort(got.ts, n, sizeof *got.ts, cmp_i64);
		for (uint32_t i = 0; i < n; i++)
			if (got.ts[i] != want[i])
				fail_msg("grid %lld: row %u reads %lld, wrote %lld", (long long)grids[gi],
					 i, (long long)got.ts[i], (long long)want[i]);
		pthread_mutex_destroy(&got.mu);
		free(got.ts);
		ld_archive_close(a);
		free(want);
		tu_rmrf(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_visible),
		cmocka_unit_test(test_interval_sync),
		cmocka_unit_test(test_pushdown),
		cmocka_unit_test(test_roundtrip_1m_raw),
		cmocka_unit_test(test_roundtrip_1m_noraw),
		cmocka_unit_test(test_roundtrip_wide),
		cmocka_unit_test(test_ts_grids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
