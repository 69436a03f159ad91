/* ld_batch.c — store → sorted events → engine. */
#include "ld_batch.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ld_scan.h"
#include "ld_time.h"

/* A segment's dictionaries translated for the engine, kept while its blocks arrive: a block of
 * an estate's drops names most of the segment's addresses, and interning each again per block
 * cost more than absorbing the rows.  Maps live for one scan (one time slice): within it a
 * segment name stands for one unchanging file, across scans a journal may have grown. */
#define DICT_MAPS 8
typedef struct dict_map {
	char *segment; /* with the dictionary pointers and sizes: which segment this maps */
	const ld_addr *addrs;
	const ld_str *strs;
	uint32_t n_addrs, n_strs;
	uint32_t *addr_id;  /* dictionary index -> engine address id; UINT32_MAX until first use */
	uint32_t *vif_code; /* string index -> ld_vif_code() of it */
	uint64_t used;
} dict_map;

typedef struct collect {
	pthread_mutex_t mu;
	ld_engine *e;
	ld_cevent *ev;
	uint64_t n, cap;
	int64_t from, to;
	uint64_t rows, damaged, absorbed;
	int64_t abs_min, abs_max; /* time span of the absorbed records */
	dict_map maps[DICT_MAPS];
	uint64_t clock; /* for evicting the least recently used map */
	bool oom;
} collect;

/* The canonical order after time and addresses, for both event forms (their fields share names). */
static inline int cmp_u(uint32_t x, uint32_t y)
{
	return x < y ? -1 : x > y;
}

#define ORDER_TAIL(x, y)                                                                         \
	((x)->dport != (y)->dport         ? cmp_u((x)->dport, (y)->dport)                        \
	 : (x)->proto != (y)->proto       ? cmp_u((x)->proto, (y)->proto)                        \
	 : (x)->sport != (y)->sport       ? cmp_u((x)->sport, (y)->sport)                        \
	 : (x)->dir != (y)->dir           ? cmp_u((x)->dir, (y)->dir)                            \
	 : (x)->vif != (y)->vif           ? cmp_u((x)->vif, (y)->vif)                            \
	 : (x)->tcp_flags != (y)->tcp_flags ? cmp_u((x)->tcp_flags, (y)->tcp_flags)              \
					  : cmp_u((x)->action, (y)->action))

static int ev_cmp(const void *a, const void *b)
{
	const ld_event *x = a, *y = b;
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	int c = ld_addr_cmp(&x->src, &y->src);
	if (c)
		return c;
	c = ld_addr_cmp(&x->dst, &y->dst);
	if (c)
		return c;
	return ORDER_TAIL(x, y);
}

int ld_event_cmp(const ld_event *a, const ld_event *b)
{
	return ev_cmp(a, b);
}

void ld_batch_sort(ld_event *ev, uint64_t n)
{
	if (n > 1)
		qsort(ev, n, sizeof *ev, ev_cmp);
}

/* Same order as ev_cmp, on interned addresses (ids differ between runs, addresses do not). */
static int cev_cmp(const void *a, const void *b, void *ctx)
{
	const ld_cevent *x = a, *y = b;
	const ld_engine *e = ctx;
	if (x->ts_ns != y->ts_ns)
		return x->ts_ns < y->ts_ns ? -1 : 1;
	if (x->src != y->src) {
		int c = ld_addr_cmp(ld_engine_addr(e, x->src), ld_engine_addr(e, y->src));
		if (c)
			return c;
	}
	if (x->dst != y->dst) {
		int c = ld_addr_cmp(ld_engine_addr(e, x->dst), ld_engine_addr(e, y->dst));
		if (c)
			return c;
	}
	return ORDER_TAIL(x, y);
}

static void on_damage(void *ctx, const char *segment, const char *why)
{
	collect *c = ctx;
	c->damaged++;
	ld_log_warn("skipping damaged store data %s: %s", segment, why);
}

static bool wanted(const collect *c, const ld_block *b, uint32_t i)
{
	uint8_t a = b->action[i];
	return b->ts[i] >= c->from && b->ts[i] < c->to &&
	       (a == LD_ACTION_DROP || a == LD_ACTION_REJECT || a == LD_ACTION_DENY);
}

static void dict_map_clear(dict_map *m)
{
	free(m->segment);
	free(m->addr_id);
	free(m->vif_code);
	memset(m, 0, sizeof *m);
}

/* The map of b's segment dictionaries, built on the first block of that segment; NULL on OOM. */
static dict_map *dict_map_of(collect *c, const ld_block *b)
{
	const char *seg = b->segment ? b->segment : "";
	dict_map *victim = &c->maps[0];
	for (unsigned i = 0; i < DICT_MAPS; i++) {
		dict_map *m = &c->maps[i];
		if (m->segment && m->addrs == b->addrs && m->n_addrs == b->n_addrs &&
		    m->strs == b->strs && m->n_strs == b->n_strs && strcmp(m->segment, seg) == 0) {
			m->used = ++c->clock;
			return m;
		}
		if (m->used < victim->used)
			victim = m;
	}
	dict_map_clear(victim);
	victim->segment = strdup(seg);
	victim->addr_id = malloc(((size_t)b->n_addrs + 1) * sizeof *victim->addr_id);
	victim->vif_code = malloc(((size_t)b->n_strs + 1) * sizeof *victim->vif_code);
	if (!victim->segment || !victim->addr_id || !victim->vif_code) {
		dict_map_clear(victim);
		return NULL;
	}
	memset(victim->addr_id, 0xFF, (size_t)b->n_addrs * sizeof *victim->addr_id);
	for (uint32_t k = 0; k < b->n_strs; k++)
		victim->vif_code[k] = ld_vif_code(b->strs[k]);
	victim->addrs = b->addrs;
	victim->strs = b->strs;
	victim->n_addrs = b->n_addrs;
	victim->n_strs = b->n_strs;
	victim->used = ++c->clock;
	return victim;
}

/* Engine address id of dictionary entry k, interned on its first use in the segment. */
static uint32_t addr_of(collect *c, dict_map *m, const ld_block *b, uint32_t k)
{
	if (k >= b->n_addrs)
		return UINT32_MAX;
	if (m->addr_id[k] == UINT32_MAX)
		m->addr_id[k] = ld_engine_addr_id(c->e, &b->addrs[k]);
	return m->addr_id[k];
}

static int on_block(void *ctx, int thread, const ld_block *b)
{
	(void)thread;
	collect *c = ctx;
	uint32_t keep = 0, in_slice = 0;
	for (uint32_t i = 0; i < b->n; i++) {
		keep += wanted(c, b, i);
		in_slice += b->ts[i] >= c->from && b->ts[i] < c->to;
	}
	/* interning and appending share the engine's address table: one block at a time */
	pthread_mutex_lock(&c->mu);
	c->rows += in_slice; /* a block spanning two slices is delivered to both */
	if (c->n + keep > c->cap) {
		uint64_t nc = c->cap ? c->cap : 65536;
		while (nc < c->n + keep)
			nc *= 2;
		ld_cevent *ne = realloc(c->ev, nc * sizeof *ne);
		if (!ne)
			goto oom;
		c->ev = ne;
		c->cap = nc;
	}
	dict_map *m = dict_map_of(c, b);
	if (!m)
		goto oom;
	/* first the block's wanted rows as events, then the order-independent ones absorbed with
	 * the engine's address state fetched a few rows ahead (it is too large to stay cached) */
	ld_cevent *out = &c->ev[c->n];
	uint32_t got = 0;
	for (uint32_t i = 0; i < b->n; i++) {
		if (!wanted(c, b, i))
			continue;
		ld_cevent *ev = &out[got];
		ev->ts_ns = b->ts[i];
		ev->src = addr_of(c, m, b, b->src[i]);
		ev->dst = addr_of(c, m, b, b->dst[i]);
		ev->sport = b->sport[i];
		ev->dport = b->dport[i];
		ev->proto = b->proto[i];
		ev->action = b->action[i];
		ev->dir = b->dir[i];
		ev->tcp_flags = b->tcp_flags[i];
		ev->present = b->present[i];
		ev->vif = b->vif && b->vif[i] < b->n_strs ? m->vif_code[b->vif[i]] : 0;
		/* a failed intern (out of memory) or a corrupt index drops the row */
		got += ev->src != UINT32_MAX && ev->dst != UINT32_MAX;
	}
	uint32_t kept = 0;
	for (uint32_t i = 0; i < got; i++) {
		if (i + 8 < got)
			ld_engine_prefetch(c->e, &out[i + 8], 1);
		const ld_cevent *ev = &out[i];
		if (!ld_engine_absorb(c->e, ev)) {
			out[kept++] = *ev;
			continue;
		}
		/* order-independent (mostly discovery noise): no need to sort it */
		if (!c->absorbed || ev->ts_ns < c->abs_min)
			c->abs_min = ev->ts_ns;
		if (!c->absorbed || ev->ts_ns > c->abs_max)
			c->abs_max = ev->ts_ns;
		c->absorbed++;
	}
	c->n += kept;
	pthread_mutex_unlock(&c->mu);
	return 0;
oom:
	c->oom = true;
	pthread_mutex_unlock(&c->mu);
	return 1;
}

/* Rows are collected, sorted and fed one time slice at a time: consecutive slices keep the global
 * event order while memory stays bounded by the busiest slice, whatever the store's span. */
#define SLICE_NS (6 * 3600 * LD_NS_PER_SEC)

int ld_batch_run(ld_engine *e, const char *dir, int64_t from_ns, int64_t to_ns,
		 ld_batch_stats *st, ld_err *err)
{
	memset(st, 0, sizeof *st);
	st->min_ts = st->max_ts = LD_TIME_NONE;
	ld_archive *a = ld_archive_open(dir, err);
	if (!a)
		return -1;
	int64_t lo, hi;
	if (!ld_archive_span(a, &lo, &hi)) {
		ld_archive_close(a);
		return 0; /* empty store */
	}
	if (lo < from_ns)
		lo = from_ns;
	if (hi >= to_ns)
		hi = to_ns - 1;
	collect c;
	memset(&c, 0, sizeof c);
	pthread_mutex_init(&c.mu, NULL);
	c.e = e;
	int rc = 0;
	/* every loop bounded: the span is finite and each slice advances by SLICE_NS */
	for (int64_t s0 = lo; s0 <= hi && rc == 0; s0 += SLICE_NS) {
		int64_t s1 = hi - s0 < SLICE_NS ? hi + 1 : s0 + SLICE_NS;
		c.from = s0;
		c.to = s1;
		c.n = 0;
		ld_scan_spec spec;
		ld_scan_spec_init(&spec);
		spec.from_ns = s0;
		spec.to_ns = s1;
		spec.action_mask = 1u << LD_ACTION_DROP | 1u << LD_ACTION_REJECT |
				   1u << LD_ACTION_DENY;
		spec.columns = LD_COL_TS | LD_COL_SRC | LD_COL_DST | LD_COL_SPORT | LD_COL_DPORT |
			       LD_COL_PROTO | LD_COL_ACTION | LD_COL_DIR | LD_COL_FLAGS |
			       LD_COL_PRESENT | LD_COL_VIF;
		spec.threads = 0;
		/* damaged data is reported once, by the first slice's scan */
		spec.on_damage = s0 == lo ? on_damage : NULL;
		ld_scan_stats ss;
		for (unsigned i = 0; i < DICT_MAPS; i++)
			dict_map_clear(&c.maps[i]);
		rc = ld_scan(a, &spec, on_block, &c, &ss, err);
		if (s0 == lo)
			st->damaged = c.damaged + ss.segments_damaged;
		if (c.oom) {
			ld_err_set(err, "%s: out of memory collecting %" PRIu64 " records", dir, c.n);
			rc = -1;
		}
		if (rc != 0)
			break;
		if (c.n > 1)
			qsort_r(c.ev, c.n, sizeof *c.ev, cev_cmp, e);
		for (uint64_t i = 0; i < c.n; i++) {
			if (i + 16 < c.n)
				ld_engine_prefetch(e, &c.ev[i + 16], 1);
			if (i + 8 < c.n)
				ld_engine_prefetch(e, &c.ev[i + 8], 2);
			ld_engine_feed_compact(e, &c.ev[i]);
		}
		if (c.n) {
			if (st->min_ts == LD_TIME_NONE)
				st->min_ts = c.ev[0].ts_ns;
			st->max_ts = c.ev[c.n - 1].ts_ns;
		}
		st->fed += c.n;
	}
	st->rows = c.rows;
	st->fed += c.absorbed;
	if (c.absorbed) {
		if (st->min_ts == LD_TIME_NONE || c.abs_min < st->min_ts)
			st->min_ts = c.abs_min;
		if (st->max_ts == LD_TIME_NONE || c.abs_max > st->max_ts)
			st->max_ts = c.abs_max;
	}
	ld_archive_close(a);
	pthread_mutex_destroy(&c.mu);
	for (unsigned i = 0; i < DICT_MAPS; i++)
		dict_map_clear(&c.maps[i]);
	free(c.ev);
	return rc < 0 ? -1 : 0;
}
