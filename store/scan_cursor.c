/* scan_cursor.c — the data directory as a list of sources (live segments, unsealed journals)
 * and one pull cursor per source, so a reader can merge sources block by block instead of
 * holding a whole result.  Pruning and damage handling follow ld_scan(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ld_scan_cursor.h"
#include "store_internal.h"

typedef struct jsrc {
	ld_rowset rs;   /* rows in journal order */
	uint32_t *idx;  /* row numbers in time order */
	ld_str *strs;   /* string dictionary of rs */
	char name[64];
} jsrc;

struct ld_scan_sources {
	char *dir;
	ld_manifest m;
	const ld_mf_entry **live;
	long n_live;
	jsrc *j;
	size_t n_j;
	ld_scan_source *src; /* live segments then journals, sorted by first timestamp */
	size_t n_src;
};

struct ld_scan_cursor {
	ld_scan_sources *s;
	const ld_scan_spec *spec;
	void *damage_ctx;
	uint32_t columns;
	ld_decoder d;
	/* segment */
	const ld_mf_entry *e;
	ld_seg seg;
	bool seg_open;
	uint32_t host_ids[64], n_ids;
	ld_scan_spec bspec;
	/* journal */
	const jsrc *j;
	size_t off;
	uint32_t next_block;
	bool done;
};

static int load_journal(ld_scan_sources *s, const char *name, ld_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/journal/%s", s->dir, name);
	jsrc *nj = realloc(s->j, (s->n_j + 1) * sizeof(jsrc));
	if (!nj) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	s->j = nj;
	jsrc *j = &s->j[s->n_j];
	memset(j, 0, sizeof(*j));
	ld_rowset_init(&j->rs, true);
	uint64_t valid;
	if (ld_jnl_load(path, &j->rs, &valid, err) != 0) {
		ld_rowset_free(&j->rs);
		return -1;
	}
	if (j->rs.n == 0) {
		ld_rowset_free(&j->rs);
		return 0;
	}
	j->idx = ld_rowset_time_order(&j->rs);
	j->strs = ld_rowset_str_table(&j->rs);
	if (!j->idx || !j->strs) {
		free(j->idx);
		free(j->strs);
		ld_rowset_free(&j->rs);
		ld_err_set(err, "out of memory");
		return -1;
	}
	snprintf(j->name, sizeof(j->name), "journal/%s", name);
	s->n_j++;
	return 0;
}

/* Unsealed journals, by name (as ld_archive_open() sees them). */
static int load_journals(ld_scan_sources *s, ld_err *err)
{
	char **names;
	long n = ld_jnl_unsealed(s->dir, &s->m, &names, err);
	int rc = n < 0 ? -1 : 0;
	for (long i = 0; i < n && rc == 0; i++)
		rc = load_journal(s, names[i], err);
	ld_jnl_names_free(names, n);
	return rc;
}

static int cmp_source(const void *a, const void *b)
{
	const ld_scan_source *x = a, *y = b;
	if (x->min_ns != y->min_ns)
		return x->min_ns < y->min_ns ? -1 : 1;
	if (x->journal != y->journal)
		return x->journal ? 1 : -1;
	return 0; /* stable enough: the caller orders ties by name where it matters */
}

ld_scan_sources *ld_scan_sources_open(const char *dir, ld_err *err)
{
	ld_scan_sources *s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		ld_err_set(err, "out of memory");
		return NULL;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		ld_err_errno(err, "%s", dir);
		goto fail;
	}
	if (ld_manifest_load(dir, &s->m, err) != 0)
		goto fail;
	s->n_live = ld_manifest_live(&s->m, &s->live);
	if (s->n_live < 0) {
		s->n_live = 0;
		ld_err_set(err, "out of memory");
		goto fail;
	}
	if (load_journals(s, err) != 0)
		goto fail;
	s->src = calloc((size_t)s->n_live + s->n_j + 1, sizeof(*s->src));
	if (!s->src) {
		ld_err_set(err, "out of memory");
		goto fail;
	}
	for (long i = 0; i < s->n_live; i++) {
		const ld_mf_entry *e = s->live[i];
		s->src[s->n_src++] = (ld_scan_source){e->path, e->min_ns, e->max_ns, e->rows, false};
	}
	for (size_t i = 0; i < s->n_j; i++) {
		const ld_rowset *rs = &s->j[i].rs;
		s->src[s->n_src++] = (ld_scan_source){s->j[i].name, rs->ts_min, rs->ts_max, rs->n, true};
	}
	qsort(s->src, s->n_src, sizeof(*s->src), cmp_source);
	return s;
fail:
	ld_scan_sources_close(s);
	return NULL;
}

void ld_scan_sources_close(ld_scan_sources *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_j; i++) {
		ld_rowset_free(&s->j[i].rs);
		free(s->j[i].idx);
		free(s->j[i].strs);
	}
	free(s->j);
	free(s->src);
	free(s->live);
	ld_manifest_free(&s->m);
	free(s->dir);
	free(s);
}

size_t ld_scan_sources_count(const ld_scan_sources *s)
{
	return s->n_src;
}

const ld_scan_source *ld_scan_sources_get(const ld_scan_sources *s, size_t i)
{
	return i < s->n_src ? &s->src[i] : NULL;
}

/* --- cursors ------------------------------------------------------------------------------ */

/* Columns the push-down predicate reads (ld_scan() adds the same). */
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

static void damage(ld_scan_cursor *c, const char *seg, const char *why)
{
	if (c->spec->on_damage)
		c->spec->on_damage(c->damage_ctx, seg, why);
}

/* Opens the segment and resolves the host set; a damaged or pruned segment leaves c done. */
static void open_segment(ld_scan_cursor *c)
{
	const ld_scan_spec *spec = c->spec;
	const ld_mf_entry *e = c->e;
	c->done = true;
	if (e->max_ns < spec->from_ns || e->min_ns >= spec->to_ns)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", c->s->dir, e->path);
	ld_err err;
	if (ld_seg_open_file(&c->seg, path, &c->d, &err) != 0) {
		damage(c, e->path, err.msg);
		return;
	}
	c->seg_open = true;
	const ld_seg *s = &c->seg;
	if (s->size != e->size || s->hdr.rows != e->rows || s->hdr.ts_min != e->min_ns ||
	    s->hdr.ts_max != e->max_ns) {
		damage(c, e->path, "does not match its MANIFEST entry");
		return;
	}
	c->bspec = *spec;
	if (spec->n_hosts) {
		for (uint32_t k = 0; k < spec->n_hosts && c->n_ids < 64; k++) {
			int64_t id = ld_seg_find_addr(s, &spec->hosts[k]);
			if (id >= 0)
				c->host_ids[c->n_ids++] = (uint32_t)id;
		}
		if (c->n_ids == 0)
			return;
		if (spec->n_hosts > 64) { /* too many to prune blocks with: deliver every block */
			c->n_ids = 0;
			c->bspec.n_hosts = 0;
		}
	}
	if (ld_seg_columns_need_peers(c->columns) && ld_seg_load_peers(&c->seg, &c->d, &err) != 0) {
		damage(c, e->path, err.msg);
		return;
	}
	c->done = false;
}

ld_scan_cursor *ld_scan_cursor_open(ld_scan_sources *s, size_t i, const ld_scan_spec *spec,
				    void *damage_ctx, ld_err *err)
{
	if (i >= s->n_src) {
		ld_err_set(err, "no source %zu", i);
		return NULL;
	}
	ld_scan_cursor *c = calloc(1, sizeof(*c));
	if (!c || ld_decoder_init(&c->d) != 0) {
		free(c);
		ld_err_set(err, "out of memory for decode buffers");
		return NULL;
	}
	c->s = s;
	c->spec = spec;
	c->damage_ctx = damage_ctx;
	c->columns = (spec->columns | predicate_columns(spec)) & LD_COL_ALL;
	const ld_scan_source *src = &s->src[i];
	if (src->journal) {
		for (size_t k = 0; k < s->n_j; k++)
			if (s->j[k].name == src->name)
				c->j = &s->j[k];
		c->done = !c->j || src->max_ns < spec->from_ns || src->min_ns >= spec->to_ns;
	} else {
		for (long k = 0; k < s->n_live; k++)
			if (s->live[k]->path == src->name)
				c->e = s->live[k];
		if (c->e)
			open_segment(c);
		else
			c->done = true;
	}
	return c;
}

void ld_scan_cursor_close(ld_scan_cursor *c)
{
	if (!c)
		return;
	if (c->seg_open)
		ld_seg_close(&c->seg);
	ld_decoder_free(&c->d);
	free(c);
}

/* Drops the mapped pages of the block read before bi: a cursor reads each block once, and
 * without this the touched file pages of a long segment would add up in the process's RSS. */
static void release_block(ld_scan_cursor *c, uint32_t bi)
{
	const ld_seg *s = &c->seg;
	if (!s->map || bi >= s->hdr.blocks)
		return;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (unsigned k = 0; k < LD_SEG_NCOLS; k++) {
		const ld_seg_col *col = &s->blocks[bi].cols[k];
		if (!col->csize)
			continue;
		if (col->off < lo)
			lo = col->off;
		if (col->off + col->csize > hi)
			hi = col->off + col->csize;
	}
	long pg = sysconf(_SC_PAGESIZE);
	if (pg <= 0 || lo >= hi)
		return;
	uint64_t a = (lo + (uint64_t)pg - 1) / (uint64_t)pg * (uint64_t)pg, b = hi / (uint64_t)pg * (uint64_t)pg;
	if (a < b && b <= s->size)
		madvise((uint8_t *)s->map + a, b - a, MADV_DONTNEED);
}

static int next_segment_block(ld_scan_cursor *c, ld_block *out, ld_err *err)
{
	const ld_seg *s = &c->seg;
	if (c->next_block > 0)
		release_block(c, c->next_block - 1);
	while (c->next_block < s->hdr.blocks) {
		uint32_t b = c->next_block++;
		if (!ld_seg_block_may_match(s, b, &c->bspec, c->host_ids, c->n_ids))
			continue;
		uint32_t bad_cols = 0;
		ld_err derr;
		if (ld_seg_decode_block(&c->d, s, b, c->columns, out,
					c->spec->verify_all ? &bad_cols : NULL, &derr) != 0) {
			if (strcmp(derr.msg, "out of memory") == 0) {
				ld_err_set(err, "out of memory");
				return -1;
			}
			damage(c, c->e->path, derr.msg);
			continue;
		}
		if (bad_cols) {
			char why[160];
			snprintf(why, sizeof(why),
				 "block %u: checksum mismatch in columns 0x%04x (not used by this scan; "
				 "its rows are still read)", b, bad_cols);
			damage(c, c->e->path, why);
		}
		out->segment = c->e->path;
		return 1;
	}
	c->done = true;
	return 0;
}

/* Gathers the next LD_SEG_BLOCK_ROWS time-ordered journal rows into the decoder's buffers. */
static int next_journal_block(ld_scan_cursor *c, ld_block *out)
{
	const jsrc *j = c->j;
	const ld_rowset *rs = &j->rs;
	const ld_scan_spec *spec = c->spec;
	ld_decoder *d = &c->d;
	uint32_t cols = c->columns;
	while (c->off < rs->n) {
		size_t off = c->off;
		uint32_t n = (uint32_t)(rs->n - off < LD_SEG_BLOCK_ROWS ? rs->n - off : LD_SEG_BLOCK_ROWS);
		c->off += n;
		const uint32_t *ix = j->idx + off;
		if (rs->ts[ix[n - 1]] < spec->from_ns || rs->ts[ix[0]] >= spec->to_ns)
			continue;
		memset(out, 0, sizeof(*out));
		for (uint32_t i = 0; i < n; i++) {
			uint32_t r = ix[i];
			d->ts[i] = rs->ts[r];
			d->src[i] = rs->src[r];
			d->dst[i] = rs->dst[r];
			d->sport[i] = rs->sport[r];
			d->dport[i] = rs->dport[r];
			d->proto[i] = rs->proto[r];
			d->action[i] = rs->action[r];
			d->dir[i] = rs->dir[r];
			d->flags[i] = rs->flags[r];
			d->format[i] = rs->format[r];
			d->present[i] = rs->present[r];
			d->len[i] = rs->len[r];
			d->rule[i] = rs->rule[r];
			d->reporter[i] = rs->reporter[r];
			d->vif[i] = rs->vif[r];
		}
		if (cols & LD_COL_RAW) {
			for (uint32_t i = 0; i < n; i++) {
				uint32_t r = ix[i];
				uint32_t l = rs->raw_len ? rs->raw_len[r] : 0;
				d->raw[i].len = l;
				d->raw[i].ptr = l ? (const char *)rs->raw_bytes.p + rs->raw_off[r] : "";
			}
			out->raw = d->raw;
		}
		out->n = n;
		out->ts = cols & LD_COL_TS ? d->ts : NULL;
		out->src = cols & LD_COL_SRC ? d->src : NULL;
		out->dst = cols & LD_COL_DST ? d->dst : NULL;
		out->sport = cols & LD_COL_SPORT ? d->sport : NULL;
		out->dport = cols & LD_COL_DPORT ? d->dport : NULL;
		out->proto = cols & LD_COL_PROTO ? d->proto : NULL;
		out->action = cols & LD_COL_ACTION ? d->action : NULL;
		out->dir = cols & LD_COL_DIR ? d->dir : NULL;
		out->tcp_flags = cols & LD_COL_FLAGS ? d->flags : NULL;
		out->format = cols & LD_COL_FORMAT ? d->format : NULL;
		out->present = cols & LD_COL_PRESENT ? d->present : NULL;
		out->len = cols & LD_COL_LEN ? d->len : NULL;
		out->rule = cols & LD_COL_RULE ? d->rule : NULL;
		out->reporter = cols & LD_COL_REPORTER ? d->reporter : NULL;
		out->vif = cols & LD_COL_VIF ? d->vif : NULL;
		out->addrs = rs->addrs;
		out->n_addrs = rs->n_addrs;
		out->strs = j->strs;
		out->n_strs = rs->n_strs;
		out->segment = j->name;
		out->block_index = c->next_block++;
		return 1;
	}
	c->done = true;
	return 0;
}

int ld_scan_cursor_next(ld_scan_cursor *c, ld_block *out, ld_err *err)
{
	if (c->done)
		return 0;
	return c->j ? next_journal_block(c, out) : next_segment_block(c, out, err);
}
