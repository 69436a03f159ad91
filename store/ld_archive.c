/* ld_archive.c — whole-store maintenance: info, verify (read-only), prune and compact (both
 * under the store lock, both recorded as MANIFEST transactions). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ld_archive.h"
#include "ld_time.h"
#include "store_internal.h"

/* --- info --------------------------------------------------------------------------------- */

static void journal_totals(const char *dir, const ld_manifest *m, uint64_t *rows, uint64_t *bytes)
{
	char jdir[4096];
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	*rows = *bytes = 0;
	DIR *d = opendir(jdir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".jnl") != 0 ||
		    ld_manifest_journal_sealed(m, de->d_name))
			continue;
		char path[4400];
		snprintf(path, sizeof(path), "%s/%s", jdir, de->d_name);
		ld_rowset rs;
		ld_rowset_init(&rs, false);
		uint64_t valid = 0;
		ld_err err;
		if (ld_jnl_load(path, &rs, &valid, &err) == 0) {
			*rows += rs.n;
			*bytes += valid;
		}
		ld_rowset_free(&rs);
	}
	closedir(d);
}

int ld_archive_info_print(const char *dir, FILE *out, ld_archive_info *info, ld_err *err)
{
	ld_manifest m;
	if (ld_manifest_load(dir, &m, err) != 0)
		return -1;
	const ld_mf_entry **live;
	long n = ld_manifest_live(&m, &live);
	if (n < 0) {
		ld_manifest_free(&m);
		ld_err_set(err, "out of memory");
		return -1;
	}
	ld_archive_info in;
	memset(&in, 0, sizeof(in));
	in.min_ns = INT64_MAX;
	in.max_ns = INT64_MIN;
	if (out)
		fprintf(out, "%-10s %8s %12s %14s %9s\n", "day", "segments", "rows", "bytes", "bytes/row");
	/* live entries are in MANIFEST order; gather per day with a small linear table */
	typedef struct day_row {
		char day[11];
		uint64_t segs, rows, bytes;
	} day_row;
	day_row *days = calloc((size_t)n + 1, sizeof(day_row));
	size_t nd = 0;
	for (long i = 0; i < n && days; i++) {
		const ld_mf_entry *e = live[i];
		const char *dp = strncmp(e->path, "segments/", 9) == 0 ? e->path + 9 : e->path;
		size_t k;
		for (k = 0; k < nd; k++)
			if (strncmp(days[k].day, dp, 10) == 0)
				break;
		if (k == nd) {
			snprintf(days[nd].day, sizeof(days[nd].day), "%.10s", dp);
			nd++;
		}
		days[k].segs++;
		days[k].rows += e->rows;
		days[k].bytes += e->size;
		in.segments++;
		in.rows += e->rows;
		in.bytes += e->size;
		if (e->min_ns < in.min_ns)
			in.min_ns = e->min_ns;
		if (e->max_ns > in.max_ns)
			in.max_ns = e->max_ns;
	}
	for (size_t k = 1; k < nd && days; k++) /* days sort by name: insertion sort, few days */
		for (size_t j = k; j > 0 && strcmp(days[j - 1].day, days[j].day) > 0; j--) {
			day_row t = days[j];
			days[j] = days[j - 1];
			days[j - 1] = t;
		}
	for (size_t k = 0; k < nd && out; k++)
		fprintf(out, "%-10s %8" PRIu64 " %12" PRIu64 " %14" PRIu64 " %9.2f\n", days[k].day,
			days[k].segs, days[k].rows, days[k].bytes,
			days[k].rows ? (double)days[k].bytes / (double)days[k].rows : 0.0);
	journal_totals(dir, &m, &in.journal_rows, &in.journal_bytes);
	if (out) {
		fprintf(out, "%-10s %8" PRIu64 " %12" PRIu64 " %14" PRIu64 " %9.2f\n", "total",
			in.segments, in.rows, in.bytes,
			in.rows ? (double)in.bytes / (double)in.rows : 0.0);
		fprintf(out, "journal: %" PRIu64 " unsealed rows, %" PRIu64 " bytes\n", in.journal_rows,
			in.journal_bytes);
		if (in.rows) {
			char a[LD_TIME_STRLEN], b[LD_TIME_STRLEN];
			ld_time_format_ms(in.min_ns, a);
			ld_time_format_ms(in.max_ns, b);
			fprintf(out, "span: %s .. %s\n", a, b);
		}
		char head[65];
		ld_hex(m.head, 32, head);
		fprintf(out, "manifest: %zu entries, chain head %s\n", m.n, head);
	}
	if (in.rows == 0 && in.journal_rows == 0)
		in.min_ns = in.max_ns = 0;
	if (info)
		*info = in;
	free(days);
	free(live);
	ld_manifest_free(&m);
	return 0;
}

/* --- verify ------------------------------------------------------------------------------- */

typedef struct verify_ctx {
	ld_report_fn report;
	void *ctx;
	long problems;
} verify_ctx;

static void problem(verify_ctx *v, const char *seg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(verify_ctx *v, const char *seg, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->problems++;
	if (v->report)
		v->report(v->ctx, seg, msg);
}

static void verify_chain(verify_ctx *v, const ld_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (!m->e[i].chain_ok)
			problem(v, "MANIFEST",
				"line %zu (%s): hash chain broken: an entry was edited, inserted or removed",
				m->e[i].line, m->e[i].path);
	if (m->bad_lines)
		problem(v, "MANIFEST", "%zu line(s) do not parse", m->bad_lines);
	if (m->file_len > m->valid_len)
		problem(v, "MANIFEST", "torn last line (interrupted append; a writer open repairs it)");
}

static void verify_segment(verify_ctx *v, const char *dir, const ld_mf_entry *e,
			   const ld_mf_entry **live, long n_live)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, e->path);
	struct stat st;
	if (stat(path, &st) != 0) {
		problem(v, e->path, "missing: listed in the MANIFEST but the file is gone");
		return;
	}
	uint8_t dig[32];
	uint64_t size;
	ld_err err;
	if (ld_file_digest(path, dig, &size, &err) != 0) {
		problem(v, e->path, "unreadable: %s", err.msg);
		return;
	}
	if (memcmp(dig, e->digest, 32) == 0 && size == e->size)
		return;
	for (long k = 0; k < n_live; k++)
		if (live[k] != e && memcmp(live[k]->digest, dig, 32) == 0) {
			problem(v, e->path, "reordered: holds the content of %s", live[k]->path);
			return;
		}
	if (size < e->size)
		problem(v, e->path, "truncated: %" PRIu64 " bytes, MANIFEST says %" PRIu64, size, e->size);
	else if (size > e->size)
		problem(v, e->path, "grown: %" PRIu64 " bytes, MANIFEST says %" PRIu64, size, e->size);
	else
		problem(v, e->path, "changed: BLAKE2b digest differs from the MANIFEST");
}

static int cmp_entry_path(const void *a, const void *b)
{
	return strcmp((*(const ld_mf_entry *const *)a)->path, (*(const ld_mf_entry *const *)b)->path);
}

static void verify_unlisted(verify_ctx *v, const char *dir, const ld_manifest *m,
			    const ld_mf_entry **sorted, long n)
{
	char segs[4096];
	snprintf(segs, sizeof(segs), "%s/segments", dir);
	DIR *d = opendir(segs);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char day[4200];
		if (snprintf(day, sizeof(day), "%s/%s", segs, de->d_name) >= (int)sizeof(day))
			continue;
		DIR *dd = opendir(day);
		if (!dd)
			continue;
		struct dirent *fe;
		while ((fe = readdir(dd))) {
			if (strcmp(fe->d_name, ".") == 0 || strcmp(fe->d_name, "..") == 0)
				continue;
			ld_mf_entry key;
			if (snprintf(key.path, sizeof(key.path), "segments/%s/%s", de->d_name,
				     fe->d_name) >= (int)sizeof(key.path)) {
				problem(v, fe->d_name, "unlisted: not in the MANIFEST");
				continue;
			}
			const ld_mf_entry *kp = &key;
			if (n > 0 && bsearch(&kp, sorted, (size_t)n, sizeof(*sorted), cmp_entry_path))
				continue;
			if (ld_manifest_mentions(m, key.path))
				problem(v, key.path, "present but removed from the MANIFEST (pruned, "
						     "replaced or never committed)");
			else
				problem(v, key.path, "unlisted: not in the MANIFEST");
		}
		closedir(dd);
	}
	closedir(d);
}

bool ld_archive_anchor_parse(const char *hex, uint8_t out[32])
{
	if (!hex || strlen(hex) != 64)
		return false;
	for (size_t i = 0; i < 64; i++) {
		char c = hex[i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16;
		if (d > 15)
			return false;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] << 4 | d : d);
	}
	return true;
}

/* The anchor must be the chain hash of some line: with the chain intact (checked apart), every
 * line up to it is then the one that was there when the anchor was recorded. */
static void verify_anchor(verify_ctx *v, const ld_manifest *m, const uint8_t *anchor)
{
	for (size_t i = 0; i < m->n; i++)
		if (memcmp(m->e[i].chain, anchor, 32) == 0)
			return;
	char hex[65];
	ld_hex(anchor, 32, hex);
	problem(v, "MANIFEST",
		"recorded chain head %s is not in the chain: the MANIFEST was rewritten or replaced "
		"since it was recorded",
		hex);
}

long ld_archive_verify(const char *dir, ld_report_fn report, void *ctx, ld_err *err)
{
	return ld_archive_verify_anchored(dir, NULL, report, ctx, err);
}

long ld_archive_verify_anchored(const char *dir, const uint8_t *anchor, ld_report_fn report,
				void *ctx, ld_err *err)
{
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		ld_err_errno(err, "%s", dir);
		return -1;
	}
	ld_manifest m;
	if (ld_manifest_load(dir, &m, err) != 0)
		return -1;
	verify_ctx v = {report, ctx, 0};
	verify_chain(&v, &m);
	if (anchor)
		verify_anchor(&v, &m, anchor);
	const ld_mf_entry **live;
	long n = ld_manifest_live(&m, &live);
	if (n < 0) {
		ld_manifest_free(&m);
		ld_err_set(err, "out of memory");
		return -1;
	}
	for (long i = 0; i < n; i++)
		verify_segment(&v, dir, live[i], live, n);
	if (n > 0)
		qsort(live, (size_t)n, sizeof(*live), cmp_entry_path);
	verify_unlisted(&v, dir, &m, live, n);
	free(live);
	ld_manifest_free(&m);
	return v.problems;
}

/* --- prune and compact -------------------------------------------------------------------- */

typedef struct locked_store {
	int lock_fd, mf_fd;
	ld_manifest m;
} locked_store;

static int store_begin(const char *dir, locked_store *s, ld_err *err)
{
	s->mf_fd = -1;
	s->lock_fd = ld_store_lock(dir, err);
	if (s->lock_fd < 0)
		return -1;
	if (ld_manifest_load(dir, &s->m, err) != 0) {
		close(s->lock_fd);
		return -1;
	}
	char p[4096];
	snprintf(p, sizeof(p), "%s/MANIFEST", dir);
	s->mf_fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (s->mf_fd < 0 || (s->m.file_len > s->m.valid_len &&
			     ftruncate(s->mf_fd, (off_t)s->m.valid_len) != 0)) {
		ld_err_errno(err, "%s", p);
		goto fail;
	}
	if (ld_store_cleanup(dir, &s->m, err) != 0)
		goto fail;
	return 0;
fail:
	if (s->mf_fd >= 0)
		close(s->mf_fd);
	close(s->lock_fd);
	ld_manifest_free(&s->m);
	return -1;
}

static void store_end(locked_store *s)
{
	close(s->mf_fd);
	close(s->lock_fd);
	ld_manifest_free(&s->m);
}

/* Deletes the files of committed removals; they are already out of the live set. */
static int unlink_segments(const char *dir, const ld_mf_entry *e, size_t n, ld_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (e[i].op != LD_MF_REMOVE && e[i].op != LD_MF_REPLACE)
			continue;
		char path[4096], pdir[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e[i].path);
		if (unlink(path) != 0 && errno != ENOENT) {
			ld_err_errno(err, "unlink %s", path);
			return -1;
		}
		snprintf(pdir, sizeof(pdir), "%s", path);
		*strrchr(pdir, '/') = '\0';
		if (ld_fsync_dir(pdir, err) != 0)
			return -1;
	}
	return 0;
}

static void removal_of(ld_mf_entry *out, const ld_mf_entry *e, int op, uint64_t tx,
		       const char *source)
{
	*out = *e;
	out->op = op;
	out->tx = tx;
	snprintf(out->source, sizeof(out->source), "%s", source);
}

static void commit_of(ld_mf_entry *out, uint64_t tx, const char *source)
{
	memset(out, 0, sizeof(*out));
	out->op = LD_MF_COMMIT;
	out->tx = tx;
	snprintf(out->path, sizeof(out->path), "-");
	snprintf(out->source, sizeof(out->source), "%s", source);
}

long ld_archive_prune(const char *dir, int64_t before_ns, ld_err *err)
{
	locked_store s;
	if (store_begin(dir, &s, err) != 0)
		return -1;
	const ld_mf_entry **live;
	long n = ld_manifest_live(&s.m, &live);
	ld_mf_entry *ents = n >= 0 ? calloc((size_t)n + 1, sizeof(ld_mf_entry)) : NULL;
	if (!ents) {
		free(live);
		store_end(&s);
		ld_err_set(err, "out of memory");
		return -1;
	}
	uint64_t tx = ld_manifest_next_tx(&s.m);
	size_t ne = 0;
	for (long i = 0; i < n; i++)
		if (live[i]->max_ns < before_ns)
			removal_of(&ents[ne++], live[i], LD_MF_REMOVE, tx, "prune");
	free(live);
	long removed = (long)ne;
	int rc = 0;
	if (ne) {
		commit_of(&ents[ne], tx, "prune");
		rc = ld_manifest_append(s.mf_fd, &s.m, ents, ne + 1, err);
		if (rc == 0)
			rc = unlink_segments(dir, ents, ne, err);
	}
	free(ents);
	store_end(&s);
	return rc == 0 ? removed : -1;
}

static int cmp_live_time(const void *a, const void *b)
{
	const ld_mf_entry *x = *(const ld_mf_entry *const *)a, *y = *(const ld_mf_entry *const *)b;
	int c = strncmp(x->path, y->path, 19); /* "segments/YYYY-MM-DD" */
	if (c)
		return c;
	if (x->min_ns != y->min_ns)
		return x->min_ns < y->min_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Merges group[0..n) (same day) into new segments, in one transaction. */
static long merge_group(const char *dir, locked_store *s, const ld_mf_entry **group, size_t n,
			const ld_store_opts *o, ld_seg_encoder *enc, ld_decoder *dec, ld_err *err)
{
	ld_rowset rs;
	ld_rowset_init(&rs, true);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, group[i]->path);
		uint8_t dig[32];
		uint64_t size;
		/* only merge what verifies: a damaged segment stays as it is, for the record */
		if (ld_file_digest(path, dig, &size, err) != 0 || memcmp(dig, group[i]->digest, 32) != 0 ||
		    ld_seg_load_rows(path, &rs, dec, err) != 0) {
			ld_rowset_free(&rs);
			return 0;
		}
	}
	uint32_t *idx = malloc(rs.n * sizeof(uint32_t));
	ld_mf_entry *ents = calloc(2 * n + 2 + rs.n / (o->segment_rows ? o->segment_rows : 1) + 1,
				   sizeof(ld_mf_entry));
	long written = -1;
	if (!idx || !ents) {
		ld_err_set(err, "out of memory");
		goto out;
	}
	/* segments are time-ordered; their concatenation is ordered unless they overlap */
	for (size_t i = 0; i < rs.n; i++)
		idx[i] = (uint32_t)i;
	for (size_t i = 1; i < rs.n; i++) { /* insertion pass is linear on nearly sorted input */
		uint32_t v = idx[i];
		size_t j = i;
		while (j > 0 && rs.ts[idx[j - 1]] > rs.ts[v]) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
	uint64_t tx = ld_manifest_next_tx(&s->m);
	size_t ne = 0;
	size_t cap = 2 * n + 1 + rs.n / (o->segment_rows ? o->segment_rows : 1);
	if (ld_store_write_segments(dir, enc, &s->m, &rs, idx, rs.n, o->segment_rows, tx, "compact",
				    ents, &ne, cap, err) != 0)
		goto out;
	written = (long)ne;
	for (size_t i = 0; i < n; i++)
		removal_of(&ents[ne++], group[i], LD_MF_REPLACE, tx, "compact");
	commit_of(&ents[ne++], tx, "compact");
	if (ld_manifest_append(s->mf_fd, &s->m, ents, ne, err) != 0 ||
	    unlink_segments(dir, ents, ne, err) != 0)
		written = -1;
out:
	free(idx);
	free(ents);
	ld_rowset_free(&rs);
	return written;
}

long ld_archive_compact(const char *dir, const ld_store_opts *opts, ld_err *err)
{
	ld_store_opts o;
	if (opts)
		o = *opts;
	else
		ld_store_opts_default(&o);
	if (o.segment_rows == 0 || o.segment_rows > LD_SEG_MAX_ROWS)
		o.segment_rows = 4u << 20;
	locked_store s;
	if (store_begin(dir, &s, err) != 0)
		return -1;
	ld_seg_encoder enc;
	ld_decoder dec;
	const ld_mf_entry **live = NULL;
	long n = ld_manifest_live(&s.m, &live);
	long written = 0;
	if (ld_seg_encoder_init(&enc, o.zstd_level ? o.zstd_level : 3) != 0) {
		free(live);
		store_end(&s);
		ld_err_set(err, "out of memory");
		return -1;
	}
	if (ld_decoder_init(&dec) != 0) {
		ld_seg_encoder_free(&enc);
		free(live);
		store_end(&s);
		ld_err_set(err, "out of memory");
		return -1;
	}
	/* copy: merging appends to the manifest, which may move the entries live points into */
	const ld_mf_entry **small = n > 0 ? malloc((size_t)n * sizeof(*small)) : NULL;
	ld_mf_entry *copies = n > 0 ? malloc((size_t)n * sizeof(*copies)) : NULL;
	size_t ns = 0;
	for (long i = 0; i < n && small && copies; i++)
		if (live[i]->rows < o.segment_rows / 2) {
			copies[ns] = *live[i];
			small[ns] = &copies[ns];
			ns++;
		}
	if (ns > 1)
		qsort(small, ns, sizeof(*small), cmp_live_time);
	size_t i = 0;
	while (i < ns && written >= 0) {
		size_t j = i + 1;
		uint64_t rows = small[i]->rows;
		while (j < ns && strncmp(small[j]->path, small[i]->path, 19) == 0 &&
		       rows + small[j]->rows <= o.segment_rows)
			rows += small[j++]->rows;
		if (j - i >= 2) {
			long w = merge_group(dir, &s, small + i, j - i, &o, &enc, &dec, err);
			written = w < 0 ? -1 : written + w;
		}
		i = j;
	}
	free(small);
	free(copies);
	free(live);
	ld_decoder_free(&dec);
	ld_seg_encoder_free(&enc);
	store_end(&s);
	return written;
}
