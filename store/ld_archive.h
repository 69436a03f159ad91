/* ld_archive.h — whole-store maintenance: info, verify, prune, compact.
 *
 * Contract:
 *  - verify works read-only (copied archive) and checks every segment's checksum and the MANIFEST
 *    hash chain: a changed, truncated, removed, added-but-unlisted or reordered segment is reported by
 *    name through `report`, and the call returns the number of problems (0 = intact).
 *  - prune removes whole segments whose newest row is older than `before_ns` and records the removal
 *    in the MANIFEST chain, so verify still passes and knows the segments were pruned, not lost.
 *  - compact merges small sealed segments of the same UTC day into larger ones; the MANIFEST chain
 *    records the replacement, and no row is lost or duplicated even if it is interrupted.
 *  - prune and compact take the store lock: they refuse to run beside a live writer.
 */
#ifndef LD_ARCHIVE_H
#define LD_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ld_log.h"
#include "ld_writer.h"

typedef void (*ld_report_fn)(void *ctx, const char *segment, const char *problem);

typedef struct ld_archive_info {
	uint64_t segments, rows, bytes, journal_rows, journal_bytes;
	int64_t min_ns, max_ns;
} ld_archive_info;

/* Prints a human summary (per day: segments, rows, bytes, bytes/row) to out and fills info. */
int ld_archive_info_print(const char *dir, FILE *out, ld_archive_info *info, ld_err *err);
/* Returns number of problems found (>= 0), or -1 on a fatal error. */
long ld_archive_verify(const char *dir, ld_report_fn report, void *ctx, ld_err *err);
/* A chain head as info prints it (64 hex digits, either case) into out; false when it is not. */
bool ld_archive_anchor_parse(const char *hex, uint8_t out[32]);
/* verify, and also that `anchor` (a chain head recorded earlier, NULL = none) is still a link
 * of the MANIFEST chain.  The chain is unkeyed: a MANIFEST rewritten or replaced as a whole and
 * hashed again passes the chain check, but loses every head recorded before the rewrite. */
long ld_archive_verify_anchored(const char *dir, const uint8_t *anchor, ld_report_fn report,
				void *ctx, ld_err *err);
/* Returns number of segments removed, or -1. */
long ld_archive_prune(const char *dir, int64_t before_ns, ld_err *err);
/* Merges runs of small segments of one day (fewer than opts->segment_rows / 2 rows each) into
 * segments of up to opts->segment_rows rows (opts NULL = defaults).  Damaged segments are left
 * alone.  Returns number of segments written, or -1. */
long ld_archive_compact(const char *dir, const ld_store_opts *opts, ld_err *err);

#endif
