/* ld_engine.c — per-host east-west scan scoring (see ld_analyze.h for the contract). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ld_analyze.h"
#include "ld_identity.h"
#include "ld_time.h"

#define PEER_SLOTS 64  /* exact novelty set of peers */
#define PP_SLOTS 128   /* exact novelty set of (peer, proto, port) */
#define BLOOM_WORDS 64 /* 4096 bits per filter, two filters (peer, peer+port) */
#define RECENT_N 1024  /* overflow mode: direct-mapped recent (peer+port, time) for de-duplication */
#define RING_N 32      /* last scored attempts, for the probe graph */
#define VERT_N 4       /* vertical-rule trackers (recent peers) */
#define PORTS_N 16     /* top ports (space-saving counters) */
#define PSET_N 32      /* exact distinct-port set */
#define HAB_N 16       /* habitual (peer, port) pairs with a 16-day bitmap */
#define TODAY_N 16     /* ports this host dropped on today (fleet prevalence) */
#define EDGE_CAP (1u << 21)
#define DS_PER_SEC 10  /* table timestamps are deciseconds since the engine's base */

typedef struct ring_ent {
	uint32_t addr;
	uint32_t ds;
	uint16_t port;
	uint8_t proto, cls;
} ring_ent;

typedef struct vtrack {
	uint32_t addr;
	uint32_t start_ds;
	uint16_t ld, any;
} vtrack;

typedef struct hab_ent {
	uint32_t key;
	uint16_t last_day;
	uint16_t days; /* bit i = seen on day (last_day - i) */
} hab_ent;

typedef struct host {
	/* what every attempt touches comes first: a retry reads only these lines and the line of
	 * pp_key and of pp_ds its key hashes to, which is what ld_engine_prefetch() fetches */
	uint32_t ident;
	uint8_t level, authorised, alerted, suspected;
	uint8_t class_mask, alert_class_mask, peak_tier, would_alert;
	uint8_t peers_overflow, pp_overflow, ports_overflow, pad_;
	uint16_t n_peer, n_pp;
	uint16_t today_day, n_today;
	uint16_t bloom_n[2]; /* keys in the peer and the peer+port filters */
	uint32_t bloom_day;
	uint64_t *bloom; /* lazily allocated: [0..BLOOM_WORDS) peers, then peer+port, then the
			  * RECENT_N (key, time) pairs of overflow-mode de-duplication */
	int64_t last_scored;
	uint32_t attempts, retries;
	uint32_t today[TODAY_N];
	hab_ent hab[HAB_N];
	/* the rest is read only by attempts that reach the scoring */
	float s[3], peak[3], alert_peak, vert_peak;
	int64_t s_t[3], s_start[3];
	uint32_t fc_since[3];
	int64_t first_alert, first_suspect, onset, last_alert;
	uint32_t first_contacts, scored, peers, alerts;
	uint32_t attempts_at_alert, seq_pairs, seq_total, same_subnet, last_v4;
	uint32_t habitual_hits, fleet_discounted, vert_max, vert_peer, n_pset, ring_pos, ring_n;
	uint32_t pp_key[PP_SLOTS], pp_ds[PP_SLOTS];
	uint32_t peer_key[PEER_SLOTS], peer_ds[PEER_SLOTS];
	ring_ent ring[RING_N];
	vtrack vt[VERT_N];
	ld_port_count ports[PORTS_N];
	uint32_t pset[PSET_N];
} host;

struct ld_engine {
	const ld_analyze_config *cfg;
	const ld_inventory *inv;
	ld_idtab ids;
	host **hosts;
	uint32_t n_hosts, cap_hosts;
	void **slabs; /* host states are carved from these (see host_alloc) */
	uint32_t n_slabs, slab_used;
	int64_t base_ns;
	bool have_base;
	ld_alert_fn alert_fn;
	void *alert_ctx;
	ld_edge *edges;
	uint64_t n_edges, cap_edges;
	/* fleet prevalence: distinct hosts per (proto, port) today and the previous day */
	uint32_t *fleet_cur, *fleet_prev; /* [2][65536] */
	uint32_t active_cur, active_prev;
	int64_t fleet_day;
	/* many-to-one counters: (destination, proto, port) -> hosts with a first contact */
	struct pop_ent {
		uint64_t key; /* addr id << 24 | proto << 16 | port, +1; 0 = empty */
		uint32_t hosts;
		int64_t first;
	} *pop;
	uint32_t n_pop, cap_pop;
	ld_engine_stats st;
	bool pending; /* address-level noise counters wait to be folded into identities */
};

size_t ld_engine_host_bytes(void)
{
	return sizeof(host);
}

const char *ld_level_name(unsigned level)
{
	static const char *const n[] = {"normal", "suspect", "alert"};
	return level < 3 ? n[level] : "normal";
}

const char *ld_tier_name(unsigned tier)
{
	static const char *const n[] = {"fast", "medium", "slow", "vertical"};
	return tier < 4 ? n[tier] : "?";
}

uint32_t ld_vif_code(ld_str vif)
{
	if (!vif.len)
		return 0;
	uint32_t v = 0;
	bool hex = vif.len == 8;
	for (uint32_t i = 0; hex && i < 8; i++) {
		char c = vif.ptr[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else {
			hex = false;
			break;
		}
		v = v << 4 | d;
	}
	if (hex && v)
		return v;
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < vif.len; i++)
		h = (h ^ (uint8_t)vif.ptr[i]) * 16777619u;
	return h ? h : 1;
}

void ld_event_from_record(ld_event *ev, const ld_record *r)
{
	ev->ts_ns = r->ts_ns;
	ev->src = r->src;
	ev->dst = r->dst;
	ev->sport = r->sport;
	ev->dport = r->dport;
	ev->proto = r->proto;
	ev->action = r->action;
	ev->dir = r->dir;
	ev->tcp_flags = r->tcp_flags;
	ev->present = r->present;
	ev->vif = ld_vif_code(r->vif);
}

ld_engine *ld_engine_new(const ld_analyze_config *cfg, const ld_inventory *inv, ld_err *err)
{
	ld_engine *e = calloc(1, sizeof *e);
	if (!e) {
		ld_err_set(err, "out of memory");
		return NULL;
	}
	e->cfg = cfg;
	e->inv = inv;
	e->fleet_cur = calloc(2 * 65536, sizeof(uint32_t));
	e->fleet_prev = calloc(2 * 65536, sizeof(uint32_t));
	if (!e->fleet_cur || !e->fleet_prev || !ld_idtab_init(&e->ids, cfg, inv)) {
		ld_err_set(err, "out of memory");
		ld_engine_free(e);
		return NULL;
	}
	e->fleet_day = INT64_MIN;
	return e;
}

void ld_engine_free(ld_engine *e)
{
	if (!e)
		return;
	for (uint32_t i = 0; i < e->n_hosts; i++)
		free(e->hosts[i]->bloom);
	for (uint32_t i = 0; i < e->n_slabs; i++)
		free(e->slabs[i]);
	free(e->slabs);
	free(e->hosts);
	free(e->edges);
	free(e->fleet_cur);
	free(e->fleet_prev);
	free(e->pop);
	ld_idtab_free(&e->ids);
	free(e);
}

void ld_engine_set_alert_fn(ld_engine *e, ld_alert_fn fn, void *ctx)
{
	e->alert_fn = fn;
	e->alert_ctx = ctx;
}

const ld_analyze_config *ld_engine_config(const ld_engine *e)
{
	return e->cfg;
}

/* --- small helpers ------------------------------------------------------------------------ */

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

static uint32_t to_ds(const ld_engine *e, int64_t ts)
{
	int64_t d = (ts - e->base_ns) / (LD_NS_PER_SEC / DS_PER_SEC);
	if (d < 1)
		return 1;
	if (d > (int64_t)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)d;
}

/* Age of a table timestamp; records slightly out of order (prev after now) count as age 0 */
static inline uint32_t age(uint32_t now, uint32_t prev)
{
	return now >= prev ? now - prev : 0;
}

static int64_t from_ds(const ld_engine *e, uint32_t ds)
{
	return e->base_ns + (int64_t)ds * (LD_NS_PER_SEC / DS_PER_SEC);
}

static bool bloom_test(const uint64_t *b, uint32_t key)
{
	uint32_t h1 = mix32(key), h2 = mix32(key ^ 0x5bd1e995u) | 1;
	for (unsigned k = 0; k < 7; k++) {
		uint32_t bit = (h1 + k * h2) & (BLOOM_WORDS * 64 - 1);
		if (!(b[bit >> 6] & (1ull << (bit & 63))))
			return false;
	}
	return true;
}

static void bloom_add(uint64_t *b, uint32_t key)
{
	uint32_t h1 = mix32(key), h2 = mix32(key ^ 0x5bd1e995u) | 1;
	for (unsigned k = 0; k < 7; k++) {
		uint32_t bit = (h1 + k * h2) & (BLOOM_WORDS * 64 - 1);
		b[bit >> 6] |= 1ull << (bit & 63);
	}
}

/* Look up key (non-zero) in an exact table; returns its last-seen time (0 = absent) and stores
 * now.  When the table is 3/4 full, expired entries are purged; if that frees nothing the key
 * goes to the Bloom filter (no timestamps: counts as "seen" until the filter is reset). */
/* 4096 bits, 7 hashes: about 1 % false "seen" at 400 keys; past that the filter is cleared
 * (a host that busy is scanning anyway; forgetting only makes its old peers count again). */
#define BLOOM_MAX_KEYS 400

static uint32_t novelty_touch(uint32_t *keys, uint32_t *ds, uint32_t cap, uint16_t *n,
			      uint8_t *overflow, uint64_t *bloom, uint16_t *bloom_n, uint32_t key,
			      uint32_t now, uint32_t horizon_ds, bool *in_bloom)
{
	*in_bloom = false;
	uint32_t mask = cap - 1, j = mix32(key) & mask;
	for (uint32_t k = 0; k < cap; k++, j = (j + 1) & mask) {
		if (keys[j] == key) {
			uint32_t prev = ds[j];
			if (now > prev)
				ds[j] = now;
			return prev;
		}
		if (!keys[j])
			break;
	}
	if (bloom && *overflow && bloom_test(bloom, key)) {
		*in_bloom = true;
		return 0;
	}
	if ((uint32_t)*n * 4 >= cap * 3) {
		/* purge expired entries, rebuilding the probe sequence */
		uint32_t tk[PP_SLOTS], td[PP_SLOTS], m = 0;
		for (uint32_t i = 0; i < cap; i++)
			if (keys[i] && age(now, ds[i]) <= horizon_ds) {
				tk[m] = keys[i];
				td[m++] = ds[i];
			}
		memset(keys, 0, cap * sizeof *keys);
		for (uint32_t i = 0; i < m; i++) {
			uint32_t p = mix32(tk[i]) & mask;
			while (keys[p])
				p = (p + 1) & mask;
			keys[p] = tk[i];
			ds[p] = td[i];
		}
		*n = (uint16_t)m;
		if (m * 4 >= cap * 3) {
			*overflow = 1;
			if (bloom) {
				if (++*bloom_n > BLOOM_MAX_KEYS) {
					memset(bloom, 0, BLOOM_WORDS * sizeof *bloom);
					*bloom_n = 1;
				}
				bloom_add(bloom, key);
			}
			return 0;
		}
		j = mix32(key) & mask;
		while (keys[j])
			j = (j + 1) & mask;
	}
	keys[j] = key;
	ds[j] = now;
	(*n)++;
	return 0;
}

/* Overflow-mode de-duplication: a 2-way set-associative table of (key, time); returns true when
 * key was seen within `window`, and records it at `now` (replacing the older way). */
static bool recent_touch(uint64_t *tab, uint32_t key, uint32_t now, uint32_t window)
{
	uint64_t *a = &tab[mix32(key ^ 0xA5A5A5A5u) & (RECENT_N - 1)];
	uint64_t *b = &tab[mix32(key ^ 0x5A5A5A5Au) & (RECENT_N - 1)];
	uint64_t v = (uint64_t)key << 32 | now;
	if ((uint32_t)(*a >> 32) == key) {
		bool hit = age(now, (uint32_t)*a) <= window;
		*a = v;
		return hit;
	}
	if ((uint32_t)(*b >> 32) == key) {
		bool hit = age(now, (uint32_t)*b) <= window;
		*b = v;
		return hit;
	}
	if ((uint32_t)*a <= (uint32_t)*b)
		*a = v;
	else
		*b = v;
	return false;
}

/* Host states come from 2 MiB slabs on huge pages: tens of thousands of them on 4 KiB pages cost
 * a page fault each 4 KiB when first touched, which on a virtual machine was a large part of a
 * batch run's scoring time. */
#define SLAB_BYTES ((size_t)2 << 20)
#define HOSTS_PER_SLAB ((uint32_t)(SLAB_BYTES / sizeof(host)))

static host *host_alloc(ld_engine *e)
{
	if (!e->n_slabs || e->slab_used == HOSTS_PER_SLAB) {
		if ((e->n_slabs & (e->n_slabs - 1)) == 0) { /* capacity doubles at powers of two */
			void **ns = realloc(e->slabs, (e->n_slabs ? 2 * e->n_slabs : 1) * sizeof *ns);
			if (!ns)
				return NULL;
			e->slabs = ns;
		}
		void *slab = aligned_alloc(SLAB_BYTES, SLAB_BYTES);
		if (!slab)
			return NULL;
		(void)madvise(slab, SLAB_BYTES, MADV_HUGEPAGE); /* a hint: failure changes nothing */
		e->slabs[e->n_slabs++] = slab;
		e->slab_used = 0;
	}
	host *h = (host *)e->slabs[e->n_slabs - 1] + e->slab_used++;
	memset(h, 0, sizeof *h);
	return h;
}

static host *host_of(ld_engine *e, uint32_t ident)
{
	ld_ident *id = &e->ids.ids[ident];
	if (id->host != LD_ID_NONE)
		return e->hosts[id->host];
	if (e->n_hosts == e->cap_hosts) {
		uint32_t nc = e->cap_hosts ? e->cap_hosts * 2 : 256;
		host **nh = realloc(e->hosts, nc * sizeof *nh);
		if (!nh)
			return NULL;
		e->hosts = nh;
		e->cap_hosts = nc;
	}
	host *h = host_alloc(e);
	if (!h)
		return NULL;
	h->ident = ident;
	h->first_alert = h->first_suspect = h->onset = h->last_alert = LD_TIME_NONE;
	h->last_scored = LD_TIME_NONE;
	h->vert_peer = LD_ID_NONE;
	if (id->desktop != LD_ID_NONE && e->inv->desktops[id->desktop].role == LD_ROLE_SCANNER)
		h->authorised = 1;
	id->host = e->n_hosts;
	e->hosts[e->n_hosts++] = h;
	e->st.hosts = e->n_hosts;
	return h;
}

static void add_edge(ld_engine *e, uint32_t src_ident, uint32_t addr, int64_t ts, uint16_t port,
		     uint8_t proto)
{
	if (e->n_edges == e->cap_edges) {
		if (e->cap_edges >= EDGE_CAP) {
			e->st.edges_dropped++;
			return;
		}
		uint64_t nc = e->cap_edges ? e->cap_edges * 2 : 1024;
		ld_edge *ne = realloc(e->edges, nc * sizeof *ne);
		if (!ne) {
			e->st.edges_dropped++;
			return;
		}
		e->edges = ne;
		e->cap_edges = nc;
	}
	ld_edge *g = &e->edges[e->n_edges++];
	g->src = src_ident;
	g->dst = ld_idtab_ident(&e->ids, addr, ts, 0, true);
	g->dst_ip = e->ids.addrs[addr].a;
	g->ts_ns = ts;
	g->port = port;
	g->proto = proto;
}

#define POP_MAX (1u << 16)

static void popular_note(ld_engine *e, uint32_t da, uint8_t proto, uint16_t port, int64_t ts)
{
	if ((e->n_pop + 1) * 2 > e->cap_pop) {
		if (e->cap_pop >= 2 * POP_MAX)
			return; /* bounded: the first 64 Ki destinations are plenty for a fleet note */
		uint32_t nc = e->cap_pop ? e->cap_pop * 2 : 1024;
		struct pop_ent *np = calloc(nc, sizeof *np);
		if (!np)
			return;
		for (uint32_t i = 0; i < e->cap_pop; i++)
			if (e->pop[i].key) {
				uint32_t j = mix32((uint32_t)(e->pop[i].key ^ (e->pop[i].key >> 32))) & (nc - 1);
				while (np[j].key)
					j = (j + 1) & (nc - 1);
				np[j] = e->pop[i];
			}
		free(e->pop);
		e->pop = np;
		e->cap_pop = nc;
	}
	uint64_t key = ((uint64_t)da << 24 | (uint64_t)proto << 16 | port) + 1;
	uint32_t j = mix32((uint32_t)(key ^ (key >> 32))) & (e->cap_pop - 1);
	while (e->pop[j].key && e->pop[j].key != key)
		j = (j + 1) & (e->cap_pop - 1);
	if (!e->pop[j].key) {
		e->pop[j].key = key;
		e->pop[j].first = ts;
		e->n_pop++;
	}
	e->pop[j].hosts++;
}

static int pop_cmp(const void *a, const void *b)
{
	const ld_popular_dst *x = a, *y = b;
	if (x->hosts != y->hosts)
		return x->hosts > y->hosts ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

size_t ld_engine_popular(const ld_engine *e, uint32_t min_hosts, ld_popular_dst *out, size_t max)
{
	size_t n = 0, cap = 0;
	ld_popular_dst *all = NULL;
	for (uint32_t i = 0; i < e->cap_pop; i++) {
		if (!e->pop[i].key || e->pop[i].hosts < min_hosts)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			ld_popular_dst *na = realloc(all, nc * sizeof *na);
			if (!na)
				break;
			all = na;
			cap = nc;
		}
		uint64_t k = e->pop[i].key - 1;
		all[n].dst = e->ids.addrs[k >> 24].a;
		all[n].proto = (uint8_t)(k >> 16);
		all[n].port = (uint16_t)k;
		all[n].hosts = e->pop[i].hosts;
		all[n].first = e->pop[i].first;
		n++;
	}
	if (n > 1)
		qsort(all, n, sizeof *all, pop_cmp);
	size_t m = n < max ? n : max;
	if (m)
		memcpy(out, all, m * sizeof *out);
	free(all);
	return m;
}

/* Fleet prevalence: roll the day, and count this host once per (proto, port) per day. */
static void fleet_note(ld_engine *e, host *h, int64_t ts, uint8_t proto, uint16_t port)
{
	int64_t day = ts / (86400 * LD_NS_PER_SEC);
	if (day > e->fleet_day) {
		if (day == e->fleet_day + 1) {
			uint32_t *t = e->fleet_prev;
			e->fleet_prev = e->fleet_cur;
			e->fleet_cur = t;
			e->active_prev = e->active_cur;
		} else {
			memset(e->fleet_prev, 0, 2 * 65536 * sizeof(uint32_t));
			e->active_prev = 0;
		}
		memset(e->fleet_cur, 0, 2 * 65536 * sizeof(uint32_t));
		e->active_cur = 0;
		e->fleet_day = day;
	}
	if (day < e->fleet_day)
		return;
	uint16_t d16 = (uint16_t)(day & 0xFFFF);
	if (h->today_day != d16 || !h->n_today) {
		h->today_day = d16;
		h->n_today = 0;
		e->active_cur++;
	}
	uint32_t key = (uint32_t)(proto == 17) << 16 | port;
	for (unsigned i = 0; i < h->n_today; i++)
		if (h->today[i] == key)
			return;
	if (h->n_today < TODAY_N)
		h->today[h->n_today++] = key;
	e->fleet_cur[key]++;
}

static bool fleet_common(const ld_engine *e, uint8_t proto, uint16_t port)
{
	if (e->active_prev < 20)
		return false;
	uint32_t key = (uint32_t)(proto == 17) << 16 | port;
	return (float)e->fleet_prev[key] > e->cfg->fleet_common * (float)e->active_prev;
}

/* Host baseline: days on which this (peer, port) was blocked, over the last 16 days. */
static unsigned habit_note(host *h, uint32_t key, int64_t ts, bool may_insert)
{
	uint16_t day = (uint16_t)((ts / (86400 * LD_NS_PER_SEC)) & 0xFFFF);
	hab_ent *slot = NULL;
	for (unsigned i = 0; i < HAB_N; i++)
		if (h->hab[i].key == key) {
			slot = &h->hab[i];
			break;
		}
	if (!slot) {
		if (!may_insert)
			return 0;
		/* the weakest pair (fewest days) makes room, unless it is a habit itself */
		hab_ent *weakest = &h->hab[0];
		int weakest_days = __builtin_popcount(weakest->days);
		for (unsigned i = 1; i < HAB_N && weakest_days > 0; i++) {
			int d = __builtin_popcount(h->hab[i].days);
			if (d < weakest_days) {
				weakest = &h->hab[i];
				weakest_days = d;
			}
		}
		if (weakest->key && weakest_days > 1)
			return 0;
		slot = weakest;
		slot->key = key;
		slot->days = 0;
		slot->last_day = day;
	}
	uint16_t shift = (uint16_t)(day - slot->last_day);
	if (shift >= 16)
		slot->days = 0;
	else
		slot->days = (uint16_t)(slot->days << shift);
	slot->last_day = day;
	/* days before today, within the last 14 */
	unsigned prior = (unsigned)__builtin_popcount(slot->days & 0x7FFEu);
	slot->days |= 1;
	return prior;
}

static void ports_note(host *h, uint8_t proto, uint16_t port)
{
	uint32_t key = (uint32_t)proto << 16 | port;
	bool seen = false;
	for (uint32_t i = 0; i < h->n_pset; i++)
		if (h->pset[i] == key)
			seen = true;
	if (!seen) {
		if (h->n_pset < PSET_N)
			h->pset[h->n_pset++] = key;
		else
			h->ports_overflow = 1;
	}
	ld_port_count *min = &h->ports[0];
	for (unsigned i = 0; i < PORTS_N; i++) {
		ld_port_count *p = &h->ports[i];
		if (p->count && p->proto == proto && p->port == port) {
			p->count++;
			return;
		}
		if (p->count < min->count)
			min = p;
	}
	/* space-saving: replace the smallest counter, inheriting its count */
	min->proto = proto;
	min->port = port;
	min->count++;
}

static void emit_alert(ld_engine *e, host *h, int64_t ts, unsigned tier, float ratio, int64_t onset,
		       bool realert)
{
	h->alerts++;
	if (!e->alert_fn)
		return;
	ld_alert a = {.ts_ns = ts, .host = h->ident, .tier = tier, .ratio = ratio,
		      .onset_ns = onset, .realert = realert};
	e->alert_fn(e->alert_ctx, &a);
}

static void flush_ring(ld_engine *e, host *h)
{
	uint32_t n = h->ring_n < RING_N ? h->ring_n : RING_N;
	for (uint32_t k = 0; k < n; k++) {
		const ring_ent *r = &h->ring[(h->ring_pos + RING_N - n + k) % RING_N];
		if (r->cls == LD_PC_LATERAL || r->cls == LD_PC_DISCOVERY)
			add_edge(e, h->ident, r->addr, from_ds(e, r->ds), r->port, r->proto);
	}
}

/* Levels and hysteresis after a scored attempt (or the quiet check before one). */
static void evaluate(ld_engine *e, host *h, int64_t ts, unsigned cls, bool vertical_hit,
		     float vert_ratio, int64_t vert_start)
{
	const ld_analyze_config *c = e->cfg;
	unsigned best = 0;
	float best_ratio = -1;
	bool crossing = false;
	unsigned ctier = 0;
	for (unsigned t = 0; t < 3; t++) {
		float r = h->s[t] / c->threshold[t];
		if (r > best_ratio) {
			best_ratio = r;
			best = t;
		}
		/* several tiers may cross on one attempt: name the one furthest past its threshold */
		if (h->s[t] >= c->threshold[t] - 0.5f && (!crossing || r > h->s[ctier] /
									 c->threshold[ctier])) {
			crossing = true;
			ctier = t;
		}
	}
	if (vertical_hit) {
		if (!crossing) {
			crossing = true;
			ctier = LD_TIER_VERTICAL;
		}
		if (vert_ratio > best_ratio) {
			best_ratio = vert_ratio;
			best = LD_TIER_VERTICAL;
		}
	}
	if (best_ratio > h->alert_peak && h->level == LD_LEVEL_ALERT)
		h->alert_peak = best_ratio;
	if (crossing) {
		/* never report an alert below 1.0 on the score scale: the -0.5 tolerance is on counts */
		float ratio = best_ratio < 1.0f ? 1.0f : best_ratio;
		int64_t onset = ctier == LD_TIER_VERTICAL ? vert_start : h->s_start[ctier];
		if (h->authorised) {
			if (!h->would_alert) {
				h->would_alert = 1;
				h->first_alert = ts;
				h->onset = onset;
				h->peak_tier = (uint8_t)ctier;
				h->attempts_at_alert =
					ctier == LD_TIER_VERTICAL ? h->vert_max : h->fc_since[ctier];
			}
			return;
		}
		if (h->level != LD_LEVEL_ALERT) {
			bool first = !h->alerted;
			bool fresh = first || ts - h->last_alert > c->realert_ns;
			bool bigger = ratio > 1.5f * h->alert_peak;
			bool new_class = (h->alert_class_mask & (1u << cls)) == 0;
			if (first) {
				h->first_alert = ts;
				h->onset = onset;
				h->attempts_at_alert =
					ctier == LD_TIER_VERTICAL ? h->vert_max : h->fc_since[ctier];
				h->peak_tier = (uint8_t)ctier;
			}
			if (!h->suspected) {
				h->suspected = 1;
				h->first_suspect = ts;
				flush_ring(e, h);
			}
			if (fresh || bigger || new_class)
				emit_alert(e, h, ts, ctier, ratio, onset, !first);
			h->alerted = 1;
			h->level = LD_LEVEL_ALERT;
			h->last_alert = ts;
			h->alert_peak = ratio;
			h->alert_class_mask |= (uint8_t)(1u << cls);
		} else {
			h->alert_class_mask |= (uint8_t)(1u << cls);
			h->last_alert = ts;
		}
		return;
	}
	if (best_ratio >= c->suspect_fraction && h->level == LD_LEVEL_NORMAL) {
		h->level = LD_LEVEL_SUSPECT;
		if (!h->suspected) {
			h->suspected = 1;
			h->first_suspect = ts;
			flush_ring(e, h);
		}
	}
	(void)best;
}

static void leak(ld_engine *e, host *h, int64_t ts)
{
	for (unsigned t = 0; t < 3; t++) {
		int64_t dt = ts - h->s_t[t];
		if (dt > 0 && h->s[t] > 0) {
			float d = (float)((double)dt / (double)e->cfg->leak_ns[t]);
			h->s[t] = h->s[t] > d ? h->s[t] - d : 0;
		}
		if (dt > 0)
			h->s_t[t] = ts;
	}
}

static void quiet_check(ld_engine *e, host *h, int64_t ts)
{
	if (h->level == LD_LEVEL_NORMAL || h->last_scored == LD_TIME_NONE ||
	    ts - h->last_scored < e->cfg->quiet_ns)
		return;
	leak(e, h, ts);
	for (unsigned t = 0; t < 3; t++)
		if (h->s[t] >= 0.25f * e->cfg->threshold[t])
			return;
	h->level = LD_LEVEL_NORMAL;
}

/* --- the per-record path ------------------------------------------------------------------ */

uint32_t ld_engine_addr_id(ld_engine *e, const ld_addr *a)
{
	return ld_idtab_addr(&e->ids, a);
}

const ld_addr *ld_engine_addr(const ld_engine *e, uint32_t id)
{
	return &e->ids.addrs[id].a;
}

/* Key of a (peer, proto, port) attempt in the novelty table; ICMP types are not ports */
static inline uint32_t pp_key_of(uint32_t peer_hash, uint8_t proto, uint16_t dport)
{
	uint16_t port = proto == 1 ? 0 : dport;
	return mix32(peer_hash * 0x9E3779B1u ^ ((uint32_t)proto << 16 | port)) | 1;
}

void ld_engine_prefetch(const ld_engine *e, const ld_cevent *ev, int stage)
{
	if (ev->src >= e->ids.n_addrs || ev->dst >= e->ids.n_addrs)
		return;
	const ld_addr_info *si = &e->ids.addrs[ev->src];
	if (stage == 1) {
		__builtin_prefetch(si);
		__builtin_prefetch(&e->ids.addrs[ev->dst]);
		return;
	}
	/* no stalls here: each stage reads only what the previous stage brought in */
	if (si->static_ident != LD_ID_NONE && e->ids.addrs[ev->dst].kind == LD_AK_NOISE)
		return; /* discovery noise from a fixed address never touches identity or host */
	uint32_t id = si->static_ident != LD_ID_NONE ? si->static_ident : si->last_ident;
	if (id == LD_ID_NONE || id >= e->ids.n_ids)
		return;
	__builtin_prefetch(&e->ids.ids[id]);
	/* the scoring state this address used last: its hot head and the lines of the novelty
	 * table this attempt probes first (the host array itself is small and cached) */
	if (si->last_host >= e->n_hosts)
		return;
	const host *h = e->hosts[si->last_host];
	const char *head = (const char *)h;
	for (size_t off = 0; off < offsetof(host, s); off += 64)
		__builtin_prefetch(head + off);
	uint32_t j = mix32(pp_key_of(e->ids.addrs[ev->dst].h, ev->proto, ev->dport)) & (PP_SLOTS - 1);
	__builtin_prefetch(&h->pp_key[j]);
	__builtin_prefetch(&h->pp_ds[j]);
}

void ld_engine_feed_event(ld_engine *e, const ld_event *ev)
{
	ld_cevent c;
	c.ts_ns = ev->ts_ns;
	c.src = ld_idtab_addr(&e->ids, &ev->src);
	c.dst = ld_idtab_addr(&e->ids, &ev->dst);
	c.sport = ev->sport;
	c.dport = ev->dport;
	c.proto = ev->proto;
	c.action = ev->action;
	c.dir = ev->dir;
	c.tcp_flags = ev->tcp_flags;
	c.vif = ev->vif;
	c.present = ev->present;
	ld_engine_feed_compact(e, &c);
}

/* Noise from a fixed address is counted on the address and folded into its identity when
 * results are read (order-independent: only counts and the first and last time). */
static inline void absorb_noise(ld_engine *e, ld_addr_info *sm, int64_t ts)
{
	if (!sm->nrec || ts < sm->nfirst)
		sm->nfirst = ts;
	if (!sm->nrec || ts > sm->nlast)
		sm->nlast = ts;
	sm->nrec++;
	e->pending = true;
	e->st.east_west++;
	e->st.noise++;
}

/* The order-independent part of a record: verdicts other than drops, records that are not
 * east-west, and discovery noise from fixed inventory addresses only bump counters.  Returns true
 * when the record is fully accounted for; otherwise *cls and *noise are set for the rest. */
static bool absorb(ld_engine *e, const ld_cevent *ev, unsigned *cls_out, bool *noise_out)
{
	e->st.records++;
	if (ev->action != LD_ACTION_DROP && ev->action != LD_ACTION_REJECT &&
	    ev->action != LD_ACTION_DENY) {
		e->st.not_drop++;
		return true;
	}
	uint32_t sa = ev->src, da = ev->dst;
	if (sa >= e->ids.n_addrs || da >= e->ids.n_addrs)
		return true;
	ld_addr_info *si = &e->ids.addrs[sa];
	const ld_addr_info *di = &e->ids.addrs[da];
	if (ld_likely(si->kind == LD_AK_INTERNAL && di->kind == LD_AK_NOISE &&
		      si->static_ident != LD_ID_NONE)) {
		/* most records: discovery chatter from a desktop with a fixed address.  A noise
		 * destination makes the record noise whatever its ports, so the port class and
		 * the TCP flags need not be looked at */
		absorb_noise(e, si, ev->ts_ns);
		return true;
	}
	if (si->kind != LD_AK_INTERNAL || di->kind == LD_AK_OUTSIDE) {
		if (si->kind == LD_AK_NOISE || di->kind == LD_AK_NOISE)
			e->st.noise++;
		else
			e->st.not_internal++;
		return true;
	}
	bool have_ports = (ev->present & LD_RF_PORTS) || ev->sport || ev->dport;
	unsigned cls = ld_analyze_port_class(e->cfg, ev->proto, ev->sport, ev->dport, have_ports);
	bool opens = ev->proto != 6 || !(ev->present & LD_RF_TCPFLAGS) ||
		     ((ev->tcp_flags & LD_TCP_SYN) && !(ev->tcp_flags & LD_TCP_ACK));
	bool noise = di->kind == LD_AK_NOISE || cls == LD_PC_BENIGN || !opens;
	if (noise && si->static_ident != LD_ID_NONE) {
		/* the common case (discovery chatter from a desktop with a fixed address) is counted
		 * on the address and folded into the identity when results are read */
		absorb_noise(e, si, ev->ts_ns);
		return true;
	}
	*cls_out = cls;
	*noise_out = noise;
	return false;
}

bool ld_engine_absorb(ld_engine *e, const ld_cevent *ev)
{
	unsigned cls;
	bool noise;
	if (absorb(e, ev, &cls, &noise))
		return true;
	e->st.records--; /* it will be fed, and counted, in order */
	return false;
}

void ld_engine_feed_compact(ld_engine *e, const ld_cevent *ev)
{
	const ld_analyze_config *c = e->cfg;
	unsigned cls;
	bool noise;
	if (absorb(e, ev, &cls, &noise))
		return;
	if (ld_unlikely(!e->have_base)) {
		/* deciseconds in 32 bits from a UTC midnight 400 days before the first scored
		 * record: 13 years of range, and the same rounding whichever record came first */
		int64_t day = 86400 * LD_NS_PER_SEC;
		int64_t d = ev->ts_ns / day - (ev->ts_ns % day < 0);
		e->base_ns = (d - 400) * day;
		e->have_base = true;
	}
	uint32_t sa = ev->src, da = ev->dst;
	const ld_addr_info *si = &e->ids.addrs[sa], *di = &e->ids.addrs[da];
	int64_t ts = ev->ts_ns;
	uint32_t ident = ld_idtab_ident(&e->ids, sa, ts, ev->dir == LD_DIR_OUT ? ev->vif : 0, true);
	if (ident == LD_ID_NONE)
		return;
	e->ids.addrs[sa].last_ident = ident;
	/* identity-level counters live in the small identity table: most records are discovery
	 * noise and never touch the (larger) scoring state */
	si = &e->ids.addrs[sa];
	di = &e->ids.addrs[da];
	ld_ident *id = &e->ids.ids[ident];
	if (id->last_addr != sa) {
		id->last_addr = sa;
		if (ld_addr_is_v4(&si->a))
			id->has_v4 = 1;
		else
			id->has_v6 = 1;
	}
	if (!id->records || ts < id->first_seen)
		id->first_seen = ts;
	if (!id->records || ts > id->last_seen)
		id->last_seen = ts;
	id->records++;
	e->st.east_west++;
	if (noise) {
		id->noise++;
		e->st.noise++;
		return;
	}
	bool allow = si->allow;
	host *h = host_of(e, ident);
	if (!h)
		return;
	e->ids.addrs[sa].last_host = id->host;
	si = &e->ids.addrs[sa];
	di = &e->ids.addrs[da];
	if (allow)
		h->authorised = 1;
	uint32_t dident = ld_idtab_ident(&e->ids, da, ts, 0, false);
	if (dident == ident) /* a desktop's own other address */
		return;
	quiet_check(e, h, ts);

	/* de-duplicate into attempts, then first-contact test */
	uint32_t now = to_ds(e, ts);
	uint32_t horizon = (uint32_t)(c->horizon_ns / (LD_NS_PER_SEC / DS_PER_SEC));
	uint32_t dedupe = (uint32_t)(c->dedupe_ns / (LD_NS_PER_SEC / DS_PER_SEC));
	uint16_t port = ev->proto == 1 ? 0 : ev->dport;
	uint32_t pp_key = pp_key_of(di->h, ev->proto, ev->dport);
	/* the filters exist before a table can overflow (a full table's purge may find nothing to
	 * drop): the key that overflows it goes into them, or its next attempt would count as new */
	if (!h->bloom && (h->pp_overflow || h->peers_overflow || h->n_pp * 4 >= PP_SLOTS * 3 ||
			  h->n_peer * 4 >= PEER_SLOTS * 3)) {
		h->bloom = calloc(2 * BLOOM_WORDS + RECENT_N, sizeof(uint64_t));
		h->bloom_day = now;
	}
	if (h->bloom && age(now, h->bloom_day) > horizon) {
		memset(h->bloom, 0, 2 * BLOOM_WORDS * sizeof(uint64_t));
		h->bloom_day = now;
		h->bloom_n[0] = h->bloom_n[1] = 0;
	}
	bool pp_bloom, peer_bloom;
	uint32_t pp_prev = novelty_touch(h->pp_key, h->pp_ds, PP_SLOTS, &h->n_pp, &h->pp_overflow,
					 h->bloom ? h->bloom + BLOOM_WORDS : NULL, &h->bloom_n[1],
					 pp_key, now, horizon, &pp_bloom);
	if (h->bloom && recent_touch(h->bloom + 2 * BLOOM_WORDS, pp_key, now, dedupe) && pp_bloom) {
		/* no timestamp in the filter: the recent table tells a retransmit from a retry */
		e->st.duplicates++;
		return;
	}
	if (pp_prev && age(now, pp_prev) <= dedupe) {
		e->st.duplicates++;
		return;
	}
	h->attempts++;
	e->st.attempts++;
	fleet_note(e, h, ts, ev->proto, port);
	unsigned prior_days = habit_note(h, pp_key, ts, true);
	if (pp_bloom || (pp_prev && age(now, pp_prev) <= horizon)) {
		h->retries++;
		return;
	}
	popular_note(e, da, ev->proto, port, ts);
	uint32_t peer_prev = novelty_touch(h->peer_key, h->peer_ds, PEER_SLOTS, &h->n_peer,
					   &h->peers_overflow, h->bloom, &h->bloom_n[0], di->h, now,
					   horizon, &peer_bloom);
	bool new_peer = !peer_bloom && !(peer_prev && age(now, peer_prev) <= horizon);
	h->first_contacts++;

	/* weight */
	if (dident != LD_ID_NONE && e->ids.ids[dident].desktop != LD_ID_NONE &&
	    e->inv->desktops[e->ids.ids[dident].desktop].role == LD_ROLE_SERVER)
		cls = cls == LD_PC_LATERAL ? LD_PC_DISCOVERY : cls; /* infrastructure: half weight */
	float w = c->weight[cls];
	if (!new_peer)
		w *= 0.5f;
	if (prior_days >= c->habitual_days) {
		w *= 0.1f;
		h->habitual_hits++;
	}
	if (cls != LD_PC_LATERAL && fleet_common(e, ev->proto, port)) {
		w *= 0.3f;
		h->fleet_discounted++;
	}
	if (w > 1.5f)
		w = 1.5f;
	if (w <= 0)
		return;

	/* bookkeeping for explanations */
	h->scored++;
	e->st.scored++;
	h->class_mask |= (uint8_t)(1u << cls);
	h->last_scored = ts;
	ports_note(h, ev->proto, port);
	if (new_peer) {
		h->peers++;
		if (ld_addr_is_v4(&di->a) && ld_addr_is_v4(&si->a)) {
			uint32_t d4 = ld_addr_v4(&di->a), s4 = ld_addr_v4(&si->a);
			if ((d4 >> 8) == (s4 >> 8))
				h->same_subnet++;
			if (h->last_v4 && (d4 >> 8) == (h->last_v4 >> 8)) {
				int diff = (int)(d4 & 0xFF) - (int)(h->last_v4 & 0xFF);
				if (diff != 0 && diff >= -2 && diff <= 2)
					h->seq_pairs++;
			}
			h->seq_total++;
			h->last_v4 = d4;
		} else if (memcmp(di->a.b, si->a.b, 8) == 0) {
			h->same_subnet++;
		}
	}
	ring_ent *r = &h->ring[h->ring_pos];
	r->addr = da;
	r->ds = now;
	r->port = port;
	r->proto = ev->proto;
	r->cls = (uint8_t)cls;
	h->ring_pos = (h->ring_pos + 1) % RING_N;
	h->ring_n++;
	if (h->suspected && (cls == LD_PC_LATERAL || cls == LD_PC_DISCOVERY))
		add_edge(e, h->ident, da, ts, port, ev->proto);

	/* the three leaky buckets (Poisson CUSUMs) */
	leak(e, h, ts);
	for (unsigned t = 0; t < 3; t++) {
		if (h->s[t] <= 0) {
			h->s_start[t] = ts;
			h->fc_since[t] = 0;
		}
		h->s[t] += w;
		h->fc_since[t]++;
		if (h->s[t] > h->peak[t])
			h->peak[t] = h->s[t];
	}

	/* vertical rule: distinct ports on one peer within the window */
	uint32_t win = (uint32_t)(c->vertical_window_ns / (LD_NS_PER_SEC / DS_PER_SEC));
	vtrack *vt = NULL, *old = &h->vt[0];
	for (unsigned i = 0; i < VERT_N; i++) {
		if (h->vt[i].any && h->vt[i].addr == da) {
			vt = &h->vt[i];
			break;
		}
		if (h->vt[i].start_ds < old->start_ds)
			old = &h->vt[i];
	}
	if (!vt || age(now, vt->start_ds) > win) {
		if (!vt)
			vt = old;
		vt->addr = da;
		vt->start_ds = now;
		vt->ld = vt->any = 0;
	}
	vt->any++;
	if (cls == LD_PC_LATERAL || cls == LD_PC_DISCOVERY)
		vt->ld++;
	float vratio = (float)vt->ld / (float)c->vertical_lateral;
	if ((float)vt->any / (float)c->vertical_any > vratio)
		vratio = (float)vt->any / (float)c->vertical_any;
	if (vt->any > h->vert_max) {
		h->vert_max = vt->any;
		h->vert_peer = da;
	}
	if (vratio > h->vert_peak)
		h->vert_peak = vratio;
	bool vhit = vt->ld >= c->vertical_lateral || vt->any >= c->vertical_any;
	evaluate(e, h, ts, cls, vhit, vratio, from_ds(e, vt->start_ds));
}

void ld_engine_feed(ld_engine *e, const ld_record *r)
{
	ld_event ev;
	ld_event_from_record(&ev, r);
	ld_engine_feed_event(e, &ev);
}

/* --- results ------------------------------------------------------------------------------ */

uint32_t ld_engine_host_count(const ld_engine *e)
{
	return e->ids.n_ids;
}

uint32_t ld_engine_identity_of(const ld_engine *e, const ld_addr *a, int64_t ts)
{
	if (e->inv) {
		int64_t d = ld_inventory_lookup(e->inv, a, ts);
		if (d >= 0)
			return (uint32_t)d;
	}
	/* address-keyed: look it up without interning */
	uint32_t id = ld_idtab_find(&e->ids, a);
	return id == LD_ID_NONE ? LD_ID_NONE : e->ids.addrs[id].dyn_ident;
}

const ld_edge *ld_engine_edges(const ld_engine *e, uint64_t *n)
{
	*n = e->n_edges;
	return e->edges;
}

void ld_engine_stats_get(const ld_engine *e, ld_engine_stats *s)
{
	*s = e->st;
	s->host_bytes = 0;
	for (uint32_t i = 0; i < e->n_hosts; i++)
		s->host_bytes += sizeof(host) + (e->hosts[i]->bloom ? (2 * BLOOM_WORDS + RECENT_N) * 8 : 0);
}

static int port_cmp(const void *a, const void *b)
{
	const ld_port_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* Move address-level noise counters into their identities (idempotent). */
static void fold_pending(ld_engine *e)
{
	if (!e->pending)
		return;
	for (uint32_t i = 0; i < e->ids.n_addrs; i++) {
		ld_addr_info *ai = &e->ids.addrs[i];
		if (!ai->nrec)
			continue;
		ld_ident *id = &e->ids.ids[ai->static_ident];
		if (!id->records || ai->nfirst < id->first_seen)
			id->first_seen = ai->nfirst;
		if (!id->records || ai->nlast > id->last_seen)
			id->last_seen = ai->nlast;
		id->records += ai->nrec;
		id->noise += ai->nrec;
		if (ld_addr_is_v4(&ai->a))
			id->has_v4 = 1;
		else
			id->has_v6 = 1;
		if (id->last_addr == LD_ID_NONE)
			id->last_addr = i;
		ai->nrec = 0;
	}
	e->pending = false;
}

void ld_engine_host(const ld_engine *ce, uint32_t idn, ld_host_summary *o)
{
	/* reading results folds pending counters: the engine is not shared while it is read */
	ld_engine *e = (ld_engine *)ce;
	fold_pending(e);
	memset(o, 0, sizeof *o);
	const ld_ident *id = &e->ids.ids[idn];
	o->id = idn;
	o->first_seen = o->last_seen = o->first_alert = o->onset = o->first_suspect = LD_TIME_NONE;
	o->vif = id->vif;
	if (id->last_addr != LD_ID_NONE)
		o->ip = e->ids.addrs[id->last_addr].a;
	o->has_v4 = id->has_v4;
	o->has_v6 = id->has_v6;
	if (id->desktop != LD_ID_NONE) {
		const ld_inv_desktop *d = &e->inv->desktops[id->desktop];
		o->name = d->name;
		o->user = d->user;
		o->pool = d->pool;
		o->role = d->role;
		if (!id->has_v4 && !id->has_v6) {
			/* never a source: show its first inventory address */
			for (uint32_t i = 0; i < e->inv->n_rows; i++)
				if (e->inv->rows[i].desktop == idn) {
					o->ip = e->inv->rows[i].ip;
					break;
				}
		}
	} else {
		o->name = id->name;
		o->user = o->pool = "";
		o->role = LD_ROLE_DESKTOP;
	}
	o->tracked = id->records > 0;
	if (o->tracked) {
		o->first_seen = id->first_seen;
		o->last_seen = id->last_seen;
		o->records = id->records;
		o->noise = id->noise;
		o->authorised = (id->desktop != LD_ID_NONE &&
				 e->inv->desktops[id->desktop].role == LD_ROLE_SCANNER) ||
				(id->addr != LD_ID_NONE && e->ids.addrs[id->addr].allow);
	}
	if (id->host == LD_ID_NONE)
		return;
	const host *h = e->hosts[id->host];
	o->authorised = h->authorised;
	o->would_alert = h->would_alert;
	o->level = h->authorised ? LD_LEVEL_NORMAL
				 : h->alerted ? LD_LEVEL_ALERT
					      : h->suspected ? LD_LEVEL_SUSPECT : LD_LEVEL_NORMAL;
	const ld_analyze_config *c = e->cfg;
	float best = 0;
	unsigned bt = 0;
	float peaks[4] = {h->peak[0] / c->threshold[0], h->peak[1] / c->threshold[1],
			  h->peak[2] / c->threshold[2], h->vert_peak};
	for (unsigned t = 0; t < 4; t++)
		if (peaks[t] > best) {
			best = peaks[t];
			bt = t;
		}
	/* an alerted host scores at least 100 (thresholds carry a half-count tolerance) */
	if ((h->alerted || h->would_alert) && best < 1.0f)
		best = 1.0f;
	if (!h->alerted && !h->would_alert && best >= 1.0f)
		best = 0.99f;
	o->score = roundf(best * 1000.0f) / 10.0f;
	o->peak_tier = h->alerted || h->would_alert ? h->peak_tier : bt;
	o->fast_peak = h->peak[0];
	o->medium_peak = h->peak[1];
	o->slow_peak = h->peak[2];
	o->first_alert = h->first_alert;
	o->first_suspect = h->first_suspect;
	o->onset = h->onset;
	if (o->onset == LD_TIME_NONE && h->suspected) {
		/* suspects: the earliest bucket start that is still relevant */
		o->onset = h->s_start[bt < 3 ? bt : 0];
	}
	o->attempts = h->attempts;
	o->retries = h->retries;
	o->first_contacts = h->first_contacts;
	o->scored = h->scored;
	o->peers = h->peers;
	o->peers_overflow = h->peers_overflow;
	o->ports_distinct = h->n_pset;
	o->ports_overflow = h->ports_overflow;
	ld_port_count tmp[PORTS_N];
	memcpy(tmp, h->ports, sizeof tmp);
	qsort(tmp, PORTS_N, sizeof tmp[0], port_cmp);
	for (unsigned i = 0; i < PORTS_N && o->n_top_ports < LD_TOP_PORTS; i++)
		if (tmp[i].count)
			o->top_ports[o->n_top_ports++] = tmp[i];
	o->class_mask = h->class_mask;
	o->seq_pairs = h->seq_pairs;
	o->seq_total = h->seq_total;
	o->same_subnet = h->same_subnet;
	o->vertical_max_ports = h->vert_max;
	if (h->vert_peer != LD_ID_NONE)
		o->vertical_peer = e->ids.addrs[h->vert_peer].a;
	o->habitual_hits = h->habitual_hits;
	o->fleet_discounted = h->fleet_discounted;
	o->alerts = h->alerts;
	o->attempts_at_alert = h->attempts_at_alert;
}
