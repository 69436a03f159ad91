/* query_internal.h — the expression tree shared by the query parser, evaluator and push-down.
 * Not part of the store's public contract (ld_query.h is). */
#ifndef LD_QUERY_INTERNAL_H
#define LD_QUERY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ld_query.h"

/* Pseudo-column: src or dst. */
#define QCOL_HOST LD_QCOL_COUNT_

enum qnode_kind { QN_AND, QN_OR, QN_NOT, QN_LEAF };

/* Every leaf is normalized to one of three shapes:
 *  - QL_RANGE: numeric column in [lo, hi] (=, <, >, <=, >=; != is a negated range)
 *  - QL_NUMSET: numeric column equal to one of nums[] (in (...))
 *  - QL_ADDRSET / QL_STRSET: address or string column in a set (=, in; != / not in negate)
 * `negate` inverts the leaf's result. */
enum qleaf_kind { QL_RANGE, QL_NUMSET, QL_ADDRSET, QL_STRSET };

typedef struct qstr {
	char *ptr;
	uint32_t len;
} qstr;

typedef struct qnode {
	enum qnode_kind kind;
	struct qnode *l, *r; /* AND/OR: both; NOT: l */
	/* leaf */
	enum qleaf_kind leaf;
	unsigned col; /* enum ld_qcol or QCOL_HOST */
	bool negate;
	int64_t lo, hi;
	int64_t *nums;
	uint32_t n_nums;
	ld_addr *exact; /* sorted exact addresses (/128 prefixes) */
	uint32_t n_exact;
	ld_prefix *prefixes; /* proper prefixes */
	uint32_t n_prefixes;
	qstr *strs;
	uint32_t n_strs;
	uint32_t leaf_index; /* 0..n_leaves-1, for per-thread lookup tables */
	uint32_t pos;        /* 1-based column in the text, for diagnostics */
} qnode;

struct ld_query_expr {
	qnode *root;
	uint32_t n_leaves;
	uint32_t depth;
	uint32_t columns; /* enum ld_col bits */
};

#endif
