/* query_eval.c — evaluates a parsed `--where` expression over decoded column blocks.
 *
 * Each node yields a byte mask (0/1 per row); and/or/not combine masks with straight loops the
 * compiler vectorizes.  Address and string leaves are resolved once per segment dictionary into
 * a byte table indexed by dictionary id, so a row costs one lookup whatever the size of the
 * address list or the number of prefixes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query_internal.h"

typedef struct leaf_lut {
	uint8_t *tab;
	uint32_t cap;
	/* identity of the dictionary the table was built for */
	const void *dict;
	uint32_t n;
	uint32_t n_match; /* entries with tab[i] == 1 */
	uint32_t match;   /* the matching id when n_match == 1 */
	char segment[256];
} leaf_lut;

struct ld_query_eval {
	const ld_query_expr *e;
	int64_t from_ns, to_ns;
	uint8_t **masks; /* one per nesting level */
	uint32_t n_masks, mask_cap;
	leaf_lut *luts;
};

ld_query_eval *ld_query_eval_new(const ld_query_expr *e, int64_t from_ns, int64_t to_ns)
{
	ld_query_eval *ev = calloc(1, sizeof *ev);
	if (!ev)
		return NULL;
	ev->e = e;
	ev->from_ns = from_ns;
	ev->to_ns = to_ns;
	ev->n_masks = (e ? e->depth * 2 : 0) + 3;
	ev->masks = calloc(ev->n_masks, sizeof *ev->masks);
	if (e && e->n_leaves)
		ev->luts = calloc(e->n_leaves, sizeof *ev->luts);
	if (!ev->masks || (e && e->n_leaves && !ev->luts)) {
		ld_query_eval_free(ev);
		return NULL;
	}
	return ev;
}

void ld_query_eval_free(ld_query_eval *ev)
{
	if (!ev)
		return;
	for (uint32_t i = 0; ev->masks && i < ev->n_masks; i++)
		free(ev->masks[i]);
	free(ev->masks);
	for (uint32_t i = 0; ev->luts && ev->e && i < ev->e->n_leaves; i++)
		free(ev->luts[i].tab);
	free(ev->luts);
	free(ev);
}

bool ld_query_eval_trivial(const ld_query_eval *ev)
{
	return !ev->e && ev->from_ns == INT64_MIN && ev->to_ns == INT64_MAX;
}

static bool ensure_masks(ld_query_eval *ev, uint32_t n)
{
	if (n <= ev->mask_cap)
		return true;
	uint32_t cap = n < 4096 ? 4096 : n;
	for (uint32_t i = 0; i < ev->n_masks; i++) {
		free(ev->masks[i]);
		ev->masks[i] = malloc(cap);
		if (!ev->masks[i]) {
			ev->mask_cap = 0;
			return false;
		}
	}
	ev->mask_cap = cap;
	return true;
}

/* --- dictionary tables ------------------------------------------------------------------------ */

static bool addr_in_leaf(const qnode *q, const ld_addr *a)
{
	uint32_t lo = 0, hi = q->n_exact;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = ld_addr_cmp(&q->exact[mid], a);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = 0; i < q->n_prefixes; i++)
		if (ld_prefix_contains(&q->prefixes[i], a))
			return true;
	return false;
}

static bool str_in_leaf(const qnode *q, const ld_str *s)
{
	for (uint32_t i = 0; i < q->n_strs; i++)
		if (q->strs[i].len == s->len && memcmp(q->strs[i].ptr, s->ptr, s->len) == 0)
			return true;
	return false;
}

/* The lookup table of leaf q for b's dictionary, (re)built when the dictionary changed.  The
 * table already folds in q->negate. */
static const leaf_lut *leaf_table(ld_query_eval *ev, const qnode *q, const ld_block *b)
{
	leaf_lut *l = &ev->luts[q->leaf_index];
	bool addr = q->leaf == QL_ADDRSET;
	const void *dict = addr ? (const void *)b->addrs : (const void *)b->strs;
	uint32_t n = addr ? b->n_addrs : b->n_strs;
	const char *seg = b->segment ? b->segment : "";
	if (l->tab && l->dict == dict && l->n == n && strncmp(l->segment, seg, sizeof l->segment) == 0)
		return l;
	if (n + 1 > l->cap) {
		uint32_t cap = n + 1 < 1024 ? 1024 : n + 1 + n / 2;
		uint8_t *t = realloc(l->tab, cap);
		if (!t)
			return NULL;
		l->tab = t;
		l->cap = cap;
	}
	uint8_t neg = q->negate ? 1 : 0;
	l->n_match = 0;
	for (uint32_t i = 0; i < n; i++) {
		bool in = addr ? addr_in_leaf(q, &b->addrs[i]) : str_in_leaf(q, &b->strs[i]);
		l->tab[i] = (uint8_t)(in ^ neg);
		if (l->tab[i]) {
			l->n_match++;
			l->match = i;
		}
	}
	l->dict = dict;
	l->n = n;
	snprintf(l->segment, sizeof l->segment, "%s", seg);
	return l;
}

/* --- leaves ----------------------------------------------------------------------------------- */

/* Range test written as one unsigned comparison in the column's own width, lo <= v <= hi, so
 * the loop vectorizes: the bounds are first clamped to the type's range (a range entirely
 * outside it matches nothing). */
#define RANGE_LOOP(arr, T, TMAX)                                                                 \
	do {                                                                                     \
		const T *v_ = (arr);                                                             \
		int64_t lo64_ = q->lo < 0 ? 0 : q->lo;                                           \
		int64_t hi64_ = q->hi > (int64_t)(TMAX) ? (int64_t)(TMAX) : q->hi;              \
		if (hi64_ < lo64_) {                                                             \
			memset(m, neg, n);                                                       \
			break;                                                                   \
		}                                                                                \
		T lo_ = (T)lo64_, span_ = (T)(hi64_ - lo64_);                                    \
		for (uint32_t i = 0; i < n; i++)                                                 \
			m[i] = (uint8_t)(((T)(v_[i] - lo_) <= span_) ^ neg);                     \
	} while (0)

#define RANGE_LOOP_TS(arr)                                                                       \
	do {                                                                                     \
		const int64_t *v_ = (arr);                                                       \
		uint64_t lo_ = (uint64_t)q->lo, span_ = (uint64_t)q->hi - (uint64_t)q->lo;       \
		for (uint32_t i = 0; i < n; i++)                                                 \
			m[i] = (uint8_t)(((uint64_t)v_[i] - lo_ <= span_) ^ neg);                \
	} while (0)

#define SET_LOOP(arr, T)                                                                       \
	do {                                                                                   \
		const T *v_ = (arr);                                                           \
		memset(m, 0, n);                                                               \
		for (uint32_t k = 0; k < q->n_nums; k++) {                                     \
			int64_t x_ = q->nums[k];                                               \
			for (uint32_t i = 0; i < n; i++)                                       \
				m[i] |= (uint8_t)((int64_t)v_[i] == x_);                       \
		}                                                                              \
		if (neg)                                                                       \
			for (uint32_t i = 0; i < n; i++)                                       \
				m[i] ^= 1;                                                     \
	} while (0)

static const void *num_column(const ld_block *b, unsigned col, int *width)
{
	*width = 1;
	switch (col) {
	case LD_QCOL_TS: *width = 8; return b->ts;
	case LD_QCOL_SPORT: *width = 2; return b->sport;
	case LD_QCOL_DPORT: *width = 2; return b->dport;
	case LD_QCOL_LEN: *width = 4; return b->len;
	case LD_QCOL_PROTO: return b->proto;
	case LD_QCOL_ACTION: return b->action;
	case LD_QCOL_DIR: return b->dir;
	case LD_QCOL_FLAGS: return b->tcp_flags;
	case LD_QCOL_FORMAT: return b->format;
	default: return NULL;
	}
}

static bool eval_leaf(ld_query_eval *ev, const qnode *q, const ld_block *b, uint8_t *m)
{
	uint32_t n = b->n;
	uint8_t neg = q->negate ? 1 : 0;
	if (q->leaf == QL_ADDRSET || q->leaf == QL_STRSET) {
		const leaf_lut *lut = leaf_table(ev, q, b);
		if (!lut)
			return false;
		const uint8_t *t = lut->tab;
		const uint32_t *ids;
		switch (q->col) {
		case LD_QCOL_SRC: ids = b->src; break;
		case LD_QCOL_DST: ids = b->dst; break;
		case LD_QCOL_RULE: ids = b->rule; break;
		case LD_QCOL_REPORTER: ids = b->reporter; break;
		case LD_QCOL_VIF: ids = b->vif; break;
		default: ids = NULL; break;
		}
		uint32_t lim = q->leaf == QL_ADDRSET ? b->n_addrs : b->n_strs;
		/* An id outside the dictionary (damaged data) matches nothing. */
		/* Dictionaries hold each value once, so an exact-match leaf usually matches one id
		 * (or none): compare ids directly, which vectorizes, instead of a table lookup. */
		bool direct = lut->n_match <= 1 && !neg;
		uint32_t want = lut->match;
		if (direct && lut->n_match == 0) {
			memset(m, 0, n);
			return true;
		}
		if (q->col == QCOL_HOST) {
			const uint32_t *s = b->src, *d = b->dst;
			if (!s || !d)
				return false;
			if (direct) {
				for (uint32_t i = 0; i < n; i++)
					m[i] = (uint8_t)((s[i] == want) | (d[i] == want));
			} else if (neg) { /* neither src nor dst in the set */
				for (uint32_t i = 0; i < n; i++)
					m[i] = (uint8_t)((s[i] < lim ? t[s[i]] : 1) & (d[i] < lim ? t[d[i]] : 1));
			} else {
				for (uint32_t i = 0; i < n; i++)
					m[i] = (uint8_t)((s[i] < lim ? t[s[i]] : 0) | (d[i] < lim ? t[d[i]] : 0));
			}
			return true;
		}
		if (!ids)
			return false;
		if (direct) {
			for (uint32_t i = 0; i < n; i++)
				m[i] = (uint8_t)(ids[i] == want);
			return true;
		}
		for (uint32_t i = 0; i < n; i++)
			m[i] = ids[i] < lim ? t[ids[i]] : 0;
		return true;
	}
	int w;
	const void *col = num_column(b, q->col, &w);
	if (!col)
		return false;
	if (q->leaf == QL_RANGE) {
		switch (w) {
		case 8: RANGE_LOOP_TS((const int64_t *)col); break;
		case 4: RANGE_LOOP((const uint32_t *)col, uint32_t, UINT32_MAX); break;
		case 2: RANGE_LOOP((const uint16_t *)col, uint16_t, UINT16_MAX); break;
		default: RANGE_LOOP((const uint8_t *)col, uint8_t, UINT8_MAX); break;
		}
	} else {
		switch (w) {
		case 8: SET_LOOP((const int64_t *)col, int64_t); break;
		case 4: SET_LOOP((const uint32_t *)col, uint32_t); break;
		case 2: SET_LOOP((const uint16_t *)col, uint16_t); break;
		default: SET_LOOP((const uint8_t *)col, uint8_t); break;
		}
	}
	return true;
}

static bool any_set(const uint8_t *m, uint32_t n)
{
	uint8_t acc = 0;
	for (uint32_t i = 0; i < n; i++)
		acc |= m[i];
	return acc != 0;
}

/* Evaluates q into m.  `level` picks scratch masks; nesting is bounded by the parser's depth
 * limit, and and/or chains (right-leaning) are walked in a loop. */
static bool eval_node(ld_query_eval *ev, const qnode *q, const ld_block *b, uint8_t *m, uint32_t level)
{
	uint32_t n = b->n;
	if (q->kind == QN_LEAF)
		return eval_leaf(ev, q, b, m);
	if (level + 1 >= ev->n_masks)
		return false;
	if (q->kind == QN_NOT) {
		if (!eval_node(ev, q->l, b, m, level + 1))
			return false;
		for (uint32_t i = 0; i < n; i++)
			m[i] ^= 1;
		return true;
	}
	enum qnode_kind kind = q->kind;
	uint8_t *tmp = ev->masks[level + 1];
	if (!eval_node(ev, q->l, b, m, level + 1))
		return false;
	for (const qnode *r = q->r; r;) {
		/* Short cuts: an all-zero and / all-one or cannot change. */
		if (kind == QN_AND && !any_set(m, n))
			return true;
		const qnode *operand = r->kind == kind ? r->l : r;
		if (!eval_node(ev, operand, b, tmp, level + 1))
			return false;
		if (kind == QN_AND)
			for (uint32_t i = 0; i < n; i++)
				m[i] &= tmp[i];
		else
			for (uint32_t i = 0; i < n; i++)
				m[i] |= tmp[i];
		r = r->kind == kind ? r->r : NULL;
	}
	return true;
}

/* Evaluates the expression and the time window of b into a mask; NULL on failure.  *all is set
 * when every row matches without evaluating anything. */
static const uint8_t *eval_mask(ld_query_eval *ev, const ld_block *b, bool *all)
{
	uint32_t n = b->n;
	bool window = ev->from_ns != INT64_MIN || ev->to_ns != INT64_MAX;
	*all = !ev->e && !window;
	if (*all)
		return NULL;
	if (!ensure_masks(ev, n))
		return NULL;
	uint8_t *m = ev->masks[0];
	if (ev->e) {
		if (!eval_node(ev, ev->e->root, b, m, 0))
			return NULL;
	} else {
		memset(m, 1, n);
	}
	if (window) {
		if (!b->ts)
			return NULL;
		int64_t from = ev->from_ns, to = ev->to_ns;
		for (uint32_t i = 0; i < n; i++)
			m[i] &= (uint8_t)(b->ts[i] >= from && b->ts[i] < to);
	}
	return m;
}

uint32_t ld_query_eval_block(ld_query_eval *ev, const ld_block *b, uint32_t *sel)
{
	uint32_t n = b->n;
	if (n == 0)
		return 0;
	bool all;
	const uint8_t *m = eval_mask(ev, b, &all);
	if (all) {
		for (uint32_t i = 0; i < n; i++)
			sel[i] = i;
		return n;
	}
	if (!m)
		return UINT32_MAX;
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++) {
		sel[k] = i;
		k += m[i];
	}
	return k;
}

uint32_t ld_query_eval_count(ld_query_eval *ev, const ld_block *b)
{
	uint32_t n = b->n;
	if (n == 0)
		return 0;
	bool all;
	const uint8_t *m = eval_mask(ev, b, &all);
	if (all)
		return n;
	if (!m)
		return UINT32_MAX;
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		k += m[i];
	return k;
}

/* --- push-down -------------------------------------------------------------------------------- */

static void pushdown_leaf(const qnode *q, ld_scan_spec *s)
{
	if (q->negate)
		return;
	switch (q->col) {
	case LD_QCOL_TS:
		if (q->leaf == QL_RANGE) {
			if (q->lo > s->from_ns)
				s->from_ns = q->lo;
			if (q->hi != INT64_MAX && q->hi + 1 < s->to_ns)
				s->to_ns = q->hi + 1;
		}
		break;
	case LD_QCOL_SRC:
	case LD_QCOL_DST:
	case QCOL_HOST:
		if (s->n_hosts == 0 && q->n_prefixes == 0 && q->n_exact > 0) {
			s->hosts = q->exact;
			s->n_hosts = q->n_exact;
			s->host_side = q->col == LD_QCOL_SRC ? 1 : q->col == LD_QCOL_DST ? 2 : 0;
		}
		break;
	case LD_QCOL_DPORT:
		if (s->dport < 0 && q->leaf == QL_RANGE && q->lo == q->hi)
			s->dport = (int32_t)q->lo;
		else if (s->dport < 0 && q->leaf == QL_NUMSET && q->n_nums == 1)
			s->dport = (int32_t)q->nums[0];
		break;
	case LD_QCOL_PROTO:
		if (s->proto < 0 && q->leaf == QL_RANGE && q->lo == q->hi)
			s->proto = (int32_t)q->lo;
		else if (s->proto < 0 && q->leaf == QL_NUMSET && q->n_nums == 1)
			s->proto = (int32_t)q->nums[0];
		break;
	case LD_QCOL_ACTION: {
		uint32_t mask = 0;
		if (q->leaf == QL_RANGE && q->lo == q->hi && q->lo >= 0 && q->lo < 32)
			mask = 1u << q->lo;
		for (uint32_t i = 0; q->leaf == QL_NUMSET && i < q->n_nums; i++)
			if (q->nums[i] >= 0 && q->nums[i] < 32)
				mask |= 1u << q->nums[i];
		if (mask)
			s->action_mask = s->action_mask ? (s->action_mask & mask) : mask;
		/* An empty intersection would mean "any" to the scanner; keep one impossible bit. */
		if (mask && !s->action_mask)
			s->action_mask = 1u << 31;
		break;
	}
	default: break;
	}
}

static void pushdown_node(const qnode *q, ld_scan_spec *s)
{
	/* Only and-conjuncts constrain every matching row; and-chains lean right, so loop on r. */
	for (; q; q = q->kind == QN_AND ? q->r : NULL) {
		const qnode *operand = q->kind == QN_AND ? q->l : q;
		if (operand->kind == QN_LEAF)
			pushdown_leaf(operand, s);
		else if (operand->kind == QN_AND)
			pushdown_node(operand, s);
	}
}

void ld_query_pushdown(const ld_query_expr *e, ld_scan_spec *s)
{
	if (e)
		pushdown_node(e->root, s);
}
