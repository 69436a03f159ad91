/* End to end: records written through ld_writer (several sealed segments plus rows still in the
 * journal, IPv4 and IPv6), scanned in parallel with push-down, filtered by --where expressions
 * and grouped; every answer is compared with a brute-force pass over the generated records. */
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
#include "ld_time.h"
#include "ld_writer.h"

#define N_SEALED 120000
#define N_JOURNAL 9000
#define N_TOTAL (N_SEALED + N_JOURNAL)
#define N_HOSTS 700

typedef struct grec {
	int64_t ts;
	uint32_t src, dst; /* host numbers */
	uint16_t sport, dport;
	uint8_t proto, action, flags;
	uint8_t rep;
} grec;

static grec recs[N_TOTAL];
static char dir[] = "/tmp/test_query_store.XXXXXX";
static ld_writer *live; /* keeps journal rows unsealed during the queries */
static const char *const reporters[] = {"esx-1", "esx-2", "fw \"edge\"", ""};
#define T0 INT64_C(1793577600000000000) /* 2026-11-02T00:00:00Z */

static uint64_t rs = 0xdeadbeefcafef00dull;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)((rs >> 7) % n);
}

/* Host k: even numbers IPv4 10.20.(k/250).(k%250), odd ones IPv6 fd00::k. */
static void host_addr(uint32_t k, ld_addr *a)
{
	if (k % 2 == 0) {
		ld_addr_from_v4(a, 0x0a140000u | ((k / 250) << 8) | (k % 250));
	} else {
		memset(a, 0, sizeof *a);
		a->b[0] = 0xfd;
		a->b[14] = (uint8_t)(k >> 8);
		a->b[15] = (uint8_t)k;
	}
}

static void make(grec *r, uint32_t i)
{
	/* three days, so several daily segments */
	r->ts = T0 + (int64_t)i * (INT64_C(3) * 86400 * LD_NS_PER_SEC / N_TOTAL);
	r->src = rnd(10) < 2 ? rnd(8) : rnd(N_HOSTS);
	/* scanners sweep the estate; the others probe a few neighbours (so dst pays as peer ranks) */
	r->dst = r->src < 3 ? rnd(N_HOSTS) : (r->src + 1 + rnd(6)) % N_HOSTS;
	r->sport = (uint16_t)(1024 + rnd(64000));
	static const uint16_t ports[] = {445, 445, 445, 137, 5355, 7680, 3389, 22};
	r->dport = ports[rnd(8)];
	r->proto = r->dport == 137 || r->dport == 5355 ? 17 : 6;
	r->action = (uint8_t)(1 + rnd(3));
	r->flags = r->proto == 6 ? LD_TCP_SYN : 0;
	r->rep = (uint8_t)rnd(4);
}

static void to_record(const grec *g, ld_record *r, char *raw, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->ts_ns = g->ts;
	host_addr(g->src, &r->src);
	host_addr(g->dst, &r->dst);
	r->sport = g->sport;
	r->dport = g->dport;
	r->proto = g->proto;
	r->action = g->action;
	r->tcp_flags = g->flags;
	r->dir = LD_DIR_IN;
	r->len = 60;
	r->format = LD_FMT_NSX;
	r->present = LD_RF_PORTS | LD_RF_LEN | (g->proto == 6 ? LD_RF_TCPFLAGS : 0);
	r->reporter = ld_str_c(reporters[g->rep]);
	r->rule = ld_str_c("1001");
	r->vif = ld_str_c("");
	int n = snprintf(raw, cap, "raw %u -> %u port %u", g->src, g->dst, g->dport);
	r->raw.ptr = raw;
	r->raw.len = (uint32_t)n;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	for (uint32_t i = 0; i < N_TOTAL; i++)
		make(&recs[i], i);
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = true;
	o.segment_rows = 40000;
	ld_err err;
	ld_writer *w = ld_writer_open(dir, &o, &err);
	if (!w) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	char raw[96];
	ld_record r;
	for (uint32_t i = 0; i < N_SEALED; i++) {
		to_record(&recs[i], &r, raw, sizeof raw);
		if (ld_writer_append(w, &r, &err) != 0)
			return -1;
	}
	if (ld_writer_close(w, &err) != 0)
		return -1;
	o.segment_rows = 1000000; /* the rest stays in the journal */
	live = ld_writer_open(dir, &o, &err);
	if (!live)
		return -1;
	for (uint32_t i = N_SEALED; i < N_TOTAL; i++) {
		to_record(&recs[i], &r, raw, sizeof raw);
		if (ld_writer_append(live, &r, &err) != 0)
			return -1;
	}
	return ld_writer_sync(live, &err);
}

static int teardown(void **state)
{
	(void)state;
	ld_err err;
	if (live)
		ld_writer_close(live, &err);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- running queries -------------------------------------------------------------------------- */

#define THREADS 2

typedef struct run {
	ld_query_eval *ev[THREADS];
	ld_group_acc *acc[THREADS];
	uint32_t sel[THREADS][1u << 16];
	uint64_t count[THREADS];
	uint64_t shape_views[THREADS]; /* blocks delivered with dport as a shape view */
	uint64_t peer_views[THREADS];  /* blocks delivered with dst as the peer view */
	int bad;
} run;

static uint64_t last_shape_views, last_peer_views; /* of the last query() */

/* Thread 0 finishes its accumulator in the scan, thread 1 leaves it to the merge: both ways
 * must give the same answer. */
static int on_thread_done(void *ctx, int thread)
{
	run *r = ctx;
	ld_err err;
	if (thread == 0 && r->acc[0] && ld_group_acc_finish(r->acc[0], &err) != 0) {
		r->bad = 1;
		return 1;
	}
	return 0;
}

static int on_block(void *ctx, int thread, const ld_block *b)
{
	run *r = ctx;
	if (thread < 0 || thread >= THREADS || b->n > (1u << 16)) {
		r->bad = 1;
		return 1;
	}
	uint32_t k = ld_query_eval_block(r->ev[thread], b, r->sel[thread]);
	if (k == UINT32_MAX) {
		r->bad = 1;
		return 1;
	}
	r->count[thread] += k;
	r->shape_views[thread] += b->n_shapes != 0;
	r->peer_views[thread] += b->dst_rank != NULL;
	ld_err err;
	if (r->acc[thread] && ld_group_acc_add(r->acc[thread], b, r->sel[thread], k, &err) != 0) {
		r->bad = 1;
		return 1;
	}
	return 0;
}

/* Count of rows matching expr in [from, to); with gs, the merged accumulator in *acc_out. */
static uint64_t query(const char *expr, int64_t from, int64_t to, const ld_group_spec *gs,
		      ld_group_acc **acc_out, ld_scan_stats *st_out)
{
	ld_err err;
	ld_query_expr *e = NULL;
	if (expr) {
		e = ld_query_parse(expr, T0, &err);
		if (!e)
			fail_msg("'%s': %s", expr, err.msg);
	}
	ld_archive *a = ld_archive_open(dir, &err);
	if (!a)
		fail_msg("open: %s", err.msg);
	run *r = calloc(1, sizeof *r);
	assert_non_null(r);
	for (int t = 0; t < THREADS; t++) {
		r->ev[t] = ld_query_eval_new(e, from, to);
		if (gs)
			r->acc[t] = ld_group_acc_new(gs, &err);
	}
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.from_ns = from;
	spec.to_ns = to;
	ld_query_pushdown(e, &spec);
	spec.threads = THREADS;
	spec.thread_done = on_thread_done;
	spec.columns = ld_query_columns(e) | LD_COL_TS | (gs ? ld_group_columns(gs, ld_query_columns(e) | LD_COL_TS) : 0);
	ld_scan_stats st;
	memset(&st, 0, sizeof st);
	assert_int_equal(ld_scan(a, &spec, on_block, r, &st, &err), 0);
	assert_int_equal(r->bad, 0);
	uint64_t total = r->count[0] + r->count[1];
	last_shape_views = r->shape_views[0] + r->shape_views[1];
	last_peer_views = r->peer_views[0] + r->peer_views[1];
	for (int t = 0; t < THREADS; t++)
		ld_query_eval_free(r->ev[t]);
	if (gs) {
		assert_int_equal(ld_group_acc_merge(r->acc[0], r->acc[1], &err), 0);
		ld_group_acc_free(r->acc[1]);
		*acc_out = r->acc[0];
	}
	if (st_out)
		*st_out = st;
	free(r);
	ld_archive_close(a);
	ld_query_free(e);
	return total;
}

/* --- checks ----------------------------------------------------------------------------------- */

typedef bool (*pred)(const grec *g);
static bool p_smb(const grec *g) { return g->dport == 445 && g->proto == 6; }
static bool p_src5(const grec *g) { return g->src == 5; }
static bool p_src4_445(const grec *g) { return g->src == 4 && g->dport == 445; }
static bool p_host6(const grec *g) { return g->src == 6 || g->dst == 6; }
static bool p_cidr(const grec *g) { return g->src % 2 == 0 && g->src / 250 == 1; } /* 10.20.1.0/24 */
static bool p_v6(const grec *g) { return g->dst % 2 == 1; }                    /* dst in fd00::/8 */
static bool p_rep(const grec *g) { return g->rep == 2 && g->action != LD_ACTION_REJECT; }
static bool p_all(const grec *g) { (void)g; return true; }

static uint64_t brute(pred p, int64_t from, int64_t to)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < N_TOTAL; i++)
		n += recs[i].ts >= from && recs[i].ts < to && p(&recs[i]);
	return n;
}

static void test_counts(void **state)
{
	(void)state;
	static const struct {
		const char *expr;
		pred p;
	} cs[] = {
		{"dport = 445 and proto = tcp", p_smb},
		{"src = 10.20.0.5", p_src5}, /* host 5 is odd: IPv6, so this matches nothing */
		{"src = fd00::5", p_src5},
		{"src = 10.20.0.4 and dport = 445", p_src4_445},
		{"host 10.20.0.6", p_host6},
		{"src in 10.20.1.0/24", p_cidr},
		{"dst in fd00::/8", p_v6},
		{"reporter = 'fw \"edge\"' and action != reject", p_rep},
		{NULL, p_all},
	};
	for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
		uint64_t want = i == 1 ? 0 : brute(cs[i].p, INT64_MIN, INT64_MAX);
		uint64_t got = query(cs[i].expr, INT64_MIN, INT64_MAX, NULL, NULL, NULL);
		if (got != want)
			fail_msg("'%s': %llu rows, brute force %llu", cs[i].expr ? cs[i].expr : "(all)",
				 (unsigned long long)got, (unsigned long long)want);
	}
	assert_int_equal(brute(p_all, INT64_MIN, INT64_MAX), N_TOTAL);
}

static void test_time_window_and_pruning(void **state)
{
	(void)state;
	int64_t from = T0 + INT64_C(30) * 3600 * LD_NS_PER_SEC, to = T0 + INT64_C(40) * 3600 * LD_NS_PER_SEC;
	assert_int_equal(query("dport = 445", from, to, NULL, NULL, NULL), brute(p_smb, from, to));
	/* the same window through the expression */
	assert_int_equal(query("dport = 445 and ts >= 2026-11-03T06:00:00Z and ts < 2026-11-03T16:00:00Z",
			       INT64_MIN, INT64_MAX, NULL, NULL, NULL),
			 brute(p_smb, from, to));
	/* A rare source: push-down lets the scan skip blocks. */
	ld_scan_stats st;
	uint64_t n = query("src = fd00::5", INT64_MIN, INT64_MAX, NULL, NULL, &st);
	assert_int_equal(n, brute(p_src5, INT64_MIN, INT64_MAX));
	uint64_t full;
	ld_scan_stats st_all;
	full = query(NULL, INT64_MIN, INT64_MAX, NULL, NULL, &st_all);
	assert_int_equal(full, N_TOTAL);
	assert_true(st.rows_scanned <= st_all.rows_scanned);
}

static bool p_smb_not_dst0(const grec *g) { return p_smb(g) && g->dst != 0; }

/* Group by src counting distinct dst over the rows of expr, against the same from pred; the
 * number of blocks that came with the peer view is left in last_peer_views. */
static void check_src_distinct_dst(const char *expr, pred p)
{
	static uint64_t cnt[N_HOSTS];
	static uint8_t seen[N_HOSTS][N_HOSTS];
	memset(cnt, 0, sizeof cnt);
	memset(seen, 0, sizeof seen);
	for (uint32_t i = 0; i < N_TOTAL; i++)
		if (p(&recs[i])) {
			cnt[recs[i].src]++;
			seen[recs[i].src][recs[i].dst] = 1;
		}
	ld_group_spec gs = {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = LD_QCOL_DST};
	ld_group_acc *acc = NULL;
	query(expr, INT64_MIN, INT64_MAX, &gs, &acc, NULL);
	assert_non_null(acc);
	const ld_group_row *rows;
	size_t n;
	ld_err err;
	assert_int_equal(ld_group_acc_result(acc, 0, &rows, &n, &err), 0);
	size_t groups = 0;
	for (uint32_t h = 0; h < N_HOSTS; h++)
		groups += cnt[h] > 0;
	assert_int_equal(n, groups);
	for (size_t r = 0; r < n; r++) {
		uint32_t h = UINT32_MAX;
		for (uint32_t k = 0; k < N_HOSTS && h == UINT32_MAX; k++) {
			ld_addr a;
			host_addr(k, &a);
			if (ld_addr_eq(&a, &rows[r].key[0].addr))
				h = k;
		}
		assert_int_not_equal(h, UINT32_MAX);
		uint64_t d = 0;
		for (uint32_t k = 0; k < N_HOSTS; k++)
			d += seen[h][k];
		assert_int_equal(rows[r].count, cnt[h]);
		assert_int_equal(rows[r].distinct, d);
	}
	/* the scanners (hosts 0..2) lead */
	assert_true(rows[0].distinct > 100);
	ld_group_acc_free(acc);
}

/* Reference group-by: counts and distinct dst per src over matching rows, and top dports. */
static void test_group_by(void **state)
{
	(void)state;
	ld_err err;
	/* sealed segments deliver dst as ranks in their sources' peer lists... */
	check_src_distinct_dst("dport = 445 and proto = tcp", p_smb);
	assert_true(last_peer_views > 0);
	/* ...unless the filter tests dst, which needs the ids */
	check_src_distinct_dst("dport = 445 and proto = tcp and dst != 10.20.0.0", p_smb_not_dst0);
	assert_int_equal(last_peer_views, 0);

	/* top dports */
	static uint64_t pc[65536];
	memset(pc, 0, sizeof pc);
	for (uint32_t i = 0; i < N_TOTAL; i++)
		pc[recs[i].dport]++;
	ld_group_spec gp = {.cols = {LD_QCOL_DPORT}, .n_cols = 1, .distinct_col = -1};
	ld_group_acc *acc = NULL;
	const ld_group_row *rows;
	size_t n;
	query(NULL, INT64_MIN, INT64_MAX, &gp, &acc, NULL);
	/* sealed blocks count dport through their shape view; the journal's through the column */
	assert_true(last_shape_views > 0);
	assert_int_equal(ld_group_acc_result(acc, 0, &rows, &n, &err), 0);
	size_t distinct_ports = 0;
	for (uint32_t p = 0; p < 65536; p++)
		distinct_ports += pc[p] != 0;
	assert_int_equal(n, distinct_ports);
	assert_int_equal(rows[0].key[0].num, 445);
	for (size_t r = 0; r < n; r++)
		assert_int_equal(rows[r].count, pc[rows[r].key[0].num]);
	ld_group_acc_free(acc);

	/* the same with a filter that selects some rows of each block (the view over a selection),
	 * and with one that reads dport itself (no view) */
	const char *wheres[] = {"src in 10.20.0.0/28 and proto = tcp", "dport != 137"};
	for (int w = 0; w < 2; w++) {
		memset(pc, 0, sizeof pc);
		for (uint32_t i = 0; i < N_TOTAL; i++)
			if (w == 0 ? (recs[i].src < 16 && recs[i].src % 2 == 0 && recs[i].proto == 6) : recs[i].dport != 137)
				pc[recs[i].dport]++;
		acc = NULL;
		query(wheres[w], INT64_MIN, INT64_MAX, &gp, &acc, NULL);
		assert_true(w == 0 ? last_shape_views > 0 : last_shape_views == 0);
		assert_int_equal(ld_group_acc_result(acc, 0, &rows, &n, &err), 0);
		distinct_ports = 0;
		uint64_t total = 0, want = 0;
		for (uint32_t p = 0; p < 65536; p++) {
			distinct_ports += pc[p] != 0;
			want += pc[p];
		}
		assert_int_equal(n, distinct_ports);
		for (size_t r = 0; r < n; r++) {
			assert_int_equal(rows[r].count, pc[rows[r].key[0].num]);
			total += rows[r].count;
		}
		assert_int_equal(total, want);
		ld_group_acc_free(acc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_time_window_and_pruning),
		cmocka_unit_test(test_group_by),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
