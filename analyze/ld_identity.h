/* ld_identity.h — address interning and desktop identity (internal to the engine).
 *
 * Contract: every address the engine meets is interned once into a dense id with its
 * classification (internal unicast / noise / outside) and its inventory rows, so the per-record
 * path is two hash lookups.  An identity is what a host's state is keyed by: an inventory desktop
 * (all its addresses, v4 and v6, inside their validity windows) or, for addresses the inventory
 * does not cover, the address itself — split into a new identity when OUT records from it start to
 * carry a different NSX vif (another VM now holds the address).
 */
#ifndef LD_IDENTITY_H
#define LD_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "ld_analyze_config.h"
#include "ld_inventory.h"

#define LD_ID_NONE UINT32_MAX

enum ld_addr_kind { LD_AK_OUTSIDE = 0, LD_AK_INTERNAL = 1, LD_AK_NOISE = 2 };

typedef struct ld_addr_info {
	ld_addr a;
	uint8_t kind;       /* enum ld_addr_kind */
	uint8_t allow;      /* inside allow_scanners */
	uint32_t inv_first, inv_n;
	uint32_t dyn_ident; /* current address-keyed identity, LD_ID_NONE until needed */
	uint32_t dyn_vif;
	uint32_t last_ident; /* identity this address resolved to last (prefetch hint only) */
	uint32_t last_host;  /* scoring state its last scored record used (prefetch hint only) */
	uint32_t static_ident; /* the one inventory desktop holding it at all times, or NONE */
	uint32_t nrec;         /* noise records counted here, not yet folded into static_ident */
	int64_t nfirst, nlast;
	uint32_t h;         /* non-zero hash of the address: table keys must not depend on the
			     * order addresses were interned in (live and batch intern differently) */
} ld_addr_info;

typedef struct ld_ident {
	uint32_t desktop;   /* inventory desktop or LD_ID_NONE */
	uint32_t addr;      /* address id for address-keyed identities */
	uint32_t vif;
	uint32_t host;      /* index into the engine's host array, LD_ID_NONE until it scans */
	uint32_t last_addr; /* address id of its last source address */
	uint8_t has_v4, has_v6;
	uint32_t records, noise;       /* east-west drops from it; of which noise */
	int64_t first_seen, last_seen; /* valid when records > 0 */
	char *name;         /* address-keyed identities: the IP text */
} ld_ident;

typedef struct ld_idtab {
	const ld_analyze_config *cfg;
	const ld_inventory *inv;
	ld_addr_info *addrs;
	uint32_t n_addrs, cap_addrs;
	uint32_t *slots; /* addr id + 1 */
	uint32_t n_slots;
	ld_ident *ids;
	uint32_t n_ids, cap_ids;
} ld_idtab;

bool ld_idtab_init(ld_idtab *t, const ld_analyze_config *cfg, const ld_inventory *inv);
void ld_idtab_free(ld_idtab *t);
/* Address id (interning on first sight); LD_ID_NONE on OOM. */
uint32_t ld_idtab_addr(ld_idtab *t, const ld_addr *a);
/* Address id without interning; LD_ID_NONE when never seen. */
uint32_t ld_idtab_find(const ld_idtab *t, const ld_addr *a);
/* Identity of address id at ts.  vif_out != 0 is the vif of an OUT record from this address
 * (splits address-keyed identities).  create=false never allocates (returns LD_ID_NONE). */
uint32_t ld_idtab_ident(ld_idtab *t, uint32_t addr, int64_t ts, uint32_t vif_out, bool create);

#endif
