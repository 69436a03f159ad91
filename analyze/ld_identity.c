/* ld_identity.c — address interning and desktop identity. */
#include "ld_identity.h"

#include <stdlib.h>
#include <string.h>

static uint32_t addr_hash(const ld_addr *a)
{
	uint64_t x, y;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	uint64_t h = (x * 0x9E3779B97F4A7C15ull) ^ (y + 0x632BE59BD9B4E019ull);
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

/* x.x.x.255 is the broadcast address of every /24 and smaller subnet, the usual desktop pool
 * size; in a larger pool it is an ordinary host, which only the inventory can tell. */
static bool is_likely_subnet_broadcast(const ld_addr *a)
{
	return ld_addr_is_v4(a) && (ld_addr_v4(a) & 0xFF) == 0xFF;
}

static bool is_noise(const ld_addr *a)
{
	if (ld_addr_is_v4(a)) {
		uint32_t v = ld_addr_v4(a);
		if ((v >> 28) == 0xE)   /* 224.0.0.0/4 multicast */
			return true;
		if (v == 0xFFFFFFFFu) /* limited broadcast */
			return true;
		if ((v >> 16) == 0xA9FE) /* 169.254.0.0/16 link-local */
			return true;
		if ((v >> 24) == 0 || (v >> 24) == 127)
			return true;
		return false;
	}
	if (a->b[0] == 0xFF) /* ff00::/8 multicast */
		return true;
	if (a->b[0] == 0xFE && (a->b[1] & 0xC0) == 0x80) /* fe80::/10 link-local */
		return true;
	static const uint8_t zero[15] = {0};
	if (memcmp(a->b, zero, 15) == 0) /* :: and ::1 */
		return true;
	return false;
}

bool ld_idtab_init(ld_idtab *t, const ld_analyze_config *cfg, const ld_inventory *inv)
{
	memset(t, 0, sizeof *t);
	t->cfg = cfg;
	t->inv = inv;
	t->n_slots = 1024;
	t->slots = calloc(t->n_slots, sizeof *t->slots);
	if (!t->slots)
		return false;
	uint32_t nd = inv ? inv->n_desktops : 0;
	t->cap_ids = nd + 256;
	t->ids = calloc(t->cap_ids, sizeof *t->ids);
	if (!t->ids)
		return false;
	for (uint32_t i = 0; i < nd; i++) {
		t->ids[i].desktop = i;
		t->ids[i].addr = LD_ID_NONE;
		t->ids[i].host = LD_ID_NONE;
		t->ids[i].last_addr = LD_ID_NONE;
	}
	t->n_ids = nd;
	return true;
}

void ld_idtab_free(ld_idtab *t)
{
	for (uint32_t i = 0; i < t->n_ids; i++)
		free(t->ids[i].name);
	free(t->ids);
	free(t->addrs);
	free(t->slots);
	memset(t, 0, sizeof *t);
}

static bool grow_slots(ld_idtab *t)
{
	uint32_t ns = t->n_slots * 2;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return false;
	for (uint32_t i = 0; i < t->n_addrs; i++) {
		uint32_t j = addr_hash(&t->addrs[i].a) & (ns - 1);
		while (s[j])
			j = (j + 1) & (ns - 1);
		s[j] = i + 1;
	}
	free(t->slots);
	t->slots = s;
	t->n_slots = ns;
	return true;
}

uint32_t ld_idtab_find(const ld_idtab *t, const ld_addr *a)
{
	uint32_t mask = t->n_slots - 1;
	for (uint32_t j = addr_hash(a) & mask, k = 0; k < t->n_slots; k++, j = (j + 1) & mask) {
		uint32_t v = t->slots[j];
		if (!v)
			return LD_ID_NONE;
		if (ld_addr_eq(&t->addrs[v - 1].a, a))
			return v - 1;
	}
	return LD_ID_NONE;
}

uint32_t ld_idtab_addr(ld_idtab *t, const ld_addr *a)
{
	uint32_t mask = t->n_slots - 1;
	uint32_t j = addr_hash(a) & mask;
	for (;;) {
		uint32_t v = t->slots[j];
		if (!v)
			break;
		if (ld_addr_eq(&t->addrs[v - 1].a, a))
			return v - 1;
		j = (j + 1) & mask;
	}
	if ((t->n_addrs + 1) * 2 > t->n_slots) {
		if (!grow_slots(t))
			return LD_ID_NONE;
		return ld_idtab_addr(t, a);
	}
	if (t->n_addrs == t->cap_addrs) {
		uint32_t nc = t->cap_addrs ? t->cap_addrs * 2 : 512;
		ld_addr_info *na = realloc(t->addrs, nc * sizeof *na);
		if (!na)
			return LD_ID_NONE;
		t->addrs = na;
		t->cap_addrs = nc;
	}
	uint32_t id = t->n_addrs++;
	ld_addr_info *ai = &t->addrs[id];
	memset(ai, 0, sizeof *ai);
	ai->a = *a;
	ai->dyn_ident = LD_ID_NONE;
	ai->last_ident = LD_ID_NONE;
	ai->last_host = LD_ID_NONE;
	ai->h = addr_hash(a) | 1;
	ai->static_ident = LD_ID_NONE;
	if (t->inv) {
		ai->inv_n = ld_inventory_rows_of(t->inv, a, &ai->inv_first);
		const ld_inv_row *r = &t->inv->rows[ai->inv_first];
		if (ai->inv_n == 1 && r->from == INT64_MIN && r->to == INT64_MAX)
			ai->static_ident = r->desktop;
	}
	if (is_noise(a) || (is_likely_subnet_broadcast(a) && ai->inv_n == 0))
		ai->kind = LD_AK_NOISE;
	else {
		ai->kind = LD_AK_OUTSIDE;
		for (unsigned i = 0; i < t->cfg->n_internal; i++)
			if (ld_prefix_contains(&t->cfg->internal[i], a)) {
				ai->kind = LD_AK_INTERNAL;
				break;
			}
	}
	for (unsigned i = 0; i < t->cfg->n_scanners; i++)
		if (ld_prefix_contains(&t->cfg->scanners[i], a))
			ai->allow = 1;
	t->slots[j] = id + 1;
	return id;
}

static uint32_t new_ident(ld_idtab *t, uint32_t addr, uint32_t vif)
{
	if (t->n_ids == t->cap_ids) {
		uint32_t nc = t->cap_ids * 2;
		ld_ident *ni = realloc(t->ids, nc * sizeof *ni);
		if (!ni)
			return LD_ID_NONE;
		t->ids = ni;
		t->cap_ids = nc;
	}
	ld_ident *id = &t->ids[t->n_ids];
	memset(id, 0, sizeof *id);
	id->desktop = LD_ID_NONE;
	id->addr = addr;
	id->vif = vif;
	id->host = LD_ID_NONE;
	id->last_addr = addr;
	if (ld_addr_is_v4(&t->addrs[addr].a))
		id->has_v4 = 1;
	else
		id->has_v6 = 1;
	char buf[LD_ADDR_STRLEN];
	ld_addr_format(&t->addrs[addr].a, buf);
	id->name = strdup(buf);
	if (!id->name)
		return LD_ID_NONE;
	return t->n_ids++;
}

uint32_t ld_idtab_ident(ld_idtab *t, uint32_t addr, int64_t ts, uint32_t vif_out, bool create)
{
	ld_addr_info *ai = &t->addrs[addr];
	if (ai->inv_n) {
		const ld_inv_row *r = &t->inv->rows[ai->inv_first];
		for (uint32_t i = 0; i < ai->inv_n; i++)
			if (ts >= r[i].from && ts < r[i].to)
				return r[i].desktop;
	}
	if (ai->dyn_ident != LD_ID_NONE) {
		if (vif_out && ai->dyn_vif && vif_out != ai->dyn_vif && create) {
			uint32_t id = new_ident(t, addr, vif_out);
			if (id == LD_ID_NONE)
				return LD_ID_NONE;
			ai = &t->addrs[addr];
			ai->dyn_ident = id;
			ai->dyn_vif = vif_out;
			return id;
		}
		if (vif_out && !ai->dyn_vif) {
			ai->dyn_vif = vif_out;
			t->ids[ai->dyn_ident].vif = vif_out;
		}
		return ai->dyn_ident;
	}
	if (!create)
		return LD_ID_NONE;
	uint32_t id = new_ident(t, addr, vif_out);
	if (id == LD_ID_NONE)
		return LD_ID_NONE;
	ai = &t->addrs[addr];
	ai->dyn_ident = id;
	ai->dyn_vif = vif_out;
	return id;
}
