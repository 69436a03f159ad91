/* cmd_query.c — `logdrop query`: forensic queries over a data directory or a copied archive.
 *
 * Three modes: matching records (sorted by event time), a count, or a group-by with count and
 * count-distinct.  Counts and groups come from one parallel scan with per-thread state
 * (evaluator, selection buffer, accumulator) merged after the scan.  Records are streamed: the
 * store's sources are merged in time order as they are read (ld_query_stream), so memory stays
 * flat and output starts at once whatever the size of the result. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "ld_log.h"
#include "ld_query.h"
#include "ld_record.h"
#include "ld_scan.h"
#include "ld_time.h"

enum out_format { OUT_TABLE, OUT_CSV, OUT_JSON };
static const char *const format_names[] = {"table", "csv", "json", NULL};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: logdrop query --data DIR [--from T] [--to T] [--where EXPR]\n"
		"                     [--count | --group-by COLS [--distinct COL] [--top N]]\n"
		"                     [--format table|csv|json] [--raw] [--limit N] [--threads N]\n"
		"                     [--verify-all]\n"
		"\n"
		"Forensic query over the store in DIR, or over a copy of it (nothing is written).\n"
		"Without --from/--to the whole store is searched.  Records print sorted by time\n"
		"(ties: segment name, then stored order) as they are read, in constant memory.\n"
		"\n"
		"  --data DIR         data directory (or a copied archive)\n"
		"  --from T, --to T   time window [from, to): RFC 3339 or relative (-2h, now)\n"
		"  --where EXPR       filter, see below\n"
		"  --count            print only the number of matching records\n"
		"  --group-by COLS    comma-separated columns to group by (up to 4); prints count per group\n"
		"  --distinct COL     with --group-by: also count distinct COL per group and rank by it\n"
		"                     (e.g. --group-by src --distinct dst --top 20: sources by peers)\n"
		"  --top N            with --group-by: only the N largest groups\n"
		"  --format F         table (default), csv (with a header) or json (JSON Lines);\n"
		"                     table columns are sized to the first 1000 records\n"
		"  --raw              include the original log line when the store kept it\n"
		"                     (table: print the raw lines themselves)\n"
		"  --limit N          print at most the first N records (by time); reading stops there\n"
		"  --threads N        scan threads for --count and --group-by (default: all CPUs)\n"
		"  --verify-all       also check the checksums of the columns the query does not\n"
		"                     read, and report damage there (reads the whole store)\n"
		"\n"
		"EXPR: comparisons joined with and, or, not and parentheses, e.g.\n"
		"  dport = 445 and proto = tcp\n"
		"  src in 10.64.3.0/24 and not dport in (137, 5355)\n"
		"  host 10.64.3.7 and ts >= 2026-11-02T08:00:00Z\n"
		"  reporter = \"esx-01\" and action in (drop, reject) and flags = S\n"
		"Columns: ts src dst sport dport proto action dir rule reporter vif flags len format.\n"
		"Operators: = != < > <= >= (ordered ones on ts, ports, proto, len), in (a, b, ...),\n"
		"not in, CIDR prefixes for addresses (IPv4 and IPv6), host X = src X or dst X.\n"
		"Values: addresses, numbers, names (tcp/udp/icmp, drop/reject/deny/allow, in/out,\n"
		"format names), quoted strings, RFC 3339 times, TCP flag letters (S A F R P U E W).\n"
		"\n"
		"Damaged segments are reported on stderr and skipped; the rest is still searched.\n"
		"The columns a query reads are always checked; archive verify checks everything.\n"
		"Exit status: 0 success, 1 runtime failure (or nothing readable), 2 usage error.\n");
}

/* --- scan state (count, group-by) -------------------------------------------------------------- */

typedef struct tstate {
	ld_query_eval *ev;
	uint32_t *sel;
	uint32_t sel_cap;
	uint64_t count;
	ld_group_acc *acc;
	bool failed;
	ld_err err;
	char pad[64];
} tstate;

typedef struct qctx {
	enum { MODE_RECORDS, MODE_COUNT, MODE_GROUP } mode;
	tstate *ts;
	int n_threads;
	bool want_raw;
	uint64_t limit; /* 0 = none */
	uint64_t damaged;
} qctx;

/* Late materialization for group-by: a block whose --where columns match no row is not decoded
 * any further.  A failure (UINT32_MAX) lets the block through so on_block reports it. */
static bool where_prefilter(void *ctx, int thread, const ld_block *b)
{
	qctx *q = ctx;
	return ld_query_eval_count(q->ts[thread].ev, b) != 0;
}

static int on_block(void *ctx, int thread, const ld_block *b)
{
	qctx *q = ctx;
	tstate *t = &q->ts[thread];
	if (t->failed)
		return 1;
	if (q->mode == MODE_COUNT) {
		uint32_t c = ld_query_eval_count(t->ev, b);
		if (c == UINT32_MAX) {
			t->failed = true;
			ld_err_set(&t->err, "cannot evaluate --where on block %u of %s", b->block_index,
				   b->segment ? b->segment : "?");
			return 1;
		}
		t->count += c;
		return 0;
	}
	if (b->n > t->sel_cap) {
		uint32_t *s = realloc(t->sel, b->n * sizeof *s);
		if (!s) {
			t->failed = true;
			ld_err_set(&t->err, "out of memory");
			return 1;
		}
		t->sel = s;
		t->sel_cap = b->n;
	}
	uint32_t k = ld_query_eval_block(t->ev, b, t->sel);
	if (k == UINT32_MAX) {
		t->failed = true;
		ld_err_set(&t->err, "cannot evaluate --where on block %u of %s", b->block_index,
			   b->segment ? b->segment : "?");
		return 1;
	}
	switch (q->mode) {
	case MODE_COUNT: /* handled above */
		break;
	case MODE_GROUP:
		if (ld_group_acc_add(t->acc, b, t->sel, k, &t->err) != 0) {
			t->failed = true;
			return 1;
		}
		break;
	case MODE_RECORDS: /* streamed, see print_records */
		break;
	}
	return 0;
}

static int on_thread_done(void *ctx, int thread)
{
	qctx *q = ctx;
	tstate *t = &q->ts[thread];
	if (q->mode == MODE_GROUP && ld_group_acc_finish(t->acc, &t->err) != 0) {
		t->failed = true;
		return 1;
	}
	return 0;
}

static void on_damage(void *ctx, const char *segment, const char *why)
{
	qctx *q = ctx;
	q->damaged++;
	ld_log_warn("query: damaged segment %s: %s (its remaining rows are left out)", segment, why);
}

/* --- output helpers ---------------------------------------------------------------------------- */

/* Decimal text of v into buf (>= 11 bytes), NUL-terminated; printf is the slow part of
 * printing millions of records. */
static void utoa(uint32_t v, char *buf)
{
	char tmp[10];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = 0;
}

static void put_csv(FILE *f, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = true;
	if (!quote) {
		fwrite_unlocked(s, 1, n, f);
		return;
	}
	fputc_unlocked('"', f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc_unlocked('"', f);
		fputc_unlocked(s[i], f);
	}
	fputc_unlocked('"', f);
}

static void put_json_str(FILE *f, const char *s, size_t n)
{
	fputc_unlocked('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs_unlocked("\\n", f);
		else if (c == '\r')
			fputs_unlocked("\\r", f);
		else if (c == '\t')
			fputs_unlocked("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if (c < 0x80)
			fputc_unlocked(c, f);
		else {
			/* Pass valid UTF-8 through; escape stray bytes as U+FFFD so the line stays
			 * valid JSON. */
			size_t need = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
			if (c >= 0xf5)
				need = 0;
			bool ok = need > 0;
			for (size_t k = 1; ok && k <= need; k++)
				if (i + k >= n || ((unsigned char)s[i + k] & 0xc0) != 0x80)
					ok = false;
			if (ok) {
				fwrite_unlocked(s + i, 1, need + 1, f);
				i += need;
			} else {
				fputs_unlocked("\\ufffd", f);
			}
		}
	}
	fputc_unlocked('"', f);
}

/* The same two encodings into a line buffer (room checked by the caller: at most 2n + 2 bytes
 * for CSV, 6n + 2 for JSON); record lines are built whole and written with one call. */
static char *buf_csv(char *o, const char *s, size_t n)
{
	bool quote = false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r')
			quote = true;
	if (!quote) {
		memcpy(o, s, n);
		return o + n;
	}
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			*o++ = '"';
		*o++ = s[i];
	}
	*o++ = '"';
	return o;
}

static char *buf_json_str(char *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			*o++ = (char)c;
		} else if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			o += 6;
		} else {
			/* valid UTF-8 passes through, stray bytes become U+FFFD (as put_json_str) */
			size_t need = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;
			if (c >= 0xf5)
				need = 0;
			bool ok = need > 0;
			for (size_t k = 1; ok && k <= need; k++)
				if (i + k >= n || ((unsigned char)s[i + k] & 0xc0) != 0x80)
					ok = false;
			if (ok) {
				memcpy(o, s + i, need + 1);
				o += need + 1;
				i += need;
			} else {
				memcpy(o, "\\ufffd", 6);
				o += 6;
			}
		}
	}
	*o++ = '"';
	return o;
}

static const char *proto_text(unsigned p, char *buf)
{
	const char *n = ld_proto_name(p);
	if (n)
		return n;
	snprintf(buf, 8, "%u", p);
	return buf;
}

/* Text of one column value (not strings). */
static const char *value_text(unsigned col, const ld_group_value *v, char *buf, size_t cap)
{
	switch (col) {
	case LD_QCOL_SRC:
	case LD_QCOL_DST: ld_addr_format(&v->addr, buf); return buf;
	case LD_QCOL_PROTO: return proto_text(v->num, buf);
	case LD_QCOL_ACTION: return ld_action_name(v->num);
	case LD_QCOL_DIR: return ld_dir_name(v->num);
	case LD_QCOL_FORMAT: return ld_format_name(v->num);
	case LD_QCOL_FLAGS: {
		size_t n = ld_tcp_flags_format((uint8_t)v->num, buf);
		buf[n] = 0;
		return buf;
	}
	default: snprintf(buf, cap, "%u", v->num); return buf;
	}
}

static bool col_is_string(unsigned c)
{
	return c == LD_QCOL_RULE || c == LD_QCOL_REPORTER || c == LD_QCOL_VIF;
}

static bool col_is_number(unsigned c)
{
	return c == LD_QCOL_SPORT || c == LD_QCOL_DPORT || c == LD_QCOL_LEN;
}

/* --- group output ------------------------------------------------------------------------------ */

static void print_groups(FILE *f, enum out_format fmt, const ld_group_spec *sp, const ld_group_row *rows, size_t n)
{
	char dname[32] = "";
	if (sp->distinct_col >= 0)
		snprintf(dname, sizeof dname, "distinct_%s", ld_qcol_name((unsigned)sp->distinct_col));
	/* column widths for the table */
	size_t w[LD_GROUP_MAX_COLS] = {0};
	char buf[LD_ADDR_STRLEN + 16];
	for (unsigned c = 0; c < sp->n_cols; c++) {
		w[c] = strlen(ld_qcol_name(sp->cols[c]));
		for (size_t r = 0; r < n; r++) {
			size_t l = col_is_string(sp->cols[c]) ? rows[r].key[c].str_len :
								strlen(value_text(sp->cols[c], &rows[r].key[c], buf, sizeof buf));
			if (l > w[c])
				w[c] = l;
		}
		if (w[c] > 64)
			w[c] = 64;
	}
	if (fmt != OUT_JSON) {
		for (unsigned c = 0; c < sp->n_cols; c++)
			fprintf(f, "%-*s%s", fmt == OUT_CSV ? 0 : (int)w[c], ld_qcol_name(sp->cols[c]),
				fmt == OUT_CSV ? "," : "  ");
		if (fmt == OUT_CSV)
			fprintf(f, "count%s%s\n", dname[0] ? "," : "", dname);
		else
			fprintf(f, "%12s%s%14s\n", "count", dname[0] ? "  " : "", dname);
	}
	for (size_t r = 0; r < n; r++) {
		const ld_group_row *row = &rows[r];
		if (fmt == OUT_JSON)
			fputc_unlocked('{', f);
		for (unsigned c = 0; c < sp->n_cols; c++) {
			unsigned col = sp->cols[c];
			const char *s;
			size_t sl;
			if (col_is_string(col)) {
				s = row->key[c].str;
				sl = row->key[c].str_len;
			} else {
				s = value_text(col, &row->key[c], buf, sizeof buf);
				sl = strlen(s);
			}
			if (fmt == OUT_JSON) {
				fprintf(f, "%s\"%s\":", c ? "," : "", ld_qcol_name(col));
				if (col_is_number(col))
					fwrite_unlocked(s, 1, sl, f);
				else
					put_json_str(f, s, sl);
			} else if (fmt == OUT_CSV) {
				put_csv(f, s, sl);
				fputc_unlocked(',', f);
			} else if (sl == 0) {
				fprintf(f, "%-*s  ", (int)w[c], "-"); /* empty value (no flags, no rule...) */
			} else {
				fprintf(f, "%-*.*s  ", (int)w[c], (int)sl, s);
			}
		}
		if (fmt == OUT_JSON) {
			fprintf(f, ",\"count\":%" PRIu64, row->count);
			if (dname[0])
				fprintf(f, ",\"%s\":%" PRIu64, dname, row->distinct);
			fputs_unlocked("}\n", f);
		} else if (fmt == OUT_CSV) {
			fprintf(f, "%" PRIu64, row->count);
			if (dname[0])
				fprintf(f, ",%" PRIu64, row->distinct);
			fputc_unlocked('\n', f);
		} else {
			fprintf(f, "%12" PRIu64, row->count);
			if (dname[0])
				fprintf(f, "  %14" PRIu64, row->distinct);
			fputc_unlocked('\n', f);
		}
	}
}

/* --- record output ----------------------------------------------------------------------------- */

/* Records are printed as the time-ordered stream hands them out (ld_query_stream), so memory
 * does not grow with the result and output starts at once.  The table format sizes its columns
 * from the first TABLE_PROBE records (all of them for smaller results). */
#define TABLE_PROBE 1000
#define TABLE_MAXW 40

typedef struct rec_text {
	char ts[LD_TIME_STRLEN], src[LD_ADDR_STRLEN], dst[LD_ADDR_STRLEN];
	char sport[8], dport[8], proto[16], flags[12], len[12];
	const char *action, *dir, *format;
	ld_str rule, reporter, vif, raw;
} rec_text;

static ld_str block_str(const ld_block *b, const uint32_t *ids, uint32_t i)
{
	ld_str s = {"", 0};
	if (ids && ids[i] < b->n_strs && b->strs[ids[i]].len)
		s = b->strs[ids[i]];
	return s;
}

/* Formatted addresses, direct-mapped by address value: a few thousand desktops fill most rows,
 * and formatting an address is the costliest part of a record. */
#define ADDR_CACHE 4096
typedef struct addr_slot {
	ld_addr a;
	bool used;
	char txt[LD_ADDR_STRLEN];
} addr_slot;

static void addr_text(addr_slot *cache, const ld_addr *a, char *out)
{
	if (!cache) {
		ld_addr_format(a, out);
		return;
	}
	uint64_t x, y;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	uint64_t h = (x ^ (y * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	addr_slot *sl = &cache[h >> 52 & (ADDR_CACHE - 1)];
	if (!sl->used || memcmp(sl->a.b, a->b, 16) != 0) {
		sl->a = *a;
		sl->used = true;
		ld_addr_format(a, sl->txt);
	}
	memcpy(out, sl->txt, LD_ADDR_STRLEN);
}

static void rec_to_text(const ld_block *b, uint32_t i, bool want_raw, addr_slot *cache, rec_text *t)
{
	static const ld_addr zero;
	ld_time_format_ms(b->ts[i], t->ts);
	addr_text(cache, b->src[i] < b->n_addrs ? &b->addrs[b->src[i]] : &zero, t->src);
	addr_text(cache, b->dst[i] < b->n_addrs ? &b->addrs[b->dst[i]] : &zero, t->dst);
	uint8_t present = b->present ? b->present[i] : 0;
	uint16_t sport = b->sport[i], dport = b->dport[i];
	uint8_t proto = b->proto[i], flags = b->tcp_flags[i];
	uint32_t len = b->len[i];
	/* A value counts as given when its presence bit says so, or when it is non-zero (sources
	 * that never set the bit still show their ports). */
	bool ports = (present & LD_RF_PORTS) || sport || dport;
	t->sport[0] = t->dport[0] = 0;
	if (ports) {
		utoa(sport, t->sport);
		utoa(dport, t->dport);
	}
	const char *pn = ld_proto_name(proto);
	if (pn && strlen(pn) < sizeof t->proto)
		memcpy(t->proto, pn, strlen(pn) + 1);
	else
		utoa(proto, t->proto);
	size_t fl = 0;
	if ((present & LD_RF_TCPFLAGS) || flags)
		fl = ld_tcp_flags_format(flags, t->flags);
	t->flags[fl] = 0;
	t->len[0] = 0;
	if ((present & LD_RF_LEN) || len)
		utoa(len, t->len);
	t->action = ld_action_name(b->action[i]);
	t->dir = ld_dir_name(b->dir[i]);
	t->format = ld_format_name(b->format[i]);
	t->rule = block_str(b, b->rule, i);
	t->reporter = block_str(b, b->reporter, i);
	t->vif = block_str(b, b->vif, i);
	t->raw = (ld_str){"", 0};
	if (want_raw && b->raw && b->raw[i].len)
		t->raw = b->raw[i];
}

static const char *const rec_cols[] = {"ts", "src", "dst", "sport", "dport", "proto", "action", "dir",
				       "rule", "reporter", "vif", "flags", "len", "format"};
#define N_REC_COLS (sizeof rec_cols / sizeof rec_cols[0])

static void rec_fields(const rec_text *t, const char *v[N_REC_COLS], size_t l[N_REC_COLS])
{
	const char *vals[N_REC_COLS] = {t->ts, t->src, t->dst, t->sport, t->dport, t->proto, t->action, t->dir,
					t->rule.ptr, t->reporter.ptr, t->vif.ptr, t->flags, t->len, t->format};
	for (size_t i = 0; i < N_REC_COLS; i++) {
		v[i] = vals[i] ? vals[i] : "";
		/* rule, reporter, vif point into the store's dictionaries: not NUL-terminated */
		l[i] = i == 8 ? t->rule.len : i == 9 ? t->reporter.len : i == 10 ? t->vif.len : strlen(v[i]);
	}
}

/* A table row kept until the column widths are known: strings cut to what the table shows. */
typedef struct probe_row {
	rec_text t;
	char str[3][TABLE_MAXW];
} probe_row;

typedef struct printer {
	FILE *f;
	enum out_format fmt;
	bool want_raw;
	bool started; /* header (if any) printed */
	bool failed;  /* out of memory for a line */
	probe_row *probe;
	size_t n_probe;
	size_t w[N_REC_COLS];
	addr_slot *cache; /* NULL: format every address */
	char *line;
	size_t line_cap;
} printer;

static void print_row(printer *p, const rec_text *t)
{
	FILE *f = p->f;
	const char *v[N_REC_COLS];
	size_t l[N_REC_COLS];
	rec_fields(t, v, l);
	if (p->fmt == OUT_TABLE && p->want_raw && t->raw.len) {
		fwrite_unlocked(t->raw.ptr, 1, t->raw.len, f);
		if (t->raw.ptr[t->raw.len - 1] != '\n')
			fputc_unlocked('\n', f);
		return;
	}
	switch (p->fmt) {
	case OUT_TABLE:
		for (size_t c = 0; c < N_REC_COLS; c++) {
			const char *s = l[c] ? v[c] : "-";
			int sl = l[c] ? (int)(l[c] > TABLE_MAXW ? TABLE_MAXW : l[c]) : 1;
			if (p->want_raw) /* no raw line kept: compact row */
				fprintf(f, "%.*s%s", sl, s, c + 1 < N_REC_COLS ? " " : "\n");
			else if (c + 1 < N_REC_COLS)
				fprintf(f, "%-*.*s  ", (int)p->w[c], sl, s);
			else
				fprintf(f, "%.*s\n", sl, s);
		}
		break;
	case OUT_CSV:
	case OUT_JSON: {
		/* worst case: every byte escaped as \u00XX, plus names and punctuation */
		size_t need = 512 + 6 * (size_t)t->raw.len;
		for (size_t c = 0; c < N_REC_COLS; c++)
			need += 6 * l[c];
		if (need > p->line_cap) {
			char *nl = realloc(p->line, need);
			if (!nl) {
				p->failed = true;
				return;
			}
			p->line = nl;
			p->line_cap = need;
		}
		char *o = p->line;
		if (p->fmt == OUT_CSV) {
			for (size_t c = 0; c < N_REC_COLS; c++) {
				o = buf_csv(o, v[c], l[c]);
				*o++ = ',';
			}
			o--;
			if (p->want_raw) {
				*o++ = ',';
				o = buf_csv(o, t->raw.ptr ? t->raw.ptr : "", t->raw.len);
			}
			*o++ = '\n';
		} else {
			*o++ = '{';
			for (size_t c = 0; c < N_REC_COLS; c++) {
				size_t kl = strlen(rec_cols[c]);
				if (c)
					*o++ = ',';
				*o++ = '"';
				memcpy(o, rec_cols[c], kl);
				o += kl;
				*o++ = '"';
				*o++ = ':';
				bool num = c == 3 || c == 4 || c == 12;
				if (num && l[c]) {
					memcpy(o, v[c], l[c]);
					o += l[c];
				} else if (num) {
					memcpy(o, "null", 4);
					o += 4;
				} else {
					o = buf_json_str(o, v[c], l[c]);
				}
			}
			if (p->want_raw) {
				memcpy(o, ",\"raw\":", 7);
				o += 7;
				if (t->raw.len) {
					o = buf_json_str(o, t->raw.ptr, t->raw.len);
				} else {
					memcpy(o, "null", 4);
					o += 4;
				}
			}
			*o++ = '}';
			*o++ = '\n';
		}
		fwrite_unlocked(p->line, 1, (size_t)(o - p->line), f);
		break;
	}
	}
}

static bool table_probing(const printer *p)
{
	return p->fmt == OUT_TABLE && !p->want_raw && !p->started;
}

/* Header (CSV, table), then for the table the rows held back for the widths. */
static void print_start(printer *p)
{
	FILE *f = p->f;
	p->started = true;
	if (p->fmt == OUT_CSV) {
		for (size_t c = 0; c < N_REC_COLS; c++)
			fprintf(f, "%s%s", rec_cols[c], c + 1 < N_REC_COLS ? "," : "");
		fputs_unlocked(p->want_raw ? ",raw\n" : "\n", f);
		return;
	}
	if (p->fmt != OUT_TABLE || p->want_raw)
		return;
	for (size_t c = 0; c < N_REC_COLS; c++)
		p->w[c] = strlen(rec_cols[c]);
	for (size_t r = 0; r < p->n_probe; r++) {
		const char *v[N_REC_COLS];
		size_t l[N_REC_COLS];
		rec_fields(&p->probe[r].t, v, l);
		for (size_t c = 0; c < N_REC_COLS; c++)
			if (l[c] > p->w[c])
				p->w[c] = l[c] > TABLE_MAXW ? TABLE_MAXW : l[c];
	}
	for (size_t c = 0; c < N_REC_COLS; c++)
		fprintf(f, "%-*s%s", c + 1 < N_REC_COLS ? (int)p->w[c] : 0, rec_cols[c], c + 1 < N_REC_COLS ? "  " : "\n");
	for (size_t r = 0; r < p->n_probe; r++)
		print_row(p, &p->probe[r].t);
	p->n_probe = 0;
}

static void keep_str(ld_str *s, char *buf)
{
	size_t n = s->len > TABLE_MAXW ? TABLE_MAXW : s->len;
	memcpy(buf, s->ptr, n);
	s->ptr = buf;
	s->len = (uint32_t)n;
}

static void print_record(printer *p, const ld_block *b, uint32_t i)
{
	if (table_probing(p)) {
		probe_row *r = &p->probe[p->n_probe++];
		rec_to_text(b, i, false, p->cache, &r->t);
		keep_str(&r->t.rule, r->str[0]);
		keep_str(&r->t.reporter, r->str[1]);
		keep_str(&r->t.vif, r->str[2]);
		if (p->n_probe == TABLE_PROBE)
			print_start(p);
		return;
	}
	if (!p->started)
		print_start(p);
	rec_text t;
	rec_to_text(b, i, p->want_raw, p->cache, &t);
	print_row(p, &t);
}

/* Streams the matching records in time order; stops after q->limit.  Damage is reported as it
 * is met; when nothing at all could be read the header is not printed either. */
static int print_records(qctx *q, const char *data, const ld_query_expr *expr, const ld_scan_spec *spec,
			 enum out_format fmt)
{
	ld_err err;
	printer p = {.f = stdout, .fmt = fmt, .want_raw = q->want_raw};
	p.cache = calloc(ADDR_CACHE, sizeof *p.cache); /* optional: without it, slower */
	if (fmt == OUT_TABLE && !q->want_raw) {
		p.probe = malloc(TABLE_PROBE * sizeof *p.probe);
		if (!p.probe) {
			free(p.cache);
			return cli_runtime_error("query", "out of memory");
		}
	}
	ld_query_stream *s = ld_query_stream_open(data, expr, spec, q, &err);
	if (!s) {
		free(p.probe);
		free(p.cache);
		return cli_runtime_error("query", "%s", err.msg);
	}
	int rc = LD_EXIT_OK;
	uint64_t left = q->limit ? q->limit : UINT64_MAX;
	const ld_block *b;
	uint32_t row;
	int r = 0;
	while (left > 0 && !p.failed && (r = ld_query_stream_next(s, &b, &row, &err)) > 0) {
		print_record(&p, b, row);
		left--;
	}
	ld_query_stream_stats st;
	ld_query_stream_get_stats(s, &st);
	if (r < 0)
		rc = cli_runtime_error("query", "%s", err.msg);
	else if (p.failed)
		rc = cli_runtime_error("query", "out of memory formatting a record");
	else if (q->damaged && st.rows_scanned == 0)
		rc = cli_runtime_error("query", "no segment of %s could be read", data);
	else if (!p.started)
		print_start(&p);
	ld_query_stream_close(s);
	free(p.probe);
	free(p.cache);
	free(p.line);
	return rc;
}

/* --- arguments --------------------------------------------------------------------------------- */

static bool parse_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!s[0] || s[0] == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v > max)
		return false;
	*out = v;
	return true;
}

static int parse_group_cols(const char *s, ld_group_spec *sp)
{
	sp->n_cols = 0;
	const char *p = s;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && p[0] == ' ') {
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		int c = ld_qcol_from_name(p, n);
		if (c < 0)
			return cli_usage_error("query", "--group-by: unknown column '%.*s'", (int)n, p);
		if (c == LD_QCOL_TS)
			return cli_usage_error("query", "--group-by: cannot group by ts");
		if (sp->n_cols == LD_GROUP_MAX_COLS)
			return cli_usage_error("query", "--group-by: at most %d columns", LD_GROUP_MAX_COLS);
		for (unsigned k = 0; k < sp->n_cols; k++)
			if (sp->cols[k] == (unsigned)c)
				return cli_usage_error("query", "--group-by: column '%.*s' given twice", (int)n, p);
		sp->cols[sp->n_cols++] = (unsigned)c;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

int cmd_query(int argc, char **argv)
{
	enum { O_DATA = 1, O_FROM, O_TO, O_WHERE, O_COUNT, O_GROUP, O_DISTINCT, O_TOP, O_FORMAT, O_RAW,
	       O_LIMIT, O_THREADS, O_VERIFY_ALL, O_HELP };
	static const struct option opts[] = {
		{"data", required_argument, NULL, O_DATA},       {"from", required_argument, NULL, O_FROM},
		{"to", required_argument, NULL, O_TO},           {"where", required_argument, NULL, O_WHERE},
		{"count", no_argument, NULL, O_COUNT},           {"group-by", required_argument, NULL, O_GROUP},
		{"distinct", required_argument, NULL, O_DISTINCT}, {"top", required_argument, NULL, O_TOP},
		{"format", required_argument, NULL, O_FORMAT},   {"raw", no_argument, NULL, O_RAW},
		{"limit", required_argument, NULL, O_LIMIT},     {"threads", required_argument, NULL, O_THREADS},
		{"verify-all", no_argument, NULL, O_VERIFY_ALL}, {"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *where = NULL, *group = NULL, *distinct = NULL;
	int64_t from = INT64_MIN, to = INT64_MAX;
	bool count = false, raw = false, have_top = false, verify_all = false;
	uint64_t top = 0, limit = 0, threads = 0;
	enum out_format fmt = OUT_TABLE;
	optind = 1;
	opterr = 0;
	int o;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (o) {
		case O_DATA: data = optarg; break;
		case O_FROM:
			if (!cli_parse_time(optarg, &from))
				return cli_usage_error("query", "--from: '%s' is not a time (RFC 3339 or -2h, now)", optarg);
			break;
		case O_TO:
			if (!cli_parse_time(optarg, &to))
				return cli_usage_error("query", "--to: '%s' is not a time (RFC 3339 or -2h, now)", optarg);
			break;
		case O_WHERE: where = optarg; break;
		case O_COUNT: count = true; break;
		case O_GROUP: group = optarg; break;
		case O_DISTINCT: distinct = optarg; break;
		case O_TOP:
			if (!parse_count(optarg, UINT32_MAX, &top) || top == 0)
				return cli_usage_error("query", "--top: '%s' is not a positive number", optarg);
			have_top = true;
			break;
		case O_FORMAT: {
			int f = cli_pick(optarg, format_names);
			if (f < 0)
				return cli_usage_error("query", "--format: '%s' is not table, csv or json", optarg);
			fmt = (enum out_format)f;
			break;
		}
		case O_RAW: raw = true; break;
		case O_VERIFY_ALL: verify_all = true; break;
		case O_LIMIT:
			if (!parse_count(optarg, UINT64_MAX / 4, &limit) || limit == 0)
				return cli_usage_error("query", "--limit: '%s' is not a positive number", optarg);
			break;
		case O_THREADS:
			if (!parse_count(optarg, 256, &threads) || threads == 0)
				return cli_usage_error("query", "--threads: '%s' is not a number from 1 to 256", optarg);
			break;
		case 'h':
		case O_HELP: usage(stdout); return LD_EXIT_OK;
		case ':': return cli_usage_error("query", "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error("query", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("query", "unexpected argument '%s'", argv[optind]);
	if (!data)
		return cli_usage_error("query", "--data DIR is required");
	if (from >= to)
		return cli_usage_error("query", "--from must be earlier than --to");
	if (count && group)
		return cli_usage_error("query", "--count and --group-by cannot be combined");
	if ((have_top || distinct) && !group)
		return cli_usage_error("query", "%s needs --group-by", have_top ? "--top" : "--distinct");
	if (raw && (count || group))
		return cli_usage_error("query", "--raw applies to record output only");
	if (limit && (count || group))
		return cli_usage_error("query", "--limit applies to record output (use --top with --group-by)");

	ld_group_spec gspec = {.n_cols = 0, .distinct_col = -1};
	if (group) {
		int r = parse_group_cols(group, &gspec);
		if (r)
			return r;
		if (distinct) {
			int c = ld_qcol_from_name(distinct, strlen(distinct));
			if (c < 0 || c == LD_QCOL_TS)
				return cli_usage_error("query", "--distinct: '%s' is not a column that can be counted", distinct);
			gspec.distinct_col = c;
		}
	}

	ld_err err;
	ld_query_expr *expr = NULL;
	if (where) {
		expr = ld_query_parse(where, ld_now_ns(), &err);
		if (!expr)
			return cli_usage_error("query", "--where: %s", err.msg);
	}

	qctx q = {.mode = count ? MODE_COUNT : group ? MODE_GROUP : MODE_RECORDS, .want_raw = raw, .limit = limit};
	q.n_threads = threads ? (int)threads : online_cpus();

	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.from_ns = from;
	spec.to_ns = to;
	ld_query_pushdown(expr, &spec);
	spec.threads = q.n_threads;
	spec.on_damage = on_damage;
	spec.thread_done = on_thread_done;
	spec.verify_all = verify_all;
	uint32_t cols = ld_query_columns(expr);
	if (from != INT64_MIN || to != INT64_MAX)
		cols |= LD_COL_TS;
	if (q.mode == MODE_GROUP) {
		if (expr) {
			spec.prefilter = where_prefilter;
			spec.prefilter_columns = ld_query_columns(expr) | (cols & LD_COL_TS);
		}
		cols |= ld_group_columns(&gspec, cols);
	}
	if (q.mode == MODE_RECORDS)
		cols |= (LD_COL_ALL & ~LD_COL_RAW) | (raw ? LD_COL_RAW : 0);
	spec.columns = cols;

	int rc = LD_EXIT_OK;
	ld_archive *a = NULL;
	if (q.mode == MODE_RECORDS) {
		rc = print_records(&q, data, expr, &spec, fmt);
		if (rc == LD_EXIT_OK && (fflush(stdout) != 0 || ferror(stdout)))
			rc = cli_runtime_error("query", "cannot write the output");
		goto out;
	}
	q.ts = calloc((size_t)q.n_threads, sizeof *q.ts);
	if (!q.ts) {
		rc = cli_runtime_error("query", "out of memory");
		goto out;
	}
	for (int t = 0; t < q.n_threads; t++) {
		q.ts[t].ev = ld_query_eval_new(expr, from, to);
		if (!q.ts[t].ev) {
			rc = cli_runtime_error("query", "out of memory");
			goto out;
		}
		if (q.mode == MODE_GROUP) {
			q.ts[t].acc = ld_group_acc_new(&gspec, &err);
			if (!q.ts[t].acc) {
				rc = cli_usage_error("query", "--group-by: %s", err.msg);
				goto out;
			}
		}
	}

	a = ld_archive_open(data, &err);
	if (!a) {
		rc = cli_runtime_error("query", "%s", err.msg);
		goto out;
	}
	ld_scan_stats stats;
	memset(&stats, 0, sizeof stats);
	int sr = ld_scan(a, &spec, on_block, &q, &stats, &err);
	for (int t = 0; t < q.n_threads; t++)
		if (q.ts[t].failed) {
			rc = cli_runtime_error("query", "%s", q.ts[t].err.msg);
			goto out;
		}
	if (sr < 0) {
		rc = cli_runtime_error("query", "%s", err.msg);
		goto out;
	}
	if (q.damaged && stats.rows_scanned == 0 && stats.journal_rows == 0) {
		rc = cli_runtime_error("query", "no segment of %s could be read", data);
		goto out;
	}

	switch (q.mode) {
	case MODE_COUNT: {
		uint64_t total = 0;
		for (int t = 0; t < q.n_threads; t++)
			total += q.ts[t].count;
		if (fmt == OUT_JSON)
			printf("{\"count\":%" PRIu64 "}\n", total);
		else if (fmt == OUT_CSV)
			printf("count\n%" PRIu64 "\n", total);
		else
			printf("%" PRIu64 "\n", total);
		break;
	}
	case MODE_GROUP: {
		for (int t = 1; t < q.n_threads; t++)
			if (ld_group_acc_merge(q.ts[0].acc, q.ts[t].acc, &err) != 0) {
				rc = cli_runtime_error("query", "%s", err.msg);
				goto out;
			}
		const ld_group_row *rows;
		size_t n;
		if (ld_group_acc_result(q.ts[0].acc, (uint32_t)top, &rows, &n, &err) != 0) {
			rc = cli_runtime_error("query", "%s", err.msg);
			goto out;
		}
		print_groups(stdout, fmt, &gspec, rows, n);
		break;
	}
	case MODE_RECORDS: /* printed above */
		break;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = cli_runtime_error("query", "cannot write the output");
out:
	if (q.ts)
		for (int t = 0; t < q.n_threads; t++) {
			ld_query_eval_free(q.ts[t].ev);
			ld_group_acc_free(q.ts[t].acc);
			free(q.ts[t].sel);
		}
	free(q.ts);
	ld_archive_close(a);
	ld_query_free(expr);
	return rc;
}
