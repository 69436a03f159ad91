/* ld_batch.h — the batch driver: feed the engine from the store in event-time order.
 *
 * Contract: ld_batch_run() scans DIR's store (sealed segments + journal) for drop/reject/deny rows
 * in [from, to), collects them, sorts them by event time (ties broken by source, destination,
 * ports, direction, so the order does not depend on how the store laid rows out) and feeds them
 * to the engine one by one — the same path the live service uses.  Damaged segments are skipped
 * and counted.
 */
#ifndef LD_BATCH_H
#define LD_BATCH_H

#include <stdint.h>

#include "ld_analyze.h"

typedef struct ld_batch_stats {
	uint64_t rows;    /* store rows in [from, to), whatever their verdict */
	uint64_t fed;     /* drop/reject/deny rows among them given to the engine */
	uint64_t damaged; /* segments or blocks skipped as damaged */
	int64_t min_ts, max_ts;
} ld_batch_stats;

int ld_batch_run(ld_engine *e, const char *dir, int64_t from_ns, int64_t to_ns,
		 ld_batch_stats *st, ld_err *err);

/* Sort events in place into the canonical feeding order. */
void ld_batch_sort(ld_event *ev, uint64_t n);
/* That order: event time, then source, destination, ports, direction, vif, flags, verdict. */
int ld_event_cmp(const ld_event *a, const ld_event *b);

#endif
