/* fuzz_manifest_read.c — libFuzzer target: the input is a MANIFEST.  Parsing, the hash chain
 * check, the committed-transaction logic and the live-segment set must cope with anything. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "store_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ld_manifest m;
	if (ld_manifest_parse(&m, (const char *)data, size) != 0)
		return 0;
	if (m.valid_len > size || m.file_len > size)
		abort();
	const ld_mf_entry **live;
	long n = ld_manifest_live(&m, &live);
	volatile uint64_t sink = 0;
	for (long i = 0; i < n; i++)
		sink += live[i]->rows + ld_manifest_mentions(&m, live[i]->path);
	for (size_t i = 0; i < m.n; i++)
		sink += ld_manifest_journal_sealed(&m, m.e[i].source) + m.e[i].chain_ok;
	sink += ld_manifest_next_tx(&m);
	(void)sink;
	free(live);
	ld_manifest_free(&m);
	return 0;
}
