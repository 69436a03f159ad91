/* cmd_archive.c — `logdrop archive`: inspect a data directory, verify its integrity and tamper
 * evidence, apply retention, merge small segments.  info and verify never write (they work on a
 * copied archive or a read-only mount); prune and compact take the store lock. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "ld_archive.h"
#include "ld_log.h"
#include "ld_time.h"
#include "ld_writer.h"

#define DEFAULT_RETENTION "90d"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: logdrop archive (info|verify|prune|compact) --data DIR\n"
		"                       [--anchor HEAD] [--retention DUR | --before T]\n"
		"\n"
		"  info      per UTC day: segments, rows, bytes, bytes/row; unsealed journal rows;\n"
		"            time span; MANIFEST chain head (record it to anchor later verifications)\n"
		"  verify    check every segment's BLAKE2b digest and the MANIFEST hash chain; prints\n"
		"            one line per problem naming the segment (changed, truncated, missing,\n"
		"            reordered, unlisted) and exits 1 when there is any; read-only\n"
		"  prune     remove segments whose newest record is older than the retention\n"
		"            (default " DEFAULT_RETENTION ") or than --before T; recorded in the MANIFEST\n"
		"  compact   merge small segments of the same day into larger ones; recorded in the\n"
		"            MANIFEST, safe to interrupt\n"
		"\n"
		"  --data DIR        data directory (info and verify also take a read-only copy)\n"
		"  --anchor HEAD     verify: a chain head printed by info earlier must still be in\n"
		"                    the chain (a MANIFEST rewritten as a whole and hashed again\n"
		"                    passes the chain check, but loses every earlier head)\n"
		"  --retention DUR   prune: keep this much history (90s, 15m, 2h, 7d)\n"
		"  --before T        prune: drop segments entirely older than T (RFC 3339 or -30d)\n"
		"\n"
		"prune and compact refuse to run while a writer (import, the service) holds the store.\n"
		"Exit status: 0 success (verify: intact), 1 runtime failure or problems found, 2 usage.\n");
}

static void print_problem(void *ctx, const char *segment, const char *problem)
{
	long *n = ctx;
	(*n)++;
	printf("%s: %s\n", segment, problem);
}

int cmd_archive(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'},
		{"retention", required_argument, NULL, 'r'},
		{"before", required_argument, NULL, 'b'},
		{"anchor", required_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *retention = NULL, *before = NULL, *anchor = NULL;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'r': retention = optarg; break;
		case 'b': before = optarg; break;
		case 'a': anchor = optarg; break;
		case 'h': usage(stdout); return LD_EXIT_OK;
		default:
			return cli_usage_error("archive", "unknown or incomplete option '%s'",
					       argv[optind - 1]);
		}
	}
	/* the action may come before or after the options */
	const char *action = NULL;
	for (int i = optind; i < argc; i++) {
		if (action)
			return cli_usage_error("archive", "unexpected argument '%s'", argv[i]);
		action = argv[i];
	}
	static const char *const actions[] = {"info", "verify", "prune", "compact", NULL};
	if (!action)
		return cli_usage_error("archive", "missing action: info, verify, prune or compact");
	int a = cli_pick(action, actions);
	if (a < 0)
		return cli_usage_error("archive", "unknown action '%s'", action);
	if (!dir)
		return cli_usage_error("archive", "--data DIR is required");
	if ((retention || before) && a != 2)
		return cli_usage_error("archive", "--retention and --before apply to prune only");
	if (retention && before)
		return cli_usage_error("archive", "give --retention or --before, not both");
	uint8_t anchor_head[32];
	if (anchor && a != 1)
		return cli_usage_error("archive", "--anchor applies to verify only");
	if (anchor && !ld_archive_anchor_parse(anchor, anchor_head))
		return cli_usage_error("archive", "--anchor wants the 64 hex digits info prints");
	ld_err err;
	switch (a) {
	case 0: {
		ld_archive_info info;
		if (ld_archive_info_print(dir, stdout, &info, &err) != 0)
			return cli_runtime_error("archive", "%s", err.msg);
		return LD_EXIT_OK;
	}
	case 1: {
		long printed = 0;
		long n = ld_archive_verify_anchored(dir, anchor ? anchor_head : NULL, print_problem,
						    &printed, &err);
		if (n < 0)
			return cli_runtime_error("archive", "%s", err.msg);
		if (n > 0) {
			fprintf(stderr, "logdrop archive: verify found %ld problem(s) in %s\n", n, dir);
			return LD_EXIT_RUNTIME;
		}
		printf("%s: intact\n", dir);
		return LD_EXIT_OK;
	}
	case 2: {
		int64_t cut, now = ld_now_ns();
		if (before) {
			if (!cli_parse_time(before, &cut))
				return cli_usage_error("archive", "bad --before time '%s'", before);
		} else {
			int64_t keep;
			const char *r = retention ? retention : DEFAULT_RETENTION;
			if (!ld_duration_parse(r, &keep) || keep <= 0)
				return cli_usage_error("archive", "bad --retention duration '%s'", r);
			cut = now - keep;
		}
		long removed = ld_archive_prune(dir, cut, &err);
		if (removed < 0)
			return cli_runtime_error("archive", "%s", err.msg);
		char t[LD_TIME_STRLEN];
		ld_time_format_ms(cut, t);
		printf("pruned %ld segment(s) older than %s\n", removed, t);
		return LD_EXIT_OK;
	}
	default: {
		long written = ld_archive_compact(dir, NULL, &err);
		if (written < 0)
			return cli_runtime_error("archive", "%s", err.msg);
		printf("compacted: %ld segment(s) written\n", written);
		return LD_EXIT_OK;
	}
	}
}
