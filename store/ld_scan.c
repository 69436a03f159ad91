/* ld_scan.c — read side: open a data directory read-only (sealed segments from the MANIFEST plus
 * unsealed journal rows), and scan it in parallel with zone-map and address-set pruning. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ld_scan.h"
#include "store_internal.h"

typedef struct jpart {
	ld_rowset rs; /* time-ordered */
	ld_str *strs;
	char name[64];
} jpart;

struct ld_archive {
	char *dir;
	ld_manifest m;
	const ld_mf_entry **live;
	long n_live;
	jpart *j;
	size_t n_j;
	uint64_t rows, journal_rows;
	int64_t min_ns, max_ns;
};

void ld_scan_spec_init(ld_scan_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->from_ns = INT64_MIN;
	s->to_ns = INT64_MAX;
	s->dport = -1;
	s->proto = -1;
	s->columns = LD_COL_ALL;
}

static int cmp_live(const void *a, const void *b)
{
	const ld_mf_entry *x = *(const ld_mf_entry *const *)a, *y = *(const ld_mf_entry *const *)b;
	if (x->min_ns != y->min_ns)
		return x->min_ns < y->min_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Loads an unsealed journal into a time-ordered row set. */
static int load_journal(ld_archive *a, const char *name, ld_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/journal/%s", a->dir, name);
	ld_rowset raw;
	ld_rowset_init(&raw, true);
	uint64_t valid;
	if (ld_jnl_load(path, &raw, &valid, err) != 0) {
		ld_rowset_free(&raw);
		return -1;
	}
	if (raw.n == 0) {
		ld_rowset_free(&raw);
		return 0;
	}
	jpart *nj = realloc(a->j, (a->n_j + 1) * sizeof(jpart));
	uint32_t *idx = ld_rowset_time_order(&raw);
	if (!nj || !idx) {
		if (nj)
			a->j = nj;
		free(idx);
		ld_rowset_free(&raw);
		ld_err_set(err, "out of memory");
		return -1;
	}
	a->j = nj;
	jpart *j = &a->j[a->n_j];
	memset(j, 0, sizeof(*j));
	snprintf(j->name, sizeof(j->name), "journal/%s", name);
	ld_rowset_init(&j->rs, true);
	int rc = ld_rowset_reserve(&j->rs, raw.n);
	for (size_t i = 0; i < raw.n && rc == 0; i++) {
		ld_record r;
		ld_rowset_get(&raw, idx[i], &r);
		rc = ld_rowset_add(&j->rs, &r);
	}
	free(idx);
	ld_rowset_free(&raw);
	j->strs = rc == 0 ? ld_rowset_str_table(&j->rs) : NULL;
	if (!j->strs) {
		ld_rowset_free(&j->rs);
		ld_err_set(err, "out of memory");
		return -1;
	}
	a->n_j++;
	a->journal_rows += j->rs.n;
	return 0;
}

static int load_journals(ld_archive *a, ld_err *err)
{
	char **names;
	long n = ld_jnl_unsealed(a->dir, &a->m, &names, err);
	int rc = n < 0 ? -1 : 0;
	for (long i = 0; i < n && rc == 0; i++)
		rc = load_journal(a, names[i], err);
	ld_jnl_names_free(names, n);
	return rc;
}

ld_archive *ld_archive_open(const char *dir, ld_err *err)
{
	ld_archive *a = calloc(1, sizeof(*a));
	if (!a || !(a->dir = strdup(dir))) {
		free(a);
		ld_err_set(err, "out of memory");
		return NULL;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		ld_err_errno(err, "%s", dir);
		goto fail;
	}
	if (ld_manifest_load(dir, &a->m, err) != 0)
		goto fail;
	a->n_live = ld_manifest_live(&a->m, &a->live);
	if (a->n_live < 0) {
		ld_err_set(err, "out of memory");
		goto fail;
	}
	if (a->n_live > 0)
		qsort(a->live, (size_t)a->n_live, sizeof(*a->live), cmp_live);
	if (load_journals(a, err) != 0)
		goto fail;
	a->min_ns = INT64_MAX;
	a->max_ns = INT64_MIN;
	for (long i = 0; i < a->n_live; i++) {
		a->rows += a->live[i]->rows;
		if (a->live[i]->min_ns < a->min_ns)
			a->min_ns = a->live[i]->min_ns;
		if (a->live[i]->max_ns > a->max_ns)
			a->max_ns = a->live[i]->max_ns;
	}
	for (size_t i = 0; i < a->n_j; i++) {
		a->rows += a->j[i].rs.n;
		if (a->j[i].rs.ts_min < a->min_ns)
			a->min_ns = a->j[i].rs.ts_min;
		if (a->j[i].rs.ts_max > a->max_ns)
			a->max_ns = a->j[i].rs.ts_max;
	}
	return a;
fail:
	ld_archive_close(a);
	return NULL;
}

void ld_archive_close(ld_archive *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_j; i++) {
		ld_rowset_free(&a->j[i].rs);
		free(a->j[i].strs);
	}
	free(a->j);
	free(a->live);
	ld_manifest_free(&a->m);
	free(a->dir);
	free(a);
}

bool ld_archive_span(const ld_archive *a, int64_t *min_ns, int64_t *max_ns)
{
	if (a->rows == 0)
		return false;
	*min_ns = a->min_ns;
	*max_ns = a->max_ns;
	return true;
}

uint64_t ld_archive_rows(const ld_archive *a)
{
	return a->rows;
}

/* --- scanning ----------------------------------------------------------------------------- */

/* Work is handed out block by block, not segment by segment: a store of a few large segments
 * would otherwise keep most threads idle.  The work items are the blocks of every source (live
 * segments in order of first timestamp, then journals) numbered consecutively; threads take the
 * next number from one atomic counter.  A segment is opened by the first thread that takes one
 * of its blocks and closed by the thread that finishes its last one. */

enum { SEG_UNOPENED, SEG_OPEN, SEG_GONE }; /* GONE: damaged or pruned by its address set */

typedef struct seg_state {
	pthread_mutex_t mu;
	atomic_int state;
	atomic_uint pending; /* blocks not finished yet; the thread that takes it to 0 closes */
	const ld_mf_entry *e;
	ld_seg s;
	uint32_t host_ids[64];
	uint32_t n_ids;
} seg_state;

typedef struct src_item {
	size_t first;     /* number of its first block among all work items */
	uint32_t blocks;
	long live;        /* index into seg (sealed) or -1 - journal index */
} src_item;

typedef struct scan_shared {
	ld_archive *a;
	const ld_scan_spec *spec;
	ld_scan_spec bspec; /* spec for block pruning (no hosts when there are too many) */
	uint32_t columns;
	uint32_t pre_columns; /* 0: no late materialization */
	ld_scan_fn fn;
	void *ctx;
	seg_state *seg;  /* one per live segment that survives time pruning */
	src_item *src;
	size_t n_src;
	size_t n_items; /* blocks of every source */
	atomic_size_t next;
	atomic_int stop;
	int stop_rc;
	pthread_mutex_t mu;
	ld_scan_stats stats;
} scan_shared;

static void damage(scan_shared *sh, const char *seg, const char *why)
{
	pthread_mutex_lock(&sh->mu);
	sh->stats.segments_damaged++;
	if (sh->spec->on_damage)
		sh->spec->on_damage(sh->ctx, seg, why);
	pthread_mutex_unlock(&sh->mu);
}

static void stop_with(scan_shared *sh, int rc)
{
	pthread_mutex_lock(&sh->mu);
	if (!atomic_load(&sh->stop)) {
		sh->stop_rc = rc;
		atomic_store(&sh->stop, 1);
	}
	pthread_mutex_unlock(&sh->mu);
}

/* Opens g's segment once (whoever comes first); returns its state afterwards. */
static int seg_acquire(scan_shared *sh, seg_state *g, ld_decoder *d, ld_scan_stats *st)
{
	int state = atomic_load_explicit(&g->state, memory_order_acquire);
	if (state != SEG_UNOPENED)
		return state;
	pthread_mutex_lock(&g->mu);
	state = atomic_load_explicit(&g->state, memory_order_relaxed);
	if (state != SEG_UNOPENED) {
		pthread_mutex_unlock(&g->mu);
		return state;
	}
	const ld_scan_spec *spec = sh->spec;
	const ld_mf_entry *e = g->e;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", sh->a->dir, e->path);
	ld_err err;
	state = SEG_GONE;
	if (ld_seg_open_file(&g->s, path, d, &err) != 0) {
		damage(sh, e->path, err.msg);
	} else if (g->s.size != e->size || g->s.hdr.rows != e->rows || g->s.hdr.ts_min != e->min_ns ||
		   g->s.hdr.ts_max != e->max_ns) {
		damage(sh, e->path, "does not match its MANIFEST entry");
		ld_seg_close(&g->s);
	} else {
		state = SEG_OPEN;
		if (spec->n_hosts) {
			for (uint32_t k = 0; k < spec->n_hosts && g->n_ids < 64; k++) {
				int64_t id = ld_seg_find_addr(&g->s, &spec->hosts[k]);
				if (id >= 0)
					g->host_ids[g->n_ids++] = (uint32_t)id;
			}
			if (g->n_ids == 0) {
				st->segments_skipped++;
				ld_seg_close(&g->s);
				state = SEG_GONE;
			} else if (spec->n_hosts > 64) {
				g->n_ids = 0; /* too many to prune blocks with: deliver every block */
			}
		}
		if (state == SEG_OPEN && ld_seg_columns_need_peers(sh->columns | sh->pre_columns) &&
		    ld_seg_load_peers(&g->s, d, &err) != 0) {
			damage(sh, e->path, err.msg);
			ld_seg_close(&g->s);
			state = SEG_GONE;
		}
	}
	atomic_store_explicit(&g->state, state, memory_order_release);
	pthread_mutex_unlock(&g->mu);
	return state;
}

static void seg_release(seg_state *g)
{
	if (atomic_fetch_sub(&g->pending, 1) == 1 &&
	    atomic_load_explicit(&g->state, memory_order_acquire) == SEG_OPEN)
		ld_seg_close(&g->s);
}

static void report_bad_cols(scan_shared *sh, const char *name, uint32_t b, uint32_t bad_cols)
{
	char why[160];
	snprintf(why, sizeof(why),
		 "block %u: checksum mismatch in columns 0x%04x (not used by this scan; "
		 "its rows are still read)", b, bad_cols);
	damage(sh, name, why);
}

/* Adds the columns decoded in a second step to b. */
static void merge_block(ld_block *b, const ld_block *r)
{
#define TAKE(f) if (r->f) b->f = r->f
	TAKE(ts);
	TAKE(src);
	TAKE(dst);
	TAKE(sport);
	TAKE(dport);
	TAKE(proto);
	TAKE(action);
	TAKE(dir);
	TAKE(tcp_flags);
	TAKE(format);
	TAKE(present);
	TAKE(len);
	TAKE(rule);
	TAKE(reporter);
	TAKE(vif);
	TAKE(raw);
	TAKE(shape_rank8);
	TAKE(shape_rank16);
	TAKE(shape_dport);
	TAKE(n_shapes);
	TAKE(shape_dport_out);
	TAKE(dport_exc);
	TAKE(n_dport_exc);
	TAKE(dst_rank);
	TAKE(peer_first);
	TAKE(peer_dst);
#undef TAKE
}

static void scan_seg_block(scan_shared *sh, seg_state *g, uint32_t b, ld_decoder *d, int thread,
			   ld_scan_stats *st)
{
	if (seg_acquire(sh, g, d, st) != SEG_OPEN || b >= g->s.hdr.blocks || atomic_load(&sh->stop))
		return;
	const char *name = g->e->path;
	st->blocks_total++;
	if (!ld_seg_block_may_match(&g->s, b, &sh->bspec, g->host_ids, g->n_ids)) {
		st->blocks_skipped++;
		return;
	}
	ld_block blk;
	uint32_t bad_cols = 0;
	ld_err err;
	uint32_t first = sh->pre_columns ? sh->pre_columns : sh->columns;
	if (ld_seg_decode_block(d, &g->s, b, first, &blk, sh->spec->verify_all ? &bad_cols : NULL,
				&err) != 0) {
		damage(sh, name, err.msg);
		return;
	}
	if (sh->pre_columns) {
		blk.segment = name;
		if (!sh->spec->prefilter(sh->ctx, thread, &blk)) {
			if (bad_cols)
				report_bad_cols(sh, name, b, bad_cols);
			return;
		}
		/* the rest into the same decoder buffers; the columns they depend on decode again
		 * to the same values */
		ld_block rest;
		bad_cols &= ~sh->columns; /* the second step checks the ones it needs */
		if (ld_seg_decode_block(d, &g->s, b, sh->columns & ~sh->pre_columns, &rest, NULL,
					&err) != 0) {
			if (bad_cols)
				report_bad_cols(sh, name, b, bad_cols);
			damage(sh, name, err.msg);
			return;
		}
		merge_block(&blk, &rest);
	}
	if (bad_cols)
		report_bad_cols(sh, name, b, bad_cols);
	blk.segment = name;
	st->rows_scanned += blk.n;
	int rc = sh->fn(sh->ctx, thread, &blk);
	if (rc != 0)
		stop_with(sh, rc);
}

static void scan_journal_block(scan_shared *sh, const jpart *j, uint32_t bi, ld_decoder *d,
			       int thread, ld_scan_stats *st)
{
	const ld_rowset *rs = &j->rs;
	const ld_scan_spec *spec = sh->spec;
	size_t off = (size_t)bi * LD_SEG_BLOCK_ROWS;
	if (off >= rs->n)
		return;
	uint32_t c = sh->columns;
	uint32_t n = (uint32_t)(rs->n - off < LD_SEG_BLOCK_ROWS ? rs->n - off : LD_SEG_BLOCK_ROWS);
	if (rs->ts[off + n - 1] < spec->from_ns || rs->ts[off] >= spec->to_ns)
		return;
	ld_block b;
	memset(&b, 0, sizeof(b));
	b.n = n;
	b.ts = c & LD_COL_TS ? rs->ts + off : NULL;
	b.src = c & LD_COL_SRC ? rs->src + off : NULL;
	b.dst = c & LD_COL_DST ? rs->dst + off : NULL;
	b.sport = c & LD_COL_SPORT ? rs->sport + off : NULL;
	b.dport = c & LD_COL_DPORT ? rs->dport + off : NULL;
	b.proto = c & LD_COL_PROTO ? rs->proto + off : NULL;
	b.action = c & LD_COL_ACTION ? rs->action + off : NULL;
	b.dir = c & LD_COL_DIR ? rs->dir + off : NULL;
	b.tcp_flags = c & LD_COL_FLAGS ? rs->flags + off : NULL;
	b.format = c & LD_COL_FORMAT ? rs->format + off : NULL;
	b.present = c & LD_COL_PRESENT ? rs->present + off : NULL;
	b.len = c & LD_COL_LEN ? rs->len + off : NULL;
	b.rule = c & LD_COL_RULE ? rs->rule + off : NULL;
	b.reporter = c & LD_COL_REPORTER ? rs->reporter + off : NULL;
	b.vif = c & LD_COL_VIF ? rs->vif + off : NULL;
	if (c & LD_COL_RAW) {
		for (uint32_t i = 0; i < n; i++) {
			uint32_t l = rs->raw_len[off + i];
			d->raw[i].len = l;
			d->raw[i].ptr = l ? (const char *)rs->raw_bytes.p + rs->raw_off[off + i] : "";
		}
		b.raw = d->raw;
	}
	b.addrs = rs->addrs;
	b.n_addrs = rs->n_addrs;
	b.strs = j->strs;
	b.n_strs = rs->n_strs;
	b.segment = j->name;
	b.block_index = bi;
	st->rows_scanned += n;
	st->journal_rows += n;
	int rc = sh->fn(sh->ctx, thread, &b);
	if (rc != 0)
		stop_with(sh, rc);
}

/* The source holding work item i (sources are sorted by their first item). */
static const src_item *item_source(const scan_shared *sh, size_t i)
{
	size_t lo = 0, hi = sh->n_src;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (sh->src[mid].first <= i)
			lo = mid;
		else
			hi = mid;
	}
	return &sh->src[lo];
}

typedef struct worker {
	scan_shared *sh;
	int thread;
	int failed;
} worker;

static void *work(void *arg)
{
	worker *wk = arg;
	scan_shared *sh = wk->sh;
	ld_decoder d;
	if (ld_decoder_init(&d) != 0) {
		wk->failed = 1;
		stop_with(sh, -1);
		return NULL;
	}
	ld_scan_stats st;
	memset(&st, 0, sizeof(st));
	while (!atomic_load(&sh->stop)) {
		size_t i = atomic_fetch_add(&sh->next, 1);
		if (i >= sh->n_items)
			break;
		const src_item *it = item_source(sh, i);
		uint32_t b = (uint32_t)(i - it->first);
		if (it->live >= 0) {
			seg_state *g = &sh->seg[it->live];
			scan_seg_block(sh, g, b, &d, wk->thread, &st);
			seg_release(g);
		} else {
			scan_journal_block(sh, &sh->a->j[-1 - it->live], b, &d, wk->thread, &st);
		}
	}
	ld_decoder_free(&d);
	if (sh->spec->thread_done && !atomic_load(&sh->stop)) {
		int rc = sh->spec->thread_done(sh->ctx, wk->thread);
		if (rc != 0)
			stop_with(sh, rc);
	}
	pthread_mutex_lock(&sh->mu);
	sh->stats.segments_skipped += st.segments_skipped;
	sh->stats.blocks_total += st.blocks_total;
	sh->stats.blocks_skipped += st.blocks_skipped;
	sh->stats.rows_scanned += st.rows_scanned;
	sh->stats.journal_rows += st.journal_rows;
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/* Columns the push-down predicate reads, so ld_scan_row_matches() always has them. */
static uint32_t predicate_columns(const ld_scan_spec *s)
{
	uint32_t c = 0;
	if (s->from_ns != INT64_MIN || s->to_ns != INT64_MAX)
		c |= LD_COL_TS;
	if (s->n_hosts)
		c |= s->host_side == 1 ? LD_COL_SRC : s->host_side == 2 ? LD_COL_DST
									  : LD_COL_SRC | LD_COL_DST;
	if (s->dport >= 0)
		c |= LD_COL_DPORT;
	if (s->proto >= 0)
		c |= LD_COL_PROTO;
	if (s->action_mask)
		c |= LD_COL_ACTION;
	return c;
}

/* Blocks of a source with `rows` rows (a segment has exactly this many, the header checks it);
 * bounded so that a bogus MANIFEST row count cannot make the item count explode. */
static uint32_t blocks_for(uint64_t rows)
{
	uint64_t b = (rows + LD_SEG_BLOCK_ROWS - 1) / LD_SEG_BLOCK_ROWS;
	uint64_t max = LD_SEG_MAX_ROWS / LD_SEG_BLOCK_ROWS;
	return (uint32_t)(b == 0 ? 1 : b > max ? max : b);
}

int ld_scan(ld_archive *a, const ld_scan_spec *spec, ld_scan_fn fn, void *ctx,
	    ld_scan_stats *stats, ld_err *err)
{
	scan_shared sh;
	memset(&sh, 0, sizeof(sh));
	sh.a = a;
	sh.spec = spec;
	sh.bspec = *spec;
	if (spec->n_hosts > 64)
		sh.bspec.n_hosts = 0;
	sh.columns = (spec->columns | predicate_columns(spec)) &
		     (LD_COL_ALL | LD_COL_SHAPE_DPORT | LD_COL_DST_RANK);
	if (predicate_columns(spec) & (LD_COL_DPORT | LD_COL_SPORT))
		sh.columns &= ~(uint32_t)LD_COL_SHAPE_DPORT; /* rows are tested on the dport column */
	if ((predicate_columns(spec) | (spec->prefilter ? spec->prefilter_columns : 0)) & LD_COL_DST)
		sh.columns &= ~(uint32_t)LD_COL_DST_RANK; /* rows are tested on dst ids */
	if (spec->prefilter) {
		sh.columns |= spec->prefilter_columns & LD_COL_ALL;
		sh.pre_columns = (spec->prefilter_columns | predicate_columns(spec)) & sh.columns;
		if (sh.pre_columns == sh.columns)
			sh.pre_columns = 0; /* nothing left to save */
	}
	sh.fn = fn;
	sh.ctx = ctx;
	size_t n_live = (size_t)a->n_live;
	sh.seg = calloc(n_live ? n_live : 1, sizeof(*sh.seg));
	sh.src = calloc(n_live + a->n_j + 1, sizeof(*sh.src));
	if (!sh.seg || !sh.src) {
		free(sh.seg);
		free(sh.src);
		ld_err_set(err, "out of memory");
		return -1;
	}
	sh.stats.segments_total = n_live;
	size_t n_seg = 0;
	for (size_t i = 0; i < n_live; i++) {
		const ld_mf_entry *e = a->live[i];
		if (e->max_ns < spec->from_ns || e->min_ns >= spec->to_ns) {
			sh.stats.segments_skipped++;
			continue;
		}
		seg_state *g = &sh.seg[n_seg];
		pthread_mutex_init(&g->mu, NULL);
		atomic_init(&g->state, SEG_UNOPENED);
		g->e = e;
		uint32_t nb = blocks_for(e->rows);
		atomic_init(&g->pending, nb);
		sh.src[sh.n_src++] = (src_item){sh.n_items, nb, (long)n_seg};
		sh.n_items += nb;
		n_seg++;
	}
	for (size_t k = 0; k < a->n_j; k++) {
		const ld_rowset *rs = &a->j[k].rs;
		if (rs->ts_max < spec->from_ns || rs->ts_min >= spec->to_ns)
			continue;
		uint32_t nb = blocks_for(rs->n);
		sh.src[sh.n_src++] = (src_item){sh.n_items, nb, -1 - (long)k};
		sh.n_items += nb;
	}
	atomic_init(&sh.next, 0);
	atomic_init(&sh.stop, 0);
	pthread_mutex_init(&sh.mu, NULL);
	long threads = spec->threads;
	if (threads <= 0)
		threads = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	if (threads > 256)
		threads = 256;
	if ((size_t)threads > sh.n_items)
		threads = sh.n_items ? (long)sh.n_items : 1;
	worker wk[256];
	pthread_t tid[256];
	int started = 0;
	for (long t = 0; t < threads; t++) {
		wk[t] = (worker){&sh, (int)t, 0};
		if (t == 0)
			continue;
		if (pthread_create(&tid[t], NULL, work, &wk[t]) != 0)
			break;
		started++;
	}
	work(&wk[0]);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	/* a scan stopped early leaves segments open */
	for (size_t i = 0; i < n_seg; i++) {
		seg_state *g = &sh.seg[i];
		if (atomic_load(&g->pending) != 0 && atomic_load(&g->state) == SEG_OPEN)
			ld_seg_close(&g->s);
		pthread_mutex_destroy(&g->mu);
	}
	free(sh.seg);
	free(sh.src);
	pthread_mutex_destroy(&sh.mu);
	if (stats)
		*stats = sh.stats;
	for (int t = 0; t <= started; t++)
		if (wk[t].failed) {
			ld_err_set(err, "out of memory for decode buffers");
			return -1;
		}
	return atomic_load(&sh.stop) ? sh.stop_rc : 0;
}

bool ld_scan_row_matches(const ld_scan_spec *spec, const ld_block *b, uint32_t i)
{
	if (b->ts && (b->ts[i] < spec->from_ns || b->ts[i] >= spec->to_ns))
		return false;
	if (spec->dport >= 0 && b->dport && b->dport[i] != (uint32_t)spec->dport)
		return false;
	if (spec->proto >= 0 && b->proto && b->proto[i] != (uint32_t)spec->proto)
		return false;
	/* a stored action byte is not trusted to be a small enum value (damaged or foreign data) */
	if (spec->action_mask && b->action &&
	    (b->action[i] >= 32 || !(spec->action_mask & (1u << b->action[i]))))
		return false;
	if (spec->n_hosts) {
		const ld_addr *s = spec->host_side != 2 && b->src ? &b->addrs[b->src[i]] : NULL;
		const ld_addr *d = spec->host_side != 1 && b->dst ? &b->addrs[b->dst[i]] : NULL;
		for (uint32_t k = 0; k < spec->n_hosts; k++)
			if ((s && ld_addr_eq(s, &spec->hosts[k])) || (d && ld_addr_eq(d, &spec->hosts[k])))
				return true;
		return false;
	}
	return true;
}

void ld_block_record(const ld_block *b, uint32_t i, ld_record *out)
{
	memset(out, 0, sizeof(*out));
	out->rule = out->reporter = out->vif = out->raw = (ld_str){"", 0};
	if (b->ts)
		out->ts_ns = b->ts[i];
	if (b->src)
		out->src = b->addrs[b->src[i]];
	if (b->dst)
		out->dst = b->addrs[b->dst[i]];
	if (b->sport)
		out->sport = b->sport[i];
	if (b->dport)
		out->dport = b->dport[i];
	if (b->len)
		out->len = b->len[i];
	if (b->proto)
		out->proto = b->proto[i];
	if (b->action)
		out->action = b->action[i];
	if (b->dir)
		out->dir = b->dir[i];
	if (b->tcp_flags)
		out->tcp_flags = b->tcp_flags[i];
	if (b->format)
		out->format = b->format[i];
	if (b->present)
		out->present = b->present[i];
	if (b->rule)
		out->rule = b->strs[b->rule[i]];
	if (b->reporter)
		out->reporter = b->strs[b->reporter[i]];
	if (b->vif)
		out->vif = b->strs[b->vif[i]];
	if (b->raw)
		out->raw = b->raw[i];
}
