/* fuzz_journal_read.c — libFuzzer target: the input is a journal file (as left by a crash).
 * Whatever frames parse become rows; those rows must then survive a segment round trip:
 * encode, validate, decode every block, same row count.  Frame checksums are not enforced so
 * mutations reach the record decoder. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ld_scan.h"
#include "store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ld_decoder d;
	static ld_seg_encoder e;
	static bool ready;
	if (!ready) {
		if (ld_decoder_init(&d) != 0 || ld_seg_encoder_init(&e, 1) != 0)
			abort();
		ld_seg_ignore_crc = true;
		ready = true;
	}
	ld_rowset rs;
	ld_rowset_init(&rs, true);
	uint64_t valid;
	if (ld_jnl_parse(data, size, &rs, &valid) != 0 || valid > size)
		abort();
	if (rs.n == 0 || rs.n > 100000) {
		ld_rowset_free(&rs);
		return 0;
	}
	uint32_t *idx = malloc(rs.n * sizeof(uint32_t));
	if (!idx)
		abort();
	/* time order, as the writer hands rows to the encoder (insertion sort: inputs are small) */
	for (size_t i = 0; i < rs.n; i++) {
		size_t j = i;
		while (j > 0 && rs.ts[idx[j - 1]] > rs.ts[i]) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = (uint32_t)i;
	}
	ld_err err;
	if (ld_seg_encode(&e, &rs, idx, rs.n, &err) != 0)
		abort();
	ld_seg s;
	if (ld_seg_open_mem(&s, e.file.p, e.file.len, &d, &err) != 0 || ld_seg_load_peers(&s, &d, &err) != 0)
		abort(); /* the encoder wrote something its reader rejects */
	uint64_t rows = 0;
	for (uint32_t b = 0; b < s.hdr.blocks; b++) {
		ld_block blk;
		if (ld_seg_decode_block(&d, &s, b, LD_COL_ALL, &blk, NULL, &err) != 0)
			abort();
		for (uint32_t i = 0; i < blk.n; i++) {
			ld_record got, want;
			ld_block_record(&blk, i, &got);
			ld_rowset_get(&rs, idx[rows + i], &want);
			if (got.ts_ns != want.ts_ns || !ld_addr_eq(&got.src, &want.src) ||
			    !ld_addr_eq(&got.dst, &want.dst) || got.sport != want.sport ||
			    got.dport != want.dport || got.len != want.len || got.proto != want.proto ||
			    got.rule.len != want.rule.len || got.raw.len != want.raw.len)
				abort();
		}
		rows += blk.n;
	}
	if (rows != rs.n)
		abort();
	ld_seg_close(&s);
	free(idx);
	ld_rowset_free(&rs);
	return 0;
}
