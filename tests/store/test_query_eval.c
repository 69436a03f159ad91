/* Evaluator on hand-built blocks: every expression is checked row by row against the same
 * condition written as plain C over the block's arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ld_query.h"
#include "ld_time.h"

#define NOW INT64_C(1793606400000000000)
#define N_ROWS 5000
#define N_ADDRS 48
#define N_STRS 6

typedef struct fixture {
	ld_block b;
	int64_t ts[N_ROWS];
	uint32_t src[N_ROWS], dst[N_ROWS], len[N_ROWS], rule[N_ROWS], reporter[N_ROWS], vif[N_ROWS];
	uint16_t sport[N_ROWS], dport[N_ROWS];
	uint8_t proto[N_ROWS], action[N_ROWS], dir[N_ROWS], flags[N_ROWS], format[N_ROWS], present[N_ROWS];
	ld_addr addrs[N_ADDRS];
	ld_str strs[N_STRS];
} fixture;

static uint64_t rng_state = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static const char *const str_vals[N_STRS] = {"", "esx-1", "esx-2", "1001", "vif-a", "say \"hi\""};
static const uint16_t ports[] = {445, 137, 5355, 7680, 3389, 53, 80, 0};

/* Addresses 0..31 are 10.0.0.i, 32..47 are fd00::(i-32).  `order` permutes dictionary ids so two
 * blocks can hold the same addresses under different ids. */
static void build(fixture *f, unsigned order)
{
	memset(f, 0, sizeof *f);
	for (uint32_t i = 0; i < N_ADDRS; i++) {
		uint32_t slot = (i * (order * 2 + 1)) % N_ADDRS; /* odd multiplier: a permutation */
		if (i < 32) {
			ld_addr_from_v4(&f->addrs[slot], 0x0a000000u + i);
		} else {
			memset(&f->addrs[slot], 0, sizeof(ld_addr));
			f->addrs[slot].b[0] = 0xfd;
			f->addrs[slot].b[15] = (uint8_t)(i - 32);
		}
	}
	for (uint32_t i = 0; i < N_STRS; i++)
		f->strs[i] = ld_str_c(str_vals[i]);
	for (uint32_t i = 0; i < N_ROWS; i++) {
		f->ts[i] = NOW + (int64_t)i * LD_NS_PER_SEC;
		f->src[i] = rnd(N_ADDRS);
		f->dst[i] = rnd(N_ADDRS);
		f->sport[i] = (uint16_t)(1024 + rnd(60000));
		f->dport[i] = ports[rnd(sizeof ports / sizeof ports[0])];
		f->proto[i] = rnd(3) == 0 ? 17 : 6;
		f->action[i] = (uint8_t)(1 + rnd(4));
		f->dir[i] = (uint8_t)rnd(3);
		f->flags[i] = rnd(2) ? LD_TCP_SYN : (uint8_t)rnd(256);
		f->len[i] = 40 + rnd(120);
		f->format[i] = (uint8_t)(1 + rnd(3));
		f->rule[i] = rnd(N_STRS);
		f->reporter[i] = rnd(N_STRS);
		f->vif[i] = rnd(N_STRS);
	}
	ld_block *b = &f->b;
	b->n = N_ROWS;
	b->ts = f->ts;
	b->src = f->src;
	b->dst = f->dst;
	b->sport = f->sport;
	b->dport = f->dport;
	b->proto = f->proto;
	b->action = f->action;
	b->dir = f->dir;
	b->tcp_flags = f->flags;
	b->format = f->format;
	b->present = f->present;
	b->len = f->len;
	b->rule = f->rule;
	b->reporter = f->reporter;
	b->vif = f->vif;
	b->addrs = f->addrs;
	b->n_addrs = N_ADDRS;
	b->strs = f->strs;
	b->n_strs = N_STRS;
	b->segment = order ? "seg-b" : "seg-a";
}

static const fixture *cur;

static bool is_v4(uint32_t id, uint32_t host)
{
	return ld_addr_is_v4(&cur->addrs[id]) && ld_addr_v4(&cur->addrs[id]) == host;
}
static bool in_v4_prefix(uint32_t id, uint32_t net, unsigned bits)
{
	uint32_t mask = bits ? ~0u << (32 - bits) : 0;
	return ld_addr_is_v4(&cur->addrs[id]) && (ld_addr_v4(&cur->addrs[id]) & mask) == net;
}
static bool is_fd(uint32_t id, uint8_t last)
{
	const ld_addr *a = &cur->addrs[id];
	return a->b[0] == 0xfd && a->b[15] == last;
}
static bool str_is(uint32_t id, const char *s)
{
	return cur->strs[id].len == strlen(s) && memcmp(cur->strs[id].ptr, s, strlen(s)) == 0;
}

static bool str_is_in(const fixture *f, uint32_t id, const char *s)
{
	return f->strs[id].len == strlen(s) && memcmp(f->strs[id].ptr, s, strlen(s)) == 0;
}

typedef bool (*row_pred)(const fixture *f, uint32_t i);

#define PRED(name, ...)                                                                     \
	static bool name(const fixture *f, uint32_t i)                                      \
	{                                                                                   \
		return (__VA_ARGS__);                                                            \
	}

PRED(p_smb_tcp, f->dport[i] == 445 && f->proto[i] == 6)
PRED(p_cidr_or_v6, in_v4_prefix(f->src[i], 0x0a000000, 28) || is_fd(f->dst[i], 5))
PRED(p_host, is_v4(f->src[i], 0x0a000003) || is_v4(f->dst[i], 0x0a000003))
PRED(p_not_list, !(f->dport[i] == 137 || f->dport[i] == 5355 || f->action[i] == LD_ACTION_REJECT))
PRED(p_reporter_dir, str_is(f->reporter[i], "esx-1") && f->dir[i] == LD_DIR_IN)
PRED(p_flags_len, f->flags[i] == LD_TCP_SYN && f->len[i] >= 60 && f->len[i] < 100)
PRED(p_ts, f->ts[i] >= NOW + 100 * LD_NS_PER_SEC && f->ts[i] < NOW + 200 * LD_NS_PER_SEC)
PRED(p_neg_hosts, !is_v4(f->src[i], 0x0a000001) && !(is_v4(f->src[i], 0x0a000002) || is_v4(f->dst[i], 0x0a000002) ||
						      is_v4(f->src[i], 0x0a000003) || is_v4(f->dst[i], 0x0a000003)))
PRED(p_mixed_list, is_v4(f->dst[i], 0x0a000011) || in_v4_prefix(f->dst[i], 0x0a000000, 30) || is_fd(f->dst[i], 1))
PRED(p_strings, str_is(f->rule[i], "say \"hi\"") || (str_is(f->vif[i], "") && f->format[i] == LD_FMT_ASA))
PRED(p_nested, (f->proto[i] == 17 || (f->dport[i] > 1000 && f->sport[i] <= 20000)) && !(f->action[i] == 1 || f->action[i] == 3))
PRED(p_ne, f->dport[i] != 445 && f->sport[i] != 0)
PRED(p_host_cidr, in_v4_prefix(f->src[i], 0x0a000010, 28) || in_v4_prefix(f->dst[i], 0x0a000010, 28))
PRED(p_none, (void)f, (void)i, false)

static const struct {
	const char *expr;
	row_pred pred;
} cases[] = {
	{"dport = 445 and proto = tcp", p_smb_tcp},
	{"src in 10.0.0.0/28 or dst = fd00::5", p_cidr_or_v6},
	{"host 10.0.0.3", p_host},
	{"not (dport in (137, 5355) or action = reject)", p_not_list},
	{"reporter = 'esx-1' and dir = in", p_reporter_dir},
	{"flags = S and len >= 60 and len < 100", p_flags_len},
	{"ts >= 2026-11-02T08:01:40Z and ts < 2026-11-02T08:03:20Z", p_ts},
	{"src != 10.0.0.1 and host not in (10.0.0.2, 10.0.0.3)", p_neg_hosts},
	{"dst in (10.0.0.17, 10.0.0.0/30, fd00::1)", p_mixed_list},
	{"rule = \"say \\\"hi\\\"\" or (vif = '' and format = asa)", p_strings},
	{"(proto = udp or dport > 1000 and sport <= 20000) and not action in (drop, deny)", p_nested},
	{"dport != 445 and sport != 0", p_ne},
	{"host 10.0.0.16/28", p_host_cidr},
	{"dport = 445 and dport = 137", p_none},
	{"dport < 0 or len > 4294967295 or proto > 255", p_none},
	{"not (dport >= 0 and len <= 4294967295 and sport <= 65535)", p_none},
	{"not dport != 445 and proto = 6", p_smb_tcp},
};

static void check_case(ld_query_eval *ev, const fixture *f, unsigned c)
{
	static uint32_t sel[N_ROWS];
	cur = f;
	uint32_t k = ld_query_eval_block(ev, &f->b, sel);
	assert_int_not_equal(k, UINT32_MAX);
	uint32_t j = 0, expected = 0;
	for (uint32_t i = 0; i < f->b.n; i++) {
		bool want = cases[c].pred(f, i);
		expected += want;
		bool got = j < k && sel[j] == i;
		if (got)
			j++;
		if (want != got)
			fail_msg("'%s' row %u: expected %d, got %d", cases[c].expr, i, want, got);
	}
	assert_int_equal(j, k);
	assert_int_equal(k, expected);
	assert_int_equal(ld_query_eval_count(ev, &f->b), expected);
}

static void test_cases(void **state)
{
	(void)state;
	static fixture fa, fb;
	build(&fa, 0);
	build(&fb, 3);
	for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		ld_err err;
		ld_query_expr *e = ld_query_parse(cases[c].expr, NOW, &err);
		if (!e)
			fail_msg("'%s': %s", cases[c].expr, err.msg);
		ld_query_eval *ev = ld_query_eval_new(e, INT64_MIN, INT64_MAX);
		assert_non_null(ev);
		/* Alternate blocks with different dictionaries: lookup tables must follow. */
		check_case(ev, &fa, c);
		check_case(ev, &fb, c);
		check_case(ev, &fa, c);
		ld_query_eval_free(ev);
		ld_query_free(e);
	}
}

static void test_no_expression_and_window(void **state)
{
	(void)state;
	static fixture f;
	static uint32_t sel[N_ROWS];
	build(&f, 1);
	ld_query_eval *ev = ld_query_eval_new(NULL, INT64_MIN, INT64_MAX);
	assert_non_null(ev);
	assert_true(ld_query_eval_trivial(ev));
	assert_int_equal(ld_query_eval_block(ev, &f.b, sel), N_ROWS);
	assert_int_equal(ld_query_eval_count(ev, &f.b), N_ROWS);
	assert_int_equal(sel[N_ROWS - 1], N_ROWS - 1);
	ld_query_eval_free(ev);

	/* Window [10 s, 20 s) from NOW: rows 10..19. */
	ev = ld_query_eval_new(NULL, NOW + 10 * LD_NS_PER_SEC, NOW + 20 * LD_NS_PER_SEC);
	assert_false(ld_query_eval_trivial(ev));
	assert_int_equal(ld_query_eval_block(ev, &f.b, sel), 10);
	assert_int_equal(ld_query_eval_count(ev, &f.b), 10);
	assert_int_equal(sel[0], 10);
	assert_int_equal(sel[9], 19);
	ld_query_eval_free(ev);

	/* Window and expression together. */
	ld_err err;
	ld_query_expr *e = ld_query_parse("dport = 445", NOW, &err);
	ev = ld_query_eval_new(e, NOW, NOW + 1000 * LD_NS_PER_SEC);
	uint32_t k = ld_query_eval_block(ev, &f.b, sel);
	uint32_t want = 0;
	for (uint32_t i = 0; i < 1000; i++)
		want += f.dport[i] == 445;
	assert_int_equal(k, want);
	assert_true(want > 0);
	ld_query_eval_free(ev);
	ld_query_free(e);
}

static void test_damaged_ids(void **state)
{
	(void)state;
	/* Dictionary ids beyond the dictionary (a damaged block) match nothing, never read past. */
	static fixture f;
	static uint32_t sel[N_ROWS];
	build(&f, 0);
	for (uint32_t i = 0; i < N_ROWS; i += 2) {
		f.src[i] = N_ADDRS + 7;
		f.reporter[i] = 0xffffffffu;
	}
	ld_err err;
	ld_query_expr *e = ld_query_parse("src in 0.0.0.0/0 or reporter = esx-2", NOW, &err);
	assert_non_null(e);
	ld_query_eval *ev = ld_query_eval_new(e, INT64_MIN, INT64_MAX);
	uint32_t k = ld_query_eval_block(ev, &f.b, sel);
	uint32_t want = 0;
	for (uint32_t i = 1; i < N_ROWS; i += 2)
		want += ld_addr_is_v4(&f.addrs[f.src[i]]) || str_is_in(&f, f.reporter[i], "esx-2");
	for (uint32_t j = 0; j < k; j++)
		assert_int_equal(sel[j] % 2, 1);
	assert_int_equal(k, want);
	assert_true(want > 0);
	ld_query_eval_free(ev);
	ld_query_free(e);

	/* an address absent from the dictionary matches no row, damaged ids included */
	e = ld_query_parse("src = 192.0.2.1 or reporter = nope", NOW, &err);
	assert_non_null(e);
	ev = ld_query_eval_new(e, INT64_MIN, INT64_MAX);
	assert_int_equal(ld_query_eval_block(ev, &f.b, sel), 0);
	ld_query_eval_free(ev);
	ld_query_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_no_expression_and_window),
		cmocka_unit_test(test_damaged_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
