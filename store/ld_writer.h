/* ld_writer.h — the store's write side: journal, then sealed columnar segments.
 *
 * Contract:
 *  - One writer per data directory at a time (an flock on DIR/LOCK enforces it; a second opener
 *    gets a clear error).  A writer is used by one thread; ingest threads hand it batches through a
 *    ring (ingest/), so nothing here takes locks on the hot path.
 *  - ld_writer_append() copies the record (strings included) into the journal buffer and returns;
 *    the record is *accepted*.  It becomes *durable* once a later ld_writer_sync() returns 0, or when
 *    the writer's own fsync interval elapses (checked inside append/sync/tick), or at close.
 *    ld_writer_durable() tells how many appended records are durable so far (monotonic).
 *    Interval fsyncs run on a helper thread the writer owns, so append never waits for the
 *    disk; ld_writer_sync() and close fsync in the caller's thread.
 *  - After a crash (SIGKILL anywhere), ld_writer_open() on the same directory recovers every durable
 *    record exactly once: a torn journal tail is cut at the last valid frame; a journal whose rows
 *    were already sealed (the manifest says so) is discarded, not replayed twice.
 *  - Sealing turns journaled rows into immutable segments (one per UTC day of the rows, rows sorted
 *    by time): write temp file, fsync, rename, fsync dir, append the segment's digest to the
 *    chained MANIFEST, fsync, then drop the journal.  Sealed segments are never modified.
 *  - Seal triggers: rows >= opts.segment_rows, journal age >= opts.seal_interval, ld_writer_seal(),
 *    and close.
 */
#ifndef LD_WRITER_H
#define LD_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "ld_log.h"
#include "ld_record.h"

typedef struct ld_store_opts {
	uint32_t fsync_interval_ms; /* journal fsync period; default 1000; 0 = fsync on every append */
	uint32_t segment_rows;      /* seal when this many rows are journaled; default 4M */
	uint32_t seal_interval_s;   /* seal when the oldest journaled row is this old (wall); 300 */
	bool keep_raw;              /* store ld_record.raw; default false */
	int zstd_level;             /* raw-line column; default 3 (the encoded columns are near
				     * their entropy and use level 1, measured as small) */
} ld_store_opts;

void ld_store_opts_default(ld_store_opts *o);

typedef struct ld_writer ld_writer;

/* Creates DIR (and its layout) if needed.  NULL on failure with err set. */
ld_writer *ld_writer_open(const char *dir, const ld_store_opts *opts, ld_err *err);
/* 0 on success, -1 on an I/O failure (err set; the writer stays usable for close). */
int ld_writer_append(ld_writer *w, const ld_record *rec, ld_err *err);
int ld_writer_append_batch(ld_writer *w, const ld_record *recs, size_t n, ld_err *err);
/* Make everything appended so far durable (write + fdatasync the journal).  Also waits for a
 * background seal in progress, so readers see a settled store after it returns. */
int ld_writer_sync(ld_writer *w, ld_err *err);
/* Run time-based duties (interval fsync, age-based seal); call from an idle loop. */
int ld_writer_tick(ld_writer *w, ld_err *err);
/* Seal all journaled rows now. */
int ld_writer_seal(ld_writer *w, ld_err *err);
uint64_t ld_writer_appended(const ld_writer *w);
uint64_t ld_writer_durable(const ld_writer *w);
/* Rows recovered from the journal by open (after a crash). */
uint64_t ld_writer_recovered(const ld_writer *w);
/* sync + seal + release.  Returns -1 if any of it failed (err set); always frees w. */
int ld_writer_close(ld_writer *w, ld_err *err);

#endif
