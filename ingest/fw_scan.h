/* fw_scan.h — small bounded scanners shared by the firewall format parsers (parse_asa.c,
 * parse_panos.c, parse_fortigate.c, parse_pfsense.c, parse_srx.c, parse_winfw.c).
 *
 * Every helper takes (pointer, length), never reads past it and never allocates.  Numbers are
 * parsed by hand: no sscanf/strtol (locale, NUL termination, unbounded).
 */
#ifndef LD_FW_SCAN_H
#define LD_FW_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ld_parse.h"
#include "ld_record.h"
#include "ld_time.h"
#include "parse_formats.h"
#include "parse_util.h"
#include "tz_local.h"

typedef struct fw_span {
	const char *p;
	size_t n;
} fw_span;

static inline bool fw_eq(fw_span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

static inline bool fw_ieq(fw_span s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.n != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char a = s.p[i], b = lit[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

static inline bool fw_starts(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	return n >= l && memcmp(p, lit, l) == 0;
}

/* First occurrence of lit in [p, p+n), or NULL. */
static inline const char *fw_find(const char *p, size_t n, const char *lit)
{
	return memmem(p, n, lit, strlen(lit));
}

/* Unsigned decimal, all of [p, p+n), at most max. */
static inline bool fw_uint(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	if (n == 0 || n > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)p[i] - '0';
		if (d > 9)
			return false;
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static inline bool fw_port(fw_span s, uint16_t *out)
{
	uint64_t v;
	if (!fw_uint(s.p, s.n, 65535, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

static inline bool fw_addr(fw_span s, ld_addr *out)
{
	return s.n > 0 && s.n < 64 && lp_addr(s.p, s.n, out);
}

/* Protocol number or name ("tcp", "TCP", "6", "ICMPv6"); -1 when unknown. */
static inline int fw_proto(fw_span s)
{
	uint64_t v;
	if (fw_uint(s.p, s.n, 255, &v))
		return (int)v;
	if (s.n == 0 || s.n > 32)
		return -1;
	return ld_proto_from_name(s.p, s.n);
}

static inline bool fw_digits(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] - '0' > 9)
			return false;
	return true;
}

/* Fixed-width decimal at p (exactly w digits). */
static inline bool fw_fixed(const char *p, size_t w, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < w; i++) {
		unsigned d = (unsigned char)p[i] - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Civil fields that exist and fit the int64 nanosecond clock (which ends in April 2262). */
static inline bool fw_civil_ok(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi,
			       unsigned s)
{
	return y <= 2261 && ld_civil_valid(y, mo, d, h, mi, s);
}

/* "YYYY?MM?DD?hh:mm:ss" with any single-byte separators (date separator '-' or '/'); 19 bytes.
 * Writes civil seconds (as if UTC). */
static inline bool fw_civil19(const char *p, size_t n, int64_t *local_s)
{
	unsigned y, mo, d, h, mi, s;
	if (n < 19 || !fw_fixed(p, 4, &y) || !fw_fixed(p + 5, 2, &mo) || !fw_fixed(p + 8, 2, &d) ||
	    !fw_fixed(p + 11, 2, &h) || !fw_fixed(p + 14, 2, &mi) || !fw_fixed(p + 17, 2, &s))
		return false;
	if (p[13] != ':' || p[16] != ':')
		return false;
	if (!fw_civil_ok(y, mo, d, h, mi, s))
		return false;
	*local_s = ld_time_from_civil(y, mo, d, h, mi, s, 0) / LD_NS_PER_SEC;
	return true;
}

/* Device local civil seconds -> UTC ns using the stream's zone (opts.local_tz, resolved once per
 * stream) or the fixed opts.local_tz_offset_s. */
static inline int64_t fw_local_to_utc_ns(const ld_parse_opts *o, ld_fw_stream *fw, int64_t local_s)
{
	if (fw->tz_state == 0) {
		fw->tz = o->local_tz && *o->local_tz ? ld_tz_get(o->local_tz) : NULL;
		fw->tz_state = fw->tz ? 1 : 2;
	}
	if (!fw->tz)
		return (local_s - o->local_tz_offset_s) * LD_NS_PER_SEC;
	if (local_s >= fw->tz_win_lo && local_s < fw->tz_win_hi)
		return (local_s - fw->tz_win_off) * LD_NS_PER_SEC; /* same offset as the last line */
	int64_t utc, lo, hi;
	int32_t off;
	if (ld_tz_local_window(fw->tz, local_s, &utc, &lo, &hi, &off)) {
		fw->tz_win_lo = lo;
		fw->tz_win_hi = hi;
		fw->tz_win_off = off;
	}
	return utc * LD_NS_PER_SEC;
}

/* Time the line gives no own stamp for: syslog header, else receive time. */
static inline int64_t fw_header_time(const ld_parse_opts *o, const ld_syslog_hdr *h)
{
	if (h->ts_ns != LD_TIME_NONE && h->ts_ns != INT64_MIN + 1)
		return h->ts_ns;
	return o->now_ns ? o->now_ns : ld_now_ns();
}

/* Header time, or an RFC 3339 stamp with a zone among the first tokens of a line the header
 * parser could not split (relay prefixes such as "42 2016-05-25T14:47:23Z host ..."), or the
 * receive time. */
static inline int64_t fw_line_time(const ld_parse_opts *o, const ld_syslog_hdr *h, const char *line,
				   size_t len)
{
	if (h->ts_ns != LD_TIME_NONE && h->ts_ns != INT64_MIN + 1)
		return h->ts_ns;
	size_t lim = len < 64 ? len : 64;
	for (size_t i = 0; i + 20 <= len && i < lim; i++) {
		if ((i > 0 && line[i - 1] != ' ' && line[i - 1] != '>') || line[i] < '0' ||
		    line[i] > '9' || line[i + 4] != '-')
			continue;
		unsigned y;
		if (!fw_fixed(line + i, 4, &y) || y > 2261 || y < 1970)
			continue;
		int64_t ts;
		bool zone = false;
		size_t used = ld_time_parse_rfc3339(line + i, len - i, &ts, &zone);
		if (used && zone && (i + used == len || line[i + used] == ' ' || line[i + used] == ':'))
			return ts;
	}
	return fw_header_time(o, h);
}

/* Reporter: the name in the body when given, else the syslog host, else --reporter. */
static inline ld_str fw_reporter(const ld_parse_opts *o, const ld_syslog_hdr *h)
{
	if (h->host.len)
		return h->host;
	return o->reporter;
}

static inline ld_str fw_str(fw_span s)
{
	ld_str r = {s.p, (uint32_t)s.n};
	return r;
}

/* Trim spaces and tabs at both ends. */
static inline fw_span fw_trim(fw_span s)
{
	while (s.n && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.n--;
	}
	while (s.n && (s.p[s.n - 1] == ' ' || s.p[s.n - 1] == '\t' || s.p[s.n - 1] == '\r'))
		s.n--;
	return s;
}

/* Any NUL or control byte other than tab/CR: binary garbage. */
static inline bool fw_has_binary(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 && c != '\t' && c != '\r')
			return true;
		if (c == 0x7f)
			return true;
	}
	return false;
}

#endif
