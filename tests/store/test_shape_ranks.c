/* test_shape_ranks.c — the SIMD and the portable shape-rank decoders agree: on valid streams of
 * one- and two-byte ranks (every mix, every length around the 8-rank steps) both give the
 * written ranks, and on damaged streams (a long varint, a truncated one, a byte too many, a rank
 * not below the shape count) both refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store_internal.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* n ranks below ns as varints; two-byte ones with probability two_in_8 / 8 */
static size_t encode(uint16_t *want, uint32_t n, uint32_t ns, unsigned two_in_8, uint8_t *out)
{
	size_t len = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t r = rnd() % 8 < two_in_8 && ns > 128 ? 128 + rnd() % (ns - 128) : rnd() % (ns < 128 ? ns : 128);
		want[k] = (uint16_t)r;
		if (r < 128) {
			out[len++] = (uint8_t)r;
		} else {
			out[len++] = (uint8_t)(0x80 | (r & 0x7f));
			out[len++] = (uint8_t)(r >> 7);
		}
	}
	return len;
}

static void both(const uint8_t *p, size_t len, uint32_t n, uint32_t ns, int *rc_simd, int *rc_port,
		 uint16_t *a, uint16_t *b)
{
	/* decode from an exact-size copy: reads past the end show up under ASan */
	uint8_t *exact = malloc(len ? len : 1);
	assert_non_null(exact);
	memcpy(exact, p, len);
	*rc_simd = ld_shape_ranks16(exact, exact + len, n, ns, a);
	*rc_port = ld_shape_ranks16_portable(exact, exact + len, n, ns, b);
	free(exact);
}

static void test_valid_streams(void **state)
{
	(void)state;
	uint16_t *want = malloc(70000 * sizeof *want), *a = malloc(70000 * sizeof *a),
		 *b = malloc(70000 * sizeof *b);
	uint8_t *buf = malloc(140000);
	assert_true(want && a && b && buf);
	const uint32_t lens[] = {1, 7, 8, 9, 15, 16, 17, 31, 64, 1000, 65536};
	for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
		for (unsigned mix = 0; mix <= 8; mix++) {
			uint32_t n = lens[li], ns = 129 + rnd() % (LD_SHAPE_MAX - 129);
			size_t len = encode(want, n, ns, mix, buf);
			int rs, rp;
			both(buf, len, n, ns, &rs, &rp, a, b);
			assert_int_equal(rs, 0);
			assert_int_equal(rp, 0);
			assert_memory_equal(a, want, n * sizeof *want);
			assert_memory_equal(b, want, n * sizeof *want);
		}
	free(want);
	free(a);
	free(b);
	free(buf);
}

static void test_damaged_streams(void **state)
{
	(void)state;
	enum { N = 4096 };
	uint16_t want[N], a[N], b[N];
	uint8_t buf[2 * N + 8];
	unsigned refused = 0;
	for (int round = 0; round < 4000; round++) {
		uint32_t n = 1 + rnd() % 200, ns = 129 + rnd() % (LD_SHAPE_MAX - 129);
		size_t len = encode(want, n, ns, rnd() % 9, buf);
		switch (rnd() % 5) {
		case 0: /* a second byte that continues: a three-byte varint */
			for (size_t i = 0; i + 1 < len; i++)
				if (buf[i] & 0x80) {
					buf[i + 1] |= 0x80;
					buf[len++] = 0;
					break;
				}
			break;
		case 1: /* cut short */
			if (len)
				len -= 1 + rnd() % len;
			break;
		case 2: /* one byte too many */
			buf[len++] = (uint8_t)(rnd() % 128);
			break;
		case 3: /* a rank at or above the shape count */
			ns = want[rnd() % n];
			break;
		default: /* a random byte flipped */
			if (len)
				buf[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		}
		int rs, rp;
		both(buf, len, n, ns, &rs, &rp, a, b);
		assert_int_equal(rs, rp);
		if (rs == 0)
			assert_memory_equal(a, b, n * sizeof *a);
		else
			refused++;
	}
	assert_true(refused > 2000); /* most damage is caught */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_streams),
		cmocka_unit_test(test_damaged_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
