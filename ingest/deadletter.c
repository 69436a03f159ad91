/* deadletter.c — rejected lines kept aside, verbatim, in bounded rotated files. */
#include "deadletter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define DL_MAX_LINE 4096 /* head kept of a line longer than this */

struct ld_deadletter {
	pthread_mutex_t mu;
	char dir[PATH_MAX];
	char path[PATH_MAX + 32];
	char error[PATH_MAX + 128];
	int fd;
	uint64_t size, max_bytes, entries;
	unsigned keep, seq;
	bool failed;
};

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] == '/' || tmp[i] == 0) {
			char c = tmp[i];
			tmp[i] = 0;
			if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
				return -1;
			tmp[i] = c;
		}
	}
	return 0;
}

/* Highest n of an existing rejects-<n>.log (0 if none). */
static unsigned newest_seq(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	unsigned best = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned n;
		char tail[8];
		if (sscanf(e->d_name, "rejects-%u.%7s", &n, tail) == 2 && strcmp(tail, "log") == 0 &&
		    n > best)
			best = n;
	}
	closedir(d);
	return best;
}

ld_deadletter *ld_deadletter_new(const char *dir, uint64_t max_bytes, unsigned keep)
{
	ld_deadletter *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	pthread_mutex_init(&d->mu, NULL);
	snprintf(d->dir, sizeof d->dir, "%s", dir);
	d->fd = -1;
	d->max_bytes = max_bytes ? max_bytes : (uint64_t)64 << 20;
	d->keep = keep ? keep : 8;
	return d;
}

static void fail(ld_deadletter *d, const char *what)
{
	if (!d->failed)
		snprintf(d->error, sizeof d->error, "dead-letter %s %s: %s", what,
			 d->path[0] ? d->path : d->dir, strerror(errno));
	d->failed = true;
}

static int open_seq(ld_deadletter *d, unsigned seq)
{
	snprintf(d->path, sizeof d->path, "%s/rejects-%u.log", d->dir, seq);
	d->fd = open(d->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (d->fd < 0) {
		fail(d, "open");
		return -1;
	}
	struct stat st;
	d->size = fstat(d->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	d->seq = seq;
	/* keep only the newest `keep` files */
	for (unsigned old = seq > d->keep ? seq - d->keep : 0; old > 0; old--) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof p, "%s/rejects-%u.log", d->dir, old);
		if (unlink(p) != 0 && errno == ENOENT && old + d->keep + 64 < seq)
			break; /* older ones were removed by earlier rotations */
	}
	return 0;
}

void ld_deadletter_write(ld_deadletter *d, const char *reason, const char *source, uint64_t offset,
			 const char *line, size_t len, size_t full_len)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	if (d->failed)
		goto out;
	if (d->fd < 0) {
		if (mkdir_p(d->dir) != 0) {
			fail(d, "mkdir");
			goto out;
		}
		unsigned seq = newest_seq(d->dir);
		if (open_seq(d, seq ? seq : 1) != 0)
			goto out;
		if (d->size >= d->max_bytes && open_seq(d, d->seq + 1) != 0)
			goto out;
	}
	char head[PATH_MAX + 96];
	int hn = snprintf(head, sizeof head, "%s\t%s\t%llu\t", reason, source,
			  (unsigned long long)offset);
	if (hn < 0 || (size_t)hn >= sizeof head)
		hn = (int)strlen(head);
	size_t keep = len > DL_MAX_LINE ? DL_MAX_LINE : len;
	char tail[64];
	int tn = 0;
	if (full_len > keep)
		tn = snprintf(tail, sizeof tail, "[...+%llu bytes]",
			      (unsigned long long)(full_len - keep));
	struct iovec iov[4] = {{head, (size_t)hn}, {(void *)line, keep}, {tail, (size_t)tn},
			       {(void *)"\n", 1}};
	uint64_t need = (uint64_t)hn + keep + (uint64_t)tn + 1;
	if (d->size > 0 && d->size + need > d->max_bytes) {
		close(d->fd);
		d->fd = -1;
		if (open_seq(d, d->seq + 1) != 0)
			goto out;
	}
	ssize_t w = writev(d->fd, iov, 4);
	if (w < 0 || (uint64_t)w != need) {
		fail(d, "write");
		goto out;
	}
	d->size += need;
	d->entries++;
out:
	pthread_mutex_unlock(&d->mu);
}

const char *ld_deadletter_path(const ld_deadletter *d)
{
	return d && d->entries ? d->path : "";
}

const char *ld_deadletter_error(const ld_deadletter *d)
{
	return d && d->failed ? d->error : NULL;
}

uint64_t ld_deadletter_entries(const ld_deadletter *d)
{
	return d ? d->entries : 0;
}

void ld_deadletter_free(ld_deadletter *d)
{
	if (!d)
		return;
	if (d->fd >= 0)
		close(d->fd);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
