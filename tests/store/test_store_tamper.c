/* Tamper evidence: flip a byte in, truncate, delete, swap and add sealed segments, edit the
 * MANIFEST: `verify` names the segment at fault, and a scan reports the damaged segment and
 * returns every other row intact. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ld_archive.h"
#include "ld_scan.h"
#include "ld_writer.h"
#include "store_internal.h"
#include "store_testutil.h"

#define SEGS 5
#define ROWS_PER_SEG 20000u
#define SEED 13u
#define FIRST_ID 18000u /* ids from here on fall on one UTC day: one segment per seal */
#define N_IDS (FIRST_ID + SEGS * ROWS_PER_SEG)

typedef struct fixture {
	char dir[256];
	char seg[SEGS][128]; /* relative paths, in write order */
	uint64_t rows[SEGS];
} fixture;

static void build(fixture *f)
{
	tu_tempdir(f->dir, sizeof(f->dir), "tamper");
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = true;
	ld_err err;
	ld_writer *w = ld_writer_open(f->dir, &o, &err);
	assert_non_null(w);
	tg_bufs bufs;
	for (uint64_t i = 0; i < SEGS * ROWS_PER_SEG; i++) {
		ld_record r;
		tg_record(SEED, FIRST_ID + i, true, &r, &bufs);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
		if (i % ROWS_PER_SEG == ROWS_PER_SEG - 1)
			assert_int_equal(ld_writer_seal(w, &err), 0);
	}
	assert_int_equal(ld_writer_close(w, &err), 0);
	ld_manifest m;
	assert_int_equal(ld_manifest_load(f->dir, &m, &err), 0);
	const ld_mf_entry **live;
	assert_int_equal(ld_manifest_live(&m, &live), SEGS);
	for (int i = 0; i < SEGS; i++) {
		snprintf(f->seg[i], sizeof(f->seg[i]), "%s", live[i]->path);
		f->rows[i] = live[i]->rows;
	}
	free(live);
	ld_manifest_free(&m);
	assert_int_equal(ld_archive_verify(f->dir, NULL, NULL, &err), 0);
}

static void seg_path(const fixture *f, int i, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", f->dir, f->seg[i]);
}

/* verify's reports, joined */
typedef struct reports {
	char text[8192];
	size_t len;
} reports;

static void on_report(void *ctx, const char *segment, const char *problem)
{
	reports *r = ctx;
	int n = snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s: %s\n", segment, problem);
	if (n > 0 && r->len + (size_t)n < sizeof(r->text))
		r->len += (size_t)n;
}

static void expect_verify(const fixture *f, const char *segment, const char *word)
{
	reports r = {{0}, 0};
	ld_err err;
	long problems = ld_archive_verify(f->dir, on_report, &r, &err);
	print_message("%s", r.text);
	assert_true(problems >= 1);
	char want[300];
	snprintf(want, sizeof(want), "%s: %s", segment, word);
	if (!strstr(r.text, want))
		fail_msg("verify did not report \"%s\"; it said:\n%s", want, r.text);
}

typedef struct damage_log {
	tu_check c;
	char names[4096];
	size_t len;
} damage_log;

static void on_damage(void *ctx, const char *segment, const char *why)
{
	damage_log *d = ctx;
	atomic_fetch_add(&d->c.damaged, 1);
	int n = snprintf(d->names + d->len, sizeof(d->names) - d->len, "%s (%s)\n", segment, why);
	if (n > 0 && d->len + (size_t)n < sizeof(d->names))
		d->len += (size_t)n;
}

/* Scans everything: the damaged segments are reported by name, all other rows come back exact. */
static void expect_scan(const fixture *f, const int *bad, int n_bad, uint64_t min_rows)
{
	ld_err err;
	ld_archive *a = ld_archive_open(f->dir, &err);
	assert_non_null(a);
	damage_log d;
	memset(&d, 0, sizeof(d));
	tu_check_init(&d.c, SEED, true, N_IDS);
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.threads = 2;
	spec.on_damage = on_damage;
	assert_int_equal(ld_scan(a, &spec, tu_check_block, &d, NULL, &err), 0);
	ld_archive_close(a);
	print_message("damage: %s", d.names);
	assert_true(d.c.damaged >= (uint64_t)n_bad);
	for (int i = 0; i < n_bad; i++)
		assert_non_null(strstr(d.names, f->seg[bad[i]]));
	assert_int_equal(d.c.mismatches, 0);
	assert_true(d.c.rows >= min_rows);
	for (uint64_t id = 0; id < N_IDS; id++)
		assert_true(d.c.seen[id] <= 1);
	free((void *)d.c.seen);
}

static int count_rows(void *ctx, int thread, const ld_block *b)
{
	(void)thread;
	damage_log *d = ctx;
	atomic_fetch_add(&d->c.rows, b->n);
	return 0;
}

static void test_flip_byte(void **state)
{
	(void)state;
	fixture f;
	build(&f);
	char p[512];
	seg_path(&f, 2, p, sizeof(p));
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	uint8_t c;
	off_t at = 200; /* inside the first block's column data */
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
	expect_verify(&f, f.seg[2], "changed");
	int bad[] = {2};
	/* only the damaged block is lost: every other segment plus the rest of this one */
	expect_scan(&f, bad, 1, SEGS * ROWS_PER_SEG - LD_SEG_BLOCK_ROWS);
	/* a scan that decodes nothing (a plain count) answers from the intact block index: all
	 * rows, no report; with verify_all it also notices the damaged block, reports it and
	 * still counts its rows, since none of the columns it needs is damaged */
	for (int all = 0; all < 2; all++) {
		ld_err err;
		ld_archive *a = ld_archive_open(f.dir, &err);
		assert_non_null(a);
		damage_log d;
		memset(&d, 0, sizeof(d));
		ld_scan_spec spec;
		ld_scan_spec_init(&spec);
		spec.columns = 0;
		spec.on_damage = on_damage;
		spec.verify_all = all;
		ld_scan_stats st;
		assert_int_equal(ld_scan(a, &spec, count_rows, &d, &st, &err), 0);
		ld_archive_close(a);
		assert_int_equal(d.c.damaged, all);
		if (all)
			assert_non_null(strstr(d.names, f.seg[2]));
		assert_int_equal(d.c.rows, SEGS * ROWS_PER_SEG);
	}
	tu_rmrf(f.dir);
}

static void test_truncate(void **state)
{
	(void)state;
	fixture f;
	build(&f);
	char p[512];
	seg_path(&f, 1, p, sizeof(p));
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(truncate(p, st.st_size / 2), 0);
	expect_verify(&f, f.seg[1], "truncated");
	int bad[] = {1};
	expect_scan(&f, bad, 1, SEGS * ROWS_PER_SEG - f.rows[1]);
	tu_rmrf(f.dir);
}

static void test_delete(void **state)
{
	(void)state;
	fixture f;
	build(&f);
	char p[512];
	seg_path(&f, 4, p, sizeof(p));
	assert_int_equal(unlink(p), 0);
	expect_verify(&f, f.seg[4], "missing");
	int bad[] = {4};
	expect_scan(&f, bad, 1, SEGS * ROWS_PER_SEG - f.rows[4]);
	tu_rmrf(f.dir);
}

static void test_swap(void **state)
{
	(void)state;
	fixture f;
	build(&f);
	char a[512], b[512], t[600];
	seg_path(&f, 0, a, sizeof(a));
	seg_path(&f, 3, b, sizeof(b));
	snprintf(t, sizeof(t), "%s.swap", a);
	assert_int_equal(rename(a, t), 0);
	assert_int_equal(rename(b, a), 0);
	assert_int_equal(rename(t, b), 0);
	expect_verify(&f, f.seg[0], "reordered");
	expect_verify(&f, f.seg[3], "reordered");
	int bad[] = {0, 3};
	expect_scan(&f, bad, 2, SEGS * ROWS_PER_SEG - f.rows[0] - f.rows[3]);
	tu_rmrf(f.dir);
}

static void test_unlisted(void **state)
{
	(void)state;
	fixture f;
	build(&f);
	char a[512], b[600], cmd[1300];
	seg_path(&f, 1, a, sizeof(a));
	snprintf(b, sizeof(b), "%s/%.*s/0000000077.lds", f.dir, 19, f.seg[1]);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", a, b);
	assert_int_equal(system(cmd), 0);
	char rel[200];
	snprintf(rel, sizeof(rel), "%.19s/0000000077.lds", f.seg[1]);
	expect_verify(&f, rel, "unlisted");
	expect_scan(&f, NULL, 0, SEGS * ROWS_PER_SEG); /* not listed, so not read twice */
	tu_rmrf(f.dir);
}

static void test_manifest_edit(void **state)
{
	(void)state;
	fixture f;
	build(&f);
	char p[512];
	snprintf(p, sizeof(p), "%s/MANIFEST", f.dir);
	FILE *fp = fopen(p, "r+");
	assert_non_null(fp);
	char buf[16384];
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	/* claim fewer rows for the second segment: the chain no longer matches the text */
	char *line = strstr(buf, f.seg[1]);
	assert_non_null(line);
	char *rows = strchr(strchr(line, ' ') + 1, ' ') + 1; /* after "path size " */
	rows[0] = rows[0] == '1' ? '2' : '1';
	rewind(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	fclose(fp);
	expect_verify(&f, "MANIFEST", "line 3");
	tu_rmrf(f.dir);
}

/* The whole archive replaced by one written afresh (a MANIFEST hashed again from scratch, the
 * segments it lists): the chain check passes, since the chain has no key; the head recorded
 * before the replacement is what catches it.  A head recorded earlier still verifies after
 * honest growth (a later seal appends to the chain). */
static void test_replaced_archive(void **state)
{
	(void)state;
	fixture f;
	build(&f);
	ld_err err;
	ld_manifest m;
	assert_int_equal(ld_manifest_load(f.dir, &m, &err), 0);
	uint8_t anchor[32];
	memcpy(anchor, m.head, 32);
	ld_manifest_free(&m);
	char hex[65];
	ld_hex(anchor, 32, hex);
	uint8_t parsed[32];
	assert_true(ld_archive_anchor_parse(hex, parsed));
	assert_memory_equal(parsed, anchor, 32);
	assert_false(ld_archive_anchor_parse("00", parsed));

	/* honest growth: one more sealed segment, the old head is still a link */
	ld_store_opts o;
	ld_store_opts_default(&o);
	ld_writer *w = ld_writer_open(f.dir, &o, &err);
	assert_non_null(w);
	tg_bufs bufs;
	for (uint64_t i = 0; i < 1000; i++) {
		ld_record r;
		tg_record(SEED + 1, FIRST_ID + i, false, &r, &bufs);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
	}
	assert_int_equal(ld_writer_close(w, &err), 0);
	assert_int_equal(ld_archive_verify_anchored(f.dir, anchor, NULL, NULL, &err), 0);

	/* replacement: a fresh store of other rows moved over the original */
	char fresh[256], cmd[800];
	tu_tempdir(fresh, sizeof(fresh), "replace");
	w = ld_writer_open(fresh, &o, &err);
	assert_non_null(w);
	for (uint64_t i = 0; i < 1000; i++) {
		ld_record r;
		tg_record(SEED + 2, FIRST_ID + i, false, &r, &bufs);
		assert_int_equal(ld_writer_append(w, &r, &err), 0);
	}
	assert_int_equal(ld_writer_close(w, &err), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mv '%s' '%s'", f.dir, fresh, f.dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ld_archive_verify(f.dir, NULL, NULL, &err), 0); /* consistent in itself */
	reports r = {{0}, 0};
	assert_int_equal(ld_archive_verify_anchored(f.dir, anchor, on_report, &r, &err), 1);
	print_message("%s", r.text);
	assert_non_null(strstr(r.text, "MANIFEST: recorded chain head"));
	assert_non_null(strstr(r.text, hex));
	tu_rmrf(f.dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flip_byte), cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_delete),    cmocka_unit_test(test_swap),
		cmocka_unit_test(test_unlisted),  cmocka_unit_test(test_manifest_edit),
		cmocka_unit_test(test_replaced_archive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
