/* eval_harness.c — run logdrop and the anchors on a generated estate and score them. */
#include "eval_harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ld_batch.h"
#include "ld_report.h"
#include "ld_time.h"

typedef struct hit_ev {
	int det;
	uint32_t id; /* logdrop: engine identity; anchors: harness identity */
	int64_t ts;
} hit_ev;

typedef struct collector {
	hit_ev *v;
	size_t n, cap;
	ld_alert *al;
	size_t n_al, cap_al;
} collector;

static void push_hit(collector *c, int det, uint32_t id, int64_t ts)
{
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 1024;
		hit_ev *nv = realloc(c->v, nc * sizeof *nv);
		if (!nv)
			return;
		c->v = nv;
		c->cap = nc;
	}
	c->v[c->n++] = (hit_ev){det, id, ts};
}

static void on_alert(void *ctx, const ld_alert *a)
{
	collector *c = ctx;
	push_hit(c, 0, a->host, a->ts_ns);
	if (c->n_al == c->cap_al) {
		size_t nc = c->cap_al ? c->cap_al * 2 : 256;
		ld_alert *na = realloc(c->al, nc * sizeof *na);
		if (!na)
			return;
		c->al = na;
		c->cap_al = nc;
	}
	c->al[c->n_al++] = *a;
}

static void on_anchor(void *ctx, int anchor, uint32_t src, int64_t ts)
{
	push_hit(ctx, 1 + anchor, src, ts);
}

const char *eval_det_name(int det)
{
	return det == 0 ? "logdrop" : anchor_names[det - 1];
}

/* --- anchor input: identities and 5-tuple de-duplication ---------------------------------- */

typedef struct anchor_in {
	const ld_analyze_config *cfg;
	const ld_inventory *inv;
	/* address-keyed identities for addresses the inventory does not cover */
	ld_addr *dyn;
	uint32_t n_dyn, cap_dyn;
	/* last time of each 5-tuple (small open-addressing map) */
	uint64_t *k;
	int64_t *t;
	uint64_t cap, n;
} anchor_in;

static bool internal(const ld_analyze_config *c, const ld_addr *a)
{
	for (unsigned i = 0; i < c->n_internal; i++)
		if (ld_prefix_contains(&c->internal[i], a))
			return true;
	return false;
}

static bool unicast(const ld_addr *a)
{
	if (ld_addr_is_v4(a)) {
		uint32_t v = ld_addr_v4(a);
		return (v >> 28) != 0xE && (v & 0xFF) != 0xFF && (v >> 16) != 0xA9FE && v != 0;
	}
	return a->b[0] != 0xFF && !(a->b[0] == 0xFE && (a->b[1] & 0xC0) == 0x80);
}

static uint32_t anchor_ident(anchor_in *ai, const ld_addr *a, int64_t ts, bool *scanner)
{
	*scanner = false;
	if (ai->inv) {
		int64_t d = ld_inventory_lookup(ai->inv, a, ts);
		if (d >= 0) {
			*scanner = ai->inv->desktops[d].role == LD_ROLE_SCANNER;
			return (uint32_t)d;
		}
	}
	for (unsigned i = 0; i < ai->cfg->n_scanners; i++)
		if (ld_prefix_contains(&ai->cfg->scanners[i], a))
			*scanner = true;
	uint32_t base = ai->inv ? ai->inv->n_desktops : 0;
	for (uint32_t i = 0; i < ai->n_dyn; i++)
		if (ld_addr_eq(&ai->dyn[i], a))
			return base + i;
	if (ai->n_dyn == ai->cap_dyn) {
		uint32_t nc = ai->cap_dyn ? ai->cap_dyn * 2 : 64;
		ld_addr *nd = realloc(ai->dyn, nc * sizeof *nd);
		if (!nd)
			return UINT32_MAX;
		ai->dyn = nd;
		ai->cap_dyn = nc;
	}
	ai->dyn[ai->n_dyn] = *a;
	return base + ai->n_dyn++;
}

static bool tuple_new(anchor_in *ai, uint64_t key, int64_t ts)
{
	if ((ai->n + 1) * 2 > ai->cap) {
		uint64_t nc = ai->cap ? ai->cap * 2 : 65536;
		uint64_t *nk = calloc(nc, sizeof *nk);
		int64_t *nt = calloc(nc, sizeof *nt);
		if (!nk || !nt) {
			free(nk);
			free(nt);
			return true;
		}
		for (uint64_t i = 0; i < ai->cap; i++)
			if (ai->k[i]) {
				uint64_t j = ai->k[i] & (nc - 1);
				while (nk[j])
					j = (j + 1) & (nc - 1);
				nk[j] = ai->k[i];
				nt[j] = ai->t[i];
			}
		free(ai->k);
		free(ai->t);
		ai->k = nk;
		ai->t = nt;
		ai->cap = nc;
	}
	uint64_t j = key & (ai->cap - 1);
	while (ai->k[j] && ai->k[j] != key)
		j = (j + 1) & (ai->cap - 1);
	bool fresh = ai->k[j] != key || ts - ai->t[j] > 3 * LD_NS_PER_SEC;
	if (ai->k[j] != key)
		ai->n++;
	ai->k[j] = key;
	ai->t[j] = ts;
	return fresh;
}

static uint64_t tuple_key(uint32_t src, const ld_event *ev)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ ev->dst.b[i]) * 0x100000001b3ull;
	h = (h ^ src) * 0x100000001b3ull;
	h = (h ^ ((uint64_t)ev->sport << 24 | (uint64_t)ev->dport << 8 | ev->proto)) *
	    0x100000001b3ull;
	return h | 1;
}

static void anchor_feed_event(anchor_in *ai, anchors *an, const ld_event *ev)
{
	if (ev->action != LD_ACTION_DROP && ev->action != LD_ACTION_REJECT &&
	    ev->action != LD_ACTION_DENY)
		return;
	if (ev->proto == 6) {
		if ((ev->present & LD_RF_TCPFLAGS) &&
		    !((ev->tcp_flags & LD_TCP_SYN) && !(ev->tcp_flags & LD_TCP_ACK)))
			return;
	} else if (ev->proto != 1) {
		return; /* the anchors' connection trackers see TCP (and ICMP) attempts */
	}
	if (!unicast(&ev->src) || !unicast(&ev->dst) || !internal(ai->cfg, &ev->src) ||
	    !internal(ai->cfg, &ev->dst))
		return;
	bool scanner;
	uint32_t src = anchor_ident(ai, &ev->src, ev->ts_ns, &scanner);
	if (src == UINT32_MAX || scanner)
		return;
	if (!tuple_new(ai, tuple_key(src, ev), ev->ts_ns))
		return;
	anchors_feed(an, src, &ev->dst, ev->proto, ev->proto == 1 ? 0 : ev->dport, ev->ts_ns);
}

static void anchor_name(const anchor_in *ai, uint32_t id, char *buf, size_t cap)
{
	uint32_t base = ai->inv ? ai->inv->n_desktops : 0;
	if (id < base)
		snprintf(buf, cap, "%s", ai->inv->desktops[id].name);
	else if (id - base < ai->n_dyn)
		ld_addr_format(&ai->dyn[id - base], buf);
	else
		snprintf(buf, cap, "?");
}

/* --- scoring ------------------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long truth_of(const eval_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_truth; i++)
		if (strcmp(r->truth[i].name, name) == 0)
			return (long)i;
	return -1;
}

int eval_run(const ld_estate_opts *opts, const ld_analyze_config *cfg, eval_result *r,
	     ld_err *err)
{
	memset(r, 0, sizeof *r);
	ld_estate *es = ld_estate_generate(opts, err);
	if (!es)
		return -1;
	size_t nt;
	const ld_truth *truth = ld_estate_truth(es, &nt);
	r->n_truth = nt < EVAL_MAX_TRUTH ? nt : EVAL_MAX_TRUTH;
	memcpy(r->truth, truth, r->n_truth * sizeof *truth);
	r->desktops = ld_estate_desktops(es);
	r->days = (double)opts->duration_ns / (86400.0 * 1e9);
	uint64_t n = ld_estate_count(es);
	r->records = n;
	ld_event *ev = malloc((n ? n : 1) * sizeof *ev);
	if (!ev) {
		ld_err_set(err, "out of memory");
		ld_estate_free(es);
		return -1;
	}
	for (uint64_t i = 0; i < n; i++) {
		ld_record rec;
		ld_estate_record(es, i, &rec);
		ld_event_from_record(&ev[i], &rec);
	}
	ld_batch_sort(ev, n);

	const ld_inventory *inv = ld_estate_inventory(es);
	collector col = {0};
	ld_engine *e = ld_engine_new(cfg, inv, err);
	anchors *an = anchors_new(on_anchor, &col);
	anchor_in ai = {.cfg = cfg, .inv = inv};
	if (!e || !an) {
		ld_err_set(err, "out of memory");
		free(ev);
		ld_engine_free(e);
		anchors_free(an);
		ld_estate_free(es);
		return -1;
	}
	ld_engine_set_alert_fn(e, on_alert, &col);
	double t0 = now_s();
	for (uint64_t i = 0; i < n; i++)
		ld_engine_feed_event(e, &ev[i]);
	r->engine_seconds = now_s() - t0;
	for (uint64_t i = 0; i < n; i++)
		anchor_feed_event(&ai, an, &ev[i]);
	free(ev);
	ld_engine_stats_get(e, &r->st);

	/* per detector: first alert per host at/after the truth row's start; false alerts */
	uint32_t max_id = 0;
	for (size_t k = 0; k < col.n; k++)
		if (col.v[k].id > max_id)
			max_id = col.v[k].id;
	uint8_t *seen = calloc((size_t)(max_id + 1) * EVAL_DET, 1);
	for (size_t k = 0; k < col.n && seen; k++) {
		const hit_ev *h = &col.v[k];
		char name[64];
		if (h->det == 0) {
			ld_host_summary hs;
			ld_engine_host(e, h->id, &hs);
			snprintf(name, sizeof name, "%s", hs.name);
		} else {
			anchor_name(&ai, h->id, name, sizeof name);
		}
		long t = truth_of(r, name);
		if (t >= 0 && r->truth[t].infected) {
			eval_hit *x = &r->hit[h->det][t];
			if (!x->alerted && h->ts >= r->truth[t].start_ns - 60 * LD_NS_PER_SEC) {
				x->alerted = true;
				x->first_alert = h->ts;
				x->attempts = ld_estate_attempts_until(es, (size_t)t, h->ts);
				int64_t first = ld_estate_attack_time(es, (size_t)t, 1);
				x->seconds = first == INT64_MAX ? 0 : (double)(h->ts - first) / 1e9;
			}
			continue;
		}
		/* a benign host (or a listed scanner, or the desktop that inherited an address) */
		uint8_t *mark = &seen[(size_t)h->id * EVAL_DET + (size_t)h->det];
		if (*mark)
			continue;
		*mark = 1;
		if (r->fp_hosts[h->det] < EVAL_MAX_FP_NAMES)
			snprintf(r->fp_names[h->det][r->fp_hosts[h->det]], 32, "%.31s", name);
		r->fp_hosts[h->det]++;
	}
	free(seen);
	for (int d = 0; d < EVAL_DET; d++) {
		unsigned want = 0, got = 0;
		for (size_t t = 0; t < r->n_truth; t++)
			if (r->truth[t].expect_alert) {
				want++;
				got += r->hit[d][t].alerted;
			}
		r->recall[d] = want ? (double)got / want : 1.0;
		r->fp_rate[d] = (double)r->fp_hosts[d] / ((double)r->desktops / 1000.0) / r->days;
		r->combined[d] = 100.0 * r->recall[d] - 10.0 * r->fp_rate[d];
	}

	/* spread order (logdrop): parents and patient zero of the chain scenario */
	ld_report rep;
	if (ld_report_build(e, &rep, err) == 0) {
		r->dhcp_b_clean = true;
		for (size_t t = 0; t < r->n_truth; t++) {
			const ld_truth *tr = &r->truth[t];
			long s = -1;
			for (size_t q = 0; q < rep.n; q++)
				if (strcmp(rep.s[q].h.name, tr->name) == 0)
					s = (long)q;
			if (tr->scenario == LD_SC_DHCP && !tr->infected && s >= 0 &&
			    rep.s[s].h.level == LD_LEVEL_ALERT)
				r->dhcp_b_clean = false;
			if (tr->infected && !tr->parent[0] && s >= 0 &&
			    rep.s[s].h.level == LD_LEVEL_ALERT) {
				r->independent++;
				if (rep.s[s].parent != UINT32_MAX)
					r->spurious_parents++;
			}
			if (tr->scenario != LD_SC_CHAIN)
				continue;
			if (tr->parent[0]) {
				r->parents_total++;
				if (s >= 0 && rep.s[s].parent != UINT32_MAX) {
					long p = ld_report_find(&rep, rep.s[s].parent);
					if (p >= 0 && strcmp(rep.s[p].h.name, tr->parent) == 0)
						r->parents_right++;
				}
			}
			if (tr->patient_zero && s >= 0 && rep.s[s].incident) {
				const ld_incident *inc = &rep.inc[rep.s[s].incident - 1];
				bool root = false;
				for (size_t q = 0; q < inc->n_roots; q++)
					if (inc->roots[q] == (uint32_t)s)
						root = true;
				r->patient_zeros_found = root || r->patient_zeros_found;
				if (inc->n_roots && inc->roots[0] == (uint32_t)s &&
				    strcmp(tr->name, r->truth[t].name) == 0 &&
				    rep.s[s].h.onset <= tr->start_ns + 60 * LD_NS_PER_SEC)
					r->patient_zero_top1 = true;
			}
		}
		for (size_t q = 0; q < rep.n; q++) {
			long t = truth_of(r, rep.s[q].h.name);
			if ((t >= 0 && r->truth[t].infected) || rep.s[q].h.authorised)
				continue;
			if (rep.s[q].h.level == LD_LEVEL_SUSPECT)
				r->benign_suspects++;
			if (rep.s[q].h.score > r->benign_max_score) {
				r->benign_max_score = rep.s[q].h.score;
				snprintf(r->benign_max_name, sizeof r->benign_max_name, "%.31s",
					 rep.s[q].h.name);
			}
		}
		/* every chain root must be a patient-zero candidate */
		for (size_t t = 0; t < r->n_truth; t++) {
			const ld_truth *tr = &r->truth[t];
			if (tr->scenario != LD_SC_CHAIN || !tr->patient_zero)
				continue;
			bool ok = false;
			for (size_t k = 0; k < rep.n_inc; k++)
				for (size_t q = 0; q < rep.inc[k].n_roots; q++)
					if (strcmp(rep.s[rep.inc[k].roots[q]].h.name, tr->name) == 0)
						ok = true;
			if (!ok)
				r->patient_zeros_found = false;
		}
		ld_report_free(&rep);
	}
	r->alerts = col.al;
	r->n_alerts = col.n_al;
	free(col.v);
	free(ai.dyn);
	free(ai.k);
	free(ai.t);
	anchors_free(an);
	ld_engine_free(e);
	ld_estate_free(es);
	return 0;
}

void eval_free(eval_result *r)
{
	free(r->alerts);
	r->alerts = NULL;
}

void eval_print(FILE *out, const eval_result *r)
{
	fprintf(out, "estate: %u desktops, %.2f day(s), %llu records; engine %.3f s (%.1f M records/s)\n\n",
		r->desktops, r->days, (unsigned long long)r->records, r->engine_seconds,
		r->engine_seconds > 0 ? (double)r->records / r->engine_seconds / 1e6 : 0.0);
	fprintf(out, "%-4s %-12s %-6s", "scn", "host", "expect");
	for (int d = 0; d < EVAL_DET; d++)
		fprintf(out, " | %-19s", eval_det_name(d));
	fprintf(out, "\n%-24s", "");
	for (int d = 0; d < EVAL_DET; d++)
		fprintf(out, " | %-19s", "hit  att     secs");
	fprintf(out, "\n");
	for (size_t t = 0; t < r->n_truth; t++) {
		const ld_truth *tr = &r->truth[t];
		fprintf(out, "S%02u  %-12.12s %-6s", tr->scenario, tr->name,
			tr->floor ? "floor" : tr->expect_alert ? "alert" : "quiet");
		for (int d = 0; d < EVAL_DET; d++) {
			const eval_hit *h = &r->hit[d][t];
			if (!tr->infected) {
				fprintf(out, " | %-19s", "(benign)");
				continue;
			}
			if (h->alerted)
				fprintf(out, " | %-4s %4u %8.1f", "yes", h->attempts, h->seconds);
			else
				fprintf(out, " | %-4s %4s %8s", "no", "-", "-");
		}
		fprintf(out, "\n");
	}
	fprintf(out, "\n%-24s", "recall (expected rows)");
	for (int d = 0; d < EVAL_DET; d++)
		fprintf(out, " | %17.1f%%", 100.0 * r->recall[d]);
	fprintf(out, "\n%-24s", "false-alert hosts");
	for (int d = 0; d < EVAL_DET; d++)
		fprintf(out, " | %18u", r->fp_hosts[d]);
	fprintf(out, "\n%-24s", "per 1000 desktops/day");
	for (int d = 0; d < EVAL_DET; d++)
		fprintf(out, " | %18.2f", r->fp_rate[d]);
	fprintf(out, "\n%-24s", "combined score");
	for (int d = 0; d < EVAL_DET; d++)
		fprintf(out, " | %18.1f", r->combined[d]);
	fprintf(out, "\n\nlogdrop spread order: parents right %u/%u, spurious parents %u/%u "
		     "independent infections, patient zero top-1 %s, all roots "
		     "found %s; DHCP reuse: inheriting desktop %s\n",
		r->parents_right, r->parents_total, r->spurious_parents, r->independent,
		r->patient_zero_top1 ? "yes" : "no",
		r->patient_zeros_found ? "yes" : "no", r->dhcp_b_clean ? "clean" : "BLAMED");
	fprintf(out, "logdrop benign margin: %u benign hosts reached suspect; highest benign score "
		     "%.1f (%s; alert at 100)\n",
		r->benign_suspects, (double)r->benign_max_score,
		r->benign_max_name[0] ? r->benign_max_name : "-");
	for (int d = 0; d < EVAL_DET; d++) {
		if (!r->fp_hosts[d])
			continue;
		fprintf(out, "false alerts %-8s:", eval_det_name(d));
		for (uint32_t k = 0; k < r->fp_hosts[d] && k < EVAL_MAX_FP_NAMES; k++)
			fprintf(out, " %s", r->fp_names[d][k]);
		fprintf(out, "%s\n", r->fp_hosts[d] > EVAL_MAX_FP_NAMES ? " ..." : "");
	}
	fprintf(out, "engine: %llu records, %llu east-west, %llu noise, %llu duplicates, %llu attempts, "
		     "%llu scored, %llu hosts, %.0f bytes/host\n",
		(unsigned long long)r->st.records, (unsigned long long)r->st.east_west,
		(unsigned long long)r->st.noise, (unsigned long long)r->st.duplicates,
		(unsigned long long)r->st.attempts, (unsigned long long)r->st.scored,
		(unsigned long long)r->st.hosts,
		r->st.hosts ? (double)r->st.host_bytes / (double)r->st.hosts : 0.0);
}
