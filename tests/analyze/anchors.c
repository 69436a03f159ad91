/* anchors.c — published scan rules, re-implemented from their documented thresholds. */
#include "anchors.h"

#include <stdlib.h>
#include <string.h>

#include "ld_time.h"

const char *const anchor_names[ANCHOR_N] = {"zeek", "simple", "snort", "trw", "sigma", "elastic"};

/* u64 -> u64 open-addressing map (key 0 reserved) */
typedef struct kv {
	uint64_t *k, *v;
	uint64_t cap, n;
} kv;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return (z ^ (z >> 31)) | 1;
}

static uint64_t addr_key(const ld_addr *a)
{
	uint64_t x, y;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	return mix64(x ^ mix64(y));
}

static uint64_t key3(uint64_t a, uint64_t b, uint64_t c)
{
	return mix64(a * 0x9E3779B97F4A7C15ull ^ mix64(b + 0x632BE59BD9B4E019ull) ^ mix64(c * 31 + 7));
}

static uint64_t *kv_slot(kv *m, uint64_t key, bool *found)
{
	if ((m->n + 1) * 2 > m->cap) {
		uint64_t nc = m->cap ? m->cap * 2 : 4096;
		uint64_t *nk = calloc(nc, 8), *nv = calloc(nc, 8);
		if (!nk || !nv) {
			free(nk);
			free(nv);
			return NULL;
		}
		for (uint64_t i = 0; i < m->cap; i++)
			if (m->k[i]) {
				uint64_t j = m->k[i] & (nc - 1);
				while (nk[j])
					j = (j + 1) & (nc - 1);
				nk[j] = m->k[i];
				nv[j] = m->v[i];
			}
		free(m->k);
		free(m->v);
		m->k = nk;
		m->v = nv;
		m->cap = nc;
	}
	uint64_t j = key & (m->cap - 1);
	while (m->k[j] && m->k[j] != key)
		j = (j + 1) & (m->cap - 1);
	*found = m->k[j] == key;
	if (!*found) {
		m->k[j] = key;
		m->v[j] = 0;
		m->n++;
	}
	return &m->v[j];
}

static void kv_free(kv *m)
{
	free(m->k);
	free(m->v);
}

typedef struct snort_t {
	int64_t start;
	uint32_t scans, nets, ports;
	uint64_t last_dst;
	uint16_t last_port;
	bool alerted;
} snort_t;

typedef struct simple_t {
	int64_t last;
	uint32_t gen;
	int64_t trw_alert; /* TRW caches a scanner verdict for 1 h, then tests afresh */
	uint32_t trw_gen;
} simple_t;

struct anchors {
	anchor_alert_fn fn;
	void *ctx;
	kv sets, counts;
	snort_t *sn;
	simple_t *ss;
	uint32_t n_src;
};

anchors *anchors_new(anchor_alert_fn fn, void *ctx)
{
	anchors *a = calloc(1, sizeof *a);
	if (a) {
		a->fn = fn;
		a->ctx = ctx;
	}
	return a;
}

void anchors_free(anchors *a)
{
	if (!a)
		return;
	kv_free(&a->sets);
	kv_free(&a->counts);
	free(a->sn);
	free(a->ss);
	free(a);
}

/* Adds (anchor, parts) to the set; on a new member bumps the counter (anchor, group) and returns
 * its new value, else 0. */
static uint64_t distinct(anchors *a, int anchor, uint64_t group, uint64_t member)
{
	bool found;
	uint64_t *s = kv_slot(&a->sets, key3((uint64_t)anchor + 1, group, member), &found);
	if (!s || found)
		return 0;
	uint64_t *c = kv_slot(&a->counts, key3((uint64_t)anchor + 101, group, 0), &found);
	if (!c)
		return 0;
	return ++*c;
}

static bool lateral(uint16_t port)
{
	static const uint16_t p[] = {21, 22, 23, 25, 135, 139, 445, 3389, 5985, 5986};
	for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
		if (p[i] == port)
			return true;
	return false;
}

void anchors_feed(anchors *a, uint32_t src, const ld_addr *dst, uint8_t proto, uint16_t dport,
		  int64_t ts)
{
	if (src >= a->n_src) {
		uint32_t nn = (src + 1) * 2;
		snort_t *ns = realloc(a->sn, nn * sizeof *ns);
		if (!ns)
			return;
		a->sn = ns;
		simple_t *nss = realloc(a->ss, nn * sizeof *nss);
		if (!nss)
			return;
		a->ss = nss;
		memset(a->sn + a->n_src, 0, (nn - a->n_src) * sizeof *ns);
		memset(a->ss + a->n_src, 0, (nn - a->n_src) * sizeof *nss);
		a->n_src = nn;
	}
	uint64_t d = addr_key(dst);
	uint64_t port = (uint64_t)proto << 16 | dport;
	uint64_t s = src;
	const int64_t min = 60 * LD_NS_PER_SEC;

	/* Zeek scan.zeek: per 5-min epoch */
	uint64_t ep = (uint64_t)(ts / (5 * min));
	if (distinct(a, ANCHOR_ZEEK, key3(s, port, ep), d) == 25)
		a->fn(a->ctx, ANCHOR_ZEEK, src, ts);
	if (distinct(a, ANCHOR_ZEEK + 50, key3(s, d, ep), port) == 15)
		a->fn(a->ctx, ANCHOR_ZEEK, src, ts);

	/* simple-scan: unique (victim, port), idle expiry 15 min */
	simple_t *ss = &a->ss[src];
	if (ss->last && ts - ss->last > 15 * min)
		ss->gen++;
	ss->last = ts;
	if (distinct(a, ANCHOR_SIMPLE, key3(s, ss->gen, 0), key3(d, port, 1)) == 250)
		a->fn(a->ctx, ANCHOR_SIMPLE, src, ts);

	/* Snort medium filtered portsweep */
	snort_t *sn = &a->sn[src];
	if (!sn->start || ts - sn->start > 90 * LD_NS_PER_SEC) {
		memset(sn, 0, sizeof *sn);
		sn->start = ts;
	} else {
		if (d != sn->last_dst)
			sn->nets++;
		if (dport != sn->last_port)
			sn->ports++;
	}
	sn->scans++;
	sn->last_dst = d;
	sn->last_port = dport;
	if (!sn->alerted && sn->scans >= 30 && sn->nets >= 7 && sn->ports <= 10) {
		sn->alerted = true;
		a->fn(a->ctx, ANCHOR_SNORT, src, ts);
	}

	/* TRW: first-contact failures, sets expire after 30 min; 4 failures cross ln(99)/ln(4) */
	bool found;
	if (ss->trw_alert && ts - ss->trw_alert > 60 * min) {
		ss->trw_alert = 0;
		ss->trw_gen++;
	}
	uint64_t *seen = kv_slot(&a->sets, key3(ANCHOR_TRW + 1000, s, d), &found);
	if (seen && (!found || ts - (int64_t)*seen > 30 * min)) {
		*seen = (uint64_t)ts;
		uint64_t *c = kv_slot(&a->counts, key3(ANCHOR_TRW + 1001, s, ss->trw_gen), &found);
		if (c && ++*c == 4) {
			ss->trw_alert = ts;
			a->fn(a->ctx, ANCHOR_TRW, src, ts);
		}
	} else if (seen) {
		*seen = (uint64_t)ts;
	}

	/* Sigma: > 10 destinations per day */
	uint64_t day = (uint64_t)(ts / (1440 * min));
	if (distinct(a, ANCHOR_SIGMA, key3(s, day, 2), d) == 11)
		a->fn(a->ctx, ANCHOR_SIGMA, src, ts);

	/* Elastic network sweep: ≥ 100 destinations on lateral ports in 9 min */
	if (proto == 6 && lateral(dport) &&
	    distinct(a, ANCHOR_ELASTIC, key3(s, (uint64_t)(ts / (9 * min)), 3), d) == 100)
		a->fn(a->ctx, ANCHOR_ELASTIC, src, ts);
}
