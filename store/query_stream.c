/* query_stream.c — matching rows of a whole data directory in time order, with memory bounded
 * by the sources open at once rather than by the result.
 *
 * Every source (segment, journal) is time-ordered on its own; sources of different days never
 * overlap, sources of one day may.  Sources are opened lazily in order of their first timestamp:
 * one is opened only when the merge reaches its first timestamp, and closed when it runs dry,
 * so only the sources whose spans cover the current time hold a decoded block.  The open ones
 * are merged with a binary heap on (time, rank of the source name); within a source rows keep
 * their order, which makes the output a total order independent of how the store was read. */
#include <stdlib.h>
#include <string.h>

#include "ld_query.h"
#include "ld_scan_cursor.h"

typedef struct qcur {
	ld_scan_cursor *c;
	ld_query_eval *ev;
	ld_block b;
	uint32_t *sel;
	uint32_t nsel, pos, sel_cap;
	uint32_t rank; /* order of the source's name among all sources */
	int64_t last_ts;
	bool warned;
} qcur;

struct ld_query_stream {
	ld_scan_sources *src;
	const ld_query_expr *expr;
	ld_scan_spec spec;
	void *damage_ctx;
	int64_t from_ns, to_ns;
	size_t n_src, next_open;
	uint32_t *rank;
	qcur *cur;   /* one slot per source, used while it is open */
	size_t *heap; /* indices into cur */
	size_t nh;
	bool pending; /* the heap top's current row was handed out: advance it first */
	ld_query_stream_stats st;
};

static int cmp_name_idx(const void *a, const void *b, void *ctx)
{
	const ld_scan_sources *s = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(ld_scan_sources_get(s, x)->name, ld_scan_sources_get(s, y)->name);
	return c ? c : (x > y) - (x < y);
}

ld_query_stream *ld_query_stream_open(const char *dir, const ld_query_expr *e, const ld_scan_spec *spec,
				      void *damage_ctx, ld_err *err)
{
	ld_query_stream *s = calloc(1, sizeof(*s));
	if (!s) {
		ld_err_set(err, "out of memory");
		return NULL;
	}
	s->expr = e;
	s->spec = *spec;
	s->spec.columns |= LD_COL_TS;
	s->damage_ctx = damage_ctx;
	s->from_ns = spec->from_ns;
	s->to_ns = spec->to_ns;
	s->src = ld_scan_sources_open(dir, err);
	if (!s->src) {
		free(s);
		return NULL;
	}
	s->n_src = ld_scan_sources_count(s->src);
	s->st.sources_total = s->n_src;
	size_t n = s->n_src ? s->n_src : 1;
	s->rank = malloc(n * sizeof(*s->rank));
	s->cur = calloc(n, sizeof(*s->cur));
	s->heap = malloc(n * sizeof(*s->heap));
	size_t *by_name = malloc(n * sizeof(*by_name));
	if (!s->rank || !s->cur || !s->heap || !by_name) {
		free(by_name);
		ld_query_stream_close(s);
		ld_err_set(err, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < s->n_src; i++)
		by_name[i] = i;
	qsort_r(by_name, s->n_src, sizeof(*by_name), cmp_name_idx, s->src);
	for (size_t r = 0; r < s->n_src; r++)
		s->rank[by_name[r]] = (uint32_t)r;
	free(by_name);
	return s;
}

static void cur_close(qcur *c)
{
	ld_scan_cursor_close(c->c);
	ld_query_eval_free(c->ev);
	free(c->sel);
	memset(c, 0, sizeof(*c));
}

void ld_query_stream_close(ld_query_stream *s)
{
	if (!s)
		return;
	if (s->cur)
		for (size_t i = 0; i < s->n_src; i++)
			cur_close(&s->cur[i]);
	free(s->cur);
	free(s->heap);
	free(s->rank);
	ld_scan_sources_close(s->src);
	free(s);
}

void ld_query_stream_get_stats(const ld_query_stream *s, ld_query_stream_stats *st)
{
	*st = s->st;
}

/* Moves c to its next matching row, reading blocks as needed.  1 when it has one, 0 when the
 * source is exhausted, -1 on error. */
static int cur_fill(ld_query_stream *s, qcur *c, const char *name, ld_err *err)
{
	while (c->pos >= c->nsel) { /* bounded: every pass consumes one block of the source */
		int r = ld_scan_cursor_next(c->c, &c->b, err);
		if (r <= 0)
			return r;
		if (c->b.n > c->sel_cap) {
			uint32_t *sel = realloc(c->sel, c->b.n * sizeof(*sel));
			if (!sel) {
				ld_err_set(err, "out of memory");
				return -1;
			}
			c->sel = sel;
			c->sel_cap = c->b.n;
		}
		s->st.blocks++;
		s->st.rows_scanned += c->b.n;
		if (c->b.segment && strncmp(c->b.segment, "journal/", 8) == 0)
			s->st.journal_rows += c->b.n;
		uint32_t k = ld_query_eval_block(c->ev, &c->b, c->sel);
		if (k == UINT32_MAX) {
			ld_err_set(err, "cannot evaluate --where on block %u of %s", c->b.block_index, name);
			return -1;
		}
		c->nsel = k;
		c->pos = 0;
	}
	int64_t ts = c->b.ts[c->sel[c->pos]];
	if (ts < c->last_ts && !c->warned) {
		/* sealed sources are sorted; one that is not can only be merged as it comes */
		c->warned = true;
		s->st.unordered_sources++;
		if (s->spec.on_damage)
			s->spec.on_damage(s->damage_ctx, name, "rows not in time order (printed as stored)");
	}
	c->last_ts = ts;
	return 1;
}

static int64_t head_ts(const qcur *c)
{
	return c->b.ts[c->sel[c->pos]];
}

static bool before(const ld_query_stream *s, size_t a, size_t b)
{
	int64_t x = head_ts(&s->cur[a]), y = head_ts(&s->cur[b]);
	if (x != y)
		return x < y;
	return s->cur[a].rank < s->cur[b].rank;
}

static void heap_down(ld_query_stream *s, size_t p)
{
	for (;;) {
		size_t c = 2 * p + 1;
		if (c >= s->nh)
			return;
		if (c + 1 < s->nh && before(s, s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s, s->heap[c], s->heap[p]))
			return;
		size_t t = s->heap[c];
		s->heap[c] = s->heap[p];
		s->heap[p] = t;
		p = c;
	}
}

static void heap_up(ld_query_stream *s, size_t p)
{
	while (p > 0) {
		size_t q = (p - 1) / 2;
		if (!before(s, s->heap[p], s->heap[q]))
			return;
		size_t t = s->heap[q];
		s->heap[q] = s->heap[p];
		s->heap[p] = t;
		p = q;
	}
}

/* Opens source i and pushes it when it has a matching row. */
static int open_source(ld_query_stream *s, size_t i, ld_err *err)
{
	const ld_scan_source *src = ld_scan_sources_get(s->src, i);
	if (src->max_ns < s->from_ns || src->min_ns >= s->to_ns)
		return 0;
	qcur *c = &s->cur[i];
	c->rank = s->rank[i];
	c->last_ts = INT64_MIN;
	c->ev = ld_query_eval_new(s->expr, s->from_ns, s->to_ns);
	if (!c->ev) {
		cur_close(c);
		ld_err_set(err, "out of memory");
		return -1;
	}
	c->c = ld_scan_cursor_open(s->src, i, &s->spec, s->damage_ctx, err);
	if (!c->c) {
		cur_close(c);
		return -1;
	}
	s->st.sources_opened++;
	int r = cur_fill(s, c, src->name, err);
	if (r <= 0) {
		cur_close(c);
		return r;
	}
	s->heap[s->nh++] = i;
	heap_up(s, s->nh - 1);
	if (s->nh > s->st.max_open)
		s->st.max_open = s->nh;
	return 0;
}

int ld_query_stream_next(ld_query_stream *s, const ld_block **b, uint32_t *row, ld_err *err)
{
	if (s->pending) {
		s->pending = false;
		size_t i = s->heap[0];
		qcur *c = &s->cur[i];
		c->pos++;
		int r = cur_fill(s, c, ld_scan_sources_get(s->src, i)->name, err);
		if (r < 0)
			return -1;
		if (r == 0) {
			cur_close(c);
			s->heap[0] = s->heap[--s->nh];
		}
		heap_down(s, 0);
	}
	/* a source starting at or before the current head may hold an earlier (or tied) row */
	while (s->next_open < s->n_src &&
	       (s->nh == 0 || ld_scan_sources_get(s->src, s->next_open)->min_ns <= head_ts(&s->cur[s->heap[0]]))) {
		if (ld_scan_sources_get(s->src, s->next_open)->min_ns >= s->to_ns) {
			s->next_open = s->n_src; /* sources are ordered by first time: none left */
			break;
		}
		if (open_source(s, s->next_open++, err) != 0)
			return -1;
	}
	if (s->nh == 0)
		return 0;
	qcur *c = &s->cur[s->heap[0]];
	*b = &c->b;
	*row = c->sel[c->pos];
	s->pending = true;
	s->st.rows_out++;
	return 1;
}
