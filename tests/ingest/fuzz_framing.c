/* fuzz_framing.c — libFuzzer target: RFC 6587 framing on arbitrary byte streams, fed in pieces
 * whose sizes come from the input itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "framing.h"

#define MAXM 512

static void on_msg(void *ctx, const char *msg, size_t len, int status)
{
	(void)msg;
	size_t *count = ctx;
	if (len > MAXM || (status != LD_FRAME_OK && status != LD_FRAME_TOO_LONG))
		abort();
	(*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t step = (size_t)(data[0] % 17) + 1;
	ld_framer *f = ld_framer_new(MAXM);
	if (!f)
		return 0;
	size_t count = 0;
	for (size_t i = 1; i < size; i += step) {
		size_t k = size - i < step ? size - i : step;
		ld_framer_feed(f, (const char *)data + i, k, on_msg, &count);
	}
	ld_framer_finish(f, on_msg, &count);
	if (ld_framer_messages(f) != count)
		abort();
	ld_framer_free(f);
	return 0;
}
