/* direct_io.c — O_DIRECT writes with a page-cache fallback (contract: direct_io.h). */
#include "direct_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

bool ld_direct_io = true;

int ld_dio_open(const char *path, int flags, mode_t mode, bool *direct)
{
	bool want = *direct && ld_direct_io;
	*direct = false;
	if (want) {
		int fd = open(path, flags | O_WRONLY | O_CLOEXEC | O_DIRECT, mode);
		if (fd >= 0) {
			*direct = true;
			return fd;
		}
		if (errno != EINVAL) /* EINVAL: no direct I/O here; anything else is real */
			return -1;
	}
	return open(path, flags | O_WRONLY | O_CLOEXEC, mode);
}

static int drop_direct(int fd, bool *direct)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_DIRECT) != 0)
		return -1;
	*direct = false;
	return 0;
}

int ld_dio_pwrite(int fd, bool *direct, const void *buf, size_t len, off_t off, size_t *done)
{
	const unsigned char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t r = pwrite(fd, p + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && *direct && got == 0 && drop_direct(fd, direct) == 0)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ENOSPC;
			*done = got;
			return -1;
		}
		got += (size_t)r;
		if (*direct && got < len && got % LD_DIO_ALIGN != 0 && drop_direct(fd, direct) != 0) {
			*done = got; /* short and off the grid: the rest would have to go through the cache */
			return -1;
		}
	}
	*done = got;
	return 0;
}

int ld_dio_reserve(ld_dio_buf *b, size_t bytes)
{
	if (bytes <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : ((size_t)1 << 20);
	while (cap < bytes)
		cap *= 2;
	void *p = aligned_alloc(LD_DIO_ALIGN, cap);
	if (!p)
		return -1;
	free(b->p);
	b->p = p;
	b->cap = cap;
	return 0;
}

void ld_dio_free(ld_dio_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->cap = 0;
}
