/* ld_record.h — the normalized drop record shared by every source.
 *
 * Contract:
 *  - One ld_record describes one firewall verdict on one packet or flow, whatever produced it
 *    (syslog line, IPFIX data record, captured packet).  Parsers fill it, the store persists it
 *    column by column, the analyzer and the query engine read it back.
 *  - Addresses are 16 bytes in network order.  IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that
 *    one comparison works for both families; ld_addr_is_v4() tells them apart.
 *  - Strings (rule, reporter, vif, raw) are borrowed views: valid only for the duration of the call
 *    that hands the record over.  The store copies what it keeps (dictionary-encodes rule, reporter
 *    and vif; zstd-compresses raw) so parsers never allocate per record.
 *  - Time is event time in nanoseconds since the Unix epoch, UTC.
 *  - Fields a source does not give are zero and the matching LD_RF_* bit is clear, so "port 0" and
 *    "no port" stay distinguishable.
 */
#ifndef LD_RECORD_H
#define LD_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ld_addr {
	uint8_t b[16];
} ld_addr;

/* A borrowed byte string (not NUL-terminated). */
typedef struct ld_str {
	const char *ptr;
	uint32_t len;
} ld_str;

/* Verdict.  DROP = silently discarded, REJECT = discarded with RST/ICMP, DENY = the source says
 * "deny"/"block" without telling which; ALLOW is kept only when asked (allowed east-west traffic is
 * evidence too). */
enum ld_action {
	LD_ACTION_UNKNOWN = 0,
	LD_ACTION_DROP = 1,
	LD_ACTION_REJECT = 2,
	LD_ACTION_DENY = 3,
	LD_ACTION_ALLOW = 4,
	LD_ACTION_OTHER = 5,
	LD_ACTION_COUNT_
};

/* Direction as the reporter saw it: IN = toward the protected endpoint (e.g. into the VM's vNIC),
 * OUT = leaving it. */
enum ld_dir { LD_DIR_UNKNOWN = 0, LD_DIR_IN = 1, LD_DIR_OUT = 2, LD_DIR_COUNT_ };

/* Which parser produced the record (the `format` column; names match the CLI --format names). */
enum ld_format {
	LD_FMT_UNKNOWN = 0,
	LD_FMT_NSX = 1,
	LD_FMT_IPTABLES = 2,
	LD_FMT_ASA = 3,
	LD_FMT_PANOS = 4,
	LD_FMT_FORTIGATE = 5,
	LD_FMT_PFSENSE = 6,
	LD_FMT_SRX = 7,
	LD_FMT_WINFW = 8,
	LD_FMT_IPFIX = 9,
	LD_FMT_PCAP = 10,
	LD_FMT_CSV = 11,
	LD_FMT_CHECKPOINT = 12,
	LD_FMT_COUNT_
};

/* TCP flag bits, same values as the TCP header and IPFIX tcpControlBits. */
enum ld_tcp_flag {
	LD_TCP_FIN = 0x01,
	LD_TCP_SYN = 0x02,
	LD_TCP_RST = 0x04,
	LD_TCP_PSH = 0x08,
	LD_TCP_ACK = 0x10,
	LD_TCP_URG = 0x20,
	LD_TCP_ECE = 0x40,
	LD_TCP_CWR = 0x80,
};

/* Presence bits (ld_record.present). */
enum ld_present {
	LD_RF_PORTS = 0x01,    /* sport/dport were given */
	LD_RF_TCPFLAGS = 0x02, /* tcp_flags was given */
	LD_RF_LEN = 0x04,      /* len was given */
	LD_RF_ASSUMED = 0x08,  /* action assumed, not stated: assume_drop sources, or a log prefix
	                        * that names no verdict (iptables LOG rules log only what they drop) */
	LD_RF_PARTIAL = 0x10,  /* source line was truncated; fields kept are trustworthy */
};

typedef struct ld_record {
	int64_t ts_ns;       /* event time, ns since epoch, UTC */
	ld_addr src;         /* IPv4-mapped or IPv6 */
	ld_addr dst;
	uint16_t sport;
	uint16_t dport;
	uint32_t len;        /* packet (or flow) length in bytes */
	uint8_t proto;       /* IP protocol number */
	uint8_t action;      /* enum ld_action */
	uint8_t dir;         /* enum ld_dir */
	uint8_t tcp_flags;   /* enum ld_tcp_flag bits */
	uint8_t format;      /* enum ld_format */
	uint8_t present;     /* enum ld_present bits */
	ld_str rule;         /* rule id / ACL / policy name, "" when absent */
	ld_str reporter;     /* firewall / ESXi host that logged it */
	ld_str vif;          /* vNIC / filter id (NSX vif8, VM UUID...), "" when absent */
	ld_str raw;          /* original line or bytes, "" when not kept */
} ld_record;

/* --- addresses ---------------------------------------------------------------------------- */

static inline bool ld_addr_is_v4(const ld_addr *a)
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a->b, prefix, 12) == 0;
}

static inline void ld_addr_from_v4(ld_addr *a, uint32_t host_order)
{
	memset(a->b, 0, 10);
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	a->b[12] = (uint8_t)(host_order >> 24);
	a->b[13] = (uint8_t)(host_order >> 16);
	a->b[14] = (uint8_t)(host_order >> 8);
	a->b[15] = (uint8_t)host_order;
}

static inline uint32_t ld_addr_v4(const ld_addr *a)
{
	return (uint32_t)a->b[12] << 24 | (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 | a->b[15];
}

static inline int ld_addr_cmp(const ld_addr *a, const ld_addr *b)
{
	return memcmp(a->b, b->b, 16);
}

static inline bool ld_addr_eq(const ld_addr *a, const ld_addr *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* Parse IPv4 dotted quad or IPv6 text (any RFC 4291 form, including fully expanded with leading
 * zeros and embedded IPv4).  Returns true on success.  Does not need NUL termination. */
bool ld_addr_parse(ld_addr *out, const char *s, size_t len);

/* Canonical text: dotted quad for v4, RFC 5952 for v6.  buf must hold LD_ADDR_STRLEN bytes.
 * Returns the string length. */
#define LD_ADDR_STRLEN 46
size_t ld_addr_format(const ld_addr *a, char *buf);

/* CIDR prefix: addr/bits where bits is counted on the 128-bit form (v4 /24 -> 120). */
typedef struct ld_prefix {
	ld_addr addr;
	uint8_t bits;
} ld_prefix;
bool ld_prefix_parse(ld_prefix *out, const char *s, size_t len);
bool ld_prefix_contains(const ld_prefix *p, const ld_addr *a);

/* --- enum names (the text used by the CLI, JSON and --where) ------------------------------- */

const char *ld_action_name(unsigned action);
const char *ld_dir_name(unsigned dir);
const char *ld_format_name(unsigned format);
/* Reverse lookups; return -1 when the name is unknown.  Case-insensitive. */
int ld_action_from_name(const char *s, size_t len);
int ld_dir_from_name(const char *s, size_t len);
int ld_format_from_name(const char *s, size_t len);
/* IP protocol names: "tcp", "udp", "icmp", "ipv6-icmp"/"icmpv6", "igmp", "gre", "esp"...; numbers
 * otherwise. */
const char *ld_proto_name(unsigned proto); /* NULL when the number has no short name */
int ld_proto_from_name(const char *s, size_t len);

/* TCP flags as letters the way NSX prints them, in the order S A F R P U E W ("SA" = SYN+ACK).
 * Returns the length written (0 for no flags). */
size_t ld_tcp_flags_format(uint8_t flags, char *buf /* >= 9 */);
/* Parse letters (S,A,F,R,P,U,E,W, also C for CWR) in any order; returns -1 on an unknown letter. */
int ld_tcp_flags_parse(const char *s, size_t len);

static inline ld_str ld_str_c(const char *s)
{
	ld_str r = {s, (uint32_t)strlen(s)};
	return r;
}

#endif
