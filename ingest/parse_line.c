/* parse_line.c — the line dispatcher: size and byte checks, syslog header, then the stream's
 * format parser.
 *
 * Format choice per stream: forced (opts.forced_format) > cached > classified.  The cache is
 * confirmed per line by the format's cheap signature; a line the signature refuses is classified
 * on its own (first registry row whose signature accepts it) and, when that gives another format,
 * the cache follows it: a relay that multiplexes senders changes format from line to line and each
 * line still lands in the right parser.  Whole-file classification with Hyperscan (classify_hs.h)
 * only pre-seeds the cache.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ld_time.h"
#include "parse_registry.h"
#include "parse_state.h"

#if __has_include("parse_formats.h")
#include "parse_formats.h"
#endif

static const ld_format_entry registry[] = {
	{LD_FMT_NSX, ld_parse_nsx, ld_sig_nsx},
#ifdef LD_HAVE_PARSE_WINFW
	{LD_FMT_WINFW, ld_parse_winfw, ld_sig_winfw},
#endif
#ifdef LD_HAVE_PARSE_ASA
	{LD_FMT_ASA, ld_parse_asa, ld_sig_asa},
#endif
#ifdef LD_HAVE_PARSE_PANOS
	{LD_FMT_PANOS, ld_parse_panos, ld_sig_panos},
#endif
#ifdef LD_HAVE_PARSE_FORTIGATE
	{LD_FMT_FORTIGATE, ld_parse_fortigate, ld_sig_fortigate},
#endif
#ifdef LD_HAVE_PARSE_PFSENSE
	{LD_FMT_PFSENSE, ld_parse_pfsense, ld_sig_pfsense},
#endif
#ifdef LD_HAVE_PARSE_SRX
	{LD_FMT_SRX, ld_parse_srx, ld_sig_srx},
#endif
	/* last: its signature (IN= before SRC=) is the loosest */
	{LD_FMT_IPTABLES, ld_parse_iptables, ld_sig_iptables},
};

#define REGISTRY_N (sizeof registry / sizeof registry[0])

const ld_format_entry *ld_format_registry(size_t *n)
{
	*n = REGISTRY_N;
	return registry;
}

const ld_format_entry *ld_format_lookup(unsigned fmt)
{
	for (size_t i = 0; i < REGISTRY_N; i++)
		if (registry[i].fmt == fmt)
			return &registry[i];
	return NULL;
}

const char *ld_reject_name(unsigned reason)
{
	static const char *const names[LD_REJ_COUNT_] = {
		[LD_REJ_NONE] = "none",
		[LD_REJ_UNRECOGNISED] = "unrecognised",
		[LD_REJ_TRUNCATED] = "truncated",
		[LD_REJ_BAD_ADDRESS] = "bad_address",
		[LD_REJ_BAD_PORT] = "bad_port",
		[LD_REJ_BAD_TIME] = "bad_time",
		[LD_REJ_BAD_FIELD] = "bad_field",
		[LD_REJ_BINARY] = "binary",
		[LD_REJ_TOO_LONG] = "too_long",
	};
	return reason < LD_REJ_COUNT_ ? names[reason] : "unknown";
}

static void copy_opt_str(char *buf, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
}

ld_parse_state *ld_parse_state_new(const ld_parse_opts *opts)
{
	ld_parse_state *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	if (opts)
		st->opts = *opts;
	if (st->opts.now_ns == 0)
		st->opts.now_ns = ld_now_ns();
	if (st->opts.reporter.len > 0 && st->opts.reporter.ptr) {
		copy_opt_str(st->reporter_buf, sizeof st->reporter_buf, st->opts.reporter.ptr,
			     st->opts.reporter.len);
		st->opts.reporter = ld_str_c(st->reporter_buf);
	} else {
		st->opts.reporter = (ld_str){"", 0};
	}
	if (st->opts.local_tz) {
		copy_opt_str(st->tz_buf, sizeof st->tz_buf, st->opts.local_tz,
			     strlen(st->opts.local_tz));
		st->opts.local_tz = st->tz_buf;
	}
	st->cached_fmt = (uint8_t)(st->opts.forced_format > 0 ? st->opts.forced_format : 0);
	return st;
}

static void release_ctx(ld_parse_state *st)
{
	for (int i = 0; i < LD_FMT_COUNT_; i++) {
		if (st->fmt_ctx[i] && st->fmt_ctx_free[i])
			st->fmt_ctx_free[i](st->fmt_ctx[i]);
		st->fmt_ctx[i] = NULL;
		st->fmt_ctx_free[i] = NULL;
	}
}

void ld_parse_state_free(ld_parse_state *st)
{
	if (!st)
		return;
	release_ctx(st);
	free(st);
}

void ld_parse_state_reset(ld_parse_state *st)
{
	release_ctx(st);
	memset(&st->fw, 0, sizeof st->fw);
	st->cached_fmt = (uint8_t)(st->opts.forced_format > 0 ? st->opts.forced_format : 0);
	st->sig_misses = 0;
}

void ld_parse_state_set_format(ld_parse_state *st, unsigned fmt)
{
	if (st->opts.forced_format <= 0 && ld_format_lookup(fmt))
		st->cached_fmt = (uint8_t)fmt;
}

unsigned ld_parse_state_format(const ld_parse_state *st)
{
	return st->cached_fmt;
}

/* True when the line holds a byte below 0x20 other than TAB.  16 bytes per step with GCC/Clang
 * vector extensions (SSE2 on x86-64, NEON on arm64): the compare results of all blocks are OR-ed
 * and looked at once; only a line with some byte below 0x20 (a TAB, mostly) gets the byte loop. */
typedef unsigned char lp_v16 __attribute__((vector_size(16)));

static bool has_control_bytes(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return true;
	return false;
}

static bool has_control(const char *s, size_t n)
{
	if (n < 16)
		return has_control_bytes(s, n);
#if defined(__SSE2__)
	/* the running byte-wise minimum: below 0x20 somewhere iff some byte is */
	__m128i lo = _mm_set1_epi8(0x7f);
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		lo = _mm_min_epu8(lo, _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
		lo = _mm_min_epu8(lo, _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16)));
	}
	if (i + 16 <= n) {
		lo = _mm_min_epu8(lo, _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
		i += 16;
	}
	if (i < n) /* last block overlaps the previous one instead of a byte loop */
		lo = _mm_min_epu8(lo, _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)));
	/* min(lo, 0x1f) == lo exactly in the bytes of lo that are <= 0x1f */
	__m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(lo, _mm_set1_epi8(0x1f)), lo);
	return _mm_movemask_epi8(ctl) != 0 && has_control_bytes(s, n);
#else
	const lp_v16 lim = {0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
			    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20};
	lp_v16 acc = {0};
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		lp_v16 v;
		memcpy(&v, s + i, 16);
		acc |= (lp_v16)(v < lim); /* 0xff where the byte is a control byte */
	}
	if (i < n) { /* last block overlaps the previous one instead of a byte loop */
		lp_v16 v;
		memcpy(&v, s + n - 16, 16);
		acc |= (lp_v16)(v < lim);
	}
	uint64_t a, b;
	memcpy(&a, &acc, 8);
	memcpy(&b, (const char *)&acc + 8, 8);
	return (a | b) && has_control_bytes(s, n);
#endif
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* Windows Firewall file headers go to its parser (they carry the #Fields map); other '#' lines
 * are comments. */
static bool is_winfw_header(const char *s, size_t n)
{
	if (n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB &&
	    (unsigned char)s[2] == 0xBF) {
		s += 3;
		n -= 3;
	}
	return (n >= 8 && memcmp(s, "#Fields:", 8) == 0) ||
	       (n >= 9 && memcmp(s, "#Version:", 9) == 0) ||
	       (n >= 10 && memcmp(s, "#Software:", 10) == 0);
}

static const ld_format_entry *classify(const ld_syslog_hdr *h)
{
	for (size_t i = 0; i < REGISTRY_N; i++)
		if (registry[i].sig(h))
			return &registry[i];
	return NULL;
}

int ld_parse_line(ld_parse_state *st, const char *line, size_t len, ld_record *out,
		  uint8_t *reason)
{
	static const ld_record zero;
	*out = zero; /* a struct copy: cheaper than the rep-stos a memset becomes here */
	*reason = LD_REJ_NONE;
	if (len > LD_LINE_MAX) {
		*reason = LD_REJ_TOO_LONG;
		return LD_PARSE_REJECT;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (is_blank(line, len))
		return LD_PARSE_SKIP;
	if (has_control(line, len)) {
		*reason = LD_REJ_BINARY;
		return LD_PARSE_REJECT;
	}

	const ld_format_entry *fe = NULL;
	if (st->opts.forced_format > 0) {
		fe = ld_format_lookup((unsigned)st->opts.forced_format);
		if (!fe) {
			*reason = LD_REJ_UNRECOGNISED;
			return LD_PARSE_REJECT;
		}
	}
	bool hash = line[0] == '#' || (len > 3 && (unsigned char)line[0] == 0xEF && line[3] == '#');
	if (hash) {
		bool wf = is_winfw_header(line, len);
		const ld_format_entry *w = ld_format_lookup(LD_FMT_WINFW);
		if (!wf || !w || (fe && fe != w))
			return LD_PARSE_SKIP;
		st->cached_fmt = LD_FMT_WINFW;
		fe = w;
	}

	ld_syslog_hdr h;
	ld_syslog_parse_header(line, len, &st->opts, &h);
	if (h.ts_ns == LD_HDR_TS_INVALID) {
		*reason = LD_REJ_BAD_TIME;
		return LD_PARSE_REJECT;
	}

	if (!fe) {
		const ld_format_entry *cached = st->cached_fmt ? ld_format_lookup(st->cached_fmt) : NULL;
		if (cached && cached->sig(&h)) {
			fe = cached;
			st->sig_misses = 0;
		} else {
			fe = classify(&h);
			if (!fe) {
				*reason = LD_REJ_UNRECOGNISED;
				return LD_PARSE_REJECT;
			}
			if (cached)
				st->sig_misses++;
			if (fe->fmt != st->cached_fmt) {
				if (st->cached_fmt)
					st->reclassified++;
				st->cached_fmt = fe->fmt;
			}
		}
	}

	int r = fe->parse(st, &h, line, len, out, reason);
	if (r == LD_PARSE_REJECT) {
		if (*reason == LD_REJ_NONE)
			*reason = LD_REJ_BAD_FIELD;
		memset(out, 0, sizeof *out);
		return r;
	}
	if (r == LD_PARSE_SKIP)
		return r;
	out->format = fe->fmt;
	if (out->reporter.len == 0)
		out->reporter = h.host.len ? h.host : st->opts.reporter;
	if (out->ts_ns == 0)
		out->ts_ns = h.ts_ns != LD_TIME_NONE ? h.ts_ns : st->opts.now_ns;
	if (st->opts.keep_raw)
		out->raw = (ld_str){line, (uint32_t)len};
	return r;
}
