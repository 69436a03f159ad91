/* fuzz_nsx.c — libFuzzer target: NSX packet-log lines through the dispatcher (auto-detected and
 * forced) and the NSX field parser directly. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ld_parse.h"
#include "parse_registry.h"

static void check(const char *s, size_t n, int r, const ld_record *rec)
{
	if (r < LD_PARSE_DROP || r > LD_PARSE_REJECT)
		abort();
	if (r == LD_PARSE_DROP || r == LD_PARSE_NOT_DROP) {
		const ld_str *v[] = {&rec->rule, &rec->vif};
		for (int i = 0; i < 2; i++)
			if (v[i]->len && (v[i]->ptr < s || v[i]->ptr + v[i]->len > s + n))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ld_parse_state *autodetect, *forced;
	if (!autodetect) {
		ld_parse_opts o = {0};
		o.now_ns = INT64_C(1795348800) * 1000000000;
		autodetect = ld_parse_state_new(&o);
		o.forced_format = LD_FMT_NSX;
		forced = ld_parse_state_new(&o);
	}
	const char *s = (const char *)data;
	ld_record rec;
	uint8_t why;
	check(s, size, ld_parse_line(autodetect, s, size, &rec, &why), &rec);
	check(s, size, ld_parse_line(forced, s, size, &rec, &why), &rec);
	/* the field parser on a body without any header */
	ld_syslog_hdr h = {0};
	h.pri = -1;
	h.ts_ns = INT64_MIN;
	h.msg = s;
	h.msg_len = size;
	ld_record r2 = {0};
	check(s, size, ld_parse_nsx(forced, &h, s, size, &r2, &why), &r2);
	(void)ld_sig_nsx(&h);
	return 0;
}
