/* estate_gen.h — a deterministic synthetic VDI estate: benign east-west chatter, injected attacks,
 * NSX DFW syslog lines, the inventory and the ground truth.
 *
 * Contract: the same options (seed included) give byte-identical output.  Records are produced in
 * event-time order (ld_estate_record); the NSX text (ld_estate_write_nsx) uses the real DFW
 * packet-log layout with vif, and may be locally reordered (±60 s) when opts.reorder is set, the
 * way several ESXi hosts' syslog streams interleave.  Scenario ids follow the evaluation table of
 * the detection design (S03..S20); benign noise covers S01/S02/S19/S20 on every desktop.
 */
#ifndef LD_ESTATE_GEN_H
#define LD_ESTATE_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ld_inventory.h"
#include "ld_log.h"
#include "ld_record.h"

/* Attack scenarios (bit = 1 << id). */
enum ld_scenario {
	LD_SC_WANNACRY = 3,   /* sequential /24 sweep on 445 at ~50/s + random RFC 1918 hits */
	LD_SC_NOTPETYA = 4,   /* ARP-list targets, 139/445 then 135+445 */
	LD_SC_CONFICKER = 5,  /* random /16 on 445, retries per peer, 40-min pauses */
	LD_SC_IPSCANNER = 6,  /* ICMP + unicast 137 + 80/443/445/3389/4899 over a /24 in 90 s */
	LD_SC_NMAP_T4 = 7,    /* top-1000 ports against 5 desktops */
	LD_SC_NMAP_T1 = 8,    /* 445/3389 sweep, one probe per 15 s */
	LD_SC_STEALTH = 9,    /* one probe per minute rotating lateral ports, and T0 (one per 5 min) */
	LD_SC_MANUAL = 10,    /* RDP/WinRM/SMB to 3 chosen desktops in 10 min (documented floor) */
	LD_SC_EMOTET = 11,    /* LDAP-list targets, random order, 445 with brute-force retries */
	LD_SC_SCANNERS = 12,  /* allow-listed appliance nightly + an unlisted scanner */
	LD_SC_JUMPHOST = 13,  /* helpdesk jump host + SCCM pushes (allow-listed) */
	LD_SC_DHCP = 14,      /* infected VM-A leaves the address, benign VM-B inherits it */
	LD_SC_IPV6 = 15,      /* 445 sweep over IPv6 neighbours + a few IPv4 peers (merge) */
	LD_SC_CHAIN = 16,     /* A → B (+4 min) → C (+9 min), D independent (+6 min) */
	LD_SC_ARTEFACTS = 18, /* WannaCry and T1 clones with 10 % record loss */
	LD_SC_COUNT_ = 21
};
#define LD_SC_ALL 0x5FFF8u /* 3..16 and 18 */

typedef struct ld_estate_opts {
	uint64_t seed;
	uint32_t desktops;   /* ≥ 20 */
	int64_t start_ns;    /* default 2026-11-02T00:00:00Z */
	int64_t duration_ns; /* default 24 h */
	uint32_t scenarios;  /* bit mask of enum ld_scenario */
	bool noise;          /* benign chatter (default true) */
	bool artefacts;      /* OUT+IN double logging and SYN retransmits (default true) */
	bool reorder;        /* ±60 s interleaving in the NSX text */
} ld_estate_opts;

void ld_estate_opts_default(ld_estate_opts *o);

/* One ground-truth row: a host with a role in a scenario. */
typedef struct ld_truth {
	char name[32];
	unsigned scenario;    /* enum ld_scenario, 0 = benign special (scanner, reuse victim) */
	bool infected;        /* its own scanning is malicious */
	bool expect_alert;    /* what the design promises (false for the floor and allow-lists) */
	bool floor;           /* documented detection floor */
	int64_t start_ns, end_ns; /* its malicious activity */
	char parent[32];      /* expected infector ("" none) */
	bool patient_zero;
	uint32_t attempts;    /* distinct (peer, port) first contacts it made */
} ld_truth;

typedef struct ld_estate ld_estate;

ld_estate *ld_estate_generate(const ld_estate_opts *o, ld_err *err);
void ld_estate_free(ld_estate *es);
uint64_t ld_estate_count(const ld_estate *es);
/* Record i in event order; strings point into es. */
void ld_estate_record(const ld_estate *es, uint64_t i, ld_record *out);
const ld_inventory *ld_estate_inventory(const ld_estate *es);
const ld_truth *ld_estate_truth(const ld_estate *es, size_t *n);
uint32_t ld_estate_desktops(const ld_estate *es);
/* Time of the k-th malicious first contact of truth row t (k from 1), or INT64_MAX. */
int64_t ld_estate_attack_time(const ld_estate *es, size_t t, uint32_t k);
/* Count malicious distinct first contacts of truth row t at or before ts. */
uint32_t ld_estate_attempts_until(const ld_estate *es, size_t t, int64_t ts);

/* One NSX DFW syslog line for record i (no newline); returns its length. */
size_t ld_estate_format_nsx(const ld_estate *es, uint64_t i, char *buf, size_t cap);
int ld_estate_write_nsx(const ld_estate *es, FILE *out);
int ld_estate_write_inventory(const ld_estate *es, FILE *out);
int ld_estate_write_truth(const ld_estate *es, FILE *out);

#endif
