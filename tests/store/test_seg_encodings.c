/* test_seg_encodings.c — the segment encodings that depend on the data: the peer table (dst as a
 * rank among its source's peers), the predicted string columns (rule, reporter, vif following
 * whichever endpoint predicts them), and the row shapes' exceptions (lengths and rare ports kept
 * in columns of only the rows that need them).  Each must read back bit-exact, be chosen when it pays and
 * only then, and fail loudly, never silently, when its bytes are damaged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "ld_archive.h"
#include "ld_query.h"
#include "ld_writer.h"
#include "store_internal.h"
#include "store_testutil.h"

enum { ROWS = 200000 };

typedef void (*gen_fn)(uint64_t seed, uint64_t i, ld_record *r, tg_bufs *b);

static void gen_estate(uint64_t seed, uint64_t i, ld_record *r, tg_bufs *b)
{
	tg_estate_record(seed, i, 600, r, b);
}

static void gen_random(uint64_t seed, uint64_t i, ld_record *r, tg_bufs *b)
{
	tg_record(seed, i, false, r, b);
}

/* Encodes ROWS rows of gen into e->file (in generation order, which is time order). */
static void encode(ld_seg_encoder *e, gen_fn gen, uint64_t seed)
{
	ld_rowset rs;
	assert_int_equal(ld_rowset_init(&rs, false), 0);
	uint32_t *idx = malloc(ROWS * sizeof(uint32_t));
	assert_non_null(idx);
	tg_bufs b;
	for (uint32_t i = 0; i < ROWS; i++) {
		ld_record r;
		gen(seed, i, &r, &b);
		assert_int_equal(ld_rowset_add(&rs, &r), 0);
		idx[i] = i;
	}
	ld_err err;
	assert_int_equal(ld_seg_encode(e, &rs, idx, ROWS, &err), 0);
	free(idx);
	ld_rowset_free(&rs);
}

/* Each test's encoder and decoder (cmocka state). */
typedef struct coder {
	ld_seg_encoder e;
	ld_decoder d;
} coder;

static int coder_setup(void **state)
{
	coder *c = calloc(1, sizeof(*c));
	if (!c || ld_seg_encoder_init(&c->e, 3) != 0 || ld_decoder_init(&c->d) != 0)
		return -1;
	*state = c;
	return 0;
}

static int coder_teardown(void **state)
{
	coder *c = *state;
	ld_decoder_free(&c->d);
	ld_seg_encoder_free(&c->e);
	free(c);
	return 0;
}

/* Encodes ROWS rows of gen and opens the segment image (in c->e.file) as s. */
static void encode_open(coder *c, gen_fn gen, uint64_t seed, ld_seg *s)
{
	encode(&c->e, gen, seed);
	ld_err err;
	assert_int_equal(ld_seg_open_mem(s, c->e.file.p, c->e.file.len, &c->d, &err), 0);
}

/* Decodes every block with every column and compares each row with the generator. */
static void check_rows(const ld_seg *s, ld_decoder *d, gen_fn gen, uint64_t seed)
{
	uint64_t i = 0;
	tg_bufs b;
	for (uint32_t bi = 0; bi < s->hdr.blocks; bi++) {
		ld_block blk;
		ld_err err;
		assert_int_equal(ld_seg_decode_block(d, s, bi, LD_COL_ALL, &blk, NULL, &err), 0);
		for (uint32_t k = 0; k < blk.n; k++, i++) {
			ld_record got, want;
			ld_block_record(&blk, k, &got);
			gen(seed, i, &want, &b);
			if (!tg_equal(&want, &got, false))
				fail_msg("row %llu differs after the round trip", (unsigned long long)i);
		}
	}
	assert_int_equal(i, ROWS);
}

static uint64_t column_bytes(const ld_seg *s, unsigned c)
{
	uint64_t total = 0;
	for (uint32_t bi = 0; bi < s->hdr.blocks; bi++)
		total += s->blocks[bi].cols[c].csize;
	return total;
}

/* The peer view (LD_COL_DST_RANK) names the same dst as the ids in every row, and is not
 * given when rule is asked for too (it is predicted from dst ids). */
static void check_peer_view(const ld_seg *s, ld_decoder *d)
{
	static uint32_t ids[LD_SEG_BLOCK_ROWS];
	ld_err err;
	for (uint32_t bi = 0; bi < s->hdr.blocks; bi++) {
		ld_block blk;
		assert_int_equal(ld_seg_decode_block(d, s, bi, LD_COL_SRC | LD_COL_DST, &blk, NULL, &err), 0);
		assert_null(blk.dst_rank);
		memcpy(ids, blk.dst, blk.n * sizeof *ids);
		assert_int_equal(ld_seg_decode_block(d, s, bi, LD_COL_SRC | LD_COL_DST | LD_COL_DST_RANK,
						     &blk, NULL, &err), 0);
		assert_null(blk.dst);
		assert_non_null(blk.dst_rank);
		assert_non_null(blk.peer_first);
		assert_non_null(blk.peer_dst);
		for (uint32_t i = 0; i < blk.n; i++) {
			uint32_t lo = blk.peer_first[blk.src[i]], hi = blk.peer_first[blk.src[i] + 1];
			assert_true(blk.dst_rank[i] < hi - lo);
			assert_int_equal(blk.peer_dst[lo + blk.dst_rank[i]], ids[i]);
		}
		assert_int_equal(ld_seg_decode_block(d, s, bi,
						     LD_COL_SRC | LD_COL_DST | LD_COL_DST_RANK | LD_COL_RULE,
						     &blk, NULL, &err), 0);
		assert_null(blk.dst_rank);
		assert_memory_equal(blk.dst, ids, blk.n * sizeof *ids);
	}
}

/* An estate: the peer table is used, dst shrinks well below src, the reporter follows the
 * source (seeded after the first block, misses listed sparsely) and vif (always empty for seed
 * 3) costs next to nothing; every row reads back. */
static void test_peer_table_round_trip(void **state)
{
	coder *c = *state;
	ld_decoder *d = &c->d;
	for (uint64_t seed = 3; seed <= 4; seed++) { /* odd: no vif; even: vif follows dst */
		ld_seg s;
		ld_err err;
		encode_open(c, gen_estate, seed, &s);
		assert_true(s.hdr.flags & LD_SEG_FLAG_PEERS);
		for (uint32_t bi = 0; bi < s.hdr.blocks; bi++)
			assert_int_equal(s.blocks[bi].cols[2].enc, LD_ENC_PEER_RANK);
		/* reporter follows the source: blocks after the first start from its seeds */
		assert_true(s.hdr.flags & LD_SEG_FLAG_SEEDS);
		/* dst without its table does not decode: no silent garbage */
		ld_block blk;
		assert_int_equal(ld_seg_decode_block(d, &s, 0, LD_COL_DST, &blk, NULL, &err), -1);
		/* columns that do not need it still do */
		assert_int_equal(ld_seg_decode_block(d, &s, 0, LD_COL_SRC | LD_COL_TS, &blk, NULL, &err), 0);
		assert_int_equal(ld_seg_load_peers(&s, d, &err), 0);
		/* nor a seeded reporter without its seeds */
		uint32_t *seeds = s.seed[1];
		assert_non_null(seeds);
		s.seed[1] = NULL;
		assert_int_equal(ld_seg_decode_block(d, &s, 1, LD_COL_REPORTER, &blk, NULL, &err), -1);
		s.seed[1] = seeds;
		check_rows(&s, d, gen_estate, seed);
		check_peer_view(&s, d);
		uint64_t src = column_bytes(&s, 1), dst = column_bytes(&s, 2);
		print_message("seed %llu: src %.3f B/row, dst %.3f B/row, reporter %.3f, vif %.3f\n",
			      (unsigned long long)seed, (double)src / ROWS, (double)dst / ROWS,
			      (double)column_bytes(&s, 9) / ROWS, (double)column_bytes(&s, 10) / ROWS);
		assert_true(dst * 2 < src);
		/* reporter: one miss per source and block, not one per row */
		assert_true(column_bytes(&s, 9) < ROWS / 20);
		if (seed == 3) /* one id per block: a few bytes */
			assert_true(column_bytes(&s, 10) < 40 * (uint64_t)s.hdr.blocks);
		ld_seg_close(&s);
	}
}

/* Shapes with exceptions: some blocks keep rare ports and many-valued lengths outside the
 * shapes; every row reads back (check_rows), the shape view plus its list of rare ports gives
 * each row's port, and group-by dport over the view counts right with all rows selected and with
 * every third. */
static void test_shape_exceptions(void **state)
{
	coder *c = *state;
	ld_decoder *d = &c->d;
	ld_seg s;
	ld_err err;
	encode_open(c, gen_estate, 5, &s);
	uint32_t rare_blocks = 0, mixed_len_blocks = 0;
	for (uint32_t bi = 0; bi < s.hdr.blocks; bi++) {
		rare_blocks += s.blocks[bi].cols[4].enc == LD_ENC_PLANES_SKIP;
		mixed_len_blocks += s.blocks[bi].cols[12].enc == LD_ENC_PLANES_SKIP;
	}
	assert_int_equal(rare_blocks, s.hdr.blocks);
	assert_int_equal(mixed_len_blocks, s.hdr.blocks);
	assert_int_equal(ld_seg_load_peers(&s, d, &err), 0);
	check_rows(&s, d, gen_estate, 5);
	static uint64_t want_all[65536], want_third[65536];
	memset(want_all, 0, sizeof(want_all));
	memset(want_third, 0, sizeof(want_third));
	ld_group_spec gs = {.cols = {LD_QCOL_DPORT}, .n_cols = 1, .distinct_col = -1};
	ld_group_acc *all = ld_group_acc_new(&gs, &err), *third = ld_group_acc_new(&gs, &err);
	assert_non_null(all);
	assert_non_null(third);
	static uint32_t sel_all[LD_SEG_BLOCK_ROWS], sel_third[LD_SEG_BLOCK_ROWS];
	uint64_t i = 0;
	tg_bufs b;
	for (uint32_t bi = 0; bi < s.hdr.blocks; bi++) {
		ld_block blk;
		assert_int_equal(ld_seg_decode_block(d, &s, bi, LD_COL_DPORT | LD_COL_SHAPE_DPORT, &blk,
						     NULL, &err), 0);
		assert_null(blk.dport);
		assert_true(blk.n_shapes > 0);
		assert_non_null(blk.shape_dport_out);
		uint32_t j = 0, n3 = 0;
		for (uint32_t k = 0; k < blk.n; k++, i++) {
			uint32_t r = blk.shape_rank8 ? blk.shape_rank8[k] : blk.shape_rank16[k];
			uint16_t port;
			if (blk.shape_dport_out[r]) {
				assert_true(j < blk.n_dport_exc);
				port = blk.dport_exc[j++];
			} else {
				port = blk.shape_dport[r];
			}
			ld_record want;
			gen_estate(5, i, &want, &b);
			assert_int_equal(port, want.dport);
			want_all[port]++;
			sel_all[k] = k;
			if (k % 3 == 0) {
				want_third[port]++;
				sel_third[n3++] = k;
			}
		}
		assert_int_equal(j, blk.n_dport_exc);
		assert_int_equal(ld_group_acc_add(all, &blk, sel_all, blk.n, &err), 0);
		assert_int_equal(ld_group_acc_add(third, &blk, sel_third, n3, &err), 0);
	}
	ld_group_acc *accs[2] = {all, third};
	uint64_t *wants[2] = {want_all, want_third};
	for (int a = 0; a < 2; a++) {
		const ld_group_row *rows;
		size_t n;
		assert_int_equal(ld_group_acc_result(accs[a], 0, &rows, &n, &err), 0);
		size_t groups = 0;
		for (uint32_t p = 0; p < 65536; p++)
			groups += wants[a][p] > 0;
		assert_int_equal(n, groups);
		for (size_t r = 0; r < n; r++)
			assert_int_equal(rows[r].count, wants[a][rows[r].key[0].num]);
		ld_group_acc_free(accs[a]);
	}
	ld_seg_close(&s);
}

/* Destinations with no structure: the table would not pay, dst stays plain ids. */
static void test_plain_dst_without_structure(void **state)
{
	coder *c = *state;
	ld_decoder *d = &c->d;
	ld_seg s;
	ld_err err;
	encode_open(c, gen_random, 8, &s);
	assert_false(s.hdr.flags & LD_SEG_FLAG_PEERS);
	for (uint32_t bi = 0; bi < s.hdr.blocks; bi++)
		assert_int_equal(s.blocks[bi].cols[2].enc, LD_ENC_PLANES);
	assert_int_equal(ld_seg_load_peers(&s, d, &err), 0); /* a no-op */
	check_rows(&s, d, gen_random, 8);
	ld_seg_close(&s);
}

/* A flipped byte in the peer table is caught by its checksum; under a fuzzer's ignored
 * checksums, a damaged table or rank yields a decode error, never an out-of-list address. */
static void test_peer_table_damage(void **state)
{
	coder *c = *state;
	ld_decoder *d = &c->d;
	const ld_buf *img = &c->e.file;
	ld_seg s;
	ld_err err;
	encode_open(c, gen_estate, 3, &s);
	uint64_t lo = s.ftr.dict_off + s.ftr.dict_csize, hi = s.ftr.index_off;
	assert_true(hi > lo);
	ld_seg_close(&s);
	uint8_t *m = malloc(img->len);
	assert_non_null(m);
	for (int where = 0; where < 3; where++) {
		memcpy(m, img->p, img->len);
		m[lo + (hi - lo) * (uint64_t)(where + 1) / 4] ^= 0x10;
		assert_int_equal(ld_seg_open_mem(&s, m, img->len, d, &err), 0);
		assert_int_equal(ld_seg_load_peers(&s, d, &err), -1);
		assert_non_null(strstr(err.msg, "peer table"));
		ld_seg_close(&s);
	}
	free(m);
}

/* Through the writer and the parallel scan: a host on the dst side, on either side, and a
 * dport, over several segments with peer tables, count what the generator says. */
static void test_scan_with_peer_tables(void **state)
{
	(void)state;
	char dir[256];
	tu_tempdir(dir, sizeof(dir), "peers");
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.segment_rows = 70000;
	ld_err err;
	ld_writer *w = ld_writer_open(dir, &o, &err);
	assert_non_null(w);
	tg_bufs b;
	const uint64_t n = 250000;
	for (uint64_t i = 0; i < n; i++) {
		ld_record r;
		tg_estate_record(6, i, 600, &r, &b);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
	}
	assert_int_equal(ld_writer_close(w, &err), 0);
	ld_record probe; /* an IPv4 desktop (so also a source) that is some source's peer on 445 */
	for (uint64_t i = 12345; i < n; i++) {
		tg_estate_record(6, i, 600, &probe, &b);
		uint32_t di = probe.dst.b[14] * 200u + probe.dst.b[15];
		if (probe.dport == 445 && probe.dst.b[15] < 200 && di < 600 && di % 10 != 3)
			break;
	}
	ld_archive *a = ld_archive_open(dir, &err);
	assert_non_null(a);
	for (int side = 0; side <= 2; side++) {
		ld_scan_spec s;
		ld_scan_spec_init(&s);
		s.hosts = &probe.dst;
		s.n_hosts = 1;
		s.host_side = side;
		s.dport = side == 0 ? 445 : -1;
		s.columns = LD_COL_REPORTER;
		s.threads = 2;
		tu_match_count c = {&s, 0};
		ld_scan_stats st;
		assert_int_equal(ld_scan(a, &s, tu_count_matches, &c, &st, &err), 0);
		assert_int_equal(st.segments_damaged, 0);
		uint64_t want = 0;
		for (uint64_t i = 0; i < n; i++) {
			ld_record r;
			tg_estate_record(6, i, 600, &r, &b);
			bool hit = (side != 2 && ld_addr_eq(&r.src, &probe.dst)) ||
				   (side != 1 && ld_addr_eq(&r.dst, &probe.dst));
			want += hit && (s.dport < 0 || r.dport == s.dport);
		}
		assert_true(want > 0);
		assert_int_equal(c.matched, want);
	}
	ld_archive_close(a);
	tu_rmrf(dir);
}

/* Segments written by earlier encoders (one varint per predicted row keyed by direction only,
 * shape ranks as varints, no peer table) still read back exactly: seeds of the fuzz corpus kept
 * from then, made by gen_seg_corpus from tg_record(seed, row). */
static const char *corpus_dir;

static void test_older_segments(void **state)
{
		static const struct {
		const char *file;
		uint64_t seed;
		unsigned rows;
		bool raw;
	} olds[] = {
		{"v1-predict-shape-len.lds", 9, 300, false},
		{"v1-predict-columns-raw.lds", 10, 150, true},
	};
	ld_decoder *d = &((coder *)*state)->d;
	for (size_t f = 0; f < sizeof(olds) / sizeof(olds[0]); f++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", corpus_dir, olds[f].file);
		ld_seg s;
		ld_err err;
		if (ld_seg_open_file(&s, path, d, &err) != 0)
			fail_msg("%s: %s", path, err.msg);
		assert_int_equal(s.hdr.rows, olds[f].rows);
		assert_int_equal(ld_seg_load_peers(&s, d, &err), 0);
		uint64_t i = 0;
		tg_bufs b;
		for (uint32_t bi = 0; bi < s.hdr.blocks; bi++) {
			ld_block blk;
			assert_int_equal(ld_seg_decode_block(d, &s, bi, LD_COL_ALL, &blk, NULL, &err), 0);
			for (uint32_t k = 0; k < blk.n; k++, i++) {
				ld_record got, want;
				ld_block_record(&blk, k, &got);
				tg_record(olds[f].seed, i, olds[f].raw, &want, &b);
				if (!tg_equal(&want, &got, olds[f].raw))
					fail_msg("%s: row %llu differs", olds[f].file, (unsigned long long)i);
			}
		}
		assert_int_equal(i, olds[f].rows);
		ld_seg_close(&s);
	}
	ld_decoder_free(d);
}

int main(int argc, char **argv)
{
	corpus_dir = argc > 1 ? argv[1] : "tests/store/corpus";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_peer_table_round_trip, coder_setup, coder_teardown),
		cmocka_unit_test_setup_teardown(test_plain_dst_without_structure, coder_setup, coder_teardown),
		cmocka_unit_test_setup_teardown(test_shape_exceptions, coder_setup, coder_teardown),
		cmocka_unit_test_setup_teardown(test_peer_table_damage, coder_setup, coder_teardown),
		cmocka_unit_test(test_scan_with_peer_tables),
		cmocka_unit_test_setup_teardown(test_older_segments, coder_setup, coder_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
