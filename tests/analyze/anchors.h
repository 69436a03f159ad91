/* anchors.h — re-implementations of published scan-detection rules, run on the same drop records
 * as logdrop for comparison (evaluation only; not part of the product).
 *
 * Input: one attempt per call — east-west unicast drops that open a connection, attributed to the
 * same identities logdrop uses, after merging retransmits / double logs of the same 5-tuple
 * within 3 s (what each tool's connection tracking would do).  Authorised scanners are excluded
 * before (every tool has an allow-list hook).
 *
 *  zeek      scan.zeek: ≥ 25 unique victims on one port in a 5-min epoch, or ≥ 15 ports on one
 *            victim in a 5-min epoch
 *  simple    ncsa simple-scan (local): ≥ 250 unique (victim, port), state idle-expires at 15 min
 *  snort     port_scan medium, filtered sweep: in a 90-s window ≥ 30 attempts, ≥ 7 address
 *            changes and ≤ 10 port changes
 *  trw       threshold random walk on failures: θ0 0.8, θ1 0.2, α 0.01, β 0.99 → 4 first-contact
 *            failures (first-contact sets expire after 30 min)
 *  sigma     > 10 distinct destinations per source in a 24-h window
 *  elastic   ≥ 100 distinct destinations on lateral ports in a 9-min window
 */
#ifndef LD_ANCHORS_H
#define LD_ANCHORS_H

#include <stdint.h>

#include "ld_record.h"

enum { ANCHOR_ZEEK, ANCHOR_SIMPLE, ANCHOR_SNORT, ANCHOR_TRW, ANCHOR_SIGMA, ANCHOR_ELASTIC,
       ANCHOR_N };

extern const char *const anchor_names[ANCHOR_N];

typedef void (*anchor_alert_fn)(void *ctx, int anchor, uint32_t src, int64_t ts);

typedef struct anchors anchors;

anchors *anchors_new(anchor_alert_fn fn, void *ctx);
void anchors_free(anchors *a);
/* src: identity id of the scanner; dst: address; one call per attempt, in event order. */
void anchors_feed(anchors *a, uint32_t src, const ld_addr *dst, uint8_t proto, uint16_t dport,
		  int64_t ts);

#endif
