/* gen_seg_corpus.c — writes the seed corpus of fuzz_segment_read into a directory: small valid
 * segments (row-shape and per-column encodings, IPv4 and IPv6, with and without raw lines) and
 * a few mutations of them (flipped bytes, truncation).  Run by hand when the format changes:
 *   gen_seg_corpus tests/store/corpus */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_writer.h"
#include "store_internal.h"
#include "store_testgen.h"

static int put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "gen_seg_corpus: cannot write %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seg_corpus DIR\n");
		return 2;
	}
	static const struct {
		const char *name;
		uint64_t seed;
		unsigned rows;
		bool raw;
	} kinds[] = {
		{"shape-len", 9, 300, false},
		{"shape-nolen-raw", 7, 200, true},
		{"columns-raw", 10, 150, true},
		{"columns", 12, 64, false},
		{"tiny", 5, 3, true},
	};
	ld_seg_encoder e;
	if (ld_seg_encoder_init(&e, 3) != 0)
		return 1;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		ld_rowset rs;
		ld_rowset_init(&rs, kinds[k].raw);
		tg_bufs b;
		uint32_t idx[1000];
		for (unsigned i = 0; i < kinds[k].rows; i++) {
			ld_record r;
			tg_record(kinds[k].seed, i, kinds[k].raw, &r, &b);
			if (ld_rowset_add(&rs, &r) != 0)
				return 1;
			idx[i] = i;
		}
		ld_err err;
		if (ld_seg_encode(&e, &rs, idx, kinds[k].rows, &err) != 0) {
			fprintf(stderr, "gen_seg_corpus: %s\n", err.msg);
			return 1;
		}
		char name[128];
		snprintf(name, sizeof(name), "%s.lds", kinds[k].name);
		if (put(argv[1], name, e.file.p, e.file.len) != 0)
			return 1;
		/* mutations: a flipped byte in the column data, in the dictionary, and a cut */
		uint8_t *m = malloc(e.file.len);
		memcpy(m, e.file.p, e.file.len);
		m[70] ^= 0x21;
		snprintf(name, sizeof(name), "%s-flip-data.lds", kinds[k].name);
		put(argv[1], name, m, e.file.len);
		memcpy(m, e.file.p, e.file.len);
		m[e.file.len - 200] ^= 0x80;
		snprintf(name, sizeof(name), "%s-flip-tail.lds", kinds[k].name);
		put(argv[1], name, m, e.file.len);
		snprintf(name, sizeof(name), "%s-cut.lds", kinds[k].name);
		put(argv[1], name, e.file.p, e.file.len * 2 / 3);
		free(m);
		ld_rowset_free(&rs);
	}
	ld_seg_encoder_free(&e);
	return 0;
}
