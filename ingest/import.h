/* import.h — the file import pipeline behind `logdrop import`.
 *
 * Contract:
 *  - ld_import_file() reads one input (plain, gzip or zstd, recognised by magic bytes; "-" is
 *    stdin), cuts it into blocks at line boundaries, parses the blocks on `threads` parser threads
 *    and appends the records to the writer from the calling thread only (ld_writer is
 *    single-threaded).  Memory is bounded by the number of blocks in flight, whatever the input
 *    size.
 *  - The format is detected per file from a sample (classify_hs.h) unless opts.parse.forced_format
 *    is set; lines of another format in the same file are still re-classified one by one.
 *  - Formats with stream context (Windows Firewall #Fields) are parsed on one thread, in order.
 *  - Drops are stored; valid records of another verdict are counted as not_drop and stored only
 *    with keep_allowed; assume_drop turns records with an unknown verdict into drops (marked
 *    LD_RF_ASSUMED).
 *  - Malformed lines never stop an import: they are counted by reason and written verbatim (long
 *    lines: their head) to DIR/deadletter/rejects-<n>.log, one "reason<TAB>file<TAB>offset<TAB>line"
 *    per line; a file is rotated at deadletter_max_bytes and only the newest deadletter_keep files
 *    are kept.
 *  - A line longer than LD_LINE_MAX is rejected as too_long; lines longer than the block size are
 *    skipped while reading, never held whole.
 *  - Without a writer (w == NULL) the pipeline only parses and counts (benchmarks, dry runs).
 */
#ifndef LD_IMPORT_H
#define LD_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "ld_log.h"
#include "ld_parse.h"
#include "ld_writer.h"

typedef struct ld_import_opts {
	ld_parse_opts parse;
	bool keep_allowed;
	bool assume_drop;
	unsigned threads;              /* parser threads; 0 = number of online CPUs */
	const char *deadletter_dir;    /* NULL = no dead-letter file (rejects still counted) */
	uint64_t deadletter_max_bytes; /* rotate at this size; 0 = 64 MiB */
	unsigned deadletter_keep;      /* rotated files kept; 0 = 8 */
	size_t block_size;             /* bytes per block; 0 = 4 MiB (tests use small blocks) */
} ld_import_opts;

typedef struct ld_import_stats {
	uint64_t files;
	uint64_t bytes;      /* uncompressed bytes read */
	uint64_t lines;
	uint64_t stored;     /* records appended to the store */
	uint64_t drops;      /* drop/deny/reject records */
	uint64_t not_drop;   /* valid records of another verdict */
	uint64_t skipped;    /* blank lines, comments, file headers */
	uint64_t rejected;   /* sum of rej[] */
	uint64_t rej[LD_REJ_COUNT_];
	uint64_t by_format[LD_FMT_COUNT_]; /* drops + not_drop per format */
} ld_import_stats;

typedef struct ld_import ld_import;

ld_import *ld_import_new(ld_writer *w, const ld_import_opts *opts, ld_err *err);
/* 0 on success (malformed lines included); -1 when the input cannot be opened or read, or the
 * writer fails (err names the file). */
int ld_import_file(ld_import *im, const char *path, ld_err *err);
void ld_import_stats_get(const ld_import *im, ld_import_stats *out);
/* Path of the current dead-letter file ("" when none was written). */
const char *ld_import_deadletter_path(const ld_import *im);
void ld_import_free(ld_import *im);

#endif
