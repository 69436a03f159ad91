/* seg_shape.c — the "row shape" encoding of a block's small, correlated columns.
 *
 * proto, action, dir, tcp flags, format, presence bits, dport, rule (and usually len) are close
 * to functions of one another in drop logs: a NetBIOS broadcast is always UDP 137, 78 bytes,
 * rule 1027; a blocked SMB attempt is TCP SYN to 445 with 52 or 66 bytes.  Instead of paying
 * for each column, a block keeps a table of its distinct tuples ("shapes"), most frequent first,
 * and one varint per row.  Rows whose source port equals the destination port (137->137,
 * 5353->5353) say so in the shape, and the sport column skips them.  A block with too many
 * distinct shapes falls back to per-column encodings.  Decoding lives with the other column
 * decoders in seg_decode.c. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define SHAPE_MAX LD_SHAPE_MAX
#define SHAPE_SLOTS 8192u
#define SPORT_EQ LD_SHAPE_SPORT_EQ
#define SHAPE_LENS 8u /* a shape with more distinct lengths keeps them in the len column */

static uint32_t shape_hash(const ld_shape *k)
{
	uint64_t a, b;
	memcpy(&a, k, 8);
	memcpy(&b, (const uint8_t *)k + 8, 8);
	uint64_t h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full);
	return (uint32_t)(h >> 40);
}

int ld_shape_enc_init(ld_shape_enc *s)
{
	memset(s, 0, sizeof(*s));
	s->slots = malloc(SHAPE_SLOTS * sizeof(uint32_t));
	s->tab = malloc(SHAPE_MAX * sizeof(ld_shape));
	s->count = malloc(SHAPE_MAX * sizeof(uint32_t));
	s->rank = malloc(SHAPE_MAX * sizeof(uint32_t));
	s->order = malloc(SHAPE_MAX * sizeof(uint32_t));
	s->row = malloc(LD_SEG_BLOCK_ROWS * sizeof(uint32_t));
	s->keys = malloc(LD_SEG_BLOCK_ROWS * sizeof(ld_shape));
	s->lens = malloc(SHAPE_MAX * SHAPE_LENS * sizeof(uint32_t));
	s->n_lens = malloc(SHAPE_MAX);
	s->dport_count = calloc(65536, sizeof(uint16_t));
	if (!s->dport_count || !s->slots || !s->tab || !s->count || !s->rank || !s->order || !s->row || !s->keys ||
	    !s->lens || !s->n_lens) {
		ld_shape_enc_free(s);
		return -1;
	}
	return 0;
}

void ld_shape_enc_free(ld_shape_enc *s)
{
	free(s->slots);
	free(s->tab);
	free(s->count);
	free(s->rank);
	free(s->order);
	free(s->row);
	free(s->keys);
	free(s->lens);
	free(s->n_lens);
	free(s->dport_count);
	memset(s, 0, sizeof(*s));
}

void ld_shape_key(ld_shape *k, const ld_rowset *rs, uint32_t i, uint32_t rule_id, bool with_len)
{
	k->proto = rs->proto[i];
	k->action = rs->action[i];
	k->dir = rs->dir[i];
	k->flags = rs->flags[i];
	k->format = rs->format[i];
	k->present = rs->present[i];
	k->dport = rs->dport[i];
	k->len = with_len ? rs->len[i] : 0;
	k->rule = rule_id | (rs->sport[i] == rs->dport[i] ? SPORT_EQ : 0);
}

static __thread const uint32_t *cmp_count;
static __thread const ld_shape *cmp_tab;

/* Most frequent first; shapes whose rows keep their port in the dport column after all others,
 * so that a decoder tells their rows by rank alone. */
static int cmp_freq(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	bool ox = cmp_tab[x].rule & LD_SHAPE_DPORT_OUT, oy = cmp_tab[y].rule & LD_SHAPE_DPORT_OUT;
	if (ox != oy)
		return ox ? 1 : -1;
	if (cmp_count[x] != cmp_count[y])
		return cmp_count[x] > cmp_count[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

int ld_shape_encode(ld_shape_enc *s, uint32_t n, uint8_t len_mode, ld_buf *out, size_t *head)
{
	memset(s->slots, 0, SHAPE_SLOTS * sizeof(uint32_t));
	uint32_t ns = 0;
	for (uint32_t k = 0; k < n; k++) {
		const ld_shape *key = &s->keys[k];
		uint32_t h = shape_hash(key) & (SHAPE_SLOTS - 1);
		for (;;) {
			uint32_t v = s->slots[h];
			if (!v) {
				if (ns == SHAPE_MAX)
					return 1;
				s->tab[ns] = *key;
				s->count[ns] = 0;
				s->slots[h] = ++ns;
				v = ns;
			} else if (memcmp(&s->tab[v - 1], key, sizeof(*key)) != 0) {
				h = (h + 1) & (SHAPE_SLOTS - 1);
				continue;
			}
			s->row[k] = v - 1;
			s->count[v - 1]++;
			break;
		}
	}
	s->n_shapes = ns;
	for (uint32_t i = 0; i < ns; i++)
		s->order[i] = i;
	cmp_count = s->count;
	cmp_tab = s->tab;
	qsort(s->order, ns, sizeof(uint32_t), cmp_freq);
	for (uint32_t r = 0; r < ns; r++)
		s->rank[s->order[r]] = r;
	out->len = 0;
	if (ld_buf_reserve(out, 16 + (size_t)ns * sizeof(ld_shape) + (size_t)n * 2) != 0)
		return -1;
	uint8_t *p = out->p;
	*p++ = LD_ENC_SHAPE;
	*p++ = len_mode | LD_SHAPE_RANK_PLANES;
	p = ld_put_varint(p, ns);
	for (uint32_t r = 0; r < ns; r++) {
		memcpy(p, &s->tab[s->order[r]], sizeof(ld_shape));
		p += sizeof(ld_shape);
	}
	*head = (size_t)(p - out->p);
	/* ranks as byte planes (high first when there are two), each its own zstd frame */
	if (ns > 256) {
		for (uint32_t k = 0; k < n; k++)
			p[k] = (uint8_t)(s->rank[s->row[k]] >> 8);
		p += n;
	}
	for (uint32_t k = 0; k < n; k++)
		p[k] = (uint8_t)s->rank[s->row[k]];
	p += n;
	out->len = (size_t)(p - out->p);
	return 0;
}

/* Lengths in the shape cost rank bits and a table entry per distinct value; in the len column
 * they cost a varint coded across every shape's lengths at once.  A TCP SYN probe comes in two
 * to four sizes, a NetBIOS query in one, a UDP datagram of an application in dozens: the first
 * are cheaper in the shape, the last in the column.  A shape takes its lengths in when it has at
 * most SHAPE_LENS of them and enough rows to pay for the table entries. */
uint32_t ld_shape_split_len(ld_shape_enc *s, uint32_t n, const uint32_t *len)
{
	uint32_t ns = s->n_shapes;
	memset(s->n_lens, 0, ns);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t sh = s->row[k];
		uint8_t m = s->n_lens[sh];
		if (m > SHAPE_LENS)
			continue;
		uint32_t *l = s->lens + (size_t)sh * SHAPE_LENS, j = 0;
		while (j < m && l[j] != len[k])
			j++;
		if (j == m) {
			if (m < SHAPE_LENS)
				l[m] = len[k];
			s->n_lens[sh] = (uint8_t)(m + 1);
		}
	}
	/* a shape that keeps its lengths out holds their minimum: the column stores the rest */
	uint32_t *base = s->lens; /* one slot per shape is enough now */
	for (uint32_t sh = 0; sh < ns; sh++)
		base[sh] = UINT32_MAX;
	uint32_t out = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t sh = s->row[k];
		if (s->n_lens[sh] <= SHAPE_LENS && s->count[sh] >= 16u * s->n_lens[sh]) {
			s->keys[k].len = len[k];
		} else {
			s->keys[k].rule |= LD_SHAPE_LEN_OUT;
			base[sh] = len[k] < base[sh] ? len[k] : base[sh];
			out++;
		}
	}
	if (out)
		for (uint32_t k = 0; k < n; k++)
			if (s->keys[k].rule & LD_SHAPE_LEN_OUT)
				s->keys[k].len = base[s->row[k]];
	return out;
}

/* A port that a block sees once or twice (a scan of high ports, an ephemeral port answered
 * back) would make shapes of its own, one table entry per row; it costs less as two bytes in a
 * column of its own, its row joining the shape of the same traffic without a port. */
uint32_t ld_shape_rare_dports(ld_shape_enc *s, uint32_t n)
{
	uint16_t *cnt = s->dport_count;
	for (uint32_t k = 0; k < n; k++)
		if (cnt[s->keys[k].dport] < LD_SHAPE_RARE_DPORT)
			cnt[s->keys[k].dport]++;
	uint32_t out = 0;
	for (uint32_t k = 0; k < n; k++)
		if (cnt[s->keys[k].dport] < LD_SHAPE_RARE_DPORT) {
			s->keys[k].rule |= LD_SHAPE_DPORT_OUT;
			out++;
		}
	for (uint32_t k = 0; k < n; k++) /* counters back to zero, then the keys lose the port */
		cnt[s->keys[k].dport] = 0;
	if (out)
		for (uint32_t k = 0; k < n; k++)
			if (s->keys[k].rule & LD_SHAPE_DPORT_OUT)
				s->keys[k].dport = 0;
	return out;
}
