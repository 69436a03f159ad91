/* fuzz_inventory.c — libFuzzer target: arbitrary bytes as an inventory CSV. */
#include <stdint.h>
#include <stdio.h>

#include "ld_inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	ld_err err;
	ld_inventory *inv = ld_inventory_read(f, "fuzz", &err);
	fclose(f);
	if (inv) {
		/* exercise lookups over whatever was parsed */
		for (uint32_t i = 0; i < inv->n_rows && i < 64; i++) {
			(void)ld_inventory_lookup(inv, &inv->rows[i].ip, 0);
			(void)ld_inventory_lookup(inv, &inv->rows[i].ip, INT64_MAX);
		}
		ld_inventory_free(inv);
	}
	return 0;
}
