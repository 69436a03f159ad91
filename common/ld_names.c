/* ld_names.c — the text names of record enums, shared by CLI output, JSON and --where. */
#include <strings.h>

#include "ld_record.h"

static const char *const action_names[LD_ACTION_COUNT_] = {"unknown", "drop",  "reject",
							    "deny",    "allow", "other"};
static const char *const dir_names[LD_DIR_COUNT_] = {"unknown", "in", "out"};
static const char *const format_names[LD_FMT_COUNT_] = {
	"unknown", "nsx",	 "iptables", "asa",  "panos", "fortigate", "pfsense",
	"srx",	   "winfw", "ipfix",    "pcap", "csv",   "checkpoint"};

static int lookup(const char *const *names, int n, const char *s, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0)
			return i;
	return -1;
}

const char *ld_action_name(unsigned a)
{
	return a < LD_ACTION_COUNT_ ? action_names[a] : "unknown";
}
const char *ld_dir_name(unsigned d)
{
	return d < LD_DIR_COUNT_ ? dir_names[d] : "unknown";
}
const char *ld_format_name(unsigned f)
{
	return f < LD_FMT_COUNT_ ? format_names[f] : "unknown";
}
int ld_action_from_name(const char *s, size_t len)
{
	return lookup(action_names, LD_ACTION_COUNT_, s, len);
}
int ld_dir_from_name(const char *s, size_t len)
{
	return lookup(dir_names, LD_DIR_COUNT_, s, len);
}
int ld_format_from_name(const char *s, size_t len)
{
	return lookup(format_names, LD_FMT_COUNT_, s, len);
}

static const struct {
	uint8_t num;
	const char *name;
} protos[] = {
	{1, "icmp"}, {2, "igmp"}, {6, "tcp"}, {17, "udp"}, {47, "gre"}, {50, "esp"},
	{51, "ah"},  {58, "ipv6-icmp"}, {89, "ospf"}, {103, "pim"}, {112, "vrrp"},
	{132, "sctp"}, {136, "udplite"},
};

const char *ld_proto_name(unsigned p)
{
	for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++)
		if (protos[i].num == p)
			return protos[i].name;
	return NULL;
}

int ld_proto_from_name(const char *s, size_t len)
{
	if (len == 0)
		return -1;
	if (s[0] >= '0' && s[0] <= '9') {
		unsigned v = 0;
		for (size_t i = 0; i < len; i++) {
			if (s[i] < '0' || s[i] > '9' || v > 255)
				return -1;
			v = v * 10 + (unsigned)(s[i] - '0');
		}
		return v <= 255 ? (int)v : -1;
	}
	for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++)
		if (strlen(protos[i].name) == len && strncasecmp(protos[i].name, s, len) == 0)
			return protos[i].num;
	if ((len == 6 && strncasecmp(s, "icmpv6", 6) == 0) ||
	    (len == 7 && strncasecmp(s, "icmp6", 5) == 0) ||
	    (len == 5 && strncasecmp(s, "icmp6", 5) == 0))
		return 58;
	return -1;
}

/* NSX order: S A F R P U E W. */
static const struct {
	char letter;
	uint8_t bit;
} flag_letters[] = {{'S', LD_TCP_SYN}, {'A', LD_TCP_ACK}, {'F', LD_TCP_FIN}, {'R', LD_TCP_RST},
		    {'P', LD_TCP_PSH}, {'U', LD_TCP_URG}, {'E', LD_TCP_ECE}, {'W', LD_TCP_CWR}};

size_t ld_tcp_flags_format(uint8_t flags, char *buf)
{
	size_t n = 0;
	for (size_t i = 0; i < 8; i++)
		if (flags & flag_letters[i].bit)
			buf[n++] = flag_letters[i].letter;
	buf[n] = '\0';
	return n;
}

int ld_tcp_flags_parse(const char *s, size_t len)
{
	int flags = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c == 'C') {
			flags |= LD_TCP_CWR;
			continue;
		}
		size_t k = 0;
		while (k < 8 && flag_letters[k].letter != c)
			k++;
		if (k == 8)
			return -1;
		flags |= flag_letters[k].bit;
	}
	return flags;
}
