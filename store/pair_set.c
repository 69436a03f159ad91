/* pair_set.c — the distinct pairs of a group-by: a bitmap while dense, a hash set after. */
#include "pair_set.h"

void ld_pair_set_init(ld_pair_set *s)
{
	memset(s, 0, sizeof *s);
}

void ld_pair_set_free(ld_pair_set *s)
{
	free(s->bits);
	set64_free(&s->hash);
	memset(s, 0, sizeof *s);
}

/* Moves every pair of the bitmap into the hash set; false on OOM (the bitmap is kept). */
static bool to_hash(ld_pair_set *s, size_t more)
{
	size_t cap = 1024;
	while (cap < (s->n + more + 1) * 2)
		cap *= 2;
	set64 h;
	if (!set64_init(&h, cap, false))
		return false;
	for (size_t r = 0; r < s->rows; r++)
		for (size_t w = 0; w < s->row_words; w++) {
			uint64_t m = s->bits[r * s->row_words + w];
			while (m) {
				uint64_t v = w * 64 + (uint64_t)__builtin_ctzll(m);
				m &= m - 1;
				bool ins;
				set64_put(&h, (uint64_t)r << 32 | v, &ins); /* sized above: cannot grow */
			}
		}
	free(s->bits);
	s->bits = NULL;
	s->rows = s->row_words = 0;
	s->hash = h;
	s->hashed = true;
	return true;
}

/* Makes room in the bitmap for group gid and value vid, or turns the set into a hash set when
 * that bitmap would be too large for the pairs it holds; false on OOM. */
static bool make_room(ld_pair_set *s, uint32_t gid, uint32_t vid, size_t more)
{
	size_t words = s->row_words ? s->row_words : 1, rows = s->rows ? s->rows : 64;
	while (words * 64 <= vid)
		words *= 2;
	while (rows <= gid)
		rows *= 2;
	size_t bytes = rows * words * 8, budget = (s->n + more) * LD_PAIR_BITMAP_BYTES_PER_PAIR;
	if (bytes > LD_PAIR_BITMAP_MIN_BYTES && bytes > budget)
		return to_hash(s, more);
	uint64_t *nb = calloc(rows * words, sizeof *nb);
	if (!nb)
		return false;
	for (size_t r = 0; r < s->rows; r++)
		memcpy(nb + r * words, s->bits + r * s->row_words, s->row_words * sizeof *nb);
	free(s->bits);
	s->bits = nb;
	s->rows = rows;
	s->row_words = words;
	return true;
}

static size_t add_hashed(ld_pair_set *s, const uint64_t *keys, size_t n, uint32_t *fresh)
{
	set64 *h = &s->hash;
	while ((h->n + n + 1) * 2 > h->cap)
		if (!set64_grow(h))
			return SIZE_MAX;
	/* the set outgrows the caches: looking up slots ahead lets the misses overlap */
	enum { AHEAD = 8 };
	size_t mask = h->cap - 1, nf = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + AHEAD < n)
			__builtin_prefetch(&h->keys[ld_mix64(keys[i + AHEAD]) & mask], 1);
		bool ins = false;
		set64_put(h, keys[i], &ins); /* reserved above: cannot grow, so cannot fail */
		if (ins)
			fresh[nf++] = (uint32_t)(keys[i] >> 32);
	}
	s->n = h->n;
	return nf;
}

size_t ld_pair_set_add(ld_pair_set *s, const uint64_t *keys, size_t n, uint32_t *fresh)
{
	if (s->hashed)
		return add_hashed(s, keys, n, fresh);
	size_t nf = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t g = (uint32_t)(keys[i] >> 32), v = (uint32_t)keys[i];
		if ((g >= s->rows || (size_t)v >= s->row_words * 64) && !make_room(s, g, v, n - i))
			return SIZE_MAX;
		if (s->hashed) { /* the rest go to the hash set */
			size_t r = add_hashed(s, keys + i, n - i, fresh + nf);
			return r == SIZE_MAX ? SIZE_MAX : nf + r;
		}
		uint64_t *w = &s->bits[(size_t)g * s->row_words + (v >> 6)], m = UINT64_C(1) << (v & 63);
		if (!(*w & m)) {
			*w |= m;
			fresh[nf++] = g;
			s->n++;
		}
	}
	return nf;
}

size_t ld_pair_set_read(const ld_pair_set *s, size_t *pos, uint64_t *out, size_t max)
{
	size_t got = 0, p = *pos;
	if (s->hashed) {
		for (; p < s->hash.cap && got < max; p++)
			if (s->hash.keys[p] != LD_SET64_EMPTY)
				out[got++] = s->hash.keys[p];
	} else {
		/* p counts bits; a word is resumed where the last call stopped */
		size_t total = s->rows * s->row_words * 64;
		while (p < total && got < max) {
			uint64_t m = s->bits[p >> 6] & (UINT64_MAX << (p & 63));
			if (!m) {
				p = (p | 63) + 1;
				continue;
			}
			size_t b = (p & ~(size_t)63) + (size_t)__builtin_ctzll(m);
			size_t words_bits = s->row_words * 64;
			out[got++] = (uint64_t)(b / words_bits) << 32 | (b % words_bits);
			p = b + 1;
		}
	}
	*pos = p;
	return got;
}
