/* parse_srx.c — Juniper SRX RT_FLOW session events (formats.md §6c).
 *
 * Structured form: RFC 5424 with MSGID = event name and an SD element of key="value" pairs
 * (order-independent; values may carry trailing spaces or curly quotes).  Plain form:
 * "RT_FLOW_SESSION_DENY: session denied A/p->B/q [0x0] service proto(icmp) policy from to ...".
 * DENY (and DENY_LS) are drops — REJECT when the text names a reject policy; CREATE/CLOSE are
 * not drops; other RT_FLOW events are skipped.
 */
#include "fw_scan.h"
#include "parse_state.h"
#include "parse_util.h"

enum srx_event { SRX_OTHER, SRX_DENY, SRX_CREATE, SRX_CLOSE };

typedef struct srx_sd {
	fw_span src, sport, dst, dport, proto, policy;
} srx_sd;

static const char LQ[] = "\xe2\x80\x9c", RQ[] = "\xe2\x80\x9d"; /* curly quotes */

/* Value opened by '"' or a curly quote at p: returns its span, trimmed; *next after the close. */
static fw_span srx_value(const char *p, const char *e, const char **next)
{
	if (p < e && *p == '"')
		p++;
	else if (e - p >= 3 && (memcmp(p, LQ, 3) == 0 || memcmp(p, RQ, 3) == 0))
		p += 3;
	const char *s = p;
	while (p < e) {
		char c = *p;
		if (c == '"')
			break;
		if (c == '\xe2' && e - p >= 3 && (memcmp(p, RQ, 3) == 0 || memcmp(p, LQ, 3) == 0))
			break;
		if (c == '\\' && p + 1 < e)
			p++;
		p++;
	}
	fw_span v = fw_trim((fw_span){s, (size_t)(p - s)});
	if (p < e)
		p += *p == '"' ? 1 : 3;
	*next = p;
	return v;
}

static void srx_sd_scan(const char *p, const char *e, srx_sd *sd)
{
	while (p < e && *p != ']') {
		while (p < e && *p == ' ')
			p++;
		const char *k = p;
		while (p < e && *p != '=' && *p != ' ' && *p != ']')
			p++;
		if (p >= e || *p != '=') {
			if (p < e && *p == ' ')
				continue;
			break;
		}
		fw_span key = {k, (size_t)(p - k)};
		fw_span v = srx_value(p + 1, e, &p);
		fw_span *slot = NULL;
		if (fw_eq(key, "source-address"))
			slot = &sd->src;
		else if (fw_eq(key, "source-port"))
			slot = &sd->sport;
		else if (fw_eq(key, "destination-address"))
			slot = &sd->dst;
		else if (fw_eq(key, "destination-port"))
			slot = &sd->dport;
		else if (fw_eq(key, "protocol-id"))
			slot = &sd->proto;
		else if (fw_eq(key, "policy-name"))
			slot = &sd->policy;
		if (slot && !slot->p)
			*slot = v;
	}
}

/* "A/p->B/q" */
static int srx_flow(fw_span t, ld_record *out)
{
	const char *arrow = fw_find(t.p, t.n, "->");
	if (!arrow)
		return LD_REJ_TRUNCATED;
	fw_span side[2] = {{t.p, (size_t)(arrow - t.p)}, {arrow + 2, (size_t)(t.p + t.n - arrow - 2)}};
	ld_addr *a[2] = {&out->src, &out->dst};
	uint16_t *pt[2] = {&out->sport, &out->dport};
	for (int i = 0; i < 2; i++) {
		const char *sl = NULL;
		for (size_t k = side[i].n; k > 0; k--)
			if (side[i].p[k - 1] == '/') {
				sl = side[i].p + k - 1;
				break;
			}
		if (!sl)
			return LD_REJ_TRUNCATED;
		fw_span as = {side[i].p, (size_t)(sl - side[i].p)};
		fw_span ps = {sl + 1, (size_t)(side[i].p + side[i].n - sl - 1)};
		if (!lp_addr(as.p, as.n, a[i]))
			return LD_REJ_BAD_ADDRESS;
		if (!fw_port(ps, pt[i]))
			return LD_REJ_BAD_PORT;
	}
	out->present |= LD_RF_PORTS;
	return LD_REJ_NONE;
}

static fw_span srx_word(const char **pp, const char *e)
{
	const char *p = *pp;
	while (p < e && *p == ' ')
		p++;
	const char *s = p;
	while (p < e && *p != ' ')
		p++;
	*pp = p;
	return (fw_span){s, (size_t)(p - s)};
}

/* Plain text body after "session denied " / "session created " / "session closed <reason>: ". */
static int srx_plain(const char *p, const char *e, ld_record *out, fw_span *policy)
{
	fw_span flow = srx_word(&p, e);
	int rc = srx_flow(flow, out);
	if (rc)
		return rc;
	fw_span w = srx_word(&p, e);
	if (fw_starts(w.p, w.n, "0x")) /* connection tag of newer releases */
		w = srx_word(&p, e);
	/* w = service name; then "proto(icmp-type)" */
	fw_span pr = srx_word(&p, e);
	const char *lp = pr.n ? memchr(pr.p, '(', pr.n) : NULL;
	if (lp)
		pr.n = (size_t)(lp - pr.p);
	int proto = fw_proto(pr);
	if (proto < 0)
		return pr.n ? LD_REJ_BAD_FIELD : LD_REJ_TRUNCATED;
	out->proto = (uint8_t)proto;
	*policy = srx_word(&p, e);
	return LD_REJ_NONE;
}

bool ld_sig_srx(const ld_syslog_hdr *h)
{
	if (h->msgid.len >= 7 && memcmp(h->msgid.ptr, "RT_FLOW", 7) == 0)
		return true;
	if (h->tag.len >= 7 && memcmp(h->tag.ptr, "RT_FLOW", 7) == 0)
		return true;
	size_t n = h->msg_len < 64 ? h->msg_len : 64;
	return h->msg && fw_find(h->msg, n, "RT_FLOW_") != NULL;
}

int ld_parse_srx(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		 ld_record *out, uint8_t *reason)
{
	out->format = LD_FMT_SRX;
	const char *e = line + len;
	const char *ev = fw_find(line, len, "RT_FLOW_SESSION_");
	if (!ev) {
		if (fw_find(line, len, "RT_FLOW"))
			return LD_PARSE_SKIP; /* another RT_FLOW event (ALG, policy match...) */
		*reason = LD_REJ_UNRECOGNISED;
		return LD_PARSE_REJECT;
	}
	const char *p = ev + 16;
	enum srx_event kind = SRX_OTHER;
	if (fw_starts(p, (size_t)(e - p), "DENY"))
		kind = SRX_DENY;
	else if (fw_starts(p, (size_t)(e - p), "CREATE"))
		kind = SRX_CREATE;
	else if (fw_starts(p, (size_t)(e - p), "CLOSE"))
		kind = SRX_CLOSE;
	if (kind == SRX_OTHER)
		return LD_PARSE_SKIP;
	while (p < e && *p != ' ' && *p != ':' && *p != '[')
		p++; /* rest of the event name (_LS...) */

	out->ts_ns = fw_line_time(&st->opts, h, line, len);
	out->reporter = fw_reporter(&st->opts, h);
	fw_span policy = {"", 0};
	int rc;
	const char *sd = memchr(p, '[', (size_t)(e - p));
	const char *colon = memchr(p, ':', (size_t)(e - p) < 4 ? (size_t)(e - p) : 4);
	if (sd && !colon) {
		srx_sd f;
		memset(&f, 0, sizeof f);
		srx_sd_scan(sd + 1, e, &f);
		if (!f.src.p || !f.dst.p) {
			*reason = LD_REJ_TRUNCATED;
			return LD_PARSE_REJECT;
		}
		if (!lp_addr(f.src.p, f.src.n, &out->src) || !lp_addr(f.dst.p, f.dst.n, &out->dst)) {
			*reason = LD_REJ_BAD_ADDRESS;
			return LD_PARSE_REJECT;
		}
		if (f.proto.p) {
			int pr = fw_proto(f.proto);
			if (pr < 0) {
				*reason = LD_REJ_BAD_FIELD;
				return LD_PARSE_REJECT;
			}
			out->proto = (uint8_t)pr;
		}
		if (f.sport.p && f.dport.p) {
			if (!fw_port(f.sport, &out->sport) || !fw_port(f.dport, &out->dport)) {
				*reason = LD_REJ_BAD_PORT;
				return LD_PARSE_REJECT;
			}
			out->present |= LD_RF_PORTS;
		}
		if (f.policy.p)
			policy = f.policy;
		rc = LD_REJ_NONE;
	} else {
		const char *body;
		if (kind == SRX_DENY) {
			body = fw_find(p, (size_t)(e - p), "session denied ");
			if (body)
				body += 15;
		} else {
			/* "session created A/p->B/q ..." / "session closed <reason>: A/p->B/q ..."; the
			 * columns after the flow differ across releases, only the flow is used. */
			body = fw_find(p, (size_t)(e - p), "->");
			while (body && body > p && body[-1] != ' ')
				body--;
		}
		if (!body) {
			*reason = LD_REJ_TRUNCATED;
			return LD_PARSE_REJECT;
		}
		rc = kind == SRX_DENY ? srx_plain(body, e, out, &policy)
				      : srx_flow(srx_word(&body, e), out);
	}
	if (rc) {
		*reason = (uint8_t)rc;
		return LD_PARSE_REJECT;
	}
	if (out->proto == 1 || out->proto == 58) {
		/* SRX writes the ICMP type where a port would be: not a port */
		out->sport = out->dport = 0;
		out->present &= (uint8_t)~LD_RF_PORTS;
	}
	out->rule = fw_str(policy);
	if (kind != SRX_DENY) {
		out->action = LD_ACTION_ALLOW;
		return LD_PARSE_NOT_DROP;
	}
	const char *tail = e - (e - line > 48 ? 48 : e - line);
	out->action = fw_find(tail, (size_t)(e - tail), "policy reject") ? LD_ACTION_REJECT
									  : LD_ACTION_DROP;
	return LD_PARSE_DROP;
}
