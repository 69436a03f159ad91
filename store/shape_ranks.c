/* shape_ranks.c — decoding a block's per-row shape ranks when some need two varint bytes.
 *
 * Ranks are below LD_SHAPE_MAX (4096), so each is one varint byte (< 128) or two, the second
 * below 32; anything longer is damage.  Port-scan blocks mix both widths at random, which makes
 * a byte-by-byte walk a stream of mispredicted branches.  With SSSE3, eight ranks' worth of input
 * is looked at together: the high bits of eight bytes (one movemask) index a table that says
 * how many ranks start in them, how many bytes those take and how to shuffle the bytes into
 * 16-bit lanes; one shuffle and two masks then yield up to eight ranks with no branch on the
 * data.  The scalar walk decodes the tail and is the whole decoder on other CPUs; both give the
 * same ranks and reject the same inputs. */
#include <pthread.h>
#include <string.h>

#include "store_internal.h"

/* Scalar: eight bytes without a high bit are eight whole ranks; otherwise the one-byte ranks
 * before the first two-byte one are taken, then that one.  A second byte with its high bit set
 * (a longer varint) makes a rank of at least 2^14, which the final bound refuses; the tail, one
 * byte at a time, refuses it at once. */
static int ranks16_scalar(const uint8_t *p, const uint8_t *end, uint32_t n, uint32_t k,
			  uint16_t *rank)
{
	while (k + 8 <= n && end - p >= 9) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t m = w & 0x8080808080808080ull;
		if (m == 0) {
			for (unsigned j = 0; j < 8; j++)
				rank[k + j] = p[j];
			p += 8;
			k += 8;
			continue;
		}
		unsigned j = (unsigned)__builtin_ctzll(m) >> 3; /* one-byte ranks before it */
		for (unsigned i = 0; i < j; i++)
			rank[k + i] = p[i];
		k += j;
		p += j;
		rank[k++] = (uint16_t)((p[0] & 0x7fu) | (uint32_t)p[1] << 7);
		p += 2;
	}
	for (; k < n; k++) { /* the same rule one byte at a time */
		if (p >= end)
			return -1;
		uint32_t r = *p++;
		if (r & 0x80) {
			if (p >= end || (*p & 0x80))
				return -1;
			r = (r & 0x7f) | (uint32_t)*p++ << 7;
		}
		rank[k] = (uint16_t)r;
	}
	return p != end ? -1 : 0;
}

#if defined(__x86_64__)
#include <immintrin.h>

/* What eight input bytes hold, by their high bits (bit i = byte i continues into byte i+1). */
typedef struct rank_step {
	uint8_t shuffle[16]; /* lane j = (low byte index, high byte index or 0x80 for none) */
	uint8_t ranks;       /* ranks starting in the eight bytes (all complete: byte 8 is loaded) */
	uint8_t used;        /* bytes they take: 8, or 9 when the last starts at byte 7 */
} rank_step;

static rank_step steps[256];
static bool ssse3_ok;
static pthread_once_t steps_once = PTHREAD_ONCE_INIT;

static void steps_init(void)
{
	for (unsigned m = 0; m < 256; m++) {
		rank_step *s = &steps[m];
		memset(s->shuffle, 0x80, sizeof s->shuffle);
		unsigned i = 0, r = 0;
		while (i < 8) {
			s->shuffle[2 * r] = (uint8_t)i;
			if (m >> i & 1) {
				s->shuffle[2 * r + 1] = (uint8_t)(i + 1);
				i += 2;
			} else {
				i += 1;
			}
			r++;
		}
		s->ranks = (uint8_t)r;
		s->used = (uint8_t)i;
	}
	__builtin_cpu_init();
	ssse3_ok = __builtin_cpu_supports("ssse3");
}

__attribute__((target("ssse3"))) static int ranks16_ssse3(const uint8_t *p, const uint8_t *end,
							   uint32_t n, uint16_t *rank)
{
	const __m128i low7 = _mm_set1_epi16(0x007f), high = _mm_set1_epi16((short)0xff00);
	uint32_t k = 0;
	/* 16 bytes loaded for at most 9 used; 8 lanes stored for at most 8 kept */
	while (k + 8 <= n && end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		const rank_step *s = &steps[_mm_movemask_epi8(v) & 0xff];
		__m128i w = _mm_shuffle_epi8(v, _mm_loadu_si128((const __m128i *)s->shuffle));
		__m128i r = _mm_or_si128(_mm_and_si128(w, low7),
					 _mm_srli_epi16(_mm_and_si128(w, high), 1));
		_mm_storeu_si128((__m128i *)(rank + k), r);
		k += s->ranks;
		p += s->used;
	}
	return ranks16_scalar(p, end, n, k, rank);
}
#endif

int ld_shape_ranks16(const uint8_t *p, const uint8_t *end, uint32_t n, uint64_t ns, uint16_t *rank)
{
	int rc;
#if defined(__x86_64__)
	pthread_once(&steps_once, steps_init);
	if (ssse3_ok)
		rc = ranks16_ssse3(p, end, n, rank);
	else
#endif
		rc = ranks16_scalar(p, end, n, 0, rank);
	if (rc != 0)
		return -1;
	uint16_t mx = 0;
	for (uint32_t k = 0; k < n; k++)
		mx = rank[k] > mx ? rank[k] : mx;
	return mx < ns ? 0 : -1;
}

int ld_shape_ranks16_portable(const uint8_t *p, const uint8_t *end, uint32_t n, uint64_t ns,
			      uint16_t *rank)
{
	if (ranks16_scalar(p, end, n, 0, rank) != 0)
		return -1;
	uint16_t mx = 0;
	for (uint32_t k = 0; k < n; k++)
		mx = rank[k] > mx ? rank[k] : mx;
	return mx < ns ? 0 : -1;
}
