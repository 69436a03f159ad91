/* Crash test: a child process appends records and reports, through a pipe, how many it has
 * acknowledged as durable (after ld_writer_sync returned); the parent SIGKILLs it at a random
 * moment — mid-append, mid-fsync, mid-seal, mid-MANIFEST — for many rounds.  After each kill:
 *  - a read-only open sees every acknowledged record exactly once (journal + segments);
 *  - reopening the writer recovers them exactly once, and the store verifies clean.
 * And: a journal left behind by a writer that bypassed the page cache (O_DIRECT) or did not
 * is continued by the next writer either way, and both parts are recovered. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "direct_io.h"
#include "ld_archive.h"
#include "ld_scan.h"
#include "ld_writer.h"
#include "store_internal.h"
#include "store_testutil.h"

#define ROUNDS 24
#define IDS_PER_ROUND 200000u
#define SEED 21u

/* In a child process: a writer that keeps raw lines (segment_rows 0: the default). */
static ld_writer *child_writer(const char *dir, uint32_t segment_rows)
{
	ld_store_opts o;
	ld_store_opts_default(&o);
	if (segment_rows)
		o.segment_rows = segment_rows;
	o.keep_raw = true;
	ld_err err;
	ld_writer *w = ld_writer_open(dir, &o, &err);
	if (!w)
		_exit(3);
	return w;
}

/* In a child process: appends ids [from, to); with report_fd >= 0, every 211 ids it makes them
 * durable and writes how many are acknowledged to report_fd. */
static void append_ids(ld_writer *w, uint64_t from, uint64_t to, int report_fd)
{
	tg_bufs bufs;
	ld_err err;
	for (uint64_t k = from; k < to; k++) {
		ld_record r;
		tg_record(SEED, k, true, &r, &bufs);
		if (ld_writer_append(w, &r, &err) != 0)
			_exit(4);
		if (report_fd >= 0 && (k - from) % 211 == 210) {
			if (ld_writer_sync(w, &err) != 0)
				_exit(5);
			uint64_t acked = ld_writer_durable(w);
			if (write(report_fd, &acked, sizeof(acked)) != sizeof(acked))
				_exit(6);
		}
	}
}

static void child(const char *dir, uint64_t first, int fd)
{
	ld_writer *w = child_writer(dir, 1500); /* seals often, so kills land in every phase */
	append_ids(w, first, first + IDS_PER_ROUND, fd);
	ld_writer_close(w, NULL);
	_exit(0);
}

typedef struct round_state {
	uint64_t acked[ROUNDS];
	int rounds;
} round_state;

/* Every acknowledged id exactly once, nothing at all more than once, every row intact. */
static void check_store(const char *dir, const round_state *rs, const char *when)
{
	ld_err err;
	ld_archive *a = ld_archive_open(dir, &err);
	if (!a)
		fail_msg("%s: open: %s", when, err.msg);
	tu_check c;
	tu_check_init(&c, SEED, true, (uint64_t)ROUNDS * IDS_PER_ROUND);
	ld_scan_spec spec;
	ld_scan_spec_init(&spec);
	spec.threads = 2;
	spec.on_damage = tu_on_damage;
	assert_int_equal(ld_scan(a, &spec, tu_check_block, &c, NULL, &err), 0);
	ld_archive_close(a);
	assert_int_equal(c.damaged, 0);
	assert_int_equal(c.mismatches, 0);
	assert_int_equal(c.out_of_range, 0);
	for (uint64_t id = 0; id < c.n_ids; id++) {
		uint64_t r = id / IDS_PER_ROUND, k = id % IDS_PER_ROUND;
		if (c.seen[id] > 1)
			fail_msg("%s: id %llu present %u times", when, (unsigned long long)id, c.seen[id]);
		if ((int)r < rs->rounds && k < rs->acked[r] && c.seen[id] != 1)
			fail_msg("%s: acknowledged id %llu (round %llu, acked %llu) missing", when,
				 (unsigned long long)id, (unsigned long long)r,
				 (unsigned long long)rs->acked[r]);
	}
	free((void *)c.seen);
}

static void test_crash_rounds(void **state)
{
	(void)state;
	char dir[256];
	tu_tempdir(dir, sizeof(dir), "crash");
	round_state rs;
	memset(&rs, 0, sizeof(rs));
	uint64_t rng = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	for (int r = 0; r < ROUNDS; r++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			child(dir, (uint64_t)r * IDS_PER_ROUND, p[1]);
		}
		close(p[1]);
		rng = tg_mix(rng);
		/* 2..120 ms: some kills before the writer opened, most mid-stream */
		struct timespec ts = {0, (long)(2 + rng % 118) * 1000000L};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		uint64_t v, acked = 0;
		for (int guard = 0; guard < 10000000; guard++) {
			ssize_t got = read(p[0], &v, sizeof(v));
			if (got != (ssize_t)sizeof(v))
				break;
			acked = v;
		}
		close(p[0]);
		if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			fail_msg("round %d: child failed with status %d", r, WEXITSTATUS(status));
		rs.acked[r] = acked;
		rs.rounds = r + 1;
		check_store(dir, &rs, "read-only after kill");
		ld_err err;
		ld_writer *w = ld_writer_open(dir, NULL, &err);
		if (!w)
			fail_msg("round %d: reopen: %s", r, err.msg);
		assert_int_equal(ld_writer_close(w, &err), 0);
		long problems = ld_archive_verify(dir, NULL, NULL, &err);
		assert_int_equal(problems, 0);
		check_store(dir, &rs, "after recovery");
		print_message("round %2d: %llu acknowledged\n", r, (unsigned long long)acked);
	}
	tu_rmrf(dir);
}

/* Appends ids [from, to) with direct journal writes on or off, makes them durable and dies
 * without closing (no seal): the journal stays for the next writer. */
static void write_and_die(const char *dir, bool direct, uint64_t from, uint64_t to)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ld_direct_io = direct;
		ld_writer *w = child_writer(dir, 0);
		append_ids(w, from, to, -1);
		ld_err err;
		_exit(ld_writer_sync(w, &err) == 0 && ld_writer_durable(w) == to - from ? 0 : 5);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The one journal file of dir (its size), failing when there is not exactly one. */
static long long only_journal_size(const char *dir)
{
	char jdir[512], path[1024];
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	DIR *d = opendir(jdir);
	assert_non_null(d);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".jnl")) {
			snprintf(path, sizeof(path), "%s/%s", jdir, de->d_name);
			n++;
		}
	closedir(d);
	assert_int_equal(n, 1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (long long)st.st_size;
}

static bool dir_allows_direct_io(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/direct-probe", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_DIRECT, 0644);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return fd >= 0;
}

static void test_journal_modes_continue(void **state)
{
	(void)state;
	const bool modes[3][2] = {{false, true}, {true, false}, {true, true}};
	for (int c = 0; c < 3; c++) {
		char dir[256];
		tu_tempdir(dir, sizeof(dir), "jmodes");
		bool direct_ok = dir_allows_direct_io(dir);
		write_and_die(dir, modes[c][0], 0, 5000);
		long long first = only_journal_size(dir);
		if (modes[c][0] && direct_ok) /* whole direct-I/O units */
			assert_int_equal(first % LD_JNL_ALIGN, 0);
		write_and_die(dir, modes[c][1], 5000, 9000);
		long long both = only_journal_size(dir);
		assert_true(both > first); /* continued, not a second journal */
		if (modes[c][0] && modes[c][1] && direct_ok)
			assert_int_equal(both % LD_JNL_ALIGN, 0);
		round_state rs = {.acked = {9000}, .rounds = 1};
		check_store(dir, &rs, "journal continued");
		ld_err err;
		ld_writer *w = ld_writer_open(dir, NULL, &err);
		if (!w)
			fail_msg("case %d: reopen: %s", c, err.msg);
		assert_int_equal(ld_writer_close(w, &err), 0);
		assert_int_equal(ld_archive_verify(dir, NULL, NULL, &err), 0);
		check_store(dir, &rs, "journal continued, sealed");
		tu_rmrf(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crash_rounds),
		cmocka_unit_test(test_journal_modes_continue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
