/* render_lines.h — writes a drop record as a log line the way a device would (NSX DFW packet log,
 * netfilter LOG), for round-trip tests, benchmarks and demo data.
 *
 * Contract: the output is the text the parsers accept for that record; fields the format cannot
 * carry are not written (NSX has no ports for ICMP, iptables has no rule id beyond its prefix).
 * Returns the line length (no newline), or 0 when `cap` is too small.
 */
#ifndef LD_RENDER_LINES_H
#define LD_RENDER_LINES_H

#include <stddef.h>

#include "ld_record.h"

enum ld_nsx_style {
	LD_NSX_FILE = 0,    /* "TS vif INET ..." (dfwpktlogs.log) */
	LD_NSX_LEGACY = 1,  /* "<134>TS host FIREWALL_PKTLOG: vif INET ..." */
	LD_NSX_RFC5424 = 2, /* "<13>1 TS host FIREWALL-PKTLOG - - - [vif ]INET ..." */
	LD_NSX_ESXI8 = 3,   /* "TS No(13) FIREWALL-PKTLOG[pid]: vif INET ..." */
};

size_t ld_render_nsx(const ld_record *r, int style, char *buf, size_t cap);
/* RFC 3164 header (no year), kernel LOG body; the prefix is r->rule followed by a space. */
size_t ld_render_iptables(const ld_record *r, char *buf, size_t cap);
/* PAN-OS TRAFFIC CSV line (75 columns) after an RFC 3164 header, times in UTC. */
size_t ld_render_panos(const ld_record *r, char *buf, size_t cap);

#endif
