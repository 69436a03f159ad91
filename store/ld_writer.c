/* ld_writer.c — the write side: journal every accepted record, fsync on an interval, seal the
 * journaled rows into day-partitioned segments and record them in the MANIFEST chain.
 *
 * Exactly-once recovery rests on one rule: a journal is sealed exactly when a committed MANIFEST
 * transaction names it.  Sealing writes the segments first, then the transaction (adds + commit
 * in one write, fdatasync), then deletes the journal.  A crash before the commit leaves segment
 * files nobody committed (deleted on the next open) and a journal that is sealed again; a crash
 * after it leaves a journal the MANIFEST already covers (deleted, not replayed).
 *
 * Seals triggered by size or age run on a sealer thread: the writer makes the journal durable,
 * hands the full row set and that journal over, and goes on in a fresh journal with the spare
 * row set.  The rule above is untouched: the sealed journal is dropped only after its commit;
 * recovery seals the older journals first (names grow with time).  An explicit seal, sync-less
 * close and recovery wait for the sealer and seal in the caller's thread. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "direct_io.h"
#include "ld_time.h"
#include "ld_writer.h"
#include "store_internal.h"

#define FRAME_RAW_BYTES (1u << 20) /* cut a frame early when raw lines pile up */
_Static_assert(LD_JNL_ALIGN % LD_DIO_ALIGN == 0, "journal units must suit direct I/O");

struct ld_writer {
	char *dir;
	ld_store_opts o;
	int lock_fd, mf_fd, jfd;
	char jname[40];
	ld_manifest m;
	ld_rowset rows;
	ld_buf frame;    /* a frame's payload before compression */
	ld_dio_buf wbuf; /* what one journal write sends: frame header, payload, padding */
	bool jdirect;    /* the open journal bypasses the page cache */
	ZSTD_CCtx *zctx;
	ld_jnl_mark jm;      /* what of rows the journal holds already */
	size_t jm_raw;       /* rows.raw_bytes.len at jm */
	uint64_t jsize;      /* bytes of the open journal: a failed write is cut back to it */
	uint64_t appended, recovered, unsynced;
	_Atomic uint64_t durable;
	/* interval fsyncs run on a helper thread so appends never wait for the disk */
	pthread_t sync_thread;
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	bool sync_started, sync_busy, sync_stop;
	int sync_fd, sync_errno;
	uint64_t sync_target;
	int64_t last_sync_ms, first_row_ms;
	uint32_t since_clock;
	bool opened;
	ld_seg_encoder enc;
	uint32_t *idx, *idx_tmp;
	size_t idx_cap;
	uint64_t last_jnum; /* journal names only grow, even when the clock steps back */
	/* background sealing; seal_mu also guards w->m against journal_create's look-up */
	pthread_t seal_thread;
	pthread_mutex_t seal_mu;
	pthread_cond_t seal_cv;
	bool seal_started, seal_busy, seal_stop, seal_failed;
	ld_rowset job;      /* rows being sealed (or kept after a failed seal); else the spare */
	char job_jname[40]; /* their journal */
	int job_jfd;
	ld_err seal_err;
};

void ld_store_opts_default(ld_store_opts *o)
{
	o->fsync_interval_ms = 1000;
	o->segment_rows = 4u << 20;
	o->seal_interval_s = 300;
	o->keep_raw = false;
	o->zstd_level = 3;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void path_of(const ld_writer *w, char *out, size_t cap, const char *rel)
{
	snprintf(out, cap, "%s/%s", w->dir, rel);
}

/* --- journal ------------------------------------------------------------------------------ */

/* Opens a journal for writing at jsize, bypassing the page cache when the file system allows
 * it and the journal's end is aligned (a recovered journal of an earlier version may not be). */
static int journal_open_fd(ld_writer *w, const char *path, int flags)
{
	w->jdirect = w->jsize % LD_JNL_ALIGN == 0;
	return ld_dio_open(path, flags, 0644, &w->jdirect);
}

/* One write of len bytes of wbuf at the journal's end. */
static int journal_write(ld_writer *w, size_t len, ld_err *err)
{
	size_t done;
	if (ld_dio_pwrite(w->jfd, &w->jdirect, w->wbuf.p, len, (off_t)w->jsize, &done) == 0) {
		w->jsize += len;
		return 0;
	}
	/* cut a partial write off again, so the rows (kept) go into the next one */
	ld_err_errno(err, "write %s/journal/%s", w->dir, w->jname);
	if (done > 0 && ftruncate(w->jfd, (off_t)w->jsize) != 0)
		ld_err_errno(err, "write %s/journal/%s, then cutting it back", w->dir, w->jname);
	return -1;
}

static int journal_create(ld_writer *w, ld_err *err)
{
	char path[4096];
	w->jsize = 0;
	for (int attempt = 0; attempt < 1000; attempt++) {
		uint64_t num = (uint64_t)ld_now_ns() + (uint64_t)attempt;
		if (num <= w->last_jnum)
			num = w->last_jnum + 1;
		w->last_jnum = num;
		snprintf(w->jname, sizeof(w->jname), "%016llx.jnl", (unsigned long long)num);
		pthread_mutex_lock(&w->seal_mu);
		bool sealed = ld_manifest_journal_sealed(&w->m, w->jname);
		pthread_mutex_unlock(&w->seal_mu);
		if (sealed)
			continue;
		snprintf(path, sizeof(path), "%s/journal/%s", w->dir, w->jname);
		w->jfd = journal_open_fd(w, path, O_CREAT | O_EXCL);
		if (w->jfd >= 0)
			break;
		if (errno != EEXIST) {
			ld_err_errno(err, "%s", path);
			return -1;
		}
	}
	if (w->jfd < 0) {
		ld_err_set(err, "%s/journal: cannot pick a new journal name", w->dir);
		return -1;
	}
	char jdir[4096];
	snprintf(jdir, sizeof(jdir), "%s/journal", w->dir);
	if (ld_dio_reserve(&w->wbuf, 2 * LD_JNL_ALIGN) != 0) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	memcpy(w->wbuf.p, LD_JNL_MAGIC, 8);
	size_t len = w->jdirect ? ld_jnl_pad(w->wbuf.p, 8) : 8;
	int rc = journal_write(w, len, err);
	if (rc == 0 && fdatasync(w->jfd) != 0) {
		ld_err_errno(err, "fdatasync %s", path);
		rc = -1;
	}
	if (rc != 0) { /* no journal without its magic: the next frame starts a new one */
		close(w->jfd);
		w->jfd = -1;
		unlink(path);
		return -1;
	}
	return ld_fsync_dir(jdir, err);
}

/* The journal holds every row and dictionary entry of rows as of now. */
static void mark_journaled(ld_writer *w)
{
	w->jm = (ld_jnl_mark){w->rows.n, w->rows.n_addrs, w->rows.n_strs};
	w->jm_raw = w->rows.raw_bytes.len;
}

/* Writes the rows appended since the last frame as one column frame (no fsync).  With raw
 * lines the frame is zstd-compressed first: raw text is most of the bytes and compresses
 * several-fold, which matters more than the CPU it costs when every second's worth is fsynced. */
static int flush_frame(ld_writer *w, ld_err *err)
{
	size_t count = w->rows.n - w->jm.rows;
	if (count == 0)
		return 0;
	if (w->jfd < 0 && journal_create(w, err) != 0)
		return -1;
	ld_jnl_plan plan;
	ld_jnl_frame_plan(&plan, &w->rows, &w->jm);
	size_t bound = plan.has_raw ? ZSTD_compressBound(plan.bytes) : plan.bytes;
	if (ld_dio_reserve(&w->wbuf, 16 + bound + LD_JNL_ALIGN + 16) != 0) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	uint8_t *payload = w->wbuf.p + 16;
	size_t len = plan.bytes;
	uint32_t magic = LD_JNL_FRAME_COLS;
	if (plan.has_raw) {
		w->frame.len = 0;
		if (!w->zctx)
			w->zctx = ZSTD_createCCtx();
		if (!w->zctx || ld_buf_reserve(&w->frame, plan.bytes) != 0) {
			ld_err_set(err, "out of memory");
			return -1;
		}
		ld_jnl_frame_put(w->frame.p, &plan, &w->rows, &w->jm);
		len = ZSTD_compressCCtx(w->zctx, payload, bound, w->frame.p, plan.bytes, 1);
		if (ZSTD_isError(len)) {
			ld_err_set(err, "zstd: %s", ZSTD_getErrorName(len));
			return -1;
		}
		magic = LD_JNL_FRAME_COLS_Z;
	} else {
		ld_jnl_frame_put(payload, &plan, &w->rows, &w->jm);
	}
	uint32_t hdr[4] = {magic, (uint32_t)len, (uint32_t)count, 0};
	hdr[3] = ld_crc32c(ld_crc32c(0, &hdr[2], 4), payload, len);
	memcpy(w->wbuf.p, hdr, 16);
	size_t total = w->jdirect ? ld_jnl_pad(w->wbuf.p, 16 + len) : 16 + len;
	if (journal_write(w, total, err) != 0)
		return -1;
	w->unsynced += count;
	mark_journaled(w);
	return 0;
}

static int journal_sync(ld_writer *w, ld_err *err);

static void *sync_main(void *arg)
{
	ld_writer *w = arg;
	pthread_mutex_lock(&w->sync_mu);
	for (;;) {
		while (!w->sync_busy && !w->sync_stop)
			pthread_cond_wait(&w->sync_cv, &w->sync_mu);
		if (!w->sync_busy)
			break; /* stop requested with nothing pending */
		int fd = w->sync_fd;
		uint64_t target = w->sync_target;
		pthread_mutex_unlock(&w->sync_mu);
		int rc = fdatasync(fd);
		int e = errno;
		pthread_mutex_lock(&w->sync_mu);
		if (rc != 0)
			w->sync_errno = e;
		else if (target > atomic_load(&w->durable))
			atomic_store(&w->durable, target);
		w->sync_busy = false;
		pthread_cond_broadcast(&w->sync_cv);
	}
	pthread_mutex_unlock(&w->sync_mu);
	return NULL;
}

/* Waits until no background fsync is running; -1 (err set) if the last one failed. */
static int sync_quiesce(ld_writer *w, ld_err *err)
{
	if (!w->sync_started)
		return 0;
	pthread_mutex_lock(&w->sync_mu);
	while (w->sync_busy)
		pthread_cond_wait(&w->sync_cv, &w->sync_mu);
	int e = w->sync_errno;
	w->sync_errno = 0;
	pthread_mutex_unlock(&w->sync_mu);
	if (e) {
		errno = e;
		ld_err_errno(err, "fdatasync %s/journal/%s", w->dir, w->jname);
		return -1;
	}
	return 0;
}

/* Interval fsync: write the frame now, leave the fdatasync to the helper thread (or do it here
 * when the thread could not be started). */
static int sync_in_background(ld_writer *w, ld_err *err)
{
	if (flush_frame(w, err) != 0)
		return -1;
	w->last_sync_ms = mono_ms();
	if (!w->sync_started || w->jfd < 0)
		return journal_sync(w, err);
	pthread_mutex_lock(&w->sync_mu);
	int e = w->sync_errno;
	w->sync_errno = 0;
	if (!e && !w->sync_busy) {
		w->sync_fd = w->jfd;
		w->sync_target = w->appended;
		w->sync_busy = true;
		w->unsynced = 0;
		pthread_cond_signal(&w->sync_cv);
	}
	pthread_mutex_unlock(&w->sync_mu);
	if (e) {
		errno = e;
		ld_err_errno(err, "fdatasync %s/journal/%s", w->dir, w->jname);
		return -1;
	}
	return 0;
}

/* write + fdatasync the open journal */
static int journal_sync(ld_writer *w, ld_err *err)
{
	if (flush_frame(w, err) != 0 || sync_quiesce(w, err) != 0)
		return -1;
	if (w->jfd >= 0 && fdatasync(w->jfd) != 0) {
		ld_err_errno(err, "fdatasync %s/journal/%s", w->dir, w->jname);
		return -1;
	}
	w->unsynced = 0;
	atomic_store(&w->durable, w->appended);
	w->last_sync_ms = mono_ms();
	return 0;
}

/* --- sealing ------------------------------------------------------------------------------ */

static void merge_sort(uint32_t *a, uint32_t *tmp, size_t n, const int64_t *ts)
{
	if (n < 32) {
		for (size_t i = 1; i < n; i++) {
			uint32_t v = a[i];
			size_t j = i;
			while (j > 0 && ts[a[j - 1]] > ts[v]) {
				a[j] = a[j - 1];
				j--;
			}
			a[j] = v;
		}
		return;
	}
	size_t h = n / 2;
	merge_sort(a, tmp, h, ts);
	merge_sort(a + h, tmp, n - h, ts);
	if (ts[a[h - 1]] <= ts[a[h]])
		return;
	memcpy(tmp, a, h * sizeof(uint32_t));
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		a[k++] = ts[a[j]] < ts[tmp[i]] ? a[j++] : tmp[i++];
	while (i < h)
		a[k++] = tmp[i++];
}

static int64_t day_of(int64_t ns)
{
	const int64_t day = 86400 * LD_NS_PER_SEC;
	int64_t d = ns / day;
	if (ns < 0 && ns % day)
		d--;
	return d;
}

/* Writes rows (time-ordered idx) of rs as one segment per UTC day and fills MANIFEST entries. */
int ld_store_write_segments(const char *dir, ld_seg_encoder *enc, ld_manifest *m,
			    const ld_rowset *rs, const uint32_t *idx, size_t n, uint32_t max_rows,
			    uint64_t tx, const char *source, ld_mf_entry *out, size_t *n_out,
			    size_t cap_out, ld_err *err)
{
	size_t start = 0;
	*n_out = 0;
	while (start < n) {
		int64_t day = day_of(rs->ts[idx[start]]);
		size_t end = start + 1;
		while (end < n && end - start < max_rows && day_of(rs->ts[idx[end]]) == day)
			end++;
		if (*n_out == cap_out) {
			ld_err_set(err, "too many segments in one transaction");
			return -1;
		}
		ld_mf_entry *e = &out[(*n_out)++];
		memset(e, 0, sizeof(*e));
		uint64_t seq = ++m->max_seg_seq;
		ld_seg_rel_path(e->path, sizeof(e->path), day * 86400 * LD_NS_PER_SEC, seq);
		ld_seg_result res;
		if (ld_seg_write(enc, rs, idx + start, end - start, dir, e->path, &res, err) != 0)
			return -1;
		e->op = LD_MF_ADD;
		e->tx = tx;
		e->size = res.size;
		e->rows = res.rows;
		e->min_ns = res.min_ns;
		e->max_ns = res.max_ns;
		memcpy(e->digest, res.digest, 32);
		snprintf(e->source, sizeof(e->source), "%s", source);
		start = end;
	}
	return 0;
}

static int count_days(const ld_rowset *rs, const uint32_t *idx, size_t n, uint32_t max_rows)
{
	size_t segs = 0, run = 0;
	for (size_t k = 0; k < n; k++) {
		if (k == 0 || day_of(rs->ts[idx[k]]) != day_of(rs->ts[idx[k - 1]]) || run == max_rows) {
			segs++;
			run = 0;
		}
		run++;
	}
	return (int)segs;
}

/* Time-ordered permutation of the pending rows. */
static int order_rows(ld_writer *w, const ld_rowset *rs, ld_err *err)
{
	size_t n = rs->n;
	if (n > w->idx_cap) {
		free(w->idx);
		free(w->idx_tmp);
		w->idx = malloc(n * sizeof(uint32_t));
		w->idx_tmp = malloc(n * sizeof(uint32_t));
		if (!w->idx || !w->idx_tmp) {
			w->idx_cap = 0;
			ld_err_set(err, "out of memory");
			return -1;
		}
		w->idx_cap = n;
	}
	bool sorted = true;
	for (size_t i = 0; i < n; i++) {
		w->idx[i] = (uint32_t)i;
		if (i && rs->ts[i] < rs->ts[i - 1])
			sorted = false;
	}
	if (!sorted)
		merge_sort(w->idx, w->idx_tmp, n, rs->ts);
	return 0;
}

static int drop_journal(ld_writer *w, char *jname, int *jfd, ld_err *err)
{
	char path[4096], jdir[4096];
	snprintf(path, sizeof(path), "%s/journal/%s", w->dir, jname);
	snprintf(jdir, sizeof(jdir), "%s/journal", w->dir);
	if (*jfd >= 0)
		close(*jfd);
	*jfd = -1;
	if (unlink(path) != 0 && errno != ENOENT) {
		ld_err_errno(err, "unlink %s", path);
		return -1;
	}
	jname[0] = '\0';
	return ld_fsync_dir(jdir, err);
}

/* Seals the rows of rs, journaled (durably) in jname: segments, MANIFEST transaction, then the
 * journal goes and rs is cleared.  Runs on the sealer thread or, with it idle, the writer's. */
static int seal_rows(ld_writer *w, ld_rowset *rs, char *jname, int *jfd, ld_err *err)
{
	if (order_rows(w, rs, err) != 0)
		return -1;
	size_t n = rs->n;
	uint32_t max_rows = w->o.segment_rows ? w->o.segment_rows : 4u << 20;
	int segs = count_days(rs, w->idx, n, max_rows);
	ld_mf_entry *ents = calloc((size_t)segs + 1, sizeof(ld_mf_entry));
	if (!ents) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	uint64_t tx = ld_manifest_next_tx(&w->m);
	size_t ne = 0;
	if (ld_store_write_segments(w->dir, &w->enc, &w->m, rs, w->idx, n, max_rows, tx, jname,
				    ents, &ne, (size_t)segs, err) != 0) {
		free(ents);
		return -1;
	}
	ld_mf_entry *c = &ents[ne++];
	memset(c, 0, sizeof(*c));
	c->op = LD_MF_COMMIT;
	c->tx = tx;
	snprintf(c->path, sizeof(c->path), "-");
	snprintf(c->source, sizeof(c->source), "%s", jname);
	pthread_mutex_lock(&w->seal_mu);
	int rc = ld_manifest_append(w->mf_fd, &w->m, ents, ne, err);
	pthread_mutex_unlock(&w->seal_mu);
	free(ents);
	if (rc != 0)
		return -1;
	if (drop_journal(w, jname, jfd, err) != 0)
		return -1;
	ld_rowset_clear(rs);
	return 0;
}

static void *seal_main(void *arg)
{
	ld_writer *w = arg;
	pthread_mutex_lock(&w->seal_mu);
	for (;;) {
		while (!w->seal_busy && !w->seal_stop)
			pthread_cond_wait(&w->seal_cv, &w->seal_mu);
		if (!w->seal_busy)
			break;
		pthread_mutex_unlock(&w->seal_mu);
		ld_err e = {{0}};
		int rc = seal_rows(w, &w->job, w->job_jname, &w->job_jfd, &e);
		pthread_mutex_lock(&w->seal_mu);
		if (rc != 0) { /* the rows and their journal stay: retried by the next seal */
			w->seal_failed = true;
			w->seal_err = e;
		}
		w->seal_busy = false;
		pthread_cond_broadcast(&w->seal_cv);
	}
	pthread_mutex_unlock(&w->seal_mu);
	return NULL;
}

/* Waits for the sealer; reports its failure once, else retries rows a failed seal left. */
static int seal_wait(ld_writer *w, ld_err *err)
{
	if (w->seal_started) {
		pthread_mutex_lock(&w->seal_mu);
		while (w->seal_busy)
			pthread_cond_wait(&w->seal_cv, &w->seal_mu);
		bool failed = w->seal_failed;
		w->seal_failed = false;
		if (failed && err)
			*err = w->seal_err;
		pthread_mutex_unlock(&w->seal_mu);
		if (failed)
			return -1;
	}
	if (w->job.n && seal_rows(w, &w->job, w->job_jname, &w->job_jfd, err) != 0)
		return -1;
	return 0;
}

int ld_writer_seal(ld_writer *w, ld_err *err)
{
	if (journal_sync(w, err) != 0 || seal_wait(w, err) != 0)
		return -1;
	if (w->rows.n == 0)
		return 0;
	if (seal_rows(w, &w->rows, w->jname, &w->jfd, err) != 0)
		return -1;
	mark_journaled(w);
	w->first_row_ms = 0;
	return 0;
}

/* Also waits for a background seal, so that after it the store holds still for readers (the
 * segments of every earlier size or age seal are committed). */
int ld_writer_sync(ld_writer *w, ld_err *err)
{
	if (journal_sync(w, err) != 0)
		return -1;
	return seal_wait(w, err);
}

/* Size or age trigger: journal durable, then rows and journal go to the sealer. */
static int seal_async(ld_writer *w, ld_err *err)
{
	if (!w->seal_started || ld_rowset_reserve(&w->job, w->rows.cap) != 0)
		return ld_writer_seal(w, err);
	if (journal_sync(w, err) != 0 || seal_wait(w, err) != 0)
		return -1;
	if (w->rows.n == 0)
		return 0;
	ld_rowset t = w->job; /* cleared by its last seal */
	w->job = w->rows;
	w->rows = t;
	memcpy(w->job_jname, w->jname, sizeof(w->jname));
	w->job_jfd = w->jfd;
	w->jfd = -1;
	w->jname[0] = '\0';
	mark_journaled(w);
	w->first_row_ms = 0;
	pthread_mutex_lock(&w->seal_mu);
	w->seal_busy = true;
	pthread_cond_signal(&w->seal_cv);
	pthread_mutex_unlock(&w->seal_mu);
	return 0;
}

/* --- append ------------------------------------------------------------------------------- */

static int duties(ld_writer *w, ld_err *err)
{
	int64_t now = mono_ms();
	if (w->appended != atomic_load(&w->durable) &&
	    now - w->last_sync_ms >= (int64_t)w->o.fsync_interval_ms && sync_in_background(w, err) != 0)
		return -1;
	if (w->rows.n && w->o.seal_interval_s &&
	    now - w->first_row_ms >= (int64_t)w->o.seal_interval_s * 1000)
		return seal_async(w, err);
	return 0;
}

/* Appending is adding the row to the in-memory row set (interning its addresses and strings);
 * the journal frame is cut from the row set's columns every LD_JNL_FRAME_ROWS rows. */
static inline __attribute__((always_inline)) int append_one(ld_writer *w, const ld_record *rec,
								    ld_err *err)
{
	if (ld_unlikely(ld_rowset_add_raw(&w->rows, rec, w->o.keep_raw) != 0)) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	w->appended++;
	if (ld_unlikely(w->rows.n == 1))
		w->first_row_ms = mono_ms();
	if (w->o.fsync_interval_ms == 0)
		return journal_sync(w, err) != 0 ? -1
		       : w->rows.n >= w->o.segment_rows ? seal_async(w, err)
							  : 0;
	if (ld_unlikely(w->rows.n - w->jm.rows >= LD_JNL_FRAME_ROWS ||
			w->rows.raw_bytes.len - w->jm_raw >= FRAME_RAW_BYTES) &&
	    flush_frame(w, err) != 0)
		return -1;
	if (ld_unlikely(w->rows.n >= w->o.segment_rows))
		return seal_async(w, err);
	if (ld_unlikely(++w->since_clock >= 64)) {
		w->since_clock = 0;
		return duties(w, err);
	}
	return 0;
}

int ld_writer_append(ld_writer *w, const ld_record *rec, ld_err *err)
{
	return append_one(w, rec, err);
}

int ld_writer_append_batch(ld_writer *w, const ld_record *recs, size_t n, ld_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n) /* the next record's strings: parsers leave them spread over a block */
			__builtin_prefetch(recs[i + 1].vif.ptr);
		if (append_one(w, &recs[i], err) != 0)
			return -1;
	}
	return 0;
}

int ld_writer_tick(ld_writer *w, ld_err *err)
{
	return duties(w, err);
}

uint64_t ld_writer_appended(const ld_writer *w)
{
	return w->appended;
}

uint64_t ld_writer_durable(const ld_writer *w)
{
	return atomic_load(&((ld_writer *)w)->durable);
}

uint64_t ld_writer_recovered(const ld_writer *w)
{
	return w->recovered;
}

/* --- open / close ------------------------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Journals in name (= creation) order; sealed ones are deleted, the others recovered: all but
 * the newest are sealed right away, the newest stays the open journal. */
static int recover_journals(ld_writer *w, ld_err *err)
{
	char jdir[4096];
	path_of(w, jdir, sizeof(jdir), "journal");
	DIR *d = opendir(jdir);
	if (!d) {
		ld_err_errno(err, "%s", jdir);
		return -1;
	}
	char *names[4096];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 4096) {
		size_t l = strlen(de->d_name);
		if (l > 4 && l < sizeof(w->jname) && strcmp(de->d_name + l - 4, ".jnl") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_name);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[4096];
		if (snprintf(path, sizeof(path), "%s/%s", jdir, names[i]) >= (int)sizeof(path))
			continue;
		snprintf(w->jname, sizeof(w->jname), "%s", names[i]);
		uint64_t num = strtoull(names[i], NULL, 16);
		if (num > w->last_jnum)
			w->last_jnum = num;
		if (ld_manifest_journal_sealed(&w->m, names[i])) {
			rc = drop_journal(w, w->jname, &w->jfd, err);
			continue;
		}
		uint64_t valid = 0;
		size_t before = w->rows.n;
		if (ld_jnl_load(path, &w->rows, &valid, err) != 0) {
			rc = -1;
			break;
		}
		w->recovered += w->rows.n - before;
		if (w->rows.n == before) {
			rc = drop_journal(w, w->jname, &w->jfd, err);
			continue;
		}
		if (truncate(path, (off_t)valid) != 0) {
			ld_err_errno(err, "truncate %s", path);
			rc = -1;
			break;
		}
		w->jsize = valid;
		w->jfd = journal_open_fd(w, path, 0);
		mark_journaled(w);
		if (w->jfd < 0 || fdatasync(w->jfd) != 0) {
			ld_err_errno(err, "%s", path);
			rc = -1;
			break;
		}
		w->first_row_ms = mono_ms();
		if (i + 1 < n)
			rc = ld_writer_seal(w, err);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return rc;
}

ld_writer *ld_writer_open(const char *dir, const ld_store_opts *opts, ld_err *err)
{
	ld_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		ld_err_set(err, "out of memory");
		return NULL;
	}
	w->lock_fd = w->mf_fd = w->jfd = w->job_jfd = -1;
	pthread_mutex_init(&w->seal_mu, NULL);
	pthread_cond_init(&w->seal_cv, NULL);
	if (opts)
		w->o = *opts;
	else
		ld_store_opts_default(&w->o);
	ld_rowset_init(&w->job, w->o.keep_raw);
	if (w->o.segment_rows == 0 || w->o.segment_rows > LD_SEG_MAX_ROWS)
		w->o.segment_rows = 4u << 20;
	w->dir = strdup(dir);
	/* the row set can always hold raw: rows recovered from a journal keep the raw lines they
	 * were journaled with, whatever this writer's keep_raw says */
	ld_rowset_init(&w->rows, true);
	/* room for a whole segment up front: no copying reallocs on the append path */
	size_t reserve = w->o.segment_rows < (4u << 20) ? w->o.segment_rows : (4u << 20);
	if (!w->dir || ld_rowset_reserve(&w->rows, reserve) != 0 || ld_seg_encoder_init(&w->enc, w->o.zstd_level ? w->o.zstd_level : 3) != 0) {
		ld_err_set(err, "out of memory");
		goto fail;
	}
	char p[4096];
	if (ld_mkdir_p(dir, err) != 0)
		goto fail;
	path_of(w, p, sizeof(p), "journal");
	if (ld_mkdir_p(p, err) != 0)
		goto fail;
	path_of(w, p, sizeof(p), "segments");
	if (ld_mkdir_p(p, err) != 0)
		goto fail;
	w->lock_fd = ld_store_lock(dir, err);
	if (w->lock_fd < 0)
		goto fail;
	if (ld_manifest_load(dir, &w->m, err) != 0)
		goto fail;
	path_of(w, p, sizeof(p), "MANIFEST");
	w->mf_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (w->mf_fd < 0) {
		ld_err_errno(err, "%s", p);
		goto fail;
	}
	if (w->m.file_len > w->m.valid_len &&
	    (ftruncate(w->mf_fd, (off_t)w->m.valid_len) != 0 || fdatasync(w->mf_fd) != 0)) {
		ld_err_errno(err, "%s: cutting a torn tail", p);
		goto fail;
	}
	if (ld_fsync_dir(dir, err) != 0 || ld_store_cleanup(dir, &w->m, err) != 0)
		goto fail;
	if (recover_journals(w, err) != 0)
		goto fail;
	if (!w->o.keep_raw) /* 12 bytes a row less to fill, unless recovered rows carry raw */
		ld_rowset_drop_raw(&w->rows);
	w->last_sync_ms = mono_ms();
	pthread_mutex_init(&w->sync_mu, NULL);
	pthread_cond_init(&w->sync_cv, NULL);
	w->sync_started = pthread_create(&w->sync_thread, NULL, sync_main, w) == 0;
	w->seal_started = pthread_create(&w->seal_thread, NULL, seal_main, w) == 0;
	w->opened = true;
	return w;
fail:
	ld_writer_close(w, NULL);
	return NULL;
}

int ld_writer_close(ld_writer *w, ld_err *err)
{
	if (!w)
		return 0;
	int rc = 0;
	ld_err scratch;
	if (!err)
		err = &scratch;
	if (w->opened && ld_writer_seal(w, err) != 0)
		rc = -1;
	if (w->seal_started) { /* idle after the seal above (or its failure) */
		pthread_mutex_lock(&w->seal_mu);
		while (w->seal_busy)
			pthread_cond_wait(&w->seal_cv, &w->seal_mu);
		w->seal_stop = true;
		pthread_cond_broadcast(&w->seal_cv);
		pthread_mutex_unlock(&w->seal_mu);
		pthread_join(w->seal_thread, NULL);
	}
	pthread_mutex_destroy(&w->seal_mu);
	pthread_cond_destroy(&w->seal_cv);
	if (w->job_jfd >= 0)
		close(w->job_jfd);
	ld_rowset_free(&w->job);
	if (w->sync_started) {
		pthread_mutex_lock(&w->sync_mu);
		w->sync_stop = true;
		pthread_cond_broadcast(&w->sync_cv);
		pthread_mutex_unlock(&w->sync_mu);
		pthread_join(w->sync_thread, NULL);
	}
	if (w->opened) {
		pthread_mutex_destroy(&w->sync_mu);
		pthread_cond_destroy(&w->sync_cv);
	}
	if (w->jfd >= 0)
		close(w->jfd);
	if (w->mf_fd >= 0)
		close(w->mf_fd);
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	ld_manifest_free(&w->m);
	ld_rowset_free(&w->rows);
	ld_buf_free(&w->frame);
	ld_dio_free(&w->wbuf);
	ZSTD_freeCCtx(w->zctx);
	ld_seg_encoder_free(&w->enc);
	free(w->idx);
	free(w->idx_tmp);
	free(w->dir);
	free(w);
	return rc;
}
