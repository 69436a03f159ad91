/* ld_reorder.h — the live driver's reorder buffer: records from several ESXi hosts and relays
 * arrive a little out of event order; the engine must see them in the order the batch driver
 * uses, so that live and batch give the same alerts at the same event times.
 *
 * Contract: records are held in a heap and fed to the engine once they are older than the newest
 * event time seen minus `window` (or when the buffer holds max_events), in the batch driver's
 * order (ld_batch_sort).  When every record arrives within `window` of the newest one seen, the
 * engine sees exactly the sorted sequence.  A record older than one already fed is fed at once
 * and counted as late (the engine tolerates small disorder, but the equality guarantee is lost).
 */
#ifndef LD_REORDER_H
#define LD_REORDER_H

#include <stddef.h>
#include <stdint.h>

#include "ld_analyze.h"

typedef struct ld_reorder ld_reorder;

/* NULL on OOM.  e must outlive the buffer. */
ld_reorder *ld_reorder_new(ld_engine *e, int64_t window_ns, size_t max_events);
void ld_reorder_free(ld_reorder *r); /* does not flush */
void ld_reorder_push(ld_reorder *r, const ld_record *rec);
void ld_reorder_push_event(ld_reorder *r, const ld_event *ev);
/* Idle tick: the event clock has reached ts (e.g. wall clock minus the syslog delay). */
void ld_reorder_advance(ld_reorder *r, int64_t ts);
/* Feed everything held (shutdown, end of a replay). */
void ld_reorder_flush(ld_reorder *r);
size_t ld_reorder_held(const ld_reorder *r);
uint64_t ld_reorder_late(const ld_reorder *r);

#endif
