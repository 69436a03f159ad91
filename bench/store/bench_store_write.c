/* bench_store_write.c — write throughput and on-disk size of the store on a realistic VDI drop
 * stream: a few thousand desktops behind NSX DFW, broadcast/multicast noise (NetBIOS, LLMNR,
 * SSDP, mDNS), denied desktop-to-desktop attempts on 445/3389/7680/135, a few scanners sweeping
 * subnets, random ephemeral source ports, millisecond time stamps.
 *
 *   bench_store_write [records (default 10000000)] [dir (default $TMPDIR or /tmp)]
 *   BENCH_ONLY=no-raw|no-raw-warm|raw|raw-z1 runs one configuration; BENCH_PHASES=1 prints append and seal times apart; BENCH_KEEP=1 keeps the data directories.
 *   BENCH_REPEAT=N runs each configuration N times (one row each: the machine may be shared).
 *   BENCH_PERF_CTL=FIFO writes "enable"/"disable" around each timed run, so that
 *   `perf record --delay=-1 --control=fifo:FIFO` profiles the store and not the generator.
 *
 * Records are generated in memory first (deterministic), then timed through the writer: append
 * (journal encode + write, interval fsync) and seal (sort, encode, zstd, fsync, MANIFEST).  The
 * writer is single-threaded, so records/s is per core.  Prints one table row per configuration. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ld_archive.h"
#include "ld_time.h"
#include "ld_writer.h"

#define N_DESKTOPS 3000
#define N_ESX 40
#define N_SCANNERS 4

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(rnd64() % n);
}

static uint32_t desktop_ip(uint32_t i)
{
	return 0x0a400000u | (i / 250) << 8 | (1 + i % 250); /* 10.64.<pool>.<1..250> */
}

typedef struct estate {
	char vif[N_DESKTOPS][9];
	char esx[N_ESX][24];
	uint32_t scanner[N_SCANNERS], scan_next[N_SCANNERS];
} estate;

static void estate_init(estate *e)
{
	for (uint32_t i = 0; i < N_DESKTOPS; i++)
		snprintf(e->vif[i], sizeof(e->vif[i]), "%08x", (uint32_t)rnd64());
	for (uint32_t i = 0; i < N_ESX; i++)
		snprintf(e->esx[i], sizeof(e->esx[i]), "esx-%02u.vdi.corp", i + 1);
	for (uint32_t i = 0; i < N_SCANNERS; i++) {
		e->scanner[i] = rnd(N_DESKTOPS);
		e->scan_next[i] = rnd(N_DESKTOPS);
	}
}

static uint16_t ephemeral(void)
{
	return (uint16_t)(49152 + rnd(16384));
}

/* One record; the endpoint whose vNIC logged it (src for OUT) names reporter and vif. */
static void gen(const estate *e, int64_t ts, ld_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ts_ns = ts;
	r->format = LD_FMT_NSX;
	r->present = LD_RF_PORTS | LD_RF_LEN;
	r->action = rnd(50) == 0 ? LD_ACTION_REJECT : LD_ACTION_DROP;
	r->dir = LD_DIR_OUT;
	uint32_t src = rnd(N_DESKTOPS), dsti = 0;
	uint32_t dst_ip;
	const char *rule = "1031";
	uint32_t kind = rnd(1000);
	if (kind < 400) { /* broadcast / multicast noise */
		r->proto = 17;
		uint32_t k = rnd(4);
		rule = "1027";
		if (k == 0) {
			dst_ip = (desktop_ip(src) & 0xffffff00u) | 0xff;
			r->sport = r->dport = 137;
			r->len = 78;
		} else if (k == 1) {
			dst_ip = 0xe00000fcu; /* 224.0.0.252 LLMNR */
			r->sport = ephemeral();
			r->dport = 5355;
			r->len = 64 + rnd(16);
		} else if (k == 2) {
			dst_ip = 0xeffffffau; /* 239.255.255.250 SSDP */
			r->sport = ephemeral();
			r->dport = 1900;
			r->len = 165;
		} else {
			dst_ip = 0xe00000fbu; /* 224.0.0.251 mDNS */
			r->sport = r->dport = 5353;
			r->len = 90 + rnd(60);
		}
	} else if (kind < 960) { /* desktop-to-desktop attempts, mostly in the same pool */
		static const uint16_t ports[] = {445, 445, 445, 7680, 7680, 3389, 135, 139, 5985};
		dsti = rnd(4) ? (src / 250) * 250 + rnd(250) : rnd(N_DESKTOPS);
		dst_ip = desktop_ip(dsti);
		r->proto = 6;
		r->sport = ephemeral();
		r->dport = ports[rnd(9)];
		r->len = rnd(4) ? 52 : 66;
		r->tcp_flags = LD_TCP_SYN;
		r->present |= LD_RF_TCPFLAGS;
		if (rnd(5) == 0)
			r->dir = LD_DIR_IN;
	} else { /* scanners sweep subnets */
		estate *m = (estate *)e;
		uint32_t s = rnd(N_SCANNERS);
		src = e->scanner[s];
		dsti = m->scan_next[s]++ % N_DESKTOPS;
		dst_ip = desktop_ip(dsti);
		static const uint16_t sp[] = {445, 3389, 135, 22};
		r->proto = 6;
		r->sport = ephemeral();
		r->dport = sp[rnd(4)];
		r->len = 52;
		r->tcp_flags = LD_TCP_SYN;
		r->present |= LD_RF_TCPFLAGS;
		rule = "1031";
	}
	ld_addr_from_v4(&r->src, desktop_ip(src));
	ld_addr_from_v4(&r->dst, dst_ip);
	uint32_t logger = r->dir == LD_DIR_IN ? dsti : src;
	r->rule = ld_str_c(rule);
	r->reporter = ld_str_c(e->esx[logger % N_ESX]);
	r->vif = ld_str_c(e->vif[logger]);
}

/* NSX-T dfwpktlogs line as forwarded by the ESXi host. */
static size_t nsx_line(const ld_record *r, char *out, size_t cap)
{
	char ts[LD_TIME_STRLEN], s[LD_ADDR_STRLEN], d[LD_ADDR_STRLEN], fl[9];
	ld_time_format_ms(r->ts_ns, ts);
	ld_addr_format(&r->src, s);
	ld_addr_format(&r->dst, d);
	size_t nf = ld_tcp_flags_format(r->tcp_flags, fl);
	fl[nf] = '\0';
	int n = snprintf(out, cap, "<182>1 %s %.*s FIREWALL-PKTLOG - - - %.*s INET match %s %.*s %s %u %s %s/%u->%s/%u%s%s",
			 ts, (int)r->reporter.len, r->reporter.ptr, (int)r->vif.len, r->vif.ptr,
			 r->action == LD_ACTION_REJECT ? "REJECT" : "DROP", (int)r->rule.len,
			 r->rule.ptr, r->dir == LD_DIR_IN ? "IN" : "OUT", r->len,
			 r->proto == 6 ? "TCP" : "UDP", s, r->sport, d, r->dport, nf ? " " : "", fl);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* perf's control FIFO, when asked for: the timed part alone gets profiled */
static void perf_ctl(const char *cmd)
{
	const char *fifo = getenv("BENCH_PERF_CTL");
	if (!fifo)
		return;
	FILE *f = fopen(fifo, "w");
	if (f) {
		fprintf(f, "%s\n", cmd);
		fclose(f);
	}
}

#define BATCH 4096 /* records per ld_writer_append_batch call, as a parser block hands over */

/* Writes recs[0, n) into a new store and prints one table row.  warm > 0: the writer first
 * takes warm records from just before them (recs[-warm, 0)) and has sealed them before the
 * clock starts, so the timed part finds its row sets and encoder buffers already in memory, as
 * a running service does; the cold rows pay for first touching them. */
static int run(const char *base, const char *name, const ld_record *recs, size_t n, size_t warm,
	       bool raw, int level, double raw_bytes)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/ld-bench-%s-%d", base, name, (int)getpid());
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = raw;
	o.zstd_level = level;
	ld_err err;
	ld_writer *w = NULL;
	if (warm) {
		w = ld_writer_open(dir, &o, &err);
		for (size_t i = 0; w && i < warm; i++)
			if (ld_writer_append(w, &recs[i - warm], &err) != 0) {
				ld_writer_close(w, NULL);
				w = NULL;
			}
		if (w && ld_writer_sync(w, &err) != 0) {
			ld_writer_close(w, NULL);
			w = NULL;
		}
		if (!w) {
			fprintf(stderr, "bench: warm-up: %s\n", err.msg);
			return 1;
		}
	}
	perf_ctl("enable");
	double t0 = now_s(), c0 = cpu_s();
	if (!w)
		w = ld_writer_open(dir, &o, &err);
	if (!w) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < n; i += BATCH)
		if (ld_writer_append_batch(w, &recs[i], n - i < BATCH ? n - i : BATCH, &err) != 0) {
			fprintf(stderr, "bench: %s\n", err.msg);
			ld_writer_close(w, NULL);
			return 1;
		}
	double t_app = now_s() - t0;
	if (ld_writer_close(w, &err) != 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 1;
	}
	double wall = now_s() - t0, cpu = cpu_s() - c0;
	perf_ctl("disable");
	ld_archive_info info;
	if (ld_archive_info_print(dir, NULL, &info, &err) != 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		return 1;
	}
	printf("| %-14s | %5d | %10zu | %8.2f | %10.2f | %10.2f | %9.2f | %8" PRIu64 " |\n", name,
	       level, n, wall, (double)n / wall / 1e6, (double)n / cpu / 1e6,
	       (double)info.bytes / (double)info.rows, info.segments);
	if (getenv("BENCH_PHASES"))
		printf("|   append %.2f s, seal+close %.2f s\n", t_app, wall - t_app);
	if (raw)
		printf("|   (raw text: %.1f B/record before compression)\n", raw_bytes / (double)n);
	char cmd[4200];
	if (getenv("BENCH_KEEP")) /* leave the data directory for inspection */
		return 0;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not remove %s\n", dir);
	return 0;
}

int main(int argc, char **argv)
{
	char *end = NULL;
	size_t n = argc > 1 ? strtoull(argv[1], &end, 10) : 10000000;
	if (argc > 3 || (argc > 1 && (*end || n == 0))) {
		fprintf(stderr, "usage: bench_store_write [records (default 10000000)] [dir]\n");
		return 2;
	}
	const char *base = argc > 2 ? argv[2] : getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	static estate e;
	estate_init(&e);
	const char *only = getenv("BENCH_ONLY"); /* run one configuration, e.g. for a profiler */
	/* the warm run's writer first fills and seals both its row sets (two segments' worth) */
	size_t warm = !only || strcmp(only, "no-raw-warm") == 0 ? (size_t)2 * (4u << 20) : 0;
	ld_record *all = malloc((warm + n) * sizeof(ld_record)), *recs = all + warm;
	char *raw = malloc((warm + n) * 160);
	if (!all || !raw) {
		fprintf(stderr, "bench: out of memory for %zu records\n", warm + n);
		return 1;
	}
	/* ms stamps, ~8.5 ms apart: 10 M rows ~ one day, which the timed rows start */
	int64_t ts = ld_time_from_civil(2026, 11, 2, 0, 0, 0, 0) - (int64_t)warm * 8500000;
	size_t raw_off = 0;
	for (size_t i = 0; i < warm + n; i++) {
		ts += (int64_t)rnd(18) * 1000000;
		gen(&e, ts, &all[i]);
		size_t l = nsx_line(&all[i], raw + raw_off, 160);
		all[i].raw = (ld_str){raw + raw_off, (uint32_t)l};
		raw_off += l;
	}
	raw_off = 0; /* raw text bytes of the timed rows */
	for (size_t i = 0; i < n; i++)
		raw_off += recs[i].raw.len;
	printf("store write benchmark: %zu generated VDI drop records (%u desktops, %u scanners)\n", n,
	       N_DESKTOPS, N_SCANNERS);
	printf("| %-14s | %5s | %10s | %8s | %10s | %10s | %9s | %8s |\n", "config", "zstd", "records",
	       "wall s", "M rec/s", "M rec/cpu-s", "B/record", "segments");
	printf("|----------------|-------|------------|----------|------------|------------|-----------|----------|\n");
	int rc = 0;
	int repeat = getenv("BENCH_REPEAT") ? atoi(getenv("BENCH_REPEAT")) : 1;
	for (int k = 0; k < repeat; k++) {
		if (!only || strcmp(only, "no-raw") == 0)
			rc |= run(base, "no-raw", recs, n, 0, false, 3, 0);
		if (warm)
			rc |= run(base, "no-raw-warm", recs, n, warm, false, 3, 0);
		if (!only || strcmp(only, "raw") == 0)
			rc |= run(base, "raw", recs, n, 0, true, 3, (double)raw_off);
		if (!only || strcmp(only, "raw-z1") == 0)
			rc |= run(base, "raw-z1", recs, n, 0, true, 1, (double)raw_off);
	}
	free(all);
	free(raw);
	return rc;
}
