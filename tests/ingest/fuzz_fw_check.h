/* fuzz_fw_check.h — the common body of the firewall-format fuzz targets (fuzz_<fmt>.c). */
#ifndef FUZZ_FW_CHECK_H
#define FUZZ_FW_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ld_parse.h"
#include "ld_record.h"
#include "ld_time.h"
#include "parse_formats.h"

static bool fuzz_fw_inside(ld_str s, const char *base, size_t len, const ld_parse_opts *o)
{
	if (s.len == 0)
		return true;
	if (s.ptr >= base && s.ptr + s.len <= base + len)
		return true;
	/* the fallback reporter points at the state's copy of the option */
	return s.len == o->reporter.len && memcmp(s.ptr, o->reporter.ptr, s.len) == 0;
}

static void fuzz_fw_verify(int rc, uint8_t reason, const ld_record *r, const char *line, size_t len,
			   const ld_parse_opts *o)
{
	if (rc < LD_PARSE_DROP || rc > LD_PARSE_REJECT)
		abort();
	if (rc == LD_PARSE_REJECT && (reason == LD_REJ_NONE || reason >= LD_REJ_COUNT_))
		abort();
	if (rc == LD_PARSE_DROP || rc == LD_PARSE_NOT_DROP) {
		if (!fuzz_fw_inside(r->rule, line, len, o) || !fuzz_fw_inside(r->vif, line, len, o) ||
		    !fuzz_fw_inside(r->reporter, line, len, o))
			abort();
		if (r->action >= LD_ACTION_COUNT_ || r->dir >= LD_DIR_COUNT_)
			abort();
	}
}

static void fuzz_fw_lines(const uint8_t *data, size_t size, int fmt, ld_format_parse_fn parse,
			  ld_format_sig_fn sig)
{
	/* States are built once per process (zone tables, classifier scratch) and reset per input,
	 * as a new file would reset them: per-input construction made the targets ~50x slower. */
	static ld_parse_opts o;
	static ld_parse_state *st, *forced;
	if (!st) {
		memset(&o, 0, sizeof o);
		o.now_ns = ld_time_from_civil(2026, 11, 22, 0, 0, 0, 0);
		o.local_tz = "Europe/Berlin";
		o.reporter = ld_str_c("fuzz-host");
		st = ld_parse_state_new(&o);
		o.forced_format = fmt;
		forced = ld_parse_state_new(&o);
		if (!st || !forced)
			abort();
		o.forced_format = 0;
	}
	ld_parse_state_reset(st);
	ld_parse_state_reset(forced);
	const uint8_t *p = data, *e = data + size;
	while (p <= e) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
		size_t n = (size_t)((nl ? nl : e) - p);
		/* exact-size copy so that a read past the line is a sanitizer error */
		char *line = malloc(n ? n : 1);
		if (!line)
			abort();
		memcpy(line, p, n);
		ld_syslog_hdr h;
		ld_syslog_parse_header(line, n, &o, &h);
		(void)sig(&h);
		ld_record r;
		memset(&r, 0, sizeof r);
		uint8_t reason = 0;
		int rc = parse(st, &h, line, n, &r, &reason);
		fuzz_fw_verify(rc, reason, &r, line, n, &o);
		memset(&r, 0, sizeof r);
		reason = 0;
		rc = ld_parse_line(forced, line, n, &r, &reason);
		fuzz_fw_verify(rc, reason, &r, line, n, &o);
		free(line);
		if (!nl)
			break;
		p = nl + 1;
	}
}

#endif
