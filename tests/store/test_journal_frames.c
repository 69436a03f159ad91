/* test_journal_frames.c — the journal's column frames: rows, addresses, strings and raw lines
 * come back exactly, plain and zstd frames alike; a torn tail or a frame that does not follow
 * its predecessor ends the journal with the row set exactly as the frames before left it (so
 * a writer can go on from there); a journal of record frames from earlier versions continues
 * with column frames; pad frames (direct-I/O alignment) are skipped, and a malformed one ends
 * the journal.
 *
 * usage: test_journal_frames LEGACY_JOURNAL   (a record-frame journal from corpus_journal) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "store_internal.h"
#include "store_testgen.h"

static const char *legacy_path;

/* Appends one frame with rs's rows past *m (advanced), as the writer lays it out; compressed
 * when raw lines ride along or when force_z. */
static void put_frame(ld_buf *jnl, const ld_rowset *rs, ld_jnl_mark *m, bool force_z)
{
	ld_buf payload = {0};
	bool has_raw;
	assert_int_equal(ld_jnl_frame(&payload, rs, m, &has_raw), 0);
	const uint8_t *p = payload.p;
	size_t len = payload.len;
	uint32_t magic = LD_JNL_FRAME_COLS;
	uint8_t *z = NULL;
	if (has_raw || force_z) {
		size_t bound = ZSTD_compressBound(len);
		z = malloc(bound);
		assert_non_null(z);
		size_t zn = ZSTD_compress(z, bound, p, len, 1);
		assert_false(ZSTD_isError(zn));
		p = z;
		len = zn;
		magic = LD_JNL_FRAME_COLS_Z;
	}
	uint32_t hdr[4] = {magic, (uint32_t)len, (uint32_t)(rs->n - m->rows), 0};
	hdr[3] = ld_crc32c(ld_crc32c(0, &hdr[2], 4), p, len);
	assert_int_equal(ld_buf_append(jnl, hdr, 16), 0);
	assert_int_equal(ld_buf_append(jnl, p, len), 0);
	free(z);
	ld_buf_free(&payload);
	*m = (ld_jnl_mark){rs->n, rs->n_addrs, rs->n_strs};
}

static void start_journal(ld_buf *jnl)
{
	jnl->len = 0;
	assert_int_equal(ld_buf_append(jnl, LD_JNL_MAGIC, 8), 0);
}

static void add_rows(ld_rowset *rs, uint64_t seed, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++) {
		ld_record r;
		tg_bufs b;
		tg_record(seed, i, rs->keep_raw, &r, &b);
		assert_int_equal(ld_rowset_add(rs, &r), 0);
	}
}

static bool str_eq(ld_str a, ld_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Row i of got is row i of want, field by field (strings and raw by content). */
static void assert_same_rows(const ld_rowset *want, const ld_rowset *got, size_t n)
{
	assert_true(got->n >= n && want->n >= n);
	for (size_t i = 0; i < n; i++) {
		ld_record a, b;
		ld_rowset_get(want, i, &a);
		ld_rowset_get(got, i, &b);
		assert_int_equal(a.ts_ns, b.ts_ns);
		assert_memory_equal(a.src.b, b.src.b, 16);
		assert_memory_equal(a.dst.b, b.dst.b, 16);
		assert_int_equal(a.sport, b.sport);
		assert_int_equal(a.dport, b.dport);
		assert_int_equal(a.proto, b.proto);
		assert_int_equal(a.action, b.action);
		assert_int_equal(a.dir, b.dir);
		assert_int_equal(a.tcp_flags, b.tcp_flags);
		assert_int_equal(a.format, b.format);
		assert_int_equal(a.present, b.present);
		assert_int_equal(a.len, b.len);
		assert_true(str_eq(a.rule, b.rule));
		assert_true(str_eq(a.reporter, b.reporter));
		assert_true(str_eq(a.vif, b.vif));
		assert_true(str_eq(a.raw, b.raw));
	}
}

/* Frames of very different sizes (one row, thousands, a time span wider than u32 offsets),
 * plain and compressed, with and without raw lines. */
static void test_frames_round_trip(void **state)
{
	(void)state;
	for (int with_raw = 0; with_raw <= 1; with_raw++) {
		ld_rowset want, got;
		ld_rowset_init(&want, with_raw);
		ld_rowset_init(&got, true);
		ld_buf jnl = {0};
		start_journal(&jnl);
		ld_jnl_mark m = {0};
		add_rows(&want, 2, 0, 1);
		put_frame(&jnl, &want, &m, false);
		add_rows(&want, 3, 1, 7000);
		put_frame(&jnl, &want, &m, true);
		add_rows(&want, 2, 7000, 9000);
		/* a row far in the past: the frame must fall back to 64-bit times */
		ld_record r;
		tg_bufs b;
		tg_record(5, 9000, with_raw, &r, &b);
		r.ts_ns = INT64_C(86400000000000);
		assert_int_equal(ld_rowset_add(&want, &r), 0);
		put_frame(&jnl, &want, &m, false);

		uint64_t valid = 0;
		assert_int_equal(ld_jnl_parse(jnl.p, jnl.len, &got, &valid), 0);
		assert_int_equal(valid, jnl.len);
		assert_int_equal(got.n, want.n);
		assert_int_equal(got.n_addrs, want.n_addrs);
		assert_int_equal(got.n_strs, want.n_strs);
		assert_same_rows(&want, &got, want.n);
		ld_buf_free(&jnl);
		ld_rowset_free(&want);
		ld_rowset_free(&got);
	}
}

/* A torn last frame and a checksummed frame that does not follow its predecessor both end the
 * journal after the frame before; the row set then takes further frames as the writer would
 * append them, with the dictionaries consistent (ids of known values reused, new ones next). */
static void test_bad_frame_rolls_back(void **state)
{
	(void)state;
	ld_rowset want;
	ld_rowset_init(&want, true);
	ld_buf jnl = {0};
	start_journal(&jnl);
	ld_jnl_mark m = {0};
	add_rows(&want, 4, 0, 3000);
	put_frame(&jnl, &want, &m, false);
	size_t first_end = jnl.len;
	ld_jnl_mark after_first = m;
	add_rows(&want, 4, 3000, 5000);
	put_frame(&jnl, &want, &m, false);
	assert_true(want.n_addrs > after_first.addrs); /* the second frame adds dictionary entries */

	/* torn: the second frame cut short */
	ld_rowset got;
	ld_rowset_init(&got, true);
	uint64_t valid = 0;
	assert_int_equal(ld_jnl_parse(jnl.p, jnl.len - 7, &got, &valid), 0);
	assert_int_equal(valid, first_end);
	assert_int_equal(got.n, 3000);
	ld_rowset_free(&got);

	/* a valid checksum over a frame that does not fit: one whose first_row says it follows
	 * other rows (refused before anything is read), and one cut short inside its columns
	 * (refused after its dictionary entries were taken in, so those must be dropped again).
	 * Payloads are plain: raw lines make put_frame compress, so rebuild the frame here. */
	ld_buf bad = {0}, payload = {0};
	for (int variant = 0; variant < 2; variant++) {
		bad.len = 0;
		assert_int_equal(ld_buf_append(&bad, jnl.p, first_end), 0);
		bool has_raw;
		assert_int_equal(ld_jnl_frame(&payload, &want, &after_first, &has_raw), 0);
		if (variant == 0) {
			uint32_t wrong = 2999;
			memcpy(payload.p + 4, &wrong, 4);
		} else {
			payload.len -= 10;
		}
		uint32_t hdr[4] = {LD_JNL_FRAME_COLS, (uint32_t)payload.len, 2000, 0};
		hdr[3] = ld_crc32c(ld_crc32c(0, &hdr[2], 4), payload.p, payload.len);
		assert_int_equal(ld_buf_append(&bad, hdr, 16), 0);
		assert_int_equal(ld_buf_append(&bad, payload.p, payload.len), 0);
		ld_rowset_init(&got, true);
		assert_int_equal(ld_jnl_parse(bad.p, bad.len, &got, &valid), 0);
		assert_int_equal(valid, first_end);
		assert_int_equal(got.n, 3000);
		assert_int_equal(got.n_addrs, after_first.addrs);
		assert_int_equal(got.n_strs, after_first.strs);
		assert_same_rows(&want, &got, 3000);
		if (variant == 0)
			ld_rowset_free(&got);
	}
	/* intern tables match the rolled-back dictionaries: a known address keeps its id, one
	 * only the dropped frame had is new again */
	ld_record r;
	ld_rowset_get(&want, 0, &r);
	assert_int_equal(ld_rowset_intern_addr(&got, &r.src), (int64_t)got.src[0]);
	size_t fresh = 3000;
	while (fresh < want.n && want.src[fresh] < after_first.addrs)
		fresh++;
	assert_true(fresh < want.n);
	ld_rowset_get(&want, fresh, &r);
	assert_int_equal(ld_rowset_intern_addr(&got, &r.src), (int64_t)after_first.addrs);
	ld_rowset_free(&got);

	/* the writer's continuation: rows re-added after the rollback go into a frame appended
	 * where the valid part ended, and the whole journal replays */
	ld_rowset_init(&got, true);
	assert_int_equal(ld_jnl_parse(bad.p, bad.len, &got, &valid), 0);
	add_rows(&got, 4, 3000, 5000);
	bad.len = valid;
	ld_jnl_mark gm = after_first;
	put_frame(&bad, &got, &gm, false);
	ld_rowset_free(&got);
	ld_rowset_init(&got, true);
	assert_int_equal(ld_jnl_parse(bad.p, bad.len, &got, &valid), 0);
	assert_int_equal(valid, bad.len);
	assert_int_equal(got.n, 5000);
	assert_same_rows(&want, &got, 5000);
	ld_rowset_free(&got);
	ld_buf_free(&bad);
	ld_buf_free(&payload);
	ld_buf_free(&jnl);
	ld_rowset_free(&want);
}

/* A journal laid out as a direct-I/O writer writes it (magic padded to the first unit, every
 * frame padded to the next) replays the same rows; each padded write ends on a unit boundary,
 * and a pad frame that claims rows or fails its checksum ends the journal there. */
static void test_pad_frames(void **state)
{
	(void)state;
	ld_rowset want, got;
	ld_rowset_init(&want, true);
	ld_buf jnl = {0};
	start_journal(&jnl);
	assert_int_equal(ld_buf_reserve(&jnl, LD_JNL_ALIGN + 16), 0);
	jnl.len = ld_jnl_pad(jnl.p, jnl.len);
	assert_int_equal(jnl.len, LD_JNL_ALIGN);
	ld_jnl_mark m = {0};
	size_t ends[3];
	const uint64_t bounds[4] = {0, 1, 2500, 2600};
	for (int f = 0; f < 3; f++) {
		add_rows(&want, 7, bounds[f], bounds[f + 1]);
		put_frame(&jnl, &want, &m, f == 1);
		assert_int_equal(ld_buf_reserve(&jnl, LD_JNL_ALIGN + 16), 0);
		size_t before = jnl.len;
		jnl.len = ld_jnl_pad(jnl.p, jnl.len);
		assert_int_equal(jnl.len % LD_JNL_ALIGN, 0);
		assert_true(jnl.len - before >= 16 && jnl.len - before < LD_JNL_ALIGN + 16);
		ends[f] = jnl.len;
	}
	uint64_t valid = 0;
	ld_rowset_init(&got, true);
	assert_int_equal(ld_jnl_parse(jnl.p, jnl.len, &got, &valid), 0);
	assert_int_equal(valid, jnl.len);
	assert_int_equal(got.n, 2600);
	assert_same_rows(&want, &got, 2600);
	ld_rowset_free(&got);

	/* the pad after the second frame, broken two ways: the journal ends after frame two */
	size_t pad_at = ends[1] - 16;
	while (pad_at > ends[0]) { /* find the pad frame's header: its magic, scanning back */
		uint32_t mg;
		memcpy(&mg, jnl.p + pad_at, 4);
		if (mg == LD_JNL_FRAME_PAD)
			break;
		pad_at--;
	}
	assert_true(pad_at > ends[0]);
	for (int how = 0; how < 2; how++) {
		ld_buf bad = {0};
		assert_int_equal(ld_buf_append(&bad, jnl.p, jnl.len), 0);
		if (how == 0) { /* claims a row, checksum made to match */
			uint32_t hdr[4];
			memcpy(hdr, bad.p + pad_at, 16);
			hdr[2] = 1;
			hdr[3] = ld_crc32c(ld_crc32c(0, &hdr[2], 4), bad.p + pad_at + 16, hdr[1]);
			memcpy(bad.p + pad_at, hdr, 16);
		} else { /* a flipped filler byte */
			bad.p[pad_at + 20] ^= 1;
		}
		ld_rowset_init(&got, true);
		assert_int_equal(ld_jnl_parse(bad.p, bad.len, &got, &valid), 0);
		assert_int_equal(valid, pad_at);
		assert_int_equal(got.n, 2500);
		assert_same_rows(&want, &got, 2500);
		ld_rowset_free(&got);
		ld_buf_free(&bad);
	}
	ld_buf_free(&jnl);
	ld_rowset_free(&want);
}

/* A journal written with record frames (earlier versions) replays, and column frames appended
 * to it (as a writer recovering it does) follow on with ids counted across both kinds. */
static void test_legacy_then_columns(void **state)
{
	(void)state;
	ld_rowset got;
	ld_rowset_init(&got, true);
	uint64_t valid = 0;
	ld_err err = {0};
	assert_int_equal(ld_jnl_load(legacy_path, &got, &valid, &err), 0);
	assert_true(got.n > 0);
	size_t legacy_rows = got.n;
	FILE *f = fopen(legacy_path, "rb");
	assert_non_null(f);
	ld_buf jnl = {0};
	assert_int_equal(ld_buf_reserve(&jnl, valid), 0);
	assert_int_equal(fread(jnl.p, 1, valid, f), valid);
	fclose(f);
	jnl.len = valid;
	uint32_t tag;
	memcpy(&tag, jnl.p + 8, 4);
	assert_true(tag == LD_JNL_FRAME_MAGIC || tag == LD_JNL_FRAME_MAGIC_Z);

	ld_jnl_mark m = {got.n, got.n_addrs, got.n_strs};
	add_rows(&got, 6, 0, 2500);
	put_frame(&jnl, &got, &m, false);
	ld_rowset again;
	ld_rowset_init(&again, true);
	assert_int_equal(ld_jnl_parse(jnl.p, jnl.len, &again, &valid), 0);
	assert_int_equal(valid, jnl.len);
	assert_int_equal(again.n, legacy_rows + 2500);
	assert_same_rows(&got, &again, again.n);
	ld_rowset_free(&again);
	ld_rowset_free(&got);
	ld_buf_free(&jnl);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_journal_frames LEGACY_JOURNAL\n");
		return 2;
	}
	legacy_path = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_round_trip),
		cmocka_unit_test(test_bad_frame_rolls_back),
		cmocka_unit_test(test_legacy_then_columns),
		cmocka_unit_test(test_pad_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
