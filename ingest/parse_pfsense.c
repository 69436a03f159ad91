/* parse_pfsense.c — pfSense / OPNsense filterlog CSV (formats.md §6b).
 *
 * Common head: rule,subrule,anchor,tracker,iface,reason,action,dir,ipver.  The IPv4 and IPv6
 * layouts differ in length AND in the order of the protocol text and number (v4: id,text;
 * v6: text,id), so the column map is chosen by the ipver column, never guessed.
 */
#include "fw_scan.h"
#include "parse_state.h"
#include "parse_util.h"

#define PF_COLS 32

enum pf_col {
	PF_RULE = 0,
	PF_TRACKER = 3,
	PF_IFACE = 4,
	PF_ACTION = 6,
	PF_DIR = 7,
	PF_IPVER = 8,
};

typedef struct pf_layout {
	uint8_t protoid, length, src, dst, tail;
} pf_layout;

static const pf_layout pf_v4 = {15, 17, 18, 19, 20};
static const pf_layout pf_v6 = {13, 14, 15, 16, 17};

static size_t pf_split(const char *p, const char *e, fw_span *col)
{
	size_t n = 0;
	while (n < PF_COLS) {
		const char *c = p;
		while (c < e && *c != ',') /* fields are short: a loop beats memchr calls */
			c++;
		col[n].p = p;
		col[n].n = (size_t)(c - p);
		n++;
		if (c >= e)
			break;
		p = c + 1;
	}
	return n;
}

/* The CSV body: the header's MSG when it is CSV, else the first space-free token with at least
 * eight commas after the "filterlog" tag. */
static const char *pf_body(const ld_syslog_hdr *h, const char *line, size_t len, const char **end)
{
	const char *e = line + len;
	*end = e;
	if (h->msg && h->msg >= line && h->msg < e && lp_is_digit(h->msg[0])) {
		const char *c = memchr(h->msg, ',', (size_t)(e - h->msg));
		if (c && c - h->msg < 8)
			return h->msg;
	}
	const char *t = fw_find(line, len, "filterlog");
	if (!t)
		return NULL;
	for (const char *p = t; p < e;) {
		while (p < e && *p == ' ')
			p++;
		const char *s = p;
		unsigned commas = 0;
		while (p < e && *p != ' ')
			commas += *p++ == ',';
		if (commas >= 8 && lp_is_digit(*s))
			return s;
	}
	return NULL;
}

bool ld_sig_pfsense(const ld_syslog_hdr *h)
{
	if (h->tag.len == 9 && memcmp(h->tag.ptr, "filterlog", 9) == 0)
		return true;
	size_t n = h->msg_len < 160 ? h->msg_len : 160;
	return h->msg && fw_find(h->msg, n, "filterlog") != NULL;
}

int ld_parse_pfsense(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		     ld_record *out, uint8_t *reason)
{
	out->format = LD_FMT_PFSENSE;
	const char *e;
	const char *body = pf_body(h, line, len, &e);
	if (!body) {
		*reason = LD_REJ_UNRECOGNISED;
		return LD_PARSE_REJECT;
	}
	fw_span col[PF_COLS];
	size_t n = pf_split(body, e, col);
	if (n <= PF_IPVER) {
		*reason = LD_REJ_TRUNCATED;
		return LD_PARSE_REJECT;
	}
	const pf_layout *L;
	if (fw_eq(col[PF_IPVER], "4"))
		L = &pf_v4;
	else if (fw_eq(col[PF_IPVER], "6"))
		L = &pf_v6;
	else {
		*reason = LD_REJ_BAD_FIELD;
		return LD_PARSE_REJECT;
	}
	if (n <= L->dst) {
		*reason = LD_REJ_TRUNCATED;
		return LD_PARSE_REJECT;
	}
	uint64_t v;
	if (!fw_uint(col[L->protoid].p, col[L->protoid].n, 255, &v)) {
		*reason = LD_REJ_BAD_FIELD;
		return LD_PARSE_REJECT;
	}
	out->proto = (uint8_t)v;
	if (!lp_addr(col[L->src].p, col[L->src].n, &out->src) ||
	    !lp_addr(col[L->dst].p, col[L->dst].n, &out->dst)) {
		*reason = LD_REJ_BAD_ADDRESS;
		return LD_PARSE_REJECT;
	}
	if (fw_uint(col[L->length].p, col[L->length].n, UINT32_MAX, &v)) {
		out->len = (uint32_t)v;
		out->present |= LD_RF_LEN;
	}
	if (out->proto == 6 || out->proto == 17 || out->proto == 132 || out->proto == 136) {
		if (n <= (size_t)L->tail + 1) {
			*reason = LD_REJ_TRUNCATED;
			return LD_PARSE_REJECT;
		}
		if (!fw_port(col[L->tail], &out->sport) || !fw_port(col[L->tail + 1], &out->dport)) {
			*reason = LD_REJ_BAD_PORT;
			return LD_PARSE_REJECT;
		}
		out->present |= LD_RF_PORTS;
		if (out->proto == 6 && n > (size_t)L->tail + 3 && col[L->tail + 3].n) {
			int fl = ld_tcp_flags_parse(col[L->tail + 3].p, col[L->tail + 3].n);
			if (fl >= 0) {
				out->tcp_flags = (uint8_t)fl;
				out->present |= LD_RF_TCPFLAGS;
			}
		}
	}
	out->ts_ns = fw_header_time(&st->opts, h);
	out->reporter = fw_reporter(&st->opts, h);
	out->rule = fw_str(col[PF_RULE]);
	if (fw_eq(col[PF_DIR], "in"))
		out->dir = LD_DIR_IN;
	else if (fw_eq(col[PF_DIR], "out"))
		out->dir = LD_DIR_OUT;

	fw_span a = col[PF_ACTION];
	if (fw_eq(a, "block")) {
		out->action = LD_ACTION_DROP;
		return LD_PARSE_DROP;
	}
	if (fw_eq(a, "reject")) {
		out->action = LD_ACTION_REJECT;
		return LD_PARSE_DROP;
	}
	if (fw_eq(a, "pass")) {
		out->action = LD_ACTION_ALLOW;
		return LD_PARSE_NOT_DROP;
	}
	if (fw_eq(a, "match") || fw_eq(a, "scrub") || fw_eq(a, "nat") || fw_eq(a, "rdr") ||
	    fw_eq(a, "binat")) {
		out->action = LD_ACTION_OTHER;
		return LD_PARSE_NOT_DROP;
	}
	*reason = LD_REJ_BAD_FIELD;
	return LD_PARSE_REJECT;
}
