/* seg_encode.c — turns time-ordered rows into one segment image (see segment_format.h) and
 * writes it durably.  Contexts and scratch buffers live in ld_seg_encoder and are reused from
 * segment to segment, so sealing does not allocate per row. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"

int ld_seg_encoder_init(ld_seg_encoder *e, int level)
{
	memset(e, 0, sizeof(*e));
	e->cctx = ZSTD_createCCtx();
	e->level = level;
	e->col_u32 = malloc(LD_SEG_BLOCK_ROWS * sizeof(uint32_t));
	e->miss_row = malloc(LD_SEG_BLOCK_ROWS * sizeof(uint32_t));
	if (!e->cctx || !e->col_u32 || !e->miss_row || ld_shape_enc_init(&e->shape) != 0) {
		ld_seg_encoder_free(e);
		return -1;
	}
	return 0;
}

void ld_seg_encoder_free(ld_seg_encoder *e)
{
	ZSTD_freeCCtx(e->cctx);
	ld_buf_free(&e->file);
	ld_dio_free(&e->dio);
	ld_buf_free(&e->col);
	ld_buf_free(&e->tmp);
	free(e->addr_map);
	free(e->str_map);
	free(e->seg_addr_ids);
	free(e->seg_str_ids);
	free(e->pred);
	for (int c = 0; c < 3; c++)
		free(e->seed[c]);
	free(e->col_u32);
	free(e->miss_row);
	free(e->peer_first);
	free(e->peer_dst);
	free(e->peer_rank);
	free(e->peer_rows);
	free(e->peer_keys);
	free(e->peer_count);
	ld_shape_enc_free(&e->shape);
	memset(e, 0, sizeof(*e));
}

/* --- dictionaries ------------------------------------------------------------------------- */

/* qsort has no context argument: the row set being sorted is a thread-local. */
static __thread const ld_rowset *tl_rs;

static int cmp_addr_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return memcmp(tl_rs->addrs[x].b, tl_rs->addrs[y].b, 16);
}

/* Segment address ids in address order.  Drop logs are mostly IPv4: then the order is that of
 * the 32-bit big-endian value, sorted by radix on (value << 32 | row-set id) with byte passes
 * that every key shares skipped; anything else goes through qsort on the 16 bytes. */
static int sort_addr_ids(const ld_rowset *rs, uint32_t *ids, uint32_t n)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint64_t *k = n > 64 ? malloc((size_t)n * 2 * sizeof(uint64_t)) : NULL;
	bool v4 = k != NULL;
	for (uint32_t i = 0; v4 && i < n; i++) {
		const uint8_t *b = rs->addrs[ids[i]].b;
		if (memcmp(b, mapped, 12) != 0) {
			v4 = false;
			break;
		}
		uint32_t x = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
		k[i] = (uint64_t)x << 32 | ids[i];
	}
	if (!v4) {
		free(k);
		tl_rs = rs;
		qsort(ids, n, sizeof(uint32_t), cmp_addr_id);
		return 0;
	}
	const uint64_t *src = ld_radix_sort_u64(k, k + n, n, 4);
	for (uint32_t i = 0; i < n; i++)
		ids[i] = (uint32_t)src[i];
	free(k);
	return 0;
}

static int cmp_str_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	ld_str s = ld_rowset_str(tl_rs, x), t = ld_rowset_str(tl_rs, y);
	uint32_t n = s.len < t.len ? s.len : t.len;
	int c = n ? memcmp(s.ptr, t.ptr, n) : 0;
	if (c)
		return c;
	return s.len < t.len ? -1 : s.len > t.len;
}

static int grow_u32(uint32_t **p, uint32_t *cap, uint32_t need)
{
	if (need <= *cap)
		return 0;
	uint32_t *np = realloc(*p, (size_t)need * sizeof(uint32_t));
	if (!np)
		return -1;
	*p = np;
	*cap = need;
	return 0;
}

/* Builds sorted segment dictionaries for the rows used; fills addr_map/str_map (row-set id ->
 * segment id + 1) and seg_*_ids (segment id -> row-set id). */
static int build_dicts(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, size_t n,
		       uint32_t *n_addrs, uint32_t *n_strs)
{
	uint32_t cap_a = e->map_cap_addrs, cap_s = e->map_cap_strs;
	if (grow_u32(&e->addr_map, &e->map_cap_addrs, rs->n_addrs + 1) != 0 ||
	    grow_u32(&e->str_map, &e->map_cap_strs, rs->n_strs + 1) != 0)
		return -1;
	(void)cap_a;
	(void)cap_s;
	uint32_t *ids_a = realloc(e->seg_addr_ids, ((size_t)rs->n_addrs + 1) * sizeof(uint32_t));
	if (!ids_a)
		return -1;
	e->seg_addr_ids = ids_a;
	uint32_t *ids_s = realloc(e->seg_str_ids, ((size_t)rs->n_strs + 1) * sizeof(uint32_t));
	if (!ids_s)
		return -1;
	e->seg_str_ids = ids_s;
	memset(e->addr_map, 0, ((size_t)rs->n_addrs + 1) * sizeof(uint32_t));
	memset(e->str_map, 0, ((size_t)rs->n_strs + 1) * sizeof(uint32_t));
	uint32_t na = 0, ns = 0;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = idx[k];
		uint32_t a[2] = {rs->src[i], rs->dst[i]};
		for (int j = 0; j < 2; j++)
			if (!e->addr_map[a[j]]) {
				e->addr_map[a[j]] = 1;
				ids_a[na++] = a[j];
			}
		uint32_t s[3] = {rs->rule[i], rs->reporter[i], rs->vif[i]};
		for (int j = 0; j < 3; j++)
			if (!e->str_map[s[j]]) {
				e->str_map[s[j]] = 1;
				ids_s[ns++] = s[j];
			}
	}
	sort_addr_ids(rs, ids_a, na);
	tl_rs = rs;
	qsort(ids_s, ns, sizeof(uint32_t), cmp_str_id);
	for (uint32_t k = 0; k < na; k++)
		e->addr_map[ids_a[k]] = k;
	for (uint32_t k = 0; k < ns; k++)
		e->str_map[ids_s[k]] = k;
	*n_addrs = na;
	*n_strs = ns;
	return 0;
}

/* --- columns ------------------------------------------------------------------------------ */

/* Compresses e->col into the file and fills the column reference.  Encoded columns are close to
 * their entropy after the transforms above, where zstd level 1 measured as small as level 3 and
 * faster; the configured level applies to raw lines, which are text.  `part` > 0 cuts the input
 * into frames of that many bytes (after a `head`-byte header that rides with the first frame):
 * byte planes get one zstd frame each, so each gets its own entropy table instead of one table
 * for a mixture of planes.  The decoder inflates concatenated frames in one call. */
static int put_column_parts(ld_seg_encoder *e, ld_seg_col *c, uint8_t enc, size_t head, size_t part,
			    ld_err *err)
{
	size_t bound = ZSTD_compressBound(e->col.len) + 64 * (part ? e->col.len / part + 1 : 1);
	if (ld_buf_reserve(&e->file, bound) != 0) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	size_t start = e->file.len, in = 0;
	while (in < e->col.len || in == 0) {
		size_t chunk = part ? (in == 0 ? head + part : part) : e->col.len;
		if (chunk > e->col.len - in)
			chunk = e->col.len - in;
		size_t z = ZSTD_compressCCtx(e->cctx, e->file.p + e->file.len, bound - (e->file.len - start),
					     e->col.p + in, chunk, enc == LD_ENC_BYTES ? e->level : 1);
		if (ZSTD_isError(z)) {
			ld_err_set(err, "zstd: %s", ZSTD_getErrorName(z));
			return -1;
		}
		e->file.len += z;
		in += chunk;
		if (chunk == 0)
			break;
	}
	c->off = start;
	c->csize = (uint32_t)(e->file.len - start);
	c->usize = (uint32_t)e->col.len;
	c->crc = ld_crc32c(0, e->file.p + start, c->csize);
	c->enc = enc;
	return 0;
}

static int put_column(ld_seg_encoder *e, ld_seg_col *c, uint8_t enc, ld_err *err)
{
	return put_column_parts(e, c, enc, 0, 0, err);
}

static int col_reset(ld_seg_encoder *e, size_t bytes)
{
	e->col.len = 0;
	return ld_buf_reserve(&e->col, bytes);
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Exact division by a fixed g = m << shift (m odd) without a divide instruction: for d a multiple
 * of g, d / g == (d >> shift) * m^-1 mod 2^64; d is a multiple of g exactly when its low `shift`
 * bits are zero and that product is at most (2^64 - 1) / m. */
typedef struct exact_div {
	uint64_t g, inv, limit;
	unsigned shift;
} exact_div;

static void exact_div_init(exact_div *x, uint64_t g)
{
	x->g = g;
	x->shift = (unsigned)__builtin_ctzll(g);
	uint64_t m = g >> x->shift, inv = m; /* m * m == 1 mod 8: 3 correct bits to start */
	for (int i = 0; i < 5; i++)          /* Newton: each step doubles them, 3 -> 96 */
		inv *= 2 - m * inv;
	x->inv = inv;
	x->limit = UINT64_MAX / m;
}

static inline bool exact_div_divides(const exact_div *x, uint64_t d)
{
	return (d & ((1ull << x->shift) - 1)) == 0 && (d >> x->shift) * x->inv <= x->limit;
}

static inline uint64_t exact_div_quot(const exact_div *x, uint64_t d)
{
	return (d >> x->shift) * x->inv;
}

/* Rows are time-ordered, so the deltas are non-negative; they are taken as unsigned 64-bit
 * differences, which stay exact for any pair of time stamps (and round-trip even for rows out
 * of order, modulo 2^64).  Deltas are stored divided by their greatest common divisor (10^6
 * for millisecond stamps); the divisions are multiplications (a divide per row was a fifth of
 * sealing). */
static void enc_ts(ld_seg_encoder *e, const int64_t *ts, const uint32_t *idx, uint32_t n)
{
	uint64_t g = 0;
	exact_div x = {0};
	for (uint32_t k = 1; k < n && g != 1; k++) {
		uint64_t d = (uint64_t)ts[idx[k]] - (uint64_t)ts[idx[k - 1]];
		if (d == 0 || (g && exact_div_divides(&x, d)))
			continue;
		g = gcd64(g, d);
		exact_div_init(&x, g);
	}
	if (g == 0)
		g = 1;
	exact_div_init(&x, g);
	uint8_t *p = e->col.p;
	*p++ = LD_ENC_TS_DELTA;
	int64_t base = ts[idx[0]];
	memcpy(p, &base, 8);
	memcpy(p + 8, &g, 8);
	p += 16;
	for (uint32_t k = 1; k < n; k++)
		p = ld_put_varint(p, exact_div_quot(&x, (uint64_t)ts[idx[k]] - (uint64_t)ts[idx[k - 1]]));
	e->col.len = (size_t)(p - e->col.p);
}

static void enc_planes32(ld_seg_encoder *e, const uint32_t *v, uint32_t n, uint32_t max_value)
{
	unsigned w = max_value < 0x100 ? 1 : max_value < 0x10000 ? 2 : max_value < 0x1000000 ? 3 : 4;
	uint8_t *p = e->col.p;
	*p++ = LD_ENC_PLANES;
	*p++ = (uint8_t)w;
	for (unsigned b = w; b-- > 0;) {
		unsigned shift = 8 * b;
		for (uint32_t k = 0; k < n; k++)
			p[k] = (uint8_t)(v[k] >> shift);
		p += n;
	}
	e->col.len = (size_t)(p - e->col.p);
}

static void enc_planes16(ld_seg_encoder *e, const uint16_t *v, const uint32_t *idx, uint32_t n)
{
	uint8_t *p = e->col.p;
	*p++ = LD_ENC_PLANES;
	*p++ = 2;
	for (uint32_t k = 0; k < n; k++) {
		uint16_t x = v[idx[k]];
		p[k] = (uint8_t)(x >> 8);
		p[n + k] = (uint8_t)x;
	}
	e->col.len = 2 + 2 * (size_t)n;
}

static void enc_raw8(ld_seg_encoder *e, const uint8_t *v, const uint32_t *idx, uint32_t n)
{
	uint8_t *p = e->col.p;
	*p++ = LD_ENC_RAW8;
	for (uint32_t k = 0; k < n; k++)
		p[k] = v[idx[k]];
	e->col.len = 1 + (size_t)n;
}

static void enc_len(ld_seg_encoder *e, const uint32_t *v, const uint32_t *idx, uint32_t n)
{
	uint8_t *p = e->col.p;
	*p++ = LD_ENC_VARINT;
	for (uint32_t k = 0; k < n; k++)
		p = ld_put_varint(p, v[idx[k]]);
	e->col.len = (size_t)(p - e->col.p);
}

/* Which endpoint a predicted string column follows (the byte after LD_ENC_PREDICT_BY);
 * PRED_SEEDED: the segment's seeded mode for the column (ld_seg_encoder.seed_mode). */
enum { PRED_BY_DIR = 0, PRED_BY_SRC = 1, PRED_BY_DST = 2, PRED_CONST = 3, PRED_SEEDED = 4 };

/* Rows of the block a predictor keyed `by` misses (each costs a varint; a hit costs a 0); with
 * seed, an endpoint not seen yet in the block is predicted to have its seed. */
static uint32_t predict_misses(ld_seg_encoder *e, unsigned by, const uint32_t *seed,
			       const uint32_t *sid, const uint32_t *src, const uint32_t *dst,
			       const uint8_t *dir, uint32_t n)
{
	uint64_t gen = (uint64_t)(++e->pred_gen) << 32;
	uint32_t misses = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t key = ld_pred_key(by, src[k], dst[k], dir[k]);
		uint64_t slot = e->pred[key];
		uint32_t guess = ld_pred_guess(slot, gen, seed, key);
		if (guess != sid[k]) {
			misses++;
			e->pred[key] = gen | sid[k];
		}
	}
	return misses;
}

/* String ids predicted from one endpoint of the row: 0 when equal to the last id seen for that
 * endpoint in this block, else id + 1.  Rule, reporter and vif follow a VM: in NSX logs the one
 * the direction names (src for OUT, dst for IN), in other sources often just the source or the
 * destination.  The block uses whichever of the three misses least; a block where every row has
 * the same id (no vif at all, one reporter) stores that id once.
 * Seeds: the first block that predicts column `col` leaves what it learnt (the last id of each
 * endpoint) as the segment's seeds for it; later blocks keyed the same way may start from them
 * instead of from nothing, so an endpoint's first row in a block costs nothing either. */
static void enc_predict(ld_seg_encoder *e, unsigned col, const uint32_t *sid, const uint32_t *src,
			const uint32_t *dst, const uint8_t *dir, uint32_t n)
{
	uint32_t same = 1;
	while (same < n && sid[same] == sid[0])
		same++;
	if (same == n) {
		uint8_t *p = e->col.p;
		*p++ = LD_ENC_PREDICT_BY;
		*p++ = PRED_CONST;
		p = ld_put_varint(p, sid[0]);
		e->col.len = (size_t)(p - e->col.p);
		return;
	}
	/* the seeded predictor first: when it misses next to nothing, no other is tried */
	const uint32_t *seed = NULL;
	int mode = e->seed_mode[col];
	uint32_t seeded = mode >= 0 ? predict_misses(e, (unsigned)mode, e->seed[col], sid, src, dst, dir, n)
				    : UINT32_MAX;
	unsigned by = PRED_BY_DIR;
	uint32_t best = UINT32_MAX;
	if (seeded > n / 64) {
		best = predict_misses(e, PRED_BY_DIR, NULL, sid, src, dst, dir, n);
		for (unsigned alt = PRED_BY_SRC; alt <= PRED_BY_DST && best > n / 64; alt++) {
			uint32_t m = predict_misses(e, alt, NULL, sid, src, dst, dir, n);
			if (m < best) {
				best = m;
				by = alt;
			}
		}
	}
	if (seeded < best) {
		by = PRED_SEEDED;
		seed = e->seed[col];
		e->seed_used[col] = true;
	}
	unsigned key_by = by == PRED_SEEDED ? (unsigned)mode : by;
	/* sparse: the rows the prediction misses (gaps between them), then their ids */
	uint32_t *miss_row = e->miss_row, *miss_id = e->col_u32, m = 0;
	uint64_t gen = (uint64_t)(++e->pred_gen) << 32;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t key = ld_pred_key(key_by, src[k], dst[k], dir[k]);
		uint64_t slot = e->pred[key];
		uint32_t id = sid[k];
		uint32_t guess = ld_pred_guess(slot, gen, seed, key);
		if (guess != id) {
			miss_row[m] = k;
			miss_id[m++] = id;
			e->pred[key] = gen | id;
		}
	}
	uint8_t *p = e->col.p;
	*p++ = LD_ENC_PREDICT_BY;
	*p++ = (uint8_t)(by | LD_PREDICT_SPARSE);
	p = ld_put_varint(p, m);
	for (uint32_t j = 0; j < m; j++)
		p = ld_put_varint(p, miss_row[j] - (j ? miss_row[j - 1] + 1 : 0));
	for (uint32_t j = 0; j < m; j++)
		p = ld_put_varint(p, miss_id[j]);
	e->col.len = (size_t)(p - e->col.p);
	if (mode < 0) { /* the first predicting block of the segment: its state seeds the rest */
		uint32_t *sd = e->seed[col];
		for (uint32_t a = 0; a < e->seed_n; a++)
			sd[a] = (e->pred[a] >> 32) == (gen >> 32) ? (uint32_t)e->pred[a] : UINT32_MAX;
		e->seed_mode[col] = (int8_t)by;
	}
}

static void set_bit(uint8_t *bits, uint32_t i)
{
	bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Scratch columns of one block in segment ids, for the zone maps and the predicted columns. */
typedef struct blk_ids {
	uint32_t *src, *dst, *rule, *reporter, *vif, *len;
	uint8_t *dir;
} blk_ids;

/* The shape keys of a block's rows, without len, rare destination ports left out; returns how
 * many rows left theirs out. */
static uint32_t make_shape_keys(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx,
				uint32_t n, const blk_ids *ids)
{
	for (uint32_t k = 0; k < n; k++)
		ld_shape_key(&e->shape.keys[k], rs, idx[k], ids->rule[k], false);
	return ld_shape_rare_dports(&e->shape, n);
}

/* dst_rank: the rows' ranks in the peer table, or NULL for a segment without one. */
static int encode_block(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, uint32_t n,
			const uint32_t *dst_rank, ld_seg_block *b, blk_ids *ids, ld_err *err)
{
	memset(b, 0, sizeof(*b));
	b->rows = n;
	b->ts_min = rs->ts[idx[0]];
	b->ts_max = rs->ts[idx[n - 1]];
	b->dport_min = UINT16_MAX;
	b->src_min = b->dst_min = UINT32_MAX;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = idx[k];
		uint32_t s = e->addr_map[rs->src[i]], d = e->addr_map[rs->dst[i]];
		ids->src[k] = s;
		ids->dst[k] = d;
		ids->rule[k] = e->str_map[rs->rule[i]];
		ids->reporter[k] = e->str_map[rs->reporter[i]];
		ids->vif[k] = e->str_map[rs->vif[i]];
		ids->dir[k] = rs->dir[i];
		if (rs->ts[i] < b->ts_min)
			b->ts_min = rs->ts[i];
		if (rs->ts[i] > b->ts_max)
			b->ts_max = rs->ts[i];
		uint16_t dp = rs->dport[i];
		if (dp < b->dport_min)
			b->dport_min = dp;
		if (dp > b->dport_max)
			b->dport_max = dp;
		set_bit(b->dport_bits, dp % LD_SEG_PORT_BITS);
		set_bit(b->proto_bits, rs->proto[i]);
		b->action_mask |= (uint8_t)(1u << (rs->action[i] & 7));
		if (s < b->src_min)
			b->src_min = s;
		if (s > b->src_max)
			b->src_max = s;
		if (d < b->dst_min)
			b->dst_min = d;
		if (d > b->dst_max)
			b->dst_max = d;
		set_bit(b->src_bits, s % LD_SEG_ADDR_BITS);
		set_bit(b->dst_bits, d % LD_SEG_ADDR_BITS);
	}
	size_t shape_head = 0; /* bytes of the shape column before its rank planes */
	size_t worst = 32 + (size_t)n * 10;
	if (col_reset(e, worst) != 0)
		goto oom;
#define PUT(col, enc)                                                                            \
	if (put_column(e, &b->cols[col], enc, err) != 0)                                         \
		return -1;
#define PUT_PLANES(col, enc, plane)                                                              \
	if (put_column_parts(e, &b->cols[col], enc, (col) == 5 ? shape_head : 2, plane, err) != 0) \
		return -1;
	enc_ts(e, rs->ts, idx, n);
	PUT(0, LD_ENC_TS_DELTA);
	enc_planes32(e, ids->src, n, b->src_max);
	PUT_PLANES(1, LD_ENC_PLANES, n);
	if (dst_rank) {
		uint32_t mx = 0;
		for (uint32_t k = 0; k < n; k++)
			mx = dst_rank[k] > mx ? dst_rank[k] : mx;
		enc_planes32(e, dst_rank, n, mx);
		e->col.p[0] = LD_ENC_PEER_RANK;
		PUT_PLANES(2, LD_ENC_PEER_RANK, n);
	} else {
		enc_planes32(e, ids->dst, n, b->dst_max);
		PUT_PLANES(2, LD_ENC_PLANES, n);
	}
	/* row shapes: first without len, rare ports out; then len goes into the shapes that have
	 * few lengths (all of them, when they all do), the others keep theirs in the len column */
	uint32_t max_rule = 0;
	for (uint32_t k = 0; k < n; k++)
		max_rule = ids->rule[k] > max_rule ? ids->rule[k] : max_rule;
	uint8_t len_mode = LD_SHAPE_LEN_NONE;
	uint32_t dport_out = make_shape_keys(e, rs, idx, n, ids);
	/* rule ids share their word with the shape flags */
	int shaped = max_rule > LD_SHAPE_MAX_RULE_ID ? 1 : ld_shape_encode(&e->shape, n, len_mode, &e->col, &shape_head);
	if (shaped < 0)
		goto oom;
	uint32_t len_out = n;
	if (shaped == 0) {
		for (uint32_t k = 0; k < n; k++)
			ids->len[k] = rs->len[idx[k]];
		len_out = ld_shape_split_len(&e->shape, n, ids->len);
		if (len_out < n) {
			len_mode = len_out ? LD_SHAPE_LEN_MIXED : LD_SHAPE_LEN_ALL;
			shaped = ld_shape_encode(&e->shape, n, len_mode, &e->col, &shape_head);
			if (shaped < 0)
				goto oom;
			if (shaped == 1) { /* more shapes than a block may have: back to none */
				len_mode = LD_SHAPE_LEN_NONE;
				len_out = n;
				make_shape_keys(e, rs, idx, n, ids);
				shaped = ld_shape_encode(&e->shape, n, len_mode, &e->col, &shape_head);
				if (shaped < 0)
					goto oom;
			}
		}
	}
	if (shaped == 0) {
		PUT_PLANES(5, LD_ENC_SHAPE, n);
		static const unsigned members[] = {4, 6, 7, 8, 11, 13, 14};
		for (unsigned m = 0; m < sizeof(members) / sizeof(members[0]); m++)
			b->cols[members[m]].enc = LD_ENC_IN_SHAPE;
		if (dport_out) { /* the rare ports, in row order */
			uint8_t *p = e->col.p;
			*p++ = LD_ENC_PLANES_SKIP;
			*p++ = 2;
			uint8_t *hi = p, *lo = p + dport_out;
			for (uint32_t k = 0; k < n; k++)
				if (e->shape.keys[k].rule & LD_SHAPE_DPORT_OUT) {
					uint16_t x = rs->dport[idx[k]];
					*hi++ = (uint8_t)(x >> 8);
					*lo++ = (uint8_t)x;
				}
			e->col.len = 2 + 2 * (size_t)dport_out;
			PUT_PLANES(4, LD_ENC_PLANES_SKIP, dport_out);
		}
		if (len_mode == LD_SHAPE_LEN_ALL) {
			b->cols[12].enc = LD_ENC_IN_SHAPE;
		} else if (len_mode == LD_SHAPE_LEN_MIXED) {
			/* the rows' lengths above their shape's smallest, as byte planes */
			uint32_t mx = 0;
			for (uint32_t k = 0; k < n; k++)
				if (e->shape.keys[k].rule & LD_SHAPE_LEN_OUT) {
					uint32_t r = ids->len[k] - e->shape.keys[k].len;
					mx = r > mx ? r : mx;
				}
			unsigned w = mx < 0x100 ? 1 : mx < 0x10000 ? 2 : mx < 0x1000000 ? 3 : 4;
			uint8_t *p = e->col.p;
			*p++ = LD_ENC_PLANES_SKIP;
			*p++ = (uint8_t)w;
			for (unsigned pl = w; pl-- > 0;)
				for (uint32_t k = 0; k < n; k++)
					if (e->shape.keys[k].rule & LD_SHAPE_LEN_OUT)
						*p++ = (uint8_t)((ids->len[k] - e->shape.keys[k].len) >> (8 * pl));
			e->col.len = (size_t)(p - e->col.p);
			PUT_PLANES(12, LD_ENC_PLANES_SKIP, len_out);
		} else {
			enc_len(e, rs->len, idx, n);
			PUT(12, LD_ENC_VARINT);
		}
		/* sport planes for the rows whose sport differs from dport */
		uint8_t *p = e->col.p;
		*p++ = LD_ENC_PLANES_SKIP;
		*p++ = 2;
		uint32_t m = 0;
		for (uint32_t k = 0; k < n; k++)
			if (rs->sport[idx[k]] != rs->dport[idx[k]])
				m++;
		uint8_t *hi = p, *lo = p + m;
		for (uint32_t k = 0; k < n; k++) {
			uint16_t x = rs->sport[idx[k]];
			if (x != rs->dport[idx[k]]) {
				*hi++ = (uint8_t)(x >> 8);
				*lo++ = (uint8_t)x;
			}
		}
		e->col.len = 2 + 2 * (size_t)m;
		PUT_PLANES(3, LD_ENC_PLANES_SKIP, m ? m : 1);
	} else {
		enc_planes16(e, rs->sport, idx, n);
		PUT_PLANES(3, LD_ENC_PLANES, n);
		enc_planes16(e, rs->dport, idx, n);
		PUT_PLANES(4, LD_ENC_PLANES, n);
		enc_raw8(e, rs->proto, idx, n);
		PUT(5, LD_ENC_RAW8);
		enc_raw8(e, rs->action, idx, n);
		PUT(6, LD_ENC_RAW8);
		enc_raw8(e, rs->dir, idx, n);
		PUT(7, LD_ENC_RAW8);
		enc_predict(e, 0, ids->rule, ids->src, ids->dst, ids->dir, n);
		PUT(8, LD_ENC_PREDICT_BY);
		enc_raw8(e, rs->flags, idx, n);
		PUT(11, LD_ENC_RAW8);
		enc_len(e, rs->len, idx, n);
		PUT(12, LD_ENC_VARINT);
		enc_raw8(e, rs->format, idx, n);
		PUT(13, LD_ENC_RAW8);
		enc_raw8(e, rs->present, idx, n);
		PUT(14, LD_ENC_RAW8);
	}
	enc_predict(e, 1, ids->reporter, ids->src, ids->dst, ids->dir, n);
	PUT(9, LD_ENC_PREDICT_BY);
	enc_predict(e, 2, ids->vif, ids->src, ids->dst, ids->dir, n);
	PUT(10, LD_ENC_PREDICT_BY);
	size_t total = 0;
	for (uint32_t k = 0; rs->keep_raw && k < n; k++)
		total += rs->raw_len[idx[k]];
	if (total) { /* blocks without any raw line store no raw column */
		if (col_reset(e, 1 + (size_t)n * 5 + total) != 0)
			goto oom;
		uint8_t *p = e->col.p;
		*p++ = LD_ENC_BYTES;
		for (uint32_t k = 0; k < n; k++)
			p = ld_put_varint(p, rs->raw_len[idx[k]]);
		for (uint32_t k = 0; k < n; k++) {
			uint32_t l = rs->raw_len[idx[k]];
			if (l)
				memcpy(p, rs->raw_bytes.p + rs->raw_off[idx[k]], l);
			p += l;
		}
		e->col.len = (size_t)(p - e->col.p);
		PUT(15, LD_ENC_BYTES);
	}
#undef PUT
#undef PUT_PLANES
	return 0;
oom:
	ld_err_set(err, "out of memory");
	return -1;
}

static int encode_dicts(ld_seg_encoder *e, const ld_rowset *rs, uint32_t na, uint32_t ns,
			ld_seg_footer *f, ld_err *err)
{
	size_t bytes = (size_t)na * 16 + (size_t)ns * 4;
	for (uint32_t k = 0; k < ns; k++)
		bytes += rs->str_len[e->seg_str_ids[k]];
	if (col_reset(e, bytes) != 0) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	uint8_t *p = e->col.p;
	for (unsigned plane = 0; plane < 16; plane++)
		for (uint32_t k = 0; k < na; k++)
			*p++ = rs->addrs[e->seg_addr_ids[k]].b[plane];
	for (uint32_t k = 0; k < ns; k++) {
		uint32_t l = rs->str_len[e->seg_str_ids[k]];
		memcpy(p, &l, 4);
		p += 4;
	}
	for (uint32_t k = 0; k < ns; k++) {
		ld_str s = ld_rowset_str(rs, e->seg_str_ids[k]);
		if (s.len)
			memcpy(p, s.ptr, s.len);
		p += s.len;
	}
	e->col.len = (size_t)(p - e->col.p);
	ld_seg_col c;
	if (put_column(e, &c, 0, err) != 0)
		return -1;
	f->dict_off = c.off;
	f->dict_csize = c.csize;
	f->dict_usize = c.usize;
	f->dict_crc = c.crc;
	return 0;
}

int ld_seg_encode(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, size_t n,
		  ld_err *err)
{
	if (n == 0 || n > LD_SEG_MAX_ROWS) {
		ld_err_set(err, "segment of %zu rows", n);
		return -1;
	}
	uint32_t na, ns;
	if (build_dicts(e, rs, idx, n, &na, &ns) != 0)
		goto oom;
	if (na > e->pred_cap) {
		e->pred_cap = 0;
		free(e->pred);
		e->pred = calloc(na, sizeof(uint64_t));
		bool ok = e->pred != NULL;
		for (int c = 0; c < 3; c++) {
			free(e->seed[c]);
			e->seed[c] = malloc(((size_t)na + 1) * sizeof(uint32_t));
			ok = ok && e->seed[c];
		}
		if (!ok)
			goto oom;
		e->pred_cap = na;
		e->pred_gen = 0;
	}
	e->seed_n = na;
	for (int c = 0; c < 3; c++) {
		e->seed_mode[c] = -1;
		e->seed_used[c] = false;
	}
	/* a peer table pays when sources repeat their destinations; a segment of mostly one-off
	 * pairs (a sweep) keeps plain dst ids */
	int64_t peers = ld_seg_build_peers(e, rs, idx, (uint32_t)n, na);
	if (peers < 0)
		goto oom;
	bool use_peers = peers > 0 && ld_seg_peers_pay(e, rs, idx, (uint32_t)n, na);
	uint32_t blocks = (uint32_t)((n + LD_SEG_BLOCK_ROWS - 1) / LD_SEG_BLOCK_ROWS);
	ld_seg_block *index = calloc(blocks, sizeof(ld_seg_block));
	uint32_t *scratch = malloc((size_t)LD_SEG_BLOCK_ROWS * 6 * sizeof(uint32_t) + LD_SEG_BLOCK_ROWS);
	if (!index || !scratch) {
		free(index);
		free(scratch);
		goto oom;
	}
	blk_ids ids = {scratch, scratch + LD_SEG_BLOCK_ROWS, scratch + 2 * LD_SEG_BLOCK_ROWS,
		       scratch + 3 * LD_SEG_BLOCK_ROWS, scratch + 4 * LD_SEG_BLOCK_ROWS,
		       scratch + 5 * LD_SEG_BLOCK_ROWS, (uint8_t *)(scratch + 6 * LD_SEG_BLOCK_ROWS)};
	e->file.len = 0;
	ld_seg_header h;
	memset(&h, 0, sizeof(h));
	if (ld_buf_append(&e->file, &h, sizeof(h)) != 0)
		goto oom_free;
	int64_t tmin = INT64_MAX, tmax = INT64_MIN;
	for (uint32_t b = 0; b < blocks; b++) {
		size_t start = (size_t)b * LD_SEG_BLOCK_ROWS;
		uint32_t cnt = (uint32_t)(n - start < LD_SEG_BLOCK_ROWS ? n - start : LD_SEG_BLOCK_ROWS);
		if (encode_block(e, rs, idx + start, cnt, use_peers ? e->peer_rank + start : NULL,
				 &index[b], &ids, err) != 0)
			goto fail;
		if (index[b].ts_min < tmin)
			tmin = index[b].ts_min;
		if (index[b].ts_max > tmax)
			tmax = index[b].ts_max;
	}
	ld_seg_footer f;
	memset(&f, 0, sizeof(f));
	if (encode_dicts(e, rs, na, ns, &f, err) != 0)
		goto fail;
	bool use_seeds = e->seed_used[0] || e->seed_used[1] || e->seed_used[2];
	if (use_peers || use_seeds) {
		size_t head = 0, plane = 0;
		e->col.len = 0;
		if ((use_peers && ld_seg_put_peers(e, na, &e->col, &head, &plane) != 0) ||
		    (use_seeds && ld_seg_put_seeds(e, na, &e->col) != 0))
			goto oom_free;
		ld_seg_col c; /* one frame per byte plane, the counts riding with the first */
		if (put_column_parts(e, &c, 0, head, plane, err) != 0)
			goto fail;
		f.peers_usize = c.usize;
		f.peers_crc = c.crc;
	}
	f.index_off = e->file.len;
	f.index_size = blocks * (uint32_t)sizeof(ld_seg_block);
	f.index_crc = ld_crc32c(0, index, f.index_size);
	if (ld_buf_append(&e->file, index, f.index_size) != 0)
		goto oom_free;
	memcpy(h.magic, LD_SEG_MAGIC, 8);
	h.version = LD_SEG_VERSION;
	h.header_size = sizeof(h);
	h.rows = n;
	h.blocks = blocks;
	h.block_rows = LD_SEG_BLOCK_ROWS;
	h.ts_min = tmin;
	h.ts_max = tmax;
	h.n_addrs = na;
	h.n_strs = ns;
	h.flags = (use_peers ? LD_SEG_FLAG_PEERS : 0) | (use_seeds ? LD_SEG_FLAG_SEEDS : 0);
	for (uint32_t b = 0; b < blocks; b++)
		if (index[b].cols[15].csize)
			h.flags |= LD_SEG_FLAG_RAW;
	h.crc = ld_crc32c(0, &h, offsetof(ld_seg_header, crc));
	memcpy(e->file.p, &h, sizeof(h));
	f.blocks = blocks;
	f.rows = n;
	f.file_crc = ld_crc32c(0, e->file.p, e->file.len);
	memcpy(f.magic, LD_SEG_END_MAGIC, 8);
	f.footer_crc = ld_crc32c(0, &f, offsetof(ld_seg_footer, footer_crc));
	if (ld_buf_append(&e->file, &f, sizeof(f)) != 0)
		goto oom_free;
	free(index);
	free(scratch);
	return 0;
oom_free:
	ld_err_set(err, "out of memory");
fail:
	free(index);
	free(scratch);
	return -1;
oom:
	ld_err_set(err, "out of memory");
	return -1;
}

/* The encoded file to fd: directly from an aligned copy, padded to whole units and cut back to
 * its length (the bytes are in memory already; through the page cache they would be copied once
 * more into pages allocated for them), or through the cache where direct I/O is refused. */
static int write_file(ld_seg_encoder *e, int fd, bool direct)
{
	size_t n = e->file.len, done;
	if (!direct)
		return ld_dio_pwrite(fd, &direct, e->file.p, n, 0, &done);
	size_t padded = ld_dio_round_up(n);
	if (ld_dio_reserve(&e->dio, padded) != 0) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(e->dio.p, e->file.p, n);
	memset(e->dio.p + n, 0, padded - n);
	if (ld_dio_pwrite(fd, &direct, e->dio.p, padded, 0, &done) != 0)
		return -1;
	return ftruncate(fd, (off_t)n);
}

int ld_seg_write(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, size_t n,
		 const char *dir, const char *rel, ld_seg_result *res, ld_err *err)
{
	if (ld_seg_encode(e, rs, idx, n, err) != 0)
		return -1;
	char path[4096], tmp[4096], pdir[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(pdir, sizeof(pdir), "%s", path);
	char *slash = strrchr(pdir, '/');
	*slash = '\0';
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", pdir, slash + 1) >= (int)sizeof(tmp)) {
		ld_err_set(err, "path too long: %s", path);
		return -1;
	}
	if (access(pdir, F_OK) != 0) {
		if (ld_mkdir_p(pdir, err) != 0)
			return -1;
		char segs[4096];
		snprintf(segs, sizeof(segs), "%s/segments", dir);
		if (ld_fsync_dir(segs, err) != 0)
			return -1;
	}
	bool direct = true;
	int fd = ld_dio_open(tmp, O_CREAT | O_TRUNC, 0444, &direct);
	if (fd < 0) {
		ld_err_errno(err, "%s", tmp);
		return -1;
	}
	if (write_file(e, fd, direct) != 0 || fsync(fd) != 0) {
		ld_err_errno(err, "write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		ld_err_errno(err, "rename %s", tmp);
		unlink(tmp);
		return -1;
	}
	if (ld_fsync_dir(pdir, err) != 0)
		return -1;
	res->size = e->file.len;
	res->rows = n;
	res->min_ns = rs->ts[idx[0]];
	res->max_ns = rs->ts[idx[n - 1]];
	crypto_generichash(res->digest, 32, e->file.p, e->file.len, NULL, 0);
	return 0;
}
