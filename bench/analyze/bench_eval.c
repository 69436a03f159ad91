/* bench_eval.c — the full-size evaluation: a 2 000-desktop day with every attack scenario, logdrop
 * and the anchor rules side by side.  Usage: bench_analyze_eval [DESKTOPS [SEED [HOURS]]] */
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
	eval_free(&r);
	free(cfg);
	return 0;
}
