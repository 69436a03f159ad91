/* fuzz_query_expr.c — libFuzzer target for the `--where` parser.  Whatever the input, parsing
 * either fails with a message or yields an expression that formats, pushes down and evaluates
 * over a small block without a crash or a sanitizer report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ld_query.h"

#define ROWS 64

static void run_on_block(const ld_query_expr *e)
{
	static int64_t ts[ROWS];
	static uint32_t ids[ROWS], len[ROWS], sids[ROWS];
	static uint16_t ports[ROWS];
	static uint8_t bytes[ROWS];
	static ld_addr addrs[4];
	static ld_str strs[2];
	for (uint32_t i = 0; i < ROWS; i++) {
		ts[i] = INT64_C(1793606400000000000) + (int64_t)i * 1000000000;
		ids[i] = i % 5; /* id 4 is out of the dictionary on purpose */
		sids[i] = i % 3;
		len[i] = i * 7;
		ports[i] = (uint16_t)(i * 131);
		bytes[i] = (uint8_t)i;
	}
	ld_addr_from_v4(&addrs[0], 0x0a000001);
	ld_addr_from_v4(&addrs[1], 0x0a400307);
	memset(&addrs[2], 0, sizeof addrs[2]);
	addrs[2].b[0] = 0xfd;
	memset(&addrs[3], 0xff, sizeof addrs[3]);
	strs[0] = ld_str_c("");
	strs[1] = ld_str_c("esx-1");
	ld_block b = {
		.n = ROWS, .ts = ts, .src = ids, .dst = ids, .sport = ports, .dport = ports,
		.proto = bytes, .action = bytes, .dir = bytes, .tcp_flags = bytes, .format = bytes,
		.present = bytes, .len = len, .rule = sids, .reporter = sids, .vif = sids,
		.addrs = addrs, .n_addrs = 4, .strs = strs, .n_strs = 2, .segment = "fuzz",
	};
	ld_query_eval *ev = ld_query_eval_new(e, INT64_MIN, INT64_MAX);
	if (!ev)
		return;
	uint32_t sel[ROWS];
	uint32_t k = ld_query_eval_block(ev, &b, sel);
	if (k != UINT32_MAX && k > ROWS)
		abort();
	ld_query_eval_free(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	ld_err err;
	ld_query_expr *e = ld_query_parse(text, INT64_C(1793606400000000000), &err);
	if (e) {
		char buf[256];
		ld_query_format(e, buf, sizeof buf);
		ld_scan_spec spec;
		memset(&spec, 0, sizeof spec);
		spec.from_ns = INT64_MIN;
		spec.to_ns = INT64_MAX;
		spec.dport = spec.proto = -1;
		ld_query_pushdown(e, &spec);
		(void)ld_query_columns(e);
		run_on_block(e);
		ld_query_free(e);
	} else if (strncmp(err.msg, "at column ", 10) != 0 && strcmp(err.msg, "out of memory") != 0) {
		abort(); /* every parse error names its position */
	}
	free(text);
	return 0;
}
