/* ld_scan.h — the store's read side: open a data directory (live or a read-only copy) and scan
 * column blocks with predicate push-down, in parallel.
 *
 * Contract:
 *  - ld_archive_open() never writes: it works on a copied archive or a read-only mount.  It sees
 *    every sealed segment listed in the MANIFEST plus the rows still in the journal (decoded
 *    read-only, torn tail ignored), so a query right after a crash shows every durable record.
 *  - ld_scan() prunes segments and blocks with the zone maps (time range, address sets, dport,
 *    proto, action) and hands the surviving blocks to fn as decoded column arrays.  Pruning is
 *    conservative: a delivered block may still hold rows outside the predicate, so fn filters rows
 *    (ld_scan_row_matches() does it for the push-down part).
 *  - With spec.threads > 1, fn is called concurrently from several threads, each with its own
 *    `thread` index in [0, threads) and its own decode buffers.  Work is handed out block by
 *    block, so the blocks of one segment may be delivered by several threads at once, and
 *    callbacks see blocks in no particular order (per thread, block numbers of one segment still
 *    only grow).  A caller that needs time order sorts what it collects, or reads sources
 *    through ld_scan_cursor.h.  With threads == 1 segments are visited in order of their first
 *    timestamp and the blocks of each in time order (then the unsealed journals).
 *  - A damaged segment (bad checksum, truncated, undecodable) is reported through spec.on_damage
 *    (or counted in stats) and skipped; the scan carries on with the rest.  Every delivered
 *    block has the checksums of all its stored columns checked: a damaged column the scan needs
 *    drops that block, one it does not need is reported and the block is still delivered.
 *  - Columns not asked for in spec.columns are NULL in the block.
 */
#ifndef LD_SCAN_H
#define LD_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "ld_log.h"
#include "ld_record.h"

enum ld_col {
	LD_COL_TS = 1u << 0,
	LD_COL_SRC = 1u << 1,
	LD_COL_DST = 1u << 2,
	LD_COL_SPORT = 1u << 3,
	LD_COL_DPORT = 1u << 4,
	LD_COL_PROTO = 1u << 5,
	LD_COL_ACTION = 1u << 6,
	LD_COL_DIR = 1u << 7,
	LD_COL_RULE = 1u << 8,
	LD_COL_REPORTER = 1u << 9,
	LD_COL_VIF = 1u << 10,
	LD_COL_FLAGS = 1u << 11, /* tcp_flags */
	LD_COL_LEN = 1u << 12,
	LD_COL_FORMAT = 1u << 13,
	LD_COL_PRESENT = 1u << 14,
	LD_COL_RAW = 1u << 15,
	LD_COL_ALL = (1u << 16) - 1,
	/* With LD_COL_DPORT: a block whose rows are shape-encoded may deliver dport as its shape
	 * view (ld_block.n_shapes > 0, dport NULL) instead of a per-row column, which saves
	 * expanding it row by row (group-by dport counts shapes).  Not honoured when the
	 * source port is asked for too (it is stored relative to dport). */
	LD_COL_SHAPE_DPORT = 1u << 16,
	/* With LD_COL_DST (and LD_COL_SRC): a block whose dst is stored as ranks in its source's
	 * peer list may deliver it as that view (ld_block.dst_rank set, dst NULL), which saves
	 * looking every row's peer up.  Counting distinct dsts per source needs no more: within
	 * a segment a (src, rank) pair is one (src, dst) pair.  Not honoured when a predicate or
	 * prefilter tests dst, or when rule, reporter or vif are asked for (they are predicted
	 * from dst). */
	LD_COL_DST_RANK = 1u << 17,
};

#define LD_BLOCK_MAX_SHAPES 4096u /* n_shapes never exceeds this */

/* One decoded block.  Addresses and strings are dictionary-encoded per segment: src[i] indexes
 * addrs[], rule[i]/reporter[i]/vif[i] index strs[].  Arrays have n entries. */
typedef struct ld_block {
	uint32_t n;
	const int64_t *ts;
	const uint32_t *src, *dst;
	const uint16_t *sport, *dport;
	const uint8_t *proto, *action, *dir, *tcp_flags, *format, *present;
	const uint32_t *len;
	const uint32_t *rule, *reporter, *vif;
	const ld_str *raw; /* raw[i].len == 0 when not kept */
	/* shape view (LD_COL_SHAPE_DPORT): row i's dport is shape_dport[rank of row i], the rank
	 * being shape_rank8[i] or shape_rank16[i] (one of the two is set); n_shapes == 0 when the
	 * block delivered the dport column instead */
	uint32_t n_shapes;
	const uint8_t *shape_rank8;
	const uint16_t *shape_rank16;
	const uint16_t *shape_dport;
	/* ...except rows whose shape has shape_dport_out[rank] set (NULL: none does): their ports,
	 * rare in the block, are dport_exc[0..n_dport_exc) in row order */
	const uint8_t *shape_dport_out;
	const uint16_t *dport_exc;
	uint32_t n_dport_exc;
	/* peer view (LD_COL_DST_RANK): row i's dst is peer_dst[peer_first[src[i]] + dst_rank[i]].
	 * peer_first has n_addrs + 1 ascending entries, peer_dst peer_first[n_addrs] ids below
	 * n_addrs.  Ranks are not checked against their list: a consumer skips a row whose rank
	 * is not below peer_first[src + 1] - peer_first[src], as it skips an id past n_addrs. */
	const uint32_t *dst_rank;
	const uint32_t *peer_first, *peer_dst;
	/* segment dictionaries */
	const ld_addr *addrs;
	uint32_t n_addrs;
	const ld_str *strs;
	uint32_t n_strs;
	/* identity, for diagnostics */
	const char *segment; /* path relative to the data dir */
	uint32_t block_index;
} ld_block;

/* Predicate push-down.  Unused parts are left at their ld_scan_spec_init() defaults. */
typedef struct ld_scan_spec {
	int64_t from_ns, to_ns; /* [from, to); INT64_MIN / INT64_MAX = open */
	const ld_addr *hosts;   /* rows whose src or dst (see host_side) is one of these */
	uint32_t n_hosts;
	int host_side;          /* 0 either, 1 src only, 2 dst only */
	int32_t dport;          /* -1 any */
	int32_t proto;          /* -1 any */
	uint32_t action_mask;   /* bit (1<<action); 0 = any */
	uint32_t columns;       /* enum ld_col bits to decode */
	int threads;            /* 0 = number of online CPUs */
	/* Called once per damaged segment or block; may be NULL.  Serialized by the scanner. */
	void (*on_damage)(void *ctx, const char *segment, const char *why);
	/* Called by each scan thread after its last block (not when the scan was stopped), so
	 * that per-thread results can be finished in parallel, e.g. with ld_group_acc_finish();
	 * may be NULL.  A nonzero return fails the scan as one from fn does. */
	int (*thread_done)(void *ctx, int thread);
	/* Checksums: the columns a block is decoded for are always checked, so no answer rests on
	 * damaged bytes.  verify_all also checks every other stored column of each delivered
	 * block and reports damage there (the block is still read): the scan then reads the
	 * whole store from memory, which for a one-column query costs more than the query.
	 * `archive verify` checks everything. */
	bool verify_all;
	/* Late materialization, optional (NULL: off).  A sealed block is first decoded with only
	 * prefilter_columns (plus the push-down columns); prefilter(ctx, thread, b) returns false
	 * when no row of b can match, and then the block's other columns are never decoded and fn
	 * is not called for it.  Otherwise the remaining columns are decoded and fn gets the whole
	 * block as usual.  A hint only: fn still filters rows, and journal blocks skip it. */
	bool (*prefilter)(void *ctx, int thread, const ld_block *b);
	uint32_t prefilter_columns;
} ld_scan_spec;

void ld_scan_spec_init(ld_scan_spec *s);

typedef struct ld_scan_stats {
	uint64_t segments_total, segments_skipped, segments_damaged;
	uint64_t blocks_total, blocks_skipped;
	uint64_t rows_scanned; /* rows in delivered blocks */
	uint64_t journal_rows; /* rows delivered from the unsealed journal */
} ld_scan_stats;

typedef struct ld_archive ld_archive;

ld_archive *ld_archive_open(const char *dir, ld_err *err);
void ld_archive_close(ld_archive *a);
/* Time span of the whole store (sealed + journal); false when empty. */
bool ld_archive_span(const ld_archive *a, int64_t *min_ns, int64_t *max_ns);
uint64_t ld_archive_rows(const ld_archive *a);

/* fn returns 0 to continue, non-zero to stop the scan early (that value is returned).
 * Returns 0 when the scan completed, -1 on a fatal error (err set). */
typedef int (*ld_scan_fn)(void *ctx, int thread, const ld_block *b);
int ld_scan(ld_archive *a, const ld_scan_spec *spec, ld_scan_fn fn, void *ctx,
	    ld_scan_stats *stats, ld_err *err);

/* True when row i of b satisfies the push-down part of spec (time, hosts, dport, proto, action).
 * Requires the matching columns to have been decoded. */
bool ld_scan_row_matches(const ld_scan_spec *spec, const ld_block *b, uint32_t i);

/* Rebuild a full record for row i (strings point into the block; valid during the callback). */
void ld_block_record(const ld_block *b, uint32_t i, ld_record *out);

#endif
