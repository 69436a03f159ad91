/* parse_registry.h — the table of text formats the dispatcher knows, and the NSX and iptables
 * field parsers (the other formats are declared in parse_formats.h).
 *
 * Contract:
 *  - Rows are in classification order: when a stream's format is not known yet, a line goes to the
 *    first row whose signature accepts it.  Signatures are cheap (a few memcmp/memmem) and only
 *    look at the parsed header; the field parser then decides between record and reject.
 *  - ld_format_lookup() returns NULL for formats without a text parser in this build.
 */
#ifndef LD_PARSE_REGISTRY_H
#define LD_PARSE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_parse.h"

typedef struct ld_format_entry {
	uint8_t fmt; /* enum ld_format */
	ld_format_parse_fn parse;
	ld_format_sig_fn sig;
} ld_format_entry;

const ld_format_entry *ld_format_registry(size_t *n);
const ld_format_entry *ld_format_lookup(unsigned fmt);

/* Pre-seeds the stream's format cache (e.g. from a whole-file classification); lines that do not
 * match it are still re-classified one by one. */
void ld_parse_state_set_format(ld_parse_state *st, unsigned fmt);
/* The format cached for the stream (0 = none yet). */
unsigned ld_parse_state_format(const ld_parse_state *st);

int ld_parse_nsx(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		 ld_record *out, uint8_t *reason);
bool ld_sig_nsx(const ld_syslog_hdr *h);
int ld_parse_iptables(ld_parse_state *st, const ld_syslog_hdr *h, const char *line, size_t len,
		      ld_record *out, uint8_t *reason);
bool ld_sig_iptables(const ld_syslog_hdr *h);

#endif
