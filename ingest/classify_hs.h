/* classify_hs.h — which text format a file or sender speaks, and whether a line is a deny at all,
 * with one Hyperscan multi-pattern database.
 *
 * Contract:
 *  - ld_classifier_new() compiles the database once (process-wide use; read-only afterwards).
 *  - Scanning needs a scratch per thread: ld_classifier_scratch_new() clones the prototype
 *    (hs_clone_scratch), so threads never share one.
 *  - This is not the per-line fast path (one hs_scan per line tops out far below the field
 *    parsers); it decides the format of a sample (start of a file, first lines of a sender) and the
 *    dispatcher's cheap signatures confirm it line by line.
 */
#ifndef LD_CLASSIFY_HS_H
#define LD_CLASSIFY_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ld_log.h"
#include "ld_record.h"

typedef struct ld_classifier ld_classifier;
typedef struct ld_classify_scratch ld_classify_scratch;

ld_classifier *ld_classifier_new(ld_err *err);
void ld_classifier_free(ld_classifier *c);
ld_classify_scratch *ld_classifier_scratch_new(const ld_classifier *c, ld_err *err);
void ld_classifier_scratch_free(ld_classify_scratch *s);

/* Format of one line (enum ld_format, 0 = none); *is_drop tells whether it reads as a
 * deny/drop/reject.  When several formats match, the most specific (lowest rank) wins. */
unsigned ld_classify_line(const ld_classifier *c, ld_classify_scratch *s, const char *line,
			  size_t len, bool *is_drop);

typedef struct ld_classify_result {
	unsigned format;                 /* majority format of the sample, 0 = none */
	uint32_t lines;                  /* lines looked at */
	uint32_t per_format[LD_FMT_COUNT_];
	uint32_t drops[LD_FMT_COUNT_];
} ld_classify_result;

/* Classifies up to max_lines lines of buf (a sample; the last partial line is ignored unless it is
 * the only one). */
void ld_classify_sample(const ld_classifier *c, ld_classify_scratch *s, const char *buf, size_t len,
			uint32_t max_lines, ld_classify_result *res);

#endif
