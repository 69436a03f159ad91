/* cmd_demo.c — `logdrop demo`: generate a small VDI estate with one infected desktop as NSX DFW
 * syslog, import it through the normal pipeline, and print the suspect ranking. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "estate_gen.h"
#include "import.h"
#include "ld_analyze.h"
#include "ld_batch.h"
#include "ld_report.h"
#include "ld_time.h"
#include "ld_writer.h"

static const char usage_text[] =
	"usage: logdrop demo [--dir DIR] [--desktops N] [--seed S]\n"
	"\n"
	"Generates a synthetic VDI estate (benign Windows chatter, an allow-listed helpdesk jump\n"
	"host and SCCM server, and one desktop infected with an SMB worm) as NSX DFW packet-log\n"
	"syslog, imports it into DIR/data like `logdrop import`, and ranks the suspects like\n"
	"`logdrop suspects`.\n"
	"\n"
	"  --dir DIR       where to write estate.log, inventory.csv, truth.csv and data/\n"
	"                  (default: a new directory under $TMPDIR or /tmp)\n"
	"  --desktops N    number of desktops (default 60, 20..5000)\n"
	"  --seed S        random seed (default 1); the same seed gives the same estate\n";

static int write_file(const char *path, const ld_estate *es,
		      int (*fn)(const ld_estate *, FILE *), ld_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		ld_err_errno(err, "%s", path);
		return -1;
	}
	int rc = fn(es, f);
	if (fclose(f) != 0 || rc != 0) {
		ld_err_errno(err, "%s: write", path);
		return -1;
	}
	return 0;
}

static bool parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int cmd_demo(int argc, char **argv)
{
	enum { O_DIR = 1, O_DESKTOPS, O_SEED, O_HELP };
	static const struct option longopts[] = {
		{"dir", required_argument, NULL, O_DIR},
		{"desktops", required_argument, NULL, O_DESKTOPS},
		{"seed", required_argument, NULL, O_SEED},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	unsigned long desktops = 60, seed = 1;
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_DIR:
			dir = optarg;
			break;
		case O_DESKTOPS:
			if (!parse_ulong(optarg, 20, 5000, &desktops))
				return cli_usage_error("demo", "--desktops %s: expected 20..5000", optarg);
			break;
		case O_SEED:
			if (!parse_ulong(optarg, 0, ULONG_MAX - 1, &seed))
				return cli_usage_error("demo", "--seed %s: expected a number", optarg);
			break;
		case O_HELP:
		case 'h':
			fputs(usage_text, stdout);
			return LD_EXIT_OK;
		default:
			return cli_usage_error("demo", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);

	char tmpl[PATH_MAX];
	if (!dir) {
		const char *t = getenv("TMPDIR");
		snprintf(tmpl, sizeof tmpl, "%s/logdrop-demo-XXXXXX", t && *t ? t : "/tmp");
		if (!mkdtemp(tmpl))
			return cli_runtime_error("demo", "%s: %s", tmpl, strerror(errno));
		dir = tmpl;
	} else if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		return cli_runtime_error("demo", "%s: %s", dir, strerror(errno));
	}

	ld_err err = {{0}};
	ld_estate_opts o;
	ld_estate_opts_default(&o);
	o.seed = seed;
	o.desktops = (uint32_t)desktops;
	o.start_ns = ld_time_from_civil(2026, 11, 2, 8, 0, 0, 0);
	o.duration_ns = 4 * 3600 * LD_NS_PER_SEC;
	o.scenarios = 1u << LD_SC_WANNACRY | 1u << LD_SC_JUMPHOST;
	ld_estate *es = ld_estate_generate(&o, &err);
	if (!es)
		return cli_runtime_error("demo", "%s", err.msg);

	if (strlen(dir) > PATH_MAX - 32) {
		ld_estate_free(es);
		return cli_usage_error("demo", "--dir: path too long");
	}
	char logp[PATH_MAX + 32], invp[PATH_MAX + 32], truthp[PATH_MAX + 32], datap[PATH_MAX + 32],
		dlp[PATH_MAX + 32];
	snprintf(logp, sizeof logp, "%s/estate.log", dir);
	snprintf(invp, sizeof invp, "%s/inventory.csv", dir);
	snprintf(truthp, sizeof truthp, "%s/truth.csv", dir);
	snprintf(datap, sizeof datap, "%s/data", dir);
	snprintf(dlp, sizeof dlp, "%s/data/deadletter", dir);
	if (write_file(logp, es, ld_estate_write_nsx, &err) != 0 ||
	    write_file(invp, es, ld_estate_write_inventory, &err) != 0 ||
	    write_file(truthp, es, ld_estate_write_truth, &err) != 0) {
		ld_estate_free(es);
		return cli_runtime_error("demo", "%s", err.msg);
	}
	printf("Generated %u desktops, %llu NSX DFW log lines: %s\n", o.desktops,
	       (unsigned long long)ld_estate_count(es), logp);
	printf("Inventory: %s   ground truth: %s\n", invp, truthp);
	ld_estate_free(es);

	/* import exactly like `logdrop import --data DIR/data estate.log` */
	ld_store_opts so;
	ld_store_opts_default(&so);
	ld_writer *w = ld_writer_open(datap, &so, &err);
	if (!w)
		return cli_runtime_error("demo", "%s", err.msg);
	ld_import_opts io;
	memset(&io, 0, sizeof io);
	io.parse.now_ns = ld_now_ns();
	io.deadletter_dir = dlp;
	ld_import *im = ld_import_new(w, &io, &err);
	if (!im) {
		ld_err e2;
		ld_writer_close(w, &e2);
		return cli_runtime_error("demo", "%s", err.msg);
	}
	int rc = ld_import_file(im, logp, &err);
	ld_import_stats st;
	ld_import_stats_get(im, &st);
	ld_import_free(im);
	ld_err e3;
	if (ld_writer_close(w, &e3) != 0 && rc == 0) {
		err = e3;
		rc = -1;
	}
	if (rc != 0)
		return cli_runtime_error("demo", "%s", err.msg);
	printf("Imported into %s: %llu records stored, %llu malformed lines\n\n", datap,
	       (unsigned long long)st.stored, (unsigned long long)st.rejected);

	/* rank exactly like `logdrop suspects --data DIR/data --inventory DIR/inventory.csv` */
	ld_analyze_config *cfg = malloc(sizeof *cfg);
	if (!cfg)
		return cli_runtime_error("demo", "out of memory");
	ld_analyze_config_default(cfg);
	ld_inventory *inv = ld_inventory_load(invp, &err);
	int status = LD_EXIT_OK;
	ld_engine *e = inv ? ld_engine_new(cfg, inv, &err) : NULL;
	ld_batch_stats bs;
	ld_report rep;
	memset(&rep, 0, sizeof rep);
	if (!e || ld_batch_run(e, datap, INT64_MIN, INT64_MAX, &bs, &err) != 0 ||
	    ld_report_build(e, &rep, &err) != 0) {
		status = cli_runtime_error("demo", "%s", err.msg);
	} else {
		ld_report_print_table(stdout, &rep, 20, false);
		printf("\nNext: logdrop suspects --data %s --inventory %s [--format json]\n", datap,
		       invp);
	}
	ld_report_free(&rep);
	ld_engine_free(e);
	ld_inventory_free(inv);
	free(cfg);
	return status;
}
