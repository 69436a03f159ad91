/* store_testgen.h — deterministic records for the store tests: every column varied, IPv4 and
 * IPv6, strings from pools, optional raw text.  Record i is a pure function of (seed, i), so a
 * test can regenerate what it expects instead of keeping a copy. */
#ifndef STORE_TESTGEN_H
#define STORE_TESTGEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ld_record.h"

#define TG_BASE_NS INT64_C(1793574000000000000) /* 2026-11-01T23:00:00Z */
#define TG_STEP_NS INT64_C(200000000)           /* 200 ms: 1 M rows span three UTC days */

typedef struct tg_bufs {
	char rule[32], reporter[32], vif[32], raw[200];
} tg_bufs;

static inline uint64_t tg_mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static inline int64_t tg_ts(uint64_t seed, uint64_t i)
{
	return TG_BASE_NS + (int64_t)i * TG_STEP_NS + (int64_t)(tg_mix(seed ^ (i * 31)) % 1000000);
}

/* Row id back from a time stamp made by tg_ts. */
static inline uint64_t tg_id(int64_t ts)
{
	return (uint64_t)((ts - TG_BASE_NS) / TG_STEP_NS);
}

static inline void tg_record(uint64_t seed, uint64_t i, bool with_raw, ld_record *r, tg_bufs *b)
{
	uint64_t h = tg_mix(seed * 1000003 + i), h2 = tg_mix(h), h3 = tg_mix(h2);
	memset(r, 0, sizeof(*r));
	r->ts_ns = tg_ts(seed, i);
	if (h % 5 == 0) {
		static const uint8_t pfx[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0};
		memcpy(r->src.b, pfx, 8);
		memcpy(r->dst.b, pfx, 8);
		r->src.b[15] = (uint8_t)(h2 % 200);
		r->src.b[14] = (uint8_t)(h2 >> 8 & 3);
		r->dst.b[15] = (uint8_t)(h3 % 250);
		r->dst.b[9] = (uint8_t)(h3 >> 8);
	} else {
		ld_addr_from_v4(&r->src, 0x0a400000u + (uint32_t)(h2 % 3000));
		ld_addr_from_v4(&r->dst, h % 7 == 1 ? 0xe00000fcu : 0x0a400000u + (uint32_t)(h3 % 3000));
	}
	r->sport = (uint16_t)(h2 >> 20);
	static const uint16_t ports[] = {445, 137, 5355, 7680, 3389, 135, 22};
	r->dport = h % 11 == 0 ? (uint16_t)(h3 >> 24) : ports[(h >> 12) % 7];
	static const uint8_t protos[] = {6, 6, 6, 17, 17, 1, 58, 47};
	r->proto = protos[(h >> 16) % 8];
	r->action = (uint8_t)((h >> 20) % LD_ACTION_COUNT_);
	r->dir = (uint8_t)((h >> 24) % LD_DIR_COUNT_);
	r->tcp_flags = (uint8_t)(h3 >> 40);
	r->format = (uint8_t)((h >> 28) % LD_FMT_COUNT_);
	r->present = (uint8_t)((h >> 32) & 0x1f);
	r->len = (h >> 36) % 9 == 0 ? (uint32_t)(h3 >> 8) : (uint32_t)(40 + (h >> 40) % 1400);
	if (seed & 1) {
		/* narrow mode (odd seeds): few distinct small-column tuples, as in real drop logs, so
		 * blocks take the row-shape encoding (seed & 2: lengths too varied to join the
		 * shape); some rows have sport == dport */
		static const uint8_t fl[] = {0x02, 0x12};
		static const uint32_t lens[] = {52, 66, 78, 40, 1500, 64, 90, 0};
		r->tcp_flags = fl[(h3 >> 40) % 2];
		r->format = LD_FMT_NSX;
		r->present = LD_RF_PORTS | LD_RF_LEN;
		r->len = seed & 2 ? (uint32_t)(h3 >> 8) % 100000 : lens[(h >> 36) % 8];
		r->dport = ports[(h >> 12) % 7];
		r->proto = r->dport == 137 || r->dport == 5355 ? 17 : 6;
		r->action = (h >> 20) % 2 ? LD_ACTION_DROP : LD_ACTION_REJECT;
		r->dir = (h >> 24) % 2 ? LD_DIR_IN : LD_DIR_OUT;
		if ((h2 >> 33) % 5 == 0)
			r->sport = r->dport;
	}
	int n = (h2 >> 40) % 13 == 0 ? 0 : snprintf(b->rule, sizeof(b->rule), "rule-%u", (unsigned)(h2 >> 44) % (seed & 1 ? 3 : 20));
	r->rule = (ld_str){b->rule, (uint32_t)n};
	n = snprintf(b->reporter, sizeof(b->reporter), "esx%02u.vdi.local", (unsigned)(h2 >> 50) % 8);
	r->reporter = (ld_str){b->reporter, (uint32_t)n};
	n = (h3 >> 50) % 4 == 0 ? 0 : snprintf(b->vif, sizeof(b->vif), "%08x", (unsigned)(h3 % 3000) * 2654435761u);
	r->vif = (ld_str){b->vif, (uint32_t)n};
	if (with_raw && h3 % 3 != 0) {
		n = snprintf(b->raw, sizeof(b->raw),
			     "2026-11-02T08:00:00.%03uZ %.*s INET match DROP %.*s IN %u TCP src/%u->dst/%u S %llx",
			     (unsigned)(h % 1000), (int)r->vif.len, r->vif.ptr, (int)r->rule.len, b->rule, r->len, r->sport,
			     r->dport, (unsigned long long)(h3 >> (h % 40)));
		r->raw = (ld_str){b->raw, (uint32_t)n};
	} else {
		r->raw = (ld_str){"", 0};
	}
}

/* An estate's traffic, as the store's encodings expect to see it (seg_peers.c, enc_predict):
 * `desktops` desktops (at most 600), each sending to 8 usual peers and its subnet's broadcast
 * address most of the time and to a random host otherwise, on a few ports and now and then a
 * random one; TCP lengths of a few sizes, UDP ones of many; reporter and rule follow the source;
 * vif is empty for odd seeds and follows the destination for even ones.  Some sources are IPv6. */
static inline void tg_estate_record(uint64_t seed, uint64_t i, uint32_t desktops, ld_record *r,
				    tg_bufs *b)
{
	uint64_t h = tg_mix(seed * 1000033 + i), h2 = tg_mix(h);
	memset(r, 0, sizeof(*r));
	r->ts_ns = tg_ts(seed, i);
	uint32_t si = (uint32_t)(h % desktops), di;
	unsigned pick = (unsigned)(h2 % 100);
	if (pick < 85)
		di = (uint32_t)(tg_mix(seed + si * 8 + (h2 >> 8) % 8) % desktops);
	else if (pick < 90)
		di = 0xffffffffu; /* broadcast of the source's subnet */
	else
		di = (uint32_t)((h2 >> 16) % 5000);
	uint32_t s4 = 0x0a400000u | (si / 200) << 8 | si % 200;
	if (si % 10 == 3) { /* IPv6 desktops */
		static const uint8_t pfx[8] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0};
		memcpy(r->src.b, pfx, 8);
		r->src.b[15] = (uint8_t)si;
		r->src.b[14] = (uint8_t)(si >> 8);
	} else {
		ld_addr_from_v4(&r->src, s4);
	}
	ld_addr_from_v4(&r->dst, di == 0xffffffffu ? (s4 | 0xff) : 0x0a400000u | (di / 200) << 8 | di % 200);
	static const uint16_t ports[] = {445, 445, 445, 7680, 3389, 135, 137, 5355};
	r->dport = di == 0xffffffffu ? 137 : ports[(h2 >> 24) % 8];
	if ((h2 >> 40) % 32 == 0) /* now and then a port seen once or twice in a block */
		r->dport = (uint16_t)(1024 + (h2 >> 45) % 60000);
	r->proto = r->dport == 137 || r->dport == 5355 ? 17 : 6;
	r->sport = r->dport == 137 ? 137 : (uint16_t)(49152 + (h >> 20) % 16384);
	r->action = (h >> 40) % 10 ? LD_ACTION_DROP : LD_ACTION_REJECT;
	r->dir = (h >> 44) % 2 ? LD_DIR_IN : LD_DIR_OUT;
	r->tcp_flags = r->proto == 6 ? LD_TCP_SYN : 0;
	r->len = r->proto == 6 ? 52 + 4 * (uint32_t)((h >> 48) % 4) : 78 + (uint32_t)((h >> 48) % 200);
	r->format = LD_FMT_NSX;
	r->present = LD_RF_PORTS | LD_RF_LEN | (r->proto == 6 ? LD_RF_TCPFLAGS : 0);
	int n = snprintf(b->rule, sizeof(b->rule), "%u", 1001 + si % 5);
	r->rule = (ld_str){b->rule, (uint32_t)n};
	n = snprintf(b->reporter, sizeof(b->reporter), "esx-%02u.vdi.example", si % 12);
	r->reporter = (ld_str){b->reporter, (uint32_t)n};
	n = seed & 1 ? 0 : snprintf(b->vif, sizeof(b->vif), "%08x", (unsigned)(di * 2654435761u));
	r->vif = (ld_str){b->vif, (uint32_t)n};
	r->raw = (ld_str){"", 0};
}

static inline bool tg_str_eq(ld_str a, ld_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Field-by-field equality (raw compared only when want_raw). */
static inline bool tg_equal(const ld_record *a, const ld_record *b, bool want_raw)
{
	return a->ts_ns == b->ts_ns && ld_addr_eq(&a->src, &b->src) && ld_addr_eq(&a->dst, &b->dst) &&
	       a->sport == b->sport && a->dport == b->dport && a->len == b->len &&
	       a->proto == b->proto && a->action == b->action && a->dir == b->dir &&
	       a->tcp_flags == b->tcp_flags && a->format == b->format && a->present == b->present &&
	       tg_str_eq(a->rule, b->rule) && tg_str_eq(a->reporter, b->reporter) &&
	       tg_str_eq(a->vif, b->vif) && (!want_raw || tg_str_eq(a->raw, b->raw)) &&
	       (want_raw || b->raw.len == 0);
}

#endif
