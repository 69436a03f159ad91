/* bench_parse.c — text parsing throughput: parse-only (the file read into memory first, then
 * one loop per thread over its share of the lines, one ld_parse_state each), read+parse and
 * parse+store (the import pipeline: reader, parser threads, and for the latter one writer into
 * a fresh store), per core and on N cores.
 *
 *   bench_parse gen --format nsx|iptables|panos --lines N --out FILE
 *   bench_parse run --format F --file FILE [--threads 1,2] [--store-dir DIR] [--no-store | --store-only]
 *
 * `gen` writes a realistic mix: NSX lines in the forwarded ESXi and RFC 5424 header styles, mostly
 * drops from a few scanning desktops plus PASS lines; netfilter lines with UFW/firewalld prefixes;
 * PAN-OS TRAFFIC deny rows.  `run` prints one table row per (mode, threads).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "import.h"
#include "ld_parse.h"
#include "ld_time.h"
#include "ld_writer.h"
#include "render_lines.h"

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1du;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int gen(const char *fmt, uint64_t lines, const char *out)
{
	FILE *f = fopen(out, "wb");
	if (!f) {
		perror(out);
		return 1;
	}
	static char buf[1 << 20];
	setvbuf(f, buf, _IOFBF, sizeof buf);
	char line[2048], vif[16], rule[32], host[32];
	ld_record r;
	memset(&r, 0, sizeof r);
	int64_t ts = INT64_C(1777882390000) * 1000000;
	for (uint64_t i = 0; i < lines; i++) {
		ts += (int64_t)(rnd() % 2000000);
		r.ts_ns = ts / 1000000 * 1000000;
		unsigned scanner = (unsigned)(rnd() % 16);
		ld_addr_from_v4(&r.src, 0x0a280000u | scanner << 4 | 3);
		ld_addr_from_v4(&r.dst, 0x0a280000u | (uint32_t)(rnd() & 0xffff));
		r.sport = (uint16_t)(32768 + rnd() % 28000);
		static const uint16_t ports[] = {445, 135, 139, 3389, 22, 5985, 80, 443};
		r.dport = ports[rnd() % 8];
		r.proto = rnd() % 10 == 0 ? 17 : 6;
		r.len = 52 + (uint32_t)(rnd() % 20);
		r.present = LD_RF_LEN | LD_RF_PORTS | (r.proto == 6 ? LD_RF_TCPFLAGS : 0);
		r.tcp_flags = r.proto == 6 ? LD_TCP_SYN : 0;
		r.dir = LD_DIR_OUT;
		snprintf(host, sizeof host, "esx%02u.vdi.example", (unsigned)(rnd() % 40));
		r.reporter = ld_str_c(host);
		size_t n = 0;
		if (strcmp(fmt, "nsx") == 0) {
			r.action = rnd() % 8 == 0 ? LD_ACTION_ALLOW : LD_ACTION_DROP;
			snprintf(vif, sizeof vif, "%08x", (unsigned)(0x8f2c0000u | scanner));
			snprintf(rule, sizeof rule, "%u", 4000 + (unsigned)(rnd() % 20));
			r.rule = ld_str_c(rule);
			int style = rnd() % 2 ? LD_NSX_LEGACY : LD_NSX_RFC5424;
			r.vif = style == LD_NSX_LEGACY ? ld_str_c(vif) : (ld_str){"", 0};
			n = ld_render_nsx(&r, style, line, sizeof line);
		} else if (strcmp(fmt, "iptables") == 0) {
			static const char *const pfx[] = {"[UFW BLOCK]", "iptables DROP_INPUT",
							  "filter_IN_public_REJECT"};
			r.rule = ld_str_c(pfx[rnd() % 3]);
			r.action = LD_ACTION_DROP;
			r.dir = LD_DIR_IN;
			r.vif = (ld_str){"", 0};
			n = ld_render_iptables(&r, line, sizeof line);
		} else if (strcmp(fmt, "panos") == 0) {
			r.rule = ld_str_c("block-vdi-lateral");
			r.action = LD_ACTION_DENY;
			r.vif = (ld_str){"", 0};
			n = ld_render_panos(&r, line, sizeof line);
		} else {
			fprintf(stderr, "unknown format %s\n", fmt);
			fclose(f);
			return 2;
		}
		if (n == 0) {
			fprintf(stderr, "line too long\n");
			fclose(f);
			return 1;
		}
		line[n++] = '\n';
		fwrite(line, 1, n, f);
	}
	if (fclose(f) != 0) {
		perror(out);
		return 1;
	}
	return 0;
}

typedef struct slice {
	const char *p, *end;
	uint64_t lines, drops, other, rejects;
	double secs, cpu;
	int fmt;
} slice;

#define HUGE_PAGE ((size_t)2 << 20)

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *parse_slice(void *arg)
{
	slice *s = arg;
	ld_parse_opts o;
	memset(&o, 0, sizeof o);
	o.now_ns = ld_now_ns();
	o.forced_format = s->fmt;
	ld_parse_state *st = ld_parse_state_new(&o);
	ld_record rec;
	uint8_t why;
	double t0 = now_s(), c0 = cpu_s();
	const char *p = s->p;
	while (p < s->end) {
		const char *nl = memchr(p, '\n', (size_t)(s->end - p));
		const char *le = nl ? nl : s->end;
		int r = ld_parse_line(st, p, (size_t)(le - p), &rec, &why);
		s->lines++;
		if (r == LD_PARSE_DROP)
			s->drops++;
		else if (r == LD_PARSE_REJECT)
			s->rejects++;
		else
			s->other++;
		p = nl ? nl + 1 : s->end;
	}
	s->secs = now_s() - t0;
	s->cpu = cpu_s() - c0;
	ld_parse_state_free(st);
	return NULL;
}

/* cpu: CPU seconds of the parser threads (0 = not measured); lines per CPU second tells the
 * per-core speed even when other processes share the machine. */
static void row(const char *fmt, const char *mode, unsigned threads, uint64_t lines, uint64_t bytes,
		double secs, double cpu, uint64_t rejects)
{
	char per_cpu[32] = "-";
	if (cpu > 0)
		snprintf(per_cpu, sizeof per_cpu, "%.2f", (double)lines / cpu / 1e6);
	printf("| %-9s | %-16s | %7u | %11llu | %8.2f | %12.2f | %9.1f | %14s | %7llu |\n", fmt, mode,
	       threads, (unsigned long long)lines, secs, (double)lines / secs / 1e6,
	       (double)bytes / secs / 1e6, per_cpu, (unsigned long long)rejects);
}

static void parse_only(const char *fmt, int fmt_id, const char *map, size_t size, unsigned threads)
{
	slice s[64];
	memset(s, 0, sizeof s);
	const char *p = map;
	for (unsigned i = 0; i < threads; i++) {
		const char *e = i + 1 == threads ? map + size : map + size / threads * (i + 1);
		if (e < map + size) {
			const char *nl = memchr(e, '\n', (size_t)(map + size - e));
			e = nl ? nl + 1 : map + size;
		}
		if (e < p)
			e = p;
		s[i].p = p;
		s[i].end = e;
		s[i].fmt = fmt_id;
		p = e;
	}
	pthread_t t[64];
	double t0 = now_s();
	for (unsigned i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, parse_slice, &s[i]);
	uint64_t lines = 0, rejects = 0;
	double cpu = 0;
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		lines += s[i].lines;
		rejects += s[i].rejects;
		cpu += s[i].cpu;
	}
	double secs = now_s() - t0;
	row(fmt, "parse", threads, lines, size, secs, cpu, rejects);
}

static int pipeline(const char *fmt, int fmt_id, const char *file, const char *store_dir,
		    unsigned threads)
{
	ld_err err = {{0}};
	ld_writer *w = NULL;
	char dir[512];
	if (store_dir) {
		snprintf(dir, sizeof dir, "%s/bench-%s-%u-%d", store_dir, fmt, threads, (int)getpid());
		ld_store_opts so;
		ld_store_opts_default(&so);
		w = ld_writer_open(dir, &so, &err);
		if (!w) {
			fprintf(stderr, "store: %s\n", err.msg);
			return 1;
		}
	}
	ld_import_opts io;
	memset(&io, 0, sizeof io);
	io.parse.now_ns = ld_now_ns();
	io.parse.forced_format = fmt_id;
	io.threads = threads;
	double t0 = now_s();
	ld_import *im = ld_import_new(w, &io, &err);
	if (!im || ld_import_file(im, file, &err) != 0) {
		fprintf(stderr, "import: %s\n", err.msg);
		return 1;
	}
	ld_import_stats s;
	ld_import_stats_get(im, &s);
	ld_import_free(im);
	if (w && ld_writer_close(w, &err) != 0) {
		fprintf(stderr, "store close: %s\n", err.msg);
		return 1;
	}
	double secs = now_s() - t0;
	row(fmt, w ? "parse+store" : "read+parse", threads, s.lines, s.bytes, secs, 0, s.rejected);
	if (w) {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_parse gen|run ...\n");
		return 2;
	}
	const char *fmt = "nsx", *file = NULL, *out = NULL, *threads = "1,2", *store_dir = "/tmp";
	uint64_t lines = 10000000;
	bool store = true, store_only = false;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			fmt = argv[++i];
		else if (strcmp(argv[i], "--lines") == 0 && i + 1 < argc)
			lines = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = argv[++i];
		else if (strcmp(argv[i], "--store-dir") == 0 && i + 1 < argc)
			store_dir = argv[++i];
		else if (strcmp(argv[i], "--no-store") == 0)
			store = false;
		else if (strcmp(argv[i], "--store-only") == 0) /* parse+store rows only, e.g. for a profiler */
			store_only = true;
		else {
			fprintf(stderr, "unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (strcmp(argv[1], "gen") == 0) {
		if (!out) {
			fprintf(stderr, "gen needs --out FILE\n");
			return 2;
		}
		return gen(fmt, lines, out);
	}
	if (strcmp(argv[1], "run") != 0 || !file) {
		fprintf(stderr, "usage: bench_parse run --format F --file FILE\n");
		return 2;
	}
	int fmt_id = ld_format_from_name(fmt, strlen(fmt));
	if (store_only) {
		char tl[64];
		snprintf(tl, sizeof tl, "%s", threads);
		for (char *save = NULL, *t = strtok_r(tl, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (pipeline(fmt, fmt_id, file, store_dir, (unsigned)atoi(t)) != 0)
				return 1;
		return 0;
	}
	int fd = open(file, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
		perror(file);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	/* the text is read into anonymous memory on huge pages rather than mapped: on virtual
	 * machines a walk through 4 KiB file mappings costs a TLB miss per page that the parser
	 * would be charged for, and a collector parses from its own buffers anyway */
	size_t cap = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
	char *map = aligned_alloc(HUGE_PAGE, cap);
	if (!map) {
		perror("aligned_alloc");
		return 1;
	}
	madvise(map, cap, MADV_HUGEPAGE);
	for (size_t got = 0; got < size;) {
		ssize_t r = read(fd, map + got, size - got);
		if (r <= 0) {
			perror(file);
			return 1;
		}
		got += (size_t)r;
	}
	printf("| %-9s | %-16s | %7s | %11s | %8s | %12s | %9s | %14s | %7s |\n", "format", "mode",
	       "threads", "lines", "seconds", "M lines/s", "MB/s", "M lines/cpu-s", "rejects");
	char tl[64];
	snprintf(tl, sizeof tl, "%s", threads);
	for (char *save = NULL, *t = strtok_r(tl, ",", &save); t; t = strtok_r(NULL, ",", &save))
		parse_only(fmt, fmt_id, map, size, (unsigned)atoi(t));
	free(map);
	close(fd);
	snprintf(tl, sizeof tl, "%s", threads);
	for (char *save = NULL, *t = strtok_r(tl, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (pipeline(fmt, fmt_id, file, NULL, (unsigned)atoi(t)) != 0)
			return 1;
		if (store && pipeline(fmt, fmt_id, file, store_dir, (unsigned)atoi(t)) != 0)
			return 1;
	}
	return 0;
}
