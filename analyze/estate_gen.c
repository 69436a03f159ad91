/* estate_gen.c — synthetic VDI estate generator (see estate_gen.h). */
#include "estate_gen.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ld_time.h"

#define POOL_SIZE 240
#define SEC LD_NS_PER_SEC
#define MIN (60 * SEC)
#define HOUR (3600 * SEC)
#define MS (SEC / 1000)
#define N_ESX_PER 30 /* desktops per ESXi host */

typedef struct gen_rec {
	int64_t ts;
	ld_addr src, dst;
	uint16_t sport, dport;
	uint8_t proto, dir, flags, action;
	uint32_t vif;
	uint16_t esx;
	uint16_t len;
	uint16_t mal; /* truth index + 1 of a malicious record, 0 benign */
} gen_rec;

typedef struct desk {
	char name[32], user[24], pool[16];
	ld_addr v4, v6, ll;
	uint32_t vif;
	uint16_t esx;
	int64_t on_from, on_to;   /* VM holds its address */
	int64_t logon, logoff;    /* user session */
	uint8_t role;
} desk;

struct ld_estate {
	ld_estate_opts o;
	uint64_t rng;
	desk *d;
	uint32_t n_d, n_desktops;
	gen_rec *r;
	uint64_t n, cap;
	bool oom;
	ld_inventory *inv;
	ld_truth truth[64];
	size_t n_truth;
	int64_t *fc[64]; /* per truth row: times of distinct malicious first contacts */
	uint32_t n_fc[64];
	char esx_names[256][24];
	uint32_t n_esx;
	const desk *protect[4]; /* chain-scenario hosts: other attacks never probe them */
	unsigned n_protect;
};

/* --- randomness --------------------------------------------------------------------------- */

static uint64_t rnd(ld_estate *es)
{
	uint64_t z = (es->rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t rndu(ld_estate *es, uint32_t n)
{
	return n ? (uint32_t)(rnd(es) % n) : 0;
}

static int64_t rndt(ld_estate *es, int64_t span)
{
	if (span <= 0)
		return 0;
	/* millisecond resolution, as in the DFW log */
	return (int64_t)(rnd(es) % (uint64_t)(span / MS + 1)) * MS;
}

static double rndf(ld_estate *es)
{
	return (double)(rnd(es) >> 11) / 9007199254740992.0;
}

void ld_estate_opts_default(ld_estate_opts *o)
{
	memset(o, 0, sizeof *o);
	o->seed = 1;
	o->desktops = 60;
	o->start_ns = ld_time_from_civil(2026, 11, 2, 0, 0, 0, 0);
	o->duration_ns = 24 * HOUR;
	o->scenarios = 0;
	o->noise = true;
	o->artefacts = true;
	o->reorder = false;
}

/* --- records ------------------------------------------------------------------------------ */

static gen_rec *push(ld_estate *es)
{
	if (es->n == es->cap) {
		uint64_t nc = es->cap ? es->cap * 2 : 65536;
		gen_rec *nr = realloc(es->r, nc * sizeof *nr);
		if (!nr) {
			es->oom = true;
			return NULL;
		}
		es->r = nr;
		es->cap = nc;
	}
	gen_rec *g = &es->r[es->n++];
	memset(g, 0, sizeof *g);
	return g;
}

static const desk *desk_at(const ld_estate *es, const ld_addr *a, int64_t ts)
{
	/* desktops are laid out by address (10.20.<pool+1>.<10+i>, fd20::<pool+1>:0:0:0:<10+i>) */
	uint32_t pool, host;
	if (ld_addr_is_v4(a)) {
		uint32_t v = ld_addr_v4(a);
		if ((v >> 16) != (10u << 8 | 20u))
			goto extras;
		pool = ((v >> 8) & 0xFF) - 1;
		host = v & 0xFF;
	} else {
		if (a->b[0] != 0xfd || a->b[1] != 0x20)
			goto extras;
		pool = a->b[7] - 1u;
		host = a->b[15];
	}
	if (host >= 10 && host < 10 + POOL_SIZE) {
		uint32_t idx = pool * POOL_SIZE + host - 10;
		if (idx < es->n_desktops) {
			const desk *d = &es->d[idx];
			if ((ld_addr_eq(&d->v4, a) || ld_addr_eq(&d->v6, a)) && ts >= d->on_from &&
			    ts < d->on_to)
				return d;
		}
	}
extras:
	for (uint32_t i = es->n_desktops; i < es->n_d; i++) {
		const desk *d = &es->d[i];
		if ((ld_addr_eq(&d->v4, a) || ld_addr_eq(&d->v6, a)) && ts >= d->on_from &&
		    ts < d->on_to)
			return d;
	}
	return NULL;
}

enum { K_PLAIN = 0, K_CONNECT = 1 }; /* K_CONNECT: Windows connect(): SYN retransmits */

/* One dropped packet from s (at src address sa) to address da, with the artefacts of the DFW:
 * OUT at the sender's vNIC, IN again at the receiver's when both sit on one ESXi host, and SYN
 * retransmissions for connect() attempts. */
static void emit(ld_estate *es, int64_t ts, const desk *s, const ld_addr *sa, const ld_addr *da,
		 uint16_t sport, uint16_t dport, uint8_t proto, uint8_t flags, int kind, uint16_t mal)
{
	if (ts < es->o.start_ns || ts >= es->o.start_ns + es->o.duration_ns)
		return;
	if (s && (ts < s->on_from || ts >= s->on_to))
		return;
	if (mal && es->truth[mal - 1].scenario == LD_SC_ARTEFACTS && rndf(es) < 0.10)
		return; /* record loss */
	if (mal && es->truth[mal - 1].scenario != LD_SC_CHAIN) {
		for (unsigned k = 0; k < es->n_protect; k++)
			if (es->protect[k] != s && (ld_addr_eq(&es->protect[k]->v4, da) ||
						    ld_addr_eq(&es->protect[k]->v6, da)))
				return;
	}
	const desk *dd = NULL;
	if (es->o.artefacts)
		dd = desk_at(es, da, ts);
	int copies = proto == 6 && kind == K_CONNECT && es->o.artefacts ? 3 : 1;
	static const int64_t rtx[3] = {0, 1000 * MS, 3000 * MS};
	for (int c = 0; c < copies; c++) {
		int64_t t = ts + rtx[c] + (c ? rndt(es, 40 * MS) : 0);
		gen_rec *g = push(es);
		if (!g)
			return;
		g->ts = t;
		g->src = *sa;
		g->dst = *da;
		g->sport = sport;
		g->dport = dport;
		g->proto = proto;
		g->flags = flags;
		g->dir = LD_DIR_OUT;
		g->action = LD_ACTION_DROP;
		g->vif = s ? s->vif : 0;
		g->esx = s ? s->esx : 0;
		g->len = proto == 6 ? 52 : proto == 17 ? 78 : proto == 1 ? 84 : 36;
		g->mal = mal;
		if (dd && s && dd->esx == s->esx && dd != s) {
			/* push() may move the array: copy the OUT record before asking for the IN one */
			const gen_rec out_copy = *g;
			gen_rec *h = push(es);
			if (!h)
				return;
			*h = out_copy;
			h->ts = t + rndt(es, 2 * MS);
			h->dir = LD_DIR_IN;
			h->vif = dd->vif;
		}
	}
}

static void emit_ok(ld_estate *es, int64_t ts, const desk *s, const ld_addr *da, uint16_t dport)
{
	/* an allowed flow (DNS to a DC): the engine must ignore verdicts other than drops */
	if (ts < es->o.start_ns || ts >= es->o.start_ns + es->o.duration_ns || ts < s->on_from ||
	    ts >= s->on_to)
		return;
	gen_rec *g = push(es);
	if (!g)
		return;
	g->ts = ts;
	g->src = s->v4;
	g->dst = *da;
	g->sport = (uint16_t)(49152 + rndu(es, 16000));
	g->dport = dport;
	g->proto = 17;
	g->dir = LD_DIR_OUT;
	g->action = LD_ACTION_ALLOW;
	g->vif = s->vif;
	g->esx = s->esx;
	g->len = 70;
}

static uint16_t eph(ld_estate *es)
{
	return (uint16_t)(49152 + rndu(es, 16383));
}

static ld_addr v4(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	ld_addr x;
	ld_addr_from_v4(&x, a << 24 | b << 16 | c << 8 | d);
	return x;
}

static ld_addr v6_of(const uint8_t prefix[8], uint64_t iid)
{
	ld_addr x;
	memcpy(x.b, prefix, 8);
	for (int i = 0; i < 8; i++)
		x.b[8 + i] = (uint8_t)(iid >> (56 - 8 * i));
	return x;
}

/* --- estate layout ------------------------------------------------------------------------ */

static ld_addr pool_addr(uint32_t pool, uint32_t host)
{
	return v4(10, 20, pool + 1, host);
}

static void make_desk(ld_estate *es, desk *d, uint32_t idx, const char *name, ld_addr a4,
		      uint32_t pool, uint8_t role)
{
	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	/* desktops are numbered from 1 in their names (VDI-0001), and so are their users */
	if (role == LD_ROLE_DESKTOP)
		snprintf(d->user, sizeof d->user, "user%04u", idx + 1);
	else
		snprintf(d->user, sizeof d->user, "svc%04u", idx);
	snprintf(d->pool, sizeof d->pool, role == LD_ROLE_DESKTOP ? "pool-%c" : "infra",
		 'a' + (char)(pool % 26));
	d->v4 = a4;
	uint8_t p6[8] = {0xfd, 0x20, 0, 0, 0, 0, 0, (uint8_t)(pool + 1)};
	d->v6 = v6_of(p6, ld_addr_v4(&a4) & 0xFF);
	uint8_t ll[8] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0};
	uint64_t h = rnd(es);
	d->ll = v6_of(ll, h | 0x0200000000000000ull);
	d->vif = (uint32_t)(h >> 32) | 0x10000000u;
	d->esx = (uint16_t)(idx / N_ESX_PER);
	d->on_from = es->o.start_ns;
	d->on_to = es->o.start_ns + es->o.duration_ns;
	int64_t day = es->o.start_ns;
	d->logon = day + 7 * HOUR + rndt(es, 2 * HOUR);
	d->logoff = day + 16 * HOUR + rndt(es, 3 * HOUR);
	if (es->o.duration_ns < 12 * HOUR) {
		/* short demo windows: everyone is at work the whole window */
		d->logon = es->o.start_ns + rndt(es, es->o.duration_ns / 20);
		d->logoff = es->o.start_ns + es->o.duration_ns;
	}
	d->role = role;
}

static desk *find_desk(ld_estate *es, const char *name)
{
	for (uint32_t i = 0; i < es->n_d; i++)
		if (strcmp(es->d[i].name, name) == 0)
			return &es->d[i];
	return NULL;
}

/* --- benign chatter ----------------------------------------------------------------------- */

static void multicast_noise(ld_estate *es, const desk *d, int64_t from, int64_t to)
{
	ld_addr bcast = d->v4;
	bcast.b[15] = 255;
	ld_addr llmnr4 = v4(224, 0, 0, 252), mdns4 = v4(224, 0, 0, 251), ssdp = v4(239, 255, 255, 250),
		igmp = v4(224, 0, 0, 22), zero = v4(0, 0, 0, 0);
	ld_addr llmnr6, mdns6, dhcp6, mld6;
	ld_addr_parse(&llmnr6, "ff02::1:3", 9);
	ld_addr_parse(&mdns6, "ff02::fb", 8);
	ld_addr_parse(&dhcp6, "ff02::1:2", 9);
	ld_addr_parse(&mld6, "ff02::16", 8);
	for (int64_t t = from + rndt(es, 12 * MIN); t < to; t += 10 * MIN + rndt(es, 4 * MIN)) {
		emit(es, t, d, &d->v4, &bcast, 137, 137, 17, 0, K_PLAIN, 0);
		if (rndu(es, 2))
			emit(es, t + rndt(es, MIN), d, &d->v4, &bcast, 138, 138, 17, 0, K_PLAIN, 0);
	}
	for (int64_t t = from + rndt(es, 15 * MIN); t < to; t += 8 * MIN + rndt(es, 20 * MIN)) {
		switch (rndu(es, 7)) {
		case 0:
			emit(es, t, d, &d->v4, &llmnr4, eph(es), 5355, 17, 0, K_PLAIN, 0);
			break;
		case 1:
			emit(es, t, d, &d->ll, &llmnr6, eph(es), 5355, 17, 0, K_PLAIN, 0);
			break;
		case 2:
			emit(es, t, d, &d->v4, &mdns4, 5353, 5353, 17, 0, K_PLAIN, 0);
			emit(es, t + 3 * MS, d, &d->ll, &mdns6, 5353, 5353, 17, 0, K_PLAIN, 0);
			break;
		case 3:
			for (int k = 0; k < 3; k++)
				emit(es, t + k * 1000 * MS, d, &d->v4, &ssdp, eph(es), 1900, 17, 0,
				     K_PLAIN, 0);
			break;
		case 4:
			emit(es, t, d, &d->v4, &ssdp, eph(es), 3702, 17, 0, K_PLAIN, 0);
			break;
		case 5:
			emit(es, t, d, &zero, &igmp, 0, 0, 2, 0, K_PLAIN, 0);
			emit(es, t + 2 * MS, d, &d->ll, &mld6, 0, 0, 58, 0, K_PLAIN, 0);
			break;
		default:
			emit(es, t, d, &d->ll, &dhcp6, 546, 547, 17, 0, K_PLAIN, 0);
			break;
		}
	}
}

static const desk *random_peer(ld_estate *es, const desk *d, bool same_pool)
{
	for (int tries = 0; tries < 16; tries++) {
		const desk *p = &es->d[rndu(es, es->n_desktops)];
		if (p == d)
			continue;
		if (same_pool && strcmp(p->pool, d->pool) != 0 && tries < 12)
			continue;
		return p;
	}
	return &es->d[(d - es->d + 1) % es->n_desktops];
}

static void session_noise(ld_estate *es, desk *d, uint32_t idx, int64_t day)
{
	int64_t from = d->logon > d->on_from ? d->logon : d->on_from;
	int64_t to = d->logoff < d->on_to ? d->logoff : d->on_to;
	if (to <= from)
		return;
	/* Delivery Optimization: ~3 LAN peers an hour on TCP 7680 */
	for (int64_t t = from + rndt(es, 20 * MIN); t < to; t += 10 * MIN + rndt(es, 20 * MIN)) {
		const desk *p = random_peer(es, d, true);
		emit(es, t, d, &d->v4, &p->v4, eph(es), 7680, 6, LD_TCP_SYN, K_CONNECT, 0);
	}
	/* LLMNR/mDNS unicast answers to peers' multicast queries (from the well-known port) */
	for (int64_t t = from + rndt(es, HOUR); t < to; t += 40 * MIN + rndt(es, 60 * MIN)) {
		const desk *p = random_peer(es, d, true);
		emit(es, t, d, &d->v4, &p->v4, rndu(es, 2) ? 5355 : 5353, eph(es), 17, 0, K_PLAIN, 0);
	}
	/* Teams P2P media (unoptimised VDI): a few calls a day, 1-3 peers each */
	unsigned calls = 2 + rndu(es, 6);
	for (unsigned c = 0; c < calls; c++) {
		int64_t t = from + rndt(es, to - from);
		unsigned peers = 1 + rndu(es, 3);
		for (unsigned k = 0; k < peers; k++) {
			const desk *p = random_peer(es, d, false);
			uint16_t sp = (uint16_t)(50000 + rndu(es, 60));
			for (int q = 0; q < 3; q++)
				emit(es, t + q * 200 * MS + k * 50 * MS, d, &d->v4, &p->v4, sp,
				     (uint16_t)(50000 + rndu(es, 60)), 17, 0, K_PLAIN, 0);
		}
	}
	/* mid-session packets dropped after a rule change (ACK / FIN-ACK): not new connections */
	for (int64_t t = from + rndt(es, 2 * HOUR); t < to; t += 2 * HOUR + rndt(es, 3 * HOUR)) {
		const desk *p = random_peer(es, d, true);
		emit(es, t, d, &d->v4, &p->v4, eph(es), (uint16_t)(445 + rndu(es, 2) * 2944), 6,
		     rndu(es, 2) ? LD_TCP_ACK : LD_TCP_ACK | LD_TCP_FIN, K_PLAIN, 0);
	}
	/* DNS to a DC: allowed, logged as PASS */
	ld_addr dc = v4(10, 10, 0, 10);
	emit_ok(es, from + rndt(es, MIN), d, &dc, 53);
	/* fleet-wide: every desktop reconnects the old file server's recycled IP at logon */
	ld_addr old_fs = v4(10, 10, 0, 99);
	emit(es, from + 20 * SEC + rndt(es, 10 * SEC), d, &d->v4, &old_fs, eph(es), 445, 6,
	     LD_TCP_SYN, K_CONNECT, 0);
	/* stale mapped drives / printers: 5 % and 10 % of desktops, at logon and hourly */
	if (idx % 20 == 7) {
		unsigned n = 1 + idx % 3;
		for (int64_t t = from + 30 * SEC; t < to; t += HOUR + rndt(es, 10 * MIN))
			for (unsigned k = 0; k < n; k++) {
				ld_addr stale = d->v4;
				stale.b[15] = (uint8_t)(2 + k + idx % 5); /* dark addresses .2-.8 */
				emit(es, t + k * SEC, d, &d->v4, &stale, eph(es), k ? 139 : 445, 6,
				     LD_TCP_SYN, K_CONNECT, 0);
			}
	}
	if (idx % 10 == 3) {
		ld_addr prn = v4(10, 30, 0, 10 + idx % 20);
		emit(es, from + 40 * SEC, d, &d->v4, &prn, eph(es), 9100, 6, LD_TCP_SYN, K_CONNECT,
		     0);
		emit(es, from + 41 * SEC, d, &d->v4, &prn, eph(es), 161, 17, 0, K_PLAIN, 0);
		emit(es, from + 42 * SEC, d, &d->v4, &prn, eph(es), 631, 6, LD_TCP_SYN, K_CONNECT, 0);
	}
	/* a user opens \\colleague or RDPs to them, or pings them (1-2 % a day) */
	if (rndu(es, 100) < 2) {
		const desk *p = random_peer(es, d, false);
		int64_t t = from + rndt(es, to - from);
		emit(es, t, d, &d->v4, &p->v4, eph(es), 445, 6, LD_TCP_SYN, K_CONNECT, 0);
		emit(es, t + 5 * SEC, d, &d->v4, &p->v4, eph(es), 3389, 6, LD_TCP_SYN, K_CONNECT, 0);
	}
	if (rndu(es, 100) < 1) {
		int64_t t = from + rndt(es, to - from);
		for (int k = 0; k < 2; k++) {
			const desk *p = random_peer(es, d, true);
			emit(es, t + k * 30 * SEC, d, &d->v4, &p->v4, 0, 0, 1, 0, K_PLAIN, 0);
		}
	}
	/* Patch Tuesday style Delivery Optimization storm at 14:00: 5-10 peers in 10 min */
	int64_t storm = day + 14 * HOUR;
	if (storm >= from && storm < to) {
		unsigned n = 5 + rndu(es, 6);
		for (unsigned k = 0; k < n; k++) {
			const desk *p = random_peer(es, d, false);
			emit(es, storm + rndt(es, 10 * MIN), d, &d->v4, &p->v4, eph(es), 7680, 6,
			     LD_TCP_SYN, K_CONNECT, 0);
		}
	}
}

/* --- attacks ------------------------------------------------------------------------------ */

static uint16_t add_truth(ld_estate *es, const desk *d, unsigned sc, bool infected, bool expect,
			  bool floor, int64_t start, int64_t end)
{
	if (es->n_truth >= 64)
		return 0;
	ld_truth *t = &es->truth[es->n_truth];
	memset(t, 0, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", d->name);
	t->scenario = sc;
	t->infected = infected;
	t->expect_alert = expect;
	t->floor = floor;
	t->start_ns = start;
	t->end_ns = end;
	return (uint16_t)(++es->n_truth);
}

static int64_t at(const ld_estate *es, double hours)
{
	/* scenario clock: hours into a day, compressed into shorter windows */
	double f = hours / 24.0;
	return es->o.start_ns + (int64_t)(f * (double)es->o.duration_ns);
}

static desk *pick(ld_estate *es, uint32_t slot)
{
	/* attackers are spread over the estate, away from each other */
	uint32_t n = es->n_desktops;
	return &es->d[(slot * 97 + 13) % n];
}

static bool protected_addr(const ld_estate *es, const desk *s, const ld_addr *a)
{
	for (unsigned k = 0; k < es->n_protect; k++)
		if (es->protect[k] != s && (ld_addr_eq(&es->protect[k]->v4, a) ||
					    ld_addr_eq(&es->protect[k]->v6, a)))
			return true;
	return false;
}

static void sweep_list(ld_estate *es, const desk *s, const ld_addr *targets, uint32_t nt,
		       int64_t t0, int64_t gap, int64_t jitter, const uint16_t *ports, unsigned np,
		       int kind, uint16_t mal)
{
	bool chain = mal && es->truth[mal - 1].scenario == LD_SC_CHAIN;
	for (uint32_t i = 0; i < nt; i++) {
		if (!chain && protected_addr(es, s, &targets[i]))
			continue;
		int64_t t = t0 + (int64_t)i * gap + rndt(es, jitter);
		for (unsigned k = 0; k < np; k++) {
			uint8_t proto = ports[k] == 0 ? 1 : ports[k] == 137 ? 17 : 6;
			const ld_addr *src = ld_addr_is_v4(&targets[i]) ? &s->v4 : &s->v6;
			emit(es, t + k * 15 * MS, s, src, &targets[i], proto == 17 ? 137 : eph(es),
			     ports[k], proto, proto == 6 ? LD_TCP_SYN : 0, kind, mal);
		}
	}
}

static void shuffle(ld_estate *es, ld_addr *v, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = rndu(es, i);
		ld_addr t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

static uint32_t desk_targets(ld_estate *es, const desk *s, ld_addr *out, uint32_t max,
			     const desk *const *exclude, unsigned n_ex)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < es->n_desktops && n < max; i++) {
		const desk *p = &es->d[i];
		bool skip = p == s;
		for (unsigned k = 0; k < n_ex; k++)
			if (p == exclude[k])
				skip = true;
		if (!skip)
			out[n++] = p->v4;
	}
	shuffle(es, out, n);
	return n;
}

static void attacks(ld_estate *es)
{
	uint32_t sc = es->o.scenarios;
	ld_addr *tg = malloc(4096 * sizeof *tg);
	if (!tg) {
		es->oom = true;
		return;
	}
	if (sc & (1u << LD_SC_CHAIN)) {
		for (uint32_t k = 0; k < 4; k++)
			es->protect[k] = pick(es, 11 + k);
		es->n_protect = 4;
	}
	static const uint16_t p445[] = {445};
	if (sc & (1u << LD_SC_WANNACRY)) {
		desk *s = pick(es, 0);
		int64_t t0 = at(es, 9.0);
		uint16_t m = add_truth(es, s, LD_SC_WANNACRY, true, true, false, t0, t0 + 30 * SEC);
		uint32_t n = 0;
		for (uint32_t h = 1; h < 255; h++) {
			ld_addr a = s->v4;
			a.b[15] = (uint8_t)h;
			if (!ld_addr_eq(&a, &s->v4))
				tg[n++] = a;
			if (h % 10 == 0) /* random RFC 1918 hits interleaved */
				tg[n++] = v4(10, rndu(es, 256), rndu(es, 256), 1 + rndu(es, 254));
		}
		sweep_list(es, s, tg, n, t0, 20 * MS, 5 * MS, p445, 1, K_CONNECT, m);
	}
	if (sc & (1u << LD_SC_NOTPETYA)) {
		desk *s = pick(es, 1);
		int64_t t0 = at(es, 10.5);
		uint16_t m = add_truth(es, s, LD_SC_NOTPETYA, true, true, false, t0, t0 + 5 * MIN);
		uint32_t n = desk_targets(es, s, tg, 120, NULL, 0);
		static const uint16_t p1[] = {139, 445}, p2[] = {135, 445};
		sweep_list(es, s, tg, n, t0, 200 * MS, 100 * MS, p1, 2, K_CONNECT, m);
		sweep_list(es, s, tg, n / 2, t0 + 60 * SEC, 300 * MS, 100 * MS, p2, 2, K_CONNECT, m);
	}
	if (sc & (1u << LD_SC_CONFICKER)) {
		desk *s = pick(es, 2);
		int64_t t0 = at(es, 11.0);
		uint16_t m = add_truth(es, s, LD_SC_CONFICKER, true, true, false, t0, t0 + 90 * MIN);
		for (int wave = 0; wave < 3; wave++) {
			int64_t tw = t0 + wave * 41 * MIN;
			for (int i = 0; i < 40; i++) {
				ld_addr a = v4(10, 20, 1 + rndu(es, 12), 2 + rndu(es, 250));
				int64_t t = tw + i * 1500 * MS + rndt(es, 500 * MS);
				/* ADMIN$ guessing: repeated connects to the same peer */
				for (int k = 0; k < 3; k++)
					emit(es, t + k * 8 * SEC, s, &s->v4, &a, eph(es), 445, 6,
					     LD_TCP_SYN, K_CONNECT, m);
			}
		}
	}
	if (sc & (1u << LD_SC_IPSCANNER)) {
		desk *s = pick(es, 3);
		int64_t t0 = at(es, 13.0);
		uint16_t m = add_truth(es, s, LD_SC_IPSCANNER, true, true, false, t0, t0 + 90 * SEC);
		uint32_t n = 0;
		for (uint32_t h = 1; h < 255; h++) {
			ld_addr a = s->v4;
			a.b[15] = (uint8_t)h;
			if (!ld_addr_eq(&a, &s->v4))
				tg[n++] = a;
		}
		static const uint16_t ps[] = {0, 137, 80, 443, 445, 3389, 4899};
		sweep_list(es, s, tg, n, t0, 350 * MS, 50 * MS, ps, 7, K_PLAIN, m);
	}
	if (sc & (1u << LD_SC_NMAP_T4)) {
		desk *s = pick(es, 4);
		int64_t t0 = at(es, 14.2);
		uint16_t m = add_truth(es, s, LD_SC_NMAP_T4, true, true, false, t0, t0 + 30 * SEC);
		uint32_t n = desk_targets(es, s, tg, 5, NULL, 0);
		int64_t t = t0;
		for (uint32_t i = 0; i < n; i++)
			for (uint16_t p = 1; p <= 1000; p++) {
				/* top-1000 stand-in: low ports plus the usual suspects */
				uint16_t port = p <= 980 ? p : (uint16_t)(3389 + p - 980);
				emit(es, t, s, &s->v4, &tg[i], eph(es), port, 6, LD_TCP_SYN, K_PLAIN, m);
				t += 3 * MS;
			}
	}
	if (sc & (1u << LD_SC_NMAP_T1)) {
		desk *s = pick(es, 5);
		int64_t t0 = at(es, 15.0);
		uint16_t m = add_truth(es, s, LD_SC_NMAP_T1, true, true, false, t0, t0 + 30 * MIN);
		uint32_t n = desk_targets(es, s, tg, 60, NULL, 0);
		for (uint32_t i = 0; i < n; i++)
			emit(es, t0 + i * 15 * SEC, s, &s->v4, &tg[i], eph(es), i % 2 ? 3389 : 445, 6,
			     LD_TCP_SYN, K_PLAIN, m);
	}
	if (sc & (1u << LD_SC_STEALTH)) {
		static const uint16_t lp[] = {445, 3389, 5985, 135, 22};
		desk *s = pick(es, 6);
		int64_t t0 = at(es, 8.5);
		uint16_t m = add_truth(es, s, LD_SC_STEALTH, true, true, false, t0, t0 + 6 * HOUR);
		uint32_t n = desk_targets(es, s, tg, 360, NULL, 0);
		for (uint32_t i = 0; i < n; i++)
			emit(es, t0 + i * MIN + rndt(es, 2 * SEC), s, &s->v4, &tg[i], eph(es),
			     lp[i % 5], 6, LD_TCP_SYN, K_CONNECT, m);
		desk *s0 = pick(es, 7);
		int64_t t1 = at(es, 3.0);
		uint16_t m0 = add_truth(es, s0, LD_SC_STEALTH, true, true, false, t1, t1 + 6 * HOUR);
		n = desk_targets(es, s0, tg, 72, NULL, 0);
		for (uint32_t i = 0; i < n; i++)
			emit(es, t1 + i * 5 * MIN, s0, &s0->v4, &tg[i], eph(es), 445, 6, LD_TCP_SYN,
			     K_PLAIN, m0);
	}
	if (sc & (1u << LD_SC_MANUAL)) {
		desk *s = pick(es, 8);
		int64_t t0 = at(es, 16.0);
		uint16_t m = add_truth(es, s, LD_SC_MANUAL, true, false, true, t0, t0 + 10 * MIN);
		uint32_t n = desk_targets(es, s, tg, 3, NULL, 0);
		static const uint16_t mp[] = {3389, 5985, 445};
		for (uint32_t i = 0; i < n; i++)
			emit(es, t0 + i * 4 * MIN, s, &s->v4, &tg[i], eph(es), mp[i], 6, LD_TCP_SYN,
			     K_CONNECT, m);
	}
	if (sc & (1u << LD_SC_EMOTET)) {
		desk *s = pick(es, 9);
		int64_t t0 = at(es, 17.0);
		uint16_t m = add_truth(es, s, LD_SC_EMOTET, true, true, false, t0, t0 + 10 * MIN);
		uint32_t n = desk_targets(es, s, tg, 150, NULL, 0);
		for (uint32_t i = 0; i < n; i++)
			for (int k = 0; k < 5; k++) /* brute force: several logons per target */
				emit(es, t0 + i * 3 * SEC + k * 6 * SEC, s, &s->v4, &tg[i], eph(es), 445,
				     6, LD_TCP_SYN, K_CONNECT, m);
	}
	if (sc & (1u << LD_SC_SCANNERS)) {
		desk *nessus = find_desk(es, "NESSUS-01"), *rogue = find_desk(es, "10.9.0.99");
		if (nessus) {
			int64_t t0 = at(es, 1.0);
			add_truth(es, nessus, LD_SC_SCANNERS, false, false, false, t0, t0 + HOUR);
			static const uint16_t np[] = {21, 22, 23, 80, 135, 139, 443, 445, 1433, 3389,
						      5900, 5985, 8080, 0};
			uint32_t n = desk_targets(es, nessus, tg, 4096, NULL, 0);
			sweep_list(es, nessus, tg, n, t0, 150 * MS, 50 * MS, np, 14, K_PLAIN, 0);
		}
		if (rogue) {
			int64_t t0 = at(es, 2.0);
			uint16_t m = add_truth(es, rogue, LD_SC_SCANNERS, true, true, false, t0,
					       t0 + 10 * MIN);
			static const uint16_t rp[] = {22, 80, 135, 139, 443, 445, 3389, 5985, 8080, 0};
			uint32_t n = desk_targets(es, rogue, tg, 200, NULL, 0);
			sweep_list(es, rogue, tg, n, t0, 500 * MS, 100 * MS, rp, 10, K_PLAIN, m);
		}
	}
	if (sc & (1u << LD_SC_JUMPHOST)) {
		desk *jump = find_desk(es, "JUMP-01"), *sccm = find_desk(es, "SCCM-01");
		if (jump) {
			add_truth(es, jump, LD_SC_JUMPHOST, false, false, false, at(es, 8), at(es, 18));
			uint32_t n = desk_targets(es, jump, tg, 150, NULL, 0);
			static const uint16_t jp[] = {3389, 5985, 445};
			for (uint32_t i = 0; i < n; i++)
				emit(es, at(es, 8) + rndt(es, at(es, 18) - at(es, 8)), jump, &jump->v4,
				     &tg[i], eph(es), jp[i % 3], 6, LD_TCP_SYN, K_CONNECT, 0);
		}
		if (sccm) {
			add_truth(es, sccm, LD_SC_JUMPHOST, false, false, false, at(es, 10),
				  at(es, 11));
			uint32_t n = desk_targets(es, sccm, tg, 4096, NULL, 0);
			static const uint16_t sp[] = {445, 135};
			sweep_list(es, sccm, tg, n, at(es, 10), 50 * MS, 20 * MS, sp, 2, K_CONNECT, 0);
		}
	}
	if (sc & (1u << LD_SC_DHCP)) {
		desk *a = find_desk(es, "VDI-REUSE-A"), *b = find_desk(es, "VDI-REUSE-B");
		if (a && b) {
			int64_t t0 = a->on_to - 20 * MIN;
			uint16_t m = add_truth(es, a, LD_SC_DHCP, true, true, false, t0, a->on_to);
			add_truth(es, b, LD_SC_DHCP, false, false, false, b->on_from, b->on_to);
			uint32_t n = desk_targets(es, a, tg, 200, NULL, 0);
			sweep_list(es, a, tg, n, t0, 5 * SEC, SEC, p445, 1, K_CONNECT, m);
			/* B inherits the address and behaves: a stale drive and DO peers */
			uint32_t nb = desk_targets(es, b, tg, 3, NULL, 0);
			for (uint32_t i = 0; i < nb; i++)
				emit(es, b->on_from + 2 * MIN + i * SEC, b, &b->v4, &tg[i], eph(es),
				     445, 6, LD_TCP_SYN, K_CONNECT, 0);
		}
	}
	if (sc & (1u << LD_SC_IPV6)) {
		desk *s = pick(es, 10);
		int64_t t0 = at(es, 12.0);
		uint16_t m = add_truth(es, s, LD_SC_IPV6, true, true, false, t0, t0 + MIN);
		/* three IPv4 peers and three IPv6 neighbours: only the merged identity crosses */
		uint32_t n = desk_targets(es, s, tg, 6, NULL, 0);
		for (uint32_t i = 0; i < n; i++) {
			ld_addr a = tg[i];
			if (i >= 3) {
				const desk *p = NULL;
				for (uint32_t q = 0; q < es->n_desktops; q++)
					if (ld_addr_eq(&es->d[q].v4, &tg[i]))
						p = &es->d[q];
				if (p)
					a = p->v6;
			}
			emit(es, t0 + i * 2 * SEC, s, ld_addr_is_v4(&a) ? &s->v4 : &s->v6, &a, eph(es),
			     445, 6, LD_TCP_SYN, K_CONNECT, m);
		}
	}
	if (sc & (1u << LD_SC_CHAIN)) {
		desk *A = pick(es, 11), *B = pick(es, 12), *C = pick(es, 13), *D = pick(es, 14);
		int64_t t0 = at(es, 18.0);
		const desk *exA[] = {B, C, D}, *exB[] = {A, C, D}, *exD[] = {A, B, C};
		uint32_t n = desk_targets(es, A, tg, 40, exA, 3);
		tg[9] = B->v4; /* A probes B as its 10th target */
		uint16_t ma = add_truth(es, A, LD_SC_CHAIN, true, true, false, t0, t0 + 2 * MIN);
		if (ma)
			es->truth[ma - 1].patient_zero = true;
		sweep_list(es, A, tg, n, t0, SEC, 100 * MS, p445, 1, K_CONNECT, ma);
		int64_t tb = t0 + 9 * SEC + 4 * MIN;
		uint16_t mb = add_truth(es, B, LD_SC_CHAIN, true, true, false, tb, tb + 2 * MIN);
		if (mb)
			snprintf(es->truth[mb - 1].parent, 32, "%s", A->name);
		n = desk_targets(es, B, tg, 40, exB, 3);
		tg[9] = C->v4;
		sweep_list(es, B, tg, n, tb, SEC, 100 * MS, p445, 1, K_CONNECT, mb);
		int64_t tc = tb + 9 * SEC + 9 * MIN;
		uint16_t mc = add_truth(es, C, LD_SC_CHAIN, true, true, false, tc, tc + 2 * MIN);
		if (mc)
			snprintf(es->truth[mc - 1].parent, 32, "%s", B->name);
		n = desk_targets(es, C, tg, 40, exD, 3);
		sweep_list(es, C, tg, n, tc, SEC, 100 * MS, p445, 1, K_CONNECT, mc);
		int64_t td = t0 + 6 * MIN;
		uint16_t md = add_truth(es, D, LD_SC_CHAIN, true, true, false, td, td + 2 * MIN);
		if (md)
			es->truth[md - 1].patient_zero = true;
		n = desk_targets(es, D, tg, 40, exD, 3);
		sweep_list(es, D, tg, n, td, SEC, 100 * MS, p445, 1, K_CONNECT, md);
	}
	if (sc & (1u << LD_SC_ARTEFACTS)) {
		desk *s = pick(es, 15);
		int64_t t0 = at(es, 20.0);
		uint16_t m = add_truth(es, s, LD_SC_ARTEFACTS, true, true, false, t0, t0 + 10 * SEC);
		uint32_t n = desk_targets(es, s, tg, 200, NULL, 0);
		sweep_list(es, s, tg, n, t0, 20 * MS, 5 * MS, p445, 1, K_CONNECT, m);
		desk *s2 = pick(es, 16);
		int64_t t1 = at(es, 21.0);
		uint16_t m2 = add_truth(es, s2, LD_SC_ARTEFACTS, true, true, false, t1,
					t1 + 20 * MIN);
		n = desk_targets(es, s2, tg, 60, NULL, 0);
		for (uint32_t i = 0; i < n; i++)
			emit(es, t1 + i * 15 * SEC, s2, &s2->v4, &tg[i], eph(es), 445, 6, LD_TCP_SYN,
			     K_CONNECT, m2);
	}
	free(tg);
}

/* --- assembly ----------------------------------------------------------------------------- */

static int rec_cmp(const void *a, const void *b)
{
	const gen_rec *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	int c = ld_addr_cmp(&x->src, &y->src);
	if (c)
		return c;
	c = ld_addr_cmp(&x->dst, &y->dst);
	if (c)
		return c;
	if (x->dport != y->dport)
		return x->dport < y->dport ? -1 : 1;
	return (int)x->dir - (int)y->dir;
}

static uint32_t key_hash(const gen_rec *g)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ g->dst.b[i]) * 16777619u;
	h = (h ^ g->dport) * 16777619u;
	h = (h ^ g->proto) * 16777619u;
	return h | 1;
}

static void first_contacts(ld_estate *es)
{
	for (size_t t = 0; t < es->n_truth; t++) {
		uint32_t cap = 1024, n = 0;
		uint32_t *seen = calloc(cap * 4, sizeof *seen);
		int64_t *times = malloc(cap * sizeof *times);
		if (!seen || !times) {
			free(seen);
			free(times);
			es->oom = true;
			return;
		}
		for (uint64_t i = 0; i < es->n; i++) {
			const gen_rec *g = &es->r[i];
			if (g->mal != t + 1 || g->dir != LD_DIR_OUT)
				continue;
			uint32_t k = key_hash(g), j = k & (cap * 4 - 1);
			bool dup = false;
			while (seen[j]) {
				if (seen[j] == k) {
					dup = true;
					break;
				}
				j = (j + 1) & (cap * 4 - 1);
			}
			if (dup)
				continue;
			if (n == cap)
				break; /* more than enough for attempts-to-detect */
			seen[j] = k;
			times[n++] = g->ts;
		}
		free(seen);
		es->fc[t] = times;
		es->n_fc[t] = n;
		es->truth[t].attempts = n;
	}
}

static bool add_inventory(ld_estate *es)
{
	for (uint32_t i = 0; i < es->n_d; i++) {
		desk *d = &es->d[i];
		if (strchr(d->name, '.'))
			continue; /* the unlisted scanner is not in the inventory */
		int64_t from = d->on_from == es->o.start_ns ? INT64_MIN : d->on_from;
		int64_t to = d->on_to == es->o.start_ns + es->o.duration_ns ? INT64_MAX : d->on_to;
		if (!ld_inventory_add(es->inv, &d->v4, d->name, d->user, d->pool, d->role, from, to))
			return false;
		if (d->role == LD_ROLE_DESKTOP &&
		    !ld_inventory_add(es->inv, &d->v6, d->name, d->user, d->pool, d->role, from, to))
			return false;
	}
	ld_inventory_finish(es->inv);
	return true;
}

ld_estate *ld_estate_generate(const ld_estate_opts *o, ld_err *err)
{
	if (o->desktops < 20 || o->desktops > 60000) {
		ld_err_set(err, "desktops must be between 20 and 60000");
		return NULL;
	}
	if (o->duration_ns < 10 * MIN || o->duration_ns > 7 * 24 * HOUR) {
		ld_err_set(err, "duration must be between 10 minutes and 7 days");
		return NULL;
	}
	ld_estate *es = calloc(1, sizeof *es);
	if (!es) {
		ld_err_set(err, "out of memory");
		return NULL;
	}
	es->o = *o;
	es->rng = o->seed * 0xD1B54A32D192ED03ull + 1;
	es->n_desktops = o->desktops;
	uint32_t extra = 8;
	es->d = calloc(o->desktops + extra, sizeof *es->d);
	es->inv = ld_inventory_new();
	if (!es->d || !es->inv) {
		ld_err_set(err, "out of memory");
		ld_estate_free(es);
		return NULL;
	}
	for (uint32_t i = 0; i < o->desktops; i++) {
		char name[32];
		snprintf(name, sizeof name, "VDI-%04u", i + 1);
		uint32_t pool = i / POOL_SIZE;
		make_desk(es, &es->d[i], i, name, pool_addr(pool, 10 + i % POOL_SIZE), pool,
			  LD_ROLE_DESKTOP);
	}
	es->n_d = o->desktops;
	/* infrastructure: scanners and jump hosts (allow-listed by role), the unlisted scanner,
	 * and the DHCP-reuse pair sharing one address */
	make_desk(es, &es->d[es->n_d++], 9000, "NESSUS-01", v4(10, 9, 0, 5), 0, LD_ROLE_SCANNER);
	make_desk(es, &es->d[es->n_d++], 9001, "JUMP-01", v4(10, 9, 0, 10), 0, LD_ROLE_SCANNER);
	make_desk(es, &es->d[es->n_d++], 9002, "SCCM-01", v4(10, 9, 0, 20), 0, LD_ROLE_SCANNER);
	make_desk(es, &es->d[es->n_d++], 9003, "10.9.0.99", v4(10, 9, 0, 99), 0, LD_ROLE_SERVER);
	make_desk(es, &es->d[es->n_d++], 9004, "DC-01", v4(10, 10, 0, 10), 0, LD_ROLE_SERVER);
	uint32_t last_pool = (o->desktops - 1) / POOL_SIZE;
	ld_addr reuse = pool_addr(last_pool, 252);
	desk *ra = &es->d[es->n_d++];
	make_desk(es, ra, 9005, "VDI-REUSE-A", reuse, last_pool, LD_ROLE_DESKTOP);
	ra->on_to = at(es, 10.0);
	desk *rb = &es->d[es->n_d++];
	make_desk(es, rb, 9006, "VDI-REUSE-B", reuse, last_pool, LD_ROLE_DESKTOP);
	rb->on_from = at(es, 10.0) + 5 * MIN;
	for (uint32_t i = 0; i < es->n_d; i++)
		if (es->d[i].esx >= es->n_esx)
			es->n_esx = es->d[i].esx + 1u;
	if (es->n_esx > 256)
		es->n_esx = 256;
	for (uint32_t i = 0; i < es->n_esx; i++)
		snprintf(es->esx_names[i], sizeof es->esx_names[i], "esx%02u.vdi.local", i + 1);
	for (uint32_t i = 0; i < es->n_d; i++)
		if (es->d[i].esx >= 256)
			es->d[i].esx = (uint16_t)(es->d[i].esx % 256);
	if (o->noise)
		for (uint32_t i = 0; i < es->n_d; i++) {
			if (es->d[i].role != LD_ROLE_DESKTOP)
				continue;
			multicast_noise(es, &es->d[i], es->d[i].on_from, es->d[i].on_to);
			if (o->duration_ns < 12 * HOUR) {
				session_noise(es, &es->d[i], i, o->start_ns);
				continue;
			}
			/* one working session per day (several days: host baselines get to learn) */
			for (int64_t day = o->start_ns; day < o->start_ns + o->duration_ns;
			     day += 24 * HOUR) {
				es->d[i].logon = day + 7 * HOUR + rndt(es, 2 * HOUR);
				es->d[i].logoff = day + 16 * HOUR + rndt(es, 3 * HOUR);
				session_noise(es, &es->d[i], i, day);
			}
		}
	attacks(es);
	if (!es->oom && !add_inventory(es))
		es->oom = true;
	if (es->oom) {
		ld_err_set(err, "out of memory generating the estate");
		ld_estate_free(es);
		return NULL;
	}
	qsort(es->r, es->n, sizeof *es->r, rec_cmp);
	first_contacts(es);
	if (es->oom) {
		ld_err_set(err, "out of memory generating the estate");
		ld_estate_free(es);
		return NULL;
	}
	return es;
}

void ld_estate_free(ld_estate *es)
{
	if (!es)
		return;
	for (size_t t = 0; t < 64; t++)
		free(es->fc[t]);
	free(es->d);
	free(es->r);
	ld_inventory_free(es->inv);
	free(es);
}

uint64_t ld_estate_count(const ld_estate *es)
{
	return es->n;
}

uint32_t ld_estate_desktops(const ld_estate *es)
{
	return es->n_desktops;
}

const ld_inventory *ld_estate_inventory(const ld_estate *es)
{
	return es->inv;
}

const ld_truth *ld_estate_truth(const ld_estate *es, size_t *n)
{
	*n = es->n_truth;
	return es->truth;
}

int64_t ld_estate_attack_time(const ld_estate *es, size_t t, uint32_t k)
{
	if (t >= es->n_truth || k == 0 || k > es->n_fc[t])
		return INT64_MAX;
	return es->fc[t][k - 1];
}

uint32_t ld_estate_attempts_until(const ld_estate *es, size_t t, int64_t ts)
{
	if (t >= es->n_truth)
		return 0;
	uint32_t n = 0;
	while (n < es->n_fc[t] && es->fc[t][n] <= ts)
		n++;
	return n;
}

static char vif_text[9];

void ld_estate_record(const ld_estate *es, uint64_t i, ld_record *out)
{
	const gen_rec *g = &es->r[i];
	memset(out, 0, sizeof *out);
	out->ts_ns = g->ts;
	out->src = g->src;
	out->dst = g->dst;
	out->sport = g->sport;
	out->dport = g->dport;
	out->proto = g->proto;
	out->action = g->action;
	out->dir = g->dir;
	out->tcp_flags = g->flags;
	out->len = g->len;
	out->format = LD_FMT_NSX;
	out->present = LD_RF_LEN;
	if (g->proto == 6 || g->proto == 17)
		out->present |= LD_RF_PORTS;
	if (g->proto == 6)
		out->present |= LD_RF_TCPFLAGS;
	out->rule = ld_str_c("1027");
	out->reporter = ld_str_c(es->esx_names[g->esx % 256]);
	if (g->vif) {
		snprintf(vif_text, sizeof vif_text, "%08x", g->vif);
		out->vif = ld_str_c(vif_text);
	}
}

/* NSX prints IPv6 uncompressed but unpadded (fe80:0:0:0:68c2:8472:2364:9be). */
static size_t nsx_addr(const ld_addr *a, char *buf)
{
	if (ld_addr_is_v4(a))
		return ld_addr_format(a, buf);
	size_t n = 0;
	for (int i = 0; i < 8; i++)
		n += (size_t)sprintf(buf + n, "%s%x", i ? ":" : "", a->b[2 * i] << 8 | a->b[2 * i + 1]);
	return n;
}

size_t ld_estate_format_nsx(const ld_estate *es, uint64_t i, char *buf, size_t cap)
{
	const gen_rec *g = &es->r[i];
	char ts[LD_TIME_STRLEN], s[LD_ADDR_STRLEN], d[LD_ADDR_STRLEN], proto[16], flags[12] = "";
	ld_time_format_ms(g->ts, ts);
	nsx_addr(&g->src, s);
	nsx_addr(&g->dst, d);
	if (g->proto == 6)
		strcpy(proto, "TCP");
	else if (g->proto == 17)
		strcpy(proto, "UDP");
	else if (g->proto == 1)
		strcpy(proto, "ICMP");
	else
		snprintf(proto, sizeof proto, "PROTO %u", g->proto);
	if (g->proto == 6) {
		flags[0] = ' ';
		ld_tcp_flags_format(g->flags, flags + 1);
	}
	char ends[2 * LD_ADDR_STRLEN + 16];
	if (g->proto == 6 || g->proto == 17)
		snprintf(ends, sizeof ends, "%s/%u->%s/%u", s, g->sport, d, g->dport);
	else
		snprintf(ends, sizeof ends, "%s->%s", s, d);
	int n = snprintf(buf, cap, "<182>%s %s FIREWALL-PKTLOG: %08x %s match %s 1027 %s %u %s %s%s",
			 ts, es->esx_names[g->esx % 256], g->vif ? g->vif : 0x0badf00du,
			 ld_addr_is_v4(&g->src) ? "INET" : "INET6",
			 g->action == LD_ACTION_ALLOW ? "PASS" : "DROP",
			 g->dir == LD_DIR_IN ? "IN" : "OUT", g->len, proto, ends, flags);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

int ld_estate_write_nsx(const ld_estate *es, FILE *out)
{
	char line[512];
	if (!es->o.reorder) {
		for (uint64_t i = 0; i < es->n; i++) {
			size_t n = ld_estate_format_nsx(es, i, line, sizeof line);
			line[n] = '\n';
			if (fwrite(line, 1, n + 1, out) != n + 1)
				return -1;
		}
		return 0;
	}
	/* interleave like several relays: emit in order of (ts + per-host delay up to 60 s) */
	uint64_t *idx = malloc(es->n * sizeof *idx);
	int64_t *key = malloc(es->n * sizeof *key);
	if (!idx || !key) {
		free(idx);
		free(key);
		return -1;
	}
	for (uint64_t i = 0; i < es->n; i++) {
		idx[i] = i;
		key[i] = es->r[i].ts + (int64_t)((es->r[i].esx * 7919u) % 60) * SEC;
	}
	/* insertion-ish merge is too slow for millions: sort indexes by key */
	for (uint64_t gap = es->n / 2; gap > 0; gap /= 2) /* shell sort, deterministic */
		for (uint64_t i = gap; i < es->n; i++) {
			uint64_t v = idx[i];
			uint64_t j = i;
			while (j >= gap && key[idx[j - gap]] > key[v]) {
				idx[j] = idx[j - gap];
				j -= gap;
			}
			idx[j] = v;
		}
	int rc = 0;
	for (uint64_t i = 0; i < es->n && rc == 0; i++) {
		size_t n = ld_estate_format_nsx(es, idx[i], line, sizeof line);
		line[n] = '\n';
		if (fwrite(line, 1, n + 1, out) != n + 1)
			rc = -1;
	}
	free(idx);
	free(key);
	return rc;
}

int ld_estate_write_inventory(const ld_estate *es, FILE *out)
{
	fprintf(out, "ip,name,user,pool,role,valid_from,valid_to\n");
	for (uint32_t i = 0; i < es->inv->n_rows; i++) {
		const ld_inv_row *r = &es->inv->rows[i];
		const ld_inv_desktop *d = &es->inv->desktops[r->desktop];
		char ip[LD_ADDR_STRLEN], f[LD_TIME_STRLEN] = "", t[LD_TIME_STRLEN] = "";
		ld_addr_format(&r->ip, ip);
		if (r->from != INT64_MIN)
			ld_time_format_ms(r->from, f);
		if (r->to != INT64_MAX)
			ld_time_format_ms(r->to, t);
		fprintf(out, "%s,%s,%s,%s,%s,%s,%s\n", ip, d->name, d->user, d->pool,
			ld_role_name(d->role), f, t);
	}
	return ferror(out) ? -1 : 0;
}

int ld_estate_write_truth(const ld_estate *es, FILE *out)
{
	fprintf(out, "name,scenario,infected,expect_alert,floor,start,end,parent,patient_zero,"
		     "attempts\n");
	for (size_t i = 0; i < es->n_truth; i++) {
		const ld_truth *t = &es->truth[i];
		char a[LD_TIME_STRLEN], b[LD_TIME_STRLEN];
		ld_time_format_ms(t->start_ns, a);
		ld_time_format_ms(t->end_ns, b);
		fprintf(out, "%s,S%02u,%d,%d,%d,%s,%s,%s,%d,%u\n", t->name, t->scenario, t->infected,
			t->expect_alert, t->floor, a, b, t->parent, t->patient_zero, t->attempts);
	}
	return ferror(out) ? -1 : 0;
}
