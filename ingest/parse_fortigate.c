/* parse_fortigate.c — Fortinet FortiGate traffic log, key=value (formats.md §6a).
 *
 * Time: eventtime= (epoch in s, ms, us or ns depending on the FortiOS version — told apart by
 * magnitude) is exact UTC and carries sub-seconds, so it wins; otherwise date= time= local time
 * with tz= when present, else the configured zone.  An unterminated quoted value runs to the end
 * of the line and the record is marked partial.  Pairs are separated by spaces (default) or commas
 * ("logfmt csv"); unquoted values never hold either.
 */
#include "fw_scan.h"
#include "parse_state.h"
#include "parse_util.h"

typedef struct fgt_fields {
	fw_span type, date, time, eventtime, tz, devname, devid, srcip, dstip, srcport, dstport, proto,
		action, policyid, sentbyte;
	bool unterminated;
} fgt_fields;

static bool fgt_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static void fgt_assign(fgt_fields *f, fw_span k, fw_span v)
{
	fw_span *slot = NULL;
	switch (k.n) {
	case 2:
		if (fw_eq(k, "tz"))
			slot = &f->tz;
		break;
	case 4:
		if (fw_eq(k, "type"))
			slot = &f->type;
		else if (fw_eq(k, "date"))
			slot = &f->date;
		else if (fw_eq(k, "time"))
			slot = &f->time;
		break;
	case 5:
		if (fw_eq(k, "srcip"))
			slot = &f->srcip;
		else if (fw_eq(k, "dstip"))
			slot = &f->dstip;
		else if (fw_eq(k, "proto"))
			slot = &f->proto;
		else if (fw_eq(k, "devid"))
			slot = &f->devid;
		break;
	case 6:
		if (fw_eq(k, "action"))
			slot = &f->action;
		break;
	case 7:
		if (fw_eq(k, "srcport"))
			slot = &f->srcport;
		else if (fw_eq(k, "dstport"))
			slot = &f->dstport;
		else if (fw_eq(k, "devname"))
			slot = &f->devname;
		break;
	case 8:
		if (fw_eq(k, "policyid"))
			slot = &f->policyid;
		else if (fw_eq(k, "sentbyte"))
			slot = &f->sentbyte;
		break;
	case 9:
		if (fw_eq(k, "eventtime"))
			slot = &f->eventtime;
		break;
	}
	if (slot && !slot->p)
		*slot = v; /* first occurrence wins */
}

static void fgt_scan(const char *p, const char *e, fgt_fields *f)
{
	while (p < e) {
		while (p < e && (*p == ' ' || *p == ','))
			p++;
		const char *k = p;
		while (p < e && fgt_key_char(*p))
			p++;
		if (p == k || p >= e || *p != '=') {
			while (p < e && *p != ' ' && *p != ',')
				p++; /* not a key=value token */
			continue;
		}
		fw_span key = {k, (size_t)(p - k)};
		p++;
		fw_span val;
		if (p < e && *p == '"') {
			const char *s = ++p;
			for (;;) {
				const char *q = memchr(p, '"', (size_t)(e - p));
				if (!q) {
					p = e;
					break;
				}
				/* an odd run of backslashes before the quote escapes it */
				size_t bs = 0;
				while (q - bs > s && q[-1 - (ptrdiff_t)bs] == '\\')
					bs++;
				p = q;
				if (bs % 2 == 0)
					break;
				p++;
			}
			val = (fw_span){s, (size_t)(p - s)};
			if (p < e)
				p++;
			else
				f->unterminated = true;
		} else {
			const char *s = p;
			while (p < e && *p != ' ' && *p != ',')
				p++;
			val = (fw_span){s, (size_t)(p - s)};
		}
		fgt_assign(f, key, val);
	}
}

bool ld_sig_fortigate(const ld_syslog_hdr *h)
{
	size_t n = h->msg_len < 256 ? h->msg_len : 256;
	if (!h->msg || n < 20)
		return false;
	if (fw_find(h->msg, h->msg_len, "logid=") || fw_find(h->msg, h->msg_len, "devid="))
		return fw_find(h->msg, n, "date=") || fw_find(h->msg, n, "devname=");
	/* stripped-down or damaged lines: "date=... time=..." up front and a flow key */
	return fw_starts(h->msg, n, "date=") && fw_find(h->msg, n, "time=") &&
	       fw_find(h->msg, h->msg_len, "srcip=");
}

/* "+0200", "-07:00", "+02" -> seconds east. */
static bool fgt_tz(fw_span t, int32_t *off)
{
	if (t.n < 3 || (t.p[0] != '+' && t.p[0] != '-'))
		return ld_tz_abbr_offset(t.p, t.n, off);
	unsigned hh, mm = 0;
	if (!fw_fixed(t.p + 1, 2, &hh))
		return false;
	if (t.n == 5 && !fw_fixed(t.p + 3, 2, &mm))
		return false;
	if (t.n == 6 && (t.p[3] != ':' || !fw_fixed(t.p + 4, 2, &mm)))
		return false;
	if ((t.n != 3 && t.n != 5 && t.n != 6) || hh > 14 || mm > 59)
		return false;
	*off = (int32_t)(hh * 3600 + mm * 60) * (t.p[0] == '-' ? -1 : 1);
	return true;
}

static int fgt_time(ld_parse_state *st, const ld_syslog_hdr *h, const fgt_fields *f, int64_t *ts)
{
	uint64_t v;
	if (f->eventtime.n && fw_uint(f->eventtime.p, f->eventtime.n, UINT64_MAX, &v) && v > 0) {
		/* the unit by magnitude: s below 1e11 (year 5138), then ms, us, ns */
		uint64_t scale = v < UINT64_C(100000000000)	  ? UINT64_C(1000000000)
				 : v < UINT64_C(100000000000000)    ? UINT64_C(1000000)
				 : v < UINT64_C(100000000000000000) ? UINT64_C(1000)
								    : 1;
		if (v > (uint64_t)INT64_MAX / scale)
			return LD_REJ_BAD_TIME; /* past the int64 ns clock (year 2262) */
		*ts = (int64_t)(v * scale);
		return LD_REJ_NONE;
	}
	if (f->date.n && f->time.n) {
		char buf[19];
		if (f->date.n != 10 || f->time.n != 8)
			return LD_REJ_BAD_TIME;
		memcpy(buf, f->date.p, 10);
		buf[10] = ' ';
		memcpy(buf + 11, f->time.p, 8);
		int64_t local;
		if (!fw_civil19(buf, sizeof buf, &local))
			return LD_REJ_BAD_TIME;
		int32_t off;
		if (f->tz.n && fgt_tz(f->tz, &off))
			*ts = (local - off) * LD_NS_PER_SEC;
		else
			*ts = fw_local_to_utc_ns(&st->opts, &st->fw, local);
		return LD_REJ_NONE;
	}
	*ts = fw_header_time(&st->opts, h);
	return LD_REJ_NONE;
}

int ld_parse_fortigate(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		       ld_record *out, uint8_t *reason)
{
	out->format = LD_FMT_FORTIGATE;
	const char *p = h->msg && h->msg >= line && h->msg <= line + len ? h->msg : line;
	const char *e = line + len;
	fgt_fields f;
	memset(&f, 0, sizeof f);
	fgt_scan(p, e, &f);
	if (!f.srcip.p && !f.dstip.p && f.type.n && !fw_eq(f.type, "traffic"))
		return LD_PARSE_SKIP; /* event/utm logs without a flow: not a verdict on a packet */
	if (!f.srcip.p || !f.dstip.p) {
		*reason = f.srcip.p || f.dstip.p || f.action.p ? LD_REJ_TRUNCATED : LD_REJ_UNRECOGNISED;
		return LD_PARSE_REJECT;
	}
	int rc = fgt_time(st, h, &f, &out->ts_ns);
	if (rc) {
		*reason = (uint8_t)rc;
		return LD_PARSE_REJECT;
	}
	if (!lp_addr(f.srcip.p, f.srcip.n, &out->src) || !lp_addr(f.dstip.p, f.dstip.n, &out->dst)) {
		*reason = LD_REJ_BAD_ADDRESS;
		return LD_PARSE_REJECT;
	}
	if (f.srcport.p && !fw_port(f.srcport, &out->sport)) {
		*reason = LD_REJ_BAD_PORT;
		return LD_PARSE_REJECT;
	}
	if (f.dstport.p) {
		if (!fw_port(f.dstport, &out->dport)) {
			*reason = LD_REJ_BAD_PORT;
			return LD_PARSE_REJECT;
		}
		out->present |= LD_RF_PORTS;
	}
	if (f.proto.p) {
		int pr = fw_proto(f.proto);
		if (pr < 0) {
			*reason = LD_REJ_BAD_FIELD;
			return LD_PARSE_REJECT;
		}
		out->proto = (uint8_t)pr;
	}
	uint64_t v;
	if (f.sentbyte.n && fw_uint(f.sentbyte.p, f.sentbyte.n, UINT32_MAX, &v)) {
		out->len = (uint32_t)v;
		out->present |= LD_RF_LEN;
	}
	if (f.unterminated || (f.dstport.p && !f.srcport.p && out->proto != 1 && out->proto != 58))
		out->present |= LD_RF_PARTIAL;
	out->rule = fw_str(f.policyid);
	if (f.devname.n)
		out->reporter = fw_str(f.devname);
	else if (f.devid.n)
		out->reporter = fw_str(f.devid);
	else
		out->reporter = fw_reporter(&st->opts, h);

	fw_span a = f.action;
	if (fw_eq(a, "deny") || fw_eq(a, "block") || fw_eq(a, "blocked") || fw_eq(a, "dropped") ||
	    fw_eq(a, "drop") || fw_eq(a, "ip-conn") || fw_eq(a, "reset")) {
		out->action = fw_eq(a, "reset") ? LD_ACTION_REJECT : LD_ACTION_DROP;
		return LD_PARSE_DROP;
	}
	if (!a.p) {
		*reason = LD_REJ_TRUNCATED;
		return LD_PARSE_REJECT;
	}
	out->action = fw_eq(a, "accept") || fw_eq(a, "pass") || fw_eq(a, "passthrough")
			      ? LD_ACTION_ALLOW
			      : LD_ACTION_OTHER; /* close, timeout, server-rst, start... */
	return LD_PARSE_NOT_DROP;
}
