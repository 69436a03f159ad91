/* cmd_suspects.c — `logdrop suspects`: score every host's east-west drops in the store, rank the
 * suspects with explanations, group incidents and estimate spread order. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "ld_analyze.h"
#include "ld_analyze_config.h"
#include "ld_batch.h"
#include "ld_inventory.h"
#include "ld_report.h"
#include "ld_time.h"

static const char usage_text[] =
	"usage: logdrop suspects --data DIR [--inventory CSV] [--config INI] [--from T] [--to T]\n"
	"                        [--top N] [--all] [--format table|json]\n"
	"\n"
	"Scores each desktop's blocked east-west connection attempts in event time (first contacts,\n"
	"port classes, fast/medium/slow leaky buckets, vertical rule), ranks the suspects with the\n"
	"reasons, groups alerts into incidents with patient-zero candidates and spread order.\n"
	"\n"
	"  --data DIR        store directory (or a copied archive; read-only)\n"
	"  --inventory CSV   ip,name,user,pool,role,valid_from,valid_to (overrides [analyze] inventory)\n"
	"  --config INI      [analyze] settings (internal_networks, allow_scanners, tiers...)\n"
	"  --from T, --to T  RFC 3339 or relative (-2h, now); default: the whole store\n"
	"  --top N           at most N rows (default 20; 0 = no limit)\n"
	"  --all             also list hosts that scored below suspect\n"
	"  --format F        table (default) or json (JSON Lines, one object per ranked host)\n"
	"\n"
	"Exit status: 0 done, 1 the store, inventory or config could not be read, 2 usage error.\n";

int cmd_suspects(int argc, char **argv)
{
	enum { O_DATA = 1, O_INV, O_CONFIG, O_FROM, O_TO, O_TOP, O_ALL, O_FORMAT, O_HELP };
	static const struct option longopts[] = {
		{"data", required_argument, NULL, O_DATA},
		{"inventory", required_argument, NULL, O_INV},
		{"config", required_argument, NULL, O_CONFIG},
		{"from", required_argument, NULL, O_FROM},
		{"to", required_argument, NULL, O_TO},
		{"top", required_argument, NULL, O_TOP},
		{"all", no_argument, NULL, O_ALL},
		{"format", required_argument, NULL, O_FORMAT},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	static const char *const formats[] = {"table", "json", NULL};
	const char *data = NULL, *inv_path = NULL, *config = NULL;
	int64_t from = INT64_MIN, to = INT64_MAX;
	unsigned long top = 20;
	bool all = false;
	int format = 0;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_DATA:
			data = optarg;
			break;
		case O_INV:
			inv_path = optarg;
			break;
		case O_CONFIG:
			config = optarg;
			break;
		case O_FROM:
			if (!cli_parse_time(optarg, &from))
				return cli_usage_error("suspects", "--from %s: expected RFC 3339 or -2h",
						       optarg);
			break;
		case O_TO:
			if (!cli_parse_time(optarg, &to))
				return cli_usage_error("suspects", "--to %s: expected RFC 3339 or -2h",
						       optarg);
			break;
		case O_TOP: {
			char *end;
			errno = 0;
			top = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || top > 10000000)
				return cli_usage_error("suspects", "--top %s: expected a count", optarg);
			break;
		}
		case O_ALL:
			all = true;
			break;
		case O_FORMAT:
			format = cli_pick(optarg, formats);
			if (format < 0)
				return cli_usage_error("suspects", "--format %s: expected table or json",
						       optarg);
			break;
		case O_HELP:
		case 'h':
			fputs(usage_text, stdout);
			return LD_EXIT_OK;
		default:
			return cli_usage_error("suspects", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!data)
		return cli_usage_error("suspects", "--data DIR is required");
	if (optind < argc)
		return cli_usage_error("suspects", "unexpected argument '%s'", argv[optind]);
	if (from >= to)
		return cli_usage_error("suspects", "--from must be before --to");

	ld_err err = {{0}};
	ld_analyze_config *cfg = malloc(sizeof *cfg);
	if (!cfg)
		return cli_runtime_error("suspects", "out of memory");
	ld_analyze_config_default(cfg);
	if (config && !ld_analyze_config_load(cfg, config, &err)) {
		free(cfg);
		return cli_runtime_error("suspects", "%s", err.msg);
	}
	if (!inv_path && cfg->inventory[0])
		inv_path = cfg->inventory;
	ld_inventory *inv = NULL;
	if (inv_path) {
		inv = ld_inventory_load(inv_path, &err);
		if (!inv) {
			free(cfg);
			return cli_runtime_error("suspects", "%s", err.msg);
		}
	}
	int status = LD_EXIT_OK;
	ld_engine *e = ld_engine_new(cfg, inv, &err);
	ld_batch_stats bs;
	ld_report rep;
	memset(&rep, 0, sizeof rep);
	if (!e || ld_batch_run(e, data, from, to, &bs, &err) != 0 ||
	    ld_report_build(e, &rep, &err) != 0) {
		status = cli_runtime_error("suspects", "%s", err.msg);
	} else {
		if (format == 1) {
			ld_report_print_json(stdout, &rep, top, all);
		} else {
			char a[LD_TIME_STRLEN] = "-", b[LD_TIME_STRLEN] = "-";
			if (bs.fed) {
				ld_time_format_ms(bs.min_ts, a);
				ld_time_format_ms(bs.max_ts, b);
			}
			ld_engine_stats es;
			ld_engine_stats_get(e, &es);
			printf("Scored %llu drop records (%s .. %s): %llu east-west, %llu attempts after "
			       "de-duplication, %llu hosts.%s\n\n",
			       (unsigned long long)bs.fed, a, b, (unsigned long long)es.east_west,
			       (unsigned long long)es.attempts, (unsigned long long)es.hosts,
			       inv ? "" : " No inventory: hosts are named by address.");
			ld_report_print_table(stdout, &rep, top, all);
			if (bs.damaged)
				printf("\nwarning: %llu damaged store segment(s) skipped\n",
				       (unsigned long long)bs.damaged);
		}
		if (fflush(stdout) != 0)
			status = cli_runtime_error("suspects", "writing output: %s", strerror(errno));
	}
	ld_report_free(&rep);
	ld_engine_free(e);
	ld_inventory_free(inv);
	free(cfg);
	return status;
}
