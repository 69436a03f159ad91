/* test_engine.c — one test per scoring mechanism, on hand-built records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ld_analyze.h"
#include "ld_report.h"
#include "ld_time.h"

#define S LD_NS_PER_SEC
#define T0 (INT64_C(1793606400) * S) /* 2026-11-02T00:00:00Z */

typedef struct fixture {
	ld_analyze_config cfg;
	ld_inventory *inv;
	ld_engine *e;
	ld_alert alerts[64];
	int n_alerts;
} fixture;

static void on_alert(void *ctx, const ld_alert *a)
{
	fixture *f = ctx;
	if (f->n_alerts < 64)
		f->alerts[f->n_alerts++] = *a;
}

static fixture *fx_new(ld_inventory *inv)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	ld_analyze_config_default(&f->cfg);
	f->inv = inv;
	ld_err err;
	f->e = ld_engine_new(&f->cfg, inv, &err);
	assert_non_null(f->e);
	ld_engine_set_alert_fn(f->e, on_alert, f);
	return f;
}

static void fx_free(fixture *f)
{
	ld_engine_free(f->e);
	ld_inventory_free(f->inv);
	free(f);
}

static ld_addr A(const char *s)
{
	ld_addr a;
	assert_true(ld_addr_parse(&a, s, strlen(s)));
	return a;
}

static void syn(fixture *f, int64_t ts, const char *src, const char *dst, uint16_t dport,
		uint8_t dir, uint32_t vif)
{
	ld_event ev = {0};
	ev.ts_ns = ts;
	ev.src = A(src);
	ev.dst = A(dst);
	ev.sport = 50000;
	ev.dport = dport;
	ev.proto = 6;
	ev.action = LD_ACTION_DROP;
	ev.dir = dir;
	ev.tcp_flags = LD_TCP_SYN;
	ev.present = LD_RF_PORTS | LD_RF_TCPFLAGS;
	ev.vif = vif;
	ld_engine_feed_event(f->e, &ev);
}

static void peer(char *buf, int i)
{
	snprintf(buf, 32, "10.20.%d.%d", 2 + i / 200, 10 + i % 200);
}

static ld_host_summary host_of(fixture *f, const char *name)
{
	ld_host_summary h;
	for (uint32_t i = 0; i < ld_engine_host_count(f->e); i++) {
		ld_engine_host(f->e, i, &h);
		if (strcmp(h.name, name) == 0)
			return h;
	}
	fail_msg("no host %s", name);
	return h;
}

/* Five new lateral peers in quick succession alert at the fifth (fast tier). */
static void test_fast_tier_worm(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 4; i++) {
		peer(p, i);
		syn(f, T0 + i * S / 10, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 0);
	peer(p, 4);
	syn(f, T0 + 4 * S / 10, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
	assert_int_equal(f->n_alerts, 1);
	assert_int_equal(f->alerts[0].tier, LD_TIER_FAST);
	assert_true(f->alerts[0].ts_ns == T0 + 4 * S / 10);
	assert_true(f->alerts[0].onset_ns == T0);
	ld_host_summary h = host_of(f, "10.20.1.5");
	assert_int_equal(h.level, LD_LEVEL_ALERT);
	assert_int_equal(h.attempts_at_alert, 5);
	fx_free(f);
}

/* SYN retransmits and the OUT+IN double log of one attempt are one attempt. */
static void test_dedupe(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 4; i++) {
		peer(p, i);
		int64_t t = T0 + i * 10 * S;
		syn(f, t, "10.20.1.5", p, 445, LD_DIR_OUT, 0x11111111);
		syn(f, t + 2 * S / 1000, "10.20.1.5", p, 445, LD_DIR_IN, 0x22222222);
		syn(f, t + 1 * S, "10.20.1.5", p, 445, LD_DIR_OUT, 0x11111111);
		syn(f, t + 3 * S, "10.20.1.5", p, 445, LD_DIR_OUT, 0x11111111);
	}
	ld_host_summary h = host_of(f, "10.20.1.5");
	assert_int_equal(h.records, 16);
	assert_int_equal(h.attempts, 4);
	assert_int_equal(h.first_contacts, 4);
	assert_int_equal(h.retries, 0);
	assert_int_equal(f->n_alerts, 0);
	ld_engine_stats st;
	ld_engine_stats_get(f->e, &st);
	assert_int_equal(st.duplicates, 12);
	fx_free(f);
}

/* Records a little out of order (a retransmit logged before the original) are still one
 * attempt, and a late original does not become a second first contact. */
static void test_out_of_order(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 4; i++) {
		peer(p, i);
		int64_t t = T0 + i * 10 * S;
		syn(f, t + 1 * S, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
		syn(f, t, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
		syn(f, t + 2 * S, "10.20.1.5", p, 445, LD_DIR_IN, 0);
	}
	ld_host_summary h = host_of(f, "10.20.1.5");
	assert_int_equal(h.attempts, 4);
	assert_int_equal(h.first_contacts, 4);
	fx_free(f);
}

/* Retries to a known peer score nothing; a known peer on a new port scores half. */
static void test_first_contact(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	for (int k = 0; k < 20; k++) /* a stale mapped drive retried every minute */
		syn(f, T0 + k * 60 * S, "10.20.1.5", "10.20.1.77", 445, LD_DIR_OUT, 0);
	ld_host_summary h = host_of(f, "10.20.1.5");
	assert_int_equal(h.first_contacts, 1);
	assert_int_equal(h.retries, 19);
	assert_int_equal(f->n_alerts, 0);
	/* the same peer on a second lateral port: a vertical first contact at half weight */
	syn(f, T0 + 30 * 60 * S, "10.20.1.5", "10.20.1.77", 3389, LD_DIR_OUT, 0);
	h = host_of(f, "10.20.1.5");
	assert_int_equal(h.first_contacts, 2);
	assert_int_equal(h.scored, 2);
	/* slow tier: 1 → 0.5 after 30 min of leak, + 0.5 for the vertical first contact */
	assert_true(h.slow_peak < 1.01f);
	/* after the novelty horizon the peer is new again */
	syn(f, T0 + 25 * 3600 * S, "10.20.1.5", "10.20.1.77", 445, LD_DIR_OUT, 0);
	h = host_of(f, "10.20.1.5");
	assert_int_equal(h.first_contacts, 3);
	fx_free(f);
}

/* Pacing: one new peer every 15 s misses the fast tier, crosses the medium at the 8th;
 * one every 5 min crosses the slow tier at the 13th, after an hour. */
static void test_medium_and_slow_tiers(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 8; i++) {
		peer(p, i);
		syn(f, T0 + i * 15 * S, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 1);
	assert_int_equal(f->alerts[0].tier, LD_TIER_MEDIUM);
	assert_true(f->alerts[0].ts_ns == T0 + 7 * 15 * S);
	for (int i = 0; i < 13; i++) {
		peer(p, 100 + i);
		syn(f, T0 + i * 300 * S, "10.20.1.6", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 2);
	assert_int_equal(f->alerts[1].tier, LD_TIER_SLOW);
	assert_true(f->alerts[1].ts_ns == T0 + 12 * 300 * S);
	/* one probe an hour for a day never alerts: the slow tier drains as fast as it fills */
	for (int i = 0; i < 24; i++) {
		peer(p, 200 + i);
		syn(f, T0 + i * 3600 * S, "10.20.1.7", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 2);
	fx_free(f);
}

/* Port classes: benign ports, multicast and mid-session packets do not score. */
static void test_noise_ignored(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 50; i++) {
		peer(p, i);
		syn(f, T0 + i * S / 10, "10.20.1.5", p, 7680, LD_DIR_OUT, 0); /* Delivery Optimization */
		ld_event ev = {0};
		ev.ts_ns = T0 + i * S / 10;
		ev.src = A("10.20.1.5");
		ev.dst = A("224.0.0.252");
		ev.dport = 5355;
		ev.proto = 17;
		ev.action = LD_ACTION_DROP;
		ev.present = LD_RF_PORTS;
		ld_engine_feed_event(f->e, &ev);
		ev.dst = A(p);
		ev.proto = 6;
		ev.dport = 445;
		ev.tcp_flags = LD_TCP_ACK; /* not a new connection */
		ev.present |= LD_RF_TCPFLAGS;
		ld_engine_feed_event(f->e, &ev);
		ev.tcp_flags = LD_TCP_SYN;
		ev.action = LD_ACTION_ALLOW; /* allowed: not a drop */
		ld_engine_feed_event(f->e, &ev);
	}
	assert_int_equal(f->n_alerts, 0);
	ld_host_summary h = host_of(f, "10.20.1.5");
	assert_int_equal(h.scored, 0);
	fx_free(f);
}

/* Hysteresis: a host that goes quiet and alerts again the same way within 24 h is not
 * re-alerted; a new port class or a much bigger burst is. */
static void test_hysteresis(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 5; i++) {
		peer(p, i);
		syn(f, T0 + i * S, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 1);
	int64_t t = T0 + 6 * 3600 * S; /* quiet for six hours: every tier drained */
	for (int i = 0; i < 5; i++) {
		peer(p, 10 + i);
		syn(f, t + i * S, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 1); /* same behaviour, suppressed */
	t += 6 * 3600 * S;
	for (int i = 0; i < 12; i++) { /* ICMP sweep: a new port class */
		peer(p, 30 + i);
		ld_event ev = {0};
		ev.ts_ns = t + i * S / 10;
		ev.src = A("10.20.1.5");
		ev.dst = A(p);
		ev.proto = 1;
		ev.action = LD_ACTION_DROP;
		ld_engine_feed_event(f->e, &ev);
	}
	assert_int_equal(f->n_alerts, 2);
	assert_true(f->alerts[1].realert);
	fx_free(f);
}

/* Host baseline: a (peer, port) blocked on 3 earlier days is habitual and weighs ×0.1. */
static void test_host_baseline(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	int alerts_before = 0;
	for (int day = 0; day < 6; day++) {
		if (day == 3)
			alerts_before = f->n_alerts;
		for (int i = 0; i < 5; i++) {
			peer(p, i);
			/* five stale drives at every logon (a little later each day) */
			syn(f, T0 + day * 86400 * S + 7 * 3600 * S + day * 600 * S + i * S,
			    "10.20.1.5", p, 445, LD_DIR_OUT, 0);
		}
	}
	/* the first days look like a 5-peer burst; from day 3 the pairs are habitual */
	assert_true(alerts_before >= 1);
	assert_int_equal(f->n_alerts, alerts_before);
	ld_host_summary h = host_of(f, "10.20.1.5");
	assert_true(h.habitual_hits >= 15);
	fx_free(f);
}

/* Fleet baseline: a non-lateral port most desktops dropped on yesterday weighs ×0.3. */
static void test_fleet_baseline(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char s[32], p[32];
	for (int d = 0; d < 40; d++) { /* day 0: 40 desktops each hit one peer on 8080 */
		snprintf(s, sizeof s, "10.30.0.%d", 10 + d);
		peer(p, d);
		syn(f, T0 + d * S, s, p, 8080, LD_DIR_OUT, 0);
	}
	for (int i = 0; i < 12; i++) { /* day 1: one desktop fans out on 8080 */
		peer(p, 50 + i);
		syn(f, T0 + 86400 * S + i * S / 10, "10.30.0.10", p, 8080, LD_DIR_OUT, 0);
	}
	ld_host_summary h = host_of(f, "10.30.0.10");
	assert_int_equal(h.fleet_discounted, 12);
	assert_int_equal(f->n_alerts, 0); /* 12 × 0.5 × 0.3 = 1.8 < 4.5 */
	fx_free(f);
}

/* Lateral ports are never discounted by fleet prevalence: after a day on which every desktop
 * dropped on 445 (a recycled file-server address), a 445 worm is still caught at the 5th peer;
 * the many-to-one destination is reported as a fleet note instead. */
static void test_fleet_lateral_not_discounted(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char s[32], p[32];
	for (int d = 0; d < 40; d++) {
		snprintf(s, sizeof s, "10.30.0.%d", 10 + d);
		syn(f, T0 + d * S, s, "10.10.0.99", 445, LD_DIR_OUT, 0);
	}
	for (int i = 0; i < 5; i++) {
		peer(p, 50 + i);
		syn(f, T0 + 86400 * S + i * S / 10, "10.30.0.10", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 1);
	ld_popular_dst pop[2];
	assert_int_equal(ld_engine_popular(f->e, 10, pop, 2), 1);
	assert_int_equal(pop[0].hosts, 40);
	assert_int_equal(pop[0].port, 445);
	char ip[LD_ADDR_STRLEN];
	ld_addr_format(&pop[0].dst, ip);
	assert_string_equal(ip, "10.10.0.99");
	fx_free(f);
}

/* Vertical rule: five lateral/discovery ports on one peer. */
static void test_vertical(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	static const uint16_t ports[] = {445, 3389, 135, 22, 5985};
	for (int i = 0; i < 5; i++)
		syn(f, T0 + i * S, "10.20.1.5", "10.20.1.9", ports[i], LD_DIR_OUT, 0);
	assert_int_equal(f->n_alerts, 1);
	assert_int_equal(f->alerts[0].tier, LD_TIER_VERTICAL);
	fx_free(f);
}

/* Inventory validity windows: the desktop that inherits an address is not blamed, and the
 * state of the previous holder does not leak into it. */
static void test_validity_windows(void **state)
{
	(void)state;
	ld_inventory *inv = ld_inventory_new();
	ld_addr ip = A("10.20.1.50");
	assert_true(ld_inventory_add(inv, &ip, "VDI-A", "alice", "p", LD_ROLE_DESKTOP, INT64_MIN,
				     T0 + 3600 * S));
	assert_true(ld_inventory_add(inv, &ip, "VDI-B", "bob", "p", LD_ROLE_DESKTOP,
				     T0 + 3900 * S, INT64_MAX));
	ld_inventory_finish(inv);
	fixture *f = fx_new(inv);
	char p[32];
	for (int i = 0; i < 4; i++) { /* A: 4 peers, just below the fast threshold */
		peer(p, i);
		syn(f, T0 + 3590 * S + i * S, "10.20.1.50", p, 445, LD_DIR_OUT, 0);
	}
	for (int i = 4; i < 8; i++) { /* B: 4 other peers right after taking the address */
		peer(p, i);
		syn(f, T0 + 3900 * S + i * S, "10.20.1.50", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 0); /* a shared IP-keyed state would have alerted */
	ld_host_summary a = host_of(f, "VDI-A"), b = host_of(f, "VDI-B");
	assert_int_equal(ld_engine_identity_of(f->e, &ip, T0 + 3000 * S), a.id);
	assert_int_equal(ld_engine_identity_of(f->e, &ip, T0 + 4000 * S), b.id);
	assert_int_equal(a.first_contacts, 4);
	assert_int_equal(b.first_contacts, 4);
	assert_string_equal(b.user, "bob");
	fx_free(f);
}

/* In a pool larger than a /24, x.x.x.255 is an ordinary desktop: when the inventory names it,
 * it is scored as a source and counted as a target; unnamed, it is taken for a subnet broadcast. */
static void test_dot255_host(void **state)
{
	(void)state;
	ld_inventory *inv = ld_inventory_new();
	ld_addr ip = A("10.20.3.255"), tgt = A("10.20.1.255");
	assert_true(ld_inventory_add(inv, &ip, "VDI-255", "carol", "p", LD_ROLE_DESKTOP, INT64_MIN,
				     INT64_MAX));
	assert_true(ld_inventory_add(inv, &tgt, "VDI-1-255", "dave", "p", LD_ROLE_DESKTOP,
				     INT64_MIN, INT64_MAX));
	ld_inventory_finish(inv);
	fixture *f = fx_new(inv);
	char p[32];
	syn(f, T0, "10.20.3.255", "10.20.1.255", 445, LD_DIR_OUT, 0);
	for (int i = 1; i < 5; i++) {
		peer(p, i);
		syn(f, T0 + i * S / 10, "10.20.3.255", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 1); /* five first contacts, the named .255 target included */
	ld_host_summary h = host_of(f, "VDI-255");
	assert_int_equal(h.first_contacts, 5);
	fx_free(f);

	f = fx_new(NULL); /* no inventory: .255 destinations are broadcast noise */
	for (int i = 0; i < 5; i++) {
		snprintf(p, sizeof p, "10.20.%d.255", 2 + i);
		syn(f, T0 + i * S / 10, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 0);
	fx_free(f);
}

/* Without an inventory, a new vif on OUT records from an address is a different VM. */
static void test_vif_split(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 4; i++) {
		peer(p, i);
		syn(f, T0 + i * S, "10.20.1.50", p, 445, LD_DIR_OUT, 0xaaaa0001);
	}
	for (int i = 4; i < 8; i++) {
		peer(p, i);
		syn(f, T0 + i * S, "10.20.1.50", p, 445, LD_DIR_OUT, 0xbbbb0002);
	}
	assert_int_equal(f->n_alerts, 0);
	uint32_t n = 0;
	for (uint32_t i = 0; i < ld_engine_host_count(f->e); i++) {
		ld_host_summary h;
		ld_engine_host(f->e, i, &h);
		if (h.tracked)
			n++;
	}
	assert_int_equal(n, 2);
	ld_addr ip = A("10.20.1.50");
	uint32_t now_id = ld_engine_identity_of(f->e, &ip, T0 + 10 * S);
	ld_host_summary cur;
	ld_engine_host(f->e, now_id, &cur);
	assert_int_equal(cur.vif, 0xbbbb0002);
	fx_free(f);
}

/* A desktop's IPv4 and IPv6 addresses are one identity: 3 + 3 peers cross together. */
static void test_v4_v6_merge(void **state)
{
	(void)state;
	ld_inventory *inv = ld_inventory_new();
	ld_addr a4 = A("10.20.1.5"), a6 = A("fd20::1:0:0:0:5");
	assert_true(ld_inventory_add(inv, &a4, "VDI-X", "x", "p", LD_ROLE_DESKTOP, INT64_MIN,
				     INT64_MAX));
	assert_true(ld_inventory_add(inv, &a6, "VDI-X", "x", "p", LD_ROLE_DESKTOP, INT64_MIN,
				     INT64_MAX));
	ld_inventory_finish(inv);
	fixture *f = fx_new(inv);
	char p[32];
	for (int i = 0; i < 3; i++) {
		peer(p, i);
		syn(f, T0 + i * S, "10.20.1.5", p, 445, LD_DIR_OUT, 0);
		snprintf(p, sizeof p, "fd20::2:0:0:0:%x", 0x10 + i);
		syn(f, T0 + i * S + S / 2, "fd20::1:0:0:0:5", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 1);
	ld_host_summary h = host_of(f, "VDI-X");
	assert_true(h.has_v4 && h.has_v6);
	assert_int_equal(h.level, LD_LEVEL_ALERT);
	fx_free(f);
}

/* Authorised scanners are scored and never alerted. */
static void test_scanner_allowed(void **state)
{
	(void)state;
	ld_inventory *inv = ld_inventory_new();
	ld_addr a = A("10.9.0.5");
	assert_true(ld_inventory_add(inv, &a, "NESSUS", "", "", LD_ROLE_SCANNER, INT64_MIN,
				     INT64_MAX));
	ld_inventory_finish(inv);
	fixture *f = fx_new(inv);
	char p[32];
	for (int i = 0; i < 100; i++) {
		peer(p, i);
		syn(f, T0 + i * S / 100, "10.9.0.5", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 0);
	ld_host_summary h = host_of(f, "NESSUS");
	assert_true(h.would_alert);
	assert_true(h.authorised);
	assert_true(h.score >= 100);
	assert_int_equal(h.level, LD_LEVEL_NORMAL);
	fx_free(f);
}

/* Parent inference: A probes B, B starts scanning 4 min later → parent(B) = A; D scanning
 * without a prior probe is a root. */
static void test_parent_inference(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 10; i++) {
		peer(p, i);
		syn(f, T0 + i * S, "10.20.1.1", i == 5 ? "10.20.1.2" : p, 445, LD_DIR_OUT, 0);
	}
	for (int i = 0; i < 10; i++) {
		peer(p, 20 + i);
		syn(f, T0 + 245 * S + i * S, "10.20.1.2", p, 445, LD_DIR_OUT, 0);
	}
	for (int i = 0; i < 10; i++) {
		peer(p, 40 + i);
		syn(f, T0 + 360 * S + i * S, "10.20.1.4", p, 445, LD_DIR_OUT, 0);
	}
	assert_int_equal(f->n_alerts, 3);
	ld_report r;
	ld_err err;
	assert_int_equal(ld_report_build(f->e, &r, &err), 0);
	long a = -1, b = -1, d = -1;
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.s[i].h.name, "10.20.1.1") == 0)
			a = (long)i;
		if (strcmp(r.s[i].h.name, "10.20.1.2") == 0)
			b = (long)i;
		if (strcmp(r.s[i].h.name, "10.20.1.4") == 0)
			d = (long)i;
	}
	assert_true(a >= 0 && b >= 0 && d >= 0);
	assert_true(r.s[b].parent == r.s[a].h.id);
	assert_true(r.s[a].parent == UINT32_MAX);
	assert_true(r.s[d].parent == UINT32_MAX);
	assert_int_equal(r.s[a].incident, r.s[b].incident);
	const ld_incident *inc = &r.inc[r.s[a].incident - 1];
	assert_true(inc->n_roots >= 1);
	assert_int_equal(inc->roots[0], (uint32_t)a);
	ld_report_free(&r);
	fx_free(f);
}

/* The JSON report's ports are port numbers: an ICMP sweep has none (not a port 0), and 445 over
 * TCP and over UDP is one number; "services" keeps the protocol of each counter.  60 peers
 * (more than the exact peer table holds) are counted as 60. */
static void test_report_ports(void **state)
{
	(void)state;
	fixture *f = fx_new(NULL);
	char p[32];
	for (int i = 0; i < 40; i++) { /* ping sweep */
		peer(p, i);
		ld_event ev = {0};
		ev.ts_ns = T0 + i * S / 10;
		ev.src = A("10.20.1.7");
		ev.dst = A(p);
		ev.proto = 1;
		ev.action = LD_ACTION_DROP;
		ev.dir = LD_DIR_OUT;
		ld_engine_feed_event(f->e, &ev);
	}
	for (int i = 40; i < 60; i++) { /* then 445 over TCP and UDP */
		peer(p, i);
		syn(f, T0 + 10 * S + i * S / 10, "10.20.1.7", p, 445, LD_DIR_OUT, 0);
		ld_event ev = {0};
		ev.ts_ns = T0 + 10 * S + i * S / 10 + 1;
		ev.src = A("10.20.1.7");
		ev.dst = A(p);
		ev.sport = 50001;
		ev.dport = 445;
		ev.proto = 17;
		ev.action = LD_ACTION_DROP;
		ev.dir = LD_DIR_OUT;
		ev.present = LD_RF_PORTS;
		ld_engine_feed_event(f->e, &ev);
	}
	ld_report r;
	ld_err err;
	assert_int_equal(ld_report_build(f->e, &r, &err), 0);
	char *json = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&json, &len);
	assert_non_null(out);
	ld_report_print_json(out, &r, 0, true);
	fclose(out);
	print_message("%s", json);
	assert_non_null(strstr(json, "\"name\":\"10.20.1.7\""));
	assert_non_null(strstr(json, "\"ports\":[445]"));
	/* 60 distinct peers, exactly: the peer that overflows the exact table is remembered */
	assert_non_null(strstr(json, "\"peers\":60,"));
	assert_non_null(strstr(json, "\"icmp\""));
	assert_non_null(strstr(json, "\"tcp/445\""));
	assert_non_null(strstr(json, "\"udp/445\""));
	free(json);
	ld_report_free(&r);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fast_tier_worm),
		cmocka_unit_test(test_dedupe),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_first_contact),
		cmocka_unit_test(test_medium_and_slow_tiers),
		cmocka_unit_test(test_noise_ignored),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_host_baseline),
		cmocka_unit_test(test_fleet_baseline),
		cmocka_unit_test(test_fleet_lateral_not_discounted),
		cmocka_unit_test(test_vertical),
		cmocka_unit_test(test_validity_windows),
		cmocka_unit_test(test_dot255_host),
		cmocka_unit_test(test_vif_split),
		cmocka_unit_test(test_v4_v6_merge),
		cmocka_unit_test(test_scanner_allowed),
		cmocka_unit_test(test_parent_inference),
		cmocka_unit_test(test_report_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
