/* parse_formats.h — field parsers for the perimeter and host firewall formats: Cisco ASA/FTD,
 * PAN-OS TRAFFIC CSV, FortiGate key=value, pfSense/OPNsense filterlog, Juniper SRX RT_FLOW and
 * Windows Firewall pfirewall.log.
 *
 * Contract (see ld_parse.h for the shared rules):
 *  - ld_parse_<fmt>() gets the already-parsed syslog header `h` of `line` (h->msg is the body) and
 *    returns an enum ld_parse_result.  On LD_PARSE_REJECT, *reason is an enum ld_reject_reason.
 *    The caller zero-fills *out beforehand; the parser sets ts_ns, addresses, ports, proto, action,
 *    dir, rule, reporter, vif, tcp_flags, len, format and present.  raw is left to the caller.
 *  - Never allocates, never reads past len, needs no NUL terminator.
 *  - Well-formed lines of the vendor that carry no verdict on a packet (ASA 302013 "Built...",
 *    PAN-OS THREAT/SYSTEM, FortiGate event logs, other RT_FLOW events, Windows Firewall headers and
 *    INFO-EVENTS-LOST) return LD_PARSE_SKIP, not a reject.
 *  - Timestamps the device writes in its own local time (PAN-OS, FortiGate without eventtime/tz=,
 *    Windows Firewall, ASA's own stamp without zone) are converted with opts.local_tz (IANA name)
 *    or, without it, opts.local_tz_offset_s (0 = UTC).  PAN-OS without a configured zone takes the
 *    device offset from an RFC 5424 header stamp when one is present.  Lines without any time get
 *    the syslog header time, else opts.now_ns (receive time).
 *  - ld_sig_<fmt>() is a cheap check that a body looks like the format (no full parse).
 */
#ifndef LD_PARSE_FORMATS_H
#define LD_PARSE_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_parse.h"
#include "ld_record.h"

struct ld_tz;

/* Windows Firewall columns a #Fields: header can name (unknown names map to LD_WF_COL_NONE). */
enum ld_winfw_col {
	LD_WF_COL_NONE = 0,
	LD_WF_COL_DATE,
	LD_WF_COL_TIME,
	LD_WF_COL_ACTION,
	LD_WF_COL_PROTOCOL,
	LD_WF_COL_SRC_IP,
	LD_WF_COL_DST_IP,
	LD_WF_COL_SRC_PORT,
	LD_WF_COL_DST_PORT,
	LD_WF_COL_SIZE,
	LD_WF_COL_TCPFLAGS,
	LD_WF_COL_TCPSYN,
	LD_WF_COL_TCPACK,
	LD_WF_COL_TCPWIN,
	LD_WF_COL_ICMPTYPE,
	LD_WF_COL_ICMPCODE,
	LD_WF_COL_INFO,
	LD_WF_COL_PATH,
	LD_WF_COL_PID,
	LD_WF_COL_COUNT_
};

#define LD_WINFW_MAX_COLS 32

/* Per-stream context of these parsers; embedded in ld_parse_state as `fw`.  All-zero is the
 * initial state (no #Fields header seen, zone not yet resolved). */
typedef struct ld_fw_stream {
	uint8_t winfw_cols[LD_WINFW_MAX_COLS]; /* enum ld_winfw_col per column of the last #Fields */
	uint8_t winfw_ncols;                   /* 0 = no #Fields header yet: map by column count */
	uint64_t winfw_events_lost;            /* sum of INFO-EVENTS-LOST counts */
	const struct ld_tz *tz;                /* opts.local_tz resolved once per stream */
	uint8_t tz_state;                      /* 0 unresolved, 1 zone loaded, 2 use fixed offset */
	int32_t tz_win_off;                    /* local times in [tz_win_lo, tz_win_hi) convert */
	int64_t tz_win_lo, tz_win_hi;          /* with this one offset (empty when lo == hi) */
} ld_fw_stream;

int ld_parse_asa(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		 ld_record *out, uint8_t *reason);
int ld_parse_panos(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		   ld_record *out, uint8_t *reason);
int ld_parse_fortigate(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		       ld_record *out, uint8_t *reason);
int ld_parse_pfsense(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		     ld_record *out, uint8_t *reason);
int ld_parse_srx(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		 ld_record *out, uint8_t *reason);
int ld_parse_winfw(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		   ld_record *out, uint8_t *reason);

bool ld_sig_asa(const ld_syslog_hdr *h);
bool ld_sig_panos(const ld_syslog_hdr *h);
bool ld_sig_fortigate(const ld_syslog_hdr *h);
bool ld_sig_pfsense(const ld_syslog_hdr *h);
bool ld_sig_srx(const ld_syslog_hdr *h);
bool ld_sig_winfw(const ld_syslog_hdr *h);

#endif
