/* ld_analyze_config.h — the [analyze] section: identity scope, port classes and scoring parameters.
 *
 * Contract: ld_analyze_config_default() fills every field with the defaults below (the values the
 * evaluation harness was run with); ld_analyze_config_load() overrides them from an INI file and
 * rejects unknown keys (error names file, line and key) and malformed values (names key and line).
 *
 * [analyze] keys (README copies this table):
 *
 * | key                 | default                                    | meaning                                      |
 * |---------------------|--------------------------------------------|----------------------------------------------|
 * | inventory           | (none)                                     | inventory CSV (ip,name,user,pool,role,...)   |
 * | internal_networks   | 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7 | east-west = both ends inside these     |
 * | allow_scanners      | (none)                                     | CIDRs of authorised scanners / jump hosts:   |
 * |                     |                                            | scored, never alerted                        |
 * | lateral_ports       | 445,139,135,3389,5985,5986,22,5900,4899,23 | class L, weight 1.0 (TCP)                    |
 * | discovery_ports     | 88,389,636,3268,3269,9389,53,80,443,8080,161,137 | class D, weight 0.5 (ICMP echo also D) |
 * | benign_ports        | 67,68,137,138,546,547,1900,3702,5353,5355,5357,5358,7680,8003,8004,17500,57621,3544,50000-50059 | class B, weight 0 (as destination or source port) |
 * | weight_lateral      | 1.0                                        | weight of class L                            |
 * | weight_discovery    | 0.5                                        | weight of class D                            |
 * | weight_other        | 0.25                                       | weight of any other port (class O)           |
 * | dedupe_window       | 3s                                         | same (host,dst,proto,port) within it = one attempt |
 * | novelty_horizon     | 24h                                        | a peer is "new" again after this long        |
 * | fast_leak           | 30s                                        | fast tier drains one unit per fast_leak      |
 * | fast_threshold      | 5                                          | fast tier alert level                        |
 * | medium_leak         | 5m                                         |                                              |
 * | medium_threshold    | 8                                          |                                              |
 * | slow_leak           | 1h                                         |                                              |
 * | slow_threshold      | 12                                         |                                              |
 * | vertical_window     | 5m                                         | vertical rule window (one host → one peer)   |
 * | vertical_lateral    | 5                                          | distinct L/D ports on one peer → alert       |
 * | vertical_any        | 15                                         | distinct ports of any class on one peer      |
 * | suspect_fraction    | 0.6                                        | tier ≥ this × threshold → suspect            |
 * | quiet_after         | 30m                                        | no scored attempt this long + low tiers → quiet |
 * | realert_after       | 24h                                        | within it, re-alert only on 1.5× peak or new class |
 * | habitual_days       | 3                                          | (dst,port) blocked on ≥ N of last 14 days → ×0.1 |
 * | fleet_common        | 0.2                                        | port seen by > this share of desktops the previous day → ×0.3 (not L ports) |
 * | outbreak_window     | 30m                                        | alerts on the same port within it join one incident |
 * | parent_window       | 30m                                        | a probe at most this long before a host's onset |
 * |                     |                                            | makes the prober its candidate infector      |
 */
#ifndef LD_ANALYZE_CONFIG_H
#define LD_ANALYZE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "ld_ini.h"
#include "ld_log.h"
#include "ld_record.h"

#define LD_ANALYZE_MAX_NETS 64

enum ld_port_class { LD_PC_OTHER = 0, LD_PC_LATERAL = 1, LD_PC_DISCOVERY = 2, LD_PC_BENIGN = 3 };

enum ld_tier { LD_TIER_FAST = 0, LD_TIER_MEDIUM = 1, LD_TIER_SLOW = 2, LD_TIER_VERTICAL = 3 };

typedef struct ld_analyze_config {
	char inventory[1024]; /* "" = none */
	ld_prefix internal[LD_ANALYZE_MAX_NETS];
	unsigned n_internal;
	ld_prefix scanners[LD_ANALYZE_MAX_NETS];
	unsigned n_scanners;
	/* port class per TCP/UDP port (enum ld_port_class); index [0]=tcp, [1]=udp */
	uint8_t port_class[2][65536];
	float weight[4]; /* by class */
	int64_t dedupe_ns, horizon_ns;
	int64_t leak_ns[3];
	float threshold[3];
	int64_t vertical_window_ns;
	unsigned vertical_lateral, vertical_any;
	float suspect_fraction;
	int64_t quiet_ns, realert_ns;
	unsigned habitual_days;
	float fleet_common;
	int64_t outbreak_ns;
	int64_t parent_window_ns;
} ld_analyze_config;

void ld_analyze_config_default(ld_analyze_config *c);
/* Apply [analyze] of an already loaded INI (other sections are ignored here). */
bool ld_analyze_config_apply(ld_analyze_config *c, const ld_ini *ini, ld_err *err);
/* Load PATH, check its sections and keys, apply [analyze]. */
bool ld_analyze_config_load(ld_analyze_config *c, const char *path, ld_err *err);
/* Known [analyze] keys, NULL-terminated (for ld_ini_check by other consumers of the same file). */
extern const char *const ld_analyze_keys[];

/* Class of (proto, sport, dport) as the scorer sees it. */
unsigned ld_analyze_port_class(const ld_analyze_config *c, uint8_t proto, uint16_t sport,
			       uint16_t dport, bool have_ports);

#endif
