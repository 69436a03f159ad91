/* ld_scan_cursor.h — pull-style reading of a data directory one source at a time, for readers
 * that merge sources in time order with bounded memory (e.g. record output of `query`).
 *
 * Contract:
 *  - ld_scan_sources_open() takes the same read-only snapshot as ld_archive_open(): the live
 *    segments of the MANIFEST plus one source per unsealed journal (torn tail ignored).  It never
 *    writes.  Journal rows are held in memory (the journal is bounded by the writer's seal size);
 *    segments are only opened by a cursor.
 *  - A cursor reads one source: ld_scan_cursor_next() yields its blocks in time order, pruned
 *    with the zone maps like ld_scan() (a block may still hold rows outside the predicate).
 *    Rows within and across the blocks of one cursor are in time order; journal rows are sorted
 *    by time when the sources are opened (equal times keep their journal order).
 *  - Memory per open cursor: one decoded block (its own decoder) and the segment's mapping and
 *    dictionaries.  A yielded block stays valid until the next call on the same cursor.
 *  - A damaged segment or block is reported through spec->on_damage(damage_ctx, ...) and skipped
 *    the way ld_scan() does (a damaged segment yields no blocks; a damaged block is left out and
 *    the cursor goes on with the next one).  NULL / -1 only when memory runs out.
 */
#ifndef LD_SCAN_CURSOR_H
#define LD_SCAN_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_log.h"
#include "ld_scan.h"

typedef struct ld_scan_source {
	const char *name; /* relative to the data dir: "segments/..." or "journal/..." */
	int64_t min_ns, max_ns;
	uint64_t rows;
	bool journal;
} ld_scan_source;

typedef struct ld_scan_sources ld_scan_sources;

ld_scan_sources *ld_scan_sources_open(const char *dir, ld_err *err);
void ld_scan_sources_close(ld_scan_sources *s);
/* Sources in order of their first timestamp (segments by MANIFEST sequence on ties). */
size_t ld_scan_sources_count(const ld_scan_sources *s);
const ld_scan_source *ld_scan_sources_get(const ld_scan_sources *s, size_t i);

typedef struct ld_scan_cursor ld_scan_cursor;

/* spec (pruning, columns, on_damage) must outlive the cursor.  NULL when out of memory (err). */
ld_scan_cursor *ld_scan_cursor_open(ld_scan_sources *s, size_t i, const ld_scan_spec *spec,
				    void *damage_ctx, ld_err *err);
/* 1 with *out filled, 0 at the end of the source, -1 when out of memory (err). */
int ld_scan_cursor_next(ld_scan_cursor *c, ld_block *out, ld_err *err);
void ld_scan_cursor_close(ld_scan_cursor *c);

#endif
