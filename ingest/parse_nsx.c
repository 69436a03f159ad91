/* parse_nsx.c — VMware NSX distributed and gateway firewall packet logs (NSX-T, NSX 4, NSX-V).
 *
 * Body grammar (after the syslog header):
 *   [<vrf iface-uuid>] [vif] INET|INET6 reason [ACTION] [ruleset/]rule IN|OUT|IN-OUT [len]
 *   TCP|UDP|ICMP|PROTO n|name [close-reason] src[/sport]->dst[/dport] [flags] [pkts bytes] [tag]
 * The scanner walks space-separated tokens once; optional tokens are recognised by their shape
 * (vif: 8 hex digits or decimal; action: all capital letters; len: digits; close reason: a word
 * before the address token, which is the only one holding "->").
 *
 * Most lines take a one-pass reader of the dominant shape (nsx_fast); any other line, and any line
 * that reader refuses, goes through the token scanner, which defines the result.
 *
 * Verdicts: DROP and REJECT are drops; PASS, TERM (session end of a passed session) and the NAT /
 * redirect family are valid records of another verdict.
 *
 * Damaged lines: a line that ends inside or before the address token (UDP syslog truncated at
 * 1024/2048 bytes) is rejected as `truncated` — without a complete destination there is nothing
 * to score.  A line cut after the addresses (flags, counters or tag missing) is complete enough
 * and parses normally.  A bad address in the middle of a line is `bad_address`.
 */
#include <string.h>

#include "ld_time.h"
#include "parse_registry.h"
#include "parse_state.h"
#include "parse_util.h"

typedef struct tok {
	const char *s;
	size_t n;
} tok;

/* Next space-separated token from *p; n = 0 at the end. */
static inline tok next_tok(const char *b, size_t len, size_t *p)
{
	size_t i = *p;
	while (i < len && b[i] == ' ')
		i++;
	size_t end = lp_next_space(b, i, len);
	tok t = {b + i, end - i};
	*p = end;
	return t;
}

/* The "->" of the address token, or NULL. */
static inline const char *find_arrow(const tok *t)
{
	for (size_t i = 1; i < t->n; i++)
		if (t->s[i] == '>' && t->s[i - 1] == '-')
			return t->s + i - 1;
	return NULL;
}

static bool is_vif(const tok *t)
{
	if (t->n == 0 || t->n > 10)
		return false;
	bool all_dec = true;
	for (size_t i = 0; i < t->n; i++) {
		char c = t->s[i];
		bool hex = lp_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if (!hex)
			return false;
		if (!lp_is_digit(c))
			all_dec = false;
	}
	return all_dec || t->n == 8;
}

static bool all_caps(const tok *t)
{
	if (t->n == 0)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (t->s[i] < 'A' || t->s[i] > 'Z')
			return false;
	return true;
}

static uint8_t nsx_action(const tok *t)
{
	if (LP_EQ(t->s, t->n, "DROP"))
		return LD_ACTION_DROP;
	if (LP_EQ(t->s, t->n, "REJECT"))
		return LD_ACTION_REJECT;
	if (LP_EQ(t->s, t->n, "PASS"))
		return LD_ACTION_ALLOW;
	return LD_ACTION_OTHER;
}

/* NSX flag letters (S A F R P U E W, C for CWR); -1 when the token is something else. */
static int nsx_flags(const tok *t)
{
	if (t->n == 0 || t->n > 8)
		return -1;
	int f = 0;
	for (size_t i = 0; i < t->n; i++) {
		switch (t->s[i]) {
		case 'F': f |= LD_TCP_FIN; break;
		case 'S': f |= LD_TCP_SYN; break;
		case 'R': f |= LD_TCP_RST; break;
		case 'P': f |= LD_TCP_PSH; break;
		case 'A': f |= LD_TCP_ACK; break;
		case 'U': f |= LD_TCP_URG; break;
		case 'E': f |= LD_TCP_ECE; break;
		case 'W': case 'C': f |= LD_TCP_CWR; break;
		default: return -1;
		}
	}
	return f;
}

/* "addr[/port]"; port split on the last '/'. */
static int endpoint(const char *s, size_t n, ld_addr *a, uint16_t *port, bool *has_port,
		    uint8_t *reason)
{
	const char *sl = NULL;
	for (size_t i = n; i > 0; i--) {
		if (s[i - 1] == '/') {
			sl = s + i - 1;
			break;
		}
	}
	size_t an = sl ? (size_t)(sl - s) : n;
	*has_port = false;
	if (!lp_addr(s, an, a)) {
		*reason = LD_REJ_BAD_ADDRESS;
		return -1;
	}
	if (sl) {
		uint32_t v;
		if (!lp_uint(sl + 1, n - an - 1, 65535, &v)) {
			*reason = LD_REJ_BAD_PORT;
			return -1;
		}
		*port = (uint16_t)v;
		*has_port = true;
	}
	return 0;
}

/* One pass over "a.b.c.d[/port]" from s[*i]; stops at the first byte that is not part of it.
 * false when the text is not a valid IPv4 endpoint of this shape. */
static inline bool v4_endpoint(const char *s, size_t n, size_t *i, uint32_t *ip, uint32_t *port,
			       bool *has_port)
{
	size_t k = *i;
	uint32_t v = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (k >= n || s[k] != '.')
				return false;
			k++;
		}
		/* one to three digits, unrolled */
		unsigned o, c;
		if (k >= n || (o = (unsigned char)s[k] - '0') > 9)
			return false;
		k++;
		if (k < n && (c = (unsigned char)s[k] - '0') <= 9) {
			o = o * 10 + c;
			k++;
			if (k < n && (c = (unsigned char)s[k] - '0') <= 9) {
				o = o * 10 + c;
				k++;
				if (o > 255 || (k < n && (unsigned)((unsigned char)s[k] - '0') <= 9))
					return false;
			}
		}
		v = v << 8 | o;
	}
	*has_port = false;
	if (k < n && s[k] == '/') {
		k++;
		uint32_t pv = 0;
		size_t d0 = k;
		unsigned c;
		while (k < n && (c = (unsigned char)s[k] - '0') <= 9 && k - d0 < 6) {
			pv = pv * 10 + c;
			k++;
		}
		if (k == d0 || k - d0 > 5 || pv > 65535)
			return false;
		*port = pv;
		*has_port = true;
	}
	*ip = v;
	*i = k;
	return true;
}

/* v4_endpoint() for a start with at least 22 bytes of line behind it: the longest endpoint
 * "255.255.255.255/65535" and the byte after it are all inside, so no read needs a bound check.
 * Same acceptance and result as v4_endpoint(). */
static inline __attribute__((always_inline)) bool
v4_endpoint_roomy(const char *s, size_t *i, uint32_t *ip, uint32_t *port, bool *has_port)
{
	const unsigned char *u = (const unsigned char *)s + *i;
	const unsigned char *const u0 = u;
	uint32_t v = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (*u != '.')
				return false;
			u++;
		}
		unsigned o = (unsigned)u[0] - '0', c;
		if (o > 9)
			return false;
		if ((c = (unsigned)u[1] - '0') > 9) {
			u += 1;
		} else {
			o = o * 10 + c;
			if ((c = (unsigned)u[2] - '0') > 9) {
				u += 2;
			} else {
				o = o * 10 + c;
				if (o > 255 || (unsigned)u[3] - '0' <= 9)
					return false;
				u += 3;
			}
		}
		v = v << 8 | o;
	}
	*has_port = false;
	if (*u == '/') {
		u++;
		uint32_t pv = (unsigned)u[0] - '0', c;
		if (pv > 9)
			return false;
		int k = 1; /* digits taken; unrolled up to the sixth, which makes it invalid */
		if ((c = (unsigned)u[1] - '0') <= 9) {
			pv = pv * 10 + c, k = 2;
			if ((c = (unsigned)u[2] - '0') <= 9) {
				pv = pv * 10 + c, k = 3;
				if ((c = (unsigned)u[3] - '0') <= 9) {
					pv = pv * 10 + c, k = 4;
					if ((c = (unsigned)u[4] - '0') <= 9) {
						pv = pv * 10 + c, k = 5;
						if ((unsigned)u[5] - '0' <= 9)
							return false;
					}
				}
			}
		}
		if (pv > 65535)
			return false;
		u += k;
		*port = pv;
		*has_port = true;
	}
	*ip = v;
	*i += (size_t)(u - u0);
	return true;
}

/* Fast path for the common "a.b.c.d/p->a.b.c.d/p" token; false sends the caller to the general
 * path (IPv6, errors). */
static bool v4_pair(const tok *t, ld_record *out)
{
	size_t i = 0;
	uint32_t sip, dip, sp = 0, dp = 0;
	bool hs, hd;
	if (!v4_endpoint(t->s, t->n, &i, &sip, &sp, &hs))
		return false;
	if (i + 2 > t->n || t->s[i] != '-' || t->s[i + 1] != '>')
		return false;
	i += 2;
	if (!v4_endpoint(t->s, t->n, &i, &dip, &dp, &hd) || i != t->n || hs != hd)
		return false;
	ld_addr_from_v4(&out->src, sip);
	ld_addr_from_v4(&out->dst, dip);
	if (hs) {
		out->sport = (uint16_t)sp;
		out->dport = (uint16_t)dp;
		out->present |= LD_RF_PORTS;
	}
	return true;
}

/* True for [0-9a-fA-F]. */
static inline bool hex_digit(char c)
{
	return lp_is_digit(c) || (unsigned char)((c | 0x20) - 'a') < 6;
}

/* The dominant body shape in one pass, with nothing but single spaces between tokens:
 *   [vif8 ]INET match DROP|REJECT|PASS rule IN|OUT [len ]TCP|UDP a.b.c.d[/p]->a.b.c.d[/p]
 *   [ flags...]
 * Fills `out` and returns the parse result only when the whole shape matched; -1 (and `out`
 * untouched) sends the line to the general scanner, which gives every line this path accepts the
 * same record. */
static int nsx_fast(const ld_parse_state *st, const ld_syslog_hdr *h, ld_record *out)
{
	const char *b = h->msg;
	size_t n = h->msg_len, p = 0;
	ld_str vif = {0};
	if (n < 40)
		return -1;
	if (b[0] != 'I') {
		/* vif: exactly eight hex digits (the general scanner also takes decimal ids) */
		for (size_t k = 0; k < 8; k++)
			if (!hex_digit(b[k]))
				return -1;
		if (b[8] != ' ')
			return -1;
		vif = (ld_str){b, 8};
		p = 9;
	}
	/* n >= 40 and p <= 9: the fixed words below stay inside the line */
	if (memcmp(b + p, "INET match ", 11) != 0)
		return -1;
	p += 11;
	uint8_t action;
	if (memcmp(b + p, "DROP ", 5) == 0) {
		action = LD_ACTION_DROP;
		p += 5;
	} else if (memcmp(b + p, "PASS ", 5) == 0) {
		action = LD_ACTION_ALLOW;
		p += 5;
	} else if (memcmp(b + p, "REJECT ", 7) == 0) {
		action = LD_ACTION_REJECT;
		p += 7;
	} else {
		return -1;
	}
	/* rule: up to the next space, bounded by the line */
	size_t r0 = p;
	p = lp_next_space(b, p, n);
	if (p == r0 || p + 4 >= n)
		return -1;
	ld_str rule = {b + r0, (uint32_t)(p - r0)};
	p++;
	uint8_t dir;
	if (b[p] == 'I' && b[p + 1] == 'N' && b[p + 2] == ' ') {
		dir = LD_DIR_IN;
		p += 3;
	} else if (p + 4 < n && b[p] == 'O' && b[p + 1] == 'U' && b[p + 2] == 'T' && b[p + 3] == ' ') {
		dir = LD_DIR_OUT;
		p += 4;
	} else {
		return -1;
	}
	uint32_t plen = 0;
	bool has_len = false;
	if (p < n && lp_is_digit(b[p])) {
		uint64_t v = 0;
		size_t d0 = p;
		while (p < n && lp_is_digit(b[p]) && p - d0 < 10)
			v = v * 10 + (uint64_t)(b[p++] - '0');
		if (p >= n || b[p] != ' ' || v > UINT32_MAX)
			return -1;
		plen = (uint32_t)v;
		has_len = true;
		p++;
	}
	if (p + 4 >= n)
		return -1;
	uint8_t proto;
	if (memcmp(b + p, "TCP ", 4) == 0)
		proto = 6;
	else if (memcmp(b + p, "UDP ", 4) == 0)
		proto = 17;
	else
		return -1;
	p += 4;
	/* addresses: the token ends at a space or at the end of the line */
	uint32_t sip, dip, sp = 0, dp = 0;
	bool hs, hd;
	if (!(p + 22 <= n ? v4_endpoint_roomy(b, &p, &sip, &sp, &hs)
			  : v4_endpoint(b, n, &p, &sip, &sp, &hs)))
		return -1;
	if (p + 2 > n || b[p] != '-' || b[p + 1] != '>')
		return -1;
	p += 2;
	if (p + 22 <= n) {
		if (!v4_endpoint_roomy(b, &p, &dip, &dp, &hd))
			return -1;
	} else {
		/* the destination usually ends the line: its tail, padded with spaces (which stop
		 * an endpoint just as the end of the line does), gives the unchecked reader room */
		char pad[24];
		size_t k = 0;
		memset(pad, ' ', sizeof pad);
		memcpy(pad, b + p, n - p);
		if (!v4_endpoint_roomy(pad, &k, &dip, &dp, &hd))
			return -1;
		p += k;
	}
	if (hs != hd || (p < n && b[p] != ' '))
		return -1;
	int flags = -1;
	if (proto == 6) {
		if (p + 2 <= n && b[p + 1] == 'S' && (p + 2 == n || b[p + 2] == ' ')) {
			flags = LD_TCP_SYN; /* " S", what a scan's drops carry */
		} else {
			tok t = next_tok(b, n, &p);
			flags = nsx_flags(&t);
		}
	}

	ld_addr_from_v4(&out->src, sip);
	ld_addr_from_v4(&out->dst, dip);
	if (hs) {
		out->sport = (uint16_t)sp;
		out->dport = (uint16_t)dp;
		out->present |= LD_RF_PORTS;
	}
	if (has_len) {
		out->len = plen;
		out->present |= LD_RF_LEN;
	}
	if (flags >= 0) {
		out->tcp_flags = (uint8_t)flags;
		out->present |= LD_RF_TCPFLAGS;
	}
	if (vif.len)
		out->vif = vif;
	out->rule = rule;
	out->dir = dir;
	out->proto = proto;
	out->action = action;
	out->format = LD_FMT_NSX;
	out->reporter = h->host.len ? h->host : st->opts.reporter;
	out->ts_ns = h->ts_ns != LD_TIME_NONE ? h->ts_ns : ld_parse_state_now(st);
	return action == LD_ACTION_ALLOW ? LD_PARSE_NOT_DROP : LD_PARSE_DROP;
}

static int reject(uint8_t *reason, uint8_t why)
{
	*reason = why;
	return LD_PARSE_REJECT;
}

int ld_parse_nsx(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		 ld_record *out, uint8_t *reason)
{
	(void)line;
	(void)len;
	int fr = nsx_fast(st, h, out);
	if (fr >= 0)
		return fr;
	const char *b = h->msg;
	size_t n = h->msg_len, p = 0;

	/* gateway firewall: "<vrf iface-uuid-halves>" before the family */
	if (n > 0 && b[0] == '<') {
		const char *gt = memchr(b, '>', n);
		if (!gt)
			return reject(reason, LD_REJ_TRUNCATED);
		p = (size_t)(gt - b) + 1;
	}
	tok t = next_tok(b, n, &p);
	if (t.n == 0)
		return reject(reason, LD_REJ_TRUNCATED);
	if (!(t.n >= 4 && memcmp(t.s, "INET", 4) == 0)) {
		if (!is_vif(&t))
			return reject(reason, LD_REJ_BAD_FIELD);
		out->vif = (ld_str){t.s, (uint32_t)t.n};
		t = next_tok(b, n, &p);
	}
	if (LP_EQ(t.s, t.n, "INET")) {
	} else if (LP_EQ(t.s, t.n, "INET6")) {
	} else {
		return reject(reason, t.n ? LD_REJ_BAD_FIELD : LD_REJ_TRUNCATED);
	}

	tok why = next_tok(b, n, &p); /* match, reason-match, TERM, bad-offset, ... */
	if (why.n == 0)
		return reject(reason, LD_REJ_TRUNCATED);
	bool term = LP_EQ(why.s, why.n, "TERM");

	t = next_tok(b, n, &p);
	uint8_t action = term ? LD_ACTION_ALLOW : LD_ACTION_UNKNOWN;
	if (all_caps(&t) && !LP_EQ(t.s, t.n, "IN") && !LP_EQ(t.s, t.n, "OUT")) {
		action = nsx_action(&t);
		t = next_tok(b, n, &p);
	}
	if (t.n == 0)
		return reject(reason, LD_REJ_TRUNCATED);
	out->rule = (ld_str){t.s, (uint32_t)t.n};

	t = next_tok(b, n, &p);
	if (LP_EQ(t.s, t.n, "IN"))
		out->dir = LD_DIR_IN;
	else if (LP_EQ(t.s, t.n, "OUT"))
		out->dir = LD_DIR_OUT;
	else if (LP_EQ(t.s, t.n, "IN-OUT"))
		out->dir = LD_DIR_UNKNOWN;
	else
		return reject(reason, t.n ? LD_REJ_BAD_FIELD : LD_REJ_TRUNCATED);

	t = next_tok(b, n, &p);
	if (t.n > 0 && lp_is_digit(t.s[0])) {
		uint32_t v;
		if (!lp_uint(t.s, t.n, UINT32_MAX, &v))
			return reject(reason, LD_REJ_BAD_FIELD);
		out->len = v;
		out->present |= LD_RF_LEN;
		t = next_tok(b, n, &p);
	}

	/* protocol */
	if (LP_EQ(t.s, t.n, "TCP")) {
		out->proto = 6;
	} else if (LP_EQ(t.s, t.n, "UDP")) {
		out->proto = 17;
	} else if (LP_EQ(t.s, t.n, "ICMP")) {
		out->proto = 1;
	} else if (LP_EQ(t.s, t.n, "PROTO")) {
		t = next_tok(b, n, &p);
		uint32_t v;
		if (t.n == 0)
			return reject(reason, LD_REJ_TRUNCATED);
		if (!lp_uint(t.s, t.n, 255, &v))
			return reject(reason, LD_REJ_BAD_FIELD);
		out->proto = (uint8_t)v;
	} else if (t.n == 0) {
		return reject(reason, LD_REJ_TRUNCATED);
	} else {
		int v = ld_proto_from_name(t.s, t.n);
		if (v < 0)
			return reject(reason, LD_REJ_BAD_FIELD);
		out->proto = (uint8_t)v;
	}

	/* addresses; a TERM close reason (RST, FIN, TIMEOUT) may come first */
	t = next_tok(b, n, &p);
	if (t.n > 0 && lp_is_digit(t.s[0]) && v4_pair(&t, out))
		goto flags;
	const char *arrow = find_arrow(&t);
	if (!arrow && t.n > 0 && all_caps(&t)) {
		t = next_tok(b, n, &p);
		arrow = find_arrow(&t);
	}
	bool at_end = p >= n;
	if (!arrow)
		return reject(reason, at_end ? LD_REJ_TRUNCATED : LD_REJ_BAD_FIELD);
	bool hs, hd;
	uint8_t why_bad = 0;
	if (endpoint(t.s, (size_t)(arrow - t.s), &out->src, &out->sport, &hs, &why_bad) < 0 ||
	    endpoint(arrow + 2, t.n - (size_t)(arrow - t.s) - 2, &out->dst, &out->dport, &hd,
		     &why_bad) < 0)
		return reject(reason, at_end ? LD_REJ_TRUNCATED : why_bad);
	if (hs && hd)
		out->present |= LD_RF_PORTS;
	else if (hs != hd)
		return reject(reason, at_end ? LD_REJ_TRUNCATED : LD_REJ_BAD_PORT);
	if (ld_addr_is_v4(&out->src) != ld_addr_is_v4(&out->dst))
		return reject(reason, LD_REJ_BAD_ADDRESS);

	/* TCP flags on match lines; counters and tag are not kept */
flags:
	if (out->proto == 6 && !term) {
		t = next_tok(b, n, &p);
		int f = nsx_flags(&t);
		if (f >= 0) {
			out->tcp_flags = (uint8_t)f;
			out->present |= LD_RF_TCPFLAGS;
		}
	}

	out->action = action;
	out->format = LD_FMT_NSX;
	out->reporter = h->host.len ? h->host : st->opts.reporter;
	out->ts_ns = h->ts_ns != LD_TIME_NONE ? h->ts_ns : ld_parse_state_now(st);
	return (action == LD_ACTION_DROP || action == LD_ACTION_REJECT) ? LD_PARSE_DROP
									 : LD_PARSE_NOT_DROP;
}

/* "INET" or "INET6" as a whole token at b[p] */
static bool inet_at(const char *b, size_t n, size_t p)
{
	if (n - p < 4 || memcmp(b + p, "INET", 4) != 0)
		return false;
	p += 4;
	if (p < n && b[p] == '6')
		p++;
	return p == n || b[p] == ' ';
}

bool ld_sig_nsx(const ld_syslog_hdr *h)
{
	const char *b = h->msg;
	size_t n = h->msg_len, p = 0;
	if (n > 0 && b[0] == '<') {
		const char *gt = memchr(b, '>', n < 96 ? n : 96);
		if (!gt)
			return false;
		p = (size_t)(gt - b) + 1;
		while (p < n && b[p] == ' ')
			p++;
	}
	if (inet_at(b, n, p))
		return true;
	/* "vif INET" with vif up to 10 characters */
	const char *sp = memchr(b + p, ' ', n - p < 12 ? n - p : 12);
	return sp && inet_at(b, n, (size_t)(sp - b) + 1);
}
