/* cmd_import.c — `logdrop import`: parse drop-log files (plain, .gz, .zst, - for stdin) into the
 * store and print what happened to every line: stored, not a drop, skipped, malformed by reason.
 * Malformed lines do not fail the command (they are in DIR/deadletter/); an unreadable file does. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "import.h"
#include "ld_log.h"
#include "ld_parse.h"
#include "ld_time.h"
#include "ld_writer.h"
#include "tz_local.h"

static const char usage_text[] =
	"usage: logdrop import --data DIR [--format F] [--reporter NAME] [--year Y] [--tz ZONE]\n"
	"                      [--keep-raw] [--keep-allowed] [--assume-drop] [--threads N] FILE...\n"
	"\n"
	"Parses firewall drop logs into the store in DIR.  FILE may be plain text, .gz or .zst\n"
	"(recognised by content) or - for standard input.\n"
	"\n"
	"  --data DIR       store directory (created if missing)\n"
	"  --format F       nsx, iptables, asa, panos, fortigate, pfsense, srx, winfw\n"
	"                   (default: detected per file, and per line when a file mixes formats)\n"
	"  --reporter NAME  reporter for lines that name none\n"
	"  --year Y         year for timestamps without one (default: current year, or the previous\n"
	"                   one when that would put a record more than a day in the future)\n"
	"  --tz ZONE        IANA zone of formats that log local time (Windows Firewall...)\n"
	"  --keep-raw       store each record's original line\n"
	"  --keep-allowed   also store allowed/pass records (evidence of east-west reach)\n"
	"  --assume-drop    records without a stated verdict are drops\n"
	"  --threads N      parser threads (default: all CPUs)\n"
	"\n"
	"Malformed lines are counted by reason and kept verbatim in DIR/deadletter/rejects-<n>.log.\n"
	"Exit status: 0 done (even with malformed lines), 1 a file could not be read or the store\n"
	"failed, 2 usage error.\n";

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return false;
	*out = v;
	return true;
}

static void print_summary(const ld_import_stats *s, const char *dl_path)
{
	printf("lines read:     %llu (%llu files, %.1f MB)\n", (unsigned long long)s->lines,
	       (unsigned long long)s->files, (double)s->bytes / 1e6);
	printf("stored:         %llu\n", (unsigned long long)s->stored);
	printf("drops:          %llu\n", (unsigned long long)s->drops);
	printf("not a drop:     %llu\n", (unsigned long long)s->not_drop);
	printf("skipped:        %llu\n", (unsigned long long)s->skipped);
	printf("malformed:      %llu", (unsigned long long)s->rejected);
	if (s->rejected) {
		const char *sep = " (";
		for (unsigned r = 1; r < LD_REJ_COUNT_; r++) {
			if (!s->rej[r])
				continue;
			printf("%s%s %llu", sep, ld_reject_name(r), (unsigned long long)s->rej[r]);
			sep = ", ";
		}
		printf(")");
	}
	printf("\n");
	for (unsigned f = 1; f < LD_FMT_COUNT_; f++)
		if (s->by_format[f])
			printf("format %-9s %llu\n", ld_format_name(f),
			       (unsigned long long)s->by_format[f]);
	if (dl_path && dl_path[0])
		printf("dead-letter:    %s\n", dl_path);
}

int cmd_import(int argc, char **argv)
{
	enum { O_DATA = 1, O_FORMAT, O_REPORTER, O_YEAR, O_TZ, O_KEEP_RAW, O_KEEP_ALLOWED,
	       O_ASSUME_DROP, O_THREADS, O_HELP };
	static const struct option longopts[] = {
		{"data", required_argument, NULL, O_DATA},
		{"format", required_argument, NULL, O_FORMAT},
		{"reporter", required_argument, NULL, O_REPORTER},
		{"year", required_argument, NULL, O_YEAR},
		{"tz", required_argument, NULL, O_TZ},
		{"keep-raw", no_argument, NULL, O_KEEP_RAW},
		{"keep-allowed", no_argument, NULL, O_KEEP_ALLOWED},
		{"assume-drop", no_argument, NULL, O_ASSUME_DROP},
		{"threads", required_argument, NULL, O_THREADS},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *data = NULL, *tz = NULL, *reporter = NULL;
	ld_import_opts io;
	memset(&io, 0, sizeof io);
	unsigned long v;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_DATA:
			data = optarg;
			break;
		case O_FORMAT: {
			int f = ld_format_from_name(optarg, strlen(optarg));
			if (f <= 0 || f == LD_FMT_IPFIX || f == LD_FMT_PCAP || f == LD_FMT_CSV)
				return cli_usage_error("import", "--format %s: not a text log format",
						       optarg);
			io.parse.forced_format = f;
			break;
		}
		case O_REPORTER:
			reporter = optarg;
			break;
		case O_YEAR:
			if (!parse_uint(optarg, 9999, &v) || v < 1970)
				return cli_usage_error("import", "--year %s: expected a year", optarg);
			io.parse.year_override = (int)v;
			break;
		case O_TZ:
			tz = optarg;
			break;
		case O_KEEP_RAW:
			io.parse.keep_raw = true;
			break;
		case O_KEEP_ALLOWED:
			io.keep_allowed = true;
			break;
		case O_ASSUME_DROP:
			io.assume_drop = true;
			break;
		case O_THREADS:
			if (!parse_uint(optarg, 256, &v) || v == 0)
				return cli_usage_error("import", "--threads %s: expected 1..256", optarg);
			io.threads = (unsigned)v;
			break;
		case O_HELP:
		case 'h':
			fputs(usage_text, stdout);
			return LD_EXIT_OK;
		default:
			return cli_usage_error("import", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!data)
		return cli_usage_error("import", "--data DIR is required");
	if (optind >= argc)
		return cli_usage_error("import", "no input FILE given (use - for standard input)");

	if (tz && !ld_tz_get(tz))
		return cli_usage_error("import", "--tz %s: unknown time zone (IANA name such as "
						 "Europe/Berlin)", tz);
	io.parse.now_ns = ld_now_ns();
	io.parse.local_tz = tz;
	if (reporter)
		io.parse.reporter = ld_str_c(reporter);
	char dl_dir[PATH_MAX];
	snprintf(dl_dir, sizeof dl_dir, "%s/deadletter", data);
	io.deadletter_dir = dl_dir;

	ld_err err = {{0}};
	ld_store_opts so;
	ld_store_opts_default(&so);
	so.keep_raw = io.parse.keep_raw;
	ld_writer *w = ld_writer_open(data, &so, &err);
	if (!w)
		return cli_runtime_error("import", "%s", err.msg);
	ld_import *im = ld_import_new(w, &io, &err);
	if (!im) {
		ld_err e2;
		ld_writer_close(w, &e2);
		return cli_runtime_error("import", "%s", err.msg);
	}
	int status = LD_EXIT_OK;
	for (int i = optind; i < argc; i++) {
		if (ld_import_file(im, argv[i], &err) != 0) {
			fprintf(stderr, "logdrop import: %s\n", err.msg);
			status = LD_EXIT_RUNTIME;
		}
	}
	ld_import_stats st;
	ld_import_stats_get(im, &st);
	char dl_path[PATH_MAX + 64];
	snprintf(dl_path, sizeof dl_path, "%s", ld_import_deadletter_path(im));
	ld_import_free(im);
	if (ld_writer_close(w, &err) != 0) {
		fprintf(stderr, "logdrop import: %s: %s\n", data, err.msg);
		status = LD_EXIT_RUNTIME;
	}
	print_summary(&st, dl_path);
	return status;
}
