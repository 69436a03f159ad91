/* The distinct-pair set of group-by: every pair is added once however often it comes, the
 * groups that gain a pair are reported, reading returns each pair exactly once, and all of that
 * holds across the bitmap's growth and after it turns into a hash set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pair_set.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Adds n random pairs (gid < groups, vid < vals) in batches of 256 to s and checks the fresh
 * reports against a sorted reference; then reads the set back and compares it. */
static void run(ld_pair_set *s, size_t n, uint32_t groups, uint32_t vals, uint32_t vid_base)
{
	uint64_t *all = malloc(n * sizeof *all), *ref = malloc(n * sizeof *ref);
	uint32_t *fresh_per_group = calloc(groups, sizeof *fresh_per_group);
	assert_non_null(all);
	assert_non_null(ref);
	assert_non_null(fresh_per_group);
	for (size_t i = 0; i < n; i++)
		all[i] = (uint64_t)rnd(groups) << 32 | (vid_base + rnd(vals));
	for (size_t i = 0; i < n; i += 256) {
		size_t m = n - i < 256 ? n - i : 256;
		uint32_t fresh[256];
		size_t nf = ld_pair_set_add(s, all + i, m, fresh);
		assert_true(nf <= m);
		for (size_t k = 0; k < nf; k++) {
			assert_true(fresh[k] < groups);
			fresh_per_group[fresh[k]]++;
		}
	}
	memcpy(ref, all, n * sizeof *ref);
	qsort(ref, n, sizeof *ref, cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || ref[i] != ref[i - 1])
			ref[u++] = ref[i];
	assert_int_equal(s->n, u);
	/* each group gained exactly its distinct values */
	for (size_t i = 0; i < u; i++)
		fresh_per_group[ref[i] >> 32]--;
	for (uint32_t g = 0; g < groups; g++)
		assert_int_equal(fresh_per_group[g], 0);
	/* adding them all again changes nothing */
	for (size_t i = 0; i < n; i += 256) {
		uint32_t fresh[256];
		assert_int_equal(ld_pair_set_add(s, all + i, n - i < 256 ? n - i : 256, fresh), 0);
	}
	/* reading, in odd-sized pieces, gives back the set */
	size_t pos = 0, got = 0, k;
	uint64_t piece[37];
	while ((k = ld_pair_set_read(s, &pos, piece, 37)) > 0) {
		memcpy(all + got, piece, k * sizeof *piece);
		got += k;
		assert_true(got <= u);
	}
	assert_int_equal(got, u);
	qsort(all, got, sizeof *all, cmp_u64);
	assert_memory_equal(all, ref, u * sizeof *ref);
	free(all);
	free(ref);
	free(fresh_per_group);
}

/* An estate's pairs: dense, so they stay in the bitmap while it grows both ways. */
static void test_dense_stays_bitmap(void **state)
{
	(void)state;
	ld_pair_set s;
	ld_pair_set_init(&s);
	run(&s, 200000, 3000, 3100, 0);
	assert_false(s.hashed);
	assert_true(s.rows >= 3000 && s.row_words * 64 >= 3100);
	ld_pair_set_free(&s);
}

/* Sparse pairs over huge id ranges would need a bitmap far larger than the pairs: a hash set. */
static void test_sparse_becomes_hash(void **state)
{
	(void)state;
	ld_pair_set s;
	ld_pair_set_init(&s);
	run(&s, 50000, 200000, 1000000, 0);
	assert_true(s.hashed);
	ld_pair_set_free(&s);
}

/* Dense first, then values far away: the pairs held so far move over to the hash set. */
static void test_bitmap_then_hash(void **state)
{
	(void)state;
	ld_pair_set s;
	ld_pair_set_init(&s);
	enum { N = 256 };
	uint64_t near[N];
	uint32_t fresh[N];
	for (uint32_t i = 0; i < N; i++)
		near[i] = (uint64_t)(i % 16) << 32 | (i / 16); /* 256 distinct pairs */
	assert_int_equal(ld_pair_set_add(&s, near, N, fresh), N);
	assert_false(s.hashed);
	uint64_t far[3] = {(uint64_t)7 << 32 | 4000000000u, (uint64_t)90000 << 32 | 5,
			   (uint64_t)7 << 32 | 4000000000u};
	assert_int_equal(ld_pair_set_add(&s, far, 3, fresh), 2);
	assert_true(s.hashed);
	assert_int_equal(fresh[0], 7);
	assert_int_equal(fresh[1], 90000);
	assert_int_equal(s.n, N + 2);
	/* the earlier pairs came along: adding them again finds them all */
	assert_int_equal(ld_pair_set_add(&s, near, N, fresh), 0);
	size_t pos = 0, got = 0, k;
	uint64_t piece[64];
	bool saw_far = false;
	while ((k = ld_pair_set_read(&s, &pos, piece, 64)) > 0) {
		for (size_t i = 0; i < k; i++)
			saw_far |= piece[i] == far[0];
		got += k;
	}
	assert_int_equal(got, N + 2);
	assert_true(saw_far);
	ld_pair_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense_stays_bitmap),
		cmocka_unit_test(test_sparse_becomes_hash),
		cmocka_unit_test(test_bitmap_then_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
