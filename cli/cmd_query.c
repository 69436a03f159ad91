/* cmd_query.c — `logdrop query`: forensic queries over a data directory or a copied archive.
 *
 * Three modes over one parallel scan: matching records (sorted by event time), a count, or a
 * group-by with count and count-distinct.  The scan runs on every CPU with per-thread state
 * (evaluator, selection buffer, accumulator or record buffer) merged after the scan. */
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
		"\n"
		"Forensic query over the store in DIR, or over a copy of it (nothing is written).\n"
		"Without --from/--to the whole store is searched.  Records print sorted by time.\n"
		"\n"
		"  --data DIR         data directory (or a copied archive)\n"
		"  --from T, --to T   time window [from, to): RFC 3339 or relative (-2h, now)\n"
		"  --where EXPR       filter, see below\n"
		"  --count            print only the number of matching records\n"
		"  --group-by COLS    comma-separated columns to group by (up to 4); prints count per group\n"
		"  --distinct COL     with --group-by: also count distinct COL per group and rank by it\n"
		"                     (e.g. --group-by src --distinct dst --top 20: sources by peers)\n"
		"  --top N            with --group-by: only the N largest groups\n"
		"  --format F         table (default), csv (with a header) or json (JSON Lines)\n"
		"  --raw              include the original log line when the store kept it\n"
		"                     (table: print the raw lines themselves)\n"
		"  --limit N          print at most the first N records (by time)\n"
		"  --threads N        scan threads (default: all CPUs)\n"
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
		"Exit status: 0 success, 1 runtime failure (or nothing readable), 2 usage error.\n");
}

/* --- collected records ------------------------------------------------------------------------- */

typedef struct out_rec {
	int64_t ts;
	ld_addr src, dst;
	uint16_t sport, dport;
	uint32_t len;
	uint8_t proto, action, dir, flags, format, present;
	uint32_t thread;
	uint64_t rule, reporter, vif, raw; /* string handles, see str_put */
} out_rec;

typedef struct run {
	int thread;
	size_t begin, end, pos;
	uint64_t seg_order; /* segment order for ties: index in a sorted list of names */
	char *seg;
} run;

typedef struct tstate {
	ld_query_eval *ev;
	uint32_t *sel;
	uint32_t sel_cap;
	uint64_t count;
	ld_group_acc *acc;
	out_rec *recs;
	size_t n_recs, cap_recs;
	/* Records arrive as runs already in time order (a segment's rows, block after block);
	 * a run ends when the segment changes or time goes backwards.  Output merges the runs. */
	struct run *runs;
	size_t n_runs, cap_runs;
	char seg[256];
	int64_t last_ts;
	char *arena;
	size_t arena_len, arena_cap;
	/* rule/reporter/vif are dictionary ids: each segment's strings are copied once */
	const ld_str *hdict;
	uint32_t hdict_n;
	uint64_t *hcache; /* dictionary id -> string handle, UINT64_MAX = not copied yet */
	size_t hcache_cap;
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

/* Strings go to the thread's arena; the handle packs offset (40 bits) and length (24 bits). */
static uint64_t str_put(tstate *t, const ld_str *s)
{
	uint32_t len = s->len > 0xffffff ? 0xffffff : s->len;
	if (len == 0)
		return 0;
	if (t->arena_len + len > t->arena_cap) {
		size_t cap = t->arena_cap ? t->arena_cap * 2 : 1 << 20;
		while (cap < t->arena_len + len)
			cap *= 2;
		char *a = realloc(t->arena, cap);
		if (!a) {
			t->failed = true;
			ld_err_set(&t->err, "out of memory collecting records");
			return 0;
		}
		t->arena = a;
		t->arena_cap = cap;
	}
	memcpy(t->arena + t->arena_len, s->ptr, len);
	uint64_t h = (uint64_t)t->arena_len << 24 | len;
	t->arena_len += len;
	return h;
}

static ld_str str_get(const qctx *q, const out_rec *r, uint64_t h)
{
	ld_str s = {"", 0};
	if (h) {
		s.ptr = q->ts[r->thread].arena + (h >> 24);
		s.len = (uint32_t)(h & 0xffffff);
	}
	return s;
}

/* Handle of the dictionary string ids[i], copying it into the arena on first use in this
 * segment.  A new dictionary (pointer or size) resets the cache. */
static uint64_t dict_handle(tstate *t, const ld_block *b, const uint32_t *ids, uint32_t i)
{
	if (!ids || ids[i] >= b->n_strs)
		return 0;
	if (t->hdict != b->strs || t->hdict_n != b->n_strs) {
		if (b->n_strs > t->hcache_cap) {
			uint64_t *c = realloc(t->hcache, b->n_strs * sizeof *c);
			if (!c) {
				t->failed = true;
				ld_err_set(&t->err, "out of memory collecting records");
				return 0;
			}
			t->hcache = c;
			t->hcache_cap = b->n_strs;
		}
		memset(t->hcache, 0xff, b->n_strs * sizeof *t->hcache);
		t->hdict = b->strs;
		t->hdict_n = b->n_strs;
	}
	uint64_t *h = &t->hcache[ids[i]];
	if (*h == UINT64_MAX)
		*h = str_put(t, &b->strs[ids[i]]);
	return *h;
}

static bool run_start(tstate *t, const char *seg)
{
	if (t->n_runs == t->cap_runs) {
		size_t cap = t->cap_runs ? t->cap_runs * 2 : 16;
		run *r = realloc(t->runs, cap * sizeof *r);
		if (!r)
			return false;
		t->runs = r;
		t->cap_runs = cap;
	}
	run *r = &t->runs[t->n_runs];
	memset(r, 0, sizeof *r);
	r->begin = r->end = t->n_recs;
	r->seg = strdup(seg);
	if (!r->seg)
		return false;
	t->n_runs++;
	return true;
}

static void collect(qctx *q, tstate *t, int thread, const ld_block *b, const uint32_t *sel, uint32_t k)
{
	if (t->n_recs + k > t->cap_recs) {
		size_t cap = t->cap_recs ? t->cap_recs * 2 : 4096;
		while (cap < t->n_recs + k)
			cap *= 2;
		out_rec *r = realloc(t->recs, cap * sizeof *r);
		if (!r) {
			t->failed = true;
			ld_err_set(&t->err, "out of memory collecting records");
			return;
		}
		t->recs = r;
		t->cap_recs = cap;
	}
	const char *seg = b->segment ? b->segment : "";
	bool new_seg = t->n_runs == 0 || strncmp(t->seg, seg, sizeof t->seg) != 0;
	if (new_seg)
		snprintf(t->seg, sizeof t->seg, "%s", seg);
	static const ld_addr zero;
	for (uint32_t j = 0; j < k; j++) {
		uint32_t i = sel[j];
		int64_t ts = b->ts[i];
		if (new_seg || ts < t->last_ts) {
			if (!run_start(t, seg)) {
				t->failed = true;
				ld_err_set(&t->err, "out of memory collecting records");
				return;
			}
			new_seg = false;
		} else if (q->limit && t->n_recs - t->runs[t->n_runs - 1].begin >= q->limit && ts > t->last_ts) {
			/* the rest of this run comes after `limit` earlier records: never printed */
			continue;
		}
		t->last_ts = ts;
		out_rec *r = &t->recs[t->n_recs++];
		t->runs[t->n_runs - 1].end = t->n_recs;
		r->ts = ts;
		r->src = b->src[i] < b->n_addrs ? b->addrs[b->src[i]] : zero;
		r->dst = b->dst[i] < b->n_addrs ? b->addrs[b->dst[i]] : zero;
		r->sport = b->sport[i];
		r->dport = b->dport[i];
		r->len = b->len[i];
		r->proto = b->proto[i];
		r->action = b->action[i];
		r->dir = b->dir[i];
		r->flags = b->tcp_flags[i];
		r->format = b->format[i];
		r->present = b->present ? b->present[i] : 0;
		r->thread = (uint32_t)thread;
		r->rule = dict_handle(t, b, b->rule, i);
		r->reporter = dict_handle(t, b, b->reporter, i);
		r->vif = dict_handle(t, b, b->vif, i);
		r->raw = q->want_raw && b->raw ? str_put(t, &b->raw[i]) : 0;
	}
}

/* --- merging the runs in time order --------------------------------------------------------------- */

typedef struct merger {
	const qctx *q;
	run **runs;
	size_t n;
	size_t *heap, nh;
	uint64_t left; /* records still to emit (the --limit) */
} merger;

static const out_rec *run_head(const merger *m, size_t r)
{
	const run *ru = m->runs[r];
	return &m->q->ts[ru->thread].recs[ru->pos];
}

/* Time, then segment, then run: a total order that does not depend on which thread read what. */
static bool run_before(const merger *m, size_t a, size_t b)
{
	const out_rec *x = run_head(m, a), *y = run_head(m, b);
	if (x->ts != y->ts)
		return x->ts < y->ts;
	if (m->runs[a]->seg_order != m->runs[b]->seg_order)
		return m->runs[a]->seg_order < m->runs[b]->seg_order;
	return a < b;
}

static void heap_down(merger *m, size_t p)
{
	for (;;) {
		size_t c = 2 * p + 1;
		if (c >= m->nh)
			return;
		if (c + 1 < m->nh && run_before(m, m->heap[c + 1], m->heap[c]))
			c++;
		if (!run_before(m, m->heap[c], m->heap[p]))
			return;
		size_t t = m->heap[c];
		m->heap[c] = m->heap[p];
		m->heap[p] = t;
		p = c;
	}
}

static void merger_start(merger *m, uint64_t limit)
{
	m->nh = 0;
	for (size_t r = 0; r < m->n; r++) {
		m->runs[r]->pos = m->runs[r]->begin;
		if (m->runs[r]->begin < m->runs[r]->end)
			m->heap[m->nh++] = r;
	}
	for (size_t i = m->nh / 2; i-- > 0;)
		heap_down(m, i);
	m->left = limit ? limit : UINT64_MAX;
}

static const out_rec *merger_next(merger *m)
{
	if (m->nh == 0 || m->left == 0)
		return NULL;
	m->left--;
	size_t r = m->heap[0];
	const out_rec *rec = run_head(m, r);
	if (++m->runs[r]->pos == m->runs[r]->end)
		m->heap[0] = m->heap[--m->nh];
	heap_down(m, 0);
	return rec;
}

static int cmp_run_seg(const void *x, const void *y)
{
	const run *a = *(run *const *)x, *b = *(run *const *)y;
	int c = strcmp(a->seg, b->seg);
	if (c)
		return c;
	return (a->begin > b->begin) - (a->begin < b->begin);
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
	case MODE_RECORDS:
		collect(q, t, thread, b, t->sel, k);
		if (t->failed)
			return 1;
		break;
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

typedef struct rec_text {
	char ts[LD_TIME_STRLEN], src[LD_ADDR_STRLEN], dst[LD_ADDR_STRLEN];
	char sport[8], dport[8], proto[16], flags[12], len[12];
	const char *action, *dir, *format;
	ld_str rule, reporter, vif, raw;
} rec_text;

static void rec_to_text(const qctx *q, const out_rec *r, rec_text *t)
{
	ld_time_format_ms(r->ts, t->ts);
	ld_addr_format(&r->src, t->src);
	ld_addr_format(&r->dst, t->dst);
	/* A value counts as given when its presence bit says so, or when it is non-zero (sources
	 * that never set the bit still show their ports). */
	bool ports = (r->present & LD_RF_PORTS) || r->sport || r->dport;
	t->sport[0] = t->dport[0] = 0;
	if (ports) {
		utoa(r->sport, t->sport);
		utoa(r->dport, t->dport);
	}
	const char *pn = ld_proto_name(r->proto);
	if (pn)
		snprintf(t->proto, sizeof t->proto, "%s", pn);
	else
		snprintf(t->proto, sizeof t->proto, "%u", r->proto);
	size_t fl = 0;
	if ((r->present & LD_RF_TCPFLAGS) || r->flags)
		fl = ld_tcp_flags_format(r->flags, t->flags);
	t->flags[fl] = 0;
	t->len[0] = 0;
	if ((r->present & LD_RF_LEN) || r->len)
		utoa(r->len, t->len);
	t->action = ld_action_name(r->action);
	t->dir = ld_dir_name(r->dir);
	t->format = ld_format_name(r->format);
	t->rule = str_get(q, r, r->rule);
	t->reporter = str_get(q, r, r->reporter);
	t->vif = str_get(q, r, r->vif);
	t->raw = str_get(q, r, r->raw);
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
		l[i] = strlen(v[i]);
	}
	l[8] = t->rule.len;
	l[9] = t->reporter.len;
	l[10] = t->vif.len;
}

static void print_records(FILE *f, enum out_format fmt, const qctx *q, merger *m)
{
	const out_rec *rec;
	rec_text t;
	const char *v[N_REC_COLS];
	size_t l[N_REC_COLS];
	size_t w[N_REC_COLS];
	if (fmt == OUT_TABLE && !q->want_raw) {
		for (size_t c = 0; c < N_REC_COLS; c++)
			w[c] = strlen(rec_cols[c]);
		merger_start(m, q->limit);
		while ((rec = merger_next(m))) {
			rec_to_text(q, rec, &t);
			rec_fields(&t, v, l);
			for (size_t c = 0; c < N_REC_COLS; c++)
				if (l[c] > w[c])
					w[c] = l[c] > 40 ? 40 : l[c];
		}
		for (size_t c = 0; c < N_REC_COLS; c++)
			fprintf(f, "%-*s%s", c + 1 < N_REC_COLS ? (int)w[c] : 0, rec_cols[c], c + 1 < N_REC_COLS ? "  " : "\n");
	} else if (fmt == OUT_CSV) {
		for (size_t c = 0; c < N_REC_COLS; c++)
			fprintf(f, "%s%s", rec_cols[c], c + 1 < N_REC_COLS ? "," : "");
		fputs_unlocked(q->want_raw ? ",raw\n" : "\n", f);
	}
	merger_start(m, q->limit);
	while ((rec = merger_next(m))) {
		rec_to_text(q, rec, &t);
		rec_fields(&t, v, l);
		if (fmt == OUT_TABLE && q->want_raw && t.raw.len) {
			fwrite_unlocked(t.raw.ptr, 1, t.raw.len, f);
			if (t.raw.ptr[t.raw.len - 1] != '\n')
				fputc_unlocked('\n', f);
			continue;
		}
		switch (fmt) {
		case OUT_TABLE:
			for (size_t c = 0; c < N_REC_COLS; c++) {
				const char *s = l[c] ? v[c] : "-";
				int sl = l[c] ? (int)(l[c] > 40 ? 40 : l[c]) : 1;
				if (q->want_raw) /* no raw line kept: compact row */
					fprintf(f, "%.*s%s", sl, s, c + 1 < N_REC_COLS ? " " : "\n");
				else if (c + 1 < N_REC_COLS)
					fprintf(f, "%-*.*s  ", (int)w[c], sl, s);
				else
					fprintf(f, "%.*s\n", sl, s);
			}
			break;
		case OUT_CSV:
			for (size_t c = 0; c < N_REC_COLS; c++) {
				put_csv(f, v[c], l[c]);
				if (c + 1 < N_REC_COLS)
					fputc_unlocked(',', f);
			}
			if (q->want_raw) {
				fputc_unlocked(',', f);
				put_csv(f, t.raw.ptr ? t.raw.ptr : "", t.raw.len);
			}
			fputc_unlocked('\n', f);
			break;
		case OUT_JSON:
			fputc_unlocked('{', f);
			for (size_t c = 0; c < N_REC_COLS; c++) {
				if (c)
					fputc_unlocked(',', f);
				fputc_unlocked('"', f);
				fputs_unlocked(rec_cols[c], f);
				fputs_unlocked("\":", f);
				bool num = c == 3 || c == 4 || c == 12;
				if (num)
					fputs_unlocked(l[c] ? v[c] : "null", f);
				else
					put_json_str(f, v[c], l[c]);
			}
			if (q->want_raw) {
				fputs_unlocked(",\"raw\":", f);
				if (t.raw.len)
					put_json_str(f, t.raw.ptr, t.raw.len);
				else
					fputs_unlocked("null", f);
			}
			fputs_unlocked("}\n", f);
			break;
		}
	}
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
	       O_LIMIT, O_THREADS, O_HELP };
	static const struct option opts[] = {
		{"data", required_argument, NULL, O_DATA},       {"from", required_argument, NULL, O_FROM},
		{"to", required_argument, NULL, O_TO},           {"where", required_argument, NULL, O_WHERE},
		{"count", no_argument, NULL, O_COUNT},           {"group-by", required_argument, NULL, O_GROUP},
		{"distinct", required_argument, NULL, O_DISTINCT}, {"top", required_argument, NULL, O_TOP},
		{"format", required_argument, NULL, O_FORMAT},   {"raw", no_argument, NULL, O_RAW},
		{"limit", required_argument, NULL, O_LIMIT},     {"threads", required_argument, NULL, O_THREADS},
		{"help", no_argument, NULL, O_HELP},             {NULL, 0, NULL, 0},
	};
	const char *data = NULL, *where = NULL, *group = NULL, *distinct = NULL;
	int64_t from = INT64_MIN, to = INT64_MAX;
	bool count = false, raw = false, have_top = false;
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
	uint32_t cols = ld_query_columns(expr);
	if (from != INT64_MIN || to != INT64_MAX)
		cols |= LD_COL_TS;
	if (q.mode == MODE_GROUP)
		cols |= ld_group_columns(&gspec);
	if (q.mode == MODE_RECORDS)
		cols |= (LD_COL_ALL & ~LD_COL_RAW) | (raw ? LD_COL_RAW : 0);
	spec.columns = cols;

	int rc = LD_EXIT_OK;
	ld_archive *a = NULL;
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
	case MODE_RECORDS: {
		merger m = {.q = &q};
		for (int t = 0; t < q.n_threads; t++)
			m.n += q.ts[t].n_runs;
		m.runs = malloc((m.n ? m.n : 1) * sizeof *m.runs);
		m.heap = malloc((m.n ? m.n : 1) * sizeof *m.heap);
		if (!m.runs || !m.heap) {
			free(m.runs);
			free(m.heap);
			rc = cli_runtime_error("query", "out of memory merging records");
			goto out;
		}
		size_t k = 0;
		for (int t = 0; t < q.n_threads; t++)
			for (size_t r = 0; r < q.ts[t].n_runs; r++) {
				q.ts[t].runs[r].thread = t;
				m.runs[k++] = &q.ts[t].runs[r];
			}
		/* ties in time go by segment name then position, whatever thread read them */
		qsort(m.runs, m.n, sizeof *m.runs, cmp_run_seg);
		for (size_t r = 0; r < m.n; r++)
			m.runs[r]->seg_order = r;
		print_records(stdout, fmt, &q, &m);
		free(m.runs);
		free(m.heap);
		break;
	}
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = cli_runtime_error("query", "cannot write the output");
out:
	if (q.ts)
		for (int t = 0; t < q.n_threads; t++) {
			ld_query_eval_free(q.ts[t].ev);
			ld_group_acc_free(q.ts[t].acc);
			free(q.ts[t].sel);
			free(q.ts[t].recs);
			free(q.ts[t].arena);
			free(q.ts[t].hcache);
			for (size_t r = 0; r < q.ts[t].n_runs; r++)
				free(q.ts[t].runs[r].seg);
			free(q.ts[t].runs);
		}
	free(q.ts);
	ld_archive_close(a);
	ld_query_free(expr);
	return rc;
}
