/* journal.c — the row log's record codec and its crash-tolerant reader.  The writer side (frame
 * buffering, fsync policy) lives in ld_writer.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

int ld_jnl_encode(ld_buf *b, const ld_record *r, bool keep_raw)
{
	uint32_t raw_len = keep_raw ? r->raw.len : 0;
	size_t need = LD_JNL_FIXED + 40 + (size_t)r->rule.len + r->reporter.len + r->vif.len + raw_len;
	if (ld_unlikely(ld_buf_reserve(b, need) != 0))
		return -1;
	uint8_t *p = b->p + b->len;
	memcpy(p, &r->ts_ns, 8);
	memcpy(p + 8, r->src.b, 16);
	memcpy(p + 24, r->dst.b, 16);
	memcpy(p + 40, &r->sport, 2);
	memcpy(p + 42, &r->dport, 2);
	memcpy(p + 44, &r->len, 4);
	p[48] = r->proto;
	p[49] = r->action;
	p[50] = r->dir;
	p[51] = r->tcp_flags;
	p[52] = r->format;
	p[53] = r->present;
	p += LD_JNL_FIXED;
	const ld_str *s[4] = {&r->rule, &r->reporter, &r->vif, &r->raw};
	for (int i = 0; i < 4; i++) {
		uint32_t l = i == 3 ? raw_len : s[i]->len;
		p = ld_put_varint(p, l);
		if (l)
			memcpy(p, s[i]->ptr, l);
		p += l;
	}
	b->len = (size_t)(p - b->p);
	return 0;
}

static int decode_frame(const uint8_t *p, const uint8_t *end, uint32_t count, ld_rowset *rs)
{
	for (uint32_t k = 0; k < count; k++) {
		if ((size_t)(end - p) < LD_JNL_FIXED)
			return -1;
		ld_record r;
		memset(&r, 0, sizeof(r));
		memcpy(&r.ts_ns, p, 8);
		memcpy(r.src.b, p + 8, 16);
		memcpy(r.dst.b, p + 24, 16);
		memcpy(&r.sport, p + 40, 2);
		memcpy(&r.dport, p + 42, 2);
		memcpy(&r.len, p + 44, 4);
		r.proto = p[48];
		r.action = p[49];
		r.dir = p[50];
		r.tcp_flags = p[51];
		r.format = p[52];
		r.present = p[53];
		p += LD_JNL_FIXED;
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
	*valid_len = 0;
	if (got < 8 || memcmp(buf, LD_JNL_MAGIC, 8) != 0) {
		free(buf); /* empty or torn before the magic: no rows */
		return 0;
	}
	size_t off = 8;
	*valid_len = 8;
	while (got - off >= 16) {
		uint32_t hdr[4];
		memcpy(hdr, buf + off, 16);
		if (hdr[0] != LD_JNL_FRAME_MAGIC || hdr[1] > got - off - 16)
			break;
		const uint8_t *payload = buf + off + 16;
		uint32_t crc = ld_crc32c(ld_crc32c(0, &hdr[2], 4), payload, hdr[1]);
		if (crc != hdr[3])
			break;
		size_t before = rs->n;
		int rc = decode_frame(payload, payload + hdr[1], hdr[2], rs);
		if (rc == -2) {
			free(buf);
			ld_err_set(err, "out of memory");
			return -1;
		}
		if (rc != 0) {
			rs->n = before; /* a frame with a valid CRC but bad content: stop there */
			break;
		}
		off += 16 + hdr[1];
		*valid_len = off;
	}
	free(buf);
	return 0;
}
