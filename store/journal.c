/* journal.c — the row log's record codec and its crash-tolerant reader.  The writer side (frame
 * buffering, fsync policy) lives in ld_writer.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

/* Copies n bytes with fixed-size moves (the last one overlapping) for the short strings that
 * dominate (rule ids, host names, vNIC ids): no library call, no read past the source. */
static inline void copy_short(uint8_t *d, const char *src, uint32_t n)
{
	const uint8_t *p = (const uint8_t *)src;
	if (n >= 8 && n <= 16) {
		uint64_t x, y;
		memcpy(&x, p, 8);
		memcpy(&y, p + n - 8, 8);
		memcpy(d, &x, 8);
		memcpy(d + n - 8, &y, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t x, y;
		memcpy(&x, p, 4);
		memcpy(&y, p + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n && n < 4) {
		d[0] = p[0];
		d[n / 2] = p[n / 2];
		d[n - 1] = p[n - 1];
	} else if (n > 16 && n <= 64) {
		uint32_t i = 0;
		for (; i + 8 < n; i += 8) {
			uint64_t x;
			memcpy(&x, p + i, 8);
			memcpy(d + i, &x, 8);
		}
		uint64_t y;
		memcpy(&y, p + n - 8, 8);
		memcpy(d + n - 8, &y, 8);
	} else if (n) {
		memcpy(d, p, n);
	}
}

static inline uint8_t *put_str(uint8_t *p, const char *s, uint32_t l)
{
	if (ld_likely(l < 0x80))
		*p++ = (uint8_t)l;
	else
		p = ld_put_varint(p, l);
	copy_short(p, s, l);
	return p + l;
}

/* Record layout: ts i64, kind byte (bit 0: src is IPv4, bit 1: dst is IPv4), src (4 or 16
 * bytes), dst (4 or 16), sport u16, dport u16, len u32, proto, action, dir, flags, format,
 * present, then rule, reporter, vif, raw as varint length + bytes. */
int ld_jnl_encode(ld_buf *b, const ld_record *r, bool keep_raw)
{
	uint32_t raw_len = keep_raw ? r->raw.len : 0;
	size_t need = LD_JNL_MAX_FIXED + 20 + (size_t)r->rule.len + r->reporter.len + r->vif.len +
		      raw_len;
	if (ld_unlikely(b->cap - b->len < need) && ld_unlikely(ld_buf_reserve(b, need) != 0))
		return -1;
	uint8_t *p = b->p + b->len;
	memcpy(p, &r->ts_ns, 8);
	bool v4s = ld_addr_is_v4(&r->src), v4d = ld_addr_is_v4(&r->dst);
	p[8] = (uint8_t)(v4s | v4d << 1);
	p += 9;
	if (v4s) {
		memcpy(p, r->src.b + 12, 4);
		p += 4;
	} else {
		memcpy(p, r->src.b, 16);
		p += 16;
	}
	if (v4d) {
		memcpy(p, r->dst.b + 12, 4);
		p += 4;
	} else {
		memcpy(p, r->dst.b, 16);
		p += 16;
	}
	memcpy(p, &r->sport, 2);
	memcpy(p + 2, &r->dport, 2);
	memcpy(p + 4, &r->len, 4);
	p[8] = r->proto;
	p[9] = r->action;
	p[10] = r->dir;
	p[11] = r->tcp_flags;
	p[12] = r->format;
	p[13] = r->present;
	p += 14;
	p = put_str(p, r->rule.ptr, r->rule.len);
	p = put_str(p, r->reporter.ptr, r->reporter.len);
	p = put_str(p, r->vif.ptr, r->vif.len);
	p = put_str(p, r->raw.ptr, raw_len);
	b->len = (size_t)(p - b->p);
	return 0;
}

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

static int decode_frame(const uint8_t *p, const uint8_t *end, uint32_t count, ld_rowset *rs)
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
		if ((hdr[0] != LD_JNL_FRAME_MAGIC && hdr[0] != LD_JNL_FRAME_MAGIC_Z) ||
		    hdr[1] > got - off - 16)
			break;
		const uint8_t *payload = buf + off + 16;
		uint32_t crc = ld_crc32c(ld_crc32c(0, &hdr[2], 4), payload, hdr[1]);
		if (crc != hdr[3] && !ld_seg_ignore_crc)
			break;
		size_t plen = hdr[1];
		if (hdr[0] == LD_JNL_FRAME_MAGIC_Z) {
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
		size_t before = rs->n;
		int rc = decode_frame(payload, payload + plen, hdr[2], rs);
		if (rc == -2) {
			ld_buf_free(&z);
			return -1;
		}
		if (rc != 0) {
			rs->n = before; /* a frame with a valid CRC but bad content: stop there */
			break;
		}
		off += 16 + hdr[1];
		*valid_len = off;
	}
	ld_buf_free(&z);
	return 0;
}
