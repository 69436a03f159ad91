/* gen_seg_corpus.c — writes the seed corpora of the store's fuzz targets:
 *   DIR/corpus           segments: row-shape and per-column encodings, IPv4 and IPv6, with and
 *                        without raw lines, with a peer table, and mutations of them (flipped
 *                        bytes, truncation)
 *   DIR/corpus_journal   journals as a crash leaves them (whole, torn mid-frame); the writer
 *                        here keeps raw lines, so its frames are compressed; journal-* are
 *                        written through the page cache, direct-* with direct I/O (pad frames,
 *                        where the file system allows it); the plain-* seeds beside them hold
 *                        uncompressed frames and are kept as they are
 *   DIR/corpus_manifest  MANIFESTs of a store that sealed, pruned and compacted (whole, torn)
 * Run by hand when a format changes:  gen_seg_corpus tests/store */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "direct_io.h"
#include "ld_archive.h"
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

static int copy_file(const char *from, const char *dir, const char *name, size_t cut)
{
	FILE *f = fopen(from, "rb");
	if (!f)
		return -1;
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return put(dir, name, buf, cut && cut < n ? n - cut : n);
}

/* A real store in a scratch directory: journal copies before sealing, MANIFEST after a seal,
 * a prune and a compaction. */
static int journals_and_manifests(const char *jdir, const char *mdir, bool direct)
{
	ld_direct_io = direct;
	char dir[] = "/tmp/ld-corpus-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = true;
	ld_err err;
	ld_writer *w = ld_writer_open(dir, &o, &err);
	if (!w)
		return 1;
	tg_bufs b;
	int rc = 0;
	for (uint64_t round = 0; round < 3 && rc == 0; round++) {
		for (uint64_t i = 0; i < 120; i++) {
			ld_record r;
			tg_record(round == 1 ? 10 : 9, round * 200000 + i, true, &r, &b);
			rc |= ld_writer_append(w, &r, &err);
			if (i % 40 == 39)
				rc |= ld_writer_sync(w, &err);
		}
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "ls %s/journal/*.jnl > %s/jlist", dir, dir);
		rc |= system(cmd) != 0;
		char list[4200], jpath[4200];
		snprintf(list, sizeof(list), "%s/jlist", dir);
		FILE *lf = fopen(list, "r");
		if (lf && fgets(jpath, sizeof(jpath), lf)) {
			jpath[strcspn(jpath, "\n")] = '\0';
			char name[64];
			const char *pfx = direct ? "direct-" : "";
			snprintf(name, sizeof(name), "%sjournal-%llu.jnl", pfx, (unsigned long long)round);
			rc |= copy_file(jpath, jdir, name, 0);
			snprintf(name, sizeof(name), "%sjournal-%llu-torn.jnl", pfx,
				 (unsigned long long)round);
			rc |= copy_file(jpath, jdir, name, 37);
		}
		if (lf)
			fclose(lf);
		rc |= ld_writer_seal(w, &err);
	}
	rc |= ld_writer_close(w, &err);
	char mf[4200];
	snprintf(mf, sizeof(mf), "%s/MANIFEST", dir);
	rc |= copy_file(mf, mdir, "sealed.txt", 0);
	rc |= ld_archive_compact(dir, NULL, &err) < 0;
	rc |= ld_archive_prune(dir, TG_BASE_NS + 3600 * INT64_C(1000000000), &err) < 0;
	rc |= copy_file(mf, mdir, "compacted-pruned.txt", 0);
	rc |= copy_file(mf, mdir, "torn.txt", 50);
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	rc |= system(cmd) != 0;
	if (rc)
		fprintf(stderr, "gen_seg_corpus: journal/manifest seeds failed\n");
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seg_corpus DIR\n");
		return 2;
	}
	char segdir[4096], jdir[4096], mdir[4096];
	snprintf(segdir, sizeof(segdir), "%s/corpus", argv[1]);
	snprintf(jdir, sizeof(jdir), "%s/corpus_journal", argv[1]);
	snprintf(mdir, sizeof(mdir), "%s/corpus_manifest", argv[1]);
	static const struct {
		const char *name;
		uint64_t seed;
		unsigned rows;
		bool raw;
		uint32_t estate; /* desktops of tg_estate_record, 0: tg_record */
	} kinds[] = {
		{"shape-len", 9, 300, false},
		{"shape-nolen-raw", 7, 200, true},
		{"columns-raw", 10, 150, true},
		{"columns", 12, 64, false},
		{"tiny", 5, 3, true},
		{"peers", 4, 6000, false, 24},
	};
	ld_seg_encoder e;
	if (ld_seg_encoder_init(&e, 3) != 0)
		return 1;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		ld_rowset rs;
		ld_rowset_init(&rs, kinds[k].raw);
		tg_bufs b;
		static uint32_t idx[6000];
		for (unsigned i = 0; i < kinds[k].rows; i++) {
			ld_record r;
			if (kinds[k].estate)
				tg_estate_record(kinds[k].seed, i, kinds[k].estate, &r, &b);
			else
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
		if (kinds[k].estate && !(((const ld_seg_header *)e.file.p)->flags & LD_SEG_FLAG_PEERS)) {
			fprintf(stderr, "gen_seg_corpus: %s has no peer table\n", kinds[k].name);
			return 1;
		}
		char name[128];
		snprintf(name, sizeof(name), "%s.lds", kinds[k].name);
		if (put(segdir, name, e.file.p, e.file.len) != 0)
			return 1;
		/* mutations: a flipped byte in the column data, in the dictionary, and a cut */
		uint8_t *m = malloc(e.file.len);
		memcpy(m, e.file.p, e.file.len);
		m[70] ^= 0x21;
		snprintf(name, sizeof(name), "%s-flip-data.lds", kinds[k].name);
		put(segdir, name, m, e.file.len);
		memcpy(m, e.file.p, e.file.len);
		m[e.file.len - 200] ^= 0x80;
		snprintf(name, sizeof(name), "%s-flip-tail.lds", kinds[k].name);
		put(segdir, name, m, e.file.len);
		snprintf(name, sizeof(name), "%s-cut.lds", kinds[k].name);
		put(segdir, name, e.file.p, e.file.len * 2 / 3);
		free(m);
		ld_rowset_free(&rs);
	}
	ld_seg_encoder_free(&e);
	return journals_and_manifests(jdir, mdir, false) | journals_and_manifests(jdir, mdir, true);
}
