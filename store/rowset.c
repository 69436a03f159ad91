/* rowset.c — rows held column by column in memory, with interned addresses and strings: the
 * writer's pending rows, a decoded journal, a segment loaded for compaction. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

static inline uint64_t load8(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t load4(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t m = (__uint128_t)(a ^ 0x9E3779B97F4A7C15ull) * (b ^ 0xC2B2AE3D27D4EB4Full);
	uint64_t h = (uint64_t)m ^ (uint64_t)(m >> 64);
	h ^= h >> 31;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

/* Hash of a short byte string without a memcpy call per tail: overlapping fixed-size loads. */
static uint64_t hash_bytes(const void *ptr, size_t n)
{
	const uint8_t *p = ptr;
	uint64_t h = 0x243F6A8885A308D3ull ^ n;
	if (n >= 8) {
		while (n > 16) {
			h = mix(h ^ load8(p), load8(p + 8));
			p += 16;
			n -= 16;
		}
		return mix(h ^ load8(p), load8(p + n - 8));
	}
	if (n >= 4)
		return mix(h ^ load4(p), load4(p + n - 4));
	if (n)
		return mix(h, (uint64_t)p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16);
	return mix(h, 0);
}

static inline uint64_t hash_addr(const ld_addr *a)
{
	return mix(load8(a->b), load8(a->b + 8));
}

static inline bool addr_same(const ld_addr *a, const ld_addr *b)
{
	return load8(a->b) == load8(b->b) && load8(a->b + 8) == load8(b->b + 8);
}

#define GROW(field, type)                                                                        \
	do {                                                                                     \
		type *np_ = realloc(rs->field, cap * sizeof(type));                              \
		if (!np_)                                                                        \
			return -1;                                                               \
		rs->field = np_;                                                                 \
	} while (0)

int ld_rowset_reserve(ld_rowset *rs, size_t rows)
{
	if (rows <= rs->cap)
		return 0;
	size_t cap = rs->cap ? rs->cap : 4096;
	while (cap < rows)
		cap *= 2;
	GROW(ts, int64_t);
	GROW(src, uint32_t);
	GROW(dst, uint32_t);
	GROW(len, uint32_t);
	GROW(rule, uint32_t);
	GROW(reporter, uint32_t);
	GROW(vif, uint32_t);
	GROW(sport, uint16_t);
	GROW(dport, uint16_t);
	GROW(proto, uint8_t);
	GROW(action, uint8_t);
	GROW(dir, uint8_t);
	GROW(flags, uint8_t);
	GROW(format, uint8_t);
	GROW(present, uint8_t);
	if (rs->keep_raw) {
		GROW(raw_off, uint64_t);
		GROW(raw_len, uint32_t);
	}
	rs->cap = cap;
	return 0;
}

int ld_rowset_init(ld_rowset *rs, bool keep_raw)
{
	memset(rs, 0, sizeof(*rs));
	rs->keep_raw = keep_raw;
	rs->ts_min = INT64_MAX;
	rs->ts_max = INT64_MIN;
	return 0;
}

void ld_rowset_free(ld_rowset *rs)
{
	free(rs->ts);
	free(rs->src);
	free(rs->dst);
	free(rs->len);
	free(rs->rule);
	free(rs->reporter);
	free(rs->vif);
	free(rs->sport);
	free(rs->dport);
	free(rs->proto);
	free(rs->action);
	free(rs->dir);
	free(rs->flags);
	free(rs->format);
	free(rs->present);
	free(rs->raw_off);
	free(rs->raw_len);
	free(rs->addrs);
	free(rs->addr_ix.slots);
	free(rs->str_off);
	free(rs->str_len);
	free(rs->str_ix.slots);
	ld_buf_free(&rs->str_bytes);
	ld_buf_free(&rs->raw_bytes);
	memset(rs, 0, sizeof(*rs));
}

void ld_rowset_clear(ld_rowset *rs)
{
	rs->n = 0;
	rs->n_addrs = 0;
	rs->n_strs = 0;
	if (rs->addr_ix.slots)
		memset(rs->addr_ix.slots, 0, rs->addr_ix.cap * sizeof(uint32_t));
	if (rs->str_ix.slots)
		memset(rs->str_ix.slots, 0, rs->str_ix.cap * sizeof(uint32_t));
	rs->str_bytes.len = 0;
	rs->raw_bytes.len = 0;
	rs->ts_min = INT64_MAX;
	rs->ts_max = INT64_MIN;
}

/* Open addressing, load <= 1/2; rebuilt from the id arrays when it grows. */
static int intern_grow(ld_intern *ix, uint32_t n, uint64_t (*hash_of)(const ld_rowset *, uint32_t),
		       const ld_rowset *rs)
{
	if ((uint64_t)(n + 1) * 2 <= ix->cap)
		return 0;
	uint32_t cap = ix->cap ? ix->cap * 2 : 1024;
	uint32_t *slots = calloc(cap, sizeof(uint32_t));
	if (!slots)
		return -1;
	for (uint32_t id = 0; id < n; id++) {
		uint32_t i = (uint32_t)hash_of(rs, id) & (cap - 1);
		while (slots[i])
			i = (i + 1) & (cap - 1);
		slots[i] = id + 1;
	}
	free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	return 0;
}

static uint64_t addr_hash_of(const ld_rowset *rs, uint32_t id)
{
	return hash_addr(&rs->addrs[id]);
}

static uint64_t str_hash_of(const ld_rowset *rs, uint32_t id)
{
	return hash_bytes(rs->str_bytes.p + rs->str_off[id], rs->str_len[id]);
}

int64_t ld_rowset_intern_addr(ld_rowset *rs, const ld_addr *a)
{
	if (ld_unlikely((uint64_t)(rs->n_addrs + 1) * 2 > rs->addr_ix.cap) &&
	    intern_grow(&rs->addr_ix, rs->n_addrs, addr_hash_of, rs) != 0)
		return -1;
	uint32_t mask = rs->addr_ix.cap - 1;
	uint32_t i = (uint32_t)hash_addr(a) & mask;
	for (;;) {
		uint32_t s = rs->addr_ix.slots[i];
		if (!s)
			break;
		if (addr_same(&rs->addrs[s - 1], a))
			return s - 1;
		i = (i + 1) & mask;
	}
	if (rs->n_addrs == rs->cap_addrs) {
		uint32_t cap = rs->cap_addrs ? rs->cap_addrs * 2 : 1024;
		ld_addr *na = realloc(rs->addrs, cap * sizeof(ld_addr));
		if (!na)
			return -1;
		rs->addrs = na;
		rs->cap_addrs = cap;
	}
	rs->addrs[rs->n_addrs] = *a;
	rs->addr_ix.slots[i] = ++rs->n_addrs;
	return rs->n_addrs - 1;
}

int64_t ld_rowset_intern_str(ld_rowset *rs, const char *p, uint32_t len)
{
	if (ld_unlikely((uint64_t)(rs->n_strs + 1) * 2 > rs->str_ix.cap) &&
	    intern_grow(&rs->str_ix, rs->n_strs, str_hash_of, rs) != 0)
		return -1;
	uint32_t mask = rs->str_ix.cap - 1;
	uint32_t i = (uint32_t)hash_bytes(p, len) & mask;
	for (;;) {
		uint32_t s = rs->str_ix.slots[i];
		if (!s)
			break;
		if (rs->str_len[s - 1] == len &&
		    (len == 0 || memcmp(rs->str_bytes.p + rs->str_off[s - 1], p, len) == 0))
			return s - 1;
		i = (i + 1) & mask;
	}
	if (rs->n_strs == rs->cap_strs) {
		uint32_t cap = rs->cap_strs ? rs->cap_strs * 2 : 256;
		uint64_t *no = realloc(rs->str_off, cap * sizeof(uint64_t));
		if (!no)
			return -1;
		rs->str_off = no;
		uint32_t *nl = realloc(rs->str_len, cap * sizeof(uint32_t));
		if (!nl)
			return -1;
		rs->str_len = nl;
		rs->cap_strs = cap;
	}
	rs->str_off[rs->n_strs] = rs->str_bytes.len;
	rs->str_len[rs->n_strs] = len;
	if (ld_buf_append(&rs->str_bytes, p, len) != 0)
		return -1;
	rs->str_ix.slots[i] = ++rs->n_strs;
	return rs->n_strs - 1;
}

int ld_rowset_add(ld_rowset *rs, const ld_record *r)
{
	return ld_rowset_add_raw(rs, r, rs->keep_raw);
}

int ld_rowset_add_raw(ld_rowset *rs, const ld_record *r, bool with_raw)
{
	if (ld_unlikely(rs->n == rs->cap) && ld_rowset_reserve(rs, rs->n + 1) != 0)
		return -1;
	int64_t s = ld_rowset_intern_addr(rs, &r->src);
	int64_t d = ld_rowset_intern_addr(rs, &r->dst);
	int64_t ru = ld_rowset_intern_str(rs, r->rule.ptr, r->rule.len);
	int64_t re = ld_rowset_intern_str(rs, r->reporter.ptr, r->reporter.len);
	int64_t vi = ld_rowset_intern_str(rs, r->vif.ptr, r->vif.len);
	if (s < 0 || d < 0 || ru < 0 || re < 0 || vi < 0)
		return -1;
	size_t i = rs->n;
	if (rs->keep_raw) {
		uint32_t l = with_raw ? r->raw.len : 0;
		rs->raw_off[i] = rs->raw_bytes.len;
		rs->raw_len[i] = l;
		if (l && ld_buf_append(&rs->raw_bytes, r->raw.ptr, l) != 0)
			return -1;
	}
	rs->ts[i] = r->ts_ns;
	rs->src[i] = (uint32_t)s;
	rs->dst[i] = (uint32_t)d;
	rs->sport[i] = r->sport;
	rs->dport[i] = r->dport;
	rs->len[i] = r->len;
	rs->proto[i] = r->proto;
	rs->action[i] = r->action;
	rs->dir[i] = r->dir;
	rs->flags[i] = r->tcp_flags;
	rs->format[i] = r->format;
	rs->present[i] = r->present;
	rs->rule[i] = (uint32_t)ru;
	rs->reporter[i] = (uint32_t)re;
	rs->vif[i] = (uint32_t)vi;
	if (r->ts_ns < rs->ts_min)
		rs->ts_min = r->ts_ns;
	if (r->ts_ns > rs->ts_max)
		rs->ts_max = r->ts_ns;
	rs->n++;
	return 0;
}

void ld_rowset_get(const ld_rowset *rs, size_t i, ld_record *out)
{
	memset(out, 0, sizeof(*out));
	out->ts_ns = rs->ts[i];
	out->src = rs->addrs[rs->src[i]];
	out->dst = rs->addrs[rs->dst[i]];
	out->sport = rs->sport[i];
	out->dport = rs->dport[i];
	out->len = rs->len[i];
	out->proto = rs->proto[i];
	out->action = rs->action[i];
	out->dir = rs->dir[i];
	out->tcp_flags = rs->flags[i];
	out->format = rs->format[i];
	out->present = rs->present[i];
	out->rule = ld_rowset_str(rs, rs->rule[i]);
	out->reporter = ld_rowset_str(rs, rs->reporter[i]);
	out->vif = ld_rowset_str(rs, rs->vif[i]);
	if (rs->keep_raw && rs->raw_len[i]) {
		out->raw.ptr = (const char *)rs->raw_bytes.p + rs->raw_off[i];
		out->raw.len = rs->raw_len[i];
	}
}
