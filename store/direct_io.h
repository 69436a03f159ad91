/* direct_io.h — writing files past the page cache (O_DIRECT) where the file system allows it.
 *
 * The store writes two kinds of files it does not read back soon: journals (read only after a
 * crash) and sealed segments (the sealer holds their bytes; readers map them later, if ever).
 * Writing them through the page cache costs a copy into pages allocated for them, which shows
 * as a large share of the writer's CPU.  Direct writes go from the caller's buffer to the
 * device.  They need LD_DIO_ALIGN-aligned buffers, offsets and lengths; a file system that
 * refuses them (EINVAL at open or at the first write) gets ordinary writes instead. */
#ifndef LD_DIRECT_IO_H
#define LD_DIRECT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LD_DIO_ALIGN 4096u

/* Process-wide switch (tests turn it off to cover the page-cache path). */
extern bool ld_direct_io;

/* open(path, flags | O_WRONLY | O_CLOEXEC, mode), with O_DIRECT when *direct asks for it,
 * ld_direct_io allows it and the file system takes it; *direct then says which it got.  -1 with
 * errno set on failure. */
int ld_dio_open(const char *path, int flags, mode_t mode, bool *direct);

/* Writes all len bytes of buf at off.  With *direct, buf, len and off must be aligned; if the
 * file system then refuses (EINVAL), the descriptor drops O_DIRECT, *direct turns false, and the
 * write is made through the page cache.  0, or -1 with errno set and the written length in
 * *done (a partial write the caller may cut off). */
int ld_dio_pwrite(int fd, bool *direct, const void *buf, size_t len, off_t off, size_t *done);

/* An LD_DIO_ALIGN-aligned buffer that only grows; its contents do not survive growing. */
typedef struct ld_dio_buf {
	unsigned char *p;
	size_t cap;
} ld_dio_buf;
int ld_dio_reserve(ld_dio_buf *b, size_t bytes);
void ld_dio_free(ld_dio_buf *b);

static inline size_t ld_dio_round_up(size_t n)
{
	return (n + LD_DIO_ALIGN - 1) / LD_DIO_ALIGN * LD_DIO_ALIGN;
}

#endif
