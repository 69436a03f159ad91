/* eval_harness.h — generator → engine (and anchors) → scorer, per ground-truth row.
 *
 * Contract: eval_run() generates the estate described by opts, feeds every record in the
 * canonical event order to logdrop's engine and to the anchor rules (anchors.h), builds the
 * report (incidents, parents) and scores each detector against the ground truth: detection of
 * each malicious host, attempts and seconds to detect, false alerts (benign hosts alerted) per
 * 1 000 desktops per day, parent / patient-zero accuracy (logdrop only), and a combined score:
 * 100 × recall over the rows the design promises − 10 × false alerts per 1 000 desktops per day.
 */
#ifndef LD_EVAL_HARNESS_H
#define LD_EVAL_HARNESS_H

#include <stdbool.h>
#include <stdio.h>

#include "anchors.h"
#include "estate_gen.h"
#include "ld_analyze.h"

#define EVAL_DET (1 + ANCHOR_N) /* 0 = logdrop */
#define EVAL_MAX_TRUTH 64
#define EVAL_MAX_FP_NAMES 6

typedef struct eval_hit {
	bool alerted;
	int64_t first_alert;
	uint32_t attempts;
	double seconds;
} eval_hit;

typedef struct eval_result {
	ld_truth truth[EVAL_MAX_TRUTH];
	size_t n_truth;
	eval_hit hit[EVAL_DET][EVAL_MAX_TRUTH];
	uint32_t fp_hosts[EVAL_DET];
	char fp_names[EVAL_DET][EVAL_MAX_FP_NAMES][32];
	double fp_rate[EVAL_DET]; /* per 1000 desktops per day */
	double recall[EVAL_DET];  /* over rows with expect_alert */
	double combined[EVAL_DET];
	uint32_t parents_right, parents_total;
	uint32_t spurious_parents; /* infected hosts with no infector in the truth, given one */
	uint32_t independent;      /* infected hosts with no infector in the truth */
	bool patient_zero_top1, patient_zeros_found;
	bool dhcp_b_clean;
	uint32_t benign_suspects;    /* benign hosts that reached suspect (dashboard only) */
	float benign_max_score;      /* closest benign host to an alert (100 = threshold) */
	char benign_max_name[32];
	uint32_t desktops;
	double days;
	uint64_t records;
	double engine_seconds; /* feeding the engine only */
	ld_engine_stats st;
	ld_alert *alerts; /* logdrop's alerts, in order (for the driver-equality test) */
	size_t n_alerts;
} eval_result;

const char *eval_det_name(int det);
int eval_run(const ld_estate_opts *opts, const ld_analyze_config *cfg, eval_result *r,
	     ld_err *err);
void eval_free(eval_result *r);
void eval_print(FILE *out, const eval_result *r);

#endif
