/* ld_inventory.h — who held which address when: the inventory CSV.
 *
 * Contract: the CSV has a header naming its columns (ip,name,user,pool,role,valid_from,valid_to in
 * any order; ip and name are required, the others optional).  Each row binds one address to one
 * desktop for [valid_from, valid_to) (open ends when empty).  Rows with the same name are one
 * desktop (its IPv4 and IPv6 addresses merge).  role is desktop, server or scanner (default
 * desktop).  Malformed rows are an error naming file and line.
 */
#ifndef LD_INVENTORY_H
#define LD_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ld_log.h"
#include "ld_record.h"

enum ld_role { LD_ROLE_DESKTOP = 0, LD_ROLE_SERVER = 1, LD_ROLE_SCANNER = 2 };

typedef struct ld_inv_desktop {
	char *name, *user, *pool;
	uint8_t role;
} ld_inv_desktop;

typedef struct ld_inv_row {
	ld_addr ip;
	uint32_t desktop;
	int64_t from, to; /* [from, to); INT64_MIN / INT64_MAX when open */
} ld_inv_row;

typedef struct ld_inventory {
	ld_inv_desktop *desktops;
	uint32_t n_desktops, cap_desktops;
	ld_inv_row *rows; /* sorted by (ip, from) after ld_inventory_finish() */
	uint32_t n_rows, cap_rows;
	bool sorted;
	uint32_t *name_slots; /* open-addressing index of desktops by name (desktop + 1, 0 = empty) */
	uint32_t name_cap;
} ld_inventory;

ld_inventory *ld_inventory_new(void);
void ld_inventory_free(ld_inventory *inv);
/* Adds one binding; creates the desktop on first sight of `name`.  Returns false on OOM. */
bool ld_inventory_add(ld_inventory *inv, const ld_addr *ip, const char *name, const char *user,
		      const char *pool, unsigned role, int64_t from, int64_t to);
/* Sort rows; must be called after the last add and before lookups. */
void ld_inventory_finish(ld_inventory *inv);
/* NULL with err "PATH:LINE: why". */
ld_inventory *ld_inventory_load(const char *path, ld_err *err);
/* The same from an open stream; `name` is used in messages. */
ld_inventory *ld_inventory_read(FILE *f, const char *name, ld_err *err);
/* Rows of one address: index of the first and count (0 when unknown). */
uint32_t ld_inventory_rows_of(const ld_inventory *inv, const ld_addr *ip, uint32_t *first);
/* Desktop holding ip at ts, or -1. */
int64_t ld_inventory_lookup(const ld_inventory *inv, const ld_addr *ip, int64_t ts);
const char *ld_role_name(unsigned role);

#endif
