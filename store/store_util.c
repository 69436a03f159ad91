/* store_util.c — checksums, sorting, buffers and file-system helpers shared by the store
 * modules. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ld_time.h"
#include "store_internal.h"

/* --- radix sort of 64-bit keys ---------------------------------------------------------------- */

uint64_t *ld_radix_sort_u64(uint64_t *keys, uint64_t *tmp, size_t n, unsigned first_byte)
{
	uint64_t *src = keys, *dst = tmp;
	for (unsigned shift = 8 * first_byte; shift < 64 && n; shift += 8) {
		size_t count[256] = {0};
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & 0xff]++;
		if (count[(src[0] >> shift) & 0xff] == n)
			continue; /* every key has this byte: the order stays */
		size_t sum = 0;
		for (unsigned d = 0; d < 256; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 0xff]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	return src;
}

/* --- CRC32C (Castagnoli): the SSE4.2 instruction when the CPU has it, else a table --------- */

static uint32_t crc_table[256];

static void crc_table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c_soft(uint32_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t c = crc;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}
#endif

static int crc_mode; /* 0 unknown, 1 soft, 2 hw; races are benign (same result) */

uint32_t ld_crc32c(uint32_t crc, const void *p, size_t n)
{
	if (ld_unlikely(crc_mode == 0)) {
		crc_table_init();
#if defined(__x86_64__)
		__builtin_cpu_init();
		crc_mode = __builtin_cpu_supports("sse4.2") ? 2 : 1;
#else
		crc_mode = 1;
#endif
	}
	crc = ~crc;
#if defined(__x86_64__)
	if (crc_mode == 2)
		return ~crc32c_hw(crc, p, n);
#endif
	return ~crc32c_soft(crc, p, n);
}

/* --- buffers ------------------------------------------------------------------------------ */

int ld_buf_reserve(ld_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < extra)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int ld_buf_append(ld_buf *b, const void *p, size_t n)
{
	if (ld_buf_reserve(b, n) != 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void ld_buf_free(ld_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void ld_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* --- files -------------------------------------------------------------------------------- */

int ld_fsync_dir(const char *path, ld_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ld_err_errno(err, "%s", path);
		return -1;
	}
	int rc = fsync(fd);
	close(fd);
	if (rc != 0) {
		ld_err_errno(err, "fsync %s", path);
		return -1;
	}
	return 0;
}

int ld_mkdir_p(const char *path, ld_err *err)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n >= sizeof(tmp)) {
		ld_err_set(err, "path too long: %s", path);
		return -1;
	}
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char c = tmp[i];
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
			ld_err_errno(err, "mkdir %s", tmp);
			return -1;
		}
		tmp[i] = c;
	}
	return 0;
}

int ld_store_lock(const char *dir, ld_err *err)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/LOCK", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		ld_err_errno(err, "%s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			ld_err_set(err, "%s: the store is in use by another writer", dir);
		else
			ld_err_errno(err, "flock %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

void ld_seg_rel_path(char *out, size_t cap, int64_t day_ns, uint64_t seq)
{
	int64_t days = day_ns / (86400 * LD_NS_PER_SEC);
	if (day_ns < 0 && day_ns % (86400 * LD_NS_PER_SEC))
		days--;
	int64_t y;
	unsigned m, d;
	ld_civil_from_days(days, &y, &m, &d);
	snprintf(out, cap, "segments/%04lld-%02u-%02u/%010llu.lds", (long long)y, m, d,
		 (unsigned long long)seq);
}

int ld_file_digest(const char *path, uint8_t digest[32], uint64_t *size, ld_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ld_err_errno(err, "%s", path);
		return -1;
	}
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	static __thread uint8_t buf[1 << 16];
	uint64_t total = 0;
	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			ld_err_errno(err, "read %s", path);
			close(fd);
			return -1;
		}
		if (got == 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)got);
		total += (uint64_t)got;
	}
	close(fd);
	crypto_generichash_final(&st, digest, 32);
	if (size)
		*size = total;
	return 0;
}
