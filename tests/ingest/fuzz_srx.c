/* fuzz_srx.c — libFuzzer target of the srx field parser (ingest/parse_srx.c).
 *
 * The input is split into lines; each line goes through the syslog header parser and then
 * ld_parse_srx() directly (so the parser sees bytes the dispatcher would have filtered: control
 * characters, over-long lines), and once more through ld_parse_line() with the format forced.
 * One stream state is kept across lines, as in a file.  Invariants checked: a reject has a
 * reason, and every string of a record lies inside the line or the options.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fw_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_fw_lines(data, size, LD_FMT_SRX, ld_parse_srx, ld_sig_srx);
	return 0;
}
