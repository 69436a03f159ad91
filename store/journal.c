/* journal.c — the row log's frame codec and its crash-tolerant reader (layout: journal_format.h).
 * The writer side (when to cut a frame, fsync policy) lives in ld_writer.c.
 *
 * A column frame is built from the writer's row set directly: the rows since the last frame,
 * each column narrowed to the width its values need, and the dictionary entries those rows
 * introduced.  Replaying frames in order rebuilds the same row set, ids included; a frame that
 * does not continue exactly where the previous one ended is treated as the torn tail. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

#define COLS_HEADER 24u
 /* flags, first_row, first_addr, first_str, new_addrs, new_strs */

static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* memcpy that accepts the empty copy from or to a never-allocated column (NULL pointer),
 * which memcpy itself does not. */
static inline uint8_t *put_bytes(uint8_t *p, const void *src, size_t n)
{
	if (n)
		memcpy(p, src, n);
	return p + n;
}

static inline const uint8_t *get_bytes(void *dst, const uint8_t *p, size_t n)
{
	if (n)
		memcpy(dst, p, n);
	return p + n;
}

static uint8_t width_for(uint64_t max)
{
	return max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
}

/* Narrowing copies: the loops are simple enough for the compiler to vectorize. */
static uint8_t *put_u32s(uint8_t *p, const uint32_t *v, size_t n, uint8_t w)
{
	if (w == 1) {
		for (size_t i = 0; i < n; i++)
			p[i] = (uint8_t)v[i];
	} else if (w == 2) {
		for (size_t i = 0; i < n; i++) {
			uint16_t x = (uint16_t)v[i];
			memcpy(p + 2 * i, &x, 2);
		}
	} else {
		put_bytes(p, v, n * 4);
	}
	return p + n * w;
}

static const uint8_t *get_u32s(const uint8_t *p, uint32_t *v, size_t n, uint8_t w)
{
	if (w == 1) {
		for (size_t i = 0; i < n; i++)
			v[i] = p[i];
	} else if (w == 2) {
		for (size_t i = 0; i < n; i++) {
			uint16_t x;
			memcpy(&x, p + 2 * i, 2);
			v[i] = x;
		}
	} else {
		get_bytes(v, p, n * 4);
	}
	return p + n * w;
}

void ld_jnl_frame_plan(ld_jnl_plan *pl, const ld_rowset *rs, const ld_jnl_mark *m)
{
	size_t a = m->rows, n = rs->n - m->rows;
	uint32_t na = rs->n_addrs - m->addrs, ns = rs->n_strs - m->strs;
	uint64_t str_bytes = 0, raw_bytes = 0;
	for (uint32_t i = m->strs; i < rs->n_strs; i++)
		str_bytes += rs->str_len[i];
	if (rs->keep_raw)
		for (size_t i = a; i < rs->n; i++)
			raw_bytes += rs->raw_len[i];
	int64_t tmin = INT64_MAX, tmax = INT64_MIN;
	uint32_t lmax = 0;
	for (size_t i = a; i < rs->n; i++) {
		tmin = rs->ts[i] < tmin ? rs->ts[i] : tmin;
		tmax = rs->ts[i] > tmax ? rs->ts[i] : tmax;
		lmax = rs->len[i] > lmax ? rs->len[i] : lmax;
	}
	if (n == 0)
		tmin = tmax = 0;
	pl->has_raw = raw_bytes > 0;
	pl->ts_base = tmin;
	pl->tw = (uint64_t)tmax - (uint64_t)tmin <= UINT32_MAX ? 4 : 8;
	pl->wa = width_for(rs->n_addrs);
	pl->wst = width_for(rs->n_strs);
	pl->wl = width_for(lmax);
	pl->str_bytes = str_bytes;
	pl->raw_bytes = raw_bytes;
	pl->bytes = COLS_HEADER + (size_t)na * 16 + (size_t)ns * 4 + str_bytes + 9 + 6 +
		    n * (pl->tw + 2u * pl->wa + 3u * pl->wst + pl->wl + 4 + 6) +
		    (pl->has_raw ? n * 4 + raw_bytes : 0);
}

void ld_jnl_frame_put(uint8_t *out, const ld_jnl_plan *pl, const ld_rowset *rs,
		      const ld_jnl_mark *m)
{
	size_t a = m->rows, n = rs->n - m->rows;
	uint32_t na = rs->n_addrs - m->addrs, ns = rs->n_strs - m->strs;
	uint8_t *p = out;
	put32(p, pl->has_raw ? LD_JNL_FLAG_RAW : 0);
	put32(p + 4, (uint32_t)a);
	put32(p + 8, m->addrs);
	put32(p + 12, m->strs);
	put32(p + 16, na);
	put32(p + 20, ns);
	p += COLS_HEADER;
	p = put_bytes(p, rs->addrs + m->addrs, (size_t)na * 16);
	p = put_bytes(p, rs->str_len + m->strs, (size_t)ns * 4);
	if (ns) /* interned strings are stored back to back */
		p = put_bytes(p, rs->str_bytes.p + rs->str_off[m->strs], pl->str_bytes);
	memcpy(p, &pl->ts_base, 8);
	p[8] = pl->tw;
	p += 9;
	p[0] = p[1] = pl->wa;
	p[2] = p[3] = p[4] = pl->wst;
	p[5] = pl->wl;
	p += 6;
	if (pl->tw == 4) {
		for (size_t i = 0; i < n; i++) {
			uint32_t d = (uint32_t)((uint64_t)rs->ts[a + i] - (uint64_t)pl->ts_base);
			memcpy(p + 4 * i, &d, 4);
		}
	} else {
		put_bytes(p, rs->ts + a, n * 8);
	}
	p += n * pl->tw;
	p = put_u32s(p, rs->src + a, n, pl->wa);
	p = put_u32s(p, rs->dst + a, n, pl->wa);
	p = put_u32s(p, rs->rule + a, n, pl->wst);
	p = put_u32s(p, rs->reporter + a, n, pl->wst);
	p = put_u32s(p, rs->vif + a, n, pl->wst);
	p = put_u32s(p, rs->len + a, n, pl->wl);
	p = put_bytes(p, rs->sport + a, n * 2);
	p = put_bytes(p, rs->dport + a, n * 2);
	const uint8_t *u8cols[6] = {rs->proto, rs->action, rs->dir, rs->flags, rs->format, rs->present};
	for (int c = 0; c < 6; c++)
		p = put_bytes(p, u8cols[c] + a, n);
	if (pl->has_raw) {
		p = put_bytes(p, rs->raw_len + a, n * 4);
		put_bytes(p, rs->raw_bytes.p + rs->raw_off[a], pl->raw_bytes);
	}
}

int ld_jnl_frame(ld_buf *out, const ld_rowset *rs, const ld_jnl_mark *m, bool *has_raw)
{
	ld_jnl_plan pl;
	ld_jnl_frame_plan(&pl, rs, m);
	*has_raw = pl.has_raw;
	out->len = 0;
	if (ld_buf_reserve(out, pl.bytes) != 0)
		return -1;
	ld_jnl_frame_put(out->p, &pl, rs, m);
	out->len = pl.bytes;
	return 0;
}

size_t ld_jnl_pad(uint8_t *buf, size_t len)
{
	size_t gap = (LD_JNL_ALIGN - len % LD_JNL_ALIGN) % LD_JNL_ALIGN;
	if (gap == 0)
		return len;
	if (gap < 16)
		gap += LD_JNL_ALIGN;
	uint32_t hdr[4] = {LD_JNL_FRAME_PAD, (uint32_t)(gap - 16), 0, 0};
	memset(buf + len + 16, 0, gap - 16);
	hdr[3] = ld_crc32c(ld_crc32c(0, &hdr[2], 4), buf + len + 16, gap - 16);
	memcpy(buf + len, hdr, 16);
	return len + gap;
}

/* Bounds-checked reader over a payload. */
typedef struct cursor {
	const uint8_t *p, *end;
	bool bad;
} cursor;

static const uint8_t *take(cursor *c, uint64_t n)
{
	if (c->bad || n > (uint64_t)(c->end - c->p)) {
		c->bad = true;
		return NULL;
	}
	const uint8_t *at = c->p;
	c->p += n;
	return at;
}

static bool width_ok(uint8_t w)
{
	return w == 1 || w == 2 || w == 4;
}

static bool ids_below(const uint32_t *v, size_t n, uint32_t limit)
{
	uint32_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad |= v[i] >= limit;
	return bad == 0;
}

/* Replays one column frame into rs.  0, -1 (does not fit: stop replay), -2 (out of memory).
 * On -1 the row set may hold part of the frame; the caller rolls it back. */
static int decode_cols(const uint8_t *buf, const uint8_t *end, uint32_t count, ld_rowset *rs)
{
	cursor c = {buf, end, false};
	const uint8_t *h = take(&c, COLS_HEADER);
	if (!h)
		return -1;
	uint32_t flags = get32(h), first_row = get32(h + 4), first_addr = get32(h + 8),
		 first_str = get32(h + 12), na = get32(h + 16), ns = get32(h + 20);
	if ((flags & ~LD_JNL_FLAG_RAW) || first_row != rs->n || first_addr != rs->n_addrs ||
	    first_str != rs->n_strs || (uint64_t)rs->n + count > LD_SEG_MAX_ROWS)
		return -1;
	const uint8_t *addrs = take(&c, (uint64_t)na * 16);
	const uint8_t *lens = take(&c, (uint64_t)ns * 4);
	if (!addrs || !lens)
		return -1;
	for (uint32_t i = 0; i < na; i++) {
		ld_addr ad;
		memcpy(ad.b, addrs + 16 * (size_t)i, 16);
		int64_t id = ld_rowset_intern_addr(rs, &ad);
		if (id < 0)
			return -2;
		if ((uint64_t)id != (uint64_t)first_addr + i)
			return -1; /* a repeated entry: not what the writer writes */
	}
	for (uint32_t i = 0; i < ns; i++) {
		uint32_t l = get32(lens + 4 * (size_t)i);
		const uint8_t *s = take(&c, l);
		if (!s)
			return -1;
		int64_t id = ld_rowset_intern_str(rs, (const char *)s, l);
		if (id < 0)
			return -2;
		if ((uint64_t)id != (uint64_t)first_str + i)
			return -1;
	}
	const uint8_t *tsh = take(&c, 9 + 6);
	if (!tsh)
		return -1;
	int64_t tbase;
	memcpy(&tbase, tsh, 8);
	uint8_t tw = tsh[8], wa = tsh[9], wd = tsh[10], wr = tsh[11], wp = tsh[12], wv = tsh[13],
		wl = tsh[14];
	if ((tw != 4 && tw != 8) || !width_ok(wa) || !width_ok(wd) || !width_ok(wr) ||
	    !width_ok(wp) || !width_ok(wv) || !width_ok(wl))
		return -1;
	size_t n = count;
	uint64_t fixed = (uint64_t)n * ((uint64_t)tw + wa + wd + wr + wp + wv + wl + 4 + 6);
	const uint8_t *cols = take(&c, fixed);
	if (!cols)
		return -1;
	if (ld_rowset_reserve(rs, rs->n + n) != 0)
		return -2;
	size_t a = rs->n;
	const uint8_t *p = cols;
	if (tw == 4) {
		for (size_t i = 0; i < n; i++)
			rs->ts[a + i] = (int64_t)((uint64_t)tbase + get32(p + 4 * i));
	} else {
		get_bytes(rs->ts + a, p, n * 8);
	}
	p += n * tw;
	p = get_u32s(p, rs->src + a, n, wa);
	p = get_u32s(p, rs->dst + a, n, wd);
	p = get_u32s(p, rs->rule + a, n, wr);
	p = get_u32s(p, rs->reporter + a, n, wp);
	p = get_u32s(p, rs->vif + a, n, wv);
	p = get_u32s(p, rs->len + a, n, wl);
	if (!ids_below(rs->src + a, n, rs->n_addrs) || !ids_below(rs->dst + a, n, rs->n_addrs) ||
	    !ids_below(rs->rule + a, n, rs->n_strs) || !ids_below(rs->reporter + a, n, rs->n_strs) ||
	    !ids_below(rs->vif + a, n, rs->n_strs))
		return -1;
	p = get_bytes(rs->sport + a, p, n * 2);
	p = get_bytes(rs->dport + a, p, n * 2);
	uint8_t *u8cols[6] = {rs->proto, rs->action, rs->dir, rs->flags, rs->format, rs->present};
	for (int k = 0; k < 6; k++)
		p = get_bytes(u8cols[k] + a, p, n);
	if (flags & LD_JNL_FLAG_RAW) {
		const uint8_t *rl = take(&c, (uint64_t)n * 4);
		if (!rl)
			return -1;
		for (size_t i = 0; i < n; i++) {
			uint32_t l = get32(rl + 4 * i);
			const uint8_t *bytes = take(&c, l);
			if (!bytes)
				return -1;
			if (rs->keep_raw) {
				rs->raw_off[a + i] = rs->raw_bytes.len;
				rs->raw_len[a + i] = l;
				if (l && ld_buf_append(&rs->raw_bytes, bytes, l) != 0)
					return -2;
			}
		}
	} else if (rs->keep_raw) {
		for (size_t i = 0; i < n; i++) {
			rs->raw_off[a + i] = rs->raw_bytes.len;
			rs->raw_len[a + i] = 0;
		}
	}
	if (c.p != c.end)
		return -1;
	for (size_t i = a; i < a + n; i++) {
		rs->ts_min = rs->ts[i] < rs->ts_min ? rs->ts[i] : rs->ts_min;
		rs->ts_max = rs->ts[i] > rs->ts_max ? rs->ts[i] : rs->ts_max;
	}
	rs->n = a + n;
	return 0;
}

/* --- record frames (earlier versions) ----------------------------------------------------- */

static const uint8_t *get_addr(const uint8_t *p, const uint8_t *end, bool v4, ld_addr *a)
{
	if ((size_t)(end - p) < (v4 ? 4u : 16u))
		return NULL;
	if (v4) {
		memset(a->b, 0, 10);
		a->b[10] = a->b[11] = 0xff;
		memcpy(a->b + 12, p, 4);
		return p + 4;
	}
	memcpy(a->b, p, 16);
	return p + 16;
}

static int decode_records(const uint8_t *p, const uint8_t *end, uint32_t count, ld_rowset *rs)
{
	for (uint32_t k = 0; k < count; k++) {
		if ((size_t)(end - p) < 9)
			return -1;
		ld_record r;
		memset(&r, 0, sizeof(r));
		memcpy(&r.ts_ns, p, 8);
		uint8_t kind = p[8];
		if (kind > 3)
			return -1;
		p = get_addr(p + 9, end, kind & 1, &r.src);
		if (p)
			p = get_addr(p, end, kind & 2, &r.dst);
		if (!p || (size_t)(end - p) < 14)
			return -1;
		memcpy(&r.sport, p, 2);
		memcpy(&r.dport, p + 2, 2);
		memcpy(&r.len, p + 4, 4);
		r.proto = p[8];
		r.action = p[9];
		r.dir = p[10];
		r.tcp_flags = p[11];
		r.format = p[12];
		r.present = p[13];
		p += 14;
		ld_str *s[4] = {&r.rule, &r.reporter, &r.vif, &r.raw};
		for (int i = 0; i < 4; i++) {
			uint64_t l;
			if (!ld_get_varint(&p, end, &l) || l > (uint64_t)(end - p))
				return -1;
			s[i]->ptr = l ? (const char *)p : "";
			s[i]->len = (uint32_t)l;
			p += l;
		}
		if (ld_rowset_add(rs, &r) != 0)
			return -2;
	}
	return p == end ? 0 : -1;
}

/* --- reader ------------------------------------------------------------------------------- */

int ld_jnl_load(const char *path, ld_rowset *rs, uint64_t *valid_len, ld_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ld_err_errno(err, "%s", path);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		ld_err_errno(err, "%s", path);
		close(fd);
		return -1;
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		close(fd);
		ld_err_set(err, "out of memory");
		return -1;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	int rc = ld_jnl_parse(buf, got, rs, valid_len);
	free(buf);
	if (rc != 0)
		ld_err_set(err, "out of memory");
	return rc;
}

static bool frame_magic(uint32_t m)
{
	return m == LD_JNL_FRAME_COLS || m == LD_JNL_FRAME_COLS_Z || m == LD_JNL_FRAME_MAGIC ||
	       m == LD_JNL_FRAME_MAGIC_Z || m == LD_JNL_FRAME_PAD;
}

int ld_jnl_parse(const uint8_t *buf, size_t got, ld_rowset *rs, uint64_t *valid_len)
{
	*valid_len = 0;
	if (got < 8 || memcmp(buf, LD_JNL_MAGIC, 8) != 0)
		return 0; /* empty or torn before the magic: no rows */
	size_t off = 8;
	*valid_len = 8;
	ld_buf z = {0}; /* inflated compressed frames */
	while (got - off >= 16) {
		uint32_t hdr[4];
		memcpy(hdr, buf + off, 16);
		if (!frame_magic(hdr[0]) || hdr[1] > got - off - 16)
			break;
		const uint8_t *payload = buf + off + 16;
		uint32_t crc = ld_crc32c(ld_crc32c(0, &hdr[2], 4), payload, hdr[1]);
		if (crc != hdr[3] && !ld_seg_ignore_crc)
			break;
		if (hdr[0] == LD_JNL_FRAME_PAD) { /* alignment filler: holds no rows */
			if (hdr[2] != 0)
				break;
			off += 16 + hdr[1];
			*valid_len = off;
			continue;
		}
		size_t plen = hdr[1];
		if (hdr[0] == LD_JNL_FRAME_MAGIC_Z || hdr[0] == LD_JNL_FRAME_COLS_Z) {
			unsigned long long usize = ZSTD_getFrameContentSize(payload, hdr[1]);
			if (usize == ZSTD_CONTENTSIZE_UNKNOWN || usize == ZSTD_CONTENTSIZE_ERROR ||
			    usize > LD_JNL_MAX_FRAME)
				break;
			if (ld_buf_reserve(&z, (size_t)usize + 1) != 0) {
				ld_buf_free(&z);
				return -1;
			}
			size_t r = ZSTD_decompress(z.p, (size_t)usize, payload, hdr[1]);
			if (ZSTD_isError(r) || r != usize)
				break;
			payload = z.p;
			plen = r;
		}
		ld_jnl_mark before = {rs->n, rs->n_addrs, rs->n_strs};
		size_t raw_before = rs->raw_bytes.len;
		bool cols = hdr[0] == LD_JNL_FRAME_COLS || hdr[0] == LD_JNL_FRAME_COLS_Z;
		int rc = cols ? decode_cols(payload, payload + plen, hdr[2], rs)
			      : decode_records(payload, payload + plen, hdr[2], rs);
		if (rc == -2) {
			ld_buf_free(&z);
			return -1;
		}
		if (rc != 0) {
			/* a frame with a valid CRC but content that does not fit: stop there, and
			 * leave the row set exactly as the frames before it made it, since the
			 * writer continues this journal from that state */
			if (ld_rowset_truncate(rs, before.rows, before.addrs, before.strs,
					       raw_before) != 0) {
				ld_buf_free(&z);
				return -1;
			}
			break;
		}
		off += 16 + hdr[1];
		*valid_len = off;
	}
	ld_buf_free(&z);
	return 0;
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ld_jnl_names_free(char **names, long n)
{
	for (long i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

long ld_jnl_unsealed(const char *dir, const ld_manifest *m, char ***names, ld_err *err)
{
	enum { MAX_JOURNALS = 4096 };
	*names = NULL;
	char jdir[4096];
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	DIR *d = opendir(jdir);
	if (!d)
		return 0; /* no journal directory: nothing unsealed */
	char **v = calloc(MAX_JOURNALS, sizeof(char *));
	if (!v) {
		closedir(d);
		ld_err_set(err, "out of memory");
		return -1;
	}
	long n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < MAX_JOURNALS) {
		size_t l = strlen(de->d_name);
		if (l > 4 && l < 60 && strcmp(de->d_name + l - 4, ".jnl") == 0 &&
		    !ld_manifest_journal_sealed(m, de->d_name)) {
			if (!(v[n] = strdup(de->d_name))) {
				closedir(d);
				ld_jnl_names_free(v, n);
				ld_err_set(err, "out of memory");
				return -1;
			}
			n++;
		}
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof(char *), cmp_cstr);
	*names = v;
	return n;
}
