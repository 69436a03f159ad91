/* pair_set.h — the distinct (group id, value id) pairs of a group-by that counts distinct
 * values, the set every segment's pairs are merged into.
 *
 * Both ids are dense (handed out 0, 1, 2, ... as groups and values are first seen), so while
 * groups x values stays small the set is a bitmap with one row per group: adding a pair is a bit
 * test, and the whole set of an estate of a few thousand desktops fits the caches.  A row's
 * width is a power of two, doubled as values arrive.  When the bitmap would outgrow both
 * LD_PAIR_BITMAP_MIN_BYTES and LD_PAIR_BITMAP_BYTES_PER_PAIR bytes per pair held (sparse pairs
 * of many groups and values), the set becomes a hash set of (gid << 32 | vid) keys for good. */
#ifndef LD_PAIR_SET_H
#define LD_PAIR_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "set64.h"

#define LD_PAIR_BITMAP_MIN_BYTES ((size_t)8 << 20)
#define LD_PAIR_BITMAP_BYTES_PER_PAIR 16

typedef struct ld_pair_set {
	bool hashed;
	uint64_t *bits;       /* bitmap mode: rows x row_words */
	size_t rows, row_words; /* row_words is a power of two */
	set64 hash;           /* hash mode */
	size_t n;             /* pairs held */
} ld_pair_set;

/* An empty set (no allocation until the first pair). */
void ld_pair_set_init(ld_pair_set *s);
void ld_pair_set_free(ld_pair_set *s);

/* Adds keys[0..n), each gid << 32 | vid.  The group id of every pair that was not in the set
 * yet is written to fresh[] (room for n), in order; returns how many, or SIZE_MAX when out of
 * memory (the pairs before the failure may have been added). */
size_t ld_pair_set_add(ld_pair_set *s, const uint64_t *keys, size_t n, uint32_t *fresh);

/* Copies up to max pairs (as keys) to out, continuing from *pos (0 to start); returns how many,
 * 0 when all were read.  The set must not change between calls. */
size_t ld_pair_set_read(const ld_pair_set *s, size_t *pos, uint64_t *out, size_t max);

#endif
