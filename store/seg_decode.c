/* seg_decode.c — validates a segment image and decodes its blocks column by column.  Every
 * length, offset and id read from the file is checked before use: a damaged or hostile segment
 * yields an error naming what is wrong, never a crash. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

bool ld_seg_ignore_crc;

/* --- CRC32C of whole columns: three interleaved streams --------------------------------------
 *
 * A scan checks the checksum of every stored column of every block it delivers, so CRC32C is a
 * large share of a query that decodes one column.  The crc32 instruction has a latency of three
 * cycles and a throughput of one, so three independent streams over three stripes of a column
 * run about three times as fast as one; the stripes' registers are then joined with a
 * table-driven "append STRIPE zero bytes" operator (the register update is linear).  The result
 * equals ld_crc32c(). */

#if defined(__x86_64__)
#define STRIPE 1024u

static uint32_t shift_tab[4][256]; /* register after STRIPE zero bytes, by byte of the input */
static bool crc3_ok_cpu;
static pthread_once_t crc3_once = PTHREAD_ONCE_INIT;

__attribute__((target("sse4.2"))) static uint32_t crc_raw(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t r = c;
	for (; n >= 8; n -= 8, p += 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		r = __builtin_ia32_crc32di(r, v);
	}
	uint32_t r32 = (uint32_t)r;
	while (n--)
		r32 = __builtin_ia32_crc32qi(r32, *p++);
	return r32;
}

__attribute__((target("sse4.2"))) static void crc3_init(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("sse4.2"))
		return;
	static const uint8_t zeros[STRIPE];
	uint32_t basis[32];
	for (unsigned b = 0; b < 32; b++)
		basis[b] = crc_raw(1u << b, zeros, STRIPE);
	for (unsigned j = 0; j < 4; j++)
		for (unsigned v = 0; v < 256; v++) {
			uint32_t r = 0;
			for (unsigned b = 0; b < 8; b++)
				if (v & (1u << b))
					r ^= basis[8 * j + b];
			shift_tab[j][v] = r;
		}
	crc3_ok_cpu = true;
}

static uint32_t shift_stripe(uint32_t r)
{
	return shift_tab[0][r & 0xff] ^ shift_tab[1][(r >> 8) & 0xff] ^ shift_tab[2][(r >> 16) & 0xff] ^
	       shift_tab[3][r >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_3way(const uint8_t *p, size_t n)
{
	uint32_t r = ~0u;
	for (; n >= 3 * STRIPE; n -= 3 * STRIPE, p += 3 * STRIPE) {
		uint64_t a = r, b = 0, c = 0;
		for (size_t i = 0; i < STRIPE; i += 8) {
			uint64_t x, y, z;
			memcpy(&x, p + i, 8);
			memcpy(&y, p + STRIPE + i, 8);
			memcpy(&z, p + 2 * STRIPE + i, 8);
			a = __builtin_ia32_crc32di(a, x);
			b = __builtin_ia32_crc32di(b, y);
			c = __builtin_ia32_crc32di(c, z);
		}
		r = shift_stripe(shift_stripe((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
	}
	return ~crc_raw(r, p, n);
}

static uint32_t column_crc(const void *p, size_t n)
{
	pthread_once(&crc3_once, crc3_init);
	return crc3_ok_cpu ? crc32c_3way(p, n) : ld_crc32c(0, p, n);
}
#else
static uint32_t column_crc(const void *p, size_t n)
{
	return ld_crc32c(0, p, n);
}
#endif

bool ld_seg_crc_ok(uint32_t want, const void *p, size_t n)
{
	return ld_seg_ignore_crc || column_crc(p, n) == want;
}

int ld_decoder_init(ld_decoder *d)
{
	memset(d, 0, sizeof(*d));
	size_t n = LD_SEG_BLOCK_ROWS;
	d->dctx = ZSTD_createDCtx();
	d->ts = malloc(n * sizeof(int64_t));
	d->src = malloc(n * sizeof(uint32_t));
	d->dst = malloc(n * sizeof(uint32_t));
	d->len = malloc(n * sizeof(uint32_t));
	d->rule = malloc(n * sizeof(uint32_t));
	d->reporter = malloc(n * sizeof(uint32_t));
	d->vif = malloc(n * sizeof(uint32_t));
	d->sport = malloc(n * sizeof(uint16_t));
	d->dport = malloc(n * sizeof(uint16_t));
	d->proto = malloc(n * 6);
	d->raw = malloc(n * sizeof(ld_str));
	d->sport_eq = malloc(n);
	d->len_out = malloc(n);
	d->dport_exc = calloc(n, sizeof(uint16_t)); /* read past a short list on damage: defined */
	d->miss_row = malloc(n * sizeof(uint32_t));
	d->shape_dport_out = malloc(LD_SHAPE_MAX);
	d->shape_rank = malloc(n * sizeof(uint16_t));
	d->shape_tab = malloc(LD_SHAPE_MAX * sizeof(ld_shape));
	d->shape_rank8 = malloc(n);
	d->shape_dport = malloc(LD_SHAPE_MAX * sizeof(uint16_t));
	if (!d->miss_row || !d->len_out || !d->dport_exc || !d->shape_dport_out || !d->shape_rank8 || !d->shape_dport || !d->sport_eq || !d->shape_rank || !d->shape_tab || !d->dctx || !d->ts || !d->src || !d->dst || !d->len || !d->rule || !d->reporter ||
	    !d->vif || !d->sport || !d->dport || !d->proto || !d->raw) {
		ld_decoder_free(d);
		return -1;
	}
	d->action = d->proto + n;
	d->dir = d->proto + 2 * n;
	d->flags = d->proto + 3 * n;
	d->format = d->proto + 4 * n;
	d->present = d->proto + 5 * n;
	return 0;
}

void ld_decoder_free(ld_decoder *d)
{
	ZSTD_freeDCtx(d->dctx);
	free(d->ts);
	free(d->src);
	free(d->dst);
	free(d->len);
	free(d->rule);
	free(d->reporter);
	free(d->vif);
	free(d->sport);
	free(d->dport);
	free(d->proto);
	free(d->raw);
	free(d->sport_eq);
	free(d->len_out);
	free(d->dport_exc);
	free(d->miss_row);
	free(d->shape_dport_out);
	free(d->shape_rank);
	free(d->shape_tab);
	free(d->shape_rank8);
	free(d->shape_dport);
	free(d->pred);
	ld_buf_free(&d->tmp);
	ld_buf_free(&d->raw_bytes);
	memset(d, 0, sizeof(*d));
}

/* Decompresses exactly usize bytes of zstd frames into buf (reset). */
int ld_seg_inflate(ld_decoder *d, ld_buf *buf, const uint8_t *src, uint32_t csize, uint32_t usize,
		   ld_err *err)
{
	buf->len = 0;
	if (ld_buf_reserve(buf, (size_t)usize + 1) != 0) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	size_t z = ZSTD_decompressDCtx(d->dctx, buf->p, (size_t)usize, src, csize);
	if (ZSTD_isError(z)) {
		ld_err_set(err, "zstd: %s", ZSTD_getErrorName(z));
		return -1;
	}
	if (z != usize) {
		ld_err_set(err, "column decompresses to %zu bytes, index says %u", z, usize);
		return -1;
	}
	buf->len = z;
	return 0;
}

void ld_seg_close(ld_seg *s)
{
	if (s->map)
		munmap(s->map, s->size);
	free(s->blocks);
	free(s->addrs);
	free(s->strs);
	free(s->dict);
	free(s->peer_first);
	free(s->peer_dst);
	for (int c = 0; c < 3; c++)
		free(s->seed[c]);
	memset(s, 0, sizeof(*s));
}

static int open_dicts(ld_seg *s, ld_decoder *d, ld_err *err)
{
	const ld_seg_footer *f = &s->ftr;
	uint64_t need = (uint64_t)s->hdr.n_addrs * 16 + (uint64_t)s->hdr.n_strs * 4;
	if (f->dict_usize < need) {
		ld_err_set(err, "dictionary too small for its counts");
		return -1;
	}
	if (!ld_seg_crc_ok(f->dict_crc, s->base + f->dict_off, f->dict_csize)) {
		ld_err_set(err, "dictionary checksum mismatch");
		return -1;
	}
	/* 16 bytes per address plus the strings: far below this for any real segment, and a
	 * damaged footer must not ask for gigabytes */
	if (f->dict_usize > ((uint64_t)256 << 20)) {
		ld_err_set(err, "dictionary claims %llu bytes", (unsigned long long)f->dict_usize);
		return -1;
	}
	ld_buf b = {0};
	if (ld_seg_inflate(d, &b, s->base + f->dict_off, f->dict_csize, f->dict_usize, err) != 0) {
		ld_buf_free(&b);
		return -1;
	}
	s->dict = b.p;
	uint32_t na = s->hdr.n_addrs, ns = s->hdr.n_strs;
	s->addrs = malloc(((size_t)na + 1) * sizeof(ld_addr));
	s->strs = malloc(((size_t)ns + 1) * sizeof(ld_str));
	if (!s->addrs || !s->strs) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	const uint8_t *p = b.p;
	for (unsigned plane = 0; plane < 16; plane++)
		for (uint32_t k = 0; k < na; k++)
			s->addrs[k].b[plane] = *p++;
	for (uint32_t k = 1; k < na; k++)
		if (memcmp(s->addrs[k - 1].b, s->addrs[k].b, 16) >= 0) {
			ld_err_set(err, "address dictionary not sorted");
			return -1;
		}
	const uint8_t *lens = p;
	const uint8_t *bytes = p + (size_t)ns * 4, *end = b.p + b.len;
	for (uint32_t k = 0; k < ns; k++) {
		uint32_t l;
		memcpy(&l, lens + (size_t)k * 4, 4);
		if ((uint64_t)(end - bytes) < l) {
			ld_err_set(err, "string dictionary overruns");
			return -1;
		}
		s->strs[k].ptr = l ? (const char *)bytes : "";
		s->strs[k].len = l;
		bytes += l;
	}
	return 0;
}

int ld_seg_open_mem(ld_seg *s, const uint8_t *p, size_t n, ld_decoder *d, ld_err *err)
{
	memset(s, 0, sizeof(*s));
	s->base = p;
	s->size = n;
	if (n < sizeof(ld_seg_header) + sizeof(ld_seg_footer)) {
		ld_err_set(err, "truncated (%zu bytes)", n);
		return -1;
	}
	memcpy(&s->ftr, p + n - sizeof(ld_seg_footer), sizeof(ld_seg_footer));
	memcpy(&s->hdr, p, sizeof(ld_seg_header));
	ld_seg_footer *f = &s->ftr;
	ld_seg_header *h = &s->hdr;
	if (memcmp(f->magic, LD_SEG_END_MAGIC, 8) != 0 ||
	    !ld_seg_crc_ok(f->footer_crc, f, offsetof(ld_seg_footer, footer_crc))) {
		ld_err_set(err, "bad footer (truncated or overwritten)");
		return -1;
	}
	if (memcmp(h->magic, LD_SEG_MAGIC, 8) != 0 || h->version != LD_SEG_VERSION ||
	    h->header_size != sizeof(ld_seg_header) ||
	    !ld_seg_crc_ok(h->crc, h, offsetof(ld_seg_header, crc))) {
		ld_err_set(err, "bad header");
		return -1;
	}
	uint64_t body_end = n - sizeof(ld_seg_footer);
	if (h->blocks != f->blocks || h->rows != f->rows || h->block_rows != LD_SEG_BLOCK_ROWS ||
	    h->rows == 0 || h->rows > LD_SEG_MAX_ROWS || h->blocks == 0 ||
	    h->blocks > (h->rows + LD_SEG_BLOCK_ROWS - 1) / LD_SEG_BLOCK_ROWS ||
	    h->n_addrs > 2 * h->rows || h->n_strs > 3 * h->rows ||
	    (uint64_t)f->index_size != (uint64_t)h->blocks * sizeof(ld_seg_block) ||
	    f->index_off < sizeof(ld_seg_header) || f->index_off > body_end ||
	    f->index_size > body_end - f->index_off || f->dict_off < sizeof(ld_seg_header) ||
	    f->dict_off > f->index_off || f->dict_csize > f->index_off - f->dict_off ||
	    f->dict_usize > (1u << 30) ||
	    ((h->flags & (LD_SEG_FLAG_PEERS | LD_SEG_FLAG_SEEDS)) &&
	     f->dict_off + f->dict_csize >= f->index_off)) {
		ld_err_set(err, "inconsistent header/footer");
		return -1;
	}
	if (!ld_seg_crc_ok(f->index_crc, p + f->index_off, f->index_size)) {
		ld_err_set(err, "block index checksum mismatch");
		return -1;
	}
	s->blocks = malloc(f->index_size);
	if (!s->blocks) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	memcpy(s->blocks, p + f->index_off, f->index_size);
	uint64_t rows = 0;
	for (uint32_t b = 0; b < h->blocks; b++) {
		const ld_seg_block *blk = &s->blocks[b];
		if (blk->rows == 0 || blk->rows > LD_SEG_BLOCK_ROWS) {
			ld_err_set(err, "block %u: bad row count", b);
			goto fail;
		}
		rows += blk->rows;
		for (unsigned c = 0; c < LD_SEG_NCOLS; c++) {
			const ld_seg_col *col = &blk->cols[c];
			if (col->csize == 0)
				continue;
			if (col->off < sizeof(ld_seg_header) || col->off > f->dict_off ||
			    col->csize > f->dict_off - col->off || col->usize > (1u << 30)) {
				ld_err_set(err, "block %u column %u: out of bounds", b, c);
				goto fail;
			}
		}
	}
	if (rows != h->rows) {
		ld_err_set(err, "blocks hold %llu rows, header says %llu", (unsigned long long)rows,
			   (unsigned long long)h->rows);
		goto fail;
	}
	if (open_dicts(s, d, err) != 0)
		goto fail;
	return 0;
fail:
	ld_seg_close(s);
	return -1;
}

int ld_seg_open_file(ld_seg *s, const char *path, ld_decoder *d, ld_err *err)
{
	memset(s, 0, sizeof(*s));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ld_err_errno(err, "open");
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		ld_err_errno(err, "stat");
		close(fd);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	if (n < sizeof(ld_seg_header) + sizeof(ld_seg_footer)) {
		close(fd);
		ld_err_set(err, "truncated (%zu bytes)", n);
		return -1;
	}
	void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		ld_err_errno(err, "mmap");
		return -1;
	}
	if (ld_seg_open_mem(s, m, n, d, err) != 0) {
		munmap(m, n);
		return -1;
	}
	s->map = m;
	return 0;
}

int64_t ld_seg_find_addr(const ld_seg *s, const ld_addr *a)
{
	uint32_t lo = 0, hi = s->hdr.n_addrs;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(s->addrs[mid].b, a->b, 16);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool bit(const uint8_t *bits, uint32_t i)
{
	return bits[i >> 3] & (1u << (i & 7));
}

bool ld_seg_block_may_match(const ld_seg *s, uint32_t bi, const ld_scan_spec *spec,
			    const uint32_t *host_ids, uint32_t n_host_ids)
{
	const ld_seg_block *b = &s->blocks[bi];
	if (b->ts_max < spec->from_ns || b->ts_min >= spec->to_ns)
		return false;
	if (spec->dport >= 0) {
		uint32_t dp = (uint32_t)spec->dport;
		if (dp < b->dport_min || dp > b->dport_max || !bit(b->dport_bits, dp % LD_SEG_PORT_BITS))
			return false;
	}
	if (spec->proto >= 0 && !bit(b->proto_bits, (uint32_t)spec->proto & 255))
		return false;
	if (spec->action_mask && !(spec->action_mask & b->action_mask))
		return false;
	if (spec->n_hosts) {
		bool any = false;
		for (uint32_t k = 0; k < n_host_ids && !any; k++) {
			uint32_t id = host_ids[k];
			if (spec->host_side != 2 && id >= b->src_min && id <= b->src_max &&
			    bit(b->src_bits, id % LD_SEG_ADDR_BITS))
				any = true;
			if (spec->host_side != 1 && id >= b->dst_min && id <= b->dst_max &&
			    bit(b->dst_bits, id % LD_SEG_ADDR_BITS))
				any = true;
		}
		if (!any)
			return false;
	}
	return true;
}

/* --- column decoders ---------------------------------------------------------------------- */

static int dec_ts(const ld_buf *c, int64_t *out, uint32_t n)
{
	const uint8_t *p = c->p, *end = c->p + c->len;
	if (c->len < 17 || p[0] != LD_ENC_TS_DELTA)
		return -1;
	int64_t v;
	uint64_t g;
	memcpy(&v, p + 1, 8);
	memcpy(&g, p + 9, 8);
	p += 17;
	out[0] = v;
	for (uint32_t k = 1; k < n; k++) {
		uint64_t z;
		if (!ld_get_varint(&p, end, &z))
			return -1;
		/* unsigned, wrapping: exact for the encoder's deltas, and a hostile file yields
		 * garbage times, not undefined behaviour */
		v = (int64_t)((uint64_t)v + z * g);
		out[k] = v;
	}
	return p == end ? 0 : -1;
}

/* One pass per width (planes high first) that also keeps the maximum for the bound check: the
 * compiler vectorizes each loop, and the ids are not read a second time. */
static int dec_ids(const ld_buf *c, uint8_t enc, uint32_t *restrict out, uint32_t n, uint32_t limit)
{
	if (c->len < 2 || c->p[0] != enc)
		return -1;
	unsigned w = c->p[1];
	if (w < 1 || w > 4 || c->len != 2 + (size_t)w * n)
		return -1;
	const uint8_t *restrict p = c->p + 2;
	const uint8_t *p1 = p + n, *p2 = p + 2 * (size_t)n, *p3 = p + 3 * (size_t)n;
	uint32_t mx = 0;
#define IDS_LOOP(expr)                                                                           \
	for (uint32_t k = 0; k < n; k++) {                                                       \
		uint32_t v = (expr);                                                             \
		out[k] = v;                                                                      \
		mx = v > mx ? v : mx;                                                            \
	}
	switch (w) {
	case 1: IDS_LOOP(p[k]); break;
	case 2: IDS_LOOP((uint32_t)p[k] << 8 | p1[k]); break;
	case 3: IDS_LOOP((uint32_t)p[k] << 16 | (uint32_t)p1[k] << 8 | p2[k]); break;
	default:
		IDS_LOOP((uint32_t)p[k] << 24 | (uint32_t)p1[k] << 16 | (uint32_t)p2[k] << 8 | p3[k]);
		break;
	}
#undef IDS_LOOP
	return n == 0 || mx < limit ? 0 : -1;
}

static int dec_ports(const ld_buf *c, uint16_t *out, uint32_t n)
{
	if (c->len != 2 + 2 * (size_t)n || c->p[0] != LD_ENC_PLANES || c->p[1] != 2)
		return -1;
	const uint8_t *hi = c->p + 2, *lo = hi + n;
	for (uint32_t k = 0; k < n; k++)
		out[k] = (uint16_t)(hi[k] << 8 | lo[k]);
	return 0;
}

static int dec_raw8(const ld_buf *c, uint8_t *out, uint32_t n)
{
	if (c->len != 1 + (size_t)n || c->p[0] != LD_ENC_RAW8)
		return -1;
	memcpy(out, c->p + 1, n);
	return 0;
}

static int dec_len(const ld_buf *c, uint32_t *out, uint32_t n)
{
	const uint8_t *p = c->p + 1, *end = c->p + c->len;
	if (c->len < 1 || c->p[0] != LD_ENC_VARINT)
		return -1;
	for (uint32_t k = 0; k < n; k++) {
		uint64_t v;
		if (!ld_get_varint(&p, end, &v) || v > UINT32_MAX)
			return -1;
		out[k] = (uint32_t)v;
	}
	return p == end ? 0 : -1;
}

/* len of the rows whose shape leaves it out (d->len_out): their shape's smallest length, which
 * d->len holds already, plus the column's value, byte planes of the width its second byte says. */
static int dec_len_skip(ld_decoder *d, const ld_buf *c, uint32_t n)
{
	if (c->len < 2 || c->p[0] != LD_ENC_PLANES_SKIP || c->p[1] < 1 || c->p[1] > 4)
		return -1;
	unsigned w = c->p[1];
	uint32_t m = 0;
	for (uint32_t k = 0; k < n; k++)
		m += d->len_out[k];
	if (c->len != 2 + (size_t)w * m)
		return -1;
	const uint8_t *p = c->p + 2;
	uint32_t j = 0;
	bool bad = false;
	for (uint32_t k = 0; k < n; k++) {
		if (!d->len_out[k])
			continue;
		uint32_t r = 0;
		for (unsigned pl = 0; pl < w; pl++)
			r = r << 8 | p[(size_t)pl * m + j];
		j++;
		uint64_t v = (uint64_t)d->len[k] + r;
		bad |= v > UINT32_MAX;
		d->len[k] = (uint32_t)v;
	}
	return bad ? -1 : 0;
}

/* LD_ENC_PREDICT (keyed by direction) or LD_ENC_PREDICT_BY (a byte names the key); see
 * enc_predict() in seg_encode.c. */
/* The sparse layout: a count of missed rows, their gaps (rows hit in between), their ids.  The
 * rows between take the prediction (the endpoint's last id in the block, else its seed). */
static int dec_predict_sparse(ld_decoder *d, const uint8_t *p, const uint8_t *end, unsigned by,
			      const uint32_t *seed, uint64_t gen, uint32_t *out, uint32_t n,
			      uint32_t n_strs)
{
	uint64_t m;
	if (!ld_get_varint(&p, end, &m) || m > n)
		return -1;
	uint32_t *rows = d->miss_row;
	uint64_t at = 0;
	for (uint64_t j = 0; j < m; j++) {
		uint64_t gap;
		if (!ld_get_varint(&p, end, &gap) || gap >= n || (at += gap) >= n)
			return -1;
		rows[j] = (uint32_t)at++;
	}
	const uint32_t *src = d->src, *dst = d->dst;
	uint32_t j = 0, next = m ? rows[0] : n;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t key = ld_pred_key(by, src[k], dst[k], d->dir[k]);
		if (k == next) {
			uint64_t v;
			if (!ld_get_varint(&p, end, &v) || v >= n_strs)
				return -1;
			out[k] = (uint32_t)v;
			d->pred[key] = gen | out[k];
			next = ++j < m ? rows[j] : n;
		} else {
			uint32_t guess = ld_pred_guess(d->pred[key], gen, seed, key);
			if (guess == UINT32_MAX)
				return -1;
			out[k] = guess;
		}
	}
	return p == end ? 0 : -1;
}

static int dec_predict(ld_decoder *d, const ld_seg *s, unsigned col, const ld_buf *c, uint32_t *out,
			uint32_t n)
{
	const uint8_t *p = c->p + 1, *end = c->p + c->len;
	uint32_t n_strs = s->hdr.n_strs;
	if (c->len < 1 || (c->p[0] != LD_ENC_PREDICT && c->p[0] != LD_ENC_PREDICT_BY))
		return -1;
	/* 0: src for OUT rows, dst otherwise; 1: src; 2: dst; 3: one id; 4: seeded */
	unsigned by = 0;
	bool sparse = false;
	if (c->p[0] == LD_ENC_PREDICT_BY) {
		if (c->len < 2 || (c->p[1] & ~LD_PREDICT_SPARSE) > 4)
			return -1;
		sparse = c->p[1] & LD_PREDICT_SPARSE;
		by = *p++ & ~LD_PREDICT_SPARSE;
	}
	if (by == 3) {
		uint64_t v;
		if (sparse || !ld_get_varint(&p, end, &v) || v >= n_strs || p != end)
			return -1;
		for (uint32_t k = 0; k < n; k++)
			out[k] = (uint32_t)v;
		return 0;
	}
	const uint32_t *seed = NULL;
	if (by == 4) {
		if (!s->seed[col]) /* not loaded (ld_seg_load_peers) or not in the segment */
			return -1;
		seed = s->seed[col];
		by = s->seed_mode[col];
	}
	const uint32_t *src = d->src, *dst = d->dst;
	uint64_t gen = (uint64_t)(++d->gen) << 32;
	if (sparse)
		return dec_predict_sparse(d, p, end, by, seed, gen, out, n, n_strs);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t key = ld_pred_key(by, src[k], dst[k], d->dir[k]);
		uint64_t v;
		if (!ld_get_varint(&p, end, &v) || v > n_strs)
			return -1;
		if (v == 0) {
			uint32_t guess = ld_pred_guess(d->pred[key], gen, seed, key);
			if (guess == UINT32_MAX)
				return -1;
			out[k] = guess;
		} else {
			out[k] = (uint32_t)(v - 1);
			d->pred[key] = gen | out[k];
		}
	}
	return p == end ? 0 : -1;
}

static int dec_raw(ld_decoder *d, ld_buf *c, uint32_t n)
{
	const uint8_t *p = c->p + 1, *end = c->p + c->len;
	if (c->len < 1 || c->p[0] != LD_ENC_BYTES)
		return -1;
	uint64_t total = 0;
	for (uint32_t k = 0; k < n; k++) {
		uint64_t v;
		if (!ld_get_varint(&p, end, &v) || v > UINT32_MAX)
			return -1;
		d->raw[k].len = (uint32_t)v;
		total += v;
	}
	if ((uint64_t)(end - p) != total)
		return -1;
	for (uint32_t k = 0; k < n; k++) {
		d->raw[k].ptr = d->raw[k].len ? (const char *)p : "";
		p += d->raw[k].len;
	}
	return 0;
}

/* The rare ports of a shaped block (rows of the shapes flagged LD_SHAPE_DPORT_OUT), in row
 * order, into d->dport_exc; decoded before the shape column, which places them. */
static int dec_dport_list(ld_decoder *d, const ld_buf *c, uint32_t n)
{
	if (c->len < 2 || c->p[0] != LD_ENC_PLANES_SKIP || c->p[1] != 2 || (c->len - 2) % 2)
		return -1;
	uint32_t m = (uint32_t)((c->len - 2) / 2);
	if (m > n)
		return -1;
	const uint8_t *hi = c->p + 2, *lo = hi + m;
	for (uint32_t j = 0; j < m; j++)
		d->dport_exc[j] = (uint16_t)(hi[j] << 8 | lo[j]);
	d->view_exc = m;
	return 0;
}

static int dec_sport_skip(ld_decoder *d, const ld_buf *c, uint32_t n)
{
	uint32_t m = 0;
	for (uint32_t k = 0; k < n; k++)
		m += !d->sport_eq[k];
	if (c->len != 2 + 2 * (size_t)m || c->p[0] != LD_ENC_PLANES_SKIP || c->p[1] != 2)
		return -1;
	const uint8_t *hi = c->p + 2, *lo = hi + m;
	for (uint32_t k = 0; k < n; k++)
		d->sport[k] = d->sport_eq[k] ? d->dport[k] : (uint16_t)(*hi++ << 8 | *lo++);
	return 0;
}

/* --- row shapes (see seg_shape.c for the encoding) ---------------------------------------
 *
 * Decoding goes in two steps: the per-row ranks once, then one gather per asked member column
 * from a compact per-column copy of the table.  Blocks with at most 128 shapes (nearly all)
 * store every rank as one byte, so the rank step is a bounds check over the bytes and the
 * gathers index the bytes directly. */

#define SHAPE_SPORT_EQ LD_SHAPE_SPORT_EQ

/* Rank bytes of a block whose ranks are all one-byte varints below ns, or NULL. */
static const uint8_t *shape_ranks8(const uint8_t *p, const uint8_t *end, uint32_t n, uint64_t ns)
{
	if (ns > 128 || (size_t)(end - p) != n)
		return NULL;
	uint8_t mx = 0;
	for (uint32_t k = 0; k < n; k++)
		mx = p[k] > mx ? p[k] : mx;
	return mx < ns ? p : NULL;
}

/* Ranks stored as byte planes: one (the bytes themselves are the ranks) up to 256 shapes, else
 * high then low.  -1 unless the planes are exactly that long and every rank is below ns. */
static int shape_rank_planes(const uint8_t *p, const uint8_t *end, uint32_t n, uint64_t ns,
			     const uint8_t **r8, uint16_t *restrict r16)
{
	unsigned w = ns > 256 ? 2 : 1;
	if ((size_t)(end - p) != (size_t)w * n)
		return -1;
	uint32_t mx = 0;
	if (w == 1) {
		for (uint32_t k = 0; k < n; k++)
			mx = p[k] > mx ? p[k] : mx;
		*r8 = p;
	} else {
		const uint8_t *hi = p, *lo = p + n;
		for (uint32_t k = 0; k < n; k++) {
			r16[k] = (uint16_t)(hi[k] << 8 | lo[k]);
			mx = r16[k] > mx ? r16[k] : mx;
		}
	}
	return n == 0 || mx < ns ? 0 : -1;
}

/* Fills the member columns in `fill` (enum ld_col bits; LD_COL_SPORT means the sport == dport
 * flags) from a shape column; with `view`, also keeps the ranks and each shape's dport
 * (d->view_shapes, d->shape_rank8 or d->shape_rank, d->shape_dport). */
static int shape_decode(ld_decoder *d, const ld_buf *c, uint32_t n, uint32_t n_strs,
			uint8_t *len_mode, bool *dport_out, uint32_t fill, bool view)
{
	const uint8_t *p = c->p, *end = c->p + c->len;
	uint64_t ns;
	if (c->len < 3 || p[0] != LD_ENC_SHAPE || (p[1] & ~(LD_SHAPE_RANK_PLANES | 3u)) ||
	    (p[1] & 3u) > LD_SHAPE_LEN_MIXED)
		return -1;
	*len_mode = p[1] & 3u;
	bool planes = p[1] & LD_SHAPE_RANK_PLANES;
	p += 2;
	if (!ld_get_varint(&p, end, &ns) || ns == 0 || ns > LD_SHAPE_MAX ||
	    (uint64_t)(end - p) < ns * sizeof(ld_shape))
		return -1;
	ld_shape *tab = d->shape_tab;
	memcpy(tab, p, ns * sizeof(ld_shape));
	p += ns * sizeof(ld_shape);
	/* shapes whose rows keep their port in the dport column come last: from rank first_out */
	uint32_t first_out = (uint32_t)ns;
	for (uint64_t i = 0; i < ns; i++) {
		bool out = tab[i].rule & LD_SHAPE_DPORT_OUT;
		if ((tab[i].rule & ~LD_SHAPE_RULE_FLAGS) >= n_strs ||
		    ((tab[i].rule & LD_SHAPE_LEN_OUT) && *len_mode != LD_SHAPE_LEN_MIXED) ||
		    (out && tab[i].dport) || (!out && first_out < ns))
			return -1;
		if (out && first_out == ns)
			first_out = (uint32_t)i;
	}
	*dport_out = first_out < ns;
	/* their ports are decoded before this column (d->dport_exc) when ports are asked for; the
	 * list and the rows that take them must be as many */
	bool ports = view || (fill & (LD_COL_DPORT | LD_COL_SPORT));
	if (ports && *dport_out != (d->view_exc != UINT32_MAX))
		return -1;
	const uint8_t *r8 = NULL;
	uint16_t *r16 = d->shape_rank;
	if (planes) {
		if (shape_rank_planes(p, end, n, ns, &r8, r16) != 0)
			return -1;
	} else {
		r8 = shape_ranks8(p, end, n, ns);
		if (!r8 && ld_shape_ranks16(p, end, n, ns, r16) != 0)
			return -1;
	}
	if (*len_mode == LD_SHAPE_LEN_NONE)
		fill &= ~(uint32_t)LD_COL_LEN;
	bool gather_ports = (fill & (LD_COL_DPORT | LD_COL_SPORT)) != 0;
	if (ports && *dport_out && !gather_ports) { /* the gather below counts them itself */
		uint32_t rows_out = 0;
		if (r8)
			for (uint32_t k = 0; k < n; k++)
				rows_out += r8[k] >= first_out;
		else
			for (uint32_t k = 0; k < n; k++)
				rows_out += r16[k] >= first_out;
		if (rows_out != d->view_exc)
			return -1;
	}
	if (view) {
		for (uint64_t i = 0; i < ns; i++) {
			d->shape_dport[i] = tab[i].dport;
			d->shape_dport_out[i] = i >= first_out;
		}
		if (r8) /* r8 points into the inflate buffer, which the next column reuses */
			memcpy(d->shape_rank8, r8, n);
		d->view_rank8 = r8 != NULL;
		d->view_shapes = (uint32_t)ns;
	}
	/* per-column copies of the table: the gathers then read dense arrays */
	union {
		uint8_t u8[LD_SHAPE_MAX];
		uint16_t u16[LD_SHAPE_MAX];
		uint32_t u32[LD_SHAPE_MAX];
	} t;
#define GATHER(dst, T, field)                                                                    \
	do {                                                                                     \
		for (uint64_t i = 0; i < ns; i++)                                                \
			t.T[i] = field;                                                          \
		if (r8)                                                                          \
			for (uint32_t k = 0; k < n; k++)                                         \
				(dst)[k] = t.T[r8[k]];                                           \
		else                                                                             \
			for (uint32_t k = 0; k < n; k++)                                         \
				(dst)[k] = t.T[r16[k]];                                          \
	} while (0)
	if (fill & LD_COL_PROTO)
		GATHER(d->proto, u8, tab[i].proto);
	if (fill & LD_COL_ACTION)
		GATHER(d->action, u8, tab[i].action);
	if (fill & LD_COL_DIR)
		GATHER(d->dir, u8, tab[i].dir);
	if (fill & LD_COL_FLAGS)
		GATHER(d->flags, u8, tab[i].flags);
	if (fill & LD_COL_FORMAT)
		GATHER(d->format, u8, tab[i].format);
	if (fill & LD_COL_PRESENT)
		GATHER(d->present, u8, tab[i].present);
	if ((fill & (LD_COL_DPORT | LD_COL_SPORT)) && !*dport_out) {
		GATHER(d->dport, u16, tab[i].dport);
	} else if (gather_ports) {
		/* the rare ports' rows take the next port of the list, in row order.  The list's
		 * buffer holds a whole block (j < n stays inside it), and a list whose length
		 * differs from the number of rows that take from it is damage. */
		for (uint64_t i = 0; i < ns; i++)
			t.u16[i] = tab[i].dport;
		const uint16_t *exc = d->dport_exc;
		uint32_t j = 0;
		if (r8)
			for (uint32_t k = 0; k < n; k++)
				d->dport[k] = r8[k] < first_out ? t.u16[r8[k]] : exc[j++];
		else
			for (uint32_t k = 0; k < n; k++)
				d->dport[k] = r16[k] < first_out ? t.u16[r16[k]] : exc[j++];
		if (j != d->view_exc)
			return -1;
	}
	if (fill & LD_COL_LEN)
		GATHER(d->len, u32, tab[i].len);
	if ((fill & LD_COL_LEN) && *len_mode == LD_SHAPE_LEN_MIXED)
		GATHER(d->len_out, u8, (uint8_t)((tab[i].rule & LD_SHAPE_LEN_OUT) != 0));
	if (fill & LD_COL_RULE)
		GATHER(d->rule, u32, tab[i].rule & ~LD_SHAPE_RULE_FLAGS);
	if (fill & LD_COL_SPORT)
		GATHER(d->sport_eq, u8, (uint8_t)((tab[i].rule & SHAPE_SPORT_EQ) != 0));
#undef GATHER
	return 0;
}

/* The column slots a shape column carries (seg_encode.c writes LD_ENC_IN_SHAPE in these). */
#define SHAPE_MEMBERS                                                                             \
	((1u << 4) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 11) | (1u << 12) | (1u << 13) |  \
	 (1u << 14))

/* Column bits -> the column slots to decode, dependencies included. */
static uint32_t with_deps(const ld_seg_block *b, uint32_t cols)
{
	if (cols & (LD_COL_RULE | LD_COL_REPORTER | LD_COL_VIF))
		cols |= LD_COL_SRC | LD_COL_DST | LD_COL_DIR;
	if ((cols & LD_COL_DST) && b->cols[2].enc == LD_ENC_PEER_RANK)
		cols |= LD_COL_SRC;
	if ((cols & LD_COL_LEN) && b->cols[12].enc == LD_ENC_PLANES_SKIP)
		cols |= LD_COL_PROTO; /* the shapes say which rows' lengths the column holds */
	if ((cols & LD_COL_DPORT) && b->cols[4].enc == LD_ENC_PLANES_SKIP)
		cols |= LD_COL_PROTO; /* and which rows' ports */
	if (b->cols[5].enc == LD_ENC_SHAPE) {
		uint32_t carried = LD_COL_SPORT | LD_COL_PROTO;
		for (unsigned c = 0; c < LD_SEG_NCOLS; c++)
			if (b->cols[c].enc == LD_ENC_IN_SHAPE)
				carried |= 1u << c;
		if (cols & carried)
			cols |= LD_COL_PROTO;
		if (cols & LD_COL_SPORT)
			cols |= LD_COL_DPORT;
	}
	return cols;
}

int ld_seg_decode_block(ld_decoder *d, const ld_seg *s, uint32_t bi, uint32_t columns,
			ld_block *out, uint32_t *bad_cols, ld_err *err)
{
	const ld_seg_block *b = &s->blocks[bi];
	uint32_t n = b->rows;
	uint32_t need = with_deps(b, columns);
	memset(out, 0, sizeof(*out));
	/* the shape view stands in for the dport column of a shaped block (LD_COL_SHAPE_DPORT) */
	bool view = (columns & LD_COL_SHAPE_DPORT) && (columns & LD_COL_DPORT) &&
		    b->cols[5].enc == LD_ENC_SHAPE &&
		    (b->cols[4].enc == LD_ENC_IN_SHAPE || b->cols[4].enc == LD_ENC_PLANES_SKIP) &&
		    !(need & LD_COL_SPORT);
	d->view_shapes = 0;
	d->view_exc = UINT32_MAX; /* no list of rare ports decoded */
	/* the peer view stands in for the dst ids (LD_COL_DST_RANK) */
	bool peer_view = (columns & LD_COL_DST_RANK) && (columns & LD_COL_DST) &&
			 b->cols[2].enc == LD_ENC_PEER_RANK &&
			 !(need & (LD_COL_RULE | LD_COL_REPORTER | LD_COL_VIF));
	if (need & (LD_COL_RULE | LD_COL_REPORTER | LD_COL_VIF) && s->hdr.n_addrs > d->pred_cap) {
		free(d->pred);
		d->pred = calloc(s->hdr.n_addrs, sizeof(uint64_t));
		if (!d->pred) {
			d->pred_cap = 0;
			ld_err_set(err, "out of memory");
			return -1;
		}
		d->pred_cap = s->hdr.n_addrs;
		d->gen = 0;
	}
	/* With bad_cols, every stored column's checksum is checked, decoded or not, so that even a
	 * scan that only counts rows notices a damaged block; damage in a column this scan does
	 * not need is reported through *bad_cols and the block is still delivered.  That reads
	 * all of the block from memory, several times what a one-column scan decodes. */
	if (bad_cols)
		*bad_cols = 0;
	for (unsigned c = 0; c < LD_SEG_NCOLS; c++) {
		const ld_seg_col *col = &b->cols[c];
		if (col->csize && !(need & (1u << c)) && bad_cols &&
		    !ld_seg_crc_ok(col->crc, s->base + col->off, col->csize))
			*bad_cols |= 1u << c;
	}
	/* decode order matters: src, dst and dir before the predicted string columns, a list of
	 * rare ports before the shapes that place it */
	static const unsigned order[LD_SEG_NCOLS] = {0, 1, 2, 4, 5, 3, 6, 7, 11, 12, 13, 14, 8, 9, 10, 15};
	bool shaped = false, shape_dport_out = false;
	uint8_t shape_len = LD_SHAPE_LEN_NONE;
	for (unsigned oi = 0; oi < LD_SEG_NCOLS; oi++) {
		unsigned c = order[oi];
		if (!(need & (1u << c)))
			continue;
		const ld_seg_col *col = &b->cols[c];
		if (col->enc == LD_ENC_IN_SHAPE) {
			/* only the columns a shape holds may say so: any other would be left with
			 * the previous block's values (ids that need not exist in this segment);
			 * the dport slot comes before the shapes and is checked after the loop */
			if (c != 4 && (!shaped || !(SHAPE_MEMBERS & (1u << c)) ||
				       (c == 12 && shape_len != LD_SHAPE_LEN_ALL))) {
				ld_err_set(err, "block %u: column %u refers to missing shapes", bi, c);
				return -1;
			}
			continue;
		}
		if (col->csize == 0) {
			if (c == 15) { /* raw not kept in this segment */
				for (uint32_t k = 0; k < n; k++)
					d->raw[k] = (ld_str){"", 0};
				continue;
			}
			ld_err_set(err, "block %u: column %u missing", bi, c);
			return -1;
		}
		if (!ld_seg_crc_ok(col->crc, s->base + col->off, col->csize)) {
			ld_err_set(err, "block %u: column %u checksum mismatch", bi, c);
			return -1;
		}
		/* The index's uncompressed size is checked against what a column of n rows can hold
		 * before anything is allocated: a damaged index must not ask for gigabytes.  Encoded
		 * columns need at most a 10-byte varint per row plus a 64 KiB shape table; raw lines
		 * are capped at the importer's 64 KiB per line and 512 MiB per block. */
		size_t cap = c == 15 ? (size_t)n * (64u * 1024 + 16) : (size_t)n * 10 + 65536 + 64;
		if (c == 15 && cap > ((size_t)512 << 20))
			cap = (size_t)512 << 20;
		if (col->usize > cap) {
			ld_err_set(err, "block %u: column %u claims %u bytes for %u rows", bi, c,
				   col->usize, n);
			return -1;
		}
		ld_buf *buf = c == 15 ? &d->raw_bytes : &d->tmp;
		if (ld_seg_inflate(d, buf, s->base + col->off, col->csize, col->usize, err) != 0)
			return -1;
		int rc;
		switch (c) {
		case 0: rc = dec_ts(buf, d->ts, n); break;
		case 1: rc = dec_ids(buf, LD_ENC_PLANES, d->src, n, s->hdr.n_addrs); break;
		case 2:
			if (col->enc == LD_ENC_PEER_RANK) {
				/* ranks are checked against their lists, not a common limit */
				bool bad = !s->peer_first || !(need & LD_COL_SRC);
				rc = bad ? -1 : dec_ids(buf, LD_ENC_PEER_RANK, d->dst, n, UINT32_MAX);
				if (rc == 0 && !peer_view) {
					ld_seg_map_peer_ranks(s, d->src, d->dst, n, &bad);
					rc = bad ? -1 : 0;
				}
			} else {
				rc = dec_ids(buf, LD_ENC_PLANES, d->dst, n, s->hdr.n_addrs);
			}
			break;
		case 3:
			rc = col->enc == LD_ENC_PLANES_SKIP ? (shaped ? dec_sport_skip(d, buf, n) : -1)
							     : dec_ports(buf, d->sport, n);
			break;
		case 4:
			if (col->enc == LD_ENC_PLANES_SKIP) /* before the shapes: they place it */
				rc = b->cols[5].enc == LD_ENC_SHAPE ? dec_dport_list(d, buf, n) : -1;
			else
				rc = dec_ports(buf, d->dport, n);
			break;
		case 5:
			if (col->enc == LD_ENC_SHAPE) {
				/* proto is in `need` for the slot; gather it only when asked */
				uint32_t fill = columns & LD_COL_PROTO ? need : need & ~(uint32_t)LD_COL_PROTO;
				if (view)
					fill &= ~(uint32_t)LD_COL_DPORT;
				rc = shape_decode(d, buf, n, s->hdr.n_strs, &shape_len, &shape_dport_out,
						  fill, view);
				shaped = rc == 0;
			} else {
				rc = dec_raw8(buf, d->proto, n);
			}
			break;
		case 6: rc = dec_raw8(buf, d->action, n); break;
		case 7: rc = dec_raw8(buf, d->dir, n); break;
		case 8: rc = dec_predict(d, s, 0, buf, d->rule, n); break;
		case 9: rc = dec_predict(d, s, 1, buf, d->reporter, n); break;
		case 10: rc = dec_predict(d, s, 2, buf, d->vif, n); break;
		case 11: rc = dec_raw8(buf, d->flags, n); break;
		case 12:
			if (col->enc == LD_ENC_PLANES_SKIP)
				rc = shaped && shape_len == LD_SHAPE_LEN_MIXED ? dec_len_skip(d, buf, n) : -1;
			else
				rc = dec_len(buf, d->len, n);
			break;
		case 13: rc = dec_raw8(buf, d->format, n); break;
		case 14: rc = dec_raw8(buf, d->present, n); break;
		default: rc = dec_raw(d, buf, n); break;
		}
		if (rc != 0) {
			ld_err_set(err, "block %u: column %u does not decode", bi, c);
			return -1;
		}
	}
	if ((need & LD_COL_DPORT) && b->cols[4].enc == LD_ENC_IN_SHAPE && !shaped) {
		ld_err_set(err, "block %u: column 4 refers to missing shapes", bi);
		return -1;
	}
	out->n = n;
	out->ts = columns & LD_COL_TS ? d->ts : NULL;
	out->src = columns & LD_COL_SRC ? d->src : NULL;
	out->dst = columns & LD_COL_DST ? d->dst : NULL;
	if (peer_view) {
		out->dst = NULL;
		out->dst_rank = d->dst;
		out->peer_first = s->peer_first;
		out->peer_dst = s->peer_dst;
	}
	out->sport = columns & LD_COL_SPORT ? d->sport : NULL;
	out->dport = columns & LD_COL_DPORT ? d->dport : NULL;
	if (view) {
		out->dport = NULL;
		out->n_shapes = d->view_shapes;
		out->shape_rank8 = d->view_rank8 ? d->shape_rank8 : NULL;
		out->shape_rank16 = d->view_rank8 ? NULL : d->shape_rank;
		out->shape_dport = d->shape_dport;
		if (shape_dport_out) {
			out->shape_dport_out = d->shape_dport_out;
			out->dport_exc = d->dport_exc;
			out->n_dport_exc = d->view_exc;
		}
	}
	out->proto = columns & LD_COL_PROTO ? d->proto : NULL;
	out->action = columns & LD_COL_ACTION ? d->action : NULL;
	out->dir = columns & LD_COL_DIR ? d->dir : NULL;
	out->rule = columns & LD_COL_RULE ? d->rule : NULL;
	out->reporter = columns & LD_COL_REPORTER ? d->reporter : NULL;
	out->vif = columns & LD_COL_VIF ? d->vif : NULL;
	out->tcp_flags = columns & LD_COL_FLAGS ? d->flags : NULL;
	out->len = columns & LD_COL_LEN ? d->len : NULL;
	out->format = columns & LD_COL_FORMAT ? d->format : NULL;
	out->present = columns & LD_COL_PRESENT ? d->present : NULL;
	out->raw = columns & LD_COL_RAW ? d->raw : NULL;
	out->addrs = s->addrs;
	out->n_addrs = s->hdr.n_addrs;
	out->strs = s->strs;
	out->n_strs = s->hdr.n_strs;
	out->block_index = bi;
	return 0;
}
