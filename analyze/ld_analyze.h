/* ld_analyze.h — the east-west scan scoring engine.
 *
 * Contract:
 *  - One engine, two drivers.  The engine consumes drop records one at a time in event order
 *    (ld_engine_feed / ld_engine_feed_event) and calls the alert callback, with the record's event
 *    time, when a host crosses a threshold.  The live service feeds it as records arrive; `logdrop
 *    suspects` feeds it from the store in time order (ld_batch.h).  The same records in the same
 *    order give the same alerts at the same event times.  Records a little out of order are
 *    tolerated (negative time steps count as zero), but ordering is the driver's job.
 *  - Work per record is O(1) (hash lookups in bounded tables); state per tracked host is bounded
 *    (ld_engine_host_bytes(): 2.6 KiB, plus 9 KiB once a host overflows its exact peer tables,
 *    i.e. for scanners).  Discovery noise from fixed inventory addresses touches no host state.
 *  - Identity: a record belongs to the desktop that held its source address at the record's time
 *    (inventory, ld_inventory.h); unknown addresses are tracked by IP, split when the NSX vif
 *    seen on OUT records from that IP changes (a different VM reusing the address).
 *  - Only east-west records count: source and destination inside config internal networks,
 *    verdict drop/reject/deny, destination unicast (multicast, broadcast and link-local are noise
 *    that is only counted; x.x.x.255 counts as a subnet broadcast unless the inventory lists it
 *    as a host), TCP only when the packet opens a connection (SYN without ACK, or no flags given).
 *  - Scoring (see README "How scoring works"): records → attempts (dedupe window) → first contacts
 *    (new peer, or new port on a known peer at half weight) → weight by port class × host habit ×
 *    fleet prevalence → three leaky buckets (fast/medium/slow) and a vertical rule → levels
 *    normal / suspect / alert with hysteresis.  Allow-listed scanners are scored, never alerted.
 *  - After the last record, ld_engine_host() gives each host's summary and ld_engine_edges() the
 *    probe graph (scored attempts of hosts that reached suspect, capped).
 */
#ifndef LD_ANALYZE_H
#define LD_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>

#include "ld_analyze_config.h"
#include "ld_inventory.h"
#include "ld_log.h"
#include "ld_record.h"

/* The record fields the engine reads (the store's columns, without strings). */
typedef struct ld_event {
	int64_t ts_ns;
	ld_addr src, dst;
	uint16_t sport, dport;
	uint8_t proto, action, dir, tcp_flags, present;
	uint32_t vif; /* NSX filter hash as a number (8 hex digits), 0 = none */
} ld_event;

/* The column path: addresses interned once (ld_engine_addr_id, e.g. per store block dictionary
 * entry) and rows fed as compact events.  ld_engine_feed_event() is exactly intern + this. */
typedef struct ld_cevent {
	int64_t ts_ns;
	uint32_t src, dst; /* ld_engine_addr_id() */
	uint16_t sport, dport;
	uint8_t proto, action, dir, tcp_flags;
	uint32_t vif;
	uint8_t present;
} ld_cevent;

/* "7396c504" -> 0x7396c504; decimal NSX-V ids are hashed into the same space; 0 when empty. */
uint32_t ld_vif_code(ld_str vif);
void ld_event_from_record(ld_event *ev, const ld_record *r);

enum ld_level { LD_LEVEL_NORMAL = 0, LD_LEVEL_SUSPECT = 1, LD_LEVEL_ALERT = 2 };
const char *ld_level_name(unsigned level);
const char *ld_tier_name(unsigned tier);

typedef struct ld_alert {
	int64_t ts_ns;    /* event time of the record that crossed the threshold */
	uint32_t host;    /* identity id (ld_engine_host) */
	unsigned tier;    /* enum ld_tier */
	float ratio;      /* tier score / threshold at the crossing */
	int64_t onset_ns; /* change-point estimate */
	bool realert;     /* a later alert of the same host (bigger peak or new port class) */
} ld_alert;

typedef void (*ld_alert_fn)(void *ctx, const ld_alert *a);

typedef struct ld_engine ld_engine;

/* cfg and inv (may be NULL) must outlive the engine. */
ld_engine *ld_engine_new(const ld_analyze_config *cfg, const ld_inventory *inv, ld_err *err);
void ld_engine_free(ld_engine *e);
void ld_engine_set_alert_fn(ld_engine *e, ld_alert_fn fn, void *ctx);
const ld_analyze_config *ld_engine_config(const ld_engine *e);
void ld_engine_feed(ld_engine *e, const ld_record *r);
void ld_engine_feed_event(ld_engine *e, const ld_event *ev);
/* UINT32_MAX when out of memory. */
uint32_t ld_engine_addr_id(ld_engine *e, const ld_addr *a);
const ld_addr *ld_engine_addr(const ld_engine *e, uint32_t id);
void ld_engine_feed_compact(ld_engine *e, const ld_cevent *ev);
/* Batch drivers: account for ev now if its effect does not depend on record order (verdicts
 * other than drops, records that are not east-west, discovery noise from fixed inventory
 * addresses) and return true; false means it must be fed in order with ld_engine_feed_compact.
 * Absorbing early or feeding in order give identical results. */
bool ld_engine_absorb(ld_engine *e, const ld_cevent *ev);
/* Batch drivers know what comes next: call with stage 1 for the event ~16 ahead and stage 2
 * for the event ~8 ahead, to hide the memory latency of the per-address and per-identity
 * state.  Pure hints: results never depend on them. */
void ld_engine_prefetch(const ld_engine *e, const ld_cevent *ev, int stage);

#define LD_TOP_PORTS 5
#define LD_REASON_MAX 6

typedef struct ld_port_count {
	uint8_t proto;
	uint16_t port;
	uint32_t count;
} ld_port_count;

/* Everything the report needs about one identity. */
typedef struct ld_host_summary {
	uint32_t id;
	bool tracked;         /* was a source of east-west drops */
	const char *name;     /* inventory name, or the IP (+ vif) */
	const char *user, *pool;
	unsigned role;        /* enum ld_role */
	bool authorised;      /* scanner role or allow_scanners */
	ld_addr ip;           /* last source address seen */
	bool has_v4, has_v6;
	uint32_t vif;
	unsigned level;       /* enum ld_level (authorised hosts stay normal) */
	float score;          /* 100 = alert threshold of the strongest tier or rule */
	unsigned peak_tier;
	bool would_alert;     /* authorised host that crossed a threshold */
	int64_t first_seen, last_seen, first_alert, onset, first_suspect;
	uint64_t records, attempts, retries, noise, first_contacts, scored;
	uint32_t peers, ports_distinct;
	bool ports_overflow, peers_overflow;
	ld_port_count top_ports[LD_TOP_PORTS];
	unsigned n_top_ports;
	unsigned class_mask;  /* 1<<class of scored attempts */
	uint32_t seq_pairs, seq_total, same_subnet;
	uint32_t vertical_max_ports;
	ld_addr vertical_peer;
	float fast_peak, medium_peak, slow_peak;
	uint32_t habitual_hits, fleet_discounted;
	uint32_t alerts;      /* alert + re-alert count */
	uint32_t attempts_at_alert; /* first contacts from onset to the first alert */
} ld_host_summary;

uint32_t ld_engine_host_count(const ld_engine *e);
void ld_engine_host(const ld_engine *e, uint32_t id, ld_host_summary *out);
/* Identity of an address at a time, or UINT32_MAX when it is not a tracked or known identity. */
uint32_t ld_engine_identity_of(const ld_engine *e, const ld_addr *a, int64_t ts);

typedef struct ld_edge {
	uint32_t src, dst;    /* identity ids (dst = UINT32_MAX when the address is unknown) */
	ld_addr dst_ip;
	int64_t ts_ns;
	uint16_t port;
	uint8_t proto;
} ld_edge;
const ld_edge *ld_engine_edges(const ld_engine *e, uint64_t *n);

/* Many-to-one: blocked destinations that many hosts made a first contact with (a recycled
 * server address, a stale mapping in the image or a GPO) — a fleet note, never a host alert. */
typedef struct ld_popular_dst {
	ld_addr dst;
	uint8_t proto;
	uint16_t port;
	uint32_t hosts;
	int64_t first;
} ld_popular_dst;
/* Up to max entries with at least min_hosts hosts, most hosts first; returns the count. */
size_t ld_engine_popular(const ld_engine *e, uint32_t min_hosts, ld_popular_dst *out, size_t max);

typedef struct ld_engine_stats {
	uint64_t records, east_west, noise, not_drop, not_internal, duplicates, attempts, scored;
	uint64_t hosts, host_bytes, edges_dropped;
} ld_engine_stats;
void ld_engine_stats_get(const ld_engine *e, ld_engine_stats *s);
/* Bytes of state per tracked host (fixed part). */
size_t ld_engine_host_bytes(void);

#endif
