/* segment_format.h — on-disk layout of a data directory and of one sealed segment file.
 *
 * Data directory
 * --------------
 *   DIR/LOCK                          flock()ed by the one writer (and by prune/compact)
 *   DIR/MANIFEST                      append-only text, one hash-chained entry per line (below)
 *   DIR/journal/<16 hex>.jnl          framed row log of rows not sealed yet
 *   DIR/segments/YYYY-MM-DD/<seq>.lds sealed, immutable, rows of one UTC day sorted by time
 *
 * Journal file: journal_format.h.
 *
 * MANIFEST line (space separated, '\n' terminated)
 * ------------------------------------------------
 *   seq op tx path size rows min_ns max_ns digest source prev chain
 *   op     add | remove | replace | commit
 *   tx     transaction id; entries of a transaction take effect only once its `commit` line exists
 *   digest BLAKE2b-256 of the segment file (hex), zeros for commit lines
 *   source journal file the rows came from (seal), "compact", "prune" or "-"
 *   prev   chain hash of the previous line (zeros for the first)
 *   chain  BLAKE2b-256 of this line's text up to and including `prev`
 *   A journal is sealed exactly when a commit line names it as its source, which is what makes
 *   crash recovery exactly-once.
 *
 * Segment file (.lds), all integers little-endian
 * -----------------------------------------------
 *   +---------------------------------------------------------------+ 0
 *   | ld_seg_header (64 B): magic, version, rows, blocks, ts range, |
 *   |   dictionary sizes, flags, crc32c of the header                |
 *   +---------------------------------------------------------------+ 64
 *   | block 0: column 0 zstd frame, column 1 zstd frame, ...        |
 *   | block 1: ...                                                  |
 *   +---------------------------------------------------------------+ dict_off
 *   | dictionaries, one zstd frame: sorted distinct addresses       |
 *   |   (16 byte planes) = the segment's address-set index, then    |
 *   |   string lengths (u32) and string bytes                       |
 *   +---------------------------------------------------------------+
 *   | side tables, zstd frames (with LD_SEG_FLAG_PEERS or _SEEDS):  |
 *   |   peer table (PEERS): per address id a varint count of the    |
 *   |   distinct dsts it sends to, then a width byte w (1..4) and   |
 *   |   every list's dst ids as w byte planes, each list most       |
 *   |   frequent peer first;                                        |
 *   |   seeds (SEEDS): for rule, reporter, vif a mode byte (0..2 as |
 *   |   the predicted columns' key byte, 255 = none) and unless     |
 *   |   none a varint per address id (0 = none, else string id + 1)|
 *   +---------------------------------------------------------------+ index_off
 *   | block index: ld_seg_block per block: zone maps (ts min/max,   |
 *   |   dport min/max + 1024-bit dport set, 256-bit proto set,       |
 *   |   action mask, src/dst address-id min/max + 4096-bit sets) and |
 *   |   per column: offset, sizes, encoding, crc32c                  |
 *   +---------------------------------------------------------------+
 *   | ld_seg_footer (72 B): offsets, crc32c of dict/index/file      |
 *   +---------------------------------------------------------------+ EOF
 *
 *   Column encodings (before zstd), one leading encoding byte each:
 *     ts        base i64, divisor u64 (gcd of the deltas), varint (delta / divisor); deltas
 *               are unsigned 64-bit differences of consecutive (time-ordered) rows
 *     src, dst  segment address ids, width byte (1..4) then byte planes, high plane first;
 *               every byte plane (also of ports) is its own zstd frame, concatenated, so each
 *               gets its own entropy table
 *     dst       in a segment with a peer table (LD_ENC_PEER_RANK): the same planes, holding
 *               the rank of the row's dst in its src's peer list.  A desktop talks to a few
 *               dozen peers, most to a handful: the rank costs a few bits where the id cost
 *               twelve or more
 *     ports     two byte planes (high, low)
 *     len       varints
 *     rule, reporter, vif   a byte naming the endpoint the column follows in this block (0: src
 *               for OUT rows, dst otherwise; 1: src; 2: dst), then per row a varint: 0 when
 *               equal to the last id seen in the block for the row's endpoint, else id + 1;
 *               or the byte 3 and one varint id that every row of the block has; or the byte 4:
 *               keyed as the segment's seeds for the column say, an endpoint not seen yet in
 *               the block predicted to have its seed.  With bit 7 of that byte (sparse), the
 *               rows are not one varint each: a varint count of missed rows, their positions
 *               as varint gaps (rows hit since the previous miss), then their ids as varints
 *               (LD_ENC_PREDICT, the older form, has no byte and follows the direction)
 *     proto, action, dir, flags, format, present   raw bytes (zstd takes the runs)
 *     row shapes (preferred): proto, action, dir, flags, format, present, dport, rule and
 *               usually len are close to functions of each other in drop logs; a block stores
 *               its distinct tuples once (16 bytes each, most frequent first, those of rare
 *               ports last) and a rank per row, in the proto slot; the member slots say
 *               LD_ENC_IN_SHAPE.  The rare ports' column comes before the shapes when decoding:
 *               their rows take its entries in row order.  A flag
 *               in the tuple marks sport == dport (137->137), and the sport planes skip those
 *               rows.  The byte after the encoding byte says where len is: 0 in its own column,
 *               1 in every tuple, 2 in the tuples with few distinct lengths; the others are
 *               flagged (rule bit 30), hold their rows' smallest length, and the len column
 *               (LD_ENC_PLANES_SKIP: width byte, byte planes) holds each of their rows' length
 *               above it.  Likewise ports seen fewer than four times in a block leave the
 *               tuples (flag: rule bit 29, dport 0) for a dport column of only their rows
 *               (LD_ENC_PLANES_SKIP, two planes).  Ranks are byte planes (one up to 256
 *               shapes, else two) after the table when bit 4 of that byte is set, else varints
 *               (the older form).  Blocks with more than 4096 distinct tuples use the
 *               per-column encodings.
 *     raw       varint lengths then the bytes (zstd at the configured level; the other
 *               columns use level 1); blocks without raw lines store no raw column
 *   Blocks hold LD_SEG_BLOCK_ROWS rows (the last one fewer); segments at most the writer's
 *   segment_rows.
 */
#ifndef LD_SEGMENT_FORMAT_H
#define LD_SEGMENT_FORMAT_H

#include <assert.h>
#include <stdint.h>

#define LD_SEG_MAGIC "LDSEG\0\r\n"
#define LD_SEG_END_MAGIC "LDSEGEND"
#define LD_SEG_VERSION 1u
#define LD_SEG_BLOCK_ROWS 65536u
#define LD_SEG_NCOLS 16u
#define LD_SEG_FLAG_RAW 1u
#define LD_SEG_FLAG_PEERS 2u /* dst columns are ranks in the peer table */
#define LD_SEG_FLAG_SEEDS 4u /* predicted columns may start from the seeds */
#define LD_SEG_ADDR_BITS 4096u /* per-block address bitmap: bit (id % 4096) */
#define LD_SEG_PORT_BITS 1024u /* per-block dport bitmap: bit (port % 1024) */
#define LD_SEG_MAX_ROWS (1u << 28)


enum ld_seg_enc {
	LD_ENC_NONE = 0,   /* column not stored */
	LD_ENC_TS_DELTA = 1,
	LD_ENC_PLANES = 2,
	LD_ENC_VARINT = 3,
	LD_ENC_RAW8 = 4,
	LD_ENC_PREDICT = 5,
	LD_ENC_BYTES = 6,
	LD_ENC_SHAPE = 7,    /* in the proto slot: the block's row shapes (see below) */
	LD_ENC_IN_SHAPE = 8, /* column carried by the shape column, no bytes of its own */
	LD_ENC_PLANES_SKIP = 9, /* sport planes without the rows whose shape says sport == dport */
	LD_ENC_PREDICT_BY = 10, /* LD_ENC_PREDICT with a byte naming the endpoint it follows */
	LD_ENC_PEER_RANK = 11,  /* dst as the rank of dst among its src's peers (peer table) */
};

typedef struct ld_seg_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t rows;
	uint32_t blocks;
	uint32_t block_rows;
	int64_t ts_min;
	int64_t ts_max;
	uint32_t n_addrs;
	uint32_t n_strs;
	uint32_t flags;
	uint32_t crc; /* crc32c of the 60 bytes before it */
} ld_seg_header;

typedef struct ld_seg_col {
	uint64_t off;   /* absolute file offset of the zstd frame */
	uint32_t csize; /* 0 = column absent */
	uint32_t usize;
	uint32_t crc;   /* crc32c of the compressed bytes */
	uint8_t enc;
	uint8_t pad[3];
} ld_seg_col;

typedef struct ld_seg_block {
	uint32_t rows;
	uint8_t action_mask; /* bit (1 << action) */
	uint8_t pad[3];
	int64_t ts_min, ts_max;
	uint16_t dport_min, dport_max;
	uint32_t src_min, src_max, dst_min, dst_max; /* address ids */
	uint32_t pad2;
	uint8_t proto_bits[32];
	uint8_t dport_bits[LD_SEG_PORT_BITS / 8];
	uint8_t src_bits[LD_SEG_ADDR_BITS / 8];
	uint8_t dst_bits[LD_SEG_ADDR_BITS / 8];
	ld_seg_col cols[LD_SEG_NCOLS];
} ld_seg_block;

typedef struct ld_seg_footer {
	uint64_t dict_off;
	uint32_t dict_csize;
	uint32_t dict_usize;
	uint32_t dict_crc;
	uint32_t blocks;
	uint64_t index_off;
	uint32_t index_size;
	uint32_t index_crc;
	uint64_t rows;
	uint32_t file_crc;   /* crc32c of [0, footer) */
	uint32_t footer_crc; /* crc32c of the footer bytes before this field */
	char magic[8];
	uint32_t peers_usize; /* peer table (LD_SEG_FLAG_PEERS): uncompressed size */
	uint32_t peers_crc;   /* and crc32c of its compressed bytes, [dict end, index_off) */
} ld_seg_footer;

static_assert(sizeof(ld_seg_header) == 64, "segment header is 64 bytes");
static_assert(sizeof(ld_seg_col) == 24, "column reference is 24 bytes");
static_assert(sizeof(ld_seg_block) == 48 + 32 + 128 + 512 + 512 + 16 * 24, "block index entry");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the on-disk structs are written as little-endian");
static_assert(sizeof(ld_seg_footer) == 72, "segment footer is 72 bytes");

#endif
