/* rowset.c — rows held column by column in memory, with interned addresses and strings: the
 * writer's pending rows, a decoded journal, a segment loaded for compaction. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "store_internal.h"

/* Entries of the direct-mapped IPv4 intern cache (8 bytes each, 512 KiB).  A worm or scanner
 * sweeping a /16 brings tens of thousands of destinations; 4096 entries missed on most of them
 * and every miss was a cache-missing probe of the address table (measured on NSX lines
 * sweeping a /16: parse+store 3.5 -> 4.1 M lines/s, mean of 7 alternated runs). */
#define V4_CACHE_BITS 16u

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

/* A string of at most 16 bytes as two zero-padded words, read with overlapping fixed-size loads
 * (no memcpy call, no read past the end).  Short strings (rule ids, host names, vNIC ids) are
 * hashed and compared through this key alone. */
#define STR_SHORT 16u

static inline void short_key(const uint8_t *p, uint32_t n, uint64_t k[2])
{
	if (n > 8) {
		k[0] = load8(p);
		k[1] = load8(p + n - 8) >> (8 * (16 - n));
	} else if (n >= 4) {
		k[0] = load4(p) | (load4(p + n - 4) >> (8 * (8 - n))) << 32;
		k[1] = 0;
	} else {
		k[0] = n ? (uint64_t)p[0] | (uint64_t)p[n > 1] << 8 * (n > 1) |
				   (uint64_t)p[n - 1] << 8 * (n - 1)
			 : 0;
		k[1] = 0;
	}
}

static inline uint64_t hash_short(const uint64_t k[2], uint32_t n)
{
	return mix(k[0] ^ 0x243F6A8885A308D3ull ^ n, k[1]);
}

static uint64_t hash_bytes(const void *ptr, size_t n)
{
	const uint8_t *p = ptr;
	if (n <= STR_SHORT) {
		uint64_t k[2];
		short_key(p, (uint32_t)n, k);
		return hash_short(k, (uint32_t)n);
	}
	uint64_t h = 0x243F6A8885A308D3ull ^ n;
	while (n > 16) {
		h = mix(h ^ load8(p), load8(p + 8));
		p += 16;
		n -= 16;
	}
	return mix(h ^ load8(p), load8(p + n - 8));
}

static inline uint64_t hash_addr(const ld_addr *a)
{
	return mix(load8(a->b), load8(a->b + 8));
}

/* A writer's row set grows to hundreds of MB that are touched once per seal cycle: on huge
 * pages that costs hundreds of page faults instead of a hundred thousand. */
static void advise_huge(void *p, size_t bytes)
{
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + bytes) & ~(huge - 1);
	if (e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE); /* a hint: failure changes nothing */
}

#define GROW(field, type)                                                                        \
	do {                                                                                     \
		type *np_ = realloc(rs->field, cap * sizeof(type));                              \
		if (!np_)                                                                        \
			return -1;                                                               \
		rs->field = np_;                                                                 \
		if (cap * sizeof(type) >= ((size_t)4 << 20))                                     \
			advise_huge(np_, cap * sizeof(type));                                    \
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
	free(rs->v4_cache);
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
		memset(rs->addr_ix.slots, 0, rs->addr_ix.cap * sizeof(ld_addr_slot));
	if (rs->v4_cache)
		memset(rs->v4_cache, 0, ((size_t)1 << V4_CACHE_BITS) * sizeof(uint64_t));
	if (rs->str_ix.slots)
		memset(rs->str_ix.slots, 0, rs->str_ix.cap * sizeof(ld_str_slot));
	rs->str_bytes.len = 0;
	rs->raw_bytes.len = 0;
	rs->ts_min = INT64_MAX;
	rs->ts_max = INT64_MIN;
}

/* Open addressing, load <= 1/2, rebuilt from the id arrays when it grows. */
static int addr_ix_grow(ld_rowset *rs)
{
	uint32_t cap = rs->addr_ix.cap ? rs->addr_ix.cap * 2 : 1024;
	ld_addr_slot *slots = calloc(cap, sizeof(ld_addr_slot));
	if (!slots)
		return -1;
	for (uint32_t id = 0; id < rs->n_addrs; id++) {
		const ld_addr *a = &rs->addrs[id];
		uint32_t i = (uint32_t)(hash_addr(a) >> 32) & (cap - 1);
		while (slots[i].id1)
			i = (i + 1) & (cap - 1);
		slots[i].a = load8(a->b);
		slots[i].b = load8(a->b + 8);
		slots[i].id1 = id + 1;
	}
	free(rs->addr_ix.slots);
	rs->addr_ix.slots = slots;
	rs->addr_ix.cap = cap;
	return 0;
}

void ld_rowset_drop_raw(ld_rowset *rs)
{
	if (rs->raw_bytes.len)
		return;
	free(rs->raw_off);
	free(rs->raw_len);
	rs->raw_off = NULL;
	rs->raw_len = NULL;
	rs->keep_raw = false;
}

static int str_ix_grow(ld_rowset *rs);

/* Forgets rows past `rows` and dictionary entries past `addrs`/`strs` (raw bytes past
 * `raw_bytes`), rebuilding the intern tables: the rare path of a journal frame that did not fit. */
int ld_rowset_truncate(ld_rowset *rs, size_t rows, uint32_t addrs, uint32_t strs,
		       size_t raw_bytes)
{
	if (rows > rs->n || addrs > rs->n_addrs || strs > rs->n_strs)
		return 0;
	rs->n = rows;
	rs->raw_bytes.len = raw_bytes < rs->raw_bytes.len ? raw_bytes : rs->raw_bytes.len;
	rs->n_addrs = addrs;
	rs->n_strs = strs;
	rs->str_bytes.len = strs ? rs->str_off[strs - 1] + rs->str_len[strs - 1] : 0;
	if (rs->v4_cache)
		memset(rs->v4_cache, 0, ((size_t)1 << V4_CACHE_BITS) * sizeof(uint64_t));
	memset(rs->last_addr, 0, sizeof(rs->last_addr));
	memset(rs->last_str, 0, sizeof(rs->last_str));
	rs->ts_min = INT64_MAX;
	rs->ts_max = INT64_MIN;
	for (size_t i = 0; i < rows; i++) {
		rs->ts_min = rs->ts[i] < rs->ts_min ? rs->ts[i] : rs->ts_min;
		rs->ts_max = rs->ts[i] > rs->ts_max ? rs->ts[i] : rs->ts_max;
	}
	/* the grow functions rebuild a table from the id arrays at twice the size */
	uint32_t acap = rs->addr_ix.cap, scap = rs->str_ix.cap;
	rs->addr_ix.cap = acap / 2;
	rs->str_ix.cap = scap / 2;
	int rc = 0;
	if (acap && addr_ix_grow(rs) != 0)
		rc = -1;
	if (scap && str_ix_grow(rs) != 0)
		rc = -1;
	return rc;
}

/* Short strings keep their key words in the slot (a hit is one cache line, no memcmp). */
static void str_slot_fill(ld_str_slot *s, uint64_t h, uint32_t id, const char *p, uint32_t len)
{
	s->hash = h;
	s->id1 = id + 1;
	s->len = len;
	uint64_t k[2] = {0, 0};
	if (len <= STR_SHORT)
		short_key((const uint8_t *)p, len, k);
	memcpy(s->inl, k, sizeof(k));
}

static int str_ix_grow(ld_rowset *rs)
{
	uint32_t cap = rs->str_ix.cap ? rs->str_ix.cap * 2 : 1024;
	ld_str_slot *slots = calloc(cap, sizeof(ld_str_slot));
	if (!slots)
		return -1;
	for (uint32_t id = 0; id < rs->n_strs; id++) {
		ld_str v = ld_rowset_str(rs, id);
		uint64_t h = hash_bytes(v.ptr, v.len);
		uint32_t i = (uint32_t)(h >> 32) & (cap - 1);
		while (slots[i].id1)
			i = (i + 1) & (cap - 1);
		str_slot_fill(&slots[i], h, id, v.ptr, v.len);
	}
	free(rs->str_ix.slots);
	rs->str_ix.slots = slots;
	rs->str_ix.cap = cap;
	return 0;
}

int64_t ld_rowset_intern_addr(ld_rowset *rs, const ld_addr *a)
{
	if (ld_unlikely((uint64_t)(rs->n_addrs + 1) * 2 > rs->addr_ix.cap) && addr_ix_grow(rs) != 0)
		return -1;
	uint64_t ka = load8(a->b), kb = load8(a->b + 8);
	uint32_t mask = rs->addr_ix.cap - 1;
	uint32_t i = (uint32_t)(mix(ka, kb) >> 32) & mask;
	ld_addr_slot *slots = rs->addr_ix.slots;
	for (;;) {
		if (!slots[i].id1)
			break;
		if (slots[i].a == ka && slots[i].b == kb)
			return slots[i].id1 - 1;
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
	slots[i].a = ka;
	slots[i].b = kb;
	slots[i].id1 = ++rs->n_addrs;
	return rs->n_addrs - 1;
}

static int64_t str_insert(ld_rowset *rs, ld_str_slot *slot, uint64_t h, const char *p,
			  uint32_t len)
{
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
	uint32_t id = rs->n_strs;
	rs->str_off[id] = rs->str_bytes.len;
	rs->str_len[id] = len;
	if (ld_buf_append(&rs->str_bytes, p, len) != 0)
		return -1;
	str_slot_fill(slot, h, id, p, len);
	rs->n_strs++;
	return id;
}

int64_t ld_rowset_intern_str(ld_rowset *rs, const char *p, uint32_t len)
{
	if (ld_unlikely((uint64_t)(rs->n_strs + 1) * 2 > rs->str_ix.cap) && str_ix_grow(rs) != 0)
		return -1;
	uint32_t mask = rs->str_ix.cap - 1;
	ld_str_slot *slots = rs->str_ix.slots;
	if (len <= STR_SHORT) {
		uint64_t k[2];
		short_key((const uint8_t *)p, len, k);
		uint64_t h = hash_short(k, len);
		uint32_t i = (uint32_t)(h >> 32) & mask;
		for (;;) {
			ld_str_slot *s = &slots[i];
			if (!s->id1)
				return str_insert(rs, s, h, p, len);
			if (s->len == len && load8(s->inl) == k[0] && load8(s->inl + 8) == k[1])
				return s->id1 - 1;
			i = (i + 1) & mask;
		}
	}
	uint64_t h = hash_bytes(p, len);
	uint32_t i = (uint32_t)(h >> 32) & mask;
	for (;;) {
		ld_str_slot *s = &slots[i];
		if (!s->id1)
			return str_insert(rs, s, h, p, len);
		if (s->hash == h && s->len == len &&
		    memcmp(rs->str_bytes.p + rs->str_off[s->id1 - 1], p, len) == 0)
			return s->id1 - 1;
		i = (i + 1) & mask;
	}
}

/* Drop logs come in runs (one rule for a whole stream, a scanning desktop's vNIC and host on
 * consecutive lines): the previous value of each field is checked before the hash table. */
/* Equality of two strings longer than 8 bytes by words (the last one overlapping). */
static inline bool eq_long(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint32_t i = 0;
	for (; i + 8 < n; i += 8)
		if (load8(a + i) != load8(b + i))
			return false;
	return load8(a + n - 8) == load8(b + n - 8);
}

static inline __attribute__((always_inline)) int64_t
intern_str_cached(ld_rowset *rs, ld_str v, uint32_t *last)
{
	/* the hit path inline (no call, no prologue); inserts go through the full function */
	if (ld_likely(rs->str_ix.cap != 0)) {
		uint32_t mask = rs->str_ix.cap - 1;
		const ld_str_slot *slots = rs->str_ix.slots;
		if (v.len <= STR_SHORT) {
			uint64_t k[2];
			short_key((const uint8_t *)v.ptr, v.len, k);
			uint32_t i = (uint32_t)(hash_short(k, v.len) >> 32) & mask;
			for (;;) {
				const ld_str_slot *sl = &slots[i];
				if (!sl->id1)
					break;
				if (sl->len == v.len && load8(sl->inl) == k[0] &&
				    load8(sl->inl + 8) == k[1])
					return sl->id1 - 1;
				i = (i + 1) & mask;
			}
		} else {
			const uint8_t *p = (const uint8_t *)v.ptr;
			uint32_t id = *last;
			if (id < rs->n_strs && rs->str_len[id] == v.len &&
			    eq_long(rs->str_bytes.p + rs->str_off[id], p, v.len))
				return id;
			uint64_t h = hash_bytes(p, v.len);
			uint32_t i = (uint32_t)(h >> 32) & mask;
			for (;;) {
				const ld_str_slot *sl = &slots[i];
				if (!sl->id1)
					break;
				if (sl->hash == h && sl->len == v.len &&
				    eq_long(rs->str_bytes.p + rs->str_off[sl->id1 - 1], p, v.len)) {
					*last = sl->id1 - 1;
					return sl->id1 - 1;
				}
				i = (i + 1) & mask;
			}
		}
	}
	int64_t got = ld_rowset_intern_str(rs, v.ptr, v.len);
	if (got >= 0)
		*last = (uint32_t)got;
	return got;
}

/* Drop logs repeat the same few thousand IPv4 addresses: a direct-mapped cache of 4096
 * (address, id + 1) words (32 KiB, stays in L1/L2) answers most lookups before the table. */
static inline __attribute__((always_inline)) int64_t
intern_addr_cached(ld_rowset *rs, const ld_addr *a, uint32_t *last)
{
	static const uint8_t mapped[4] = {0, 0, 0xff, 0xff};
	uint64_t *cache = rs->v4_cache;
	if (ld_likely(cache != NULL) && load8(a->b) == 0 && load4(a->b + 8) == load4(mapped)) {
		uint32_t v4 = (uint32_t)load4(a->b + 12);
		uint64_t *e = &cache[(v4 * 0x9E3779B1u) >> (32 - V4_CACHE_BITS)];
		if (ld_likely((uint32_t)(*e >> 32) == v4 && (uint32_t)*e != 0))
			return (uint32_t)*e - 1;
		int64_t got = ld_rowset_intern_addr(rs, a);
		if (got >= 0)
			*e = (uint64_t)v4 << 32 | (uint64_t)(got + 1);
		return got;
	}
	uint32_t id = *last;
	if (id < rs->n_addrs && load8(rs->addrs[id].b) == load8(a->b) &&
	    load8(rs->addrs[id].b + 8) == load8(a->b + 8))
		return id;
	int64_t got = ld_rowset_intern_addr(rs, a);
	if (got >= 0)
		*last = (uint32_t)got;
	return got;
}

int ld_rowset_add(ld_rowset *rs, const ld_record *r)
{
	return ld_rowset_add_raw(rs, r, rs->keep_raw);
}

int ld_rowset_add_raw(ld_rowset *rs, const ld_record *r, bool with_raw)
{
	if (ld_unlikely(rs->n == rs->cap) && ld_rowset_reserve(rs, rs->n + 1) != 0)
		return -1;
	/* the cache is for appending writers, not for row sets rebuilt from a journal or a
	 * segment; without it the row set still works (the table answers every lookup) */
	if (ld_unlikely(!rs->v4_cache))
		rs->v4_cache = calloc((size_t)1 << V4_CACHE_BITS, sizeof(uint64_t));
	int64_t s = intern_addr_cached(rs, &r->src, &rs->last_addr[0]);
	int64_t d = intern_addr_cached(rs, &r->dst, &rs->last_addr[1]);
	int64_t ru = intern_str_cached(rs, r->rule, &rs->last_str[0]);
	int64_t re = intern_str_cached(rs, r->reporter, &rs->last_str[1]);
	int64_t vi = intern_str_cached(rs, r->vif, &rs->last_str[2]);
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

static __thread const int64_t *order_ts;

static int cmp_row_ts(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (order_ts[x] != order_ts[y])
		return order_ts[x] < order_ts[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

uint32_t *ld_rowset_time_order(const ld_rowset *rs)
{
	uint32_t *idx = malloc((rs->n ? rs->n : 1) * sizeof(uint32_t));
	if (!idx)
		return NULL;
	for (size_t i = 0; i < rs->n; i++)
		idx[i] = (uint32_t)i;
	order_ts = rs->ts;
	qsort(idx, rs->n, sizeof(uint32_t), cmp_row_ts);
	return idx;
}

ld_str *ld_rowset_str_table(const ld_rowset *rs)
{
	ld_str *t = malloc(((size_t)rs->n_strs + 1) * sizeof(ld_str));
	if (!t)
		return NULL;
	for (uint32_t k = 0; k < rs->n_strs; k++)
		t[k] = ld_rowset_str(rs, k);
	return t;
}
