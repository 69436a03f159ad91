/* ld_addr.c — IPv4/IPv6 text parsing and canonical formatting for ld_addr.
 *
 * Hand-written rather than inet_pton: inputs are not NUL-terminated views into log lines, and
 * firewall logs print IPv6 in forms inet_pton handles but slowly (fully expanded with leading
 * zeros, netfilter) — this parser takes every RFC 4291 text form in one pass. */
#include <stdio.h>

#include "ld_record.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Dotted quad into out[4]; exact length match required. */
static bool parse_v4(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		unsigned v = 0;
		size_t start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (v > 255 || i - start >= 3)
				return false;
			i++;
		}
		/* A leading zero in a multi-digit part is ambiguous (octal in some tools): reject. */
		if (i - start > 1 && s[start] == '0')
			return false;
		out[part] = (uint8_t)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

static bool parse_v6(const char *s, size_t len, uint8_t out[16])
{
	uint16_t groups[8];
	int n = 0, gap = -1;
	size_t i = 0;
	if (len < 2)
		return false;
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		gap = 0;
		i = 2;
		if (i == len)
			goto done;
	}
	while (i < len) {
		if (n >= 8)
			return false;
		/* Embedded IPv4 in the last 32 bits. */
		size_t j = i;
		while (j < len && s[j] != ':' && s[j] != '.')
			j++;
		if (j < len && s[j] == '.') {
			uint8_t v4[4];
			if (n > 6 || !parse_v4(s + i, len - i, v4))
				return false;
			groups[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
			groups[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
			i = len;
			break;
		}
		unsigned v = 0;
		size_t start = i;
		while (i < len && hexval(s[i]) >= 0) {
			if (i - start >= 4)
				return false;
			v = v << 4 | (unsigned)hexval(s[i]);
			i++;
		}
		if (i == start)
			return false;
		groups[n++] = (uint16_t)v;
		if (i == len)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < len && s[i] == ':') {
			if (gap >= 0)
				return false;
			gap = n;
			i++;
			if (i == len)
				break;
		} else if (i == len) {
			return false; /* trailing single ':' */
		}
	}
done:
	if (gap < 0 && n != 8)
		return false;
	if (gap >= 0 && n > 7)
		return false;
	memset(out, 0, 16);
	int k = 0;
	for (int g = 0; g < (gap < 0 ? n : gap); g++, k++) {
		out[2 * k] = (uint8_t)(groups[g] >> 8);
		out[2 * k + 1] = (uint8_t)groups[g];
	}
	if (gap >= 0) {
		int tail = n - gap;
		k = 8 - tail;
		for (int g = gap; g < n; g++, k++) {
			out[2 * k] = (uint8_t)(groups[g] >> 8);
			out[2 * k + 1] = (uint8_t)groups[g];
		}
	}
	return true;
}

bool ld_addr_parse(ld_addr *out, const char *s, size_t len)
{
	if (len == 0 || len > 45)
		return false;
	if (memchr(s, ':', len))
		return parse_v6(s, len, out->b);
	uint8_t v4[4];
	if (!parse_v4(s, len, v4))
		return false;
	ld_addr_from_v4(out, (uint32_t)v4[0] << 24 | (uint32_t)v4[1] << 16 | (uint32_t)v4[2] << 8 |
				     v4[3]);
	return true;
}

size_t ld_addr_format(const ld_addr *a, char *buf)
{
	if (ld_addr_is_v4(a))
		return (size_t)snprintf(buf, LD_ADDR_STRLEN, "%u.%u.%u.%u", a->b[12], a->b[13],
					a->b[14], a->b[15]);
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(a->b[2 * i] << 8 | a->b[2 * i + 1]);
	/* RFC 5952: compress the longest run (>= 2) of zero groups, the first one on a tie. */
	int best = -1, best_len = 1;
	for (int i = 0; i < 8;) {
		if (g[i] != 0) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	char *p = buf;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (i == 0)
				*p++ = ':';
			i += best_len - 1;
			continue;
		}
		p += sprintf(p, "%x", g[i]);
		if (i < 7)
			*p++ = ':';
	}
	*p = '\0';
	return (size_t)(p - buf);
}

bool ld_prefix_parse(ld_prefix *out, const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	if (!ld_addr_parse(&out->addr, s, alen))
		return false;
	bool v4 = ld_addr_is_v4(&out->addr) && !memchr(s, ':', alen);
	unsigned max = v4 ? 32 : 128;
	unsigned bits = max;
	if (slash) {
		size_t i = alen + 1;
		if (i >= len)
			return false;
		bits = 0;
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9' || bits > 128)
				return false;
			bits = bits * 10 + (unsigned)(s[i] - '0');
		}
		if (bits > max)
			return false;
	}
	out->bits = (uint8_t)(v4 ? bits + 96 : bits);
	/* Clear host bits so contains() can compare bytes. */
	for (unsigned b = out->bits; b < 128; b++)
		out->addr.b[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
	return true;
}

bool ld_prefix_contains(const ld_prefix *p, const ld_addr *a)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;
	if (memcmp(p->addr.b, a->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a->b[full] & mask) == p->addr.b[full];
}
