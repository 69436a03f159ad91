/* bench_query — query speed of the store against nfdump on the same records.
 *
 * Generates N realistic VDI drop records (a few thousand desktops with their usual neighbours,
 * ports 445/137/5355/7680/3389 dominant, broadcast/multicast noise, random source ports, a few
 * percent from scanners), writes them through ld_writer, and exports the same records as NetFlow
 * v5 over 127.0.0.1 to a temporary nfcapd.  Then times, in the same run, the same questions for
 * both and prints a table with the ratios:
 *   full filtered count, one source, src X and dport 445, top 20 sources, top 20 dports,
 *   top 20 sources by count distinct dst.
 * logdrop times are in-process (open archive + parallel scan + result, best of 3, hot cache);
 * nfdump times are wall clock of the nfdump command (best of 2, 1 for distinct).
 *
 * usage: bench_query [--records N] [--threads N] [--dir DIR] [--no-nfdump] [--keep] [--reuse]
 *                    [--only TEXT] [--repeat N]
 * --only runs just the queries whose name contains TEXT; --repeat takes the best of N runs of
 * each logdrop query instead of 3 (for profiling one query).
 * --reuse (with --dir of an earlier --keep run and the same --records) queries the stores that
 * are there instead of writing them again.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ld_query.h"
#include "ld_scan.h"
#include "ld_time.h"
#include "ld_writer.h"

/* --- generator --------------------------------------------------------------------------------- */

#define N_DESKTOPS 3000
#define N_SERVERS 40
#define N_SCANNERS 6
#define N_PEERS 12
#define N_REPORTERS 24
#define RARE_HOST 0x0a40fa09u /* 10.64.250.9 */

typedef struct gen {
	uint64_t s;
	uint32_t desk[N_DESKTOPS];
	uint32_t peers[N_DESKTOPS][N_PEERS];
	uint32_t servers[N_SERVERS];
	uint32_t scanners[N_SCANNERS];
	int64_t t0, span;
	char reporters[N_REPORTERS][24];
	char rules[8][8];
} gen;

static uint32_t rnd(gen *g, uint32_t n)
{
	g->s ^= g->s << 13;
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return (uint32_t)((g->s >> 11) % n);
}

static void gen_init(gen *g)
{
	memset(g, 0, sizeof *g);
	g->s = 0x9E3779B97F4A7C15ull;
	for (uint32_t i = 0; i < N_DESKTOPS; i++) /* 10.64.0.0/20, pools of 250 */
		g->desk[i] = 0x0a400000u | ((i / 250) << 8) | (i % 250 + 2);
	for (uint32_t i = 0; i < N_DESKTOPS; i++)
		for (uint32_t p = 0; p < N_PEERS; p++) {
			/* neighbours mostly in the same pool */
			uint32_t j = rnd(g, 4) ? (i / 250) * 250 + rnd(g, 250) : rnd(g, N_DESKTOPS);
			g->peers[i][p] = g->desk[j % N_DESKTOPS];
		}
	for (uint32_t i = 0; i < N_SERVERS; i++)
		g->servers[i] = 0x0a0a0000u | (i + 10);
	for (uint32_t i = 0; i < N_SCANNERS; i++)
		g->scanners[i] = g->desk[rnd(g, N_DESKTOPS)];
	for (uint32_t i = 0; i < N_REPORTERS; i++)
		snprintf(g->reporters[i], sizeof g->reporters[i], "esx-%02u.vdi.example", i + 1);
	for (uint32_t i = 0; i < 8; i++)
		snprintf(g->rules[i], sizeof g->rules[i], "%u", 1001 + i * 7);
	g->t0 = ld_time_from_civil(2026, 11, 2, 0, 0, 0, 0);
	g->span = INT64_C(24) * 3600 * LD_NS_PER_SEC;
}

typedef struct brec {
	int64_t ts;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto, action, flags, rep, rule, dir;
	uint16_t len;
} brec;

static void gen_record(gen *g, uint64_t i, uint64_t n, brec *r)
{
	/* millisecond stamps, as NSX syslog and NetFlow carry them (nfcapd keeps ms too) */
	r->ts = g->t0 + (int64_t)((double)i / (double)n * (double)g->span) / 1000000 * 1000000 +
		(int64_t)rnd(g, 3) * 1000000;
	uint32_t di = rnd(g, N_DESKTOPS);
	r->src = g->desk[di];
	r->sport = (uint16_t)(49152 + rnd(g, 16384));
	r->action = rnd(g, 10) ? LD_ACTION_DROP : LD_ACTION_REJECT;
	r->dir = rnd(g, 2) ? LD_DIR_IN : LD_DIR_OUT;
	r->rep = (uint8_t)(di * N_REPORTERS / N_DESKTOPS);
	r->rule = (uint8_t)rnd(g, 8);
	uint32_t k = rnd(g, 1000);
	int64_t hour = (r->ts - g->t0) / (INT64_C(3600) * LD_NS_PER_SEC);
	if (hour == 13 && rnd(g, 2000) == 0) { /* a visitor seen during one hour only */
		r->src = RARE_HOST;
		r->dst = g->desk[rnd(g, N_DESKTOPS)];
		r->dport = 445;
		r->proto = 6;
	} else if (k < 30) { /* scanners: sweep the estate on a few ports */
		r->src = g->scanners[rnd(g, N_SCANNERS)];
		r->dst = g->desk[rnd(g, N_DESKTOPS)];
		static const uint16_t sp[] = {445, 3389, 22, 135, 5985};
		r->dport = sp[rnd(g, 5)];
		r->proto = 6;
	} else if (k < 130) { /* broadcast / multicast noise */
		uint32_t m = rnd(g, 4);
		r->proto = 17;
		if (m == 0) {
			r->dst = (r->src & 0xffffff00u) | 0xff;
			r->dport = 137;
		} else if (m == 1) {
			r->dst = 0xe00000fcu; /* 224.0.0.252 LLMNR */
			r->dport = 5355;
		} else if (m == 2) {
			r->dst = 0xeffffffau; /* 239.255.255.250 SSDP */
			r->dport = 1900;
		} else {
			r->dst = 0xffffffffu;
			r->dport = 67;
		}
	} else {
		r->dst = rnd(g, 10) ? g->peers[di][rnd(g, N_PEERS)] : g->servers[rnd(g, N_SERVERS)];
		uint32_t p = rnd(g, 100);
		if (p < 40) { r->dport = 445; r->proto = 6; }
		else if (p < 55) { r->dport = 137; r->proto = 17; }
		else if (p < 67) { r->dport = 5355; r->proto = 17; }
		else if (p < 78) { r->dport = 7680; r->proto = 6; }
		else if (p < 88) { r->dport = 3389; r->proto = 6; }
		else if (p < 92) { r->dport = 135; r->proto = 6; }
		else if (p < 95) { r->dport = 139; r->proto = 6; }
		else { r->dport = (uint16_t)(1024 + rnd(g, 60000)); r->proto = rnd(g, 2) ? 6 : 17; }
	}
	r->flags = r->proto == 6 ? LD_TCP_SYN : 0;
	r->len = r->proto == 6 ? (uint16_t)(52 + 4 * rnd(g, 4)) : (uint16_t)(78 + rnd(g, 200));
}

static void to_record(const gen *g, const brec *b, ld_record *r)
{
	memset(r, 0, sizeof *r);
	r->ts_ns = b->ts;
	ld_addr_from_v4(&r->src, b->src);
	ld_addr_from_v4(&r->dst, b->dst);
	r->sport = b->sport;
	r->dport = b->dport;
	r->proto = b->proto;
	r->action = b->action;
	r->dir = b->dir;
	r->tcp_flags = b->flags;
	r->len = b->len;
	r->format = LD_FMT_NSX;
	r->present = LD_RF_PORTS | LD_RF_LEN | (b->proto == 6 ? LD_RF_TCPFLAGS : 0);
	r->reporter = ld_str_c(g->reporters[b->rep]);
	r->rule = ld_str_c(g->rules[b->rule]);
	r->vif = ld_str_c("");
}

/* --- helpers ----------------------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process, or of its waited-for children. */
static double cpu_s(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t dir_bytes(const char *path)
{
	uint64_t total = 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			total += dir_bytes(p);
		else if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

/* --- logdrop queries --------------------------------------------------------------------------- */

typedef struct lq {
	ld_query_eval *ev[256];
	ld_group_acc *acc[256];
	uint32_t *sel[256];
	uint64_t count[256];
	int failed;
} lq;

static int lq_block(void *ctx, int thread, const ld_block *b)
{
	lq *q = ctx;
	if (!q->acc[thread]) {
		uint32_t c = ld_query_eval_count(q->ev[thread], b);
		if (c == UINT32_MAX) {
			q->failed = 1;
			return 1;
		}
		q->count[thread] += c;
		return 0;
	}
	uint32_t k = ld_query_eval_block(q->ev[thread], b, q->sel[thread]);
	if (k == UINT32_MAX) {
		q->failed = 1;
		return 1;
	}
	q->count[thread] += k;
	if (q->acc[thread]) {
		ld_err err;
		if (ld_group_acc_add(q->acc[thread], b, q->sel[thread], k, &err) != 0) {
			q->failed = 1;
			return 1;
		}
	}
	return 0;
}

/* Each scan thread finishes its own accumulator, as `logdrop query` does. */
static int lq_thread_done(void *ctx, int thread)
{
	lq *q = ctx;
	ld_err err;
	if (q->acc[thread] && ld_group_acc_finish(q->acc[thread], &err) != 0) {
		q->failed = 1;
		return 1;
	}
	return 0;
}

/* Late materialization: a block whose --where columns match no row is not decoded further. */
static bool lq_prefilter(void *ctx, int thread, const ld_block *b)
{
	lq *q = ctx;
	uint32_t c = ld_query_eval_count(q->ev[thread], b);
	return c != 0; /* UINT32_MAX (failure) goes on to lq_block, which reports it */
}

typedef struct lresult {
	uint64_t count;
	uint64_t top_value; /* count (or distinct) of the first group */
	char top_key[64];
	double seconds, cpu;
	uint64_t blocks_total, blocks_skipped;
} lresult;

/* One query: open + scan + (group) result + close. */
static int run_logdrop(const char *dir, const char *where, const ld_group_spec *gs, int threads, bool late,
		       lresult *out)
{
	ld_err err;
	double t0 = now_s(), c0 = cpu_s(RUSAGE_SELF);
	ld_query_expr *e = NULL;
	if (where && !(e = ld_query_parse(where, ld_now_ns(), &err))) {
		fprintf(stderr, "bench_query: --where %s: %s\n", where, err.msg);
		return -1;
	}
	ld_archive *a = ld_archive_open(dir, &err);
	if (!a) {
		fprintf(stderr, "bench_query: %s\n", err.msg);
		ld_query_free(e);
		return -1;
	}
	lq *q = calloc(1, sizeof *q);
	for (int t = 0; t < threads; t++) {
		q->ev[t] = ld_query_eval_new(e, INT64_MIN, INT64_MAX);
		q->sel[t] = malloc(sizeof(uint32_t) * (1u << 20));
		if (gs)
			q->acc[t] = ld_group_acc_new(gs, &err);
	}
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	ld_query_pushdown(e, &spec);
	spec.threads = threads;
	spec.thread_done = lq_thread_done;
	spec.columns = ld_query_columns(e) | (gs ? ld_group_columns(gs, ld_query_columns(e)) : 0);
	if (!spec.columns)
		spec.columns = LD_COL_PROTO; /* a count of everything still decodes one column */
	if (late && e) {
		spec.prefilter = lq_prefilter;
		spec.prefilter_columns = ld_query_columns(e);
	}
	ld_scan_stats st;
	memset(&st, 0, sizeof st);
	int rc = ld_scan(a, &spec, lq_block, q, &st, &err);
	memset(out, 0, sizeof *out);
	for (int t = 0; t < threads; t++)
		out->count += q->count[t];
	if (gs && rc == 0 && !q->failed) {
		for (int t = 1; t < threads; t++)
			ld_group_acc_merge(q->acc[0], q->acc[t], &err);
		const ld_group_row *rows;
		size_t n;
		if (ld_group_acc_result(q->acc[0], 20, &rows, &n, &err) == 0 && n > 0) {
			out->top_value = gs->distinct_col >= 0 ? rows[0].distinct : rows[0].count;
			if (gs->cols[0] == LD_QCOL_SRC || gs->cols[0] == LD_QCOL_DST)
				ld_addr_format(&rows[0].key[0].addr, out->top_key);
			else
				snprintf(out->top_key, sizeof out->top_key, "%u", rows[0].key[0].num);
		}
	}
	out->seconds = now_s() - t0;
	out->cpu = cpu_s(RUSAGE_SELF) - c0;
	out->blocks_total = st.blocks_total;
	out->blocks_skipped = st.blocks_skipped;
	for (int t = 0; t < threads; t++) {
		ld_query_eval_free(q->ev[t]);
		ld_group_acc_free(q->acc[t]);
		free(q->sel[t]);
	}
	int failed = q->failed;
	free(q);
	ld_archive_close(a);
	ld_query_free(e);
	if (rc != 0 || failed) {
		fprintf(stderr, "bench_query: scan failed: %s\n", rc ? err.msg : "evaluation");
		return -1;
	}
	return 0;
}

static int repeats = 3;

static int best_logdrop(const char *dir, const char *where, const ld_group_spec *gs, int threads, bool late,
			lresult *best)
{
	for (int r = 0; r < repeats; r++) {
		lresult cur;
		if (run_logdrop(dir, where, gs, threads, late, &cur) != 0)
			return -1;
		if (r == 0 || cur.seconds < best->seconds)
			*best = cur;
	}
	return 0;
}

/* --- nfdump ------------------------------------------------------------------------------------ */

#pragma pack(push, 1)
typedef struct nf5_hdr {
	uint16_t version, count;
	uint32_t uptime, secs, nsecs, seq;
	uint8_t engine_type, engine_id;
	uint16_t sampling;
} nf5_hdr;
typedef struct nf5_rec {
	uint32_t src, dst, nexthop;
	uint16_t in, out;
	uint32_t pkts, octets, first, last;
	uint16_t sport, dport;
	uint8_t pad1, flags, proto, tos;
	uint16_t src_as, dst_as;
	uint8_t src_mask, dst_mask;
	uint16_t pad2;
} nf5_rec;
#pragma pack(pop)
_Static_assert(sizeof(nf5_hdr) == 24, "NetFlow v5 header is 24 bytes");
_Static_assert(sizeof(nf5_rec) == 48, "NetFlow v5 record is 48 bytes");

static pid_t start_nfcapd(const char *dir, int port)
{
	pid_t pid = fork();
	if (pid == 0) {
		char p[16];
		snprintf(p, sizeof p, "%d", port);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("nfcapd", "nfcapd", "-b", "127.0.0.1", "-p", p, "-w", dir, "-t", "86400", "-y", "-B",
		       "67108864", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Sends every record as NetFlow v5 (30 per datagram), paced so nfcapd keeps up. */
static int send_netflow(gen *g, uint64_t n, int port, double *secs)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	int buf = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	to.sin_addr.s_addr = htonl(0x7f000001);
	uint8_t pkt[24 + 30 * 48];
	uint32_t seq = 0;
	double t0 = now_s();
	brec batch[30];
	for (uint64_t i = 0; i < n;) {
		uint32_t c = 0;
		for (; c < 30 && i < n; c++, i++)
			gen_record(g, i, n, &batch[c]);
		int64_t tmax_ms = batch[c - 1].ts / 1000000;
		uint32_t secs_hdr = (uint32_t)(tmax_ms / 1000) + 1;
		uint32_t uptime = 100000000u; /* ms since "boot" */
		nf5_hdr h = {htons(5), htons((uint16_t)c), htonl(uptime), htonl(secs_hdr), 0, htonl(seq), 0, 0, 0};
		seq += c;
		memcpy(pkt, &h, sizeof h);
		for (uint32_t k = 0; k < c; k++) {
			const brec *b = &batch[k];
			int64_t back = (int64_t)secs_hdr * 1000 - b->ts / 1000000;
			uint32_t first = uptime - (uint32_t)back;
			nf5_rec r = {htonl(b->src), htonl(b->dst), 0, 0, 0, htonl(1), htonl(b->len), htonl(first),
				     htonl(first), htons(b->sport), htons(b->dport), 0, b->flags, b->proto, 0, 0, 0,
				     0, 0, 0};
			memcpy(pkt + 24 + k * 48, &r, sizeof r);
		}
		size_t len = 24 + c * 48;
		while (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN) {
				close(fd);
				return -1;
			}
			usleep(100);
		}
		if ((seq / 30) % 64 == 0)
			usleep(400); /* ~4.8 M records/s ceiling; nfcapd drops when flooded */
	}
	*secs = now_s() - t0;
	close(fd);
	return 0;
}

/* Runs a shell command, returns wall seconds, stdout (first line(s)) in out. */
static double last_cmd_cpu;

static double run_cmd(const char *cmd, char *out, size_t cap)
{
	double t0 = now_s(), c0 = cpu_s(RUSAGE_CHILDREN);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = 0;
	out[0] = 0;
	char line[512];
	while (fgets(line, sizeof line, p)) {
		size_t l = strlen(line);
		if (n + l < cap) {
			memcpy(out + n, line, l + 1);
			n += l;
		}
	}
	int st = pclose(p);
	double dt = now_s() - t0;
	last_cmd_cpu = cpu_s(RUSAGE_CHILDREN) - c0;
	return st == 0 ? dt : -1;
}

static double best_cmd(const char *cmd, int runs, char *out, size_t cap, double *cpu)
{
	double best = -1;
	for (int r = 0; r < runs; r++) {
		double t = run_cmd(cmd, out, cap);
		if (t < 0)
			return -1;
		if (best < 0 || t < best) {
			best = t;
			*cpu = last_cmd_cpu;
		}
	}
	return best;
}

/* "Summary: total flows: 123, ..." -> 123 */
static uint64_t nf_total_flows(const char *out)
{
	const char *p = strstr(out, "total flows: ");
	return p ? strtoull(p + 13, NULL, 10) : 0;
}

/* --- engine only -------------------------------------------------------------------------------- */

/* The query engine alone, without the store's decoding: blocks are decoded once into memory, then
 * the same evaluation and aggregation run over them on one core.  Shows how much of a query's
 * time is the engine and how much is the column decoding. */
typedef struct mblock {
	ld_block b;
	uint32_t *src, *dst;
	uint16_t *dport;
	uint8_t *proto;
	ld_addr *addrs;
	char *segment;
} mblock;

typedef struct mcopy {
	mblock *blocks;
	size_t n, cap;
	pthread_mutex_t mu;
	int failed;
} mcopy;

static int copy_block(void *ctx, int thread, const ld_block *b)
{
	(void)thread;
	mcopy *c = ctx;
	mblock m;
	memset(&m, 0, sizeof m);
	m.src = malloc(b->n * sizeof *m.src);
	m.dst = malloc(b->n * sizeof *m.dst);
	m.dport = malloc(b->n * sizeof *m.dport);
	m.proto = malloc(b->n);
	m.addrs = malloc((b->n_addrs ? b->n_addrs : 1) * sizeof *m.addrs);
	m.segment = strdup(b->segment ? b->segment : "");
	if (!m.src || !m.dst || !m.dport || !m.proto || !m.addrs || !m.segment) {
		c->failed = 1;
		return 1;
	}
	memcpy(m.src, b->src, b->n * sizeof *m.src);
	memcpy(m.dst, b->dst, b->n * sizeof *m.dst);
	memcpy(m.dport, b->dport, b->n * sizeof *m.dport);
	memcpy(m.proto, b->proto, b->n);
	memcpy(m.addrs, b->addrs, b->n_addrs * sizeof *m.addrs);
	m.b.n = b->n;
	m.b.src = m.src;
	m.b.dst = m.dst;
	m.b.dport = m.dport;
	m.b.proto = m.proto;
	m.b.addrs = m.addrs;
	m.b.n_addrs = b->n_addrs;
	m.b.segment = m.segment;
	m.b.block_index = b->block_index;
	pthread_mutex_lock(&c->mu);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		mblock *nb = realloc(c->blocks, cap * sizeof *nb);
		if (!nb) {
			pthread_mutex_unlock(&c->mu);
			c->failed = 1;
			return 1;
		}
		c->blocks = nb;
		c->cap = cap;
	}
	c->blocks[c->n++] = m;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static int cmp_mblock(const void *x, const void *y)
{
	const mblock *a = x, *b = y;
	int r = strcmp(a->segment, b->segment);
	return r ? r : (a->b.block_index > b->b.block_index) - (a->b.block_index < b->b.block_index);
}

static void engine_only(const char *store, const char *one_src, uint64_t n)
{
	ld_err err;
	ld_archive *a = ld_archive_open(store, &err);
	if (!a)
		return;
	mcopy c = {.mu = PTHREAD_MUTEX_INITIALIZER};
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.columns = LD_COL_SRC | LD_COL_DST | LD_COL_DPORT | LD_COL_PROTO;
	if (ld_scan(a, &spec, copy_block, &c, NULL, &err) != 0 || c.failed) {
		ld_archive_close(a);
		return;
	}
	ld_archive_close(a);
	/* segment by segment, blocks in order, as one scan thread would see them */
	qsort(c.blocks, c.n, sizeof *c.blocks, cmp_mblock);
	/* one dictionary per segment, as the scan delivers it */
	for (size_t k = 1; k < c.n; k++)
		if (strcmp(c.blocks[k].segment, c.blocks[k - 1].segment) == 0)
			c.blocks[k].b.addrs = c.blocks[k - 1].b.addrs;
	uint32_t *sel = malloc(sizeof(uint32_t) * (1u << 20));
	char w1[128];
	snprintf(w1, sizeof w1, "src = %s", one_src);
	struct {
		const char *name, *where;
		ld_group_spec gs;
		bool group;
	} es[] = {
		{"count dport=445 and tcp", "dport = 445 and proto = tcp", {.distinct_col = -1}, false},
		{"count one source", w1, {.distinct_col = -1}, false},
		{"top 20 sources", NULL, {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = -1}, true},
		{"top 20 dports", NULL, {.cols = {LD_QCOL_DPORT}, .n_cols = 1, .distinct_col = -1}, true},
		{"top 20 src by distinct dst", NULL, {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = LD_QCOL_DST}, true},
	};
	printf("\nquery engine alone (columns already decoded in memory, one core):\n");
	printf("%-30s %10s %14s\n", "query", "seconds", "M records/s");
	for (size_t i = 0; i < sizeof es / sizeof es[0]; i++) {
		ld_query_expr *e = es[i].where ? ld_query_parse(es[i].where, 0, &err) : NULL;
		double best = -1;
		uint64_t result = 0;
		for (int r = 0; r < 3; r++) {
			double t0 = now_s();
			ld_query_eval *ev = ld_query_eval_new(e, INT64_MIN, INT64_MAX);
			ld_group_acc *acc = es[i].group ? ld_group_acc_new(&es[i].gs, &err) : NULL;
			uint64_t cnt = 0;
			for (size_t k = 0; k < c.n; k++) {
				if (!acc) {
					cnt += ld_query_eval_count(ev, &c.blocks[k].b);
					continue;
				}
				uint32_t m = ld_query_eval_block(ev, &c.blocks[k].b, sel);
				ld_group_acc_add(acc, &c.blocks[k].b, sel, m, &err);
			}
			if (acc) {
				const ld_group_row *rows;
				size_t nr;
				if (ld_group_acc_result(acc, 20, &rows, &nr, &err) == 0 && nr)
					cnt = es[i].gs.distinct_col >= 0 ? rows[0].distinct : rows[0].count;
			}
			double t = now_s() - t0;
			ld_group_acc_free(acc);
			ld_query_eval_free(ev);
			if (best < 0 || t < best)
				best = t;
			result = cnt;
		}
		printf("%-30s %10.4f %14.0f   (result %" PRIu64 ")\n", es[i].name, best, (double)n / best / 1e6, result);
		ld_query_free(e);
	}
	free(sel);
	for (size_t k = 0; k < c.n; k++) {
		free(c.blocks[k].src);
		free(c.blocks[k].dst);
		free(c.blocks[k].dport);
		free(c.blocks[k].proto);
		free(c.blocks[k].addrs);
		free(c.blocks[k].segment);
	}
	free(c.blocks);
}

/* --- main -------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	uint64_t n = 10000000;
	int threads = 0;
	const char *dir = NULL, *only = NULL;
	bool nfdump = true, keep = false, reuse = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--records") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--no-nfdump"))
			nfdump = false;
		else if (!strcmp(argv[i], "--keep"))
			keep = true;
		else if (!strcmp(argv[i], "--reuse"))
			reuse = keep = true;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc && atoi(argv[i + 1]) > 0)
			repeats = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_query [--records N] [--threads N] [--dir DIR] [--no-nfdump] [--keep] [--reuse]\n"
					"                   [--only TEXT] [--repeat N]\n");
			return 2;
		}
	}
	if (n == 0 || n > 2000000000ull) {
		fprintf(stderr, "bench_query: --records must be 1..2e9\n");
		return 2;
	}
	if (threads <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c < 1 ? 1 : c > 256 ? 256 : (int)c;
	}
	char tmp[] = "/tmp/bench_query.XXXXXX";
	if (dir && strlen(dir) > 900) {
		fprintf(stderr, "bench_query: --dir path too long\n");
		return 2;
	}
	if (reuse && !dir) {
		fprintf(stderr, "bench_query: --reuse needs --dir\n");
		return 2;
	}
	if (!dir) {
		if (!mkdtemp(tmp)) {
			perror("mkdtemp");
			return 1;
		}
		dir = tmp;
	}
	char store[1024], nfdir[1024], cmd[8192], out[8192];
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(nfdir, sizeof nfdir, "%s/nfcapd", dir);
	mkdir(dir, 0755); /* --dir may name a directory that does not exist yet */
	mkdir(nfdir, 0755);

	/* write */
	static gen g;
	gen_init(&g);
	ld_err err;
	ld_store_opts o;
	ld_store_opts_default(&o);
	double gen_s = 0, t0 = now_s(), write_s = 0;
	if (reuse)
		goto written;
	ld_writer *w = ld_writer_open(store, &o, &err);
	if (!w) {
		fprintf(stderr, "bench_query: %s\n", err.msg);
		return 1;
	}
	enum { BATCH = 4096 };
	static ld_record recs[BATCH];
	static brec br[BATCH];
	for (uint64_t i = 0; i < n;) {
		uint32_t c = 0;
		double tg = now_s();
		for (; c < BATCH && i < n; c++, i++) {
			gen_record(&g, i, n, &br[c]);
			to_record(&g, &br[c], &recs[c]);
		}
		gen_s += now_s() - tg;
		if (ld_writer_append_batch(w, recs, c, &err) != 0) {
			fprintf(stderr, "bench_query: %s\n", err.msg);
			return 1;
		}
	}
	if (ld_writer_close(w, &err) != 0) {
		fprintf(stderr, "bench_query: %s\n", err.msg);
		return 1;
	}
	write_s = now_s() - t0 - gen_s;
written:;
	uint64_t store_bytes = dir_bytes(store);

	/* a source to look for: the first generated desktop's address, and the top scanner */
	char one_src[LD_ADDR_STRLEN];
	ld_addr a1;
	ld_addr_from_v4(&a1, g.desk[1234]);
	ld_addr_format(&a1, one_src);

	/* nfdump side */
	double nf_send_s = 0;
	uint64_t nf_bytes = 0, nf_flows = 0;
	if (nfdump && !reuse) {
		int port = 20000 + (int)(getpid() % 20000);
		pid_t pid = start_nfcapd(nfdir, port);
		usleep(500000);
		gen_init(&g); /* same records again */
		if (send_netflow(&g, n, port, &nf_send_s) != 0) {
			fprintf(stderr, "bench_query: cannot send NetFlow to nfcapd\n");
			nfdump = false;
		}
		sleep(1);
		kill(pid, SIGTERM);
		int st;
		waitpid(pid, &st, 0);
	}
	if (nfdump) {
		nf_bytes = dir_bytes(nfdir);
		snprintf(cmd, sizeof cmd, "nfdump -R %s -s proto -n 1 2>&1 | grep 'total flows'", nfdir);
		run_cmd(cmd, out, sizeof out);
		nf_flows = nf_total_flows(out);
	}

	printf("bench_query: %" PRIu64 " records, %d scan threads\n", n, threads);
	if (!reuse)
		printf("  logdrop write: %.2f s (%.2f M records/s wall, generation excluded; a cold writer: see bench_store_write), store %.2f B/record (%" PRIu64 " bytes)\n",
		       write_s, (double)n / write_s / 1e6, (double)store_bytes / (double)n, store_bytes);
	if (nfdump)
		printf("  nfcapd (lz4): %" PRIu64 " of %" PRIu64 " flows received%s, %.2f B/record (%" PRIu64 " bytes); ratio nfcapd/logdrop %.2fx\n",
		       nf_flows, n, nf_flows == n ? "" : " (UDP loss: nfdump numbers cover fewer records)",
		       nf_flows ? (double)nf_bytes / (double)nf_flows : 0.0, nf_bytes,
		       nf_flows ? ((double)nf_bytes / (double)nf_flows) / ((double)store_bytes / (double)n) : 0.0);

	struct {
		const char *name, *where, *nf_filter, *nf_stat;
		ld_group_spec gs;
		bool group, distinct, late; /* late: same as the row before, with late materialization */
	} qs[] = {
		{"filtered count (dport=445, tcp)", "dport = 445 and proto = tcp", "proto tcp and dst port 445", NULL, {.distinct_col = -1}, false, false},
		{"one source (a desktop)", NULL, NULL, NULL, {.distinct_col = -1}, false, false},
		{"src X and dport 445", NULL, NULL, NULL, {.distinct_col = -1}, false, false},
		{"one source, seen 1 hour", "src = 10.64.250.9", "src ip 10.64.250.9", NULL, {.distinct_col = -1}, false, false},
		{"host X, seen 1 hour", "host 10.64.250.9", "host 10.64.250.9", NULL, {.distinct_col = -1}, false, false},
		{"top 20 sources", NULL, "any", "srcip", {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = -1}, true, false},
		{"top 20 dports", NULL, "any", "dstport", {.cols = {LD_QCOL_DPORT}, .n_cols = 1, .distinct_col = -1}, true, false},
		{"top 20 src by distinct dst", NULL, NULL, NULL, {.cols = {LD_QCOL_SRC}, .n_cols = 1, .distinct_col = LD_QCOL_DST}, true, true},
		{"top 20 dst, visitor or tcp/1", "src = 10.64.250.9 or dport = 1", NULL, NULL, {.cols = {LD_QCOL_DST}, .n_cols = 1, .distinct_col = -1}, true, false},
		{"  same, late materialization", "src = 10.64.250.9 or dport = 1", NULL, NULL, {.cols = {LD_QCOL_DST}, .n_cols = 1, .distinct_col = -1}, true, false, true},
	};
	char w1[128], w2[128], f1[128], f2[128];
	snprintf(w1, sizeof w1, "src = %s", one_src);
	snprintf(w2, sizeof w2, "src = %s and dport = 445", one_src);
	snprintf(f1, sizeof f1, "src ip %s", one_src);
	snprintf(f2, sizeof f2, "src ip %s and dst port 445", one_src);
	qs[1].where = w1;
	qs[1].nf_filter = f1;
	qs[2].where = w2;
	qs[2].nf_filter = f2;

	printf("\nwall = elapsed seconds, cpu = user+system CPU seconds (the machine may be shared)\n");
	printf("%-30s %9s %9s %9s %9s %7s %7s %9s  %s\n", "query", "ld wall", "ld cpu", "nf wall", "nf cpu",
	       "wall x", "cpu x", "blocks", "result (logdrop | nfdump)");
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		lresult lr;
		static lresult prev;
		if (only && !strstr(qs[i].name, only))
			continue;
		if (best_logdrop(store, qs[i].where, qs[i].group ? &qs[i].gs : NULL, threads, qs[i].late, &lr) != 0)
			return 1;
		if (qs[i].late && (lr.count != prev.count || lr.top_value != prev.top_value ||
				   strcmp(lr.top_key, prev.top_key) != 0)) {
			fprintf(stderr, "bench_query: late materialization changed the result of '%s'\n", qs[i].where);
			return 1;
		}
		prev = lr;
		char lres[128], nres[256] = "-";
		if (qs[i].group)
			snprintf(lres, sizeof lres, "top %s: %" PRIu64, lr.top_key, lr.top_value);
		else
			snprintf(lres, sizeof lres, "%" PRIu64, lr.count);
		double nt = -1, ncpu = 0;
		if (nfdump && (qs[i].nf_filter || qs[i].distinct)) {
			if (qs[i].distinct) {
				snprintf(cmd, sizeof cmd,
					 "nfdump -R %s -q -A srcip,dstip -o 'fmt:%%sa' | sort | uniq -c | sort -rn | head -20",
					 nfdir);
				nt = best_cmd(cmd, 1, out, sizeof out, &ncpu);
				char ip[64] = "";
				unsigned long long c = 0;
				if (sscanf(out, "%llu %63s", &c, ip) == 2)
					snprintf(nres, sizeof nres, "top %s: %llu", ip, c);
			} else if (qs[i].group) {
				snprintf(cmd, sizeof cmd, "nfdump -R %s -q -N -s %s/flows -n 20 '%s' | head -1", nfdir,
					 qs[i].nf_stat, qs[i].nf_filter);
				nt = best_cmd(cmd, 2, out, sizeof out, &ncpu);
				/* first line: date first-seen duration proto key count(%) ... */
				char *nl = strchr(out, '\n');
				if (nl)
					*nl = 0;
				char d[32], tm[32], dur[32], pr[16], key[64];
				unsigned long long c;
				if (sscanf(out, "%31s %31s %31s %15s %63s %llu", d, tm, dur, pr, key, &c) == 6)
					snprintf(nres, sizeof nres, "top %s: %llu", key, c);
				else
					snprintf(nres, sizeof nres, "%.60s", out);
			} else {
				snprintf(cmd, sizeof cmd, "nfdump -R %s -s proto/flows -n 1 '%s' | grep 'total flows'", nfdir,
					 qs[i].nf_filter);
				nt = best_cmd(cmd, 2, out, sizeof out, &ncpu);
				snprintf(nres, sizeof nres, "%" PRIu64, nf_total_flows(out));
			}
		}
		char nts[32] = "-", ncs[32] = "-", ratio[32] = "-", cratio[32] = "-";
		if (nt >= 0) {
			snprintf(nts, sizeof nts, "%.3f", nt);
			snprintf(ncs, sizeof ncs, "%.3f", ncpu);
			snprintf(ratio, sizeof ratio, "%.0f", nt / lr.seconds);
			snprintf(cratio, sizeof cratio, "%.0f", lr.cpu > 0 ? ncpu / lr.cpu : 0.0);
		}
		char blocks[32];
		snprintf(blocks, sizeof blocks, "%" PRIu64 "/%" PRIu64, lr.blocks_total - lr.blocks_skipped, lr.blocks_total);
		printf("%-30s %9.4f %9.4f %9s %9s %7s %7s %9s  %s | %s\n", qs[i].name, lr.seconds, lr.cpu, nts, ncs, ratio,
		       cratio, blocks, lres, nres);
		if (i == 0)
			printf("%-30s %.0f M records/s (wall)\n", "", (double)n / lr.seconds / 1e6);
	}
	if (!only)
		engine_only(store, one_src, n);
	if (!keep) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_query: could not remove %s\n", dir);
	} else {
		printf("\nkept: %s (store/, nfcapd/)\n", dir);
	}
	return 0;
}
