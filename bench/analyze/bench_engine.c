/* bench_engine.c — scoring cost: records/s per core and bytes of state per host for a 20 000-desktop
 * estate.  Rows: the suspects path (what ld_batch_run does: addresses resolved once per dictionary
 * entry, order-independent records absorbed while reading, the rest fed in order); the same
 * columns with every record fed in order; the address path (one hash per address per record, as
 * the live service feeds); and end to end from a real store (scan + sort + score).
 *
 * usage: bench_analyze_engine [DESKTOPS [MILLION_RECORDS [STORE_MILLION_RECORDS]]]
 * Defaults 20000, 20, 2 (0 skips the store run).  Prints a table. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ld_analyze.h"
#include "ld_batch.h"
#include "ld_time.h"
#include "ld_writer.h"

#define CHUNK (1u << 20)

/* CPU time of this thread: the machine may be shared, and the target is per core */
static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

typedef struct world {
	uint32_t desktops;
	ld_addr *addr;    /* desktop addresses */
	ld_addr mcast[4];
	int64_t t0;
} world;

/* One synthetic record: the mix of a VDI drop log (mostly discovery noise, some benign unicast,
 * retries of stale mappings, SYN retransmits, a trickle of first contacts, a few scanners). */
static void make(const world *w, uint64_t i, uint64_t total, ld_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->ts_ns = w->t0 + (int64_t)((double)i / (double)total * 86400e9);
	uint32_t s = (uint32_t)(xr() % w->desktops);
	ev->src = w->addr[s];
	ev->action = LD_ACTION_DROP;
	ev->dir = LD_DIR_OUT;
	ev->vif = 0x10000000u + s;
	ev->present = LD_RF_PORTS | LD_RF_TCPFLAGS;
	unsigned k = (unsigned)(xr() % 100);
	if (k < 70) { /* broadcast / multicast discovery */
		ev->dst = w->mcast[xr() % 4];
		ev->proto = 17;
		ev->sport = 5355;
		ev->dport = 5355;
		ev->present = LD_RF_PORTS;
	} else if (k < 85) { /* Delivery Optimization / Teams to a pool neighbour */
		ev->dst = w->addr[(s + 1 + xr() % 200) % w->desktops];
		ev->proto = 6;
		ev->tcp_flags = LD_TCP_SYN;
		ev->sport = (uint16_t)(49152 + xr() % 16000);
		ev->dport = 7680;
	} else if (k < 95) { /* stale mapping retried */
		ev->dst = w->addr[(s * 7 + 3) % w->desktops];
		ev->proto = 6;
		ev->tcp_flags = LD_TCP_SYN;
		ev->sport = (uint16_t)(49152 + xr() % 16000);
		ev->dport = 445;
	} else if (k < 99) { /* mid-session ACKs */
		ev->dst = w->addr[xr() % w->desktops];
		ev->proto = 6;
		ev->tcp_flags = LD_TCP_ACK;
		ev->dport = 445;
	} else { /* first contacts; every 64th source is a scanner sweeping everything */
		if (s % 64 == 0)
			ev->dst = w->addr[xr() % w->desktops];
		else
			ev->dst = w->addr[(s + xr() % 3) % w->desktops];
		ev->proto = 6;
		ev->tcp_flags = LD_TCP_SYN;
		ev->dport = (uint16_t)(xr() % 2 ? 445 : 3389);
	}
}

static void row(const char *what, uint64_t n, double secs)
{
	printf("%-46s %12" PRIu64 " %9.3f %10.1f\n", what, n, secs, secs > 0 ? (double)n / secs / 1e6 : 0);
}

int main(int argc, char **argv)
{
	world w;
	w.desktops = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 20000;
	uint64_t total = (argc > 2 ? strtoull(argv[2], NULL, 10) : 20) * 1000000ull;
	uint64_t store_n = (argc > 3 ? strtoull(argv[3], NULL, 10) : 2) * 1000000ull;
	if (w.desktops < 100 || w.desktops > 1000000 || total == 0)
		return 2;
	w.t0 = ld_time_from_civil(2026, 11, 2, 0, 0, 0, 0);
	w.addr = malloc(w.desktops * sizeof *w.addr);
	ld_event *ev = malloc(CHUNK * sizeof *ev);
	ld_cevent *cev = malloc(CHUNK * sizeof *cev);
	ld_analyze_config *cfg = malloc(sizeof *cfg);
	if (!w.addr || !ev || !cev || !cfg)
		return 1;
	for (uint32_t i = 0; i < w.desktops; i++)
		ld_addr_from_v4(&w.addr[i], (10u << 24) | (20u << 16) | (i / 240 + 1) << 8 | (10 + i % 240));
	ld_addr_from_v4(&w.mcast[0], 0xE00000FCu);
	ld_addr_from_v4(&w.mcast[1], 0xE00000FBu);
	ld_addr_from_v4(&w.mcast[2], 0xEFFFFFFAu);
	ld_addr_from_v4(&w.mcast[3], (10u << 24) | (20u << 16) | (1u << 8) | 255);
	ld_analyze_config_default(cfg);
	ld_err err;
	/* the estate's inventory: one desktop per address, as a VDI pool export gives it */
	ld_inventory *inv = ld_inventory_new();
	if (!inv)
		return 1;
	for (uint32_t i = 0; i < w.desktops; i++) {
		char name[32];
		snprintf(name, sizeof name, "VDI-%05u", i + 1);
		if (!ld_inventory_add(inv, &w.addr[i], name, "", "pool", LD_ROLE_DESKTOP, INT64_MIN,
				      INT64_MAX))
			return 1;
	}
	ld_inventory_finish(inv);

	printf("%-46s %12s %9s %10s\n", "path (thread CPU time)", "records", "seconds", "M rec/s");
	/* column path: each chunk is generated, its addresses resolved like a block dictionary,
	 * then scored; only the scoring is timed */
	ld_engine *e = ld_engine_new(cfg, inv, &err);
	if (!e)
		return 1;
	uint32_t *ids = malloc(w.desktops * sizeof *ids), mids[4];
	if (!ids)
		return 1;
	for (uint32_t i = 0; i < w.desktops; i++)
		ids[i] = ld_engine_addr_id(e, &w.addr[i]);
	for (int i = 0; i < 4; i++)
		mids[i] = ld_engine_addr_id(e, &w.mcast[i]);
	double feed = 0;
	for (uint64_t done = 0; done < total;) {
		uint32_t n = total - done < CHUNK ? (uint32_t)(total - done) : CHUNK;
		for (uint32_t i = 0; i < n; i++) {
			make(&w, done + i, total, &ev[i]);
			ld_cevent *c = &cev[i];
			c->ts_ns = ev[i].ts_ns;
			/* dictionary resolution: desktops are laid out by address */
			uint32_t sv = ld_addr_v4(&ev[i].src), dv = ld_addr_v4(&ev[i].dst);
			c->src = ids[((sv >> 8) & 0xFF) * 240 - 240 + (sv & 0xFF) - 10];
			if ((dv >> 28) == 0xE || (dv & 0xFF) == 0xFF)
				c->dst = mids[dv == 0xE00000FCu ? 0 : dv == 0xE00000FBu ? 1 : dv == 0xEFFFFFFAu ? 2 : 3];
			else
				c->dst = ids[((dv >> 8) & 0xFF) * 240 - 240 + (dv & 0xFF) - 10];
			c->sport = ev[i].sport;
			c->dport = ev[i].dport;
			c->proto = ev[i].proto;
			c->action = ev[i].action;
			c->dir = ev[i].dir;
			c->tcp_flags = ev[i].tcp_flags;
			c->vif = ev[i].vif;
			c->present = ev[i].present;
		}
		double t = now_s();
		for (uint32_t i = 0; i < n; i++) {
			/* as the batch driver does: hide memory latency of the state ahead */
			if (i + 16 < n)
				ld_engine_prefetch(e, &cev[i + 16], 1);
			if (i + 8 < n)
				ld_engine_prefetch(e, &cev[i + 8], 2);
			ld_engine_feed_compact(e, &cev[i]);
		}
		feed += now_s() - t;
		done += n;
	}
	row("score, columns, every record in order (1 core)", total, feed);
	ld_engine_stats st;
	ld_engine_stats_get(e, &st);
	ld_engine_free(e);

	/* the product's path (`logdrop suspects`, ld_batch_run): order-independent rows (discovery
	 * noise...) are absorbed while the block is read; only the rest is fed in order, with the
	 * same prefetching.  The sort of that rest is not timed here (the records are generated in
	 * time order); the store run below includes it. */
	rng = 88172645463325252ull;
	e = ld_engine_new(cfg, inv, &err);
	if (!e)
		return 1;
	for (uint32_t i = 0; i < w.desktops; i++)
		ids[i] = ld_engine_addr_id(e, &w.addr[i]);
	for (int i = 0; i < 4; i++)
		mids[i] = ld_engine_addr_id(e, &w.mcast[i]);
	double feed3 = 0;
	uint64_t fed3 = 0;
	for (uint64_t done = 0; done < total;) {
		uint32_t n = total - done < CHUNK ? (uint32_t)(total - done) : CHUNK;
		for (uint32_t i = 0; i < n; i++) {
			make(&w, done + i, total, &ev[i]);
			ld_cevent *c = &cev[i];
			c->ts_ns = ev[i].ts_ns;
			uint32_t sv = ld_addr_v4(&ev[i].src), dv = ld_addr_v4(&ev[i].dst);
			c->src = ids[((sv >> 8) & 0xFF) * 240 - 240 + (sv & 0xFF) - 10];
			if ((dv >> 28) == 0xE || (dv & 0xFF) == 0xFF)
				c->dst = mids[dv == 0xE00000FCu ? 0 : dv == 0xE00000FBu ? 1 : dv == 0xEFFFFFFAu ? 2 : 3];
			else
				c->dst = ids[((dv >> 8) & 0xFF) * 240 - 240 + (dv & 0xFF) - 10];
			c->sport = ev[i].sport;
			c->dport = ev[i].dport;
			c->proto = ev[i].proto;
			c->action = ev[i].action;
			c->dir = ev[i].dir;
			c->tcp_flags = ev[i].tcp_flags;
			c->vif = ev[i].vif;
			c->present = ev[i].present;
		}
		double t = now_s();
		uint32_t m = 0;
		for (uint32_t i = 0; i < n; i++)
			if (!ld_engine_absorb(e, &cev[i]))
				cev[m++] = cev[i];
		for (uint32_t i = 0; i < m; i++) {
			if (i + 16 < m)
				ld_engine_prefetch(e, &cev[i + 16], 1);
			if (i + 8 < m)
				ld_engine_prefetch(e, &cev[i + 8], 2);
			ld_engine_feed_compact(e, &cev[i]);
		}
		feed3 += now_s() - t;
		fed3 += m;
		done += n;
	}
	row("suspects path: absorb + ordered feed (1 core)", total, feed3);
	printf("  (%.1f %% of the records needed the ordered path)\n", 100.0 * (double)fed3 / (double)total);
	ld_engine_free(e);

	/* address path: the live service's ld_engine_feed (one hash per address per record), with
	 * and without an inventory (without one, identities are keyed by address and vif) */
	for (int with_inv = 1; with_inv >= 0; with_inv--) {
		rng = 88172645463325252ull;
		e = ld_engine_new(cfg, with_inv ? inv : NULL, &err);
		if (!e)
			return 1;
		double feed2 = 0;
		for (uint64_t done = 0; done < total;) {
			uint32_t n = total - done < CHUNK ? (uint32_t)(total - done) : CHUNK;
			for (uint32_t i = 0; i < n; i++)
				make(&w, done + i, total, &ev[i]);
			double t = now_s();
			for (uint32_t i = 0; i < n; i++)
				ld_engine_feed_event(e, &ev[i]);
			feed2 += now_s() - t;
			done += n;
		}
		row(with_inv ? "score, address path, inventory (1 core)"
			     : "score, address path, no inventory (1 core)",
		    total, feed2);
		ld_engine_free(e);
	}

	if (store_n) {
		char dir[] = "/tmp/ld-bench-analyze-XXXXXX";
		if (!mkdtemp(dir))
			return 1;
		ld_store_opts so;
		ld_store_opts_default(&so);
		ld_writer *wr = ld_writer_open(dir, &so, &err);
		if (!wr) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		rng = 88172645463325252ull;
		for (uint64_t i = 0; i < store_n; i++) {
			make(&w, i, store_n, &ev[0]);
			ld_record r;
			memset(&r, 0, sizeof r);
			r.ts_ns = ev[0].ts_ns;
			r.src = ev[0].src;
			r.dst = ev[0].dst;
			r.sport = ev[0].sport;
			r.dport = ev[0].dport;
			r.proto = ev[0].proto;
			r.action = ev[0].action;
			r.dir = ev[0].dir;
			r.tcp_flags = ev[0].tcp_flags;
			r.present = ev[0].present;
			r.format = LD_FMT_NSX;
			r.rule = ld_str_c("1027");
			r.reporter = ld_str_c("esx01");
			r.vif = ld_str_c("1000abcd");
			if (ld_writer_append(wr, &r, &err) != 0) {
				fprintf(stderr, "%s\n", err.msg);
				return 1;
			}
		}
		if (ld_writer_close(wr, &err) != 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		e = ld_engine_new(cfg, inv, &err);
		ld_batch_stats bs;
		struct timespec w0, w1;
		clock_gettime(CLOCK_MONOTONIC, &w0);
		if (!e || ld_batch_run(e, dir, INT64_MIN, INT64_MAX, &bs, &err) != 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &w1);
		row("suspects batch: scan+sort+score (wall, all cores)", bs.fed,
		    (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
		ld_engine_free(e);
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	printf("\n%" PRIu64 " hosts tracked, %" PRIu64 " bytes of state in all, %.0f bytes/host "
	       "(fixed part %zu; +%u for hosts past their exact tables)\n",
	       st.hosts, st.host_bytes, st.hosts ? (double)st.host_bytes / (double)st.hosts : 0.0,
	       ld_engine_host_bytes(), (unsigned)((2 * 64 + 1024) * 8));
	printf("records %" PRIu64 ": east-west %" PRIu64 ", noise %" PRIu64 ", duplicates %" PRIu64
	       ", attempts %" PRIu64 ", scored %" PRIu64 "\n",
	       st.records, st.east_west, st.noise, st.duplicates, st.attempts, st.scored);
	free(ids);
	ld_inventory_free(inv);
	free(w.addr);
	free(ev);
	free(cev);
	free(cfg);
	return 0;
}
