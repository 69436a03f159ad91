/* store_testutil.h — small helpers the store tests share: scratch data directories and a
 * thread-safe "collect every row and compare with the generator" scan callback. */
#ifndef STORE_TESTUTIL_H
#define STORE_TESTUTIL_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ld_scan.h"
#include "store_testgen.h"

/* A fresh, empty directory under $TMPDIR (or /tmp). */
static inline void tu_tempdir(char *out, size_t cap, const char *tag)
{
	const char *t = getenv("TMPDIR");
	snprintf(out, cap, "%s/ldstore-%s-XXXXXX", t && *t ? t : "/tmp", tag);
	if (!mkdtemp(out))
		out[0] = '\0';
}

static inline void tu_rmrf(const char *dir)
{
	char cmd[4200];
	if (dir[0] && strstr(dir, "ldstore-")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

/* Counts the delivered rows that satisfy the scan's push-down predicate (ld_scan_row_matches). */
typedef struct tu_match_count {
	const ld_scan_spec *spec;
	atomic_ullong matched;
} tu_match_count;

static inline int tu_count_matches(void *ctx, int thread, const ld_block *b)
{
	(void)thread;
	tu_match_count *c = ctx;
	for (uint32_t i = 0; i < b->n; i++)
		if (ld_scan_row_matches(c->spec, b, i))
			atomic_fetch_add(&c->matched, 1);
	return 0;
}

/* Checks every delivered row against the generator; counts how often each id was seen. */
typedef struct tu_check {
	uint64_t seed;
	bool want_raw;
	uint64_t n_ids;
	_Atomic uint8_t *seen;
	atomic_ullong rows, mismatches, out_of_range;
	atomic_ullong damaged;
} tu_check;

static inline int tu_check_block(void *ctx, int thread, const ld_block *b)
{
	(void)thread;
	tu_check *c = ctx;
	tg_bufs bufs;
	for (uint32_t i = 0; i < b->n; i++) {
		ld_record got, want;
		ld_block_record(b, i, &got);
		uint64_t id = tg_id(got.ts_ns);
		atomic_fetch_add(&c->rows, 1);
		if (got.ts_ns < TG_BASE_NS || id >= c->n_ids) {
			atomic_fetch_add(&c->out_of_range, 1);
			continue;
		}
		atomic_fetch_add(&c->seen[id], 1);
		tg_record(c->seed, id, c->want_raw, &want, &bufs);
		if (!tg_equal(&want, &got, c->want_raw))
			atomic_fetch_add(&c->mismatches, 1);
	}
	return 0;
}

static inline void tu_on_damage(void *ctx, const char *segment, const char *why)
{
	tu_check *c = ctx;
	(void)segment;
	(void)why;
	atomic_fetch_add(&c->damaged, 1);
}

static inline void tu_check_init(tu_check *c, uint64_t seed, bool want_raw, uint64_t n_ids)
{
	memset(c, 0, sizeof(*c));
	c->seed = seed;
	c->want_raw = want_raw;
	c->n_ids = n_ids;
	c->seen = calloc(n_ids ? n_ids : 1, 1);
}

#endif
