/* ld_parse.h — text drop-log parsing: syslog framing header, then one field parser per format.
 *
 * Contract:
 *  - ld_parse_line() turns one line (no trailing newline) into at most one ld_record.  It never
 *    allocates, never reads past `len`, and never needs NUL termination.  Strings in the record
 *    (rule, reporter, vif, raw) point into the line or into the state, valid until the next call.
 *  - The result says what the line was: a drop/deny/reject record (LD_PARSE_DROP), a valid record of
 *    another verdict (LD_PARSE_NOT_DROP: allow/pass, TERM, session start...; the record is filled so
 *    callers may keep it when asked), a line to skip silently (LD_PARSE_SKIP: blank, comment, file
 *    header), or malformed input (LD_PARSE_REJECT, with *reason set).  Rejects are counted and kept
 *    aside by the caller; they never stop a stream.
 *  - ld_parse_state is per stream (file, TCP connection, UDP sender): it caches the detected format
 *    and carries stream context (Windows Firewall #Fields map).  One state per thread; no sharing.
 */
#ifndef LD_PARSE_H
#define LD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_record.h"

enum ld_parse_result {
	LD_PARSE_DROP = 0,
	LD_PARSE_NOT_DROP = 1,
	LD_PARSE_SKIP = 2,
	LD_PARSE_REJECT = 3,
};

enum ld_reject_reason {
	LD_REJ_NONE = 0,
	LD_REJ_UNRECOGNISED, /* no known format matches */
	LD_REJ_TRUNCATED,    /* line ends before the mandatory fields */
	LD_REJ_BAD_ADDRESS,
	LD_REJ_BAD_PORT,     /* not a number or > 65535 */
	LD_REJ_BAD_TIME,     /* unparseable or impossible timestamp */
	LD_REJ_BAD_FIELD,    /* another mandatory field is malformed */
	LD_REJ_BINARY,       /* NUL or control bytes / invalid UTF-8 where text is expected */
	LD_REJ_TOO_LONG,     /* over LD_LINE_MAX */
	LD_REJ_COUNT_
};

#define LD_LINE_MAX (64 * 1024)

const char *ld_reject_name(unsigned reason); /* "truncated", "bad_address", ... */

/* What the syslog layer found in front of the message.  Every field optional. */
typedef struct ld_syslog_hdr {
	int pri;          /* -1 when absent */
	int64_t ts_ns;    /* LD_TIME_NONE when absent */
	ld_str host;      /* reporter */
	ld_str tag;       /* APP-NAME / TAG without [pid] and ':' */
	ld_str msgid;     /* RFC 5424 MSGID */
	ld_str sd;        /* RFC 5424 STRUCTURED-DATA text, "" or "-" when none */
	const char *msg;  /* the message body after the header */
	size_t msg_len;
} ld_syslog_hdr;

typedef struct ld_parse_opts {
	int64_t now_ns;        /* reference for year inference (RFC 3164) */
	int year_override;     /* --year; 0 = infer */
	int32_t local_tz_offset_s; /* fixed offset for local-time formats when no zone name given */
	const char *local_tz;  /* IANA zone name for local-time formats (Windows Firewall), or NULL */
	bool keep_raw;         /* set record.raw to the whole line */
	ld_str reporter;       /* --reporter NAME: used when the line names none */
	int forced_format;     /* enum ld_format, 0 = auto-detect */
} ld_parse_opts;

typedef struct ld_parse_state ld_parse_state;

ld_parse_state *ld_parse_state_new(const ld_parse_opts *opts);
void ld_parse_state_free(ld_parse_state *st);
/* Forget stream context (new file / connection) but keep options. */
void ld_parse_state_reset(ld_parse_state *st);

int ld_parse_line(ld_parse_state *st, const char *line, size_t len, ld_record *out,
		  uint8_t *reason);

/* Parse the syslog header variants (RFC 3164, RFC 5424, ESXi legacy and file forms, relay double
 * headers, none at all).  Always succeeds: on no header, msg = the whole line. */
void ld_syslog_parse_header(const char *line, size_t len, const ld_parse_opts *opts,
			    ld_syslog_hdr *h);

/* One format's field parser.  `h` is the parsed header of `line`.  Fills `out` (ts, reporter from
 * the header when the body has none) and returns an enum ld_parse_result. */
typedef int (*ld_format_parse_fn)(ld_parse_state *st, const ld_syslog_hdr *h, const char *line,
				  size_t len, ld_record *out, uint8_t *reason);
/* Cheap per-line check that the body looks like this format (used to confirm a cached format). */
typedef bool (*ld_format_sig_fn)(const ld_syslog_hdr *h);

#endif
