/* test_import.c — the import pipeline on plain, gzip, zstd and stdin input: counts by outcome,
 * records in the store, dead-letter file and its rotation, over-long lines, unreadable files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cmocka.h>

#include "import.h"
#include "ld_time.h"
#include "ld_writer.h"
#include "render_lines.h"

#define N_DROP 3000
#define N_PASS 500
#define N_IPT 700

static char tmpdir[256];
static char plain[300], gz[300], zst[300];
static char *content;
static size_t content_len;

/* expected outcome counts of the generated file */
static const uint64_t n_trunc = 7, n_badport = 3, n_unrec = 11, n_binary = 2, n_toolong = 2;

static void append(const char *s, size_t n)
{
	content = realloc(content, content_len + n + 1);
	memcpy(content + content_len, s, n);
	content_len += n;
	content[content_len++] = '\n';
}

static void build_content(void)
{
	char line[1024];
	ld_record r;
	memset(&r, 0, sizeof r);
	r.present = LD_RF_LEN | LD_RF_PORTS | LD_RF_TCPFLAGS;
	r.proto = 6;
	r.len = 60;
	r.tcp_flags = LD_TCP_SYN;
	r.dir = LD_DIR_OUT;
	r.rule = ld_str_c("4012");
	r.vif = ld_str_c("8f2c11aa");
	r.reporter = ld_str_c("esx01.vdi.example");
	r.ts_ns = INT64_C(1777882390) * LD_NS_PER_SEC;
	for (int i = 0; i < N_DROP + N_PASS; i++) {
		r.action = i < N_DROP ? LD_ACTION_DROP : LD_ACTION_ALLOW;
		ld_addr_from_v4(&r.src, 0x0a280117);
		ld_addr_from_v4(&r.dst, 0x0a280100u + (uint32_t)(i % 250));
		r.sport = (uint16_t)(40000 + i);
		r.dport = 445;
		r.ts_ns += 1000000;
		size_t n = ld_render_nsx(&r, i % 4, line, sizeof line);
		append(line, n);
		if (i % 200 == 0)
			append("", 0);
		if (i % 600 == 0)
			append("# comment", 9);
	}
	r.rule = ld_str_c("[UFW BLOCK]");
	r.vif = (ld_str){"", 0};
	r.action = LD_ACTION_DENY;
	for (int i = 0; i < N_IPT; i++) {
		r.sport = (uint16_t)(30000 + i);
		size_t n = ld_render_iptables(&r, line, sizeof line);
		append(line, n);
	}
	for (uint64_t i = 0; i < n_trunc; i++) {
		const char *t = "<13>1 2026-05-04T08:14:25.001Z esx05 FIREWALL-PKTLOG - - - INET match DROP "
				"5096 OUT 60 TCP 10.40.2.11/60517->10.40.2.";
		append(t, strlen(t));
	}
	for (uint64_t i = 0; i < n_badport; i++) {
		const char *t = "2026-05-04T08:12:02.338Z 7396c504 INET match DROP 1 OUT 52 TCP "
				"10.20.4.3/70000->10.20.4.4/135 S";
		append(t, strlen(t));
	}
	for (uint64_t i = 0; i < n_unrec; i++)
		append("hello world, nothing to see", 27);
	append("abc\x01\x02", 5);
	append("2026-05-04T08:12:02.338Z 7396c504 INET\0 match", 46);
	/* two over-long lines: one above LD_LINE_MAX (held in a block), one above the block size */
	size_t big = LD_LINE_MAX + 100;
	char *b = malloc(5 * big);
	memset(b, 'x', 5 * big);
	append(b, big);
	append(b, 5 * big);
	free(b);
}

static uint64_t count_char(const char *s, size_t n, char c)
{
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/ld-import-test-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	build_content();
	snprintf(plain, sizeof plain, "%s/in.log", tmpdir);
	snprintf(gz, sizeof gz, "%s/in.log.gz", tmpdir);
	snprintf(zst, sizeof zst, "%s/in.log.zst", tmpdir);
	FILE *f = fopen(plain, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, content_len, f), content_len);
	fclose(f);
	/* gzip in two members, as concatenated rotated logs are */
	gzFile g = gzopen(gz, "wb");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, content, (unsigned)(content_len / 2)), (int)(content_len / 2));
	gzclose(g);
	g = gzopen(gz, "ab");
	assert_int_equal(gzwrite(g, content + content_len / 2, (unsigned)(content_len - content_len / 2)),
			 (int)(content_len - content_len / 2));
	gzclose(g);
	size_t cap = ZSTD_compressBound(content_len);
	void *z = malloc(cap);
	size_t zn = ZSTD_compress(z, cap, content, content_len, 3);
	assert_false(ZSTD_isError(zn));
	f = fopen(zst, "wb");
	assert_int_equal(fwrite(z, 1, zn, f), zn);
	fclose(f);
	free(z);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(content);
	return 0;
}

static void base_opts(ld_import_opts *o, const char *dl)
{
	memset(o, 0, sizeof *o);
	o->parse.now_ns = ld_now_ns();
	o->threads = 2;
	o->block_size = 128 * 1024; /* many blocks, lines split across block boundaries */
	o->deadletter_dir = dl;
}

static void expect_counts(const ld_import_stats *s)
{
	uint64_t blanks = 0, comments = 0;
	for (int i = 0; i < N_DROP + N_PASS; i++) {
		blanks += i % 200 == 0;
		comments += i % 600 == 0;
	}
	assert_int_equal(s->drops, N_DROP + N_IPT);
	assert_int_equal(s->not_drop, N_PASS);
	assert_int_equal(s->skipped, blanks + comments);
	assert_int_equal(s->rej[LD_REJ_TRUNCATED], n_trunc);
	assert_int_equal(s->rej[LD_REJ_BAD_PORT], n_badport);
	assert_int_equal(s->rej[LD_REJ_UNRECOGNISED], n_unrec);
	assert_int_equal(s->rej[LD_REJ_BINARY], n_binary);
	assert_int_equal(s->rej[LD_REJ_TOO_LONG], n_toolong);
	assert_int_equal(s->rejected, n_trunc + n_badport + n_unrec + n_binary + n_toolong);
	assert_int_equal(s->lines, count_char(content, content_len, '\n'));
	assert_int_equal(s->by_format[LD_FMT_NSX], N_DROP + N_PASS);
	assert_int_equal(s->by_format[LD_FMT_IPTABLES], N_IPT);
	assert_int_equal(s->bytes, content_len);
}

static uint64_t deadletter_lines(const char *dir, uint64_t *by_reason_trunc)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	uint64_t lines = 0;
	*by_reason_trunc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "rejects-", 8) != 0)
			continue;
		char p[1024];
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		FILE *f = fopen(p, "rb");
		assert_non_null(f);
		char *l = NULL;
		size_t cap = 0;
		ssize_t n;
		while ((n = getline(&l, &cap, f)) > 0) {
			lines++;
			if (strncmp(l, "truncated\t", 10) == 0)
				(*by_reason_trunc)++;
		}
		free(l);
		fclose(f);
	}
	closedir(d);
	return lines;
}

static void import_one(const char *path, const char *name)
{
	char data[400], dl[450];
	snprintf(data, sizeof data, "%s/store-%s", tmpdir, name);
	snprintf(dl, sizeof dl, "%s/deadletter", data);
	ld_err err = {{0}};
	ld_store_opts so;
	ld_store_opts_default(&so);
	ld_writer *w = ld_writer_open(data, &so, &err);
	if (!w)
		fail_msg("writer: %s", err.msg);
	ld_import_opts o;
	base_opts(&o, dl);
	ld_import *im = ld_import_new(w, &o, &err);
	assert_non_null(im);
	if (ld_import_file(im, path, &err) != 0)
		fail_msg("import %s: %s", path, err.msg);
	ld_import_stats s;
	ld_import_stats_get(im, &s);
	expect_counts(&s);
	assert_int_equal(s.stored, N_DROP + N_IPT);
	assert_int_equal(ld_writer_appended(w), N_DROP + N_IPT);
	assert_true(strlen(ld_import_deadletter_path(im)) > 0);
	ld_import_free(im);
	assert_int_equal(ld_writer_close(w, &err), 0);
	uint64_t trunc;
	assert_int_equal(deadletter_lines(dl, &trunc), s.rejected);
	assert_int_equal(trunc, n_trunc);
}

static void test_plain(void **state)
{
	(void)state;
	import_one(plain, "plain");
}

static void test_gzip(void **state)
{
	(void)state;
	import_one(gz, "gz");
}

static void test_zstd(void **state)
{
	(void)state;
	import_one(zst, "zst");
}

static void test_stdin(void **state)
{
	(void)state;
	int saved = dup(STDIN_FILENO);
	int fd = open(zst, O_RDONLY);
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	import_one("-", "stdin");
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
}

static void test_parse_only_and_options(void **state)
{
	(void)state;
	ld_err err = {{0}};
	ld_import_opts o;
	base_opts(&o, NULL);
	o.threads = 1;
	o.keep_allowed = true;
	ld_import *im = ld_import_new(NULL, &o, &err);
	assert_non_null(im);
	assert_int_equal(ld_import_file(im, plain, &err), 0);
	ld_import_stats s;
	ld_import_stats_get(im, &s);
	expect_counts(&s);
	assert_int_equal(s.stored, 0); /* no writer: parse only */
	assert_string_equal(ld_import_deadletter_path(im), "");
	/* unreadable input: an error naming the file, the importer stays usable */
	char missing[400];
	snprintf(missing, sizeof missing, "%s/does-not-exist.log", tmpdir);
	assert_int_equal(ld_import_file(im, missing, &err), -1);
	assert_non_null(strstr(err.msg, "does-not-exist.log"));
	assert_int_equal(ld_import_file(im, tmpdir, &err), -1); /* a directory */
	ld_import_free(im);
}

static void test_deadletter_rotation(void **state)
{
	(void)state;
	char dl[400];
	snprintf(dl, sizeof dl, "%s/dl-rot", tmpdir);
	ld_err err = {{0}};
	ld_import_opts o;
	base_opts(&o, dl);
	o.deadletter_max_bytes = 2048;
	o.deadletter_keep = 2;
	ld_import *im = ld_import_new(NULL, &o, &err);
	assert_non_null(im);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ld_import_file(im, plain, &err), 0);
	ld_import_free(im);
	DIR *d = opendir(dl);
	assert_non_null(d);
	int files = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "rejects-", 8) != 0)
			continue;
		files++;
		char p[1024];
		snprintf(p, sizeof p, "%s/%s", dl, e->d_name);
		FILE *f = fopen(p, "rb");
		fseek(f, 0, SEEK_END);
		long sz = ftell(f);
		fclose(f);
		/* bounded: one entry may start a file, which is then at most max + one entry */
		assert_true(sz <= 2048 + 4200);
	}
	closedir(d);
	assert_int_equal(files, 2);
}

static void test_forced_format(void **state)
{
	(void)state;
	ld_err err = {{0}};
	ld_import_opts o;
	base_opts(&o, NULL);
	o.parse.forced_format = LD_FMT_IPTABLES;
	ld_import *im = ld_import_new(NULL, &o, &err);
	assert_non_null(im);
	assert_int_equal(ld_import_file(im, plain, &err), 0);
	ld_import_stats s;
	ld_import_stats_get(im, &s);
	/* NSX lines are not netfilter lines: rejected, not silently re-classified */
	assert_int_equal(s.drops, N_IPT);
	assert_int_equal(s.by_format[LD_FMT_NSX], 0);
	assert_true(s.rej[LD_REJ_UNRECOGNISED] >= N_DROP + N_PASS);
	ld_import_free(im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_zstd),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_parse_only_and_options),
		cmocka_unit_test(test_deadletter_rotation),
		cmocka_unit_test(test_forced_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
