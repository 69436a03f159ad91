/* fuzz_analyze_engine.c — libFuzzer target: arbitrary bytes as a stream of drop records fed to
 * the engine (any addresses, ports, flags, verdicts, time jumps back and forth), then the report
 * with incidents and parents is built and printed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_analyze.h"
#include "ld_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ld_analyze_config *cfg;
	static ld_inventory *inv;
	if (!inv) {
		/* half the engines get an inventory: fixed addresses, a reused one, a v6 twin */
		inv = ld_inventory_new();
		if (!inv)
			return 0;
		for (uint32_t i = 1; i < 40; i++) {
			ld_addr a;
			char name[16];
			ld_addr_from_v4(&a, 0x0A000100u | i);
			snprintf(name, sizeof name, "D%u", i);
			ld_inventory_add(inv, &a, name, "", "", i == 7 ? LD_ROLE_SCANNER : LD_ROLE_DESKTOP,
					 i == 9 ? INT64_C(1793606400) * 1000000000 : INT64_MIN, INT64_MAX);
		}
		ld_addr v6;
		ld_addr_parse(&v6, "fd20::5", 7);
		ld_inventory_add(inv, &v6, "D5", "", "", LD_ROLE_DESKTOP, INT64_MIN, INT64_MAX);
		ld_inventory_finish(inv);
	}
	if (!cfg) {
		cfg = malloc(sizeof *cfg);
		if (!cfg)
			return 0;
		ld_analyze_config_default(cfg);
		ld_prefix_parse(&cfg->scanners[0], "10.9.0.0/24", 11);
		cfg->n_scanners = 1;
	}
	ld_err err;
	ld_engine *e = ld_engine_new(cfg, size % 2 ? inv : NULL, &err);
	if (!e)
		return 0;
	int64_t ts = INT64_C(1793606400) * 1000000000;
	for (size_t off = 0; off + REC <= size; off += REC) {
		const uint8_t *p = data + off;
		ld_event ev;
		memset(&ev, 0, sizeof ev);
		int16_t dt;
		memcpy(&dt, p, 2);
		ts += (int64_t)dt * 10000000; /* ±327 s steps, backwards too */
		ev.ts_ns = ts;
		/* small address space so that peers repeat; some v6, some multicast/outside */
		if (p[2] & 0x80) {
			ld_addr_parse(&ev.src, "fd20::1", 7);
			ev.src.b[15] = p[3];
		} else {
			ld_addr_from_v4(&ev.src, 0x0A000000u | (uint32_t)(p[2] & 0x7F) << 8 | p[3]);
		}
		/* and sometimes through the batch driver's early accounting */
		bool early = p[19] & 1;
		if (p[4] & 0x80) {
			ld_addr_parse(&ev.dst, "fd20::1", 7);
			ev.dst.b[15] = p[5];
		} else {
			uint32_t hi = (p[4] & 0x70) == 0x70 ? 0xE0000000u : (p[4] & 0x60) == 0x60 ? 0xC0A80000u : 0x0A000000u;
			ld_addr_from_v4(&ev.dst, hi | (uint32_t)(p[4] & 0x0F) << 8 | p[5]);
		}
		memcpy(&ev.sport, p + 6, 2);
		memcpy(&ev.dport, p + 8, 2);
		ev.proto = p[10];
		ev.action = p[11] % 7;
		ev.dir = p[12] % 4;
		ev.tcp_flags = p[13];
		ev.present = p[14];
		memcpy(&ev.vif, p + 15, 4);
		if (early) {
			ld_cevent c = {.ts_ns = ev.ts_ns, .src = ld_engine_addr_id(e, &ev.src),
				       .dst = ld_engine_addr_id(e, &ev.dst), .sport = ev.sport,
				       .dport = ev.dport, .proto = ev.proto, .action = ev.action,
				       .dir = ev.dir, .tcp_flags = ev.tcp_flags, .vif = ev.vif,
				       .present = ev.present};
			ld_engine_prefetch(e, &c, 1);
			ld_engine_prefetch(e, &c, 2);
			if (!ld_engine_absorb(e, &c))
				ld_engine_feed_compact(e, &c);
		} else {
			ld_engine_feed_event(e, &ev);
		}
	}
	ld_report r;
	if (ld_report_build(e, &r, &err) == 0) {
		FILE *devnull = fopen("/dev/null", "w");
		if (devnull) {
			ld_report_print_table(devnull, &r, 0, true);
			ld_report_print_json(devnull, &r, 0, true);
			fclose(devnull);
		}
		ld_report_free(&r);
	}
	ld_engine_free(e);
	return 0;
}
