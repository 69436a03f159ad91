/* parse_iptables.c — Linux netfilter LOG lines: kernel iptables/ip6tables/nftables `log`, UFW,
 * firewalld LogDenied, EdgeOS/UniFi, Shorewall, ad-hoc prefixes and ulogd2 LOGEMU.
 *
 * Body: "[[uptime]] PREFIX IN=.. OUT=.. [MAC=..] SRC=.. DST=.. LEN=.. ... PROTO=.. SPT=.. DPT=..
 * [flag keywords]".  The prefix ends where the first "IN=" starts at a token boundary (it may be
 * glued: "DROP_INPUT:IN=eth0", "[LAN_IN-default-D]IN=eth0").  Fields are key=value tokens taken
 * with first-occurrence semantics, so the inner packet an ICMP error quotes ("[SRC=.. DST=..]")
 * and the UDP "LEN=" never override the outer header; scanning stops at the first '['.
 *
 * Verdict comes only from the prefix.  Its words (split on anything not a letter or digit) are
 * read left to right and the first verdict word decides:
 *   DROP/DROPPED/DROPPING/D            -> drop
 *   REJECT/REJECTED/R                  -> reject
 *   BLOCK/BLOCKED/DENY/DENIED          -> deny
 *   ACCEPT/ACCEPTED/ACC/ALLOW/ALLOWED/AUDIT/PASS/A/LOG -> allowed (not a drop)
 * A prefix without any verdict word ("nft-out: ", "droped packet:") is taken as a deny with the
 * LD_RF_ASSUMED bit set: log rules with a bare prefix are overwhelmingly attached to drop rules,
 * and the bit lets queries tell stated from assumed verdicts.  rule = the prefix without the
 * kernel uptime, surrounding spaces and trailing ':'.
 *
 * Damaged lines: no SRC/DST (head lost) -> `truncated`.  A line cut after SRC/DST/PROTO keeps what
 * parsed with LD_RF_PARTIAL set (ports flagged present only when both were read).
 */
#include <string.h>

#include "ld_time.h"
#include "parse_registry.h"
#include "parse_state.h"
#include "parse_util.h"

static inline bool is_alnum(char c)
{
	return lp_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Offset of the "IN=" that starts the key=value body, or n. */
static size_t find_in(const char *b, size_t n)
{
	size_t from = 0;
	for (int guard = 0; guard < 64 && from < n; guard++) {
		size_t i = from + lp_find(b + from, n - from, "IN=", 3);
		if (i >= n)
			return n;
		if (i == 0 || !(is_alnum(b[i - 1]) || b[i - 1] == '_'))
			return i;
		from = i + 3;
	}
	return n;
}

static bool word_eq(const char *w, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	if (n != l)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c != lit[i])
			return false;
	}
	return true;
}

/* enum ld_action from the prefix words; LD_ACTION_UNKNOWN when none is a verdict word. */
static uint8_t prefix_action(const char *s, size_t n)
{
	static const struct {
		const char *w;
		uint8_t a;
	} words[] = {
		{"DROP", LD_ACTION_DROP},     {"DROPPED", LD_ACTION_DROP}, {"DROPPING", LD_ACTION_DROP},
		{"D", LD_ACTION_DROP},        {"REJECT", LD_ACTION_REJECT},
		{"REJECTED", LD_ACTION_REJECT}, {"R", LD_ACTION_REJECT}, {"BLOCK", LD_ACTION_DENY},
		{"BLOCKED", LD_ACTION_DENY},  {"DENY", LD_ACTION_DENY},   {"DENIED", LD_ACTION_DENY},
		{"ACCEPT", LD_ACTION_ALLOW},  {"ACCEPTED", LD_ACTION_ALLOW}, {"ACC", LD_ACTION_ALLOW},
		{"ALLOW", LD_ACTION_ALLOW},   {"ALLOWED", LD_ACTION_ALLOW}, {"AUDIT", LD_ACTION_ALLOW},
		{"PASS", LD_ACTION_ALLOW},    {"A", LD_ACTION_ALLOW},
	};
	size_t i = 0;
	while (i < n) {
		while (i < n && !is_alnum(s[i]))
			i++;
		size_t w0 = i;
		while (i < n && is_alnum(s[i]))
			i++;
		if (i == w0)
			break;
		for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
			if (word_eq(s + w0, i - w0, words[k].w))
				return words[k].a;
	}
	return LD_ACTION_UNKNOWN;
}

/* Strips a kernel uptime "[  307.757925] " in front of the prefix. */
static size_t skip_uptime(const char *s, size_t n)
{
	if (n == 0 || s[0] != '[')
		return 0;
	size_t i = 1;
	while (i < n && s[i] == ' ')
		i++;
	size_t d0 = i;
	while (i < n && (lp_is_digit(s[i]) || s[i] == '.'))
		i++;
	if (i == d0 || i >= n || s[i] != ']')
		return 0;
	i++;
	while (i < n && s[i] == ' ')
		i++;
	return i;
}

static int tcp_flag_word(const char *w, size_t n)
{
	if (n != 3)
		return 0;
	switch (w[0]) {
	case 'S': return memcmp(w, "SYN", 3) == 0 ? LD_TCP_SYN : 0;
	case 'A': return memcmp(w, "ACK", 3) == 0 ? LD_TCP_ACK : 0;
	case 'F': return memcmp(w, "FIN", 3) == 0 ? LD_TCP_FIN : 0;
	case 'R': return memcmp(w, "RST", 3) == 0 ? LD_TCP_RST : 0;
	case 'P': return memcmp(w, "PSH", 3) == 0 ? LD_TCP_PSH : 0;
	case 'U': return memcmp(w, "URG", 3) == 0 ? LD_TCP_URG : 0;
	case 'E': return memcmp(w, "ECE", 3) == 0 ? LD_TCP_ECE : 0;
	case 'C': return memcmp(w, "CWR", 3) == 0 ? LD_TCP_CWR : 0;
	default: return 0;
	}
}

static int reject(uint8_t *reason, uint8_t why)
{
	*reason = why;
	return LD_PARSE_REJECT;
}

enum { K_IN = 1, K_OUT = 2, K_SRC = 4, K_DST = 8, K_LEN = 16, K_PROTO = 32, K_SPT = 64, K_DPT = 128 };

int ld_parse_iptables(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		      ld_record *out, uint8_t *reason)
{
	(void)line;
	(void)len;
	const char *b = h->msg;
	size_t n = h->msg_len;
	size_t in_at = find_in(b, n);
	if (in_at >= n)
		return reject(reason, lp_find(b, n, "SRC=", 4) < n ? LD_REJ_TRUNCATED
								   : LD_REJ_UNRECOGNISED);

	/* prefix and verdict */
	size_t p0 = skip_uptime(b, in_at), p1 = in_at;
	while (p0 < p1 && b[p0] == ' ')
		p0++;
	while (p1 > p0 && (b[p1 - 1] == ' ' || b[p1 - 1] == ':'))
		p1--;
	ld_str prefix = {b + p0, (uint32_t)(p1 - p0)};
	if (prefix.len == 0 && h->tag.len > 0 && !LP_EQ(h->tag.ptr, h->tag.len, "kernel"))
		prefix = h->tag; /* "host DROP: IN=..." parsed the prefix as the tag */
	uint8_t action = prefix_action(prefix.ptr, prefix.len);
	if (action == LD_ACTION_UNKNOWN) {
		action = LD_ACTION_DENY;
		out->present |= LD_RF_ASSUMED;
	}
	out->rule = prefix;

	/* key=value body */
	unsigned seen = 0;
	const char *in_v = NULL, *out_v = NULL;
	size_t in_n = 0, out_n = 0;
	uint8_t flags = 0;
	size_t p = in_at;
	for (int guard = 0; p < n && guard < 4096; guard++) {
		while (p < n && b[p] == ' ')
			p++;
		if (p >= n || b[p] == '[')
			break;
		const char *e = memchr(b + p, ' ', n - p);
		size_t end = e ? (size_t)(e - b) : n;
		const char *t = b + p;
		size_t tn = end - p;
		bool last = end >= n;
		p = end;
		const char *eq = memchr(t, '=', tn);
		if (!eq) {
			flags |= (uint8_t)tcp_flag_word(t, tn);
			continue;
		}
		size_t kn = (size_t)(eq - t);
		const char *v = eq + 1;
		size_t vn = tn - kn - 1;
		unsigned key = 0;
		switch (kn) {
		case 2:
			if (t[0] == 'I' && t[1] == 'N')
				key = K_IN;
			break;
		case 3:
			if (memcmp(t, "OUT", 3) == 0)
				key = K_OUT;
			else if (memcmp(t, "SRC", 3) == 0)
				key = K_SRC;
			else if (memcmp(t, "DST", 3) == 0)
				key = K_DST;
			else if (memcmp(t, "LEN", 3) == 0)
				key = K_LEN;
			else if (memcmp(t, "SPT", 3) == 0)
				key = K_SPT;
			else if (memcmp(t, "DPT", 3) == 0)
				key = K_DPT;
			break;
		case 5:
			if (memcmp(t, "PROTO", 5) == 0)
				key = K_PROTO;
			break;
		default:
			break;
		}
		if (!key || (seen & key))
			continue;
		uint32_t u;
		switch (key) {
		case K_IN:
			in_v = v;
			in_n = vn;
			break;
		case K_OUT:
			out_v = v;
			out_n = vn;
			break;
		case K_SRC:
		case K_DST:
			if (!lp_addr(v, vn, key == K_SRC ? &out->src : &out->dst))
				return reject(reason, last ? LD_REJ_TRUNCATED : LD_REJ_BAD_ADDRESS);
			break;
		case K_LEN:
			if (lp_uint(v, vn, UINT32_MAX, &u)) {
				out->len = u;
				out->present |= LD_RF_LEN;
			} else if (!last) {
				return reject(reason, LD_REJ_BAD_FIELD);
			}
			break;
		case K_SPT:
		case K_DPT:
			if (!lp_uint(v, vn, 65535, &u)) {
				if (last)
					continue; /* cut inside the value: treated as missing */
				return reject(reason, LD_REJ_BAD_PORT);
			}
			if (key == K_SPT)
				out->sport = (uint16_t)u;
			else
				out->dport = (uint16_t)u;
			break;
		case K_PROTO: {
			int pr;
			if (vn > 0 && lp_is_digit(v[0])) {
				pr = lp_uint(v, vn, 255, &u) ? (int)u : -1;
			} else if (word_eq(v, vn, "UDPLITE")) {
				pr = 136;
			} else {
				pr = ld_proto_from_name(v, vn);
			}
			if (pr < 0) {
				if (last)
					continue;
				return reject(reason, LD_REJ_BAD_FIELD);
			}
			out->proto = (uint8_t)pr;
			break;
		}
		default:
			break;
		}
		seen |= key;
	}

	if ((seen & (K_SRC | K_DST)) != (K_SRC | K_DST))
		return reject(reason, LD_REJ_TRUNCATED);
	if (ld_addr_is_v4(&out->src) != ld_addr_is_v4(&out->dst))
		return reject(reason, LD_REJ_BAD_ADDRESS);
	bool ported = out->proto == 6 || out->proto == 17 || out->proto == 132 || out->proto == 136;
	if (!(seen & K_PROTO))
		out->present |= LD_RF_PARTIAL;
	else if (ported && (seen & (K_SPT | K_DPT)) != (K_SPT | K_DPT))
		out->present |= LD_RF_PARTIAL;
	if ((seen & (K_SPT | K_DPT)) == (K_SPT | K_DPT))
		out->present |= LD_RF_PORTS;
	if (out->proto == 6 && !(out->present & LD_RF_PARTIAL)) {
		out->tcp_flags = flags;
		out->present |= LD_RF_TCPFLAGS;
	}

	if (in_n > 0 && out_n == 0)
		out->dir = LD_DIR_IN;
	else if (out_n > 0 && in_n == 0)
		out->dir = LD_DIR_OUT;
	(void)in_v;
	(void)out_v;

	out->action = action;
	out->format = LD_FMT_IPTABLES;
	out->reporter = h->host.len ? h->host : st->opts.reporter;
	out->ts_ns = h->ts_ns != LD_TIME_NONE ? h->ts_ns : ld_parse_state_now(st);
	return action == LD_ACTION_ALLOW ? LD_PARSE_NOT_DROP : LD_PARSE_DROP;
}

bool ld_sig_iptables(const ld_syslog_hdr *h)
{
	size_t n = h->msg_len;
	size_t i = lp_find(h->msg, n, "SRC=", 4);
	return i < n && lp_find(h->msg, i, "IN=", 3) < i;
}
