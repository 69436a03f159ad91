/* parse_panos.c — Palo Alto PAN-OS TRAFFIC log CSV (formats.md §5).
 *
 * Columns are addressed by index from the start (0-74 are stable across versions; newer versions
 * only append), so a missing tail reads as empty fields.  Fields may be double-quoted with commas
 * inside ("block, vdi lateral"); the splitter honours quotes and "" escapes.  Other PAN-OS log
 * types (THREAT, SYSTEM, CONFIG...) are skipped, not rejected: they are valid lines of a PAN-OS
 * stream, just not traffic verdicts.
 */
#include "fw_scan.h"
#include "parse_state.h"
#include "parse_util.h"

/* Columns 0-74 are the stable layout; the parser needs none after the destination VM UUID (55),
 * so splitting stops there. */
#define PAN_COLS 56

enum pan_col {
	PAN_RECEIVE_TIME = 1,
	PAN_TYPE = 3,
	PAN_SUBTYPE = 4,
	PAN_GEN_TIME = 6,
	PAN_SRC = 7,
	PAN_DST = 8,
	PAN_RULE = 11,
	PAN_SPORT = 24,
	PAN_DPORT = 25,
	PAN_PROTO = 29,
	PAN_ACTION = 30,
	PAN_BYTES = 31,
	PAN_DEVICE = 52,
	PAN_SRC_VM = 54,
	PAN_DST_VM = 55,
};

/* Split up to PAN_COLS CSV fields; returns the count.  Quoted fields are returned without their
 * quotes.  An unterminated quote runs to the end of the line. */
static size_t pan_split(const char *p, const char *e, fw_span *col)
{
	size_t n = 0;
	while (n < PAN_COLS) {
		if (p < e && *p == '"') {
			const char *s = ++p;
			while (p < e) {
				if (*p == '"') {
					if (p + 1 < e && p[1] == '"') {
						p += 2;
						continue;
					}
					break;
				}
				p++;
			}
			col[n].p = s;
			col[n].n = (size_t)(p - s);
			n++;
			if (p < e)
				p++; /* closing quote */
			while (p < e && *p != ',')
				p++; /* junk after the quote is ignored */
		} else {
			const char *s = p;
			while (p < e && *p != ',') /* fields are short: a loop beats memchr calls */
				p++;
			col[n].p = s;
			col[n].n = (size_t)(p - s);
			n++;
		}
		if (p >= e)
			break;
		p++; /* the comma */
	}
	return n;
}

/* Start of the CSV body: "1,YYYY/MM/DD hh:mm:ss,serial,TYPE,..." — in the header's MSG when the
 * header parser split it right, otherwise found from the ",TYPE," landmark. */
static const char *pan_body(const ld_syslog_hdr *h, const char *line, size_t len)
{
	const char *m = h->msg;
	size_t n = h->msg_len;
	if (m && n > 24 && lp_is_digit(m[0])) {
		const char *c = memchr(m, ',', n < 8 ? n : 8);
		if (c && (size_t)(m + n - c) > 20 && lp_is_digit(c[1]) && c[5] == '/')
			return m;
	}
	/* Walk back from the receive time "YYYY/MM/DD" preceded by "<digits>,". */
	const char *e = line + len;
	for (const char *q = line; q && q + 12 < e; q = memchr(q + 1, ',', (size_t)(e - q - 1))) {
		if (*q != ',' || !lp_is_digit(q[1]) || q[5] != '/' || q[8] != '/')
			continue;
		const char *s = q;
		while (s > line && lp_is_digit(s[-1]))
			s--;
		if (s < q && (s == line || s[-1] == ' ' || s[-1] == '>'))
			return s;
	}
	return NULL;
}

bool ld_sig_panos(const ld_syslog_hdr *h)
{
	const char *m = h->msg;
	size_t n = h->msg_len;
	if (!m || n < 40 || !lp_is_digit(m[0]))
		return false;
	const char *c = memchr(m, ',', n < 8 ? n : 8);
	if (!c || !lp_is_digit(c[1]) || c[5] != '/' || c[8] != '/')
		return false;
	/* ",<serial>,<TYPE>," within the next bytes */
	const char *s = memchr(c + 1, ',', (size_t)(m + n - c - 1));
	if (!s)
		return false;
	s = memchr(s + 1, ',', (size_t)(m + n - s - 1));
	if (!s || m + n - s < 6)
		return false;
	return s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z';
}

/* PAN-OS writes device-local time without zone.  With a configured zone or offset, that wins.
 * Without one, a header stamp with a real offset (IETF header "...+02:00") tells the device's
 * offset: the generated time minus the header time, when it is a whole quarter hour (±2 min of
 * logging delay).  A BSD header gives offset 0, the same as no header. */
static bool pan_time(ld_parse_state *st, const ld_syslog_hdr *h, fw_span t, int64_t *ts)
{
	int64_t local;
	if (t.n != 19 || t.p[4] != '/' || t.p[7] != '/' || t.p[10] != ' ')
		return false;
	if (!fw_civil19(t.p, t.n, &local))
		return false;
	const ld_parse_opts *o = &st->opts;
	bool configured = (o->local_tz && *o->local_tz) || o->local_tz_offset_s;
	if (!configured && h->ts_ns != LD_TIME_NONE && h->ts_ns != INT64_MIN + 1) {
		int64_t hdr_s = h->ts_ns / LD_NS_PER_SEC;
		int64_t diff = local - hdr_s;
		int64_t q = (diff >= 0 ? diff + 450 : diff - 450) / 900 * 900;
		if (q >= -14 * 3600 && q <= 14 * 3600 && diff - q >= -120 && diff - q <= 120) {
			*ts = (local - q) * LD_NS_PER_SEC;
			return true;
		}
	}
	*ts = fw_local_to_utc_ns(o, &st->fw, local);
	return true;
}

int ld_parse_panos(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		   ld_record *out, uint8_t *reason)
{
	out->format = LD_FMT_PANOS;
	const char *body = pan_body(h, line, len);
	if (!body) {
		*reason = LD_REJ_UNRECOGNISED;
		return LD_PARSE_REJECT;
	}
	fw_span col[PAN_COLS];
	size_t n = pan_split(body, line + len, col);
	if (n <= PAN_TYPE) {
		*reason = LD_REJ_TRUNCATED;
		return LD_PARSE_REJECT;
	}
	if (!fw_eq(col[PAN_TYPE], "TRAFFIC"))
		return LD_PARSE_SKIP;
	if (n <= PAN_DST) {
		*reason = LD_REJ_TRUNCATED;
		return LD_PARSE_REJECT;
	}
	for (size_t i = n; i < PAN_COLS; i++)
		col[i] = (fw_span){"", 0};

	if (!pan_time(st, h, col[PAN_GEN_TIME], &out->ts_ns)) {
		/* receive time as second choice, then the header */
		if (col[PAN_GEN_TIME].n || !pan_time(st, h, col[PAN_RECEIVE_TIME], &out->ts_ns)) {
			if (col[PAN_GEN_TIME].n) {
				*reason = LD_REJ_BAD_TIME;
				return LD_PARSE_REJECT;
			}
			out->ts_ns = fw_header_time(&st->opts, h);
		}
	}
	if (!lp_addr(col[PAN_SRC].p, col[PAN_SRC].n, &out->src) ||
	    !lp_addr(col[PAN_DST].p, col[PAN_DST].n, &out->dst)) {
		*reason = LD_REJ_BAD_ADDRESS;
		return LD_PARSE_REJECT;
	}
	out->rule = fw_str(col[PAN_RULE]);
	if (col[PAN_SPORT].n || col[PAN_DPORT].n) {
		if (!fw_port(col[PAN_SPORT], &out->sport) || !fw_port(col[PAN_DPORT], &out->dport)) {
			*reason = LD_REJ_BAD_PORT;
			return LD_PARSE_REJECT;
		}
		out->present |= LD_RF_PORTS;
	}
	if (col[PAN_PROTO].n) {
		int pr = fw_proto(col[PAN_PROTO]);
		if (pr < 0) {
			*reason = LD_REJ_BAD_FIELD;
			return LD_PARSE_REJECT;
		}
		out->proto = (uint8_t)pr;
	}
	uint64_t bytes;
	if (col[PAN_BYTES].n && fw_uint(col[PAN_BYTES].p, col[PAN_BYTES].n, UINT32_MAX, &bytes)) {
		out->len = (uint32_t)bytes;
		out->present |= LD_RF_LEN;
	}
	if (n <= PAN_ACTION)
		out->present |= LD_RF_PARTIAL;
	out->reporter = col[PAN_DEVICE].n ? fw_str(col[PAN_DEVICE]) : fw_reporter(&st->opts, h);
	if (col[PAN_SRC_VM].n)
		out->vif = fw_str(col[PAN_SRC_VM]);
	else if (col[PAN_DST_VM].n)
		out->vif = fw_str(col[PAN_DST_VM]);

	fw_span act = col[PAN_ACTION], sub = col[PAN_SUBTYPE];
	if (fw_starts(act.p, act.n, "reset-") || fw_eq(act, "reset both")) {
		out->action = LD_ACTION_REJECT;
		return LD_PARSE_DROP;
	}
	if (fw_eq(act, "deny") || fw_eq(act, "drop") || fw_eq(act, "drop-icmp") ||
	    fw_eq(act, "block") || (act.n == 0 && (fw_eq(sub, "deny") || fw_eq(sub, "drop")))) {
		out->action = LD_ACTION_DROP;
		return LD_PARSE_DROP;
	}
	if (fw_eq(sub, "deny") || fw_eq(sub, "drop")) {
		/* subtype says the session was denied even though the action column reads otherwise */
		out->action = LD_ACTION_DENY;
		return LD_PARSE_DROP;
	}
	out->action = fw_eq(act, "allow") ? LD_ACTION_ALLOW : LD_ACTION_OTHER;
	return LD_PARSE_NOT_DROP;
}
