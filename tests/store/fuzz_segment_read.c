/* fuzz_segment_read.c — libFuzzer target: the input is a segment file.  It is validated, every
 * block decoded with every column (and once with dport as its shape view, once with dst as its
 * peer view), rows rebuilt and the zone-map pruning asked about an address of the segment.  Checksums are not enforced here
 * (ld_seg_ignore_crc) so that mutations reach the decoders behind them; the reader must reject
 * or decode anything without crashing. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_scan.h"
#include "store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ld_decoder d;
	static bool ready;
	if (!ready) {
		if (ld_decoder_init(&d) != 0)
			return 0;
		ld_seg_ignore_crc = true;
		ready = true;
	}
	ld_seg s;
	ld_err err;
	if (ld_seg_open_mem(&s, data, size, &d, &err) != 0)
		return 0;
	/* a peer table that does not load leaves dst undecodable: the decoder must say so */
	(void)ld_seg_load_peers(&s, &d, &err);
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.dport = 445;
	spec.proto = 6;
	spec.action_mask = 1u << LD_ACTION_DROP;
	ld_addr host = s.hdr.n_addrs ? s.addrs[s.hdr.n_addrs / 2] : (ld_addr){{0}};
	spec.hosts = &host;
	spec.n_hosts = 1;
	int64_t id = ld_seg_find_addr(&s, &host);
	uint32_t ids[1] = {id >= 0 ? (uint32_t)id : 0};
	volatile uint64_t sink = 0;
	for (uint32_t b = 0; b < s.hdr.blocks; b++) {
		sink += ld_seg_block_may_match(&s, b, &spec, ids, id >= 0 ? 1 : 0);
		ld_block blk;
		/* dport as a shape view: every rank must index the block's shape table */
		if (ld_seg_decode_block(&d, &s, b, LD_COL_DPORT | LD_COL_SHAPE_DPORT, &blk, NULL,
					&err) == 0 && blk.n_shapes)
			for (uint32_t i = 0; i < blk.n; i++)
				sink += blk.shape_dport[blk.shape_rank8 ? blk.shape_rank8[i] :
									 blk.shape_rank16[i]];
		/* dst as the peer view: ranks are the consumer's to check, as a group-by does */
		if (ld_seg_decode_block(&d, &s, b, LD_COL_SRC | LD_COL_DST | LD_COL_DST_RANK, &blk, NULL,
					&err) == 0 && blk.dst_rank)
			for (uint32_t i = 0; i < blk.n; i++) {
				uint32_t lo = blk.peer_first[blk.src[i]], hi = blk.peer_first[blk.src[i] + 1];
				if (blk.dst_rank[i] < hi - lo)
					sink += blk.addrs[blk.peer_dst[lo + blk.dst_rank[i]]].b[15];
			}
		if (ld_seg_decode_block(&d, &s, b, LD_COL_ALL, &blk, NULL, &err) != 0)
			continue;
		for (uint32_t i = 0; i < blk.n; i++) {
			ld_record r;
			ld_block_record(&blk, i, &r);
			sink += (uint64_t)r.ts_ns + r.rule.len + r.reporter.len + r.vif.len + r.raw.len;
			sink += ld_scan_row_matches(&spec, &blk, i);
			if (r.raw.len)
				sink += (uint8_t)r.raw.ptr[r.raw.len - 1];
		}
	}
	(void)sink;
	ld_seg_close(&s);
	return 0;
}
