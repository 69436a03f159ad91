/* test_classify.c — the Hyperscan format/verdict classifier on lines of every format
 * (fixtures/classify.txt), per line, per sample, and with one scratch per thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classify_hs.h"

static const char *fixture;

typedef struct item {
	int fmt;
	bool drop;
	char *line;
} item;

static item items[256];
static int n_items;

static int load(void **state)
{
	(void)state;
	FILE *f = fopen(fixture, "r");
	if (!f)
		return -1;
	char buf[8192];
	while (fgets(buf, sizeof buf, f) && n_items < 256) {
		if (buf[0] == '#')
			continue;
		buf[strcspn(buf, "\n")] = 0;
		char *t1 = strchr(buf, '\t');
		char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2)
			continue;
		*t1 = *t2 = 0;
		items[n_items].fmt = strcmp(buf, "none") == 0 ? 0 : ld_format_from_name(buf, strlen(buf));
		items[n_items].drop = strcmp(t1 + 1, "drop") == 0;
		items[n_items].line = strdup(t2 + 1);
		n_items++;
	}
	fclose(f);
	return n_items > 0 ? 0 : -1;
}

static int unload(void **state)
{
	(void)state;
	for (int i = 0; i < n_items; i++)
		free(items[i].line);
	return 0;
}

static void test_lines(void **state)
{
	(void)state;
	ld_err err;
	ld_classifier *c = ld_classifier_new(&err);
	if (!c)
		fail_msg("%s", err.msg);
	ld_classify_scratch *s = ld_classifier_scratch_new(c, &err);
	assert_non_null(s);
	int bad = 0;
	for (int i = 0; i < n_items; i++) {
		bool drop;
		unsigned f = ld_classify_line(c, s, items[i].line, strlen(items[i].line), &drop);
		if ((int)f != items[i].fmt || (f && drop != items[i].drop)) {
			fprintf(stderr, "got %s/%s, expected %s/%s: %.120s\n", f ? ld_format_name(f) : "none",
				drop ? "drop" : "allow",
				items[i].fmt ? ld_format_name((unsigned)items[i].fmt) : "none",
				items[i].drop ? "drop" : "allow", items[i].line);
			bad++;
		}
	}
	ld_classifier_scratch_free(s);
	ld_classifier_free(c);
	assert_int_equal(bad, 0);
}

static void test_sample(void **state)
{
	(void)state;
	ld_err err;
	ld_classifier *c = ld_classifier_new(&err);
	ld_classify_scratch *s = ld_classifier_scratch_new(c, &err);
	/* a file of NSX lines with one netfilter line: the majority wins */
	char buf[8192];
	size_t n = 0;
	bool one_ipt = false;
	for (int i = 0; i < n_items; i++) {
		bool ipt = items[i].fmt == LD_FMT_IPTABLES && !one_ipt;
		if (items[i].fmt == LD_FMT_NSX || ipt)
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\n", items[i].line);
		one_ipt |= ipt;
	}
	ld_classify_result r;
	ld_classify_sample(c, s, buf, n, 1000, &r);
	assert_int_equal(r.format, LD_FMT_NSX);
	assert_int_equal(r.per_format[LD_FMT_IPTABLES], 1);
	assert_true(r.drops[LD_FMT_NSX] >= 1);
	/* max_lines bounds the work */
	ld_classify_sample(c, s, buf, n, 1, &r);
	assert_int_equal(r.lines, 1);
	ld_classifier_scratch_free(s);
	ld_classifier_free(c);
}

typedef struct targ {
	const ld_classifier *c;
	int errors;
} targ;

static void *worker(void *p)
{
	targ *t = p;
	ld_err err;
	ld_classify_scratch *s = ld_classifier_scratch_new(t->c, &err);
	if (!s) {
		t->errors++;
		return NULL;
	}
	for (int round = 0; round < 200; round++)
		for (int i = 0; i < n_items; i++) {
			bool drop;
			unsigned f = ld_classify_line(t->c, s, items[i].line, strlen(items[i].line), &drop);
			if ((int)f != items[i].fmt)
				t->errors++;
		}
	ld_classifier_scratch_free(s);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	ld_err err;
	ld_classifier *c = ld_classifier_new(&err);
	targ a[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		a[i].c = c;
		a[i].errors = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(a[i].errors, 0);
	}
	ld_classifier_free(c);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	fixture = argv[1];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, load, unload);
}
