/* Group-by, count and count-distinct against a brute-force reference: rows spread over several
 * "segments" (blocks with different dictionaries, so the same address has different ids) and two
 * accumulators (as two scan threads would) that are merged at the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ld_query.h"

#define N_SEG 3
#define BLOCKS_PER_SEG 4
#define ROWS 1500
#define N_ADDRS 300
#define N_STRS 5

typedef struct seg {
	ld_addr addrs[N_ADDRS];
	ld_str strs[N_STRS];
	uint32_t src[BLOCKS_PER_SEG][ROWS], dst[BLOCKS_PER_SEG][ROWS], reporter[BLOCKS_PER_SEG][ROWS];
	uint32_t len[BLOCKS_PER_SEG][ROWS];
	uint16_t dport[BLOCKS_PER_SEG][ROWS];
	uint8_t proto[BLOCKS_PER_SEG][ROWS];
	ld_block b[BLOCKS_PER_SEG];
	/* the peer view of dst: each source's distinct dsts in order of first sight, and every
	 * row's rank in its source's list */
	uint32_t peer_first[N_ADDRS + 1], peer_dst[BLOCKS_PER_SEG * ROWS];
	uint32_t rank[BLOCKS_PER_SEG][ROWS];
} seg;

static seg segs[N_SEG];
static const char *const names[N_STRS] = {"", "esx-1", "esx-2", "fw-a", "fw-b"};

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

/* Address number k (0..N_ADDRS-1) -> 10.1.x.y, or an IPv6 address for k >= 280. */
static void addr_of(uint32_t k, ld_addr *a)
{
	if (k < 280) {
		ld_addr_from_v4(a, 0x0a010000u + k);
	} else {
		memset(a, 0, sizeof *a);
		a->b[0] = 0x20;
		a->b[1] = 0x01;
		a->b[15] = (uint8_t)k;
	}
}

static void build_peers(seg *g)
{
	static uint8_t seen[N_ADDRS][N_ADDRS];
	static uint32_t list[N_ADDRS][N_ADDRS], len[N_ADDRS];
	memset(seen, 0, sizeof seen);
	memset(len, 0, sizeof len);
	for (uint32_t bi = 0; bi < BLOCKS_PER_SEG; bi++)
		for (uint32_t i = 0; i < ROWS; i++) {
			uint32_t a = g->src[bi][i], d = g->dst[bi][i];
			if (!seen[a][d]) {
				seen[a][d] = 1;
				list[a][len[a]++] = d;
			}
		}
	uint32_t e = 0;
	for (uint32_t a = 0; a < N_ADDRS; a++) {
		g->peer_first[a] = e;
		for (uint32_t k = 0; k < len[a]; k++)
			g->peer_dst[e++] = list[a][k];
	}
	g->peer_first[N_ADDRS] = e;
	for (uint32_t bi = 0; bi < BLOCKS_PER_SEG; bi++)
		for (uint32_t i = 0; i < ROWS; i++) {
			uint32_t a = g->src[bi][i], r = 0;
			while (g->peer_dst[g->peer_first[a] + r] != g->dst[bi][i])
				r++;
			g->rank[bi][i] = r;
		}
}

static void build(void)
{
	for (uint32_t s = 0; s < N_SEG; s++) {
		seg *g = &segs[s];
		/* Different dictionary order per segment: id = (k * mult) % N for an odd mult prime
		 * to N_ADDRS. */
		uint32_t mult = (uint32_t[]){1, 7, 13}[s];
		uint32_t id_of[N_ADDRS];
		for (uint32_t k = 0; k < N_ADDRS; k++) {
			id_of[k] = (k * mult) % N_ADDRS;
			addr_of(k, &g->addrs[id_of[k]]);
		}
		for (uint32_t k = 0; k < N_STRS; k++)
			g->strs[(k + s) % N_STRS] = ld_str_c(names[k]);
		for (uint32_t bi = 0; bi < BLOCKS_PER_SEG; bi++) {
			for (uint32_t i = 0; i < ROWS; i++) {
				/* skewed: a few busy sources, one scanner touching many dsts */
				uint32_t srck = rnd(10) < 3 ? rnd(5) : rnd(N_ADDRS);
				uint32_t dstk = srck == 2 ? rnd(N_ADDRS) : rnd(20);
				g->src[bi][i] = id_of[srck];
				g->dst[bi][i] = id_of[dstk];
				g->dport[bi][i] = (uint16_t[]){445, 137, 5355, 3389, 7680}[rnd(5)];
				g->proto[bi][i] = rnd(4) ? 6 : 17;
				g->reporter[bi][i] = rnd(N_STRS);
				g->len[bi][i] = 60 + rnd(3);
			}
			ld_block *b = &g->b[bi];
			memset(b, 0, sizeof *b);
			b->n = ROWS;
			b->src = g->src[bi];
			b->dst = g->dst[bi];
			b->dport = g->dport[bi];
			b->proto = g->proto[bi];
			b->reporter = g->reporter[bi];
			b->len = g->len[bi];
			b->addrs = g->addrs;
			b->n_addrs = N_ADDRS;
			b->strs = g->strs;
			b->n_strs = N_STRS;
			b->segment = (const char *[]){"s0", "s1", "s2"}[s];
			b->block_index = bi;
		}
		build_peers(g);
	}
}

/* Text of column c in row i of block b. */
static void col_text(const ld_block *b, unsigned c, uint32_t i, char *out, size_t cap)
{
	switch (c) {
	case LD_QCOL_SRC: ld_addr_format(&b->addrs[b->src[i]], out); break;
	case LD_QCOL_DST: ld_addr_format(&b->addrs[b->dst[i]], out); break;
	case LD_QCOL_DPORT: snprintf(out, cap, "%u", b->dport[i]); break;
	case LD_QCOL_PROTO: snprintf(out, cap, "%u", b->proto[i]); break;
	case LD_QCOL_LEN: snprintf(out, cap, "%u", b->len[i]); break;
	case LD_QCOL_REPORTER: snprintf(out, cap, "'%.*s'", (int)b->strs[b->reporter[i]].len, b->strs[b->reporter[i]].ptr); break;
	default: fail_msg("column %u not in fixture", c);
	}
}

static void value_text(const ld_group_spec *sp, unsigned k, const ld_group_value *v, char *out, size_t cap)
{
	switch (sp->cols[k]) {
	case LD_QCOL_SRC:
	case LD_QCOL_DST: ld_addr_format(&v->addr, out); break;
	case LD_QCOL_REPORTER: snprintf(out, cap, "'%.*s'", (int)v->str_len, v->str); break;
	default: snprintf(out, cap, "%u", v->num); break;
	}
}

typedef struct ref_row {
	char key[200];
	char val[64];
} ref_row;

static int cmp_ref(const void *a, const void *b)
{
	const ref_row *x = a, *y = b;
	int r = strcmp(x->key, y->key);
	return r ? r : strcmp(x->val, y->val);
}

typedef struct ref_group {
	char key[200];
	uint64_t count, distinct;
} ref_group;

static bool keep_row(const ld_block *b, uint32_t i)
{
	return b->proto[i] == 6; /* the "where": proto = tcp */
}

/* Hands dst to the accumulators as the peer view (ld_block.dst_rank) instead of ids. */
static bool as_peer_view;

static void check_spec(const ld_group_spec *sp)
{
	/* brute force */
	size_t total = (size_t)N_SEG * BLOCKS_PER_SEG * ROWS;
	ref_row *rr = calloc(total, sizeof *rr);
	assert_non_null(rr);
	size_t n = 0;
	for (uint32_t s = 0; s < N_SEG; s++)
		for (uint32_t bi = 0; bi < BLOCKS_PER_SEG; bi++) {
			const ld_block *b = &segs[s].b[bi];
			for (uint32_t i = 0; i < b->n; i++) {
				if (!keep_row(b, i))
					continue;
				char *k = rr[n].key;
				size_t o = 0;
				for (unsigned c = 0; c < sp->n_cols; c++) {
					char t[64];
					col_text(b, sp->cols[c], i, t, sizeof t);
					o += (size_t)snprintf(k + o, sizeof rr[n].key - o, "%s|", t);
				}
				if (sp->distinct_col >= 0)
					col_text(b, (unsigned)sp->distinct_col, i, rr[n].val, sizeof rr[n].val);
				n++;
			}
		}
	qsort(rr, n, sizeof *rr, cmp_ref);
	ref_group *rg = calloc(n + 1, sizeof *rg);
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(rr[i].key, rr[i - 1].key) != 0) {
			snprintf(rg[ng].key, sizeof rg[ng].key, "%s", rr[i].key);
			ng++;
		}
		rg[ng - 1].count++;
		if (sp->distinct_col >= 0 && (i == 0 || cmp_ref(&rr[i], &rr[i - 1]) != 0))
			rg[ng - 1].distinct++;
	}

	/* engine: segment 0 and 2 on "thread" A, segment 1 on "thread" B, blocks interleaved per
	 * thread as ld_scan delivers them (one segment's blocks consecutively). */
	ld_err err;
	ld_group_acc *a = ld_group_acc_new(sp, &err), *bacc = ld_group_acc_new(sp, &err);
	assert_non_null(a);
	assert_non_null(bacc);
	static uint32_t sel[ROWS];
	for (uint32_t s = 0; s < N_SEG; s++)
		for (uint32_t bi = 0; bi < BLOCKS_PER_SEG; bi++) {
			const ld_block *b = &segs[s].b[bi];
			uint32_t k = 0;
			for (uint32_t i = 0; i < b->n; i++)
				if (keep_row(b, i))
					sel[k++] = i;
			/* Dictionaries are only valid during the call (ld_scan reuses its decode
			 * buffers): hand over copies and scribble over them afterwards. */
			static ld_addr addrs_tmp[N_ADDRS];
			static ld_str strs_tmp[N_STRS];
			static char str_bytes[N_STRS][16];
			memcpy(addrs_tmp, b->addrs, sizeof addrs_tmp);
			for (uint32_t j = 0; j < N_STRS; j++) {
				memcpy(str_bytes[j], b->strs[j].ptr, b->strs[j].len);
				strs_tmp[j].ptr = str_bytes[j];
				strs_tmp[j].len = b->strs[j].len;
			}
			ld_block tb = *b;
			tb.addrs = addrs_tmp;
			tb.strs = strs_tmp;
			static uint32_t first_tmp[N_ADDRS + 1], peers_tmp[BLOCKS_PER_SEG * ROWS];
			if (as_peer_view) {
				memcpy(first_tmp, segs[s].peer_first, sizeof first_tmp);
				memcpy(peers_tmp, segs[s].peer_dst, sizeof peers_tmp);
				tb.dst = NULL;
				tb.dst_rank = segs[s].rank[bi];
				tb.peer_first = first_tmp;
				tb.peer_dst = peers_tmp;
			}
			/* the same buffers serve every segment, as a scanner's would; the segment
			 * name tells them apart */
			assert_int_equal(ld_group_acc_add(s == 1 ? bacc : a, &tb, sel, k, &err), 0);
			memset(addrs_tmp, 0xab, sizeof addrs_tmp);
			memset(str_bytes, 0xab, sizeof str_bytes);
			memset(first_tmp, 0xab, sizeof first_tmp);
			memset(peers_tmp, 0xab, sizeof peers_tmp);
		}
	/* one accumulator finished by its thread, the other left to the merge */
	assert_int_equal(ld_group_acc_finish(bacc, &err), 0);
	assert_int_equal(ld_group_acc_merge(a, bacc, &err), 0);
	const ld_group_row *rows;
	size_t nrows;
	assert_int_equal(ld_group_acc_result(a, 0, &rows, &nrows, &err), 0);
	assert_int_equal(nrows, ng);
	for (size_t r = 0; r < nrows; r++) {
		char key[200];
		size_t o = 0;
		for (unsigned c = 0; c < sp->n_cols; c++) {
			char t[64];
			value_text(sp, c, &rows[r].key[c], t, sizeof t);
			o += (size_t)snprintf(key + o, sizeof key - o, "%s|", t);
		}
		ref_group probe;
		snprintf(probe.key, sizeof probe.key, "%s", key);
		size_t lo = 0, hi = ng;
		bool found = false;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(rg[mid].key, key);
			if (c == 0) {
				found = true;
				if (rg[mid].count != rows[r].count || rg[mid].distinct != rows[r].distinct)
					fail_msg("group %s: engine %llu/%llu, reference %llu/%llu", key,
						 (unsigned long long)rows[r].count, (unsigned long long)rows[r].distinct,
						 (unsigned long long)rg[mid].count, (unsigned long long)rg[mid].distinct);
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!found)
			fail_msg("group %s not in the reference", key);
		/* ordering: distinct desc, then count desc */
		if (r > 0) {
			assert_true(rows[r - 1].distinct >= rows[r].distinct);
			if (rows[r - 1].distinct == rows[r].distinct)
				assert_true(rows[r - 1].count >= rows[r].count);
		}
	}
	/* top N is the head of the full order (ties included: the order is total) */
	ld_group_row head[5];
	size_t nhead = nrows < 5 ? nrows : 5;
	memcpy(head, rows, nhead * sizeof *head);
	const ld_group_row *top;
	size_t ntop;
	assert_int_equal(ld_group_acc_result(a, 5, &top, &ntop, &err), 0);
	assert_int_equal(ntop, nhead);
	for (size_t r = 0; r < ntop; r++) {
		assert_int_equal(top[r].count, head[r].count);
		assert_int_equal(top[r].distinct, head[r].distinct);
		for (unsigned c = 0; c < sp->n_cols; c++) {
			char x[64], y[64];
			value_text(sp, c, &top[r].key[c], x, sizeof x);
			value_text(sp, c, &head[r].key[c], y, sizeof y);
			assert_string_equal(x, y);
		}
	}
	ld_group_acc_free(a);
	ld_group_acc_free(bacc);
	free(rr);
	free(rg);
}

static void test_group_src_count(void **state)
{
	(void)state;
	ld_group_spec sp = {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = -1};
	check_spec(&sp);
}

static void test_group_src_distinct_dst(void **state)
{
	(void)state;
	ld_group_spec sp = {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = LD_QCOL_DST};
	check_spec(&sp);
}

/* The same over the peer view, where a (src, rank) pair stands for a (src, dst) pair. */
static void test_group_src_distinct_dst_peer_view(void **state)
{
	(void)state;
	ld_group_spec sp = {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = LD_QCOL_DST};
	as_peer_view = true;
	check_spec(&sp);
	as_peer_view = false;
}

/* A rank past its source's list (damage) still counts its row but names no dst; a view given to
 * a group-by it cannot serve is an error, not a wrong answer.  Run with a small dictionary
 * (dense counts and pair bits) and one too large for them (hashed local groups and pairs). */
static void peer_view_bad_rank(uint32_t n_addrs)
{
	ld_addr *addrs = calloc(n_addrs, sizeof *addrs);
	uint32_t *first = calloc((size_t)n_addrs + 1, sizeof *first);
	assert_non_null(addrs);
	assert_non_null(first);
	for (uint32_t k = 0; k < 3; k++)
		addr_of(k, &addrs[k]);
	/* source 0 sent to 1 and 2, source 1 to 0 */
	first[1] = 2;
	for (uint32_t k = 2; k <= n_addrs; k++)
		first[k] = 3;
	uint32_t peers[3] = {1, 2, 0};
	uint32_t src[4] = {0, 0, 0, 1}, rank[4] = {0, 1, 2, 0}, sel[4] = {0, 1, 2, 3};
	ld_block b;
	memset(&b, 0, sizeof b);
	b.n = 4;
	b.src = src;
	b.dst_rank = rank;
	b.peer_first = first;
	b.peer_dst = peers;
	b.addrs = addrs;
	b.n_addrs = n_addrs;
	b.segment = "bad-rank";
	ld_group_spec sp = {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = LD_QCOL_DST};
	ld_err err;
	ld_group_acc *acc = ld_group_acc_new(&sp, &err);
	assert_non_null(acc);
	assert_int_equal(ld_group_acc_add(acc, &b, sel, 4, &err), 0);
	const ld_group_row *rows;
	size_t n;
	assert_int_equal(ld_group_acc_result(acc, 0, &rows, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(&rows[0].key[0].addr, &addrs[0], sizeof(ld_addr));
	assert_int_equal(rows[0].count, 3);
	assert_int_equal(rows[0].distinct, 2);
	assert_int_equal(rows[1].count, 1);
	assert_int_equal(rows[1].distinct, 1);
	ld_group_acc_free(acc);

	ld_group_spec by_dport = {.cols = {LD_QCOL_SRC, LD_QCOL_DPORT}, .n_cols = 2, .distinct_col = LD_QCOL_DST};
	uint16_t dport[4] = {445, 445, 445, 445};
	b.dport = dport;
	acc = ld_group_acc_new(&by_dport, &err);
	assert_non_null(acc);
	assert_int_equal(ld_group_acc_add(acc, &b, sel, 4, &err), -1);
	ld_group_acc_free(acc);
	free(addrs);
	free(first);
}

static void test_peer_view_bad_rank(void **state)
{
	(void)state;
	peer_view_bad_rank(3);
	peer_view_bad_rank(1u << 19);
}

static void test_group_src_dport(void **state)
{
	(void)state;
	ld_group_spec sp = {.cols = {LD_QCOL_SRC, LD_QCOL_DPORT}, .n_cols = 2, .distinct_col = -1};
	check_spec(&sp);
}

static void test_group_dport_distinct_src(void **state)
{
	(void)state;
	ld_group_spec sp = {.cols = {LD_QCOL_DPORT}, .n_cols = 1, .distinct_col = LD_QCOL_SRC};
	check_spec(&sp);
}

static void test_group_reporter_distinct_dport(void **state)
{
	(void)state;
	ld_group_spec sp = {.cols = {LD_QCOL_REPORTER}, .n_cols = 1, .distinct_col = LD_QCOL_DPORT};
	check_spec(&sp);
}

static void test_group_three_cols_distinct_reporter(void **state)
{
	(void)state;
	ld_group_spec sp = {.cols = {LD_QCOL_SRC, LD_QCOL_DST, LD_QCOL_LEN}, .n_cols = 3,
			    .distinct_col = LD_QCOL_REPORTER};
	check_spec(&sp);
}

static void test_group_values_only(void **state)
{
	(void)state;
	/* keys without dictionaries carry their counts across segments */
	ld_group_spec sp = {.cols = {LD_QCOL_DPORT}, .n_cols = 1, .distinct_col = -1};
	check_spec(&sp);
	ld_group_spec sp2 = {.cols = {LD_QCOL_DPORT, LD_QCOL_PROTO}, .n_cols = 2, .distinct_col = -1};
	check_spec(&sp2);
	ld_group_spec sp3 = {.cols = {LD_QCOL_LEN}, .n_cols = 1, .distinct_col = -1};
	check_spec(&sp3);
}

/* A thread that saw no block merges like any other, in both directions. */
static void merge_with_empty(const ld_group_spec *sp, bool empty_is_dst)
{
	ld_err err;
	ld_group_acc *full = ld_group_acc_new(sp, &err), *ref = ld_group_acc_new(sp, &err),
		     *empty = ld_group_acc_new(sp, &err);
	static uint32_t sel[ROWS];
	for (uint32_t i = 0; i < ROWS; i++)
		sel[i] = i;
	for (uint32_t s = 0; s < N_SEG; s++)
		for (uint32_t bi = 0; bi < BLOCKS_PER_SEG; bi++) {
			assert_int_equal(ld_group_acc_add(full, &segs[s].b[bi], sel, ROWS, &err), 0);
			assert_int_equal(ld_group_acc_add(ref, &segs[s].b[bi], sel, ROWS, &err), 0);
		}
	ld_group_acc *dst = empty_is_dst ? empty : full, *src = empty_is_dst ? full : empty;
	assert_int_equal(ld_group_acc_merge(dst, src, &err), 0);
	const ld_group_row *a, *b;
	size_t na, nb;
	assert_int_equal(ld_group_acc_result(ref, 0, &a, &na, &err), 0);
	assert_int_equal(ld_group_acc_result(dst, 0, &b, &nb, &err), 0);
	assert_int_equal(na, nb);
	assert_true(na > 0);
	for (size_t r = 0; r < na; r++) {
		assert_int_equal(a[r].count, b[r].count);
		assert_int_equal(a[r].distinct, b[r].distinct);
		assert_memory_equal(&a[r].key[0].addr, &b[r].key[0].addr, sizeof(ld_addr));
		assert_int_equal(a[r].key[0].num, b[r].key[0].num);
	}
	ld_group_acc_free(full);
	ld_group_acc_free(ref);
	ld_group_acc_free(empty);
}

static void test_merge_with_empty(void **state)
{
	(void)state;
	ld_group_spec specs[] = {
		{.cols = {LD_QCOL_DPORT}, .n_cols = 1, .distinct_col = -1},
		{.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = LD_QCOL_DST},
		{.cols = {LD_QCOL_SRC, LD_QCOL_DPORT}, .n_cols = 2, .distinct_col = -1},
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		merge_with_empty(&specs[i], true);
		merge_with_empty(&specs[i], false);
	}
}

/* An accumulator grouping by col alone, with all n rows of b (selected by sel) added. */
static ld_group_acc *group_by_one(unsigned col, const ld_block *b, const uint32_t *sel, uint32_t n)
{
	ld_group_spec sp = {.cols = {col}, .n_cols = 1, .distinct_col = -1};
	ld_err err;
	ld_group_acc *acc = ld_group_acc_new(&sp, &err);
	assert_non_null(acc);
	assert_int_equal(ld_group_acc_add(acc, b, sel, n, &err), 0);
	return acc;
}

/* Many value-only groups: --top picks from the dense counts without building every row; asking
 * for the top first must not disturb a later full result. */
static void test_dense_top(void **state)
{
	(void)state;
	enum { NR = 30000, NP = 5000 };
	static uint16_t dport[NR];
	static uint32_t sel[NR];
	static uint64_t ref[NP];
	memset(ref, 0, sizeof ref);
	for (uint32_t i = 0; i < NR; i++) {
		/* skewed so counts differ, with ties among the rare ports */
		dport[i] = (uint16_t)(rnd(4) ? rnd(40) : rnd(NP));
		ref[dport[i]]++;
		sel[i] = i;
	}
	ld_block b;
	memset(&b, 0, sizeof b);
	b.n = NR;
	b.dport = dport;
	b.segment = "dense";
	ld_group_acc *acc = group_by_one(LD_QCOL_DPORT, &b, sel, NR);
	ld_err err;
	const ld_group_row *rows;
	size_t n;
	assert_int_equal(ld_group_acc_result(acc, 10, &rows, &n, &err), 0);
	assert_int_equal(n, 10);
	uint64_t prev_count = UINT64_MAX;
	uint32_t prev_port = 0;
	for (size_t r = 0; r < n; r++) {
		assert_int_equal(rows[r].count, ref[rows[r].key[0].num]);
		assert_true(rows[r].count < prev_count || (rows[r].count == prev_count && rows[r].key[0].num > prev_port));
		prev_count = rows[r].count;
		prev_port = rows[r].key[0].num;
	}
	/* nothing outside the top 10 beats the 10th (count, then lower port first) */
	for (uint32_t p = 0; p < NP; p++) {
		bool in_top = false;
		for (size_t r = 0; r < n; r++)
			in_top |= rows[r].key[0].num == p;
		if (!in_top && ref[p])
			assert_true(ref[p] < prev_count || (ref[p] == prev_count && p > prev_port));
	}
	/* the full result afterwards still has every port */
	assert_int_equal(ld_group_acc_result(acc, 0, &rows, &n, &err), 0);
	size_t want = 0;
	uint64_t total = 0;
	for (uint32_t p = 0; p < NP; p++)
		want += ref[p] > 0;
	for (size_t r = 0; r < n; r++)
		total += rows[r].count;
	assert_int_equal(n, want);
	assert_int_equal(total, NR);
	ld_group_acc_free(acc);
}

/* A top N that keeps most groups (N >= groups / 8, below which a heap selects them): the largest
 * groups come last in insertion order here, and must still be the ones returned, in order.
 * Once the N first groups in insertion order came back instead. */
static void test_top_of_few_groups(void **state)
{
	(void)state;
	enum { NG = 30, TOP = 20, NR = NG * (NG + 1) / 2 };
	static uint16_t dport[NR];
	static uint32_t src[NR], sel[NR];
	static ld_addr addrs[NG];
	uint32_t i = 0;
	for (uint32_t g = 0; g < NG; g++) { /* group g: g + 1 rows */
		ld_addr_from_v4(&addrs[g], 0x0a000001u + g);
		for (uint32_t k = 0; k <= g; k++, i++) {
			dport[i] = (uint16_t)(1000 + g);
			src[i] = g;
			sel[i] = i;
		}
	}
	ld_block b;
	memset(&b, 0, sizeof b);
	b.n = NR;
	b.dport = dport;
	b.src = src;
	b.addrs = addrs;
	b.n_addrs = NG;
	b.segment = "few";
	static const unsigned cols[] = {LD_QCOL_DPORT, LD_QCOL_SRC};
	for (unsigned c = 0; c < 2; c++) {
		ld_group_acc *acc = group_by_one(cols[c], &b, sel, NR);
		ld_err err;
		const ld_group_row *rows;
		size_t n;
		assert_int_equal(ld_group_acc_result(acc, TOP, &rows, &n, &err), 0);
		assert_int_equal(n, TOP);
		for (size_t r = 0; r < n; r++) {
			uint32_t g = NG - 1 - (uint32_t)r;
			assert_int_equal(rows[r].count, g + 1);
			if (cols[c] == LD_QCOL_DPORT)
				assert_int_equal(rows[r].key[0].num, 1000 + g);
			else
				assert_true(ld_addr_eq(&rows[r].key[0].addr, &addrs[g]));
		}
		ld_group_acc_free(acc);
	}
}

static void test_bad_specs(void **state)
{
	(void)state;
	ld_err err;
	ld_group_spec sp = {.cols = {LD_QCOL_TS}, .n_cols = 1, .distinct_col = -1};
	assert_null(ld_group_acc_new(&sp, &err));
	assert_non_null(strstr(err.msg, "ts"));
	ld_group_spec dup = {.cols = {LD_QCOL_SRC, LD_QCOL_SRC}, .n_cols = 2, .distinct_col = -1};
	assert_null(ld_group_acc_new(&dup, &err));
	ld_group_spec none = {.n_cols = 0, .distinct_col = -1};
	assert_null(ld_group_acc_new(&none, &err));
}

int main(void)
{
	build();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_src_count),
		cmocka_unit_test(test_group_src_distinct_dst),
		cmocka_unit_test(test_group_src_distinct_dst_peer_view),
		cmocka_unit_test(test_peer_view_bad_rank),
		cmocka_unit_test(test_group_src_dport),
		cmocka_unit_test(test_group_dport_distinct_src),
		cmocka_unit_test(test_group_reporter_distinct_dport),
		cmocka_unit_test(test_group_three_cols_distinct_reporter),
		cmocka_unit_test(test_group_values_only),
		cmocka_unit_test(test_merge_with_empty),
		cmocka_unit_test(test_dense_top),
		cmocka_unit_test(test_top_of_few_groups),
		cmocka_unit_test(test_bad_specs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
