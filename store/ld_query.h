/* ld_query.h — the query engine: `--where` expressions, their per-block evaluation, and
 * group-by aggregation over ld_scan() blocks.
 *
 * Contract:
 *  - ld_query_parse() turns the text of a `--where` expression into an immutable tree.  Errors name
 *    the 1-based character column: "at column 12: expected a value after '='".
 *  - Grammar (keywords and names are case-insensitive):
 *        expr    := or
 *        or      := and { "or" and }
 *        and     := unary { "and" unary }          (also "&&", "||", "!" as spellings)
 *        unary   := "not" unary | "(" expr ")" | "host" hostcmp | compare
 *        compare := COLUMN op VALUE | COLUMN ["not"] "in" ( "(" VALUE {"," VALUE} ")" | VALUE )
 *        hostcmp := VALUE | ("=" | "!=") VALUE | ["not"] "in" list   (src or dst)
 *        op      := "=" | "==" | "!=" | "<" | ">" | "<=" | ">="
 *    Columns: ts src dst sport dport proto action dir rule reporter vif flags len format.
 *    Addresses (src, dst, host) take IPv4/IPv6 addresses and CIDR prefixes; only =, != and in.
 *    ts takes RFC 3339 times (or relative "-2h", "now"); proto a name or number; action, dir,
 *    format their names (ld_*_from_name); flags TCP flag letters ("flags = S" is exactly SYN);
 *    rule, reporter, vif quoted ("..." or '...') or bare strings, =, != and in only.
 *  - An ld_query_eval is one thread's evaluation state (scratch masks, per-segment dictionary
 *    lookups).  Address and string predicates are resolved once per segment dictionary into a
 *    table indexed by dictionary id, so the per-row work is an array lookup.
 *  - ld_query_pushdown() narrows an ld_scan_spec with what the top-level and-conjuncts imply
 *    (time range, exact hosts, dport, proto, action) so the scan can skip segments and blocks;
 *    the evaluator still checks every row, so push-down only ever prunes.
 */
#ifndef LD_QUERY_H
#define LD_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_log.h"
#include "ld_record.h"
#include "ld_scan.h"

/* Queryable columns, in the order of the contract. */
enum ld_qcol {
	LD_QCOL_TS,
	LD_QCOL_SRC,
	LD_QCOL_DST,
	LD_QCOL_SPORT,
	LD_QCOL_DPORT,
	LD_QCOL_PROTO,
	LD_QCOL_ACTION,
	LD_QCOL_DIR,
	LD_QCOL_RULE,
	LD_QCOL_REPORTER,
	LD_QCOL_VIF,
	LD_QCOL_FLAGS,
	LD_QCOL_LEN,
	LD_QCOL_FORMAT,
	LD_QCOL_COUNT_
};

const char *ld_qcol_name(unsigned col);
/* -1 when unknown (case-insensitive). */
int ld_qcol_from_name(const char *s, size_t len);
/* The ld_scan column bit (enum ld_col) that holds col. */
uint32_t ld_qcol_scan_bit(unsigned col);

/* --- expressions ---------------------------------------------------------------------------- */

typedef struct ld_query_expr ld_query_expr;

/* NULL on a syntax or value error (err says where).  now_ns anchors relative times. */
ld_query_expr *ld_query_parse(const char *text, int64_t now_ns, ld_err *err);
void ld_query_free(ld_query_expr *e);
/* enum ld_col bits the expression reads. */
uint32_t ld_query_columns(const ld_query_expr *e);
/* Fully parenthesized canonical text, e.g. "((dport = 445) and (proto = 6))".  Returns the
 * length it needed (like snprintf). */
size_t ld_query_format(const ld_query_expr *e, char *buf, size_t cap);
/* Narrow spec (only tightens: intersects time ranges, sets hosts/dport/proto/action when unset).
 * Host addresses pointed to by spec->hosts live as long as e. */
void ld_query_pushdown(const ld_query_expr *e, ld_scan_spec *spec);

/* --- per-thread evaluation -------------------------------------------------------------------- */

typedef struct ld_query_eval ld_query_eval;

/* e may be NULL (every row matches).  The time window [from_ns, to_ns) is applied as well
 * (INT64_MIN / INT64_MAX = open).  NULL when out of memory. */
ld_query_eval *ld_query_eval_new(const ld_query_expr *e, int64_t from_ns, int64_t to_ns);
void ld_query_eval_free(ld_query_eval *ev);
/* Writes the indices of matching rows of b to sel (room for b->n) in ascending order; returns
 * how many.  Returns UINT32_MAX when memory ran out. */
uint32_t ld_query_eval_block(ld_query_eval *ev, const ld_block *b, uint32_t *sel);
/* Number of matching rows of b, without building the selection.  UINT32_MAX on failure. */
uint32_t ld_query_eval_count(ld_query_eval *ev, const ld_block *b);
/* True when every row matches (no expression, no window). */
bool ld_query_eval_trivial(const ld_query_eval *ev);

/* --- group-by ----------------------------------------------------------------------------------- */

#define LD_GROUP_MAX_COLS 4

typedef struct ld_group_spec {
	unsigned cols[LD_GROUP_MAX_COLS]; /* enum ld_qcol, not LD_QCOL_TS */
	unsigned n_cols;
	int distinct_col; /* enum ld_qcol counted distinct per group, or -1 */
} ld_group_spec;

/* One column value of a group key, decoded. */
typedef struct ld_group_value {
	ld_addr addr;     /* src, dst */
	uint32_t num;     /* ports, proto, action, dir, flags, len, format */
	const char *str;  /* rule, reporter, vif (owned by the accumulator) */
	uint32_t str_len;
} ld_group_value;

typedef struct ld_group_row {
	ld_group_value key[LD_GROUP_MAX_COLS];
	uint64_t count;
	uint64_t distinct; /* 0 without distinct_col */
} ld_group_row;

typedef struct ld_group_acc ld_group_acc;

/* Checks the spec (err for ts or a duplicate column); NULL on error. */
ld_group_acc *ld_group_acc_new(const ld_group_spec *spec, ld_err *err);
void ld_group_acc_free(ld_group_acc *acc);
/* enum ld_col bits the accumulator reads, given the ones the rest of the query reads (the
 * --where filter): grouping by dport alone asks for the shape view when nothing else needs the
 * dport column (LD_COL_SHAPE_DPORT). */
uint32_t ld_group_columns(const ld_group_spec *spec, uint32_t other_columns);
/* Adds rows sel[0..nsel) of b.  Blocks of one segment should arrive consecutively (ld_scan does
 * this per thread); the accumulator keys per-segment work on the block's dictionaries.
 * -1 on out of memory (err set). */
int ld_group_acc_add(ld_group_acc *acc, const ld_block *b, const uint32_t *sel, uint32_t nsel,
		     ld_err *err);
/* Folds the segment being accumulated into the totals, which merge and result otherwise do
 * themselves: calling it in the scan thread that filled acc (ld_scan_spec.thread_done) takes that
 * work off the serial merge.  -1 on out of memory (err set). */
int ld_group_acc_finish(ld_group_acc *acc, ld_err *err);
/* Moves everything of src into dst (same spec); src is left empty.  -1 on out of memory. */
int ld_group_acc_merge(ld_group_acc *dst, ld_group_acc *src, ld_err *err);
/* Groups sorted by distinct (when counted) then count, descending; ties by key.  top = 0 means
 * all.  *rows is valid until acc is freed.  -1 on out of memory. */
int ld_group_acc_result(ld_group_acc *acc, uint32_t top, const ld_group_row **rows, size_t *n,
			ld_err *err);

/* --- time-ordered record stream ---------------------------------------------------------------- */

/* Matching rows of a data directory in time order (ties: source name, then stored order), read
 * source by source (ld_scan_cursor.h) so memory stays flat whatever the result size: one
 * decoded block per source whose time span covers the current position.  Damaged segments and
 * blocks go to spec->on_damage(damage_ctx, ...) and are skipped. */
typedef struct ld_query_stream ld_query_stream;

typedef struct ld_query_stream_stats {
	uint64_t sources_total, sources_opened, max_open; /* max_open: cursors open at once */
	uint64_t blocks, rows_scanned, journal_rows, rows_out;
	uint64_t unordered_sources; /* sources whose rows went back in time (reported as damage) */
} ld_query_stream_stats;

/* spec gives the window, push-down and columns (LD_COL_TS is added); e may be NULL.  e and
 * spec->hosts must outlive the stream.  NULL on error (err set). */
ld_query_stream *ld_query_stream_open(const char *dir, const ld_query_expr *e, const ld_scan_spec *spec,
				      void *damage_ctx, ld_err *err);
/* 1 with the next row (row `*row` of block `*b`, valid until the next call), 0 at the end,
 * -1 on error (err set).  Stopping early is just not calling it again. */
int ld_query_stream_next(ld_query_stream *s, const ld_block **b, uint32_t *row, ld_err *err);
void ld_query_stream_get_stats(const ld_query_stream *s, ld_query_stream_stats *st);
void ld_query_stream_close(ld_query_stream *s);

#endif
