/* query_parse.c — recursive-descent parser for `--where` expressions (grammar in ld_query.h).
 *
 * The lexer hands out tokens with their 1-based column so every error can point at the place
 * where the text went wrong.  Values are checked against their column while parsing, so a bad
 * address or an unknown action name is reported here, not at scan time. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_time.h"
#include "query_internal.h"

#define MAX_DEPTH 200

enum tok_kind { T_END, T_LPAREN, T_RPAREN, T_COMMA, T_OP, T_WORD, T_STRING, T_AND, T_OR, T_NOT };
enum qop { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE };

typedef struct token {
	enum tok_kind kind;
	enum qop op;
	const char *s; /* word/string text (string: without quotes, escapes kept) */
	uint32_t len;
	uint32_t pos; /* 1-based */
} token;

typedef struct parser {
	const char *text;
	size_t len, at;
	token tok;
	int64_t now_ns;
	uint32_t n_leaves, depth, max_depth;
	ld_err *err;
	bool failed;
} parser;

static const char *const col_names[LD_QCOL_COUNT_] = {
	"ts", "src", "dst", "sport", "dport", "proto", "action", "dir", "rule", "reporter", "vif",
	"flags", "len", "format",
};

static const uint32_t col_bits[LD_QCOL_COUNT_] = {
	LD_COL_TS, LD_COL_SRC, LD_COL_DST, LD_COL_SPORT, LD_COL_DPORT, LD_COL_PROTO, LD_COL_ACTION,
	LD_COL_DIR, LD_COL_RULE, LD_COL_REPORTER, LD_COL_VIF, LD_COL_FLAGS, LD_COL_LEN, LD_COL_FORMAT,
};

const char *ld_qcol_name(unsigned col)
{
	if (col == QCOL_HOST)
		return "host";
	return col < LD_QCOL_COUNT_ ? col_names[col] : "?";
}

static bool word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

int ld_qcol_from_name(const char *s, size_t len)
{
	for (unsigned i = 0; i < LD_QCOL_COUNT_; i++)
		if (word_is(s, len, col_names[i]))
			return (int)i;
	return -1;
}

uint32_t ld_qcol_scan_bit(unsigned col)
{
	if (col == QCOL_HOST)
		return LD_COL_SRC | LD_COL_DST;
	return col < LD_QCOL_COUNT_ ? col_bits[col] : 0;
}

/* --- errors ------------------------------------------------------------------------------------ */

static void fail(parser *p, uint32_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(parser *p, uint32_t pos, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ld_err_set(p->err, "at column %u: %s", pos, msg);
}

/* Token text for messages, shortened. */
static const char *tok_desc(const token *t, char *buf, size_t cap)
{
	switch (t->kind) {
	case T_END: return "end of expression";
	case T_LPAREN: return "'('";
	case T_RPAREN: return "')'";
	case T_COMMA: return "','";
	default: break;
	}
	snprintf(buf, cap, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
	return buf;
}

/* --- lexer ------------------------------------------------------------------------------------- */

static bool is_word_char(unsigned char c)
{
	return c > ' ' && c != 0x7f && !strchr("()=!<>,\"'&|", c);
}

static void next(parser *p)
{
	const char *t = p->text;
	while (p->at < p->len && isspace((unsigned char)t[p->at]))
		p->at++;
	token *k = &p->tok;
	k->pos = (uint32_t)p->at + 1;
	k->s = t + p->at;
	k->len = 0;
	if (p->at >= p->len) {
		k->kind = T_END;
		return;
	}
	char c = t[p->at];
	char c2 = p->at + 1 < p->len ? t[p->at + 1] : 0;
	size_t take = 1;
	switch (c) {
	case '(': k->kind = T_LPAREN; break;
	case ')': k->kind = T_RPAREN; break;
	case ',': k->kind = T_COMMA; break;
	case '=':
		k->kind = T_OP;
		k->op = OP_EQ;
		take = c2 == '=' ? 2 : 1;
		break;
	case '!':
		if (c2 == '=') {
			k->kind = T_OP;
			k->op = OP_NE;
			take = 2;
		} else {
			k->kind = T_NOT;
		}
		break;
	case '<':
		k->kind = T_OP;
		k->op = c2 == '=' ? OP_LE : OP_LT;
		take = c2 == '=' ? 2 : (c2 == '>' ? 2 : 1);
		if (c2 == '>')
			k->op = OP_NE;
		break;
	case '>':
		k->kind = T_OP;
		k->op = c2 == '=' ? OP_GE : OP_GT;
		take = c2 == '=' ? 2 : 1;
		break;
	case '&':
	case '|':
		if (c2 != c) {
			k->kind = T_WORD; /* reported by the parser as unexpected */
			k->len = 1;
			p->at += 1;
			return;
		}
		k->kind = c == '&' ? T_AND : T_OR;
		take = 2;
		break;
	case '"':
	case '\'': {
		size_t i = p->at + 1;
		while (i < p->len && t[i] != c) {
			if (t[i] == '\\' && i + 1 < p->len)
				i++;
			i++;
		}
		if (i >= p->len) {
			fail(p, k->pos, "unterminated string");
			k->kind = T_END;
			p->at = p->len;
			return;
		}
		k->kind = T_STRING;
		k->s = t + p->at + 1;
		k->len = (uint32_t)(i - p->at - 1);
		p->at = i + 1;
		return;
	}
	default: {
		size_t i = p->at;
		while (i < p->len && is_word_char((unsigned char)t[i]))
			i++;
		if (i == p->at) {
			k->kind = T_WORD;
			k->len = 1;
			p->at++;
			return;
		}
		k->len = (uint32_t)(i - p->at);
		p->at = i;
		if (word_is(k->s, k->len, "and"))
			k->kind = T_AND;
		else if (word_is(k->s, k->len, "or"))
			k->kind = T_OR;
		else if (word_is(k->s, k->len, "not"))
			k->kind = T_NOT;
		else
			k->kind = T_WORD;
		return;
	}
	}
	k->len = (uint32_t)take;
	p->at += take;
}

/* --- tree -------------------------------------------------------------------------------------- */

static void node_free(qnode *n)
{
	/* Iterative on the right spine (long and/or chains), recursive on the left (bounded by
	 * MAX_DEPTH). */
	while (n) {
		qnode *r = n->r;
		node_free(n->l);
		free(n->nums);
		free(n->exact);
		free(n->prefixes);
		for (uint32_t i = 0; i < n->n_strs; i++)
			free(n->strs[i].ptr);
		free(n->strs);
		free(n);
		n = r;
	}
}

void ld_query_free(ld_query_expr *e)
{
	if (!e)
		return;
	node_free(e->root);
	free(e);
}

static qnode *node_new(parser *p, enum qnode_kind kind, uint32_t pos)
{
	qnode *n = calloc(1, sizeof *n);
	if (!n)
		fail(p, pos, "out of memory");
	else {
		n->kind = kind;
		n->pos = pos;
	}
	return n;
}

static bool grow(parser *p, void **arr, uint32_t n, size_t elem)
{
	if ((n & (n - 1)) == 0) { /* power of two (or 0): double */
		size_t cap = n ? (size_t)n * 2 : 4;
		void *a = realloc(*arr, cap * elem);
		if (!a) {
			fail(p, p->tok.pos, "out of memory");
			return false;
		}
		*arr = a;
	}
	return true;
}

/* --- values ------------------------------------------------------------------------------------ */

static bool tok_value(const token *t)
{
	return t->kind == T_WORD || t->kind == T_STRING;
}

static bool parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	if (len == 0 || len > 20)
		return false;
	uint64_t v = 0;
	int base = 10;
	size_t i = 0;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < len; i++) {
		int d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && isxdigit((unsigned char)c))
			d = (tolower((unsigned char)c) - 'a') + 10;
		else
			return false;
		if (v > (max - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return true;
}

/* Numeric value of t for col; false (error set) when it does not fit. */
static bool parse_num(parser *p, unsigned col, const token *t, int64_t *out)
{
	char tmp[96];
	const char *cn = ld_qcol_name(col);
	if (t->kind == T_STRING && col != LD_QCOL_TS && col != LD_QCOL_FLAGS && col != LD_QCOL_PROTO &&
	    col != LD_QCOL_ACTION && col != LD_QCOL_DIR && col != LD_QCOL_FORMAT) {
		fail(p, t->pos, "expected a number for %s, got a quoted string", cn);
		return false;
	}
	uint64_t v;
	int r;
	switch (col) {
	case LD_QCOL_TS: {
		if (t->len >= sizeof tmp) {
			fail(p, t->pos, "'%.40s...' is not a time (RFC 3339, e.g. 2026-11-02T08:00:00Z)",
			     t->s);
			return false;
		}
		memcpy(tmp, t->s, t->len);
		tmp[t->len] = 0;
		if (!ld_time_parse_arg(tmp, p->now_ns, out)) {
			fail(p, t->pos, "'%s' is not a time (RFC 3339, e.g. 2026-11-02T08:00:00Z)", tmp);
			return false;
		}
		return true;
	}
	case LD_QCOL_SPORT:
	case LD_QCOL_DPORT:
		if (!parse_uint(t->s, t->len, 65535, &v)) {
			fail(p, t->pos, "%s is not a port number (0-65535)", tok_desc(t, tmp, sizeof tmp));
			return false;
		}
		*out = (int64_t)v;
		return true;
	case LD_QCOL_LEN:
		if (!parse_uint(t->s, t->len, UINT32_MAX, &v)) {
			fail(p, t->pos, "%s is not a length (0-4294967295)", tok_desc(t, tmp, sizeof tmp));
			return false;
		}
		*out = (int64_t)v;
		return true;
	case LD_QCOL_PROTO:
		if (parse_uint(t->s, t->len, 255, &v)) {
			*out = (int64_t)v;
			return true;
		}
		r = ld_proto_from_name(t->s, t->len);
		if (r < 0) {
			fail(p, t->pos, "%s is not a protocol name or number (e.g. tcp, udp, icmp, 47)",
			     tok_desc(t, tmp, sizeof tmp));
			return false;
		}
		*out = r;
		return true;
	case LD_QCOL_ACTION:
		r = ld_action_from_name(t->s, t->len);
		if (r < 0) {
			fail(p, t->pos, "%s is not an action (drop, reject, deny, allow, other, unknown)",
			     tok_desc(t, tmp, sizeof tmp));
			return false;
		}
		*out = r;
		return true;
	case LD_QCOL_DIR:
		r = ld_dir_from_name(t->s, t->len);
		if (r < 0) {
			fail(p, t->pos, "%s is not a direction (in, out, unknown)", tok_desc(t, tmp, sizeof tmp));
			return false;
		}
		*out = r;
		return true;
	case LD_QCOL_FORMAT:
		r = ld_format_from_name(t->s, t->len);
		if (r < 0) {
			fail(p, t->pos, "%s is not a format name (e.g. nsx, iptables, asa, ipfix, pcap)",
			     tok_desc(t, tmp, sizeof tmp));
			return false;
		}
		*out = r;
		return true;
	case LD_QCOL_FLAGS:
		if (t->len > 0 && isdigit((unsigned char)t->s[0]) && parse_uint(t->s, t->len, 255, &v)) {
			*out = (int64_t)v;
			return true;
		}
		r = t->len ? ld_tcp_flags_parse(t->s, t->len) : -1;
		if (r < 0) {
			fail(p, t->pos, "%s is not a set of TCP flag letters (S A F R P U E W)",
			     tok_desc(t, tmp, sizeof tmp));
			return false;
		}
		*out = r;
		return true;
	default:
		fail(p, t->pos, "internal: %s is not numeric", cn);
		return false;
	}
}

static bool add_addr_value(parser *p, qnode *n, const token *t)
{
	char tmp[96];
	ld_prefix pf;
	if (t->len == 0) { /* quoted addresses are accepted as they are */
		fail(p, t->pos, "expected an address or prefix for %s", ld_qcol_name(n->col));
		return false;
	}
	if (memchr(t->s, '/', t->len)) {
		if (!ld_prefix_parse(&pf, t->s, t->len)) {
			fail(p, t->pos, "%s is not a CIDR prefix (e.g. 10.64.3.0/24, fd00::/64)",
			     tok_desc(t, tmp, sizeof tmp));
			return false;
		}
	} else {
		if (!ld_addr_parse(&pf.addr, t->s, t->len)) {
			fail(p, t->pos, "%s is not an IPv4 or IPv6 address", tok_desc(t, tmp, sizeof tmp));
			return false;
		}
		pf.bits = 128;
	}
	if (pf.bits >= 128) {
		if (!grow(p, (void **)&n->exact, n->n_exact, sizeof *n->exact))
			return false;
		n->exact[n->n_exact++] = pf.addr;
	} else {
		if (!grow(p, (void **)&n->prefixes, n->n_prefixes, sizeof *n->prefixes))
			return false;
		n->prefixes[n->n_prefixes++] = pf;
	}
	return true;
}

/* Quoted strings keep their bytes except that \x means x. */
static bool add_str_value(parser *p, qnode *n, const token *t)
{
	if (!grow(p, (void **)&n->strs, n->n_strs, sizeof *n->strs))
		return false;
	char *s = malloc(t->len + 1u);
	if (!s) {
		fail(p, t->pos, "out of memory");
		return false;
	}
	uint32_t o = 0;
	for (uint32_t i = 0; i < t->len; i++) {
		if (t->kind == T_STRING && t->s[i] == '\\' && i + 1 < t->len)
			i++;
		s[o++] = t->s[i];
	}
	s[o] = 0;
	n->strs[n->n_strs].ptr = s;
	n->strs[n->n_strs].len = o;
	n->n_strs++;
	return true;
}

static bool add_num_value(parser *p, qnode *n, const token *t)
{
	int64_t v;
	if (!parse_num(p, n->col, t, &v))
		return false;
	if (!grow(p, (void **)&n->nums, n->n_nums, sizeof *n->nums))
		return false;
	n->nums[n->n_nums++] = v;
	return true;
}

static bool add_value(parser *p, qnode *n, const token *t)
{
	switch (n->leaf) {
	case QL_ADDRSET: return add_addr_value(p, n, t);
	case QL_STRSET: return add_str_value(p, n, t);
	default: return add_num_value(p, n, t);
	}
}

static int cmp_addr(const void *a, const void *b)
{
	return ld_addr_cmp(a, b);
}

/* --- grammar ----------------------------------------------------------------------------------- */

static qnode *parse_or(parser *p);

static enum qleaf_kind leaf_kind_of(unsigned col)
{
	switch (col) {
	case LD_QCOL_SRC:
	case LD_QCOL_DST:
	case QCOL_HOST: return QL_ADDRSET;
	case LD_QCOL_RULE:
	case LD_QCOL_REPORTER:
	case LD_QCOL_VIF: return QL_STRSET;
	default: return QL_RANGE;
	}
}

static bool col_ordered(unsigned col)
{
	switch (col) {
	case LD_QCOL_TS:
	case LD_QCOL_SPORT:
	case LD_QCOL_DPORT:
	case LD_QCOL_PROTO:
	case LD_QCOL_LEN: return true;
	default: return false;
	}
}

static const char *op_text(enum qop op)
{
	static const char *const t[] = {"=", "!=", "<", ">", "<=", ">="};
	return t[op];
}

/* After the column (or `host`): operator and value(s). */
static qnode *parse_compare(parser *p, unsigned col, uint32_t pos)
{
	qnode *n = node_new(p, QN_LEAF, pos);
	if (!n)
		return NULL;
	n->col = col;
	n->leaf = leaf_kind_of(col);
	n->leaf_index = p->n_leaves++;
	char tmp[96];
	const char *cn = ld_qcol_name(col);

	bool is_in = false;
	enum qop op = OP_EQ;
	if (p->tok.kind == T_NOT) {
		next(p);
		if (!(p->tok.kind == T_WORD && word_is(p->tok.s, p->tok.len, "in"))) {
			fail(p, p->tok.pos, "expected 'in' after '%s not'", cn);
			goto bad;
		}
		n->negate = true;
		is_in = true;
		next(p);
	} else if (p->tok.kind == T_WORD && word_is(p->tok.s, p->tok.len, "in")) {
		is_in = true;
		next(p);
	} else if (p->tok.kind == T_OP) {
		op = p->tok.op;
		next(p);
	} else if (col == QCOL_HOST && tok_value(&p->tok)) {
		op = OP_EQ; /* `host X` */
	} else {
		fail(p, p->tok.pos, "expected an operator (=, !=, <, >, <=, >=, in) after '%s', got %s", cn,
		     tok_desc(&p->tok, tmp, sizeof tmp));
		goto bad;
	}

	if (is_in) {
		if (n->leaf == QL_RANGE)
			n->leaf = QL_NUMSET;
		if (p->tok.kind == T_LPAREN) {
			next(p);
			for (;;) { /* bounded: every turn consumes tokens */
				if (!tok_value(&p->tok)) {
					fail(p, p->tok.pos, "expected a value in the list for '%s in (...)', got %s",
					     cn, tok_desc(&p->tok, tmp, sizeof tmp));
					goto bad;
				}
				if (!add_value(p, n, &p->tok))
					goto bad;
				next(p);
				if (p->tok.kind == T_RPAREN)
					break;
				if (p->tok.kind != T_COMMA) {
					fail(p, p->tok.pos, "expected ',' or ')' in the list, got %s",
					     tok_desc(&p->tok, tmp, sizeof tmp));
					goto bad;
				}
				next(p);
			}
			next(p);
		} else if (tok_value(&p->tok)) {
			if (!add_value(p, n, &p->tok))
				goto bad;
			next(p);
		} else {
			fail(p, p->tok.pos, "expected a value or '(' after 'in', got %s",
			     tok_desc(&p->tok, tmp, sizeof tmp));
			goto bad;
		}
	} else {
		if (!tok_value(&p->tok)) {
			fail(p, p->tok.pos, "expected a value after '%s', got %s",
			     col == QCOL_HOST && op == OP_EQ ? "host" : op_text(op),
			     tok_desc(&p->tok, tmp, sizeof tmp));
			goto bad;
		}
		if (op != OP_EQ && op != OP_NE && !col_ordered(col)) {
			fail(p, pos, "'%s' cannot be compared with '%s' (only =, != and in)", cn, op_text(op));
			goto bad;
		}
		if (n->leaf == QL_RANGE) {
			int64_t v;
			if (!parse_num(p, col, &p->tok, &v))
				goto bad;
			n->lo = INT64_MIN;
			n->hi = INT64_MAX;
			switch (op) {
			case OP_EQ: n->lo = n->hi = v; break;
			case OP_NE: n->lo = n->hi = v; n->negate = true; break;
			case OP_LT:
				if (v == INT64_MIN)
					n->negate = true; /* empty: complement of everything */
				else
					n->hi = v - 1;
				break;
			case OP_GT:
				if (v == INT64_MAX)
					n->negate = true;
				else
					n->lo = v + 1;
				break;
			case OP_LE: n->hi = v; break;
			case OP_GE: n->lo = v; break;
			}
		} else {
			if (!add_value(p, n, &p->tok))
				goto bad;
			if (op == OP_NE)
				n->negate = true;
		}
		next(p);
	}
	if (p->failed)
		goto bad;
	if (n->n_exact > 1)
		qsort(n->exact, n->n_exact, sizeof *n->exact, cmp_addr);
	return n;
bad:
	node_free(n);
	return NULL;
}

static qnode *parse_unary(parser *p)
{
	char tmp[96];
	if (++p->depth > MAX_DEPTH) {
		fail(p, p->tok.pos, "expression nested too deeply (more than %d levels)", MAX_DEPTH);
		return NULL;
	}
	if (p->depth > p->max_depth)
		p->max_depth = p->depth;
	qnode *res = NULL;
	token t = p->tok;
	if (t.kind == T_NOT) {
		next(p);
		qnode *inner = parse_unary(p);
		if (inner) {
			res = node_new(p, QN_NOT, t.pos);
			if (res)
				res->l = inner;
			else
				node_free(inner);
		}
	} else if (t.kind == T_LPAREN) {
		next(p);
		res = parse_or(p);
		if (res && p->tok.kind != T_RPAREN) {
			fail(p, p->tok.pos, "expected ')' to close the '(' at column %u, got %s", t.pos,
			     tok_desc(&p->tok, tmp, sizeof tmp));
			node_free(res);
			res = NULL;
		} else if (res) {
			next(p);
		}
	} else if (t.kind == T_WORD && word_is(t.s, t.len, "host")) {
		next(p);
		res = parse_compare(p, QCOL_HOST, t.pos);
	} else if (t.kind == T_WORD) {
		int col = ld_qcol_from_name(t.s, t.len);
		if (col < 0) {
			fail(p, t.pos, "unknown column '%.*s' (columns: ts src dst sport dport proto action dir "
				       "rule reporter vif flags len format, or host)",
			     (int)(t.len > 40 ? 40 : t.len), t.s);
		} else {
			next(p);
			res = parse_compare(p, (unsigned)col, t.pos);
		}
	} else {
		fail(p, t.pos, "expected a column, 'host', 'not' or '(', got %s", tok_desc(&t, tmp, sizeof tmp));
	}
	p->depth--;
	return res;
}

static qnode *parse_chain(parser *p, enum tok_kind sep, enum qnode_kind kind)
{
	qnode *left = kind == QN_AND ? parse_unary(p) : parse_chain(p, T_AND, QN_AND);
	if (!left)
		return NULL;
	/* Build a right-leaning chain iteratively so long chains don't recurse. */
	qnode *head = left, **slot = &head;
	while (p->tok.kind == sep) {
		uint32_t pos = p->tok.pos;
		next(p);
		qnode *right = kind == QN_AND ? parse_unary(p) : parse_chain(p, T_AND, QN_AND);
		if (!right) {
			node_free(head);
			return NULL;
		}
		qnode *n = node_new(p, kind, pos);
		if (!n) {
			node_free(right);
			node_free(head);
			return NULL;
		}
		n->l = *slot;
		n->r = right;
		*slot = n;
		slot = &n->r;
	}
	return head;
}

static qnode *parse_or(parser *p)
{
	return parse_chain(p, T_OR, QN_OR);
}

/* --- columns ----------------------------------------------------------------------------------- */

static uint32_t node_columns(const qnode *n)
{
	uint32_t c = 0;
	for (; n; n = n->r) {
		if (n->kind == QN_LEAF)
			return c | ld_qcol_scan_bit(n->col);
		c |= node_columns(n->l);
		if (n->kind == QN_NOT)
			break;
	}
	return c;
}

uint32_t ld_query_columns(const ld_query_expr *e)
{
	return e ? e->columns : 0;
}

ld_query_expr *ld_query_parse(const char *text, int64_t now_ns, ld_err *err)
{
	parser p = {.text = text, .len = strlen(text), .now_ns = now_ns, .err = err};
	next(&p);
	if (p.tok.kind == T_END && !p.failed) {
		fail(&p, p.tok.pos, "empty expression");
		return NULL;
	}
	qnode *root = parse_or(&p);
	if (root && !p.failed && p.tok.kind != T_END) {
		char tmp[96];
		fail(&p, p.tok.pos, "expected 'and', 'or' or the end, got %s", tok_desc(&p.tok, tmp, sizeof tmp));
	}
	if (!root || p.failed) {
		node_free(root);
		if (!p.failed)
			ld_err_set(err, "at column 1: invalid expression");
		return NULL;
	}
	ld_query_expr *e = calloc(1, sizeof *e);
	if (!e) {
		node_free(root);
		ld_err_set(err, "out of memory");
		return NULL;
	}
	e->root = root;
	e->n_leaves = p.n_leaves;
	e->depth = p.max_depth;
	e->columns = node_columns(root);
	return e;
}

/* --- canonical text ---------------------------------------------------------------------------- */

typedef struct outbuf {
	char *buf;
	size_t cap, len;
} outbuf;

static void put(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(outbuf *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int r = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (r > 0)
		o->len += (size_t)r;
}

static void put_leaf(outbuf *o, const qnode *n)
{
	const char *cn = ld_qcol_name(n->col);
	if (n->leaf == QL_RANGE) {
		if (n->lo == n->hi)
			put(o, "%s %s %lld", cn, n->negate ? "!=" : "=", (long long)n->lo);
		else if (n->lo == INT64_MIN && n->hi == INT64_MAX)
			put(o, "%s %s", cn, n->negate ? "none" : "any");
		else if (n->lo == INT64_MIN)
			put(o, "%s%s <= %lld", n->negate ? "not " : "", cn, (long long)n->hi);
		else if (n->hi == INT64_MAX)
			put(o, "%s%s >= %lld", n->negate ? "not " : "", cn, (long long)n->lo);
		else
			put(o, "%s%s in [%lld, %lld]", n->negate ? "not " : "", cn, (long long)n->lo,
			    (long long)n->hi);
		return;
	}
	put(o, "%s %sin (", cn, n->negate ? "not " : "");
	const char *sep = "";
	for (uint32_t i = 0; i < n->n_nums; i++, sep = ", ")
		put(o, "%s%lld", sep, (long long)n->nums[i]);
	char a[LD_ADDR_STRLEN];
	for (uint32_t i = 0; i < n->n_exact; i++, sep = ", ") {
		ld_addr_format(&n->exact[i], a);
		put(o, "%s%s", sep, a);
	}
	for (uint32_t i = 0; i < n->n_prefixes; i++, sep = ", ") {
		ld_addr_format(&n->prefixes[i].addr, a);
		unsigned bits = n->prefixes[i].bits;
		if (ld_addr_is_v4(&n->prefixes[i].addr) && bits >= 96)
			bits -= 96;
		put(o, "%s%s/%u", sep, a, bits);
	}
	for (uint32_t i = 0; i < n->n_strs; i++, sep = ", ")
		put(o, "%s\"%s\"", sep, n->strs[i].ptr);
	put(o, ")");
}

static void put_node(outbuf *o, const qnode *n)
{
	switch (n->kind) {
	case QN_LEAF:
		put(o, "(");
		put_leaf(o, n);
		put(o, ")");
		break;
	case QN_NOT:
		put(o, "(not ");
		put_node(o, n->l);
		put(o, ")");
		break;
	default:
		put(o, "(");
		put_node(o, n->l);
		put(o, " %s ", n->kind == QN_AND ? "and" : "or");
		put_node(o, n->r);
		put(o, ")");
		break;
	}
}

size_t ld_query_format(const ld_query_expr *e, char *buf, size_t cap)
{
	outbuf o = {buf, cap, 0};
	if (e)
		put_node(&o, e->root);
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = 0;
	return o.len;
}
