/* ld_report.c — ranking, explanations, incidents, parents and output. */
#include "ld_report.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ld_identity.h"
#include "ld_time.h"

static const char caveat[] =
	"Caveat: a probe in this graph was blocked; it did not itself carry the infection. "
	"\"A probed B before B started scanning\" is precedence, not proof: look for an allowed "
	"path, a shared upstream (mail, share, image, user) or reused credentials.";

long ld_report_find(const ld_report *r, uint32_t ident)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->s[i].h.id == ident)
			return (long)i;
	return -1;
}

static void add_reason(ld_suspect *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_reason(ld_suspect *s, const char *fmt, ...)
{
	if (s->n_reasons >= LD_REASON_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->reasons[s->n_reasons++], LD_REASON_LEN, fmt, ap);
	va_end(ap);
}

static const char *proto_short(uint8_t proto)
{
	return proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : proto == 58 ? "icmpv6" : "ip";
}

/* ICMP has types, not ports: its counter's port is 0 and means nothing */
static bool portless(uint8_t proto)
{
	return proto == 1 || proto == 58;
}

/* One top port as text: "tcp/445", "udp/137", "icmp" */
static int service_text(const ld_port_count *p, char *buf, size_t cap)
{
	if (portless(p->proto))
		return snprintf(buf, cap, "%s", proto_short(p->proto));
	return snprintf(buf, cap, "%s/%u", proto_short(p->proto), p->port);
}

static size_t ports_text(const ld_host_summary *h, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < h->n_top_ports && n + 16 < cap; i++) {
		if (i)
			buf[n++] = ',';
		n += (size_t)service_text(&h->top_ports[i], buf + n, cap - n);
	}
	return n;
}

static void fmt_dur(int64_t ns, char *buf, size_t cap)
{
	double s = (double)ns / 1e9;
	if (s < 120)
		snprintf(buf, cap, "%.1f s", s);
	else if (s < 7200)
		snprintf(buf, cap, "%.1f min", s / 60);
	else
		snprintf(buf, cap, "%.1f h", s / 3600);
}

static void explain(const ld_engine *e, ld_suspect *s)
{
	const ld_host_summary *h = &s->h;
	if (!h->scored) {
		snprintf(s->kind, sizeof s->kind, "none");
		add_reason(s, "no scored first contact (%" PRIu64 " drops were retries, noise or "
			      "benign ports)", h->records);
		return;
	}
	/* the shape of what it did: ports that carry at least a tenth of its scored attempts */
	unsigned sig_ports = 0;
	uint32_t top_count = h->n_top_ports ? h->top_ports[0].count : 0;
	for (unsigned i = 0; i < h->n_top_ports; i++)
		if ((uint64_t)h->top_ports[i].count * 10 >= h->scored)
			sig_ports++;
	if (h->vertical_max_ports >= 15 && h->peers <= 10)
		snprintf(s->kind, sizeof s->kind, "vertical");
	else if (h->peers >= 3 && sig_ports >= 3)
		snprintf(s->kind, sizeof s->kind, "sweep+multiport");
	else if (h->peers >= 3)
		snprintf(s->kind, sizeof s->kind, "horizontal");
	else if (h->vertical_max_ports >= 3)
		snprintf(s->kind, sizeof s->kind, "vertical");
	else
		snprintf(s->kind, sizeof s->kind, "few-peers");
	const char *looks = NULL;
	uint16_t top = h->n_top_ports ? h->top_ports[0].port : 0;
	bool top_tcp = h->n_top_ports && h->top_ports[0].proto == 6;
	bool has_icmp = false, has_137 = false;
	for (unsigned i = 0; i < h->n_top_ports; i++) {
		has_icmp |= h->top_ports[i].proto == 1;
		has_137 |= h->top_ports[i].proto == 17 && h->top_ports[i].port == 137;
	}
	if (h->peers >= 10 && (has_icmp || has_137) && sig_ports >= 3)
		looks = "operator IP/port scanner (ICMP, NetBIOS name queries, several services)";
	else if (strcmp(s->kind, "vertical") == 0 && h->vertical_max_ports >= 15)
		looks = "port scan of a few hosts (nmap-like)";
	else if (h->peers >= 10 && top_tcp && (top == 445 || top == 139) &&
		 (uint64_t)top_count * 10 >= h->scored * 8)
		looks = "SMB worm sweep (WannaCry/NotPetya/Conficker-like)";
	else if (h->peers >= 5 && top_tcp && (top == 3389 || top == 5985 || top == 5986 || top == 22))
		looks = "remote-administration fan-out (RDP/WinRM/SSH)";
	char ports[96], dur[32], t[LD_TIME_STRLEN];
	ports_text(h, ports, sizeof ports);
	if (h->level == LD_LEVEL_ALERT || h->would_alert) {
		fmt_dur(h->first_alert - h->onset, dur, sizeof dur);
		ld_time_format_ms(h->first_alert, t);
		add_reason(s, "%s tier crossed at %s after %u first-contact attempts in %s",
			   ld_tier_name(h->peak_tier), t, h->attempts_at_alert, dur);
	} else if (h->level == LD_LEVEL_SUSPECT) {
		add_reason(s, "suspect: scored %.0f%% of an alert threshold", (double)h->score);
	}
	add_reason(s, "%u%s new peer%s probed, %u%s port%s (%s), %" PRIu64 " first contact%s",
		   h->peers, h->peers_overflow ? "+" : "", h->peers == 1 ? "" : "s", h->ports_distinct,
		   h->ports_overflow ? "+" : "", h->ports_distinct == 1 ? "" : "s", ports,
		   h->first_contacts, h->first_contacts == 1 ? "" : "s");
	if (looks)
		add_reason(s, "looks like: %s", looks);
	if (h->seq_total >= 5 && h->seq_pairs * 10 >= h->seq_total * 6)
		add_reason(s, "sequential sweep: %u of %u consecutive targets adjacent, %u in own subnet",
			   h->seq_pairs, h->seq_total, h->same_subnet);
	else if (h->peers >= 5)
		add_reason(s, "non-sequential target order (list-driven), %u of %u in own subnet",
			   h->same_subnet, h->peers);
	if (h->vertical_max_ports >= 5) {
		char ip[LD_ADDR_STRLEN];
		ld_addr_format(&h->vertical_peer, ip);
		add_reason(s, "vertical: %u ports on %s within the vertical window",
			   h->vertical_max_ports, ip);
	}
	if (h->retries)
		add_reason(s, "retries to known peers: %" PRIu64 " of %" PRIu64 " attempts (%.0f%%)%s",
			   h->retries, h->attempts, 100.0 * (double)h->retries / (double)h->attempts,
			   h->retries * 2 > h->attempts ? ": stale mapping or brute force" : "");
	if (h->habitual_hits || h->fleet_discounted)
		add_reason(s, "baselines: %u habitual (host) and %u fleet-common attempts discounted",
			   h->habitual_hits, h->fleet_discounted);
	if (h->authorised)
		add_reason(s, "authorised scanner: scored, never alerted%s",
			   h->would_alert ? " (crossed an alert threshold)" : "");
	(void)e;
}

static int rank_cmp(const void *a, const void *b)
{
	const ld_suspect *x = a, *y = b;
	if (x->h.level != y->h.level)
		return x->h.level > y->h.level ? -1 : 1;
	if (x->h.score != y->h.score)
		return x->h.score > y->h.score ? -1 : 1;
	if (x->h.first_alert != y->h.first_alert)
		return x->h.first_alert < y->h.first_alert ? -1 : 1;
	return strcmp(x->h.name, y->h.name);
}

/* union-find over report indexes */
static uint32_t uf_find(uint32_t *p, uint32_t x)
{
	while (p[x] != x) {
		p[x] = p[p[x]];
		x = p[x];
	}
	return x;
}

static void uf_union(uint32_t *p, uint32_t a, uint32_t b)
{
	a = uf_find(p, a);
	b = uf_find(p, b);
	if (a != b)
		p[a > b ? a : b] = a < b ? a : b;
}

static int onset_cmp_ctx_less(const ld_report *r, uint32_t a, uint32_t b)
{
	int64_t x = r->s[a].h.onset, y = r->s[b].h.onset;
	return x < y || (x == y && a < b);
}

static void sort_by_onset(const ld_report *r, uint32_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t k = v[i];
		size_t j = i;
		while (j > 0 && onset_cmp_ctx_less(r, k, v[j - 1])) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = k;
	}
}

static int touch_cmp(const void *a, const void *b)
{
	const ld_touch *x = a, *y = b;
	if (x->probes != y->probes)
		return x->probes > y->probes ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

typedef struct edge_sort_ctx {
	const ld_edge *edges;
	const long *pos;
	const ld_report *r;
	bool by_incident; /* group by (incident, peer), else by (source, peer) */
} edge_sort_ctx;

static int edge_cmp(const void *a, const void *b, void *vctx)
{
	const edge_sort_ctx *c = vctx;
	const ld_edge *x = &c->edges[*(const uint64_t *)a], *y = &c->edges[*(const uint64_t *)b];
	uint32_t kx, ky;
	if (c->by_incident) {
		kx = (uint32_t)c->r->s[c->pos[x->src]].incident;
		ky = (uint32_t)c->r->s[c->pos[y->src]].incident;
	} else {
		kx = x->src;
		ky = y->src;
	}
	if (kx != ky)
		return kx < ky ? -1 : 1;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	return ld_addr_cmp(&x->dst_ip, &y->dst_ip);
}

static int build_incidents(ld_report *r)
{
	uint32_t nid = ld_engine_host_count(r->e);
	long *pos = malloc((nid ? nid : 1) * sizeof *pos);
	uint32_t *uf = malloc((r->n ? r->n : 1) * sizeof *uf);
	double *best = calloc(r->n ? r->n : 1, sizeof *best);
	if (!pos || !uf || !best) {
		free(pos);
		free(uf);
		free(best);
		return -1;
	}
	for (uint32_t i = 0; i < nid; i++)
		pos[i] = -1;
	for (size_t i = 0; i < r->n; i++) {
		pos[r->s[i].h.id] = (long)i;
		uf[i] = (uint32_t)i;
	}
	uint64_t ne;
	const ld_edge *edges = ld_engine_edges(r->e, &ne);
	/* parents */
	for (uint64_t k = 0; k < ne; k++) {
		const ld_edge *g = &edges[k];
		if (g->dst == LD_ID_NONE || g->dst >= nid || g->src == g->dst)
			continue;
		long a = pos[g->src], b = pos[g->dst];
		if (a < 0 || b < 0)
			continue;
		ld_suspect *A = &r->s[a], *B = &r->s[b];
		if (A->h.level != LD_LEVEL_ALERT || B->h.level != LD_LEVEL_ALERT)
			continue;
		if (!(g->ts_ns < B->h.onset && A->h.onset < B->h.onset))
			continue;
		/* an old probe says little: every slow scan touches many hosts that get infected
		 * later by something else (measured on the scenario suite: unbounded, 5 of 16 independent infections got a
		 * parent; within 30 min, 0-1 of 16, chain parents all still right) */
		if (B->h.onset - g->ts_ns > ld_engine_config(r->e)->parent_window_ns)
			continue;
		double gap_h = (double)(B->h.onset - g->ts_ns) / 3.6e12;
		bool same_port = B->h.n_top_ports && B->h.top_ports[0].port == g->port &&
				 B->h.top_ports[0].proto == g->proto;
		double score = (same_port ? 2.0 : 1.0) / (1.0 + gap_h);
		if (score > best[b] || (score == best[b] && B->parent != LD_ID_NONE &&
					A->h.onset < r->s[pos[B->parent]].h.onset)) {
			best[b] = score;
			B->parent = A->h.id;
			B->parent_ts = g->ts_ns;
		}
	}
	/* a host and its candidate infector belong to one incident (a probe that reached an
	 * already-infected host says nothing about either infection) */
	for (size_t i = 0; i < r->n; i++)
		if (r->s[i].parent != LD_ID_NONE && pos[r->s[i].parent] >= 0)
			uf_union(uf, (uint32_t)i, (uint32_t)pos[r->s[i].parent]);
	/* same dominant port within the outbreak window */
	int64_t window = ld_engine_config(r->e)->outbreak_ns;
	for (size_t i = 0; i < r->n; i++) {
		const ld_host_summary *x = &r->s[i].h;
		if (x->level != LD_LEVEL_ALERT || !x->n_top_ports)
			continue;
		for (size_t j = i + 1; j < r->n; j++) {
			const ld_host_summary *y = &r->s[j].h;
			if (y->level != LD_LEVEL_ALERT || !y->n_top_ports)
				continue;
			int64_t d = x->first_alert - y->first_alert;
			if (d < 0)
				d = -d;
			if (d <= window && x->top_ports[0].port == y->top_ports[0].port &&
			    x->top_ports[0].proto == y->top_ports[0].proto)
				uf_union(uf, (uint32_t)i, (uint32_t)j);
		}
	}
	/* number incidents by earliest onset */
	size_t n_alert = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->s[i].h.level == LD_LEVEL_ALERT)
			n_alert++;
	uint32_t *order = malloc((n_alert ? n_alert : 1) * sizeof *order);
	r->inc = calloc(n_alert ? n_alert : 1, sizeof *r->inc);
	if (!order || !r->inc) {
		free(order);
		free(pos);
		free(uf);
		free(best);
		return -1;
	}
	size_t m = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->s[i].h.level == LD_LEVEL_ALERT)
			order[m++] = (uint32_t)i;
	sort_by_onset(r, order, m);
	for (size_t k = 0; k < m; k++) {
		uint32_t i = order[k], root = uf_find(uf, i);
		if (r->s[root].incident == 0 && r->s[i].incident == 0) {
			r->inc[r->n_inc].id = (int)r->n_inc + 1;
			r->s[root].incident = (int)r->n_inc + 1;
			r->n_inc++;
		}
		r->s[i].incident = r->s[root].incident;
	}
	for (size_t k = 0; k < r->n_inc; k++) {
		ld_incident *inc = &r->inc[k];
		inc->members = malloc(m * sizeof *inc->members);
		inc->roots = malloc(m * sizeof *inc->roots);
		if (!inc->members || !inc->roots)
			continue;
		inc->start = INT64_MAX;
		inc->end = INT64_MIN;
		for (size_t q = 0; q < m; q++) {
			ld_suspect *s = &r->s[order[q]];
			if (s->incident != inc->id)
				continue;
			inc->members[inc->n_members++] = order[q];
			if (s->parent == LD_ID_NONE || pos[s->parent] < 0 ||
			    r->s[pos[s->parent]].incident != inc->id)
				inc->roots[inc->n_roots++] = order[q];
			if (s->h.onset < inc->start)
				inc->start = s->h.onset;
			if (s->h.last_seen > inc->end)
				inc->end = s->h.last_seen;
		}
	}
	/* touched desktops: every peer probed by an alerted member, aggregated by sorting the
	 * members' edges (O(E log E), whatever the incident's size) */
	uint64_t *idx = malloc((ne ? ne : 1) * sizeof *idx);
	if (idx) {
		uint64_t m2 = 0;
		for (uint64_t q = 0; q < ne; q++) {
			long a = edges[q].src < nid ? pos[edges[q].src] : -1;
			if (a >= 0 && r->s[a].incident)
				idx[m2++] = q;
		}
		edge_sort_ctx ctx = {edges, pos, r, true};
		qsort_r(idx, m2, sizeof *idx, edge_cmp, &ctx);
		for (uint64_t q = 0; q < m2;) {
			const ld_edge *g = &edges[idx[q]];
			ld_incident *inc = &r->inc[r->s[pos[g->src]].incident - 1];
			uint64_t run = q;
			int64_t first = g->ts_ns;
			while (run < m2 && edge_cmp(&idx[q], &idx[run], &ctx) == 0) {
				if (edges[idx[run]].ts_ns < first)
					first = edges[idx[run]].ts_ns;
				run++;
			}
			if (inc->n_touched % 64 == 0) {
				ld_touch *nt = realloc(inc->touched, (inc->n_touched + 64) * sizeof *nt);
				if (!nt)
					break;
				inc->touched = nt;
			}
			ld_touch *t = &inc->touched[inc->n_touched++];
			t->ident = g->dst;
			t->ip = g->dst_ip;
			t->probes = (uint32_t)(run - q);
			t->first = first;
			q = run;
		}
		/* per host: distinct peers it probed */
		ctx.by_incident = false;
		qsort_r(idx, m2, sizeof *idx, edge_cmp, &ctx);
		for (uint64_t q = 0; q < m2; q++)
			if (q == 0 || edge_cmp(&idx[q - 1], &idx[q], &ctx) != 0)
				r->s[pos[edges[idx[q]].src]].touched++;
		free(idx);
	}
	for (size_t k = 0; k < r->n_inc; k++)
		if (r->inc[k].n_touched > 1)
			qsort(r->inc[k].touched, r->inc[k].n_touched, sizeof(ld_touch), touch_cmp);
	free(order);
	free(pos);
	free(uf);
	free(best);
	return 0;
}

int ld_report_build(const ld_engine *e, ld_report *r, ld_err *err)
{
	memset(r, 0, sizeof *r);
	r->e = e;
	uint32_t nid = ld_engine_host_count(e);
	r->s = calloc(nid ? nid : 1, sizeof *r->s);
	if (!r->s) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < nid; i++) {
		ld_suspect *s = &r->s[r->n];
		ld_engine_host(e, i, &s->h);
		if (!s->h.tracked)
			continue;
		s->parent = LD_ID_NONE;
		s->parent_ts = LD_TIME_NONE;
		explain(e, s);
		r->n++;
	}
	qsort(r->s, r->n, sizeof *r->s, rank_cmp);
	if (build_incidents(r) < 0) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	/* parent reason, now that parents are known */
	for (size_t i = 0; i < r->n; i++) {
		ld_suspect *s = &r->s[i];
		if (s->parent == LD_ID_NONE)
			continue;
		long p = ld_report_find(r, s->parent);
		char t[LD_TIME_STRLEN];
		ld_time_format_ms(s->parent_ts, t);
		if (p >= 0)
			add_reason(s, "candidate infector %s probed it at %s, before its onset "
				      "(blocked probe: precedence, not proof)", r->s[p].h.name, t);
	}
	return 0;
}

void ld_report_free(ld_report *r)
{
	for (size_t k = 0; k < r->n_inc; k++) {
		free(r->inc[k].members);
		free(r->inc[k].roots);
		free(r->inc[k].touched);
	}
	free(r->inc);
	free(r->s);
	memset(r, 0, sizeof *r);
}

static bool shown(const ld_suspect *s, bool all)
{
	return all || s->h.level != LD_LEVEL_NORMAL || s->h.would_alert;
}

static const char *name_of(const ld_report *r, uint32_t ident)
{
	long p = ld_report_find(r, ident);
	if (p >= 0)
		return r->s[p].h.name;
	ld_host_summary h;
	if (ident < ld_engine_host_count(r->e)) {
		ld_engine_host(r->e, ident, &h);
		return h.name;
	}
	return "?";
}

static void time_or_dash(int64_t t, char *buf)
{
	if (t == LD_TIME_NONE)
		strcpy(buf, "-");
	else
		ld_time_format_ms(t, buf);
}

void ld_report_print_table(FILE *out, const ld_report *r, size_t top, bool all)
{
	size_t shown_n = 0;
	for (size_t i = 0; i < r->n; i++)
		if (shown(&r->s[i], all))
			shown_n++;
	if (!shown_n) {
		fprintf(out, "No suspects: %zu hosts sent east-west drops, none scored as a scan "
			     "(use --all to list them).\n", r->n);
		return;
	}
	fprintf(out, "%-4s %-18s %-12s %-10s %6s %-7s %-15s %5s %-22s %-24s %-24s %s\n", "rank",
		"desktop", "user", "pool", "score", "level", "kind", "peers", "ports", "first seen",
		"first alert", "reason");
	size_t rank = 0;
	for (size_t i = 0; i < r->n; i++) {
		const ld_suspect *s = &r->s[i];
		if (!shown(s, all))
			continue;
		if (top && rank >= top)
			break;
		rank++;
		char ports[96], fs[LD_TIME_STRLEN], fa[LD_TIME_STRLEN];
		ports_text(&s->h, ports, sizeof ports);
		if (strlen(ports) > 22)
			strcpy(ports + 19, "...");
		time_or_dash(s->h.first_seen, fs);
		time_or_dash(s->h.first_alert, fa);
		fprintf(out, "%-4zu %-18s %-12s %-10s %6.1f %-7s %-15s %5u %-22s %-24s %-24s %s\n",
			rank, s->h.name, *s->h.user ? s->h.user : "-", *s->h.pool ? s->h.pool : "-",
			(double)s->h.score, s->h.authorised ? "allowed" : ld_level_name(s->h.level),
			s->kind, s->h.peers, ports[0] ? ports : "-", fs, fa,
			s->n_reasons ? s->reasons[0] : "");
	}
	size_t flagged = 0;
	for (size_t i = 0; i < r->n; i++)
		if (shown(&r->s[i], all) && r->s[i].h.level != LD_LEVEL_NORMAL)
			flagged++;
	if (flagged)
		fprintf(out, "\nWhy (top %zu):\n", flagged < 5 ? flagged : (size_t)5);
	rank = 0;
	for (size_t i = 0; i < r->n && rank < 5; i++) {
		const ld_suspect *s = &r->s[i];
		if (!shown(s, all) || s->h.level == LD_LEVEL_NORMAL)
			continue;
		rank++;
		char ip[LD_ADDR_STRLEN], on[LD_TIME_STRLEN];
		ld_addr_format(&s->h.ip, ip);
		time_or_dash(s->h.onset, on);
		fprintf(out, "  %s (%s), onset %s (restore from before it):\n", s->h.name, ip, on);
		for (unsigned k = 0; k < s->n_reasons; k++)
			fprintf(out, "    - %s\n", s->reasons[k]);
	}
	for (size_t k = 0; k < r->n_inc; k++) {
		const ld_incident *inc = &r->inc[k];
		char a[LD_TIME_STRLEN], b[LD_TIME_STRLEN];
		time_or_dash(inc->start, a);
		time_or_dash(inc->end, b);
		fprintf(out, "\nIncident %d: %zu alerting host%s, %s .. %s\n", inc->id,
			inc->n_members, inc->n_members == 1 ? "" : "s", a, b);
		fprintf(out, "  patient-zero candidates:");
		for (size_t q = 0; q < inc->n_roots; q++) {
			time_or_dash(r->s[inc->roots[q]].h.onset, a);
			fprintf(out, "%s %s (onset %s)", q ? "," : "", r->s[inc->roots[q]].h.name, a);
		}
		fprintf(out, "%s\n", inc->n_roots > 1 ? "  -> several independent introductions?" : "");
		fprintf(out, "  spread order:\n");
		for (size_t q = 0; q < inc->n_members; q++) {
			const ld_suspect *s = &r->s[inc->members[q]];
			time_or_dash(s->h.onset, a);
			time_or_dash(s->h.first_alert, b);
			fprintf(out, "    %zu. %-18s onset %s  alert %s  parent %s\n", q + 1, s->h.name,
				a, b, s->parent == LD_ID_NONE ? "-" : name_of(r, s->parent));
		}
		fprintf(out, "  touched: %zu peer%s probed", inc->n_touched,
			inc->n_touched == 1 ? "" : "s");
		for (size_t q = 0; q < inc->n_touched && q < 10; q++) {
			char ip[LD_ADDR_STRLEN];
			ld_addr_format(&inc->touched[q].ip, ip);
			const char *nm = inc->touched[q].ident != LD_ID_NONE
						 ? name_of(r, inc->touched[q].ident)
						 : ip;
			fprintf(out, "%s %s (x%u)", q ? "," : ":", nm, inc->touched[q].probes);
		}
		fprintf(out, "%s\n", inc->n_touched > 10 ? ", ..." : "");
	}
	if (r->n_inc)
		fprintf(out, "\n%s\n", caveat);
	/* many-to-one: not a host alert, a fleet note */
	uint32_t tracked = 0;
	for (size_t i = 0; i < r->n; i++)
		tracked += r->s[i].h.scored > 0;
	uint32_t min_hosts = tracked / 20 > 10 ? tracked / 20 : 10;
	ld_popular_dst pop[5];
	size_t np = ld_engine_popular(r->e, min_hosts, pop, 5);
	for (size_t i = 0; i < np; i++) {
		char ip[LD_ADDR_STRLEN], t[LD_TIME_STRLEN];
		ld_addr_format(&pop[i].dst, ip);
		ld_time_format_ms(pop[i].first, t);
		if (i == 0)
			fprintf(out, "\nFleet notes (many desktops to one blocked destination: usually a "
				     "recycled server address or a stale mapping in the image/GPO, not a scan):\n");
		fprintf(out, "  %s %s/%u: first contact from %u hosts (first %s)\n", ip,
			proto_short(pop[i].proto), pop[i].port, pop[i].hosts, t);
	}
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_time(FILE *out, int64_t t)
{
	if (t == LD_TIME_NONE) {
		fputs("null", out);
		return;
	}
	char b[LD_TIME_STRLEN];
	ld_time_format_ms(t, b);
	fprintf(out, "\"%s\"", b);
}

void ld_report_print_json(FILE *out, const ld_report *r, size_t top, bool all)
{
	size_t rank = 0;
	for (size_t i = 0; i < r->n; i++) {
		const ld_suspect *s = &r->s[i];
		if (!shown(s, all))
			continue;
		if (top && rank >= top)
			break;
		rank++;
		char ip[LD_ADDR_STRLEN];
		ld_addr_format(&s->h.ip, ip);
		fputs("{\"name\":", out);
		json_str(out, s->h.name);
		fprintf(out, ",\"ip\":\"%s\",\"score\":%.1f,\"level\":\"%s\",\"first_seen\":", ip,
			(double)s->h.score, ld_level_name(s->h.level));
		json_time(out, s->h.first_seen);
		fputs(",\"first_alert\":", out);
		json_time(out, s->h.level == LD_LEVEL_ALERT ? s->h.first_alert : LD_TIME_NONE);
		fputs(",\"last_seen\":", out);
		json_time(out, s->h.last_seen);
		fputs(",\"onset\":", out);
		json_time(out, s->h.onset);
		fprintf(out, ",\"attempts\":%" PRIu64 ",\"first_contacts\":%" PRIu64
			     ",\"peers\":%u,\"ports\":[",
			s->h.attempts, s->h.first_contacts, s->h.peers);
		/* port numbers only (tcp/445 and udp/445 are one entry; ICMP has none), then the
		 * same counters with their protocol */
		unsigned listed = 0;
		for (unsigned k = 0; k < s->h.n_top_ports; k++) {
			const ld_port_count *p = &s->h.top_ports[k];
			bool dup = portless(p->proto);
			for (unsigned q = 0; q < k && !dup; q++)
				dup = !portless(s->h.top_ports[q].proto) && s->h.top_ports[q].port == p->port;
			if (!dup)
				fprintf(out, "%s%u", listed++ ? "," : "", p->port);
		}
		fputs("],\"services\":[", out);
		for (unsigned k = 0; k < s->h.n_top_ports; k++) {
			char svc[32];
			service_text(&s->h.top_ports[k], svc, sizeof svc);
			fprintf(out, "%s\"%s\"", k ? "," : "", svc);
		}
		fputs("],\"kind\":", out);
		json_str(out, s->kind);
		if (s->incident)
			fprintf(out, ",\"incident\":%d", s->incident);
		else
			fputs(",\"incident\":null", out);
		fputs(",\"parent\":", out);
		if (s->parent == LD_ID_NONE)
			fputs("null", out);
		else
			json_str(out, name_of(r, s->parent));
		fputs(",\"reasons\":[", out);
		for (unsigned k = 0; k < s->n_reasons; k++) {
			if (k)
				fputc(',', out);
			json_str(out, s->reasons[k]);
		}
		fputs("],\"user\":", out);
		json_str(out, s->h.user);
		fputs(",\"pool\":", out);
		json_str(out, s->h.pool);
		fprintf(out, ",\"role\":\"%s\",\"authorised\":%s,\"tier\":\"%s\",\"retries\":%" PRIu64
			     ",\"records\":%" PRIu64 ",\"touched\":%u",
			ld_role_name(s->h.role), s->h.authorised ? "true" : "false",
			ld_tier_name(s->h.peak_tier), s->h.retries, s->h.records, s->touched);
		bool pz = false;
		for (size_t k = 0; k < r->n_inc; k++)
			for (size_t q = 0; q < r->inc[k].n_roots; q++)
				if (r->inc[k].roots[q] == i)
					pz = true;
		fprintf(out, ",\"patient_zero_candidate\":%s}\n", pz ? "true" : "false");
	}
}
