/* bench_eval.c — the full-size evaluation: a 2 000-desktop day with every attack scenario, logdrop
 * and the anchor rules side by side.
 * Usage: bench_analyze_eval [DESKTOPS [SEED [HOURS [OUTDIR]]]]
 * With OUTDIR the same estate is also written there as estate.log (NSX DFW syslog), inventory.csv
 * and truth.csv, for an end-to-end run through `logdrop import` and `logdrop suspects`. */
#include <stdio.h>
#include <stdlib.h>

#include "eval_harness.h"
#include "ld_time.h"

int main(int argc, char **argv)
{
	ld_estate_opts o;
	ld_estate_opts_default(&o);
	o.desktops = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2000;
	o.seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	o.duration_ns = (argc > 3 ? strtoll(argv[3], NULL, 10) : 24) * 3600 * LD_NS_PER_SEC;
	o.scenarios = LD_SC_ALL;
	ld_analyze_config *cfg = malloc(sizeof *cfg);
	if (!cfg)
		return 1;
	ld_analyze_config_default(cfg);
	eval_result r;
	ld_err err;
	if (eval_run(&o, cfg, &r, &err) != 0) {
		fprintf(stderr, "bench_analyze_eval: %s\n", err.msg);
		free(cfg);
		return 1;
	}
	eval_print(stdout, &r);
	if (argc > 4) {
		ld_estate *es = ld_estate_generate(&o, &err);
		if (!es) {
			fprintf(stderr, "bench_analyze_eval: %s\n", err.msg);
			return 1;
		}
		static const char *const names[3] = {"estate.log", "inventory.csv", "truth.csv"};
		int (*const fns[3])(const ld_estate *, FILE *) = {
			ld_estate_write_nsx, ld_estate_write_inventory, ld_estate_write_truth};
		for (int k = 0; k < 3; k++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[4], names[k]);
			FILE *f = fopen(path, "w");
			if (!f || fns[k](es, f) != 0 || fclose(f) != 0) {
				fprintf(stderr, "bench_analyze_eval: cannot write %s\n", path);
				ld_estate_free(es);
				return 1;
			}
		}
		printf("wrote %s/{estate.log,inventory.csv,truth.csv}\n", argv[4]);
		ld_estate_free(es);
	}
	eval_free(&r);
	free(cfg);
	return 0;
}
