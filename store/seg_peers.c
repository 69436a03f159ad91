/* seg_peers.c — a segment's side tables, read by scans that decode dst or the predicted string
 * columns: the peer table (for every source address, the destinations it sent to, most frequent
 * first, so that a row's dst is stored as its rank in that list) and the predictor seeds (per
 * address, the rule, reporter and vif it had where the segment's first block left off).
 *
 * East-west drops are repetitive: a desktop probes its few dozen neighbours, its servers and the
 * broadcast address of its subnet, over and over.  Stored as an address id, a dst costs about as
 * much as a src (12+ bits in an estate of thousands); as a rank among its source's peers it costs
 * a few bits, and the lists themselves are small next to the rows of a segment.  A scanner
 * sweeping a subnet has long lists of rare peers; its rows then cost what they did before.
 * Layout: segment_format.h.  Building runs once per segment in the writer; loading once per
 * segment a query decodes dst from. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* --- building --------------------------------------------------------------------------------- */

static int grow(uint32_t **p, size_t n)
{
	uint32_t *np = realloc(*p, n * sizeof(uint32_t));
	if (!np)
		return -1;
	*p = np;
	return 0;
}

/* Sorts keys[0..m) ascending, tmp[0..m) being scratch: insertion sort for the short lists most
 * sources have, else radix (ld_radix_sort_u64 skips the bytes every key shares: the count's and
 * the id's high bytes) — no comparison calls, which a source with hundreds of peers in every
 * segment would pay by the thousand. */
static void sort_keys(uint64_t *k, uint64_t *tmp, uint32_t m)
{
	if (m <= 48) {
		for (uint32_t i = 1; i < m; i++) {
			uint64_t v = k[i];
			uint32_t j = i;
			for (; j > 0 && k[j - 1] > v; j--)
				k[j] = k[j - 1];
			k[j] = v;
		}
		return;
	}
	const uint64_t *sorted = ld_radix_sort_u64(k, tmp, m, 0);
	if (sorted != k)
		memcpy(k, sorted, (size_t)m * sizeof(uint64_t));
}

int64_t ld_seg_build_peers(ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, uint32_t n,
			   uint32_t n_addrs)
{
	if (n_addrs + 1 > e->peer_cap_addrs) {
		if (grow(&e->peer_first, (size_t)n_addrs + 1) != 0 ||
		    grow(&e->peer_count, (size_t)n_addrs + 1) != 0)
			return -1;
		e->peer_cap_addrs = n_addrs + 1;
	}
	if (n > e->peer_cap_rows) {
		uint64_t *g = realloc(e->peer_rows, (size_t)n * sizeof(uint64_t));
		if (!g)
			return -1;
		e->peer_rows = g;
		if (grow(&e->peer_dst, n) != 0 || grow(&e->peer_rank, n) != 0)
			return -1;
		e->peer_cap_rows = n;
	}
	uint32_t *first = e->peer_first, *count = e->peer_count;
	uint64_t *grouped = e->peer_rows;
	const uint32_t *map = e->addr_map;
	/* rows grouped by source (a counting sort), each as dst id << 32 | row, so that the
	 * per-source passes below read memory in order */
	memset(first, 0, ((size_t)n_addrs + 1) * sizeof(uint32_t));
	for (uint32_t k = 0; k < n; k++)
		first[map[rs->src[idx[k]]] + 1]++;
	for (uint32_t a = 0; a < n_addrs; a++)
		first[a + 1] += first[a];
	memcpy(count, first, (size_t)n_addrs * sizeof(uint32_t));
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = idx[k];
		grouped[count[map[rs->src[i]]]++] = (uint64_t)map[rs->dst[i]] << 32 | k;
	}
	memset(count, 0, (size_t)n_addrs * sizeof(uint32_t));
	/* per source: count its destinations, order them by count (then id), give each row its
	 * rank.  first[a] becomes the list's start once source a's rows are done. */
	uint32_t entries = 0;
	for (uint32_t a = 0; a < n_addrs; a++) {
		uint32_t lo = first[a], hi = first[a + 1];
		uint32_t *list = e->peer_dst + entries, m = 0;
		for (uint32_t j = lo; j < hi; j++) {
			uint32_t d = (uint32_t)(grouped[j] >> 32);
			if (count[d]++ == 0)
				list[m++] = d;
		}
		if (m > 1) {
			if (m > e->peer_cap_keys) {
				uint64_t *k = realloc(e->peer_keys, (size_t)m * 2 * sizeof(uint64_t));
				if (!k)
					return -1;
				e->peer_keys = k;
				e->peer_cap_keys = m;
			}
			uint64_t *keys = e->peer_keys;
			for (uint32_t r = 0; r < m; r++)
				keys[r] = (uint64_t)(UINT32_MAX - count[list[r]]) << 32 | list[r];
			sort_keys(keys, keys + m, m);
			for (uint32_t r = 0; r < m; r++)
				list[r] = (uint32_t)keys[r];
		}
		for (uint32_t r = 0; r < m; r++)
			count[list[r]] = r; /* now the rank */
		for (uint32_t j = lo; j < hi; j++)
			e->peer_rank[(uint32_t)grouped[j]] = count[grouped[j] >> 32];
		for (uint32_t r = 0; r < m; r++)
			count[list[r]] = 0;
		first[a] = entries;
		entries += m;
	}
	first[n_addrs] = entries;
	return entries;
}

/* Order-0 entropy in bytes of the w byte planes of v[0..n) (each plane is its own zstd frame
 * with its own Huffman table, which this models) from their byte histograms. */
static double planes_bytes(const uint32_t *hist, uint32_t n, unsigned w)
{
	double bits = 0;
	for (unsigned pl = 0; pl < w; pl++)
		for (unsigned b = 0; b < 256; b++) {
			uint32_t c = hist[pl * 256 + b];
			if (c)
				bits += c * log2((double)n / c);
		}
	return bits / 8;
}

static unsigned width_of(uint32_t max_value)
{
	return max_value < 0x100 ? 1 : max_value < 0x10000 ? 2 : max_value < 0x1000000 ? 3 : 4;
}

static void add_planes(uint32_t *hist, uint32_t v, unsigned w)
{
	for (unsigned pl = 0; pl < w; pl++)
		hist[pl * 256 + ((v >> (8 * pl)) & 0xff)]++;
}

bool ld_seg_peers_pay(const ld_seg_encoder *e, const ld_rowset *rs, const uint32_t *idx, uint32_t n,
		      uint32_t n_addrs)
{
	uint32_t entries = e->peer_first[n_addrs];
	if (entries == 0 || entries > n / 2)
		return false;
	static __thread uint32_t hist[3][4 * 256];
	memset(hist, 0, sizeof(hist));
	unsigned w_id = width_of(n_addrs - 1);
	uint32_t max_rank = 0;
	for (uint32_t k = 0; k < n; k++)
		max_rank = e->peer_rank[k] > max_rank ? e->peer_rank[k] : max_rank;
	unsigned w_rank = width_of(max_rank);
	for (uint32_t k = 0; k < n; k++) {
		add_planes(hist[0], e->addr_map[rs->dst[idx[k]]], w_id);
		add_planes(hist[1], e->peer_rank[k], w_rank);
	}
	for (uint32_t i = 0; i < entries; i++)
		add_planes(hist[2], e->peer_dst[i], w_id);
	double ids = planes_bytes(hist[0], n, w_id);
	/* list lengths: a byte or two per source after compression; the zero counts of addresses
	 * that only receive compress to nearly nothing */
	uint32_t sources = 0;
	for (uint32_t a = 0; a < n_addrs; a++)
		sources += e->peer_first[a + 1] != e->peer_first[a];
	double ranks = planes_bytes(hist[1], n, w_rank) + planes_bytes(hist[2], entries, w_id) +
		       1.5 * sources + n_addrs / 8.0;
	return ranks < 0.9 * ids;
}

int ld_seg_put_peers(const ld_seg_encoder *e, uint32_t n_addrs, ld_buf *out, size_t *head_bytes,
		     size_t *plane_bytes)
{
	uint32_t entries = e->peer_first[n_addrs];
	unsigned w = n_addrs <= 0x100 ? 1 : n_addrs <= 0x10000 ? 2 : n_addrs <= 0x1000000 ? 3 : 4;
	if (ld_buf_reserve(out, out->len + (size_t)n_addrs * 5 + 1 + (size_t)entries * w) != 0)
		return -1;
	uint8_t *p = out->p + out->len;
	for (uint32_t a = 0; a < n_addrs; a++)
		p = ld_put_varint(p, e->peer_first[a + 1] - e->peer_first[a]);
	*p++ = (uint8_t)w;
	*head_bytes = (size_t)(p - out->p); /* a peer table comes first in the frame */
	for (unsigned b = w; b-- > 0;) {
		for (uint32_t i = 0; i < entries; i++)
			p[i] = (uint8_t)(e->peer_dst[i] >> (8 * b));
		p += entries;
	}
	out->len = (size_t)(p - out->p);
	*plane_bytes = entries;
	return 0;
}

int ld_seg_put_seeds(const ld_seg_encoder *e, uint32_t n_addrs, ld_buf *out)
{
	if (ld_buf_reserve(out, out->len + 3 * (1 + (size_t)n_addrs * 5)) != 0)
		return -1;
	uint8_t *p = out->p + out->len;
	for (int c = 0; c < 3; c++) {
		if (!e->seed_used[c]) {
			*p++ = LD_SEED_NONE;
			continue;
		}
		*p++ = (uint8_t)e->seed_mode[c];
		for (uint32_t a = 0; a < n_addrs; a++)
			p = ld_put_varint(p, e->seed[c][a] == UINT32_MAX ? 0 : (uint64_t)e->seed[c][a] + 1);
	}
	out->len = (size_t)(p - out->p);
	return 0;
}

/* --- loading ---------------------------------------------------------------------------------- */

bool ld_seg_columns_need_peers(uint32_t columns)
{
	return columns & (LD_COL_DST | LD_COL_RULE | LD_COL_REPORTER | LD_COL_VIF);
}

/* The peer table part of the side frame at [*pp, end); advances *pp past it. */
static int load_peer_part(ld_seg *s, const uint8_t **pp, const uint8_t *end, ld_err *err)
{
	uint32_t na = s->hdr.n_addrs;
	uint64_t rows = s->hdr.rows;
	const uint8_t *p = *pp;
	uint32_t *first = malloc(((size_t)na + 1) * sizeof(uint32_t));
	if (!first) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	uint64_t entries = 0;
	for (uint32_t a = 0; a < na; a++) {
		uint64_t c;
		first[a] = (uint32_t)entries;
		if (!ld_get_varint(&p, end, &c) || c > rows || (entries += c) > rows) {
			free(first);
			ld_err_set(err, "peer table: bad list length");
			return -1;
		}
	}
	first[na] = (uint32_t)entries;
	unsigned w = p < end ? *p++ : 0;
	uint32_t *dst = malloc(((size_t)entries + 1) * sizeof(uint32_t));
	if (!dst || entries == 0 || w < 1 || w > 4 || (uint64_t)(end - p) < entries * w) {
		free(first);
		free(dst);
		ld_err_set(err, dst ? "peer table: bad entries" : "out of memory");
		return -1;
	}
	uint32_t mx = 0;
	for (uint64_t i = 0; i < entries; i++) {
		uint32_t v = 0;
		for (unsigned pl = 0; pl < w; pl++)
			v = v << 8 | p[pl * entries + i];
		dst[i] = v;
		mx = v > mx ? v : mx;
	}
	if (mx >= na) {
		free(first);
		free(dst);
		ld_err_set(err, "peer table: address id out of range");
		return -1;
	}
	s->peer_first = first;
	s->peer_dst = dst;
	*pp = p + entries * w;
	return 0;
}

/* The predictor seeds part: per predicted column a mode byte, then (unless LD_SEED_NONE) one
 * varint per address (0 = none, else string id + 1). */
static int load_seed_part(ld_seg *s, const uint8_t **pp, const uint8_t *end, ld_err *err)
{
	uint32_t na = s->hdr.n_addrs, ns = s->hdr.n_strs;
	const uint8_t *p = *pp;
	for (int c = 0; c < 3; c++) {
		if (p == end || (*p > 2 && *p != LD_SEED_NONE)) {
			ld_err_set(err, "peer table: bad seed mode");
			return -1;
		}
		uint8_t mode = *p++;
		if (mode == LD_SEED_NONE)
			continue;
		uint32_t *seed = malloc(((size_t)na + 1) * sizeof(uint32_t));
		if (!seed) {
			ld_err_set(err, "out of memory");
			return -1;
		}
		for (uint32_t a = 0; a < na; a++) {
			uint64_t v;
			if (!ld_get_varint(&p, end, &v) || v > ns) {
				free(seed);
				ld_err_set(err, "peer table: bad seed");
				return -1;
			}
			seed[a] = v ? (uint32_t)(v - 1) : UINT32_MAX;
		}
		s->seed[c] = seed;
		s->seed_mode[c] = mode;
	}
	*pp = p;
	return 0;
}

int ld_seg_load_peers(ld_seg *s, ld_decoder *d, ld_err *err)
{
	uint32_t flags = s->hdr.flags & (LD_SEG_FLAG_PEERS | LD_SEG_FLAG_SEEDS);
	if (!flags || s->side_loaded)
		return 0;
	const ld_seg_footer *f = &s->ftr;
	uint64_t off = f->dict_off + f->dict_csize, csize = f->index_off - off;
	uint32_t na = s->hdr.n_addrs;
	uint64_t rows = s->hdr.rows;
	/* peer lists: at most one entry per row: counts, width byte and 4-byte ids; seeds: three
	 * mode bytes and a varint per address each */
	if (csize == 0 || f->peers_usize > (uint64_t)na * 5 + 1 + rows * 4 + 3 + (uint64_t)na * 15) {
		ld_err_set(err, "peer table: bad size");
		return -1;
	}
	if (!ld_seg_crc_ok(f->peers_crc, s->base + off, csize)) {
		ld_err_set(err, "peer table checksum mismatch");
		return -1;
	}
	ld_buf b = {0};
	if (ld_seg_inflate(d, &b, s->base + off, (uint32_t)csize, f->peers_usize, err) != 0)
		goto fail;
	const uint8_t *p = b.p, *end = b.p + b.len;
	if ((flags & LD_SEG_FLAG_PEERS) && load_peer_part(s, &p, end, err) != 0)
		goto fail;
	if ((flags & LD_SEG_FLAG_SEEDS) && load_seed_part(s, &p, end, err) != 0)
		goto fail;
	if (p != end) {
		ld_err_set(err, "peer table: %zu bytes left over", (size_t)(end - p));
		goto fail;
	}
	ld_buf_free(&b);
	s->side_loaded = true;
	return 0;
fail:
	ld_buf_free(&b);
	return -1;
}

/* --- the dst column --------------------------------------------------------------------------- */

void ld_seg_map_peer_ranks(const ld_seg *s, const uint32_t *restrict src, uint32_t *restrict dst,
			   uint32_t n, bool *bad)
{
	const uint32_t *first = s->peer_first, *peers = s->peer_dst;
	bool out_of_list = false;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t lo = first[src[k]], cnt = first[src[k] + 1] - lo, r = dst[k];
		bool ok = r < cnt;
		out_of_list |= !ok;
		dst[k] = peers[ok ? lo + r : 0];
	}
	*bad = out_of_list;
}
