/* render_lines.c — device-style text for a drop record (see render_lines.h). */
#include "render_lines.h"

#include <stdio.h>
#include <string.h>

#include "ld_time.h"

/* snprintf into buf at *pos; false once the buffer is full */
#define PUT(...)                                                                     \
	do {                                                                         \
		int n_ = snprintf(buf + pos, pos < cap ? cap - pos : 0, __VA_ARGS__); \
		if (n_ < 0 || pos + (size_t)n_ >= cap)                               \
			return 0;                                                    \
		pos += (size_t)n_;                                                   \
	} while (0)

/* NSX prints IPv6 uncompressed but without leading zeros. */
static void nsx_addr(const ld_addr *a, char *out, size_t cap)
{
	if (ld_addr_is_v4(a)) {
		ld_addr_format(a, out);
		return;
	}
	snprintf(out, cap, "%x:%x:%x:%x:%x:%x:%x:%x", a->b[0] << 8 | a->b[1], a->b[2] << 8 | a->b[3],
		 a->b[4] << 8 | a->b[5], a->b[6] << 8 | a->b[7], a->b[8] << 8 | a->b[9],
		 a->b[10] << 8 | a->b[11], a->b[12] << 8 | a->b[13], a->b[14] << 8 | a->b[15]);
}

/* The kernel prints IPv6 fully expanded with leading zeros. */
static void kernel_addr(const ld_addr *a, char *out, size_t cap)
{
	if (ld_addr_is_v4(a)) {
		ld_addr_format(a, out);
		return;
	}
	snprintf(out, cap, "%04x:%04x:%04x:%04x:%04x:%04x:%04x:%04x", a->b[0] << 8 | a->b[1],
		 a->b[2] << 8 | a->b[3], a->b[4] << 8 | a->b[5], a->b[6] << 8 | a->b[7],
		 a->b[8] << 8 | a->b[9], a->b[10] << 8 | a->b[11], a->b[12] << 8 | a->b[13],
		 a->b[14] << 8 | a->b[15]);
}

static const char *nsx_action(unsigned a)
{
	switch (a) {
	case LD_ACTION_DROP: return "DROP";
	case LD_ACTION_REJECT: return "REJECT";
	case LD_ACTION_ALLOW: return "PASS";
	default: return "NAT";
	}
}

size_t ld_render_nsx(const ld_record *r, int style, char *buf, size_t cap)
{
	size_t pos = 0;
	char ts[LD_TIME_STRLEN];
	ld_time_format_ms(r->ts_ns, ts);
	switch (style) {
	case LD_NSX_LEGACY:
		PUT("<134>%s %.*s FIREWALL_PKTLOG: ", ts, (int)r->reporter.len, r->reporter.ptr);
		break;
	case LD_NSX_RFC5424:
		PUT("<13>1 %s %.*s FIREWALL-PKTLOG - - - ", ts, (int)r->reporter.len, r->reporter.ptr);
		break;
	case LD_NSX_ESXI8:
		PUT("%s No(13) FIREWALL-PKTLOG[1069031]: ", ts);
		break;
	default:
		PUT("%s ", ts);
		break;
	}
	if (r->vif.len)
		PUT("%.*s ", (int)r->vif.len, r->vif.ptr);
	PUT("%s match %s %.*s %s ", ld_addr_is_v4(&r->src) ? "INET" : "INET6", nsx_action(r->action),
	    (int)r->rule.len, r->rule.ptr, r->dir == LD_DIR_IN ? "IN" : "OUT");
	if (r->present & LD_RF_LEN)
		PUT("%u ", r->len);
	if (r->proto == 6)
		PUT("TCP ");
	else if (r->proto == 17)
		PUT("UDP ");
	else if (r->proto == 1)
		PUT("ICMP ");
	else
		PUT("PROTO %u ", r->proto);
	char s[LD_ADDR_STRLEN], d[LD_ADDR_STRLEN];
	nsx_addr(&r->src, s, sizeof s);
	nsx_addr(&r->dst, d, sizeof d);
	if (r->present & LD_RF_PORTS)
		PUT("%s/%u->%s/%u", s, r->sport, d, r->dport);
	else
		PUT("%s->%s", s, d);
	if (r->present & LD_RF_TCPFLAGS) {
		char f[16];
		f[ld_tcp_flags_format(r->tcp_flags, f)] = 0;
		PUT(" %s", f);
	}
	return pos;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static size_t bsd_header(const ld_record *r, char *buf, size_t cap)
{
	int64_t sec = r->ts_ns / LD_NS_PER_SEC;
	int64_t days = sec / 86400, rem = sec % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	ld_civil_from_days(days, &y, &m, &d);
	size_t pos = 0;
	PUT("%s %2u %02u:%02u:%02u %.*s ", months[m - 1], d, (unsigned)(rem / 3600),
	    (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), (int)r->reporter.len, r->reporter.ptr);
	return pos;
}

size_t ld_render_iptables(const ld_record *r, char *buf, size_t cap)
{
	size_t pos = bsd_header(r, buf, cap);
	if (pos == 0)
		return 0;
	char s[LD_ADDR_STRLEN + 8], d[LD_ADDR_STRLEN + 8];
	kernel_addr(&r->src, s, sizeof s);
	kernel_addr(&r->dst, d, sizeof d);
	bool v4 = ld_addr_is_v4(&r->src);
	PUT("kernel: [%5u.%06u] %.*s IN=%s OUT=%s MAC=00:50:56:aa:bb:01:00:50:56:aa:bb:02:%s SRC=%s "
	    "DST=%s LEN=%u ",
	    (unsigned)(r->ts_ns / LD_NS_PER_SEC % 100000), (unsigned)(r->ts_ns / 1000 % 1000000),
	    (int)r->rule.len, r->rule.ptr, r->dir == LD_DIR_OUT ? "" : "eth0",
	    r->dir == LD_DIR_IN ? "" : "eth1", v4 ? "08:00" : "86:dd", s, d, r->len);
	if (v4)
		PUT("TOS=0x00 PREC=0x00 TTL=64 ID=4242 DF ");
	else
		PUT("TC=0 HOPLIMIT=64 FLOWLBL=0 ");
	const char *pn = r->proto == 6 ? "TCP" : r->proto == 17 ? "UDP" : r->proto == 1 ? "ICMP"
					   : r->proto == 58 ? "ICMPv6" : NULL;
	if (pn)
		PUT("PROTO=%s ", pn);
	else
		PUT("PROTO=%u ", r->proto);
	if (r->proto == 6) {
		PUT("SPT=%u DPT=%u WINDOW=64240 RES=0x00 ", r->sport, r->dport);
		static const struct {
			uint8_t bit;
			const char *w;
		} fl[] = {{LD_TCP_CWR, "CWR"}, {LD_TCP_ECE, "ECE"}, {LD_TCP_URG, "URG"},
			  {LD_TCP_ACK, "ACK"}, {LD_TCP_PSH, "PSH"}, {LD_TCP_RST, "RST"},
			  {LD_TCP_SYN, "SYN"}, {LD_TCP_FIN, "FIN"}};
		for (size_t i = 0; i < sizeof fl / sizeof fl[0]; i++)
			if (r->tcp_flags & fl[i].bit)
				PUT("%s ", fl[i].w);
		PUT("URGP=0");
	} else if (r->proto == 17) {
		PUT("SPT=%u DPT=%u LEN=%u", r->sport, r->dport, r->len > 20 ? r->len - 20 : 8);
	} else if (r->proto == 1 || r->proto == 58) {
		PUT("TYPE=8 CODE=0 ID=77 SEQ=1");
	}
	return pos;
}

size_t ld_render_panos(const ld_record *r, char *buf, size_t cap)
{
	size_t pos = bsd_header(r, buf, cap);
	if (pos == 0)
		return 0;
	int64_t sec = r->ts_ns / LD_NS_PER_SEC;
	int64_t y;
	unsigned m, d;
	ld_civil_from_days(sec / 86400, &y, &m, &d);
	char t[32];
	snprintf(t, sizeof t, "%04d/%02u/%02u %02u:%02u:%02u", (int)y, m, d,
		 (unsigned)(sec % 86400 / 3600), (unsigned)(sec / 60 % 60), (unsigned)(sec % 60));
	char s[LD_ADDR_STRLEN], dd[LD_ADDR_STRLEN];
	ld_addr_format(&r->src, s);
	ld_addr_format(&r->dst, dd);
	const char *act = r->action == LD_ACTION_ALLOW	  ? "allow"
			  : r->action == LD_ACTION_REJECT ? "reset-both"
			  : r->action == LD_ACTION_DROP	  ? "drop"
							  : "deny";
	const char *pn = r->proto == 6 ? "tcp" : r->proto == 17 ? "udp" : "icmp";
	PUT("1,%s,012801096514,TRAFFIC,%s,2049,%s,%s,%s,0.0.0.0,0.0.0.0,%.*s,,,ms-ds-smb-base,vsys1,"
	    "vdi,servers,ethernet1/2,ethernet1/3,fwd-siem,%s,24242,1,%u,%u,0,0,0x0,%s,%s,%u,%u,0,1,%s,0,"
	    "any,0,7024242,0x0,10.0.0.0-10.255.255.255,10.0.0.0-10.255.255.255,0,1,0,policy-deny,0,0,"
	    "0,0,,%.*s,from-policy,,,0,,0,,N/A,0,0,0,0,a1b2c3d4-0000-4000-8000-000000004242,0,0,,,,,,,",
	    t, r->action == LD_ACTION_ALLOW ? "end" : "deny", t, s, dd, (int)r->rule.len, r->rule.ptr,
	    t, r->sport, r->dport, pn, act, r->len, r->len, t, (int)r->reporter.len, r->reporter.ptr);
	return pos;
}
