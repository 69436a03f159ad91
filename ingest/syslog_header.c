/* syslog_header.c — finds the message body behind whatever syslog header a line carries.
 *
 * Recognised, in this order after an optional <PRI>:
 *  - RFC 5424: "1 TS HOST APP PROCID MSGID SD MSG" (NIL "-" anywhere, 0-9 fraction digits, Z or
 *    offset, optional BOM before MSG).  SD that is not well-formed ("[UFW BLOCK]", Check Point
 *    "[k:"v"; ...]") is left in MSG: it is the body.
 *  - ISO timestamp without version digit (ESXi legacy "<PRI>TS host tag: msg", ESXi 8 file form
 *    "TS No(13) tag[pid]: msg", bare "TS msg" file lines, and "<PRI>TS host app - - - msg").
 *  - RFC 3164 "Mmm dd hh:mm:ss" (space-padded day), also "Mmm dd yyyy hh:mm:ss[:]" as ASA writes it.
 *  - nothing: MSG is the whole line (after a valid PRI, if any).
 * A relay's second header inside MSG ("<13>1 ... relay - - - <13>May  4 ... esx05 tag: body") is
 * parsed once more; the inner header names the original reporter and event time.
 * "message repeated N times: [ body ]" is unwrapped to body.
 *
 * Impossible timestamps (month 13, Feb 30) set ts_ns = LD_HDR_TS_INVALID so that the dispatcher
 * can count the line as bad_time.
 */
#include <string.h>

#include "ld_parse.h"
#include "ld_time.h"
#include "parse_state.h"
#include "parse_util.h"

/* The steps of the header parse are inlined into ld_syslog_parse_header(): per line their call
 * overhead was a tenth of the header's cost. */
#define HOT inline __attribute__((always_inline))

/* Last year whose instants fit int64 nanoseconds since 1970 (2262-04-11). */
#define LD_YEAR_MAX 2261

static inline bool is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

static inline unsigned d2(const char *s)
{
	return (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
}

/* Fast path for "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±hh:mm|±hhmm)?" (also ' ' instead of 'T').
 * Returns bytes consumed, 0 when the text is not such a timestamp.  *valid is false when the
 * shape is right but the date is impossible. */
static HOT size_t iso_ts(const char *s, size_t len, int64_t *out, bool *valid)
{
	*valid = true;
	if (len < 19 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return 0;
	/* all digit positions at once, without borrows between bytes: a digit is 0x30..0x39, i.e.
	 * high nibble 3, and still high nibble 3 after adding 6 (no carry out of the low nibble) */
	uint64_t w0, w1;
	memcpy(&w0, s, 8);      /* "YYYY-MM-" */
	memcpy(&w1, s + 11, 8); /* "hh:mm:ss" */
	const uint64_t m0 = UINT64_C(0x00F0F000F0F0F0F0); /* bytes 0-3, 5, 6 */
	const uint64_t m1 = UINT64_C(0xF0F000F0F000F0F0); /* bytes 0, 1, 3, 4, 6, 7 */
	const uint64_t k3 = UINT64_C(0x3030303030303030), k6 = UINT64_C(0x0606060606060606);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* the separators in the same compare: '-' at bytes 4 and 7 of w0, ':' at 2 and 5 of w1;
	 * once that holds no byte can carry when 6 is added */
	const uint64_t s0 = UINT64_C(0xFF0000FF00000000), e0 = UINT64_C(0x2D00002D00000000);
	const uint64_t s1 = UINT64_C(0x0000FF0000FF0000), e1 = UINT64_C(0x00003A00003A0000);
	if ((w0 & (m0 | s0)) != ((k3 & m0) | e0) || (w1 & (m1 | s1)) != ((k3 & m1) | e1) ||
	    ((w0 + k6) & m0) != (k3 & m0) || ((w1 + k6) & m1) != (k3 & m1) || !is_digit(s[8]) ||
	    !is_digit(s[9]))
		return 0;
#else
	(void)w0, (void)w1, (void)m0, (void)m1, (void)k3, (void)k6;
	if (s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
		return 0;
	static const uint8_t dpos[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
	for (size_t i = 0; i < sizeof dpos; i++)
		if (!is_digit(s[dpos[i]]))
			return 0;
#endif
	unsigned mi = d2(s + 14), sec = d2(s + 17);
	size_t p = 19;
	uint32_t ns = 0;
	if (p + 4 < len && s[p] == '.' && is_digit(s[20]) && is_digit(s[21]) && is_digit(s[22]) &&
	    !is_digit(s[23])) { /* milliseconds, the usual precision */
		ns = ((unsigned)(s[20] - '0') * 100 + d2(s + 21)) * 1000000u;
		p = 23;
	} else if (p < len && (s[p] == '.' || s[p] == ',')) {
		size_t f0 = ++p;
		uint32_t scale = 100000000;
		while (p < len && is_digit(s[p])) {
			if (p - f0 < 9) {
				ns += (uint32_t)(s[p] - '0') * scale;
				scale /= 10;
			}
			p++;
		}
		if (p == f0)
			return 0;
	}
	int64_t off = 0;
	if (p < len && (s[p] == 'Z' || s[p] == 'z')) {
		p++;
	} else if (p + 5 <= len && (s[p] == '+' || s[p] == '-') && is_digit(s[p + 1]) &&
		   is_digit(s[p + 2])) {
		int sign = s[p] == '-' ? -1 : 1;
		unsigned oh = d2(s + p + 1), om;
		if (s[p + 3] == ':' && p + 6 <= len && is_digit(s[p + 4]) && is_digit(s[p + 5])) {
			om = d2(s + p + 4);
			p += 6;
		} else if (is_digit(s[p + 3]) && is_digit(s[p + 4])) {
			om = d2(s + p + 3);
			p += 5;
		} else {
			return 0;
		}
		if (oh > 23 || om > 59)
			*valid = false;
		off = sign * (int64_t)(oh * 3600 + om * 60);
	}
	/* Consecutive lines share date and hour: the start of that hour is kept per thread, keyed by
	 * its text "YYYY-MM-DDThh", so most lines only add minutes, seconds and fraction. */
	static _Thread_local struct {
		uint64_t k0, k1; /* s[0..8), s[5..13) of a valid stamp; k0 == 0 when empty */
		int64_t hour_ns;
	} hour_cache;
	uint64_t k1;
	memcpy(&k1, s + 5, 8);
	int64_t hour_ns;
	if (w0 == hour_cache.k0 && k1 == hour_cache.k1) {
		if (mi > 59 || sec > 60) {
			*valid = false;
			*out = LD_HDR_TS_INVALID;
			return p;
		}
		hour_ns = hour_cache.hour_ns;
	} else {
		unsigned y = d2(s) * 100 + d2(s + 2), mo = d2(s + 5), d = d2(s + 8);
		unsigned h = d2(s + 11);
		/* int64 nanoseconds end in 2262 */
		if (y > LD_YEAR_MAX || !ld_civil_valid(y, mo, d, h, mi, sec)) {
			*valid = false;
			*out = LD_HDR_TS_INVALID;
			return p;
		}
		hour_ns = ld_time_from_civil(y, mo, d, h, 0, 0, 0);
		hour_cache.k0 = w0;
		hour_cache.k1 = k1;
		hour_cache.hour_ns = hour_ns;
	}
	*out = hour_ns + ((int64_t)mi * 60 + sec) * LD_NS_PER_SEC + ns - off * LD_NS_PER_SEC;
	return p;
}

/* "Mmm dd hh:mm:ss" / "Mmm  d hh:mm:ss" / "Mmm d hh:mm:ss" / "Mmm dd yyyy hh:mm:ss".  Returns bytes
 * consumed (0 if not this shape). */
static size_t bsd_ts(const char *s, size_t len, const ld_parse_opts *opts, int64_t *out)
{
	if (len < 14 || s[3] != ' ')
		return 0;
	char m[4] = {s[0], s[1], s[2], 0};
	unsigned mo = ld_month_from_abbr(m);
	if (!mo)
		return 0;
	size_t p = 4;
	if (s[p] == ' ')
		p++;
	unsigned d = 0;
	size_t d0 = p;
	while (p < len && is_digit(s[p]) && p - d0 < 2)
		d = d * 10 + (unsigned)(s[p++] - '0');
	if (p == d0 || p >= len || s[p] != ' ')
		return 0;
	p++;
	int year = 0;
	if (p + 5 <= len && is_digit(s[p]) && is_digit(s[p + 1]) && is_digit(s[p + 2]) &&
	    is_digit(s[p + 3]) && s[p + 4] == ' ') {
		year = (int)(d2(s + p) * 100 + d2(s + p + 2));
		p += 5;
	}
	if (p + 8 > len || s[p + 2] != ':' || s[p + 5] != ':' || !is_digit(s[p]) ||
	    !is_digit(s[p + 1]) || !is_digit(s[p + 3]) || !is_digit(s[p + 4]) ||
	    !is_digit(s[p + 6]) || !is_digit(s[p + 7]))
		return 0;
	unsigned h = d2(s + p), mi = d2(s + p + 3), sec = d2(s + p + 6);
	p += 8;
	uint32_t ns = 0;
	if (p < len && s[p] == '.') { /* some relays add fractions to 3164 stamps */
		size_t f0 = ++p;
		uint32_t scale = 100000000;
		while (p < len && is_digit(s[p])) {
			if (p - f0 < 9) {
				ns += (uint32_t)(s[p] - '0') * scale;
				scale /= 10;
			}
			p++;
		}
	}
	if (year == 0) {
		if (opts && opts->year_override > 0)
			year = opts->year_override;
		else if (ld_civil_valid(2000, mo, d, h, mi, sec)) /* 2000: leap, accepts Feb 29 */
			year = (int)ld_infer_year(mo, d, h, mi, sec, opts ? opts->now_ns : ld_now_ns(), 0);
		/* Feb 29 without a year belongs to the latest leap year not in the future */
		for (int k = 0; k < 4 && year > 0 && !ld_civil_valid(year, mo, d, h, mi, sec); k++)
			year--;
	}
	if (year == 0 || year > LD_YEAR_MAX || !ld_civil_valid(year, mo, d, h, mi, sec))
		*out = LD_HDR_TS_INVALID;
	else
		*out = ld_time_from_civil(year, mo, d, h, mi, sec, ns);
	return p;
}

/* Length of the token at s (up to a space). */
static inline size_t tok_len(const char *s, size_t len)
{
	return lp_next_space(s, 0, len);
}

static inline size_t skip_sp(const char *s, size_t p, size_t len)
{
	while (p < len && s[p] == ' ')
		p++;
	return p;
}

/* A syslog TAG token "name:" or "name[pid]:" (also without the colon when `need_colon` is false).
 * Sets *tag to name and returns true. */
static HOT bool take_tag(const char *s, size_t n, bool need_colon, ld_str *tag)
{
	if (n == 0)
		return false;
	bool colon = s[n - 1] == ':';
	if (colon)
		n--;
	else if (need_colon)
		return false;
	if (n > 0 && s[n - 1] == ']') {
		const char *lb = memchr(s, '[', n);
		if (!lb || lb == s)
			return false;
		n = (size_t)(lb - s);
	}
	if (n == 0 || n > 64)
		return false;
	/* '=' or quotes mean a key=value body, not a tag */
	static const uint8_t not_tag[256] = {['='] = 1, ['"'] = 1, ['['] = 1, [']'] = 1, ['<'] = 1};
	for (size_t i = 0; i < n; i++)
		if (not_tag[(unsigned char)s[i]])
			return false;
	tag->ptr = s;
	tag->len = (uint32_t)n;
	return true;
}

/* Validates RFC 5424 STRUCTURED-DATA at s: one or more [id param="v"...] elements.  Returns the
 * bytes it spans, 0 if it is not well-formed SD (then it is message text). */
static size_t sd_span(const char *s, size_t len)
{
	size_t p = 0;
	while (p < len && s[p] == '[') {
		p++;
		size_t id0 = p;
		while (p < len && s[p] != ' ' && s[p] != ']' && s[p] != '=' && s[p] != '"')
			p++;
		if (p == id0 || p >= len || s[p] == '=' || s[p] == '"')
			return 0;
		while (p < len && s[p] == ' ') {
			p++;
			size_t n0 = p;
			while (p < len && s[p] != '=' && s[p] != ' ' && s[p] != ']' && s[p] != '"')
				p++;
			if (p == n0 || p + 1 >= len || s[p] != '=' || s[p + 1] != '"')
				return 0;
			p += 2;
			while (p < len && s[p] != '"') {
				if (s[p] == '\\' && p + 1 < len)
					p++;
				p++;
			}
			if (p >= len)
				return 0;
			p++; /* closing quote */
		}
		if (p >= len || s[p] != ']')
			return 0;
		p++;
	}
	return p;
}

static size_t parse_pri(const char *s, size_t len, int *pri)
{
	if (len < 3 || s[0] != '<')
		return 0;
	/* one to three digits, unrolled; len >= 3 keeps s[2] inside */
	unsigned v = (unsigned)(s[1] - '0'), c;
	size_t p = 2;
	if (v > 9)
		return 0;
	if ((c = (unsigned)(s[2] - '0')) <= 9) {
		v = v * 10 + c;
		p = 3;
		if (p < len && (c = (unsigned)(s[3] - '0')) <= 9) {
			v = v * 10 + c;
			p = 4;
		}
	}
	if (p >= len || s[p] != '>' || v > 191)
		return 0;
	*pri = (int)v;
	return p + 1;
}

static void set_msg(ld_syslog_hdr *h, const char *line, size_t p, size_t len)
{
	h->msg = line + p;
	h->msg_len = len - p;
}

/* RFC 5424 fields after TS: HOST APP PROCID MSGID SD MSG.  p points at HOST. */
static HOT void parse_5424_rest(const char *line, size_t p, size_t len, ld_syslog_hdr *h)
{
	ld_str *fields[4] = {&h->host, &h->tag, NULL, &h->msgid};
	for (int i = 0; i < 4; i++) {
		if (i == 2 && p + 6 <= len && memcmp(line + p, "- - - ", 6) == 0) {
			/* NIL PROCID, MSGID and SD, as NSX and most senders write them */
			h->sd.ptr = line + p + 4;
			h->sd.len = 1;
			p += 6;
			goto bom;
		}
		size_t n = tok_len(line + p, len - p);
		if (n == 0) { /* missing field */
			set_msg(h, line, p, len);
			return;
		}
		if (fields[i] && !(n == 1 && line[p] == '-')) {
			fields[i]->ptr = line + p;
			fields[i]->len = (uint32_t)n;
		}
		p += n;
		if (p < len)
			p++;
	}
	if (p < len && line[p] == '-' && (p + 1 == len || line[p + 1] == ' ')) {
		h->sd.ptr = line + p;
		h->sd.len = 1;
		p += 1;
	} else if (p < len && line[p] == '[') {
		size_t n = sd_span(line + p, len - p);
		if (n > 0) {
			h->sd.ptr = line + p;
			h->sd.len = (uint32_t)n;
			p += n;
		}
	}
	if (p < len && line[p] == ' ')
		p++;
bom:
	if (p + 3 <= len && (unsigned char)line[p] == 0xEF && (unsigned char)line[p + 1] == 0xBB &&
	    (unsigned char)line[p + 2] == 0xBF)
		p += 3;
	set_msg(h, line, p, len);
}

/* After a timestamp without version digit: "[No(13)] [host] [tag[pid]:] msg", or the RFC 5424
 * remainder "host app - - - msg" some ESXi versions send without the version digit. */
static HOT void parse_after_ts(const char *line, size_t p, size_t len, bool host_first,
			   ld_syslog_hdr *h)
{
	p = skip_sp(line, p, len);
	size_t n1 = tok_len(line + p, len - p);
	/* ESXi 8 file form: severity label "No(13)" / "Wa(180)" */
	if (n1 >= 4 && n1 <= 12 && line[p + n1 - 1] == ')' && line[p] >= 'A' && line[p] <= 'Z' &&
	    memchr(line + p, '(', n1)) {
		p = skip_sp(line, p + n1, len);
		n1 = tok_len(line + p, len - p);
	}
	if (take_tag(line + p, n1, true, &h->tag)) {
		p = skip_sp(line, p + n1, len);
		set_msg(h, line, p, len);
		return;
	}
	if (n1 == 0 || p + n1 >= len) {
		set_msg(h, line, p, len);
		return;
	}
	size_t p2 = p + n1 + 1;
	size_t n2 = tok_len(line + p2, len - p2);
	if (n2 == 1 && line[p2] == ':') { /* "host : msg" */
		h->host = (ld_str){line + p, (uint32_t)n1};
		set_msg(h, line, skip_sp(line, p2 + 1, len), len);
		return;
	}
	ld_str tag = {0};
	if (take_tag(line + p2, n2, true, &tag)) {
		h->host = (ld_str){line + p, (uint32_t)n1};
		h->tag = tag;
		set_msg(h, line, skip_sp(line, p2 + n2, len), len);
		return;
	}
	/* "host app - ..." : RFC 5424 remainder without the version digit */
	size_t p3 = p2 + n2 + 1;
	if (n2 > 0 && p3 + 1 < len && line[p3] == '-' && line[p3 + 1] == ' ' &&
	    take_tag(line + p2, n2, false, &tag)) {
		parse_5424_rest(line, p, len, h);
		return;
	}
	/* On the wire (PRI given) and in BSD stamps a host follows the time; in bare file lines the
	 * first token is already the message (NSX "TS vif INET ..."). */
	if (host_first) {
		h->host = (ld_str){line + p, (uint32_t)n1};
		p = p2;
	}
	set_msg(h, line, p, len);
}

/* "Mmm dd hh:mm:ss " then "[host] [tag:] msg"; ASA "Mmm dd yyyy hh:mm:ss: msg". */
static void parse_after_bsd(const char *line, size_t p, size_t len, ld_syslog_hdr *h)
{
	if (p < len && line[p] == ':') { /* ASA "...09:23:40: %ASA-..." has no host */
		set_msg(h, line, skip_sp(line, p + 1, len), len);
		return;
	}
	parse_after_ts(line, p, len, true, h);
}

static HOT void parse_one(const char *line, size_t len, const ld_parse_opts *opts, ld_syslog_hdr *h)
{
	size_t p = 0;
	int pri = -1;
	size_t n = parse_pri(line, len, &pri);
	if (line[0] == '<' && n == 0) { /* broken PRI: no header at all */
		set_msg(h, line, 0, len);
		return;
	}
	h->pri = pri;
	p = n;
	if (p < len && line[p] == ' ' && n > 0)
		p++;
	set_msg(h, line, p, len);
	if (p >= len)
		return;
	char c = line[p];
	bool valid;
	if (c == '1' && p + 2 < len && line[p + 1] == ' ' && n > 0) {
		/* RFC 5424 */
		p += 2;
		size_t tl;
		if (line[p] == '-' && p + 1 < len && line[p + 1] == ' ') {
			tl = 1;
		} else {
			int64_t ts;
			tl = iso_ts(line + p, len - p, &ts, &valid);
			if (tl == 0) {
				bool had_zone;
				tl = ld_time_parse_rfc3339(line + p, len - p, &ts, &had_zone);
				if (tl == 0) { /* unparseable: skip the token, receive time applies */
					tl = tok_len(line + p, len - p);
					ts = LD_TIME_NONE;
				}
			}
			h->ts_ns = ts;
		}
		p += tl;
		if (p < len && line[p] == ' ')
			p++;
		parse_5424_rest(line, p, len, h);
		return;
	}
	if (is_digit(c)) {
		int64_t ts;
		size_t tl = iso_ts(line + p, len - p, &ts, &valid);
		if (tl > 0 && (p + tl == len || line[p + tl] == ' ')) {
			h->ts_ns = ts;
			parse_after_ts(line, p + tl, len, n > 0, h);
		}
		return;
	}
	if (c >= 'A' && c <= 'Z') {
		int64_t ts;
		size_t tl = bsd_ts(line + p, len - p, opts, &ts);
		if (tl > 0) {
			h->ts_ns = ts;
			parse_after_bsd(line, p + tl, len, h);
		}
	}
}

/* "message repeated N times: [ body ]" -> body */
static HOT void unwrap_repeated(ld_syslog_hdr *h)
{
	static const char pfx[] = "message repeated ";
	const size_t pl = sizeof pfx - 1;
	if (h->msg_len < pl + 12 || memcmp(h->msg, pfx, pl) != 0)
		return;
	const char *s = h->msg;
	size_t len = h->msg_len, p = pl;
	while (p < len && is_digit(s[p]))
		p++;
	if (p == pl || p + 10 > len || memcmp(s + p, " times: [", 9) != 0)
		return;
	p += 9;
	size_t e = len;
	while (e > p && s[e - 1] == ' ')
		e--;
	if (e == p || s[e - 1] != ']')
		return;
	e--;
	p = skip_sp(s, p, e);
	while (e > p && s[e - 1] == ' ')
		e--;
	h->msg = s + p;
	h->msg_len = e - p;
}

void ld_syslog_parse_header(const char *line, size_t len, const ld_parse_opts *opts,
			    ld_syslog_hdr *h)
{
	/* a compound literal: a few stores where memset plus the field writes were more */
	*h = (ld_syslog_hdr){.pri = -1, .ts_ns = LD_TIME_NONE, .msg = line, .msg_len = len};
	if (len == 0)
		return;
	parse_one(line, len, opts, h);
	/* relay double header: the inner one names the original sender and event time */
	if (h->msg_len > 4 && h->msg[0] == '<' && h->msg != line) {
		ld_syslog_hdr inner;
		memset(&inner, 0, sizeof inner);
		inner.pri = -1;
		inner.ts_ns = LD_TIME_NONE;
		parse_one(h->msg, h->msg_len, opts, &inner);
		if (inner.pri >= 0 && inner.msg != h->msg) {
			if (inner.ts_ns == LD_TIME_NONE)
				inner.ts_ns = h->ts_ns;
			if (inner.host.len == 0)
				inner.host = h->host;
			*h = inner;
		}
	}
	unwrap_repeated(h);
}
