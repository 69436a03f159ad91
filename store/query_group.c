/* query_group.c — group-by with count and count-distinct over scan blocks.
 *
 * Two levels, so the per-row work stays on small integers:
 *  - per segment: every group column is replaced by a "code" (the dictionary id for addresses and
 *    strings, the value itself otherwise) and the codes are packed into one 64-bit local key.
 *    Counts go to a dense array when the key space is small, else to an open-addressing map;
 *    distinct pairs (local group, distinct code) go to a 64-bit hash set.
 *  - when the segment (dictionary) changes, local groups are translated to global keys (the
 *    decoded values as bytes) and merged into the accumulator's tables; threads' accumulators are
 *    merged the same way at the end.
 * Distinct values are kept as 16 bytes: addresses verbatim, numbers zero-padded, and strings as a
 * 128-bit hash of their bytes (two independent 64-bit hashes; a collision is astronomically
 * unlikely and would only undercount by one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pair_set.h"
#include "query_internal.h"
#include "set64.h"

#define DENSE_MAX_BITS 18
#define PDENSE_MAX_WORDS ((size_t)1 << 21) /* 16 MiB of pair bits */

static uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *s = p;
	uint64_t h = seed ^ (n * UINT64_C(0x9e3779b97f4a7c15));
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, s, 8);
		h = ld_mix64(h ^ v) * UINT64_C(0x9e3779b97f4a7c15);
		s += 8;
		n -= 8;
	}
	uint64_t v = 0;
	memcpy(&v, s, n);
	return ld_mix64(h ^ v ^ ((uint64_t)n << 56));
}

/* --- global groups and pairs ------------------------------------------------------------------- */

typedef struct group {
	uint64_t hash;
	size_t key_off;
	uint32_t key_len;
	uint64_t count, distinct;
} group;

/* Distinct values are interned per accumulator (16 bytes -> value id), so a distinct pair is
 * one 64-bit key (group id << 32 | value id) in a flat hash set. */
typedef struct vslot {
	uint64_t hash;
	uint32_t id; /* UINT32_MAX = empty */
} vslot;

struct ld_group_acc {
	ld_group_spec spec;
	/* global */
	group *groups;
	size_t n_groups, cap_groups;
	uint32_t *gtab; /* open addressing over groups: index+1, 0 = empty */
	size_t gtab_cap;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	uint8_t (*vals)[16]; /* interned distinct values, by id */
	size_t n_vals, cap_vals;
	vslot *vtab;
	size_t vtab_cap;
	ld_pair_set pairs; /* group id << 32 | value id */
	uint32_t *code_vid; /* per segment: distinct code -> value id (dense pairs) */
	size_t code_vid_cap;
	/* per segment.  The block's dictionaries are only valid during the scan callback, and
	 * local groups are translated after the segment's last block, so the accumulator keeps its
	 * own copy of the dictionaries it needs (seg_addrs/seg_strs point into these). */
	bool seg_valid;
	const void *seg_addrs_id, *seg_strs_id; /* the block's pointers, for identity only */
	const ld_addr *seg_addrs;
	const ld_str *seg_strs;
	ld_addr *addr_copy;
	size_t addr_copy_cap;
	ld_str *str_copy;
	size_t str_copy_cap;
	char *str_bytes;
	size_t str_bytes_cap;
	uint32_t seg_n_addrs, seg_n_strs;           /* copied entries */
	uint32_t seg_dict_n_addrs, seg_dict_n_strs; /* the block's counts, for identity */
	char seg_name[256];
	unsigned shift[LD_GROUP_MAX_COLS];
	unsigned bits[LD_GROUP_MAX_COLS];
	unsigned total_bits;
	bool dense;
	uint64_t *dense_counts; /* 1 << DENSE_MAX_BITS */
	uint32_t *touched;      /* dense codes seen in this segment */
	size_t n_touched;
	set64 lmap;  /* local key -> local index (hash mode) */
	uint64_t *lkeys, *lcounts;
	size_t n_local, cap_local;
	set64 lpairs; /* (local index << 32 | distinct code) */
	uint64_t last_pair;
	/* Dense distinct pairs: with a small key space and a small distinct domain (src x dst of
	 * one segment's dictionary), a bitmap of key rows, each pdom64 bits wide, replaces the
	 * hash set: one bit set per row, no probing. */
	bool pdense;
	uint32_t pdom, pdom64;
	uint64_t *pbits;
	size_t pbits_words;
	/* Peer view (LD_COL_DST_RANK, group by src counting distinct dst): a pair's distinct code
	 * is its position in the segment's peer lists, peer_first[src] + rank, which names one
	 * (src, dst) pair.  With pdense the bitmap is one bit per position instead of a row per
	 * key; peer_dst turns a position into its dst id at the flush. */
	bool pview;
	uint32_t *peer_first, *peer_dst; /* copies of the segment's */
	size_t peer_first_cap, peer_dst_cap;
	/* per-shape counts of one block (group-by dport over the shape view): four interleaved
	 * histograms of LD_BLOCK_MAX_SHAPES */
	uint32_t *shape_hist;
	/* result */
	ld_group_row *rows;
};

static bool col_is_addr(unsigned c)
{
	return c == LD_QCOL_SRC || c == LD_QCOL_DST;
}

static bool col_is_str(unsigned c)
{
	return c == LD_QCOL_RULE || c == LD_QCOL_REPORTER || c == LD_QCOL_VIF;
}

static unsigned col_value_bits(unsigned c)
{
	switch (c) {
	case LD_QCOL_SPORT:
	case LD_QCOL_DPORT: return 16;
	case LD_QCOL_LEN: return 32;
	default: return 8;
	}
}

static const uint32_t *col_ids(const ld_block *b, unsigned c)
{
	switch (c) {
	case LD_QCOL_SRC: return b->src;
	case LD_QCOL_DST: return b->dst;
	case LD_QCOL_RULE: return b->rule;
	case LD_QCOL_REPORTER: return b->reporter;
	case LD_QCOL_VIF: return b->vif;
	case LD_QCOL_LEN: return b->len;
	default: return NULL;
	}
}

static const uint8_t *col_u8(const ld_block *b, unsigned c)
{
	switch (c) {
	case LD_QCOL_PROTO: return b->proto;
	case LD_QCOL_ACTION: return b->action;
	case LD_QCOL_DIR: return b->dir;
	case LD_QCOL_FLAGS: return b->tcp_flags;
	case LD_QCOL_FORMAT: return b->format;
	default: return NULL;
	}
}

/* Code of column c in row i: dictionary id or value. */
static inline uint32_t code_of(const ld_block *b, unsigned c, uint32_t i)
{
	switch (c) {
	case LD_QCOL_SPORT: return b->sport[i];
	case LD_QCOL_DPORT: return b->dport[i];
	default: break;
	}
	const uint32_t *ids = col_ids(b, c);
	if (ids)
		return ids[i];
	return col_u8(b, c)[i];
}

uint32_t ld_group_columns(const ld_group_spec *spec, uint32_t other_columns)
{
	uint32_t c = 0;
	for (unsigned i = 0; i < spec->n_cols; i++)
		c |= ld_qcol_scan_bit(spec->cols[i]);
	if (spec->distinct_col >= 0)
		c |= ld_qcol_scan_bit((unsigned)spec->distinct_col);
	/* counting dport alone needs only how many rows each shape has */
	if (spec->n_cols == 1 && spec->cols[0] == LD_QCOL_DPORT && spec->distinct_col < 0 &&
	    !(other_columns & (LD_COL_DPORT | LD_COL_SPORT)))
		c |= LD_COL_SHAPE_DPORT;
	/* distinct dsts per source need only which of its peers each row went to */
	if (spec->n_cols == 1 && spec->cols[0] == LD_QCOL_SRC && spec->distinct_col == LD_QCOL_DST &&
	    !(other_columns & LD_COL_DST))
		c |= LD_COL_DST_RANK;
	return c;
}

ld_group_acc *ld_group_acc_new(const ld_group_spec *spec, ld_err *err)
{
	if (spec->n_cols == 0 || spec->n_cols > LD_GROUP_MAX_COLS) {
		ld_err_set(err, "group by 1 to %d columns", LD_GROUP_MAX_COLS);
		return NULL;
	}
	for (unsigned i = 0; i < spec->n_cols; i++) {
		if (spec->cols[i] == LD_QCOL_TS || spec->cols[i] >= LD_QCOL_COUNT_) {
			ld_err_set(err, "cannot group by '%s'", ld_qcol_name(spec->cols[i]));
			return NULL;
		}
		for (unsigned j = 0; j < i; j++)
			if (spec->cols[j] == spec->cols[i]) {
				ld_err_set(err, "column '%s' named twice in the group-by",
					   ld_qcol_name(spec->cols[i]));
				return NULL;
			}
	}
	if (spec->distinct_col >= 0 &&
	    (spec->distinct_col == LD_QCOL_TS || spec->distinct_col >= LD_QCOL_COUNT_)) {
		ld_err_set(err, "cannot count distinct '%s'", ld_qcol_name((unsigned)spec->distinct_col));
		return NULL;
	}
	ld_group_acc *a = calloc(1, sizeof *a);
	if (!a) {
		ld_err_set(err, "out of memory");
		return NULL;
	}
	a->spec = *spec;
	a->last_pair = LD_SET64_EMPTY;
	ld_pair_set_init(&a->pairs);
	if (!set64_init(&a->lmap, 1024, true) || !set64_init(&a->lpairs, 1024, false)) {
		ld_group_acc_free(a);
		ld_err_set(err, "out of memory");
		return NULL;
	}
	return a;
}

void ld_group_acc_free(ld_group_acc *a)
{
	if (!a)
		return;
	free(a->groups);
	free(a->gtab);
	free(a->arena);
	free(a->vals);
	free(a->vtab);
	ld_pair_set_free(&a->pairs);
	free(a->code_vid);
	free(a->dense_counts);
	free(a->touched);
	free(a->shape_hist);
	free(a->addr_copy);
	free(a->pbits);
	free(a->peer_first);
	free(a->peer_dst);
	free(a->str_copy);
	free(a->str_bytes);
	set64_free(&a->lmap);
	free(a->lkeys);
	free(a->lcounts);
	set64_free(&a->lpairs);
	free(a->rows);
	free(a);
}

/* --- global tables ----------------------------------------------------------------------------- */

static bool arena_put(ld_group_acc *a, const void *p, size_t n, size_t *off)
{
	if (a->arena_len + n > a->arena_cap) {
		size_t cap = a->arena_cap ? a->arena_cap * 2 : 65536;
		while (cap < a->arena_len + n)
			cap *= 2;
		uint8_t *na = realloc(a->arena, cap);
		if (!na)
			return false;
		a->arena = na;
		a->arena_cap = cap;
	}
	memcpy(a->arena + a->arena_len, p, n);
	*off = a->arena_len;
	a->arena_len += n;
	return true;
}

static bool gtab_rehash(ld_group_acc *a, size_t cap)
{
	uint32_t *t = calloc(cap, sizeof *t);
	if (!t)
		return false;
	for (size_t g = 0; g < a->n_groups; g++) {
		size_t j = a->groups[g].hash & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = (uint32_t)g + 1;
	}
	free(a->gtab);
	a->gtab = t;
	a->gtab_cap = cap;
	return true;
}

/* Global id of the group with this key, created with zero counts when new; UINT32_MAX on OOM. */
static uint32_t group_find(ld_group_acc *a, const uint8_t *key, uint32_t len)
{
	if ((a->n_groups + 1) * 2 > a->gtab_cap && !gtab_rehash(a, a->gtab_cap ? a->gtab_cap * 2 : 1024))
		return UINT32_MAX;
	uint64_t h = hash_bytes(key, len, 1);
	size_t mask = a->gtab_cap - 1, j = h & mask;
	for (;;) {
		uint32_t g = a->gtab[j];
		if (!g)
			break;
		group *gr = &a->groups[g - 1];
		if (gr->hash == h && gr->key_len == len && memcmp(a->arena + gr->key_off, key, len) == 0)
			return g - 1;
		j = (j + 1) & mask;
	}
	if (a->n_groups >= UINT32_MAX - 1)
		return UINT32_MAX;
	if (a->n_groups == a->cap_groups) {
		size_t cap = a->cap_groups ? a->cap_groups * 2 : 1024;
		group *ng = realloc(a->groups, cap * sizeof *ng);
		if (!ng)
			return UINT32_MAX;
		a->groups = ng;
		a->cap_groups = cap;
	}
	group *gr = &a->groups[a->n_groups];
	if (!arena_put(a, key, len, &gr->key_off))
		return UINT32_MAX;
	gr->hash = h;
	gr->key_len = len;
	gr->count = gr->distinct = 0;
	a->gtab[j] = (uint32_t)a->n_groups + 1;
	return (uint32_t)a->n_groups++;
}

static bool vtab_rehash(ld_group_acc *a, size_t cap)
{
	vslot *t = malloc(cap * sizeof *t);
	if (!t)
		return false;
	for (size_t i = 0; i < cap; i++)
		t[i].id = UINT32_MAX;
	for (size_t i = 0; i < a->vtab_cap; i++) {
		if (a->vtab[i].id == UINT32_MAX)
			continue;
		size_t j = a->vtab[i].hash & (cap - 1);
		while (t[j].id != UINT32_MAX)
			j = (j + 1) & (cap - 1);
		t[j] = a->vtab[i];
	}
	free(a->vtab);
	a->vtab = t;
	a->vtab_cap = cap;
	return true;
}

/* Id of value v, interned when new; UINT32_MAX on OOM. */
static uint32_t value_id(ld_group_acc *a, const uint8_t v[16])
{
	if ((a->n_vals + 1) * 2 > a->vtab_cap && !vtab_rehash(a, a->vtab_cap ? a->vtab_cap * 2 : 4096))
		return UINT32_MAX;
	uint64_t h = hash_bytes(v, 16, 7);
	size_t mask = a->vtab_cap - 1, j = h & mask;
	for (;;) {
		vslot *sl = &a->vtab[j];
		if (sl->id == UINT32_MAX)
			break;
		if (sl->hash == h && memcmp(a->vals[sl->id], v, 16) == 0)
			return sl->id;
		j = (j + 1) & mask;
	}
	if (a->n_vals >= UINT32_MAX - 1)
		return UINT32_MAX;
	if (a->n_vals == a->cap_vals) {
		size_t cap = a->cap_vals ? a->cap_vals * 2 : 4096;
		uint8_t(*nv)[16] = realloc(a->vals, cap * 16);
		if (!nv)
			return UINT32_MAX;
		a->vals = nv;
		a->cap_vals = cap;
	}
	memcpy(a->vals[a->n_vals], v, 16);
	a->vtab[j].hash = h;
	a->vtab[j].id = (uint32_t)a->n_vals;
	return (uint32_t)a->n_vals++;
}

#define PAIR_BATCH 256

/* Adds pairs (group id << 32 | value id), at most PAIR_BATCH, to the global set; bumps the
 * distinct count of each group that gains one. */
static bool pairs_add_ids(ld_group_acc *a, const uint64_t *keys, size_t n)
{
	uint32_t fresh[PAIR_BATCH];
	size_t nf = ld_pair_set_add(&a->pairs, keys, n, fresh);
	if (nf == SIZE_MAX)
		return false;
	for (size_t i = 0; i < nf; i++)
		a->groups[fresh[i]].distinct++;
	return true;
}

/* --- translating local codes ------------------------------------------------------------------ */

/* Appends column c's value for code to key; returns the new length. */
static uint32_t key_put(const ld_group_acc *a, unsigned c, uint32_t code, uint8_t *key, uint32_t len)
{
	if (col_is_addr(c)) {
		if (code < a->seg_n_addrs)
			memcpy(key + len, a->seg_addrs[code].b, 16);
		else
			memset(key + len, 0, 16);
		return len + 16;
	}
	if (col_is_str(c)) {
		ld_str s = code < a->seg_n_strs ? a->seg_strs[code] : (ld_str){"", 0};
		uint32_t l = s.len > 1024 ? 1024 : s.len; /* keys stay bounded */
		memcpy(key + len, &l, 4);
		memcpy(key + len + 4, s.ptr, l);
		return len + 4 + l;
	}
	memcpy(key + len, &code, 4);
	return len + 4;
}

static void distinct_value(const ld_group_acc *a, uint32_t code, uint8_t v[16])
{
	unsigned c = (unsigned)a->spec.distinct_col;
	memset(v, 0, 16);
	if (a->pview)
		code = a->peer_dst[code]; /* a position in the peer lists, checked when added */
	if (col_is_addr(c)) {
		if (code < a->seg_n_addrs)
			memcpy(v, a->seg_addrs[code].b, 16);
	} else if (col_is_str(c)) {
		ld_str s = code < a->seg_n_strs ? a->seg_strs[code] : (ld_str){"", 0};
		uint64_t h1 = hash_bytes(s.ptr, s.len, 11), h2 = hash_bytes(s.ptr, s.len, 0x5bd1e995);
		memcpy(v, &h1, 8);
		memcpy(v + 8, &h2, 8);
	} else {
		memcpy(v, &code, 4);
	}
}

static uint32_t local_to_global(ld_group_acc *a, uint64_t lkey)
{
	uint8_t key[LD_GROUP_MAX_COLS * (4 + 1024)];
	uint32_t len = 0;
	for (unsigned k = 0; k < a->spec.n_cols; k++) {
		uint64_t mask = a->bits[k] >= 64 ? UINT64_MAX : ((UINT64_C(1) << a->bits[k]) - 1);
		uint32_t code = (uint32_t)((lkey >> a->shift[k]) & mask);
		len = key_put(a, a->spec.cols[k], code, key, len);
	}
	return group_find(a, key, len);
}

/* Moves the segment's local tables into the global ones. */
static bool spec_uses(const ld_group_spec *sp, bool (*is)(unsigned))
{
	for (unsigned k = 0; k < sp->n_cols; k++)
		if (is(sp->cols[k]))
			return true;
	return sp->distinct_col >= 0 && is((unsigned)sp->distinct_col);
}

/* Group keys made only of values (ports, proto, ...) mean the same in every segment: their
 * dense counts can stay across segments and be translated once, at the end. */
static bool keys_are_values(const ld_group_acc *a)
{
	return a->spec.distinct_col < 0 && !spec_uses(&a->spec, col_is_addr) && !spec_uses(&a->spec, col_is_str);
}

/* Pairs (global group, value id) on their way to the global set, in batches. */
typedef struct pair_batch {
	ld_group_acc *a;
	uint64_t keys[PAIR_BATCH];
	size_t n;
} pair_batch;

static bool pair_batch_flush(pair_batch *pb)
{
	bool ok = pairs_add_ids(pb->a, pb->keys, pb->n);
	pb->n = 0;
	return ok;
}

/* Queues the pair of group gid and value id vid; false on OOM (vid UINT32_MAX: an interning
 * that failed). */
static bool pair_batch_put(pair_batch *pb, uint32_t gid, uint32_t vid)
{
	if (vid == UINT32_MAX)
		return false;
	pb->keys[pb->n++] = (uint64_t)gid << 32 | vid;
	return pb->n < PAIR_BATCH || pair_batch_flush(pb);
}

/* The value id of the distinct value of code, through the segment's cache by `id` (code_vid). */
static uint32_t cached_value_id(ld_group_acc *a, uint32_t code, uint32_t id)
{
	uint32_t vid = a->code_vid[id];
	if (vid == UINT32_MAX) {
		uint8_t v[16];
		distinct_value(a, code, v);
		vid = a->code_vid[id] = value_id(a, v);
	}
	return vid;
}

/* Adds group gid's pairs for the bits set in pbits[lo, hi) and clears them.  A bit's position
 * is the distinct code: relative to lo in a bitmap row of the dense pairs, absolute in the
 * peer view. */
static bool flush_bits(pair_batch *pb, uint32_t gid, uint32_t lo, uint32_t hi)
{
	ld_group_acc *a = pb->a;
	uint64_t *bits = a->pbits;
	for (uint32_t w = lo >> 6; lo < hi && w <= (hi - 1) >> 6; w++) {
		uint64_t m = bits[w], keep = 0;
		if (w == lo >> 6)
			keep |= ~(UINT64_MAX << (lo & 63));
		if (w == (hi - 1) >> 6 && (hi & 63))
			keep |= UINT64_MAX << (hi & 63);
		m &= ~keep;
		bits[w] &= keep;
		while (m) {
			uint32_t p = w * 64 + (uint32_t)__builtin_ctzll(m);
			m &= m - 1;
			uint32_t code = a->pview ? p : p - lo;
			uint32_t vid = cached_value_id(a, code, a->pview ? a->peer_dst[p] : code);
			if (!pair_batch_put(pb, gid, vid))
				return false;
		}
	}
	return true;
}

static int flush_segment(ld_group_acc *a, bool final)
{
	if (!a->seg_valid && !(final && a->dense && a->n_touched))
		return 0;
	if (!final && a->dense && keys_are_values(a)) {
		a->seg_valid = false; /* the next segment keeps adding to the same counts */
		return 0;
	}
	size_t n_local = a->dense ? a->n_touched : a->n_local;
	uint32_t *gmap = malloc((n_local ? n_local : 1) * sizeof *gmap);
	if (!gmap)
		return -1;
	for (size_t i = 0; i < n_local; i++) {
		uint64_t lkey = a->dense ? a->touched[i] : a->lkeys[i];
		uint64_t cnt = a->dense ? a->dense_counts[lkey] : a->lcounts[i];
		uint32_t g = local_to_global(a, lkey);
		if (g == UINT32_MAX) {
			free(gmap);
			return -1;
		}
		a->groups[g].count += cnt;
		gmap[i] = g;
		if (a->dense)
			a->dense_counts[lkey] = 0;
	}
	if (a->spec.distinct_col >= 0 && a->pdense) {
		/* value ids by distinct id: the dst id in the peer view, else the code */
		size_t ids = a->pview ? a->seg_dict_n_addrs : a->pdom64;
		if (ids > a->code_vid_cap) {
			uint32_t *cv = realloc(a->code_vid, ids * sizeof *cv);
			if (!cv) {
				free(gmap);
				return -1;
			}
			a->code_vid = cv;
			a->code_vid_cap = ids;
		}
		memset(a->code_vid, 0xff, ids * sizeof *a->code_vid);
		pair_batch pb = {.a = a};
		bool ok = true;
		for (size_t i = 0; i < n_local && ok; i++) {
			uint32_t lo, hi;
			if (a->pview) {
				lo = a->peer_first[a->touched[i]];
				hi = a->peer_first[a->touched[i] + 1];
			} else {
				lo = a->touched[i] * a->pdom64;
				hi = lo + a->pdom;
			}
			ok = flush_bits(&pb, gmap[i], lo, hi);
		}
		ok = ok && pair_batch_flush(&pb);
		if (!ok) {
			free(gmap);
			return -1;
		}
	}
	if (a->spec.distinct_col >= 0 && a->lpairs.n) {
		/* In dense mode the local index in a pair is the dense code: map it via a second
		 * pass over touched codes (dense_counts is reused as code -> local index + 1). */
		if (a->dense)
			for (size_t i = 0; i < n_local; i++)
				a->dense_counts[a->touched[i]] = i + 1;
		pair_batch pb = {.a = a};
		bool ok = true;
		for (size_t s = 0; s < a->lpairs.cap && ok; s++) {
			uint64_t pk = a->lpairs.keys[s];
			if (pk == LD_SET64_EMPTY)
				continue;
			uint32_t li = (uint32_t)(pk >> 32), code = (uint32_t)pk;
			size_t idx = a->dense ? (size_t)(a->dense_counts[li] - 1) : li;
			uint8_t v[16];
			distinct_value(a, code, v);
			ok = pair_batch_put(&pb, gmap[idx], value_id(a, v));
		}
		if (!ok || !pair_batch_flush(&pb)) {
			free(gmap);
			return -1;
		}
		if (a->dense)
			for (size_t i = 0; i < n_local; i++)
				a->dense_counts[a->touched[i]] = 0;
	}
	free(gmap);
	set64_clear(&a->lpairs);
	set64_clear(&a->lmap);
	a->n_local = 0;
	a->n_touched = 0;
	a->last_pair = LD_SET64_EMPTY;
	a->seg_valid = false;
	return 0;
}

static unsigned bits_for(uint32_t n)
{
	unsigned b = 1;
	while (b < 32 && (UINT64_C(1) << b) < n)
		b++;
	return b;
}

/* True when b delivers dst as the peer view and the spec counts distinct dsts. */
static bool peer_view(const ld_group_acc *a, const ld_block *b)
{
	return b->dst_rank && a->spec.distinct_col == LD_QCOL_DST;
}

/* Copies src[0..n) into *dst, growing it (capacity *cap) as needed; false on OOM. */
static bool copy_u32(uint32_t **dst, size_t *cap, const uint32_t *src, size_t n)
{
	if (n > *cap) {
		uint32_t *p = realloc(*dst, n * sizeof *p);
		if (!p)
			return false;
		*dst = p;
		*cap = n;
	}
	if (n)
		memcpy(*dst, src, n * sizeof *src);
	return true;
}

/* Copies the block's peer view tables (ld_block.peer_first, peer_dst); false on OOM. */
static bool copy_peers(ld_group_acc *a, const ld_block *b)
{
	return copy_u32(&a->peer_first, &a->peer_first_cap, b->peer_first, (size_t)b->n_addrs + 1) &&
	       copy_u32(&a->peer_dst, &a->peer_dst_cap, b->peer_dst, b->peer_first[b->n_addrs]);
}

/* Copies the dictionaries the spec needs from b. */
static bool copy_dicts(ld_group_acc *a, const ld_block *b)
{
	a->seg_n_addrs = 0;
	a->seg_n_strs = 0;
	if (b->addrs && b->n_addrs && spec_uses(&a->spec, col_is_addr)) {
		if (b->n_addrs > a->addr_copy_cap) {
			ld_addr *n = realloc(a->addr_copy, b->n_addrs * sizeof *n);
			if (!n)
				return false;
			a->addr_copy = n;
			a->addr_copy_cap = b->n_addrs;
		}
		memcpy(a->addr_copy, b->addrs, b->n_addrs * sizeof *a->addr_copy);
		a->seg_n_addrs = b->n_addrs;
	}
	if (b->strs && b->n_strs && spec_uses(&a->spec, col_is_str)) {
		size_t bytes = 0;
		for (uint32_t i = 0; i < b->n_strs; i++)
			bytes += b->strs[i].len;
		if (b->n_strs > a->str_copy_cap) {
			ld_str *n = realloc(a->str_copy, b->n_strs * sizeof *n);
			if (!n)
				return false;
			a->str_copy = n;
			a->str_copy_cap = b->n_strs;
		}
		if (bytes + 1 > a->str_bytes_cap) {
			char *n = realloc(a->str_bytes, bytes + 1);
			if (!n)
				return false;
			a->str_bytes = n;
			a->str_bytes_cap = bytes + 1;
		}
		size_t o = 0;
		for (uint32_t i = 0; i < b->n_strs; i++) {
			if (b->strs[i].len)
				memcpy(a->str_bytes + o, b->strs[i].ptr, b->strs[i].len);
			a->str_copy[i].ptr = a->str_bytes + o;
			a->str_copy[i].len = b->strs[i].len;
			o += b->strs[i].len;
		}
		a->seg_n_strs = b->n_strs;
	}
	return true;
}

/* Starts a segment for b's dictionaries; -1 on OOM, -2 when the key does not fit 64 bits. */
static int begin_segment(ld_group_acc *a, const ld_block *b)
{
	a->seg_addrs_id = b->addrs;
	a->seg_strs_id = b->strs;
	if (!copy_dicts(a, b))
		return -1;
	a->seg_addrs = a->addr_copy;
	a->seg_strs = a->str_copy;
	a->seg_dict_n_addrs = b->n_addrs;
	a->seg_dict_n_strs = b->n_strs;
	snprintf(a->seg_name, sizeof a->seg_name, "%s", b->segment ? b->segment : "");
	unsigned total = 0;
	for (unsigned k = 0; k < a->spec.n_cols; k++) {
		unsigned c = a->spec.cols[k];
		unsigned w = col_is_addr(c) ? bits_for(b->n_addrs) : col_is_str(c) ? bits_for(b->n_strs) :
										col_value_bits(c);
		a->shift[k] = total;
		a->bits[k] = w;
		total += w;
	}
	if (total > 64)
		return -2;
	a->total_bits = total;
	a->dense = total <= DENSE_MAX_BITS;
	a->pdense = false;
	a->pview = peer_view(a, b);
	if (a->pview && !copy_peers(a, b))
		return -1;
	int dc = a->spec.distinct_col;
	if (a->dense && dc >= 0) {
		unsigned c = (unsigned)dc;
		uint32_t dom = a->pview ? a->peer_first[b->n_addrs] :
			       col_is_addr(c) ? b->n_addrs : col_is_str(c) ? b->n_strs :
			       c == LD_QCOL_LEN ? 0 : (uint32_t)1 << col_value_bits(c);
		uint32_t dom64 = (uint32_t)(((uint64_t)dom + 63) & ~UINT64_C(63));
		/* the peer view's bitmap is one row for all keys: positions name the source too */
		size_t words = (a->pview ? 1 : (size_t)1 << total) * (dom64 / 64);
		if (dom && words <= PDENSE_MAX_WORDS) {
			if (words > a->pbits_words) {
				free(a->pbits);
				a->pbits = calloc(words, sizeof *a->pbits);
				if (!a->pbits) {
					a->pbits_words = 0;
					return -1;
				}
				a->pbits_words = words;
			}
			a->pdense = true;
			a->pdom = dom;
			a->pdom64 = dom64;
		}
	}
	if (a->dense && !a->dense_counts) {
		a->dense_counts = calloc((size_t)1 << DENSE_MAX_BITS, sizeof *a->dense_counts);
		a->touched = malloc(((size_t)1 << DENSE_MAX_BITS) * sizeof *a->touched);
		if (!a->dense_counts || !a->touched)
			return -1;
	}
	a->seg_valid = true;
	return 0;
}

static bool same_segment(const ld_group_acc *a, const ld_block *b)
{
	return a->seg_valid && a->seg_addrs_id == (const void *)b->addrs &&
	       a->seg_strs_id == (const void *)b->strs && a->seg_dict_n_addrs == b->n_addrs &&
	       a->seg_dict_n_strs == b->n_strs && a->pview == peer_view(a, b) &&
	       strncmp(a->seg_name, b->segment ? b->segment : "", sizeof a->seg_name) == 0;
}

static bool local_put(ld_group_acc *a, uint64_t lkey, uint32_t *li)
{
	if (a->dense) {
		if (a->dense_counts[lkey]++ == 0)
			a->touched[a->n_touched++] = (uint32_t)lkey;
		*li = (uint32_t)lkey;
		return true;
	}
	bool ins;
	size_t s = set64_put(&a->lmap, lkey, &ins);
	if (s == SIZE_MAX)
		return false;
	if (ins) {
		if (a->n_local == a->cap_local) {
			size_t cap = a->cap_local ? a->cap_local * 2 : 1024;
			uint64_t *k = realloc(a->lkeys, cap * sizeof *k);
			if (k)
				a->lkeys = k;
			uint64_t *c = realloc(a->lcounts, cap * sizeof *c);
			if (c)
				a->lcounts = c;
			if (!k || !c)
				return false;
			a->cap_local = cap;
		}
		a->lmap.vals[s] = (uint32_t)a->n_local;
		a->lkeys[a->n_local] = lkey;
		a->lcounts[a->n_local] = 0;
		a->n_local++;
	}
	uint32_t idx = a->lmap.vals[s];
	a->lcounts[idx]++;
	*li = idx;
	return true;
}

/* Typed views of one column's codes, so the hot loops index arrays without a switch. */
typedef struct codes {
	const uint32_t *u32;
	const uint16_t *u16;
	const uint8_t *u8;
	uint32_t lim; /* codes >= lim (ids beyond the dictionary) are skipped */
} codes;

static codes codes_of(const ld_block *b, unsigned c)
{
	codes k = {col_ids(b, c), NULL, NULL, UINT32_MAX};
	if (c == LD_QCOL_SPORT)
		k.u16 = b->sport;
	else if (c == LD_QCOL_DPORT)
		k.u16 = b->dport;
	else if (!k.u32)
		k.u8 = col_u8(b, c);
	if (col_is_addr(c))
		k.lim = b->n_addrs;
	else if (col_is_str(c))
		k.lim = b->n_strs;
	return k;
}

#define CODE(k, i) ((k).u32 ? (k).u32[i] : (k).u16 ? (uint32_t)(k).u16[i] : (uint32_t)(k).u8[i])

/* One group column in the dense key space; distinct (if any) in the pair bitmap. */
static void add_dense(ld_group_acc *a, const ld_block *b, const uint32_t *sel, uint32_t nsel)
{
	codes kc = codes_of(b, a->spec.cols[0]);
	uint64_t *cnt = a->dense_counts;
	uint32_t *touched = a->touched;
	size_t nt = a->n_touched;
	if (a->spec.distinct_col < 0) {
		for (uint32_t s = 0; s < nsel; s++) {
			uint32_t k = CODE(kc, sel[s]);
			if (k >= kc.lim)
				continue;
			if (cnt[k]++ == 0)
				touched[nt++] = k;
		}
	} else {
		codes dcodes = codes_of(b, (unsigned)a->spec.distinct_col);
		uint32_t dlim = dcodes.lim < a->pdom ? dcodes.lim : a->pdom;
		uint64_t *bits = a->pbits;
		size_t row = a->pdom64;
		for (uint32_t s = 0; s < nsel; s++) {
			uint32_t i = sel[s];
			uint32_t k = CODE(kc, i), d = CODE(dcodes, i);
			if (k >= kc.lim)
				continue;
			if (cnt[k]++ == 0)
				touched[nt++] = k;
			if (d < dlim) {
				size_t bit = (size_t)k * row + d;
				bits[bit >> 6] |= UINT64_C(1) << (bit & 63);
			}
		}
	}
	a->n_touched = nt;
}

/* Group by src, distinct dst, over the peer view: one bit per (src, dst) pair of the segment. */
static void add_dense_peers(ld_group_acc *a, const ld_block *b, const uint32_t *sel, uint32_t nsel)
{
	const uint32_t *src = b->src, *rank = b->dst_rank, *first = a->peer_first;
	const uint32_t lim = b->n_addrs;
	uint64_t *cnt = a->dense_counts, *bits = a->pbits;
	uint32_t *touched = a->touched;
	size_t nt = a->n_touched;
	for (uint32_t s = 0; s < nsel; s++) {
		uint32_t i = sel[s], k = src[i];
		if (k >= lim)
			continue;
		if (cnt[k]++ == 0)
			touched[nt++] = k;
		uint32_t lo = first[k], r = rank[i];
		if (r < first[k + 1] - lo) {
			uint32_t p = lo + r;
			bits[p >> 6] |= UINT64_C(1) << (p & 63);
		}
	}
	a->n_touched = nt;
}

/* Group-by dport alone over a block's shape view: rows are counted per shape, then each shape's
 * count goes to its dport.  Four interleaved histograms, so that runs of one shape do not
 * serialize on a single counter. */
static bool add_dense_shapes(ld_group_acc *a, const ld_block *b, const uint32_t *sel,
			     uint32_t nsel)
{
	const uint32_t ns = b->n_shapes, stride = LD_BLOCK_MAX_SHAPES;
	if (!a->shape_hist) {
		a->shape_hist = malloc(4 * (size_t)stride * sizeof *a->shape_hist);
		if (!a->shape_hist)
			return false;
	}
	uint32_t *h0 = a->shape_hist, *h1 = h0 + stride, *h2 = h1 + stride, *h3 = h2 + stride;
	for (uint32_t r = 0; r < ns; r++)
		h0[r] = h1[r] = h2[r] = h3[r] = 0;
	uint32_t s = 0;
#define HIST(R)                                                                                  \
	do {                                                                                     \
		for (; s + 4 <= nsel; s += 4) {                                                 \
			h0[(R)[sel[s]]]++;                                                      \
			h1[(R)[sel[s + 1]]]++;                                                  \
			h2[(R)[sel[s + 2]]]++;                                                  \
			h3[(R)[sel[s + 3]]]++;                                                  \
		}                                                                                \
		for (; s < nsel; s++)                                                            \
			h0[(R)[sel[s]]]++;                                                      \
	} while (0)
	if (b->shape_rank8)
		HIST(b->shape_rank8);
	else
		HIST(b->shape_rank16);
#undef HIST
	uint64_t *cnt = a->dense_counts;
	const uint8_t *out = b->shape_dport_out;
	bool rare = false; /* selected rows whose port is in the block's list of rare ports */
	for (uint32_t r = 0; r < ns; r++) {
		uint64_t c = (uint64_t)h0[r] + h1[r] + h2[r] + h3[r];
		if (!c)
			continue;
		if (out && out[r]) {
			rare = true;
			continue;
		}
		uint32_t k = b->shape_dport[r];
		if (cnt[k] == 0)
			a->touched[a->n_touched++] = k;
		cnt[k] += c;
	}
	if (rare) {
		/* every row selected: the list is the rare rows' ports; else walk the rows to match
		 * list entries (row order) with the selection */
		const uint8_t *r8 = b->shape_rank8;
		const uint16_t *r16 = b->shape_rank16;
		uint32_t j = 0, s_at = 0;
		if (nsel == b->n) {
			for (; j < b->n_dport_exc; j++) {
				uint32_t k = b->dport_exc[j];
				if (cnt[k] == 0)
					a->touched[a->n_touched++] = k;
				cnt[k]++;
			}
		}
		for (uint32_t i = 0; i < b->n && j < b->n_dport_exc; i++) {
			if (!out[r8 ? r8[i] : r16[i]])
				continue;
			uint32_t k = b->dport_exc[j++];
			if (nsel < b->n) {
				while (s_at < nsel && sel[s_at] < i)
					s_at++;
				if (s_at == nsel || sel[s_at] != i)
					continue;
			}
			if (cnt[k] == 0)
				a->touched[a->n_touched++] = k;
			cnt[k]++;
		}
	}
	return true;
}

int ld_group_acc_add(ld_group_acc *a, const ld_block *b, const uint32_t *sel, uint32_t nsel, ld_err *err)
{
	if (nsel == 0)
		return 0;
	if (!same_segment(a, b)) {
		if (flush_segment(a, false) != 0)
			goto oom;
		int r = begin_segment(a, b);
		if (r == -1)
			goto oom;
		if (r == -2) {
			ld_err_set(err, "group-by key too wide for segment %s (use fewer columns)",
				   b->segment ? b->segment : "?");
			return -1;
		}
	}
	int dc = a->spec.distinct_col;
	unsigned nc = a->spec.n_cols;
	if (a->pview && !(nc == 1 && a->spec.cols[0] == LD_QCOL_SRC)) {
		ld_err_set(err, "column 'dst' was not decoded"); /* the view serves group by src only */
		return -1;
	}
	if (b->n_shapes && !b->dport) { /* the shape view (LD_COL_SHAPE_DPORT) */
		if (!(nc == 1 && a->spec.cols[0] == LD_QCOL_DPORT && dc < 0 && a->dense &&
		      a->shift[0] == 0)) {
			ld_err_set(err, "column 'dport' was not decoded");
			return -1;
		}
		if (!add_dense_shapes(a, b, sel, nsel))
			goto oom;
		return 0;
	}
	for (unsigned k = 0; k < a->spec.n_cols; k++) {
		unsigned c = a->spec.cols[k];
		const void *col = col_ids(b, c) ? (const void *)col_ids(b, c) :
			c == LD_QCOL_SPORT ? (const void *)b->sport :
			c == LD_QCOL_DPORT ? (const void *)b->dport : (const void *)col_u8(b, c);
		if (!col) {
			ld_err_set(err, "column '%s' was not decoded", ld_qcol_name(c));
			return -1;
		}
	}
	if (dc >= 0 && !col_ids(b, (unsigned)dc) && !col_u8(b, (unsigned)dc) && !a->pview &&
	    !(dc == LD_QCOL_SPORT ? (const void *)b->sport : dc == LD_QCOL_DPORT ? (const void *)b->dport : NULL)) {
		ld_err_set(err, "column '%s' was not decoded", ld_qcol_name((unsigned)dc));
		return -1;
	}
	if (nc == 1 && a->dense && a->pdense && a->pview) {
		add_dense_peers(a, b, sel, nsel);
		return 0;
	}
	if (nc == 1 && a->dense && (dc < 0 || a->pdense)) {
		add_dense(a, b, sel, nsel);
		return 0;
	}
	/* One dictionary-coded column (e.g. src), optionally distinct over another. */
	const uint32_t *ids0 = nc == 1 ? col_ids(b, a->spec.cols[0]) : NULL;
	uint32_t lim0 = col_is_addr(a->spec.cols[0]) ? b->n_addrs : col_is_str(a->spec.cols[0]) ? b->n_strs : UINT32_MAX;
	for (uint32_t s = 0; s < nsel; s++) {
		uint32_t i = sel[s];
		uint64_t lkey;
		if (ids0) {
			lkey = ids0[i];
			if (lkey >= lim0)
				continue; /* damaged id: not a group */
		} else {
			lkey = 0;
			for (unsigned k = 0; k < nc; k++)
				lkey |= (uint64_t)code_of(b, a->spec.cols[k], i) << a->shift[k];
			if (a->total_bits < 64 && (lkey >> a->total_bits))
				continue;
		}
		uint32_t li;
		if (!local_put(a, lkey, &li))
			goto oom;
		if (dc >= 0) {
			uint32_t code;
			if (a->pview) { /* group by src alone: lkey is the src id */
				uint32_t lo = a->peer_first[lkey], r = b->dst_rank[i];
				if (r >= a->peer_first[lkey + 1] - lo)
					continue; /* damaged rank: counted, not a pair */
				code = lo + r;
			} else {
				code = code_of(b, (unsigned)dc, i);
			}
			uint64_t pk = (uint64_t)li << 32 | code;
			if (pk != a->last_pair) {
				bool ins;
				if (set64_put(&a->lpairs, pk, &ins) == SIZE_MAX)
					goto oom;
				a->last_pair = pk;
			}
		}
	}
	return 0;
oom:
	ld_err_set(err, "out of memory in group-by");
	return -1;
}

int ld_group_acc_finish(ld_group_acc *a, ld_err *err)
{
	/* value-only dense counts stay as they are: merging them is cheaper than translating */
	if (flush_segment(a, false) != 0) {
		ld_err_set(err, "out of memory in group-by");
		return -1;
	}
	return 0;
}

/* Adds src's dense value-only counts into dst's (same layout); false when not applicable. */
static bool merge_dense(ld_group_acc *dst, ld_group_acc *src)
{
	if (!(keys_are_values(src) && src->dense && src->n_touched && dst->n_groups == 0 && src->n_groups == 0))
		return false;
	if (!dst->dense_counts) { /* dst saw no block: take src's layout */
		dst->dense_counts = calloc((size_t)1 << DENSE_MAX_BITS, sizeof *dst->dense_counts);
		dst->touched = malloc(((size_t)1 << DENSE_MAX_BITS) * sizeof *dst->touched);
		if (!dst->dense_counts || !dst->touched)
			return false;
		memcpy(dst->shift, src->shift, sizeof dst->shift);
		memcpy(dst->bits, src->bits, sizeof dst->bits);
		dst->total_bits = src->total_bits;
		dst->dense = true;
		dst->n_touched = 0;
	}
	if (!dst->dense || memcmp(dst->shift, src->shift, sizeof dst->shift) != 0 ||
	    memcmp(dst->bits, src->bits, sizeof dst->bits) != 0)
		return false;
	for (size_t i = 0; i < src->n_touched; i++) {
		uint32_t c = src->touched[i];
		if (dst->dense_counts[c] == 0)
			dst->touched[dst->n_touched++] = c;
		dst->dense_counts[c] += src->dense_counts[c];
		src->dense_counts[c] = 0;
	}
	src->n_touched = 0;
	src->seg_valid = false;
	return true;
}

int ld_group_acc_merge(ld_group_acc *dst, ld_group_acc *src, ld_err *err)
{
	if (merge_dense(dst, src))
		return 0;
	if (flush_segment(dst, true) != 0 || flush_segment(src, true) != 0)
		goto oom;
	uint32_t *gmap = malloc((src->n_groups ? src->n_groups : 1) * sizeof *gmap);
	if (!gmap)
		goto oom;
	for (size_t g = 0; g < src->n_groups; g++) {
		group *sg = &src->groups[g];
		uint32_t d = group_find(dst, src->arena + sg->key_off, sg->key_len);
		if (d == UINT32_MAX) {
			free(gmap);
			goto oom;
		}
		dst->groups[d].count += sg->count;
		gmap[g] = d;
	}
	uint32_t *vmap = malloc((src->n_vals ? src->n_vals : 1) * sizeof *vmap);
	if (!vmap) {
		free(gmap);
		goto oom;
	}
	for (size_t v = 0; v < src->n_vals; v++) {
		vmap[v] = value_id(dst, src->vals[v]);
		if (vmap[v] == UINT32_MAX) {
			free(vmap);
			free(gmap);
			goto oom;
		}
	}
	uint64_t batch[PAIR_BATCH];
	size_t pos = 0, nb;
	while ((nb = ld_pair_set_read(&src->pairs, &pos, batch, PAIR_BATCH)) > 0) {
		for (size_t i = 0; i < nb; i++)
			batch[i] = (uint64_t)gmap[batch[i] >> 32] << 32 | vmap[(uint32_t)batch[i]];
		if (!pairs_add_ids(dst, batch, nb)) {
			free(vmap);
			free(gmap);
			goto oom;
		}
	}
	free(vmap);
	free(gmap);
	src->n_groups = 0;
	src->arena_len = 0;
	if (src->gtab)
		memset(src->gtab, 0, src->gtab_cap * sizeof *src->gtab);
	src->n_vals = 0;
	for (size_t i = 0; i < src->vtab_cap; i++)
		src->vtab[i].id = UINT32_MAX;
	ld_pair_set_free(&src->pairs);
	return 0;
oom:
	ld_err_set(err, "out of memory merging group-by results");
	return -1;
}

static int cmp_rows(const void *x, const void *y, void *ctx)
{
	const ld_group_row *a = x, *b = y;
	const ld_group_acc *acc = ctx;
	if (a->distinct != b->distinct)
		return a->distinct > b->distinct ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	for (unsigned k = 0; k < acc->spec.n_cols; k++) {
		unsigned c = acc->spec.cols[k];
		int r;
		if (col_is_addr(c))
			r = ld_addr_cmp(&a->key[k].addr, &b->key[k].addr);
		else if (col_is_str(c)) {
			uint32_t l = a->key[k].str_len < b->key[k].str_len ? a->key[k].str_len : b->key[k].str_len;
			r = memcmp(a->key[k].str, b->key[k].str, l);
			if (!r)
				r = (a->key[k].str_len > b->key[k].str_len) - (a->key[k].str_len < b->key[k].str_len);
		} else
			r = (a->key[k].num > b->key[k].num) - (a->key[k].num < b->key[k].num);
		if (r)
			return r;
	}
	return 0;
}

static void row_swap(ld_group_row *x, ld_group_row *y)
{
	ld_group_row t = *x;
	*x = *y;
	*y = t;
}

/* Moves the `keep` first rows in sort order to the front (unordered): a heap whose root is the
 * worst row kept so far, so most rows are rejected with one comparison. */
static void select_top(ld_group_acc *a, size_t keep)
{
	ld_group_row *r = a->rows;
	if (keep == 0)
		return;
	/* heapify r[0..keep) as a max-heap on cmp_rows (root = last in sort order) */
	for (size_t i = keep / 2; i-- > 0;) {
		for (size_t p = i;;) {
			size_t c = 2 * p + 1;
			if (c >= keep)
				break;
			if (c + 1 < keep && cmp_rows(&r[c + 1], &r[c], a) > 0)
				c++;
			if (cmp_rows(&r[c], &r[p], a) <= 0)
				break;
			row_swap(&r[c], &r[p]);
			p = c;
		}
	}
	for (size_t i = keep; i < a->n_groups; i++) {
		if (cmp_rows(&r[i], &r[0], a) >= 0)
			continue;
		row_swap(&r[i], &r[0]);
		for (size_t p = 0;;) {
			size_t c = 2 * p + 1;
			if (c >= keep)
				break;
			if (c + 1 < keep && cmp_rows(&r[c + 1], &r[c], a) > 0)
				c++;
			if (cmp_rows(&r[c], &r[p], a) <= 0)
				break;
			row_swap(&r[c], &r[p]);
			p = c;
		}
	}
}

/* Brings the `keep` first rows in sort order to the front (unordered) when only those are
 * wanted: a heap selection when they are few, else a sort of all. */
static void first_rows(ld_group_acc *a, size_t keep)
{
	if (keep >= a->n_groups)
		return;
	if (keep < a->n_groups / 8)
		select_top(a, keep);
	else
		qsort_r(a->rows, a->n_groups, sizeof *a->rows, cmp_rows, a);
}

/* Value-only keys still in the dense table and nothing in the global one: rows come straight
 * from the dense counts, without hashing. */
typedef struct cand {
	uint64_t count;
	uint32_t lkey;
} cand;

/* Sort order of value-only groups: count descending, then the key columns ascending. */
static int cmp_cand(const cand *x, const cand *y, const ld_group_acc *a)
{
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	for (unsigned k = 0; k < a->spec.n_cols; k++) {
		uint32_t mask = (uint32_t)((UINT64_C(1) << a->bits[k]) - 1);
		uint32_t u = (x->lkey >> a->shift[k]) & mask, v = (y->lkey >> a->shift[k]) & mask;
		if (u != v)
			return u < v ? -1 : 1;
	}
	return 0;
}

static void dense_row(const ld_group_acc *a, uint64_t lkey, ld_group_row *r)
{
	for (unsigned k = 0; k < a->spec.n_cols; k++) {
		uint64_t mask = (UINT64_C(1) << a->bits[k]) - 1;
		r->key[k].num = (uint32_t)((lkey >> a->shift[k]) & mask);
	}
	r->count = a->dense_counts[lkey];
}

/* Rows of the `keep` first groups in sort order (unordered), built without materializing the
 * others: a max-heap of the kept ones with the worst at the root, so most keys are rejected
 * with one comparison.  Leaves the accumulator's state unchanged. */
static bool select_dense_top(ld_group_acc *a, size_t keep, size_t *out_n)
{
	cand *h = malloc(keep * sizeof *h);
	if (!h)
		return false;
	size_t n = 0;
	for (size_t i = 0; i < a->n_touched; i++) {
		cand c = {a->dense_counts[a->touched[i]], a->touched[i]};
		if (n == keep) {
			if (cmp_cand(&c, &h[0], a) >= 0)
				continue;
			h[0] = c; /* replace the worst, sift down */
			for (size_t p = 0;;) {
				size_t ch = 2 * p + 1;
				if (ch >= n)
					break;
				if (ch + 1 < n && cmp_cand(&h[ch + 1], &h[ch], a) > 0)
					ch++;
				if (cmp_cand(&h[ch], &h[p], a) <= 0)
					break;
				cand t = h[ch];
				h[ch] = h[p];
				h[p] = t;
				p = ch;
			}
			continue;
		}
		h[n] = c; /* sift up */
		for (size_t p = n++; p > 0;) {
			size_t up = (p - 1) / 2;
			if (cmp_cand(&h[p], &h[up], a) <= 0)
				break;
			cand t = h[up];
			h[up] = h[p];
			h[p] = t;
			p = up;
		}
	}
	/* build the rows of the kept groups only */
	free(a->rows);
	a->rows = calloc(n ? n : 1, sizeof *a->rows);
	if (!a->rows) {
		free(h);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		dense_row(a, h[i].lkey, &a->rows[i]);
	*out_n = n;
	free(h);
	return true;
}

static bool result_from_dense(ld_group_acc *a, size_t top, size_t *out_n)
{
	if (!(keys_are_values(a) && a->dense && a->n_groups == 0 && a->n_touched))
		return false;
	if (top && top < a->n_touched / 8)
		return select_dense_top(a, top, out_n);
	free(a->rows);
	a->rows = calloc(a->n_touched, sizeof *a->rows);
	if (!a->rows)
		return false;
	for (size_t i = 0; i < a->n_touched; i++)
		dense_row(a, a->touched[i], &a->rows[i]);
	*out_n = a->n_touched;
	return true;
}

int ld_group_acc_result(ld_group_acc *a, uint32_t top, const ld_group_row **rows, size_t *n, ld_err *err)
{
	size_t built;
	if (result_from_dense(a, top, &built)) {
		size_t keep = top && top < built ? top : built;
		size_t saved = a->n_groups;
		a->n_groups = built; /* first_rows walks n_groups rows */
		first_rows(a, keep);
		a->n_groups = saved;
		qsort_r(a->rows, keep, sizeof *a->rows, cmp_rows, a);
		*rows = a->rows;
		*n = keep;
		return 0;
	}
	if (flush_segment(a, true) != 0) {
		ld_err_set(err, "out of memory in group-by");
		return -1;
	}
	free(a->rows);
	a->rows = calloc(a->n_groups ? a->n_groups : 1, sizeof *a->rows);
	if (!a->rows) {
		ld_err_set(err, "out of memory in group-by");
		return -1;
	}
	for (size_t g = 0; g < a->n_groups; g++) {
		ld_group_row *r = &a->rows[g];
		const uint8_t *k = a->arena + a->groups[g].key_off;
		for (unsigned c = 0; c < a->spec.n_cols; c++) {
			unsigned col = a->spec.cols[c];
			if (col_is_addr(col)) {
				memcpy(r->key[c].addr.b, k, 16);
				k += 16;
			} else if (col_is_str(col)) {
				uint32_t l;
				memcpy(&l, k, 4);
				r->key[c].str = (const char *)k + 4;
				r->key[c].str_len = l;
				k += 4 + l;
			} else {
				memcpy(&r->key[c].num, k, 4);
				k += 4;
			}
		}
		r->count = a->groups[g].count;
		r->distinct = a->groups[g].distinct;
	}
	size_t keep = top && top < a->n_groups ? top : a->n_groups;
	first_rows(a, keep);
	qsort_r(a->rows, keep, sizeof *a->rows, cmp_rows, a);
	*rows = a->rows;
	*n = keep;
	return 0;
}
