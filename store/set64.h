/* set64.h — a flat open-addressing hash set (or map to uint32) of 64-bit keys, for the
 * group-by's per-segment tables and the pair set.  UINT64_MAX is the empty slot, so it cannot
 * be a key; the load stays at most one half.  Header-only: the callers probe it per row. */
#ifndef LD_SET64_H
#define LD_SET64_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LD_SET64_EMPTY UINT64_MAX

static inline uint64_t ld_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

typedef struct set64 {
	uint64_t *keys;
	uint32_t *vals; /* NULL for a set */
	size_t cap, n;  /* cap is a power of two */
} set64;

static inline void set64_free(set64 *s)
{
	free(s->keys);
	free(s->vals);
	memset(s, 0, sizeof *s);
}

static inline bool set64_init(set64 *s, size_t cap, bool with_vals)
{
	s->keys = malloc(cap * sizeof *s->keys);
	s->vals = with_vals ? malloc(cap * sizeof *s->vals) : NULL;
	if (!s->keys || (with_vals && !s->vals)) {
		set64_free(s);
		return false;
	}
	memset(s->keys, 0xff, cap * sizeof *s->keys);
	s->cap = cap;
	s->n = 0;
	return true;
}

static inline void set64_clear(set64 *s)
{
	if (s->keys && s->n)
		memset(s->keys, 0xff, s->cap * sizeof *s->keys);
	s->n = 0;
}

static inline bool set64_grow(set64 *s)
{
	set64 t = {0};
	if (!set64_init(&t, s->cap * 2, s->vals != NULL))
		return false;
	size_t mask = t.cap - 1;
	for (size_t i = 0; i < s->cap; i++) {
		uint64_t k = s->keys[i];
		if (k == LD_SET64_EMPTY)
			continue;
		size_t j = ld_mix64(k) & mask;
		while (t.keys[j] != LD_SET64_EMPTY)
			j = (j + 1) & mask;
		t.keys[j] = k;
		if (t.vals)
			t.vals[j] = s->vals[i];
	}
	t.n = s->n;
	set64_free(s);
	*s = t;
	return true;
}

/* Returns the slot of k (inserting it with *inserted = true when absent), or SIZE_MAX on OOM. */
static inline size_t set64_put(set64 *s, uint64_t k, bool *inserted)
{
	if ((s->n + 1) * 2 > s->cap && !set64_grow(s))
		return SIZE_MAX;
	size_t mask = s->cap - 1, j = ld_mix64(k) & mask;
	for (;;) {
		uint64_t cur = s->keys[j];
		if (cur == k) {
			*inserted = false;
			return j;
		}
		if (cur == LD_SET64_EMPTY) {
			s->keys[j] = k;
			s->n++;
			*inserted = true;
			return j;
		}
		j = (j + 1) & mask;
	}
}

#endif
