/* ld_report.h — from engine state to a ranked suspect list with incidents and spread order.
 *
 * Contract: ld_report_build() reads a finished engine (after the last record) and produces
 *  - one ld_suspect per identity that sent east-west drops, ranked: alert, then suspect, then
 *    normal; by score within a level; with a kind label and short reasons a responder can act on;
 *  - incidents: alerted hosts grouped when one is the other's candidate infector, or when they
 *    alert on the same dominant port within outbreak_window (a probe that merely reached an
 *    already-infected host does not join two incidents);
 *    per incident the patient-zero candidates (members without a candidate infector, by onset),
 *    the spread order and the touched desktops (every peer probed by a member).
 *  Parent (candidate infector) of B: an alerted host A that probed B before B's onset and whose
 *  onset precedes B's; preferred when it used B's dominant port, then the shorter the gap.  A
 *  blocked probe did not carry the infection itself: this is precedence, and the output says so.
 */
#ifndef LD_REPORT_H
#define LD_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "ld_analyze.h"

#define LD_REASON_LEN 200

typedef struct ld_suspect {
	ld_host_summary h;
	int incident;        /* 0 = none, else 1-based incident id */
	uint32_t parent;     /* identity id or UINT32_MAX */
	int64_t parent_ts;   /* last probe parent -> this host before onset */
	uint32_t touched;    /* distinct peers in the probe graph */
	char kind[24];
	char reasons[LD_REASON_MAX][LD_REASON_LEN];
	unsigned n_reasons;
} ld_suspect;

typedef struct ld_touch {
	uint32_t ident; /* UINT32_MAX when only the address is known */
	ld_addr ip;
	uint32_t probes;
	int64_t first;
} ld_touch;

typedef struct ld_incident {
	int id;
	uint32_t *members; /* indexes into report.s, by onset */
	size_t n_members;
	uint32_t *roots; /* patient-zero candidates (indexes into report.s), by onset */
	size_t n_roots;
	ld_touch *touched; /* most-probed first */
	size_t n_touched;
	int64_t start, end;
} ld_incident;

typedef struct ld_report {
	const ld_engine *e;
	ld_suspect *s;
	size_t n;
	ld_incident *inc;
	size_t n_inc;
} ld_report;

int ld_report_build(const ld_engine *e, ld_report *r, ld_err *err);
void ld_report_free(ld_report *r);
/* Index in r->s of identity id, or -1. */
long ld_report_find(const ld_report *r, uint32_t ident);
/* Rows shown: alert and suspect (or everything with all), at most top (0 = no limit). */
void ld_report_print_table(FILE *out, const ld_report *r, size_t top, bool all);
void ld_report_print_json(FILE *out, const ld_report *r, size_t top, bool all);

#endif
