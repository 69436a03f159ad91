/* parse_asa.c — Cisco ASA / PIX / FWSM / FTD deny messages (formats.md §4).
 *
 * The message tag (%ASA-4-106023:, %ASA-session-5-106100:, %FTD-1-430002:...) is searched in the
 * whole line because relays put many kinds of prefixes in front of it; the text before the tag
 * may hold the ASA's own timestamp ("Apr 30 2026 09:23:40 [TZ][:] [host] [:]") which wins over
 * the syslog header since it is the device's event time.
 */
#include "fw_scan.h"
#include "parse_state.h"

typedef struct asa_cur {
	const char *p, *e;
} asa_cur;

static void cur_ws(asa_cur *c)
{
	while (c->p < c->e && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

/* Consume literal (after optional spaces); false (cursor unchanged) when absent. */
static bool cur_lit(asa_cur *c, const char *lit)
{
	const char *save = c->p;
	cur_ws(c);
	size_t n = strlen(lit);
	if ((size_t)(c->e - c->p) >= n && memcmp(c->p, lit, n) == 0) {
		c->p += n;
		return true;
	}
	c->p = save;
	return false;
}

/* Next token ending at a space or any byte of `stops` (at most two bytes). */
static fw_span cur_tok(asa_cur *c, const char *stops)
{
	cur_ws(c);
	fw_span s = {c->p, 0};
	char s0 = stops[0], s1 = s0 ? stops[1] : 0;
	if (!s0)
		s0 = ' ';
	if (!s1)
		s1 = ' ';
	while (c->p < c->e && *c->p != ' ' && *c->p != s0 && *c->p != s1)
		c->p++;
	s.n = (size_t)(c->p - s.p);
	return s;
}

/* Address with an interface prefix: "outside:10.1.1.1", "v1:outside:10.8.1.9",
 * "vdi:2001:db8::5".  The interface ends at a ':' after which an address parses. */
static bool asa_if_addr(fw_span s, ld_addr *a)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] == ':') {
			fw_span rest = {s.p + i + 1, s.n - i - 1};
			if (fw_addr(rest, a))
				return true;
		}
	return false;
}

/* "addr/port" with the port after the LAST '/' (IPv6 safe). */
static int asa_addr_port(fw_span s, bool has_if, ld_addr *a, uint16_t *port, bool *has_port)
{
	const char *slash = NULL;
	for (size_t i = s.n; i > 0; i--)
		if (s.p[i - 1] == '/') {
			slash = s.p + i - 1;
			break;
		}
	fw_span as = s;
	*has_port = false;
	if (slash) {
		as.n = (size_t)(slash - s.p);
		fw_span ps = {slash + 1, (size_t)(s.p + s.n - slash - 1)};
		if (!fw_port(ps, port))
			return LD_REJ_BAD_PORT;
		*has_port = true;
	}
	bool ok = has_if ? asa_if_addr(as, a) : fw_addr(as, a);
	return ok ? LD_REJ_NONE : LD_REJ_BAD_ADDRESS;
}

/* The two endpoints of a message: source and destination "addr/port" spans (each with or
 * without an "interface:" prefix); *src_port and *dst_port tell which carried a port. */
static int asa_endpoints(fw_span a, bool a_if, fw_span b, bool b_if, ld_record *out,
			 bool *src_port, bool *dst_port)
{
	int r = asa_addr_port(a, a_if, &out->src, &out->sport, src_port);
	if (r)
		return r;
	return asa_addr_port(b, b_if, &out->dst, &out->dport, dst_port);
}

/* TCP flag words of 106001/106015: "SYN", "SYN ACK", "FIN PSH ACK"... up to "on interface". */
static uint8_t asa_flags(asa_cur *c)
{
	uint8_t f = 0;
	for (int guard = 0; guard < 8; guard++) {
		const char *save = c->p;
		fw_span w = cur_tok(c, "");
		if (fw_eq(w, "SYN"))
			f |= LD_TCP_SYN;
		else if (fw_eq(w, "ACK"))
			f |= LD_TCP_ACK;
		else if (fw_eq(w, "FIN"))
			f |= LD_TCP_FIN;
		else if (fw_eq(w, "RST"))
			f |= LD_TCP_RST;
		else if (fw_eq(w, "PSH"))
			f |= LD_TCP_PSH;
		else if (fw_eq(w, "URG"))
			f |= LD_TCP_URG;
		else {
			c->p = save;
			break;
		}
	}
	return f;
}

/* Protocol word of 106023/106021: "tcp", "UDP", "icmp6", or "protocol 47". */
static int asa_proto(asa_cur *c)
{
	fw_span w = cur_tok(c, "");
	if (fw_ieq(w, "protocol"))
		w = cur_tok(c, "");
	return fw_proto(w);
}

static const char *const asa_tags[] = {"%ASA-", "%FTD-", "%PIX-", "%FWSM-", "%NGIPS-"};

/* Locate "%ASA-[class-]<sev>-<id>:"; returns the message id and sets body after ": ". */
static long asa_find_tag(const char *p, size_t n, const char **tag_at, const char **body)
{
	const char *e = p + n;
	for (const char *q = memchr(p, '%', n); q; q = memchr(q + 1, '%', (size_t)(e - q - 1))) {
		size_t tl = 0;
		for (size_t i = 0; i < sizeof asa_tags / sizeof asa_tags[0]; i++)
			if (fw_starts(q, (size_t)(e - q), asa_tags[i])) {
				tl = strlen(asa_tags[i]);
				break;
			}
		if (!tl)
			continue;
		const char *r = q + tl;
		/* optional class tag ("session-", "auth-"...) */
		const char *k = r;
		while (k < e && ((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_'))
			k++;
		if (k > r && k < e && *k == '-')
			r = k + 1;
		if (r >= e || *r < '0' || *r > '7')
			continue;
		r++;
		if (r >= e || *r != '-')
			continue;
		r++;
		long id = 0;
		int digits = 0;
		while (r < e && *r >= '0' && *r <= '9' && digits < 7) {
			id = id * 10 + (*r - '0');
			r++;
			digits++;
		}
		if (digits < 6 || r >= e || *r != ':')
			continue;
		r++;
		while (r < e && *r == ' ')
			r++;
		*tag_at = q;
		*body = r;
		return id;
	}
	return -1;
}

/* ASA's own stamp "Mmm dd yyyy hh:mm:ss[.fff] [TZ]" (logging timestamp) or, as FTD LINA writes
 * it, "Mmm dd hh:mm:ss [TZ]" without a year, somewhere in [p, e); sets host if a name follows it.
 * Returns 1 with the UTC time, 0 when there is none, -1 for an impossible date. */
static int asa_own_time(ld_parse_state *st, const char *p, const char *e, int64_t *ts,
			 fw_span *host)
{
	for (const char *q = p; q + 15 <= e; q++) {
		if (q != p && q[-1] != ' ' && q[-1] != '>' && q[-1] != ':')
			continue;
		char mon[4] = {q[0], q[1], q[2], 0};
		unsigned mo = ld_month_from_abbr(mon);
		if (!mo || q[3] != ' ')
			continue;
		const char *r = q + 4;
		if (*r == ' ')
			r++;
		unsigned d = 0, hh, mi, ss, yy = 0;
		int64_t y;
		int dd = 0;
		while (r < e && *r >= '0' && *r <= '9' && dd < 2) {
			d = d * 10 + (unsigned)(*r++ - '0');
			dd++;
		}
		if (!dd || e - r < 9 || *r != ' ')
			continue;
		bool has_year = e - r >= 14 && fw_fixed(r + 1, 4, &yy) && r[5] == ' ';
		if (has_year)
			r += 5; /* " yyyy" */
		if (!fw_fixed(r + 1, 2, &hh) || r[3] != ':' || !fw_fixed(r + 4, 2, &mi) ||
		    r[6] != ':' || !fw_fixed(r + 7, 2, &ss))
			continue;
		if (has_year) {
			y = yy;
		} else {
			if (!fw_civil_ok(2000, mo, d, hh, mi, ss)) /* leap year: any day that exists */
				return -1;
			y = ld_infer_year(mo, d, hh, mi, ss, st->opts.now_ns ? st->opts.now_ns
									  : ld_now_ns(),
					  st->opts.year_override);
			if (!fw_civil_ok(y, mo, d, hh, mi, ss))
				return 0; /* Feb 29 in a common year: leave it to the header */
		}
		if (!fw_civil_ok(y, mo, d, hh, mi, ss))
			return -1;
		r += 9;
		uint32_t ns = 0;
		if (r < e && *r == '.') {
			r++;
			uint32_t scale = 100000000;
			while (r < e && *r >= '0' && *r <= '9') {
				ns += (uint32_t)(*r - '0') * scale;
				scale /= 10;
				r++;
			}
		}
		int64_t local = ld_time_from_civil(y, mo, d, hh, mi, ss, 0) / LD_NS_PER_SEC;
		asa_cur c = {r, e};
		if (c.p < c.e && *c.p == ':')
			c.p++;
		fw_span w = cur_tok(&c, ":");
		int32_t off;
		if (w.n && ld_tz_abbr_offset(w.p, w.n, &off)) {
			*ts = (local - off) * LD_NS_PER_SEC + ns;
			cur_lit(&c, ":");
			w = cur_tok(&c, ":");
		} else {
			*ts = fw_local_to_utc_ns(&st->opts, &st->fw, local) + ns;
		}
		if (w.n && w.p[0] != '%')
			*host = w;
		return 1;
	}
	return 0;
}

/* --- FTD connection events: "Key: Value, Key: Value, ..." -------------------------------- */

static bool ftd_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == ' ' || c == '_';
}

typedef struct ftd_fields {
	fw_span action, sip, dip, sport, dport, proto, rule;
} ftd_fields;

/* One pass over "Key: Value, Key: Value, ..."; values may contain ", " so a value ends only at
 * ", <Key>: ". */
static void ftd_scan(const char *p, const char *e, ftd_fields *f)
{
	const char *q = p;
	for (int guard = 0; guard < 256 && q < e; guard++) {
		const char *colon = NULL;
		for (const char *k = q; k < e && k - q < 64; k++) {
			if (*k == ':') {
				colon = k;
				break;
			}
			if (!ftd_key_char(*k))
				break;
		}
		if (!colon)
			return;
		const char *vs = colon + 1;
		if (vs < e && *vs == ' ')
			vs++;
		const char *ve = e, *next = e;
		for (const char *k = vs; k + 1 < e; k++) {
			k = memchr(k, ',', (size_t)(e - k));
			if (!k || k + 1 >= e)
				break;
			if (k[1] != ' ')
				continue;
			const char *m = k + 2;
			while (m < e && m - k < 66 && ftd_key_char(*m))
				m++;
			if (m < e && *m == ':' && m > k + 2) {
				ve = k;
				next = k + 2;
				break;
			}
		}
		fw_span key = {q, (size_t)(colon - q)}, val = fw_trim((fw_span){vs, (size_t)(ve - vs)});
		fw_span *slot = NULL;
		if (fw_eq(key, "AccessControlRuleAction"))
			slot = &f->action;
		else if (fw_eq(key, "SrcIP"))
			slot = &f->sip;
		else if (fw_eq(key, "DstIP"))
			slot = &f->dip;
		else if (fw_eq(key, "SrcPort"))
			slot = &f->sport;
		else if (fw_eq(key, "DstPort"))
			slot = &f->dport;
		else if (fw_eq(key, "Protocol"))
			slot = &f->proto;
		else if (fw_eq(key, "AccessControlRuleName"))
			slot = &f->rule;
		if (slot && !slot->p)
			*slot = val;
		q = next;
	}
}

static int asa_ftd_conn(const char *p, const char *e, ld_record *out, uint8_t *reason)
{
	ftd_fields f;
	memset(&f, 0, sizeof f);
	ftd_scan(p, e, &f);
	if (!f.action.p || !f.sip.p || !f.dip.p) {
		*reason = LD_REJ_TRUNCATED;
		return LD_PARSE_REJECT;
	}
	if (!fw_addr(f.sip, &out->src) || !fw_addr(f.dip, &out->dst)) {
		*reason = LD_REJ_BAD_ADDRESS;
		return LD_PARSE_REJECT;
	}
	if (f.proto.p) {
		int pr = fw_proto(f.proto);
		if (pr >= 0)
			out->proto = (uint8_t)pr;
	}
	if (f.sport.p && f.dport.p) {
		if (!fw_port(f.sport, &out->sport) || !fw_port(f.dport, &out->dport)) {
			*reason = LD_REJ_BAD_PORT;
			return LD_PARSE_REJECT;
		}
		out->present |= LD_RF_PORTS;
	}
	if (f.rule.p)
		out->rule = fw_str(f.rule);
	fw_span act = f.action;
	if (fw_ieq(act, "Block with reset") || fw_ieq(act, "Interactive Block with reset")) {
		out->action = LD_ACTION_REJECT;
		return LD_PARSE_DROP;
	}
	if (fw_ieq(act, "Block") || fw_ieq(act, "Interactive Block")) {
		out->action = LD_ACTION_DROP;
		return LD_PARSE_DROP;
	}
	out->action = fw_ieq(act, "Allow") || fw_ieq(act, "Trust") ? LD_ACTION_ALLOW
								    : LD_ACTION_OTHER;
	return LD_PARSE_NOT_DROP;
}

/* --- LINA deny messages ------------------------------------------------------------------ */

/* "from A/p to B/q" (106001/106006/106007/106015) or with interfaces (419001). */
static int asa_from_to(asa_cur *c, bool has_if, ld_record *out)
{
	if (!cur_lit(c, "from"))
		return LD_REJ_TRUNCATED;
	fw_span a = cur_tok(c, ",");
	if (!cur_lit(c, "to"))
		return LD_REJ_TRUNCATED;
	fw_span b = cur_tok(c, ",");
	if (!a.n || !b.n)
		return LD_REJ_TRUNCATED;
	bool ps, pd;
	int r = asa_endpoints(a, has_if, b, has_if, out, &ps, &pd);
	if (r)
		return r;
	if (ps != pd)
		return LD_REJ_BAD_FIELD;
	if (ps)
		out->present |= LD_RF_PORTS;
	return LD_REJ_NONE;
}

static int asa_106023(asa_cur *c, ld_record *out)
{
	int pr = asa_proto(c);
	if (pr < 0)
		return LD_REJ_BAD_FIELD;
	out->proto = (uint8_t)pr;
	if (!cur_lit(c, "src"))
		return LD_REJ_TRUNCATED;
	fw_span a = cur_tok(c, "(");
	if (cur_lit(c, "(")) /* (user/sgt) */
		while (c->p < c->e && *c->p != ')')
			c->p++;
	cur_lit(c, ")");
	if (!cur_lit(c, "dst"))
		return LD_REJ_TRUNCATED;
	fw_span b = cur_tok(c, "(");
	bool ps, pd;
	int r = asa_endpoints(a, true, b, true, out, &ps, &pd);
	if (r)
		return r;
	if (ps && pd)
		out->present |= LD_RF_PORTS;
	const char *by = fw_find(c->p, (size_t)(c->e - c->p), "by access-group \"");
	if (!by)
		return LD_REJ_TRUNCATED;
	const char *q = by + 17;
	const char *qe = memchr(q, '"', (size_t)(c->e - q));
	if (!qe)
		return LD_REJ_TRUNCATED;
	out->rule.ptr = q;
	out->rule.len = (uint32_t)(qe - q);
	return LD_REJ_NONE;
}

/* 106100: "access-list ACL denied tcp if/src(sport) [(user)] -> if/dst(dport) hit-cnt ..." */
static int asa_106100(asa_cur *c, ld_record *out, bool *denied)
{
	fw_span acl = cur_tok(c, "");
	fw_span verdict = cur_tok(c, "");
	if (!acl.n || !verdict.n)
		return LD_REJ_TRUNCATED;
	out->rule = fw_str(acl);
	*denied = fw_eq(verdict, "denied");
	if (!*denied && !fw_eq(verdict, "permitted") && !fw_eq(verdict, "est-allowed"))
		return LD_REJ_BAD_FIELD;
	int pr = asa_proto(c);
	if (pr < 0)
		return LD_REJ_BAD_FIELD;
	out->proto = (uint8_t)pr;
	ld_addr *addr[2] = {&out->src, &out->dst};
	uint16_t *port[2] = {&out->sport, &out->dport};
	for (int i = 0; i < 2; i++) {
		if (i == 1) {
			if (cur_lit(c, "(")) /* (user) */
				while (c->p < c->e && *c->p != ')')
					c->p++;
			cur_lit(c, ")");
			if (!cur_lit(c, "->"))
				return LD_REJ_TRUNCATED;
		}
		fw_span t = cur_tok(c, "");
		const char *slash = memchr(t.p, '/', t.n);
		const char *lp = t.n ? memchr(t.p, '(', t.n) : NULL;
		if (!slash || !lp || lp < slash || t.p[t.n - 1] != ')')
			return LD_REJ_TRUNCATED;
		fw_span as = {slash + 1, (size_t)(lp - slash - 1)};
		fw_span ps = {lp + 1, (size_t)(t.p + t.n - 1 - lp - 1)};
		if (!fw_addr(as, addr[i]))
			return LD_REJ_BAD_ADDRESS;
		if (!fw_port(ps, port[i]))
			return LD_REJ_BAD_PORT;
	}
	out->present |= LD_RF_PORTS;
	if (!fw_find(c->p, (size_t)(c->e - c->p), "hit-cnt"))
		return LD_REJ_TRUNCATED;
	return LD_REJ_NONE;
}

static int asa_body(long id, asa_cur *c, ld_record *out, bool *drop)
{
	int pr;
	fw_span w;
	*drop = true;
	switch (id) {
	case 106001: /* Inbound TCP connection denied from A/p to B/q flags F on interface X */
		if (!cur_lit(c, "Inbound TCP connection denied"))
			return LD_REJ_BAD_FIELD;
		out->proto = 6;
		out->dir = LD_DIR_IN;
		pr = asa_from_to(c, false, out);
		if (pr)
			return pr;
		if (cur_lit(c, "flags")) {
			out->tcp_flags = asa_flags(c);
			out->present |= LD_RF_TCPFLAGS;
		}
		return cur_lit(c, "on interface") ? LD_REJ_NONE : LD_REJ_TRUNCATED;
	case 106006: /* Deny inbound UDP from A/p to B/q on interface X */
	case 106007: /* ... due to DNS Query */
		if (!cur_lit(c, "Deny inbound"))
			return LD_REJ_BAD_FIELD;
		pr = asa_proto(c);
		if (pr < 0)
			return LD_REJ_BAD_FIELD;
		out->proto = (uint8_t)pr;
		out->dir = LD_DIR_IN;
		pr = asa_from_to(c, false, out);
		if (pr)
			return pr;
		return cur_lit(c, "on interface") || cur_lit(c, "due to") ? LD_REJ_NONE
									  : LD_REJ_TRUNCATED;
	case 106014: /* Deny inbound icmp src if:A dst if:B (type t, code c) */
		if (!cur_lit(c, "Deny inbound"))
			return LD_REJ_BAD_FIELD;
		/* fall through */
	case 106015: /* Deny TCP (no connection) from A/p to B/q flags F  on interface X */
	case 106021: /* Deny P reverse path check from A to B on interface X */
	case 106023:
		if (id != 106014 && !cur_lit(c, "Deny"))
			return LD_REJ_BAD_FIELD;
		if (id == 106023)
			return asa_106023(c, out);
		pr = asa_proto(c);
		if (pr < 0)
			return LD_REJ_BAD_FIELD;
		out->proto = (uint8_t)pr;
		if (id == 106014) {
			out->dir = LD_DIR_IN;
			if (!cur_lit(c, "src"))
				return LD_REJ_TRUNCATED;
			fw_span a = cur_tok(c, "(");
			if (!cur_lit(c, "dst"))
				return LD_REJ_TRUNCATED;
			fw_span b = cur_tok(c, "(");
			if (!b.n || !asa_if_addr(a, &out->src) || !asa_if_addr(b, &out->dst))
				return b.n ? LD_REJ_BAD_ADDRESS : LD_REJ_TRUNCATED;
			return LD_REJ_NONE;
		}
		if (id == 106015 && !cur_lit(c, "(no connection)"))
			return LD_REJ_BAD_FIELD;
		if (id == 106021 && !cur_lit(c, "reverse path check"))
			return LD_REJ_BAD_FIELD;
		pr = asa_from_to(c, false, out);
		if (pr)
			return pr;
		if (cur_lit(c, "flags")) {
			out->tcp_flags = asa_flags(c);
			out->present |= LD_RF_TCPFLAGS;
		}
		return cur_lit(c, "on interface") ? LD_REJ_NONE : LD_REJ_TRUNCATED;
	case 106100: {
		if (!cur_lit(c, "access-list"))
			return LD_REJ_BAD_FIELD;
		bool denied = false;
		pr = asa_106100(c, out, &denied);
		*drop = denied;
		return pr;
	}
	case 313001: /* Denied ICMP type=t, code=c from A on interface X */
	case 313008: /* Denied IPv6-ICMP type=t, code=c from A on interface X */
		if (!cur_lit(c, "Denied"))
			return LD_REJ_BAD_FIELD;
		w = cur_tok(c, "");
		out->proto = id == 313008 || fw_ieq(w, "IPv6-ICMP") || fw_ieq(w, "ICMPv6") ? 58 : 1;
		if (!cur_tok(c, "").n || !cur_tok(c, "").n || !cur_lit(c, "from"))
			return LD_REJ_TRUNCATED;
		w = cur_tok(c, "");
		if (!w.n)
			return LD_REJ_TRUNCATED;
		if (!fw_addr(w, &out->src))
			return LD_REJ_BAD_ADDRESS;
		/* the target is the firewall's own interface, which the message does not name: the
		 * unspecified address of the source's family (0.0.0.0 or ::) */
		if (ld_addr_is_v4(&out->src))
			ld_addr_from_v4(&out->dst, 0);
		out->dir = LD_DIR_IN;
		return cur_lit(c, "on interface") ? LD_REJ_NONE : LD_REJ_TRUNCATED;
	case 419001: /* Dropping TCP packet from if:A/p to if:B/q, reason: ... */
		if (!cur_lit(c, "Dropping"))
			return LD_REJ_BAD_FIELD;
		pr = asa_proto(c);
		if (pr < 0 || !cur_lit(c, "packet"))
			return LD_REJ_BAD_FIELD;
		out->proto = (uint8_t)pr;
		return asa_from_to(c, true, out);
	case 710003: /* {TCP|UDP} access denied by ACL from A/p to if:B/port */
		pr = asa_proto(c);
		if (pr < 0 || !cur_lit(c, "access denied by ACL"))
			return LD_REJ_BAD_FIELD;
		out->proto = (uint8_t)pr;
		out->dir = LD_DIR_IN;
		if (!cur_lit(c, "from"))
			return LD_REJ_TRUNCATED;
		{
			fw_span a = cur_tok(c, "");
			if (!cur_lit(c, "to"))
				return LD_REJ_TRUNCATED;
			fw_span b = cur_tok(c, "");
			bool ps, pd;
			int r = asa_endpoints(a, false, b, true, out, &ps, &pd);
			if (r)
				return r;
			if (ps && pd)
				out->present |= LD_RF_PORTS;
		}
		return LD_REJ_NONE;
	default:
		return LD_REJ_UNRECOGNISED;
	}
}

bool ld_sig_asa(const ld_syslog_hdr *h)
{
	const char *t, *b;
	if (h->tag.len > 5 && h->tag.ptr[0] == '%') {
		/* the header took "%ASA-2-106006" as its TAG (relay repeat lines): re-check it with
		 * the colon the header stripped */
		char buf[48];
		size_t n = h->tag.len < sizeof buf - 2 ? h->tag.len : sizeof buf - 2;
		memcpy(buf, h->tag.ptr, n);
		buf[n] = ':';
		if (asa_find_tag(buf, n + 1, &t, &b) >= 0)
			return true;
	}
	return h->msg && asa_find_tag(h->msg, h->msg_len, &t, &b) >= 0;
}

static bool asa_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

/* A bare host name right before the tag ("LOCAL4.WARNING: fw-1 %ASA-..."), when nothing else
 * named the reporter. */
static fw_span asa_host_before(const char *from, const char *tag)
{
	const char *e = tag;
	while (e > from && e[-1] == ' ')
		e--;
	const char *s = e;
	while (s > from && asa_host_char(s[-1]))
		s--;
	if (s == e || (s > from && s[-1] != ' '))
		return (fw_span){NULL, 0};
	return (fw_span){s, (size_t)(e - s)};
}

int ld_parse_asa(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		 ld_record *out, uint8_t *reason)
{
	const char *e = line + len;
	const char *tag, *body;
	out->format = LD_FMT_ASA;
	long id = asa_find_tag(line, len, &tag, &body);
	if (id < 0) {
		*reason = LD_REJ_UNRECOGNISED;
		return LD_PARSE_REJECT;
	}
	/* Relay repeat compression: "message repeated N times: [ <text>]". */
	asa_cur c = {body, e};
	while (c.e > c.p && (c.e[-1] == ' ' || c.e[-1] == '\r' || c.e[-1] == '"'))
		c.e--; /* trailing stray quote seen in the wild */
	if (cur_lit(&c, "message repeated")) {
		const char *lb = memchr(c.p, '[', (size_t)(c.e - c.p));
		if (!lb || c.e[-1] != ']') {
			*reason = LD_REJ_TRUNCATED;
			return LD_PARSE_REJECT;
		}
		c.p = lb + 1;
		c.e--;
	}

	fw_span host = {NULL, 0};
	int64_t ts;
	int own = asa_own_time(st, line, tag, &ts, &host);
	if (own < 0) {
		*reason = LD_REJ_BAD_TIME;
		return LD_PARSE_REJECT;
	}
	if (own == 0)
		ts = fw_line_time(&st->opts, h, line, len);
	if (!host.n && !h->host.len && h->msg && h->msg >= line && h->msg < tag)
		host = asa_host_before(h->msg, tag);
	out->ts_ns = ts;
	out->reporter = host.n ? fw_str(host) : fw_reporter(&st->opts, h);

	if (id == 430002 || id == 430003)
		return asa_ftd_conn(c.p, c.e, out, reason);
	bool drop = true;
	int rc = asa_body(id, &c, out, &drop);
	if (rc == LD_REJ_UNRECOGNISED)
		return LD_PARSE_SKIP; /* a well-formed ASA message that is no verdict (302013...) */
	if (rc) {
		*reason = (uint8_t)rc;
		return LD_PARSE_REJECT;
	}
	if (drop) {
		out->action = LD_ACTION_DROP;
		return LD_PARSE_DROP;
	}
	out->action = LD_ACTION_ALLOW;
	return LD_PARSE_NOT_DROP;
}
