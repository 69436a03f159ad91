/* `logdrop query` through the binary: output formats, exit codes, usage errors naming the
 * column, read-only use of a copied archive, and a damaged segment reported while the rest is
 * still answered.  argv[1] is the path of the logdrop binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "ld_time.h"
#include "ld_writer.h"

static const char *logdrop;
static char dir[] = "/tmp/test_query_cli.XXXXXX";
static char store[512], copy[512];
#define T0 INT64_C(1793577600000000000) /* 2026-11-02T00:00:00Z */
#define N 3000

typedef struct result {
	int status;
	char out[65536];
	char err[4096];
	int lines;
} result;

static result res;

/* Runs `logdrop query ARGS` (a shell fragment) and captures stdout, stderr and the exit code. */
static void q(const char *args)
{
	char cmd[2048], errf[600];
	snprintf(errf, sizeof errf, "%s/stderr", dir);
	snprintf(cmd, sizeof cmd, "%s query %s 2>%s", logdrop, args, errf);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(res.out, 1, sizeof res.out - 1, p);
	res.out[n] = 0;
	res.lines = 0;
	for (size_t i = 0; i < n; i++)
		res.lines += res.out[i] == '\n';
	char sink[4096];
	size_t got;
	while ((got = fread(sink, 1, sizeof sink, p)) > 0) /* keep the first 64 KiB, count all lines */
		for (size_t i = 0; i < got; i++)
			res.lines += sink[i] == '\n';
	int st = pclose(p);
	res.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	FILE *e = fopen(errf, "r");
	n = e ? fread(res.err, 1, sizeof res.err - 1, e) : 0;
	res.err[n] = 0;
	if (e)
		fclose(e);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(copy, sizeof copy, "%s/copy", dir);
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = true;
	ld_err err;
	ld_writer *w = ld_writer_open(store, &o, &err);
	if (!w)
		return -1;
	for (uint32_t i = 0; i < N; i++) {
		ld_record r;
		memset(&r, 0, sizeof r);
		/* two days -> two segments */
		r.ts_ns = T0 + (int64_t)i * 60 * LD_NS_PER_SEC;
		ld_addr_from_v4(&r.src, 0x0a400300u + (i % 10));
		if (i % 7 == 0) {
			memset(&r.dst, 0, sizeof r.dst);
			r.dst.b[0] = 0x20;
			r.dst.b[1] = 0x01;
			r.dst.b[2] = 0x0d;
			r.dst.b[3] = 0xb8;
			r.dst.b[15] = (uint8_t)(i % 5 + 1);
		} else {
			ld_addr_from_v4(&r.dst, 0x0a400400u + (i % 50));
		}
		r.sport = (uint16_t)(50000 + i);
		r.dport = i % 3 ? 445 : 137;
		r.proto = i % 3 ? 6 : 17;
		r.action = LD_ACTION_DROP;
		r.dir = LD_DIR_IN;
		r.tcp_flags = i % 3 ? LD_TCP_SYN : 0;
		r.len = 60;
		r.format = LD_FMT_NSX;
		r.present = LD_RF_PORTS | LD_RF_LEN | (i % 3 ? LD_RF_TCPFLAGS : 0);
		r.reporter = ld_str_c(i % 2 ? "esx-1" : "esx,\"2\"");
		r.rule = ld_str_c("1001");
		r.vif = ld_str_c("");
		char raw[64];
		int n = snprintf(raw, sizeof raw, "line %u", i);
		r.raw.ptr = raw;
		r.raw.len = (uint32_t)n;
		if (ld_writer_append(w, &r, &err) != 0)
			return -1;
	}
	if (ld_writer_close(w, &err) != 0)
		return -1;
	/* a read-only copy */
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s' && chmod -R a-w '%s'", store, copy, copy);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[700];
	snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_count_and_formats(void **state)
{
	(void)state;
	char a[1024];
	snprintf(a, sizeof a, "--data %s --count", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "3000\n");

	snprintf(a, sizeof a, "--data %s --count --where 'dport = 445 and proto = tcp' --format json", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "{\"count\":2000}\n");

	/* records: sorted by time, JSON fields per the contract, IPv6 compressed */
	snprintf(a, sizeof a, "--data %s --where 'src = 10.64.3.0 and dst in 2001:db8::/32' --format json --limit 2", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out,
			    "{\"ts\":\"2026-11-02T00:00:00.000Z\",\"src\":\"10.64.3.0\",\"dst\":\"2001:db8::1\","
			    "\"sport\":50000,\"dport\":137,\"proto\":\"udp\",\"action\":\"drop\",\"dir\":\"in\","
			    "\"rule\":\"1001\",\"reporter\":\"esx,\\\"2\\\"\",\"vif\":\"\",\"flags\":\"\",\"len\":60,"
			    "\"format\":\"nsx\"}\n"
			    "{\"ts\":\"2026-11-02T01:10:00.000Z\",\"src\":\"10.64.3.0\",\"dst\":\"2001:db8::1\","
			    "\"sport\":50070,\"dport\":445,\"proto\":\"tcp\",\"action\":\"drop\",\"dir\":\"in\","
			    "\"rule\":\"1001\",\"reporter\":\"esx,\\\"2\\\"\",\"vif\":\"\",\"flags\":\"S\",\"len\":60,"
			    "\"format\":\"nsx\"}\n");

	/* CSV with a header, quoting, and the raw line */
	snprintf(a, sizeof a, "--data %s --where 'sport = 50002' --format csv --raw", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out,
			    "ts,src,dst,sport,dport,proto,action,dir,rule,reporter,vif,flags,len,format,raw\n"
			    "2026-11-02T00:02:00.000Z,10.64.3.2,10.64.4.2,50002,445,tcp,drop,in,1001,"
			    "\"esx,\"\"2\"\"\",,S,60,nsx,line 2\n");

	/* table --raw prints the original lines */
	snprintf(a, sizeof a, "--data %s --where 'sport in (50001, 50003)' --raw", store);
	q(a);
	assert_string_equal(res.out, "line 1\nline 3\n");

	/* time window: the second day only */
	snprintf(a, sizeof a, "--data %s --count --from 2026-11-03T00:00:00Z --to 2026-11-04T00:00:00Z", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "1440\n"); /* minutes 1440..2879 */
}

static void test_group_by(void **state)
{
	(void)state;
	char a[1024];
	snprintf(a, sizeof a, "--data %s --group-by src --distinct dst --top 2 --format csv --where 'dport = 445'", store);
	q(a);
	assert_int_equal(res.status, 0);
	/* 10 sources x 200 records on 445; dsts: i%50 on v4 (i%10 fixes i%50 to 5 values) plus
	 * v6 i%5+1 when i%7 == 0 */
	assert_non_null(strstr(res.out, "src,count,distinct_dst\n"));
	int lines = 0;
	for (const char *p = res.out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 3);

	snprintf(a, sizeof a, "--data %s --group-by dport,proto --format json", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "{\"dport\":445,\"proto\":\"tcp\",\"count\":2000}\n"
				     "{\"dport\":137,\"proto\":\"udp\",\"count\":1000}\n");
}

static void test_read_only_copy(void **state)
{
	(void)state;
	char a[1024];
	snprintf(a, sizeof a, "--data %s --count --where 'host 10.64.3.7'", copy);
	q(a);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "300\n");
}

static void test_usage_errors(void **state)
{
	(void)state;
	char a[1024];
	snprintf(a, sizeof a, "--data %s --where 'dport = 445 and'", store);
	q(a);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "--where: at column 16: expected a column"));
	snprintf(a, sizeof a, "--data %s --where 'dport ='", store);
	q(a);
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "--where: at column 8: expected a value after '='"));
	q("--count");
	assert_int_equal(res.status, 2);
	snprintf(a, sizeof a, "--data %s --format xml", store);
	q(a);
	assert_int_equal(res.status, 2);
	snprintf(a, sizeof a, "--data %s --group-by ts", store);
	q(a);
	assert_int_equal(res.status, 2);
	snprintf(a, sizeof a, "--data %s --top 5", store);
	q(a);
	assert_int_equal(res.status, 2);
	q("--help");
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "--where EXPR"));
	snprintf(a, sizeof a, "--data %s/nonexistent --count", dir);
	q(a);
	assert_int_equal(res.status, 1);
}

static void test_json_escaping(void **state)
{
	(void)state;
	/* Raw lines are bytes: control characters are escaped, valid UTF-8 passes through, stray
	 * bytes become U+FFFD, so every line stays valid JSON. */
	char one[600];
	snprintf(one, sizeof one, "%s/one", dir);
	ld_store_opts o;
	ld_store_opts_default(&o);
	o.keep_raw = true;
	ld_err err;
	ld_writer *w = ld_writer_open(one, &o, &err);
	assert_non_null(w);
	ld_record r;
	memset(&r, 0, sizeof r);
	r.ts_ns = T0 + 1234567890;
	ld_addr_from_v4(&r.src, 0x0a000001);
	memset(&r.dst, 0, sizeof r.dst);
	r.dst.b[0] = 0xfe;
	r.dst.b[1] = 0x80;
	r.dst.b[15] = 1;
	r.proto = 47;
	r.action = LD_ACTION_REJECT;
	r.format = LD_FMT_ASA;
	r.reporter = ld_str_c("h\xc3\xa9te"); /* "hete" with an e-acute */
	r.rule = ld_str_c("");
	r.vif = ld_str_c("");
	static const char raw[] = "a\tb\x01\"q\"\\ \xff end";
	r.raw.ptr = raw;
	r.raw.len = sizeof raw - 1;
	assert_int_equal(ld_writer_append(w, &r, &err), 0);
	assert_int_equal(ld_writer_close(w, &err), 0);
	char a[1024];
	snprintf(a, sizeof a, "--data %s --format json --raw", one);
	q(a);
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out,
			    "{\"ts\":\"2026-11-02T00:00:01.234Z\",\"src\":\"10.0.0.1\",\"dst\":\"fe80::1\","
			    "\"sport\":null,\"dport\":null,\"proto\":\"gre\",\"action\":\"reject\",\"dir\":\"unknown\","
			    "\"rule\":\"\",\"reporter\":\"h\xc3\xa9te\",\"vif\":\"\",\"flags\":\"\",\"len\":null,"
			    "\"format\":\"asa\",\"raw\":\"a\\tb\\u0001\\\"q\\\"\\\\ \\ufffd end\"}\n");
}

/* Two writer sessions on the same day make overlapping segments: records still come out in
 * time order, and --limit takes the earliest. */
static void test_time_order_across_segments(void **state)
{
	(void)state;
	char two[600];
	snprintf(two, sizeof two, "%s/two", dir);
	for (int session = 0; session < 2; session++) {
		ld_store_opts o;
		ld_store_opts_default(&o);
		ld_err err;
		ld_writer *w = ld_writer_open(two, &o, &err);
		assert_non_null(w);
		for (uint32_t i = 0; i < 500; i++) {
			ld_record r;
			memset(&r, 0, sizeof r);
			r.ts_ns = T0 + (int64_t)(2 * i + (uint32_t)session) * LD_NS_PER_SEC; /* even, then odd seconds */
			ld_addr_from_v4(&r.src, 0x0a000001u + (uint32_t)session);
			ld_addr_from_v4(&r.dst, 0x0a000100u);
			r.dport = 445;
			r.proto = 6;
			r.reporter = ld_str_c("");
			r.rule = ld_str_c("");
			r.vif = ld_str_c("");
			assert_int_equal(ld_writer_append(w, &r, &err), 0);
		}
		assert_int_equal(ld_writer_close(w, &err), 0);
	}
	char a[1024];
	snprintf(a, sizeof a, "--data %s --format csv", two);
	q(a);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.lines, 1001);
	/* every line's second is one more than the previous one's */
	const char *p = strchr(res.out, '\n') + 1;
	for (int i = 0; i < 1000 && p && *p; i++) {
		unsigned hh, mm, ss;
		assert_int_equal(sscanf(p, "2026-11-02T%u:%u:%u", &hh, &mm, &ss), 3);
		assert_int_equal(hh * 3600 + mm * 60 + ss, (unsigned)i);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	snprintf(a, sizeof a, "--data %s --format csv --limit 3 --threads 2", two);
	q(a);
	assert_string_equal(res.out, "ts,src,dst,sport,dport,proto,action,dir,rule,reporter,vif,flags,len,format\n"
				     "2026-11-02T00:00:00.000Z,10.0.0.1,10.0.1.0,0,445,tcp,unknown,unknown,,,,,,unknown\n"
				     "2026-11-02T00:00:01.000Z,10.0.0.2,10.0.1.0,0,445,tcp,unknown,unknown,,,,,,unknown\n"
				     "2026-11-02T00:00:02.000Z,10.0.0.1,10.0.1.0,0,445,tcp,unknown,unknown,,,,,,unknown\n");
}

/* Table output streams too: columns are sized on the first 1000 records, so every row of a
 * larger result still lines up when the values fit those widths. */
static void test_table_stream(void **state)
{
	(void)state;
	char a[1024];
	snprintf(a, sizeof a, "--data %s --where 'src = 10.64.3.1' --from 2026-11-02T10:00:00Z", store);
	q(a);
	assert_int_equal(res.status, 0);
	/* minutes 600..2999 with i % 10 == 1: 240 records */
	assert_int_equal(res.lines, 1 + 240);
	const char *hdr_src = strstr(res.out, "src");
	const char *hdr_dst = strstr(res.out, "dst");
	assert_non_null(hdr_src);
	assert_non_null(hdr_dst);
	size_t col_dst = (size_t)(hdr_dst - res.out);
	const char *p = strchr(res.out, '\n') + 1;
	for (int i = 0; i < 240 && *p; i++) {
		/* every row: the timestamp, then the source at the header's column */
		assert_int_equal(strncmp(p, "2026-11-0", 9), 0);
		assert_int_equal(strncmp(p + (hdr_src - res.out), "10.64.3.1 ", 10), 0);
		assert_true(p[col_dst - 1] == ' ' && p[col_dst] != ' ');
		p = strchr(p, '\n') + 1;
	}
	/* all 3000 rows: one header line plus one line each */
	snprintf(a, sizeof a, "--data %s", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.lines, 1 + N);
}

static void test_damaged_segment(void **state)
{
	(void)state;
	/* Flip bytes in the middle of one segment file: the query warns, names it, and answers
	 * from the other segment. */
	char cmd[2048], path[1024] = "";
	snprintf(cmd, sizeof cmd, "find '%s/segments' -type f | sort | head -1", store);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(path, sizeof path, p))
		path[0] = 0;
	pclose(p);
	path[strcspn(path, "\n")] = 0;
	assert_true(path[0] != 0);
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, size / 2, SEEK_SET);
	int c = fgetc(f);
	fseek(f, size / 2, SEEK_SET);
	fputc(c ^ 0x5a, f);
	fclose(f);
	char a[1024];
	/* every column is read for record output, so the damage is found wherever it is */
	snprintf(a, sizeof a, "--data %s --format csv --raw", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.err, "damaged segment"));
	const char *base = strrchr(path, '/');
	assert_non_null(strstr(res.err, base + 1));
	/* header + the other days' 1560 rows + what the damaged day gave before the damage */
	assert_true(res.lines >= 1 + 1560 && res.lines < 1 + N);
	/* a window that excludes the damaged day is answered in full, without a warning */
	snprintf(a, sizeof a, "--data %s --format csv --raw --from 2026-11-03T00:00:00Z", store);
	q(a);
	assert_int_equal(res.status, 0);
	assert_int_equal(res.lines, 1 + 1560);
	assert_null(strstr(res.err, "damaged"));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_query_cli PATH-TO-logdrop\n");
		return 1;
	}
	logdrop = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_and_formats),
		cmocka_unit_test(test_group_by),
		cmocka_unit_test(test_read_only_copy),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_time_order_across_segments),
		cmocka_unit_test(test_table_stream),
		cmocka_unit_test(test_damaged_segment),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
