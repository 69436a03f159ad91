/* parse_winfw.c — Windows Defender Firewall pfirewall.log (formats.md §7).
 *
 * W3C-like: "#Fields:" names the space-separated columns and may recur mid-file (after a restart,
 * possibly with a different column set), so the map lives in the stream state.  Data before any
 * #Fields line uses the documented default layout chosen by column count (17 without pid, 18 with).
 * "-" is an empty field.  Times are local wall-clock without offset: converted with the configured
 * zone.  The file is per host, so the reporter is --reporter (or the syslog host if shipped).
 */
#include "fw_scan.h"
#include "parse_state.h"
#include "parse_util.h"

static const struct {
	const char *name;
	uint8_t col;
} wf_names[] = {
	{"date", LD_WF_COL_DATE},	  {"time", LD_WF_COL_TIME},
	{"action", LD_WF_COL_ACTION},	  {"protocol", LD_WF_COL_PROTOCOL},
	{"src-ip", LD_WF_COL_SRC_IP},	  {"dst-ip", LD_WF_COL_DST_IP},
	{"src-port", LD_WF_COL_SRC_PORT}, {"dst-port", LD_WF_COL_DST_PORT},
	{"size", LD_WF_COL_SIZE},	  {"tcpflags", LD_WF_COL_TCPFLAGS},
	{"tcpsyn", LD_WF_COL_TCPSYN},	  {"tcpack", LD_WF_COL_TCPACK},
	{"tcpwin", LD_WF_COL_TCPWIN},	  {"icmptype", LD_WF_COL_ICMPTYPE},
	{"icmpcode", LD_WF_COL_ICMPCODE}, {"info", LD_WF_COL_INFO},
	{"path", LD_WF_COL_PATH},	  {"pid", LD_WF_COL_PID},
};

/* Default layout (Windows 10/11 order); the first 17 columns are the older layout. */
static const uint8_t wf_default[18] = {
	LD_WF_COL_DATE,	    LD_WF_COL_TIME,	LD_WF_COL_ACTION,   LD_WF_COL_PROTOCOL,
	LD_WF_COL_SRC_IP,   LD_WF_COL_DST_IP,	LD_WF_COL_SRC_PORT, LD_WF_COL_DST_PORT,
	LD_WF_COL_SIZE,	    LD_WF_COL_TCPFLAGS, LD_WF_COL_TCPSYN,   LD_WF_COL_TCPACK,
	LD_WF_COL_TCPWIN,   LD_WF_COL_ICMPTYPE, LD_WF_COL_ICMPCODE, LD_WF_COL_INFO,
	LD_WF_COL_PATH,	    LD_WF_COL_PID,
};

static size_t wf_split(const char *p, const char *e, fw_span *tok, size_t max)
{
	size_t n = 0;
	while (p < e) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p >= e)
			break;
		const char *s = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (n == max)
			return max + 1; /* more columns than any known layout */
		tok[n].p = s;
		tok[n].n = (size_t)(p - s);
		n++;
	}
	return n;
}

static void wf_fields(ld_fw_stream *fw, const char *p, const char *e)
{
	fw_span tok[LD_WINFW_MAX_COLS];
	size_t n = wf_split(p, e, tok, LD_WINFW_MAX_COLS);
	if (n > LD_WINFW_MAX_COLS)
		n = LD_WINFW_MAX_COLS;
	for (size_t i = 0; i < n; i++) {
		fw->winfw_cols[i] = LD_WF_COL_NONE;
		for (size_t k = 0; k < sizeof wf_names / sizeof wf_names[0]; k++)
			if (fw_ieq(tok[i], wf_names[k].name)) {
				fw->winfw_cols[i] = wf_names[k].col;
				break;
			}
	}
	fw->winfw_ncols = (uint8_t)n;
}

/* Where the pfirewall.log text starts: the line itself (a file), or the syslog MSG when it was
 * shipped with a header. */
static const char *wf_start(const ld_syslog_hdr *h, const char *line, size_t len)
{
	const char *p = line, *e = line + len;
	if (e - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	if (p < e && *p == '#')
		return p;
	if (e - p >= 11 && lp_is_digit(p[0]) && p[4] == '-' && p[7] == '-' && p[10] == ' ')
		return p;
	if (h->msg && h->msg >= line && h->msg <= e) {
		p = h->msg;
		if (e - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
			p += 3;
	}
	return p;
}

bool ld_sig_winfw(const ld_syslog_hdr *h)
{
	const char *p = h->msg;
	size_t n = h->msg_len;
	if (!p)
		return false;
	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3, n -= 3;
	if (fw_starts(p, n, "#Fields:") || fw_starts(p, n, "#Software: Microsoft") ||
	    fw_starts(p, n, "#Version:") || fw_starts(p, n, "#Time Format:"))
		return true;
	/* header parsers take the leading "YYYY-MM-DD hh:mm:ss" as a timestamp: then MSG starts with
	 * the action and a protocol */
	if (h->host.len == 16 && memcmp(h->host.ptr, "INFO-EVENTS-LOST", 16) == 0)
		return true; /* ... or the action as host name when the rest is dashes */
	if (h->ts_ns != LD_TIME_NONE && !h->host.len && !h->tag.len) {
		const char *sp = memchr(p, ' ', n < 20 ? n : 20);
		if (sp) {
			fw_span a = {p, (size_t)(sp - p)};
			fw_span pr = {sp + 1, 0};
			while (pr.p + pr.n < p + n && pr.p[pr.n] != ' ')
				pr.n++;
			if ((fw_eq(a, "DROP") || fw_eq(a, "ALLOW") || fw_eq(a, "OPEN") ||
			     fw_eq(a, "OPEN-INBOUND") || fw_eq(a, "CLOSE") ||
			     fw_eq(a, "INFO-EVENTS-LOST")) &&
			    (fw_eq(pr, "-") || fw_proto(pr) >= 0))
				return true;
		}
		/* a #Fields header may put any column after the time: accept an upper-case word
		 * (confirms a stream already known as winfw; NSX is classified before) */
		size_t k = 0;
		while (k < n && ((p[k] >= 'A' && p[k] <= 'Z') || p[k] == '-'))
			k++;
		if (k >= 3 && k < n && p[k] == ' ' && !(k == 4 && !memcmp(p, "INET", 4)) &&
		    !(k == 5 && !memcmp(p, "INET6", 5)))
			return true;
	}
	/* "YYYY-MM-DD hh:mm:ss ACTION PROTO " */
	if (n < 30 || !lp_is_digit(p[0]) || p[4] != '-' || p[7] != '-' || p[10] != ' ' ||
	    p[13] != ':' || p[19] != ' ')
		return false;
	const char *a = p + 20;
	size_t r = n - 20;
	return fw_starts(a, r, "DROP ") || fw_starts(a, r, "ALLOW ") || fw_starts(a, r, "OPEN") ||
	       fw_starts(a, r, "CLOSE ") || fw_starts(a, r, "INFO-EVENTS-LOST");
}

static bool wf_empty(fw_span s)
{
	return s.n == 0 || (s.n == 1 && s.p[0] == '-');
}

int ld_parse_winfw(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		   ld_record *out, uint8_t *reason)
{
	out->format = LD_FMT_WINFW;
	const char *e = line + len;
	const char *p = wf_start(h, line, len);
	while (p < e && *p == ' ')
		p++;
	if (p >= e)
		return LD_PARSE_SKIP;
	if (*p == '#') {
		if (fw_starts(p, (size_t)(e - p), "#Fields:"))
			wf_fields(&st->fw, p + 8, e);
		return LD_PARSE_SKIP;
	}
	fw_span tok[LD_WINFW_MAX_COLS];
	size_t n = wf_split(p, e, tok, LD_WINFW_MAX_COLS);
	const uint8_t *map = st->fw.winfw_cols;
	size_t ncols = st->fw.winfw_ncols;
	if (ncols == 0) {
		map = wf_default;
		ncols = n >= 18 ? 18 : 17;
	}
	if (n > LD_WINFW_MAX_COLS) {
		*reason = LD_REJ_BAD_FIELD;
		return LD_PARSE_REJECT;
	}
	fw_span f[LD_WF_COL_COUNT_];
	memset(f, 0, sizeof f);
	for (size_t i = 0; i < n && i < ncols; i++)
		if (map[i] != LD_WF_COL_NONE && !wf_empty(tok[i]))
			f[map[i]] = tok[i];

	fw_span act = f[LD_WF_COL_ACTION];
	if (fw_eq(act, "INFO-EVENTS-LOST")) {
		uint64_t lost;
		if (f[LD_WF_COL_INFO].n && fw_uint(f[LD_WF_COL_INFO].p, f[LD_WF_COL_INFO].n,
						   UINT32_MAX, &lost))
			st->fw.winfw_events_lost += lost;
		return LD_PARSE_SKIP;
	}
	if (n < ncols && (n < 8 || !f[LD_WF_COL_PATH].n)) {
		*reason = LD_REJ_TRUNCATED;
		return LD_PARSE_REJECT;
	}
	if (!f[LD_WF_COL_DATE].n || !f[LD_WF_COL_TIME].n || !act.n || !f[LD_WF_COL_SRC_IP].n ||
	    !f[LD_WF_COL_DST_IP].n) {
		*reason = LD_REJ_TRUNCATED;
		return LD_PARSE_REJECT;
	}
	/* time: "YYYY-MM-DD" "hh:mm:ss" (some builds add fractions: ignored past the second) */
	char buf[19];
	if (f[LD_WF_COL_DATE].n != 10 || f[LD_WF_COL_TIME].n < 8) {
		*reason = LD_REJ_BAD_TIME;
		return LD_PARSE_REJECT;
	}
	memcpy(buf, f[LD_WF_COL_DATE].p, 10);
	buf[10] = ' ';
	memcpy(buf + 11, f[LD_WF_COL_TIME].p, 8);
	int64_t local;
	if (buf[4] != '-' || buf[7] != '-' || !fw_civil19(buf, sizeof buf, &local)) {
		*reason = LD_REJ_BAD_TIME;
		return LD_PARSE_REJECT;
	}
	out->ts_ns = fw_local_to_utc_ns(&st->opts, &st->fw, local);
	fw_span fr = f[LD_WF_COL_TIME];
	if (fr.n > 9 && fr.p[8] == '.') {
		uint32_t ns = 0, scale = 100000000;
		for (size_t i = 9; i < fr.n && i < 18 && lp_is_digit(fr.p[i]); i++, scale /= 10)
			ns += (uint32_t)(fr.p[i] - '0') * scale;
		out->ts_ns += ns;
	}

	if (!lp_addr(f[LD_WF_COL_SRC_IP].p, f[LD_WF_COL_SRC_IP].n, &out->src) ||
	    !lp_addr(f[LD_WF_COL_DST_IP].p, f[LD_WF_COL_DST_IP].n, &out->dst)) {
		*reason = LD_REJ_BAD_ADDRESS;
		return LD_PARSE_REJECT;
	}
	if (f[LD_WF_COL_PROTOCOL].n) {
		int pr = fw_proto(f[LD_WF_COL_PROTOCOL]);
		if (pr < 0) {
			*reason = LD_REJ_BAD_FIELD;
			return LD_PARSE_REJECT;
		}
		out->proto = (uint8_t)pr;
	}
	if (f[LD_WF_COL_SRC_PORT].n || f[LD_WF_COL_DST_PORT].n) {
		if (!fw_port(f[LD_WF_COL_SRC_PORT], &out->sport) ||
		    !fw_port(f[LD_WF_COL_DST_PORT], &out->dport)) {
			*reason = LD_REJ_BAD_PORT;
			return LD_PARSE_REJECT;
		}
		out->present |= LD_RF_PORTS;
	}
	uint64_t v;
	if (f[LD_WF_COL_SIZE].n && fw_uint(f[LD_WF_COL_SIZE].p, f[LD_WF_COL_SIZE].n, UINT32_MAX, &v)) {
		out->len = (uint32_t)v;
		out->present |= LD_RF_LEN;
	}
	if (f[LD_WF_COL_TCPFLAGS].n) {
		int fl = ld_tcp_flags_parse(f[LD_WF_COL_TCPFLAGS].p, f[LD_WF_COL_TCPFLAGS].n);
		if (fl >= 0) {
			out->tcp_flags = (uint8_t)fl;
			out->present |= LD_RF_TCPFLAGS;
		}
	}
	fw_span path = f[LD_WF_COL_PATH];
	if (fw_eq(path, "SEND"))
		out->dir = LD_DIR_OUT;
	else if (fw_eq(path, "RECEIVE"))
		out->dir = LD_DIR_IN;
	out->reporter = st->opts.reporter.len ? st->opts.reporter : h->host;

	if (fw_eq(act, "DROP")) {
		out->action = LD_ACTION_DROP;
		return LD_PARSE_DROP;
	}
	if (fw_eq(act, "ALLOW") || fw_eq(act, "OPEN") || fw_eq(act, "OPEN-INBOUND") ||
	    fw_eq(act, "CLOSE")) {
		out->action = fw_eq(act, "ALLOW") ? LD_ACTION_ALLOW : LD_ACTION_OTHER;
		return LD_PARSE_NOT_DROP;
	}
	*reason = LD_REJ_BAD_FIELD;
	return LD_PARSE_REJECT;
}
