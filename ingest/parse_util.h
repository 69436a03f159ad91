/* parse_util.h — small scanning functions shared by the field parsers (internal to ingest/).
 *
 * All take (pointer, length) views, never read past them and never allocate.
 */
#ifndef LD_PARSE_UTIL_H
#define LD_PARSE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ld_record.h"

static inline bool lp_is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* Decimal without sign; false on empty, a non-digit or a value above max. */
static inline bool lp_uint(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	if (n == 0 || n > 10)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!lp_is_digit(s[i]))
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Dotted quad fast path (the common case); anything else goes to ld_addr_parse. */
static inline bool lp_addr(const char *s, size_t n, ld_addr *out)
{
	uint32_t v = 0, part = 0;
	unsigned dots = 0, nd = 0;
	size_t i = 0;
	for (; i < n; i++) {
		char c = s[i];
		if (lp_is_digit(c)) {
			part = part * 10 + (uint32_t)(c - '0');
			if (++nd > 3 || part > 255)
				break;
		} else if (c == '.' && nd > 0 && dots < 3) {
			v = v << 8 | part;
			part = 0;
			nd = 0;
			dots++;
		} else {
			break;
		}
	}
	if (i == n && dots == 3 && nd > 0) {
		ld_addr_from_v4(out, v << 8 | part);
		return true;
	}
	return ld_addr_parse(out, s, n);
}

/* Offset of the first ' ' in s[i..n), or n.  Eight bytes at a time: tokens are a few bytes
 * long, too short for a memchr call to pay off, too long for a byte loop to be cheap. */
static inline size_t lp_next_space(const char *s, size_t i, size_t n)
{
	while (i + 8 <= n) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		x ^= UINT64_C(0x2020202020202020);
		uint64_t z = (x - UINT64_C(0x0101010101010101)) & ~x & UINT64_C(0x8080808080808080);
		if (z)
			return i + (size_t)(__builtin_ctzll(z) >> 3);
		i += 8;
	}
	while (i < n && s[i] != ' ')
		i++;
	return i;
}

/* Case-sensitive equality of a view with a literal. */
#define LP_EQ(s, n, lit) ((n) == sizeof(lit) - 1 && memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* Finds `needle` (nlen >= 1) in s[0..n); returns its offset or n. */
static inline size_t lp_find(const char *s, size_t n, const char *needle, size_t nlen)
{
	const char *p = memmem(s, n, needle, nlen);
	return p ? (size_t)(p - s) : n;
}

#endif
