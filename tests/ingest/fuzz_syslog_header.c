/* fuzz_syslog_header.c — libFuzzer target: the syslog header parser on arbitrary bytes.  Checks
 * that every view it returns lies inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ld_parse.h"

static void inside(const char *base, size_t n, const char *p, size_t len)
{
	if (len && (p < base || p + len > base + n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	ld_parse_opts o = {0};
	o.now_ns = INT64_C(1795348800) * 1000000000; /* fixed: reproducible year inference */
	o.year_override = size > 0 && data[0] == 'Y' ? 2020 : 0;
	ld_syslog_hdr h;
	ld_syslog_parse_header(s, size, &o, &h);
	if (h.msg < s || h.msg + h.msg_len > s + size)
		abort();
	inside(s, size, h.host.ptr, h.host.len);
	inside(s, size, h.tag.ptr, h.tag.len);
	inside(s, size, h.msgid.ptr, h.msgid.len);
	inside(s, size, h.sd.ptr, h.sd.len);
	return 0;
}
