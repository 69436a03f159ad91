/* parse_state.h — the per-stream parsing state behind the opaque ld_parse_state (internal to
 * ingest/).
 *
 * Contract:
 *  - One state per stream (file, TCP connection, UDP sender) and per thread; nothing is shared.
 *  - `opts` is a copy of the options given to ld_parse_state_new(); format parsers read it (year
 *    override, local zone, fallback reporter) but never change it.
 *  - `fw` is the area of the perimeter/host firewall parsers (parse_formats.h): Windows Firewall
 *    #Fields map, resolved zone.  It is zeroed by ld_parse_state_new() and ld_parse_state_reset().
 *  - `fmt_ctx[fmt]` is a free pointer slot per format for any further per-stream context; a parser
 *    that allocates one sets `fmt_ctx_free[fmt]` so reset/free release it.
 *  - The format cache (`cached_fmt`) belongs to the dispatcher (parse_line.c).
 */
#ifndef LD_PARSE_STATE_H
#define LD_PARSE_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "ld_parse.h"
#include "ld_record.h"
#include "parse_formats.h"

/* Header timestamp text was present but impossible (month 13, Feb 30...): the header parser sets
 * ts_ns to this value and the dispatcher rejects the line with LD_REJ_BAD_TIME before any format
 * parser sees it.  LD_TIME_NONE (absent) stays distinct. */
#define LD_HDR_TS_INVALID (INT64_MIN + 1)

struct ld_parse_state {
	ld_parse_opts opts;
	char reporter_buf[256]; /* owned copy of opts.reporter (opts.reporter points here) */
	char tz_buf[128];       /* owned copy of opts.local_tz (opts.local_tz points here) */

	/* dispatcher: format cache for this stream */
	uint8_t cached_fmt;     /* enum ld_format, 0 = not decided yet */
	uint32_t sig_misses;    /* consecutive lines the cached format's signature refused */
	uint64_t reclassified;  /* how often the cached format changed */

	/* per-format stream context */
	ld_fw_stream fw;
	void *fmt_ctx[LD_FMT_COUNT_];
	void (*fmt_ctx_free[LD_FMT_COUNT_])(void *ctx);
};

/* Fallback event time for formats whose line carries none: the options' reference time. */
static inline int64_t ld_parse_state_now(const ld_parse_state *st)
{
	return st->opts.now_ns;
}

#endif
