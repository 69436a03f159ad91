/* store_internal.h — pieces shared by the store's modules (not part of the store's contract):
 * checksums, varints, growable buffers, the in-memory row set, segment encode/decode, the
 * journal codec and the MANIFEST chain. */
#ifndef LD_STORE_INTERNAL_H
#define LD_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "ld_log.h"
#include "ld_record.h"
#include "ld_scan.h"
#include "direct_io.h"
#include "journal_format.h"
#include "segment_format.h"

/* --- checksums ---------------------------------------------------------------------------- */

uint32_t ld_crc32c(uint32_t crc, const void *p, size_t n);

/* --- sorting --------------------------------------------------------------------------------- */

/* Sorts keys[0..n) ascending by LSD radix on bytes first_byte..7, tmp[0..n) being scratch;
 * bytes every key shares are skipped.  Returns the array that holds the result (keys or tmp). */
uint64_t *ld_radix_sort_u64(uint64_t *keys, uint64_t *tmp, size_t n, unsigned first_byte);

/* --- varints (LEB128) --------------------------------------------------------------------- */

static inline uint8_t *ld_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* false on overrun or an over-long encoding */
static inline bool ld_get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t r = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (ld_unlikely(p >= end))
			return false;
		uint8_t c = *p++;
		r |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*pp = p;
			*v = r;
			return true;
		}
	}
	return false;
}

/* --- growable byte buffer ----------------------------------------------------------------- */

typedef struct ld_buf {
	uint8_t *p;
	size_t len, cap;
} ld_buf;

/* Ensures room for `extra` more bytes; -1 when out of memory. */
int ld_buf_reserve(ld_buf *b, size_t extra);
int ld_buf_append(ld_buf *b, const void *p, size_t n);
void ld_buf_free(ld_buf *b);

/* --- row set: rows held column by column, strings and addresses interned ------------------- */

/* Open-addressing intern tables keep their keys in the slot, so a hit costs one cache line. */
typedef struct ld_addr_slot {
	uint64_t a, b;
	uint32_t id1; /* id + 1, 0 = empty */
	uint32_t pad;
} ld_addr_slot;

typedef struct ld_str_slot {
	uint64_t hash;
	uint32_t id1; /* id + 1, 0 = empty */
	uint32_t len;
	uint8_t inl[16]; /* the bytes themselves when len <= 16 */
} ld_str_slot;

typedef struct ld_addr_ix {
	ld_addr_slot *slots;
	uint32_t cap; /* power of two */
} ld_addr_ix;

typedef struct ld_str_ix {
	ld_str_slot *slots;
	uint32_t cap;
} ld_str_ix;

typedef struct ld_rowset {
	size_t n, cap;
	int64_t *ts;
	uint32_t *src, *dst, *len, *rule, *reporter, *vif;
	uint16_t *sport, *dport;
	uint8_t *proto, *action, *dir, *flags, *format, *present;
	uint64_t *raw_off; /* NULL unless keep_raw */
	uint32_t *raw_len;
	bool keep_raw;
	ld_addr *addrs;
	uint32_t n_addrs, cap_addrs;
	ld_addr_ix addr_ix;
	uint64_t *str_off;
	uint32_t *str_len;
	uint32_t n_strs, cap_strs;
	ld_str_ix str_ix;
	ld_buf str_bytes, raw_bytes;
	int64_t ts_min, ts_max;
	uint32_t last_addr[2], last_str[3]; /* previous row's ids (src, dst; rule, reporter, vif) */
	uint64_t *v4_cache; /* IPv4 address << 32 | id + 1, direct-mapped (rowset.c); may be NULL */
} ld_rowset;

int ld_rowset_init(ld_rowset *rs, bool keep_raw);
void ld_rowset_free(ld_rowset *rs);
/* Drops rows and dictionaries, keeps capacity. */
void ld_rowset_clear(ld_rowset *rs);
int ld_rowset_reserve(ld_rowset *rs, size_t rows);
/* Copies r (strings interned, raw copied when keep_raw); -1 when out of memory. */
int ld_rowset_add(ld_rowset *rs, const ld_record *r);
/* Same, raw kept only when with_raw (and the row set keeps raw at all). */
int ld_rowset_add_raw(ld_rowset *rs, const ld_record *r, bool with_raw);
int64_t ld_rowset_intern_addr(ld_rowset *rs, const ld_addr *a);
/* Row numbers of rs in time order (ties in row order), malloc'd; NULL when out of memory. */
uint32_t *ld_rowset_time_order(const ld_rowset *rs);
/* rs's string dictionary as one ld_str per id (pointing into rs), malloc'd; NULL on OOM. */
ld_str *ld_rowset_str_table(const ld_rowset *rs);
/* Stops keeping raw lines (frees their arrays) unless some row holds one already. */
void ld_rowset_drop_raw(ld_rowset *rs);
/* Back to the first `rows` rows, `addrs` addresses, `strs` strings and `raw_bytes` raw bytes
 * (intern tables rebuilt); -1 when out of memory. */
int ld_rowset_truncate(ld_rowset *rs, size_t rows, uint32_t addrs, uint32_t strs,
		       size_t raw_bytes);
int64_t ld_rowset_intern_str(ld_rowset *rs, const char *p, uint32_t len);
static inline ld_str ld_rowset_str(const ld_rowset *rs, uint32_t id)
{
	ld_str s = {"", 0};
	if (rs->str_len[id]) {
		s.ptr = (const char *)rs->str_bytes.p + rs->str_off[id];
		s.len = rs->str_len[id];
	}
	return s;
}
void ld_rowset_get(const ld_rowset *rs, size_t i, ld_record *out);

/* --- segment encoding --------------------------------------------------------------------- */

/* One row's small columns as a 16-byte key (see seg_shape.c); rule's top bit = sport == dport,
 * the next = len is not in the shape but in the len column (LD_SHAPE_LEN_MIXED blocks), the
 * next = dport is not in the shape but in the dport column (a port seen too rarely in the
 * block to deserve shapes of its own). */
typedef struct ld_shape {
	uint8_t proto, action, dir, flags, format, present;
	uint16_t dport;
	uint32_t len;
	uint32_t rule;
} ld_shape;
static_assert(sizeof(ld_shape) == 16, "shape key is 16 bytes");
#define LD_SHAPE_MAX 4096u /* distinct shapes per block; more and the block uses columns */
static_assert(LD_SHAPE_MAX == LD_BLOCK_MAX_SHAPES, "ld_block's shape view holds every shape");

#define LD_SHAPE_SPORT_EQ 0x80000000u
#define LD_SHAPE_LEN_OUT 0x40000000u
#define LD_SHAPE_DPORT_OUT 0x20000000u
#define LD_SHAPE_RULE_FLAGS (LD_SHAPE_SPORT_EQ | LD_SHAPE_LEN_OUT | LD_SHAPE_DPORT_OUT)
#define LD_SHAPE_MAX_RULE_ID (LD_SHAPE_DPORT_OUT - 1)

/* The byte after LD_ENC_SHAPE: where a shaped block keeps len (low bits), and whether the
 * ranks are byte planes (else varints, the older form). */
enum { LD_SHAPE_LEN_NONE = 0, LD_SHAPE_LEN_ALL = 1, LD_SHAPE_LEN_MIXED = 2 };
#define LD_SHAPE_RANK_PLANES 0x10u

typedef struct ld_shape_enc {
	uint32_t *slots, *count, *rank, *order, *row;
	ld_shape *tab, *keys; /* keys: one per row of the block being encoded */
	uint32_t *lens;       /* per shape: the distinct lengths seen (ld_shape_split_len) */
	uint8_t *n_lens;
	uint32_t n_shapes;    /* of the last ld_shape_encode() */
	uint16_t *dport_count; /* 65536 counters, zero between uses */
} ld_shape_enc;

int ld_shape_enc_init(ld_shape_enc *s);
void ld_shape_enc_free(ld_shape_enc *s);
void ld_shape_key(ld_shape *k, const ld_rowset *rs, uint32_t i, uint32_t rule_id, bool with_len);
/* Encodes s->keys[0..n) into out; 1 when the block has too many distinct shapes, -1 on OOM.
 * len_mode (LD_SHAPE_LEN_*) is recorded for the decoder; *head is the size of what precedes the
 * rank planes (n bytes each). */
int ld_shape_encode(ld_shape_enc *s, uint32_t n, uint8_t len_mode, ld_buf *out, size_t *head);
/* Marks the keys whose dport occurs fewer than LD_SHAPE_RARE_DPORT times among keys[0..n)
 * LD_SHAPE_DPORT_OUT (dport 0 in the key); returns how many. */
#define LD_SHAPE_RARE_DPORT 4u
uint32_t ld_shape_rare_dports(ld_shape_enc *s, uint32_t n);
/* After a successful ld_shape_encode() of keys without len: puts each row's len (len[k]) into
 * the keys of shapes with few distinct lengths and marks the others LD_SHAPE_LEN_OUT.  Returns
 * how many rows keep their len outside the shapes. */
uint32_t ld_shape_split_len(ld_shape_enc *s, uint32_t n, const uint32_t *len);
/* Decodes n shape ranks of one or two varint bytes each from [p, end) into rank[]; -1 unless
 * the bytes are exactly that and every rank is below ns (shape_ranks.c).  The portable variant
 * is the same decoder without SIMD, for tests. */
int ld_shape_ranks16(const uint8_t *p, const uint8_t *end, uint32_t n, uint64_t ns, uint16_t *rank);
int ld_shape_ranks16_portable(const uint8_t *p, const uint8_t *end, uint32_t n, uint64_t ns,
			      uint16_t *rank);

typedef struct ld_seg_encoder {
	ZSTD_CCtx *cctx;
	int level;
	ld_buf file, col, tmp;
	ld_dio_buf dio; /* the file again, aligned for a direct write */
	uint32_t *addr_map, *str_map; /* row-set id -> segment id (+1), sized to the row set */
	uint32_t map_cap_addrs, map_cap_strs;
	uint32_t *seg_addr_ids, *seg_str_ids; /* segment id -> row-set id */
	uint64_t *pred; /* predictor slots: generation << 32 | string id */
	uint32_t pred_cap, pred_gen;
	uint32_t *col_u32, *miss_row; /* scratch, a block's rows each */
	ld_shape_enc shape;
	/* peer table of the segment being encoded (seg_peers.c) */
	uint32_t *peer_first; /* address id -> first entry of its list; [n_addrs] = entries */
	uint32_t *peer_dst;   /* the lists, most frequent peer first */
	uint32_t *peer_rank;  /* per row of the segment: rank of its dst in its src's list */
	uint64_t *peer_rows;  /* scratch: dst id << 32 | row, grouped by src */
	uint64_t *peer_keys;  /* scratch: one source's peers as (count, id) sort keys, and as many spare */
	uint32_t *peer_count; /* scratch: per address id, zero between uses */
	uint32_t peer_cap_addrs, peer_cap_rows, peer_cap_keys;
	/* predictor seeds of rule, reporter, vif (enc_predict): per address id, UINT32_MAX = none */
	uint32_t *seed[3];
	uint32_t seed_n;
	int8_t seed_mode[3]; /* -1: not learnt yet in this segment */
	bool seed_used[3];
} ld_seg_encoder;

typedef struct ld_seg_result {
	uint64_t size, rows;
	int64_t min_ns, max_ns;
	uint8_t digest[32];
} ld_seg_result;

int ld_seg_encoder_init(ld_seg_encoder *e, int level);
void ld_seg_encoder_free(ld_seg_encoder *e);
/* Encodes rows idx[0..n) of rs (already in time order) into e->file. */
int ld_seg_encode(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, size_t n,
		  ld_err *err);
/* Encodes, then writes DIR/rel durably (temp file, fsync, rename, fsync dir). */
int ld_seg_write(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, size_t n,
		 const char *dir, const char *rel, ld_seg_result *res, ld_err *err);
/* Builds the peer table of rows idx[0..n) (ids from e->addr_map): e->peer_first, peer_dst and
 * each row's rank in e->peer_rank.  Returns the number of entries (<= n), -1 when out of
 * memory (seg_peers.c). */
int64_t ld_seg_build_peers(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, uint32_t n,
			   uint32_t n_addrs);
/* True when the peer table just built is expected to make the segment smaller than plain dst
 * ids: byte-plane entropies of both, the lists included (seg_peers.c). */
bool ld_seg_peers_pay(const ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, uint32_t n,
		      uint32_t n_addrs);
/* Appends the peer table's uncompressed bytes (format in segment_format.h) to out: the counts
 * and width byte (head_bytes, counted from the start of out), then the byte planes of
 * plane_bytes each; -1 on OOM. */
int ld_seg_put_peers(const ld_seg_encoder *e, uint32_t n_addrs, ld_buf *out, size_t *head_bytes,
		     size_t *plane_bytes);

/* Appends the seeds of the predicted columns that some block used; -1 on OOM. */
int ld_seg_put_seeds(const ld_seg_encoder *e, uint32_t n_addrs, ld_buf *out);
#define LD_SEED_NONE 255u
/* In the key byte of a predicted column: misses listed apart (segment_format.h). */
#define LD_PREDICT_SPARSE 0x80u

/* The predicted string columns' shared rules (enc_predict in seg_encode.c, dec_predict in
 * seg_decode.c).  The endpoint a row's prediction is keyed by: 1 src, 2 dst, else the one the
 * direction names (src for OUT rows, dst otherwise). */
static inline uint32_t ld_pred_key(unsigned by, uint32_t src, uint32_t dst, uint8_t dir)
{
	return by == 1 ? src : by == 2 ? dst : dir == LD_DIR_OUT ? src : dst;
}

/* What a predictor slot (generation << 32 | id) predicts in generation gen: its id when set in
 * this generation, else the endpoint's seed (seed may be NULL), else UINT32_MAX (nothing). */
static inline uint32_t ld_pred_guess(uint64_t slot, uint64_t gen, const uint32_t *seed, uint32_t key)
{
	return (slot >> 32) == (gen >> 32) ? (uint32_t)slot : seed ? seed[key] : UINT32_MAX;
}

/* --- segment decoding --------------------------------------------------------------------- */

typedef struct ld_seg {
	const uint8_t *base;
	size_t size;
	void *map; /* mmap when opened from a file */
	ld_seg_header hdr;
	ld_seg_footer ftr;
	ld_seg_block *blocks; /* copied, aligned */
	ld_addr *addrs;
	ld_str *strs;
	uint8_t *dict;
	/* side tables, after ld_seg_load_peers(): the peer table and the seeds of the predicted
	 * columns (rule, reporter, vif), each NULL when the segment has none */
	uint32_t *peer_first, *peer_dst;
	uint32_t *seed[3];
	uint8_t seed_mode[3];
	bool side_loaded;
} ld_seg;

typedef struct ld_decoder {
	ZSTD_DCtx *dctx;
	int64_t *ts;
	uint32_t *src, *dst, *len, *rule, *reporter, *vif;
	uint16_t *sport, *dport;
	uint8_t *proto, *action, *dir, *flags, *format, *present;
	ld_str *raw;
	uint8_t *sport_eq;
	uint8_t *len_out; /* per row of a LD_SHAPE_LEN_MIXED block: len is in the len column */
	uint16_t *dport_exc; /* a shaped block's rare ports, in row order */
	uint32_t *miss_row;  /* a sparse predicted column's missed rows */
	uint8_t *shape_dport_out; /* the shape view's per-shape "port in the list" flags */
	uint32_t view_exc; /* entries of dport_exc, UINT32_MAX when none was decoded */
	uint16_t *shape_rank;
	ld_shape *shape_tab;
	uint8_t *shape_rank8;   /* the shape view's one-byte ranks, kept apart from tmp */
	uint16_t *shape_dport;  /* the shape view's dport per shape */
	uint32_t view_shapes;   /* shapes in the view of the last decoded block, 0 = none */
	bool view_rank8;
	ld_buf tmp, raw_bytes;
	uint64_t *pred;
	uint32_t pred_cap, gen;
} ld_decoder;

int ld_decoder_init(ld_decoder *d);
void ld_decoder_free(ld_decoder *d);
/* Validates header, footer, block index and dictionaries of a segment image. */
int ld_seg_open_mem(ld_seg *s, const uint8_t *p, size_t n, ld_decoder *d, ld_err *err);
int ld_seg_open_file(ld_seg *s, const char *path, ld_decoder *d, ld_err *err);
void ld_seg_close(ld_seg *s);
/* Reads the segment's side tables: the peer table, which decoding its dst column needs, and the
 * seeds of the predicted columns (rule, reporter, vif); once, and a no-op for a segment without
 * them.  Call it before ld_seg_decode_block() asks for dst, rule, reporter or vif; not
 * thread-safe against decoders of the same segment. */
int ld_seg_load_peers(ld_seg *s, ld_decoder *d, ld_err *err);
/* True when ld_seg_decode_block() of these columns needs ld_seg_load_peers() first. */
bool ld_seg_columns_need_peers(uint32_t columns);
/* dst[k] (a rank in src[k]'s peer list, src ids already checked) -> the peer's address id;
 * *bad when some rank is past its list (seg_peers.c). */
void ld_seg_map_peer_ranks(const ld_seg *s, const uint32_t *restrict src, uint32_t *restrict dst,
			   uint32_t n, bool *bad);
/* Checksum test (always true under ld_seg_ignore_crc) and exact-size zstd inflate, shared by
 * the segment readers. */
bool ld_seg_crc_ok(uint32_t want, const void *p, size_t n);
int ld_seg_inflate(ld_decoder *d, ld_buf *buf, const uint8_t *src, uint32_t csize, uint32_t usize,
		   ld_err *err);
/* Decodes the asked columns of block bi (plus what they depend on) into d's buffers and fills
 * out; -1 with err set when a needed column is damaged.  When bad_cols is not NULL the other
 * stored columns are checked too and the damaged ones flagged there (the block still decodes). */
int ld_seg_decode_block(ld_decoder *d, const ld_seg *s, uint32_t bi, uint32_t columns,
			ld_block *out, uint32_t *bad_cols, ld_err *err);
/* True when block bi may hold a row matching spec (zone maps + address set). */
bool ld_seg_block_may_match(const ld_seg *s, uint32_t bi, const ld_scan_spec *spec,
			    const uint32_t *host_ids, uint32_t n_host_ids);
/* Fuzz targets set this to reach the decoders behind the checksums (segments, journal). */
extern bool ld_seg_ignore_crc;
/* Segment address id of a, or -1 when the segment never saw it. */
int64_t ld_seg_find_addr(const ld_seg *s, const ld_addr *a);

/* --- journal ------------------------------------------------------------------------------ */

/* How much of a row set its journal already holds: rows, address and string entries. */
typedef struct ld_jnl_mark {
	size_t rows;
	uint32_t addrs, strs;
} ld_jnl_mark;

/* The layout of one column frame holding rs's rows past m and the dictionary entries added
 * since m: its exact payload size and column widths, worked out in one pass over those rows. */
typedef struct ld_jnl_plan {
	size_t bytes;     /* payload bytes ld_jnl_frame_put writes */
	bool has_raw;     /* it carries raw lines */
	int64_t ts_base;
	uint8_t tw, wa, wst, wl;
	uint64_t str_bytes, raw_bytes;
} ld_jnl_plan;
void ld_jnl_frame_plan(ld_jnl_plan *pl, const ld_rowset *rs, const ld_jnl_mark *m);
/* Writes the planned payload (pl->bytes) to out, e.g. straight into an aligned write buffer. */
void ld_jnl_frame_put(uint8_t *out, const ld_jnl_plan *pl, const ld_rowset *rs,
		      const ld_jnl_mark *m);
/* Both in one: replaces out with the payload; *has_raw as above.  -1 when out of memory. */
int ld_jnl_frame(ld_buf *out, const ld_rowset *rs, const ld_jnl_mark *m, bool *has_raw);
/* Pads the len bytes of journal image at buf (a whole number of frames) with one pad frame to
 * the next multiple of LD_JNL_ALIGN; returns the new length.  buf needs room for
 * len + LD_JNL_ALIGN + 16 bytes. */
size_t ld_jnl_pad(uint8_t *buf, size_t len);
/* Reads every valid frame of a journal file into rs; *valid_len = bytes up to the end of the
 * last valid frame (the rest is a torn tail).  -1 when the file cannot be read at all. */
int ld_jnl_load(const char *path, ld_rowset *rs, uint64_t *valid_len, ld_err *err);
/* The same on a journal image in memory; -1 only when out of memory.  rs must be empty: frame
 * ids count from the journal start. */
int ld_jnl_parse(const uint8_t *buf, size_t n, ld_rowset *rs, uint64_t *valid_len);

/* --- MANIFEST ----------------------------------------------------------------------------- */

enum ld_mf_op { LD_MF_ADD, LD_MF_REMOVE, LD_MF_REPLACE, LD_MF_COMMIT };

typedef struct ld_mf_entry {
	uint64_t seq, tx;
	int op;
	char path[96];
	uint64_t size, rows;
	int64_t min_ns, max_ns;
	uint8_t digest[32];
	char source[64];
	uint8_t prev[32], chain[32];
	bool chain_ok;  /* prev links to the line before and chain matches the text */
	bool committed; /* its transaction has a commit line */
	size_t line;
} ld_mf_entry;

typedef struct ld_manifest {
	ld_mf_entry *e;
	size_t n, cap;
	uint8_t head[32];   /* chain hash of the last valid line */
	uint64_t valid_len; /* bytes up to the end of the last well-formed line */
	uint64_t file_len;
	size_t bad_lines;   /* lines that do not parse */
	uint64_t max_seg_seq;
} ld_manifest;

/* Missing MANIFEST = empty manifest. */
int ld_manifest_load(const char *dir, ld_manifest *m, ld_err *err);
/* Parses MANIFEST text (need not be NUL-terminated) into an empty m; -1 when out of memory. */
int ld_manifest_parse(ld_manifest *m, const char *text, size_t len);
void ld_manifest_free(ld_manifest *m);
/* Live segments: committed adds not removed/replaced by a committed transaction.  Returns the
 * count and a malloc'd array of pointers into m (NULL when none); -1 on OOM. */
long ld_manifest_live(const ld_manifest *m, const ld_mf_entry ***out);
bool ld_manifest_journal_sealed(const ld_manifest *m, const char *journal);
/* The journal files of DIR no manifest commit names (rows not sealed yet), sorted by name, at
 * most 4096; *names is malloc'd, each name too (ld_jnl_names_free).  Returns the count, or -1
 * when out of memory.  No journal directory is no journal. */
long ld_jnl_unsealed(const char *dir, const ld_manifest *m, char ***names, ld_err *err);
void ld_jnl_names_free(char **names, long n);
bool ld_manifest_mentions(const ld_manifest *m, const char *path);
/* Appends entries (seq, prev and chain filled in here) with one write and fdatasync. */
int ld_manifest_append(int fd, ld_manifest *m, ld_mf_entry *entries, size_t n, ld_err *err);
uint64_t ld_manifest_next_tx(const ld_manifest *m);
void ld_hex(const uint8_t *p, size_t n, char *out);

/* --- files -------------------------------------------------------------------------------- */

int ld_fsync_dir(const char *path, ld_err *err);
int ld_mkdir_p(const char *path, ld_err *err);
/* flock(LOCK_EX|LOCK_NB) on DIR/LOCK (created); returns the fd or -1. */
int ld_store_lock(const char *dir, ld_err *err);
/* "segments/YYYY-MM-DD/<seq>.lds" */
void ld_seg_rel_path(char *out, size_t cap, int64_t day_ns, uint64_t seq);
/* BLAKE2b-256 of a file (streamed); -1 when it cannot be read. */
int ld_file_digest(const char *path, uint8_t digest[32], uint64_t *size, ld_err *err);
/* Removes uncommitted, temp and replaced leftovers (needs the lock). */
int ld_store_cleanup(const char *dir, const ld_manifest *m, ld_err *err);
/* Writes the time-ordered rows idx[0..n) of rs as segments (one per UTC day, at most max_rows
 * each) and fills one `add` entry per segment for transaction tx. */
int ld_store_write_segments(const char *dir, ld_seg_encoder *enc, ld_manifest *m,
			    const ld_rowset *rs, const uint32_t *idx, size_t n, uint32_t max_rows,
			    uint64_t tx, const char *source, ld_mf_entry *out, size_t *n_out,
			    size_t cap_out, ld_err *err);
/* Reads a whole segment back into rs (all columns); -1 when damaged. */
int ld_seg_load_rows(const char *path, ld_rowset *rs, ld_decoder *d, ld_err *err);

#endif
