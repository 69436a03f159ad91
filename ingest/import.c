/* import.c — read → parse → store pipeline for files and stdin.
 *
 * Threads: one reader (decompresses and cuts blocks at line boundaries), N parsers (one
 * ld_parse_state each, per file), and the caller as the single writer.  Blocks cycle through three
 * bounded queues: free → work → done → free, so at most `nblocks` blocks (and their record arrays)
 * exist whatever the input size.  Records borrow their strings from the block text and the parser
 * state, which both live until the writer has appended them.
 */
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "classify_hs.h"
#include "deadletter.h"
#include "ld_time.h"
#include "parse_registry.h"

#define DEFAULT_BLOCK (4u << 20)
#define SAMPLE_LINES 2000

/* --- input: plain, gzip (zlib, multi-member) or zstd, by magic bytes ----------------------- */

enum in_kind { IN_PLAIN, IN_GZIP, IN_ZSTD };

typedef struct input {
	int fd;
	bool own_fd;
	enum in_kind kind;
	uint8_t *buf; /* compressed input */
	size_t cap, pos, len;
	bool eof_raw;
	z_stream z;
	bool z_init;
	ZSTD_DCtx *zd;
	bool done;
	char err[256];
} input;

static int raw_fill(input *in)
{
	if (in->pos < in->len || in->eof_raw)
		return 0;
	for (;;) {
		ssize_t r = read(in->fd, in->buf, in->cap);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(in->err, sizeof in->err, "read: %s", strerror(errno));
			return -1;
		}
		in->pos = 0;
		in->len = (size_t)r;
		if (r == 0)
			in->eof_raw = true;
		return 0;
	}
}

static int input_open(input *in, const char *path)
{
	memset(in, 0, sizeof *in);
	if (strcmp(path, "-") == 0) {
		in->fd = STDIN_FILENO;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			snprintf(in->err, sizeof in->err, "%s", strerror(errno));
			return -1;
		}
		in->own_fd = true;
		struct stat st;
		if (fstat(in->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(in->err, sizeof in->err, "is a directory");
			close(in->fd);
			return -1;
		}
	}
	in->cap = 1u << 20;
	in->buf = malloc(in->cap);
	if (!in->buf) {
		snprintf(in->err, sizeof in->err, "out of memory");
		return -1;
	}
	/* fill until 4 bytes are there (or EOF) to read the magic */
	while (in->len < 4 && !in->eof_raw) {
		ssize_t r = read(in->fd, in->buf + in->len, in->cap - in->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(in->err, sizeof in->err, "read: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			in->eof_raw = true;
		in->len += (size_t)r;
	}
	const uint8_t *m = in->buf;
	if (in->len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
		in->kind = IN_GZIP;
		if (inflateInit2(&in->z, 15 + 32) != Z_OK) {
			snprintf(in->err, sizeof in->err, "zlib init failed");
			return -1;
		}
		in->z_init = true;
	} else if (in->len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
		in->kind = IN_ZSTD;
		in->zd = ZSTD_createDCtx();
		if (!in->zd) {
			snprintf(in->err, sizeof in->err, "zstd init failed");
			return -1;
		}
	}
	return 0;
}

static void input_close(input *in)
{
	if (in->z_init)
		inflateEnd(&in->z);
	ZSTD_freeDCtx(in->zd);
	free(in->buf);
	if (in->own_fd && in->fd >= 0)
		close(in->fd);
}

/* Up to n uncompressed bytes; 0 at the end, -1 on error (in->err). */
static ssize_t input_read(input *in, char *out, size_t n)
{
	if (in->done || n == 0)
		return 0;
	for (int guard = 0; guard < 1 << 20; guard++) {
		if (raw_fill(in) < 0)
			return -1;
		size_t avail = in->len - in->pos;
		if (in->kind == IN_PLAIN) {
			if (avail == 0) {
				in->done = true;
				return 0;
			}
			size_t k = avail < n ? avail : n;
			memcpy(out, in->buf + in->pos, k);
			in->pos += k;
			return (ssize_t)k;
		}
		if (avail == 0) {
			/* input exhausted: a clean end only between frames/members */
			in->done = true;
			if (in->kind == IN_GZIP && in->z.avail_in == 0 && in->z.total_out == 0 &&
			    in->z.total_in == 0)
				return 0;
			return 0;
		}
		if (in->kind == IN_GZIP) {
			in->z.next_in = in->buf + in->pos;
			in->z.avail_in = (uInt)avail;
			in->z.next_out = (Bytef *)out;
			in->z.avail_out = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
			int rc = inflate(&in->z, Z_NO_FLUSH);
			size_t used = avail - in->z.avail_in;
			size_t made = n - in->z.avail_out;
			in->pos += used;
			if (rc == Z_STREAM_END) {
				inflateReset(&in->z); /* next member, if any */
			} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
				snprintf(in->err, sizeof in->err, "gzip data error: %s",
					 in->z.msg ? in->z.msg : "corrupt");
				return -1;
			}
			if (made > 0)
				return (ssize_t)made;
		} else {
			ZSTD_inBuffer ib = {in->buf + in->pos, avail, 0};
			ZSTD_outBuffer ob = {out, n, 0};
			size_t rc = ZSTD_decompressStream(in->zd, &ob, &ib);
			in->pos += ib.pos;
			if (ZSTD_isError(rc)) {
				snprintf(in->err, sizeof in->err, "zstd data error: %s",
					 ZSTD_getErrorName(rc));
				return -1;
			}
			if (ob.pos > 0)
				return (ssize_t)ob.pos;
		}
	}
	snprintf(in->err, sizeof in->err, "decompressor made no progress");
	return -1;
}

/* --- blocks and queues --------------------------------------------------------------------- */

typedef struct block {
	struct block *next;
	char *data;
	size_t cap, len;
	uint64_t offset; /* stream offset of data[0] */
	ld_record *recs;
	size_t nrec, rec_cap;
	uint64_t lines, drops, not_drop, skipped, rej[LD_REJ_COUNT_], by_format[LD_FMT_COUNT_];
} block;

typedef struct queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	block *head, *tail;
	bool closed;
} queue;

static void q_init(queue *q)
{
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	q->head = q->tail = NULL;
	q->closed = false;
}

static void q_destroy(queue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

static void q_push(queue *q, block *b)
{
	pthread_mutex_lock(&q->mu);
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* NULL once the queue is closed and empty. */
static block *q_pop(queue *q)
{
	pthread_mutex_lock(&q->mu);
	while (!q->head && !q->closed)
		pthread_cond_wait(&q->cv, &q->mu);
	block *b = q->head;
	if (b) {
		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	return b;
}

static void q_close(queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

/* --- the importer -------------------------------------------------------------------------- */

struct ld_import {
	ld_writer *w;
	ld_import_opts opts;
	ld_import_stats stats;
	ld_deadletter *dl;
	ld_classifier *cls;
	ld_classify_scratch *cls_scratch;
	size_t block_size;
	unsigned nparsers;
	size_t nblocks;
	block *blocks;
};

/* Per-file run shared by the threads. */
typedef struct run {
	ld_import *im;
	const char *path;
	input in;
	queue free_q, work_q, done_q;
	pthread_mutex_t mu;
	unsigned parsers_left;
	bool abort;  /* writer failed: stop reading */
	bool read_failed;
	unsigned fmt; /* detected (or forced) format of the file */
	/* reader */
	char *carry;
	size_t carry_len;
	bool skipping; /* inside a line longer than a block */
	uint64_t pos;  /* uncompressed bytes read so far */
	uint64_t too_long_lines;
} run;

typedef struct parser_arg {
	run *r;
	ld_parse_state *st;
	pthread_t tid;
} parser_arg;

ld_import *ld_import_new(ld_writer *w, const ld_import_opts *opts, ld_err *err)
{
	ld_import *im = calloc(1, sizeof *im);
	if (!im) {
		ld_err_set(err, "out of memory");
		return NULL;
	}
	im->w = w;
	im->opts = *opts;
	im->block_size = opts->block_size ? opts->block_size : DEFAULT_BLOCK;
	if (im->block_size < 256)
		im->block_size = 256;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	im->nparsers = opts->threads ? opts->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
	if (im->nparsers > 64)
		im->nparsers = 64;
	im->nblocks = (size_t)im->nparsers * 2 + 2;
	im->blocks = calloc(im->nblocks, sizeof *im->blocks);
	if (!im->blocks) {
		ld_err_set(err, "out of memory");
		free(im);
		return NULL;
	}
	for (size_t i = 0; i < im->nblocks; i++) {
		block *b = &im->blocks[i];
		b->cap = im->block_size;
		b->data = malloc(b->cap);
		/* grown on demand (parse_block): typical lines are > 100 bytes */
		b->rec_cap = b->cap / 128 + 16;
		b->recs = malloc(b->rec_cap * sizeof *b->recs);
		if (!b->data || !b->recs) {
			ld_err_set(err, "out of memory for %zu import blocks", im->nblocks);
			ld_import_free(im);
			return NULL;
		}
	}
	if (opts->deadletter_dir) {
		im->dl = ld_deadletter_new(opts->deadletter_dir, opts->deadletter_max_bytes,
					   opts->deadletter_keep);
		if (!im->dl) {
			ld_err_set(err, "out of memory");
			ld_import_free(im);
			return NULL;
		}
	}
	if (opts->parse.forced_format <= 0) {
		im->cls = ld_classifier_new(err);
		if (!im->cls) {
			ld_import_free(im);
			return NULL;
		}
		im->cls_scratch = ld_classifier_scratch_new(im->cls, err);
		if (!im->cls_scratch) {
			ld_import_free(im);
			return NULL;
		}
	}
	return im;
}

void ld_import_free(ld_import *im)
{
	if (!im)
		return;
	for (size_t i = 0; im->blocks && i < im->nblocks; i++) {
		free(im->blocks[i].data);
		free(im->blocks[i].recs);
	}
	free(im->blocks);
	ld_deadletter_free(im->dl);
	ld_classifier_scratch_free(im->cls_scratch);
	ld_classifier_free(im->cls);
	free(im);
}

void ld_import_stats_get(const ld_import *im, ld_import_stats *out)
{
	*out = im->stats;
}

const char *ld_import_deadletter_path(const ld_import *im)
{
	return ld_deadletter_path(im->dl);
}

static void block_reset(block *b)
{
	b->nrec = 0;
	b->lines = b->drops = b->not_drop = b->skipped = 0;
	memset(b->rej, 0, sizeof b->rej);
	memset(b->by_format, 0, sizeof b->by_format);
}

/* Fills b with whole lines.  Returns 1 with a block, 0 at the end, -1 on a read error. */
static int fill_block(run *r, block *b)
{
	block_reset(b);
	b->len = 0;
	if (r->carry_len) {
		memcpy(b->data, r->carry, r->carry_len);
		b->len = r->carry_len;
		r->carry_len = 0;
	}
	for (;;) {
		bool eof = false;
		while (b->len < b->cap) {
			ssize_t got = input_read(&r->in, b->data + b->len, b->cap - b->len);
			if (got < 0)
				return -1;
			if (got == 0) {
				eof = true;
				break;
			}
			r->pos += (uint64_t)got;
			if (r->skipping) {
				/* drop the rest of an over-long line */
				char *nl = memchr(b->data + b->len, '\n', (size_t)got);
				if (!nl)
					continue; /* b->len unchanged: bytes discarded */
				size_t keep_from = (size_t)(nl - b->data) + 1;
				size_t rest = b->len + (size_t)got - keep_from;
				memmove(b->data + b->len, b->data + keep_from, rest);
				b->len += rest;
				r->skipping = false;
				continue;
			}
			b->len += (size_t)got;
		}
		b->offset = r->pos - b->len;
		if (eof) {
			if (r->skipping) {
				r->skipping = false;
				b->len = 0;
			}
			return b->len > 0 ? 1 : 0;
		}
		char *last = memrchr(b->data, '\n', b->len);
		if (last) {
			size_t cut = (size_t)(last - b->data) + 1;
			r->carry_len = b->len - cut;
			memcpy(r->carry, b->data + cut, r->carry_len);
			b->len = cut;
			return 1;
		}
		/* a single line longer than a block: keep its head for the dead-letter file, skip it */
		r->too_long_lines++;
		ld_deadletter_write(r->im->dl, ld_reject_name(LD_REJ_TOO_LONG), r->path, b->offset,
				    b->data, b->len, b->len);
		b->len = 0;
		r->skipping = true;
	}
}

static void *reader_main(void *arg)
{
	run *r = arg;
	for (;;) {
		if (__atomic_load_n(&r->abort, __ATOMIC_ACQUIRE))
			break;
		block *b = q_pop(&r->free_q);
		if (!b)
			break;
		int rc = fill_block(r, b);
		if (rc <= 0) {
			if (rc < 0)
				r->read_failed = true;
			q_push(&r->free_q, b);
			break;
		}
		q_push(&r->work_q, b);
	}
	q_close(&r->work_q);
	return NULL;
}

static void parse_block(run *r, ld_parse_state *st, block *b)
{
	const ld_import_opts *o = &r->im->opts;
	const char *p = b->data, *end = b->data + b->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		b->lines++;
		if (b->nrec == b->rec_cap) {
			size_t nc = b->rec_cap * 2;
			ld_record *nr = realloc(b->recs, nc * sizeof *nr);
			if (!nr) { /* keep going; this line is counted as unstorable */
				b->rej[LD_REJ_TOO_LONG]++;
				p = nl ? nl + 1 : end;
				continue;
			}
			b->recs = nr;
			b->rec_cap = nc;
		}
		ld_record *rec = &b->recs[b->nrec];
		uint8_t why = 0;
		int res = ld_parse_line(st, p, ll, rec, &why);
		switch (res) {
		case LD_PARSE_DROP:
			b->drops++;
			b->by_format[rec->format]++;
			b->nrec++;
			break;
		case LD_PARSE_NOT_DROP:
			b->not_drop++;
			b->by_format[rec->format]++;
			if (o->assume_drop && rec->action == LD_ACTION_UNKNOWN) {
				rec->action = LD_ACTION_DROP;
				rec->present |= LD_RF_ASSUMED;
				b->nrec++;
			} else if (o->keep_allowed) {
				b->nrec++;
			}
			break;
		case LD_PARSE_SKIP:
			b->skipped++;
			break;
		default:
			if (why >= LD_REJ_COUNT_ || why == LD_REJ_NONE)
				why = LD_REJ_BAD_FIELD;
			b->rej[why]++;
			ld_deadletter_write(r->im->dl, ld_reject_name(why), r->path,
					    b->offset + (uint64_t)(p - b->data), p, ll, ll);
			break;
		}
		p = nl ? nl + 1 : end;
	}
}

static void *parser_main(void *arg)
{
	parser_arg *pa = arg;
	run *r = pa->r;
	block *b;
	while ((b = q_pop(&r->work_q))) {
		parse_block(r, pa->st, b);
		q_push(&r->done_q, b);
	}
	pthread_mutex_lock(&r->mu);
	bool last = --r->parsers_left == 0;
	pthread_mutex_unlock(&r->mu);
	if (last)
		q_close(&r->done_q);
	return NULL;
}

static void merge(ld_import_stats *s, const block *b)
{
	s->lines += b->lines;
	s->drops += b->drops;
	s->not_drop += b->not_drop;
	s->skipped += b->skipped;
	for (int i = 0; i < LD_REJ_COUNT_; i++) {
		s->rej[i] += b->rej[i];
		s->rejected += b->rej[i];
	}
	for (int i = 0; i < LD_FMT_COUNT_; i++)
		s->by_format[i] += b->by_format[i];
}

/* Formats whose lines depend on earlier lines of the stream. */
static bool needs_order(unsigned fmt)
{
	return fmt == LD_FMT_WINFW;
}

int ld_import_file(ld_import *im, const char *path, ld_err *err)
{
	run *r = calloc(1, sizeof *r);
	if (!r) {
		ld_err_set(err, "out of memory");
		return -1;
	}
	r->im = im;
	r->path = strcmp(path, "-") == 0 ? "<stdin>" : path;
	if (input_open(&r->in, path) < 0) {
		ld_err_set(err, "%s: %s", r->path, r->in.err);
		input_close(&r->in);
		free(r);
		return -1;
	}
	r->carry = malloc(im->block_size);
	if (!r->carry) {
		ld_err_set(err, "out of memory");
		input_close(&r->in);
		free(r);
		return -1;
	}
	q_init(&r->free_q);
	q_init(&r->work_q);
	q_init(&r->done_q);
	pthread_mutex_init(&r->mu, NULL);
	for (size_t i = 0; i < im->nblocks; i++)
		q_push(&r->free_q, &im->blocks[i]);

	/* first block on this thread: it is the sample that decides the file's format */
	int rc = 0;
	block *first = q_pop(&r->free_q);
	int fr = fill_block(r, first);
	if (fr < 0) {
		ld_err_set(err, "%s: %s", r->path, r->in.err);
		rc = -1;
		q_push(&r->free_q, first);
		first = NULL;
	} else if (fr == 0) {
		q_push(&r->free_q, first);
		first = NULL;
	}
	r->fmt = im->opts.parse.forced_format > 0 ? (unsigned)im->opts.parse.forced_format : 0;
	if (first && r->fmt == 0 && im->cls) {
		ld_classify_result cr;
		ld_classify_sample(im->cls, im->cls_scratch, first->data, first->len, SAMPLE_LINES, &cr);
		r->fmt = cr.format;
	}
	unsigned np = needs_order(r->fmt) ? 1 : im->nparsers;
	parser_arg *pa = calloc(np, sizeof *pa);
	if (!pa) {
		ld_err_set(err, "out of memory");
		rc = -1;
		np = 0;
	}
	unsigned started = 0;
	for (unsigned i = 0; i < np && rc == 0; i++) {
		pa[i].r = r;
		pa[i].st = ld_parse_state_new(&im->opts.parse);
		if (!pa[i].st) {
			ld_err_set(err, "out of memory");
			rc = -1;
			break;
		}
		if (r->fmt)
			ld_parse_state_set_format(pa[i].st, r->fmt);
	}
	if (rc == 0 && first) {
		r->parsers_left = np;
		q_push(&r->work_q, first);
		first = NULL;
		pthread_t rt;
		bool reader_up = pthread_create(&rt, NULL, reader_main, r) == 0;
		if (!reader_up)
			q_close(&r->work_q);
		for (unsigned i = 0; i < np; i++) {
			if (pthread_create(&pa[i].tid, NULL, parser_main, &pa[i]) != 0)
				break;
			started++;
		}
		if (started < np) {
			pthread_mutex_lock(&r->mu);
			r->parsers_left -= np - started;
			bool none = r->parsers_left == 0;
			pthread_mutex_unlock(&r->mu);
			if (none) { /* nobody will drain work: parse here */
				parser_arg self = {r, pa[0].st, 0};
				parser_main(&self);
			}
		}
		/* the writer: this thread */
		ld_err werr = {{0}};
		bool wfail = false;
		block *b;
		while ((b = q_pop(&r->done_q))) {
			merge(&im->stats, b);
			if (im->w && !wfail && b->nrec > 0) {
				if (ld_writer_append_batch(im->w, b->recs, b->nrec, &werr) < 0) {
					wfail = true;
					__atomic_store_n(&r->abort, true, __ATOMIC_RELEASE);
				} else {
					im->stats.stored += b->nrec;
				}
			} else if (!im->w) {
				/* parse-only: nothing stored */
			}
			q_push(&r->free_q, b);
		}
		q_close(&r->free_q);
		for (unsigned i = 0; i < started; i++)
			pthread_join(pa[i].tid, NULL);
		if (reader_up)
			pthread_join(rt, NULL);
		if (wfail) {
			ld_err_set(err, "%s: store: %s", r->path, werr.msg);
			rc = -1;
		} else if (r->read_failed) {
			ld_err_set(err, "%s: %s", r->path, r->in.err);
			rc = -1;
		} else if (!reader_up || started == 0) {
			ld_err_set(err, "%s: cannot start import threads", r->path);
			rc = -1;
		}
	}
	im->stats.rej[LD_REJ_TOO_LONG] += r->too_long_lines;
	im->stats.rejected += r->too_long_lines;
	im->stats.lines += r->too_long_lines;
	im->stats.bytes += r->pos;
	im->stats.files++;
	for (unsigned i = 0; i < np; i++)
		ld_parse_state_free(pa[i].st);
	free(pa);
	q_destroy(&r->free_q);
	q_destroy(&r->work_q);
	q_destroy(&r->done_q);
	pthread_mutex_destroy(&r->mu);
	input_close(&r->in);
	free(r->carry);
	free(r);
	return rc;
}
