/* ld_inventory.c — inventory CSV loading and time-aware address lookup. */
#include "ld_inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_time.h"

#define INV_MAX_FIELDS 16
#define INV_LINE_MAX 4096

ld_inventory *ld_inventory_new(void)
{
	return calloc(1, sizeof(ld_inventory));
}

void ld_inventory_free(ld_inventory *inv)
{
	if (!inv)
		return;
	for (uint32_t i = 0; i < inv->n_desktops; i++) {
		free(inv->desktops[i].name);
		free(inv->desktops[i].user);
		free(inv->desktops[i].pool);
	}
	free(inv->desktops);
	free(inv->rows);
	free(inv->name_slots);
	free(inv);
}

const char *ld_role_name(unsigned role)
{
	switch (role) {
	case LD_ROLE_SERVER:
		return "server";
	case LD_ROLE_SCANNER:
		return "scanner";
	default:
		return "desktop";
	}
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int64_t find_desktop(const ld_inventory *inv, const char *name)
{
	if (!inv->name_cap)
		return -1;
	for (uint32_t i = name_hash(name) & (inv->name_cap - 1), k = 0; k < inv->name_cap;
	     k++, i = (i + 1) & (inv->name_cap - 1)) {
		uint32_t v = inv->name_slots[i];
		if (!v)
			return -1;
		if (strcmp(inv->desktops[v - 1].name, name) == 0)
			return v - 1;
	}
	return -1;
}

static bool index_desktop(ld_inventory *inv, uint32_t d)
{
	if ((inv->n_desktops + 1) * 2 > inv->name_cap) {
		uint32_t nc = inv->name_cap ? inv->name_cap * 2 : 128;
		uint32_t *ns = calloc(nc, sizeof *ns);
		if (!ns)
			return false;
		free(inv->name_slots);
		inv->name_slots = ns;
		inv->name_cap = nc;
		for (uint32_t j = 0; j < inv->n_desktops; j++) {
			if (j == d)
				continue;
			uint32_t i = name_hash(inv->desktops[j].name) & (nc - 1);
			while (ns[i])
				i = (i + 1) & (nc - 1);
			ns[i] = j + 1;
		}
	}
	uint32_t i = name_hash(inv->desktops[d].name) & (inv->name_cap - 1);
	while (inv->name_slots[i])
		i = (i + 1) & (inv->name_cap - 1);
	inv->name_slots[i] = d + 1;
	return true;
}

bool ld_inventory_add(ld_inventory *inv, const ld_addr *ip, const char *name, const char *user,
		      const char *pool, unsigned role, int64_t from, int64_t to)
{
	int64_t d = inv->n_desktops && strcmp(inv->desktops[inv->n_desktops - 1].name, name) == 0
			    ? (int64_t)inv->n_desktops - 1
			    : -1;
	if (d < 0)
		d = find_desktop(inv, name);
	if (d < 0) {
		if (inv->n_desktops == inv->cap_desktops) {
			uint32_t nc = inv->cap_desktops ? inv->cap_desktops * 2 : 64;
			ld_inv_desktop *nd = realloc(inv->desktops, nc * sizeof *nd);
			if (!nd)
				return false;
			inv->desktops = nd;
			inv->cap_desktops = nc;
		}
		ld_inv_desktop *dk = &inv->desktops[inv->n_desktops];
		dk->name = strdup(name);
		dk->user = strdup(user ? user : "");
		dk->pool = strdup(pool ? pool : "");
		dk->role = (uint8_t)role;
		if (!dk->name || !dk->user || !dk->pool) {
			free(dk->name);
			free(dk->user);
			free(dk->pool);
			return false;
		}
		d = inv->n_desktops++;
		if (!index_desktop(inv, (uint32_t)d))
			return false;
	}
	if (inv->n_rows == inv->cap_rows) {
		uint32_t nc = inv->cap_rows ? inv->cap_rows * 2 : 64;
		ld_inv_row *nr = realloc(inv->rows, nc * sizeof *nr);
		if (!nr)
			return false;
		inv->rows = nr;
		inv->cap_rows = nc;
	}
	ld_inv_row *r = &inv->rows[inv->n_rows++];
	r->ip = *ip;
	r->desktop = (uint32_t)d;
	r->from = from;
	r->to = to;
	inv->sorted = false;
	return true;
}

static int row_cmp(const void *a, const void *b)
{
	const ld_inv_row *x = a, *y = b;
	int c = ld_addr_cmp(&x->ip, &y->ip);
	if (c)
		return c;
	return x->from < y->from ? -1 : x->from > y->from;
}

void ld_inventory_finish(ld_inventory *inv)
{
	if (inv->n_rows)
		qsort(inv->rows, inv->n_rows, sizeof *inv->rows, row_cmp);
	inv->sorted = true;
}

uint32_t ld_inventory_rows_of(const ld_inventory *inv, const ld_addr *ip, uint32_t *first)
{
	uint32_t lo = 0, hi = inv->n_rows;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ld_addr_cmp(&inv->rows[mid].ip, ip) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint32_t n = 0;
	while (lo + n < inv->n_rows && ld_addr_eq(&inv->rows[lo + n].ip, ip))
		n++;
	*first = lo;
	return n;
}

int64_t ld_inventory_lookup(const ld_inventory *inv, const ld_addr *ip, int64_t ts)
{
	uint32_t first, n = ld_inventory_rows_of(inv, ip, &first);
	for (uint32_t i = first; i < first + n; i++)
		if (ts >= inv->rows[i].from && ts < inv->rows[i].to)
			return inv->rows[i].desktop;
	return -1;
}

/* Split one CSV line in place; handles double-quoted fields with "" escapes. */
static int split_csv(char *line, char **out, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		if (n == max)
			return -1;
		char *w = p;
		out[n++] = w;
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p)
					return -1;
				if (*p == '"') {
					if (p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*w++ = *p++;
			}
			if (*p && *p != ',')
				return -1;
		} else {
			while (*p && *p != ',')
				*w++ = *p++;
		}
		char sep = *p;
		*w = 0;
		if (!sep)
			return n;
		p++;
	}
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

enum { C_IP, C_NAME, C_USER, C_POOL, C_ROLE, C_FROM, C_TO, C_N };

ld_inventory *ld_inventory_load(const char *path, ld_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		ld_err_errno(err, "%s", path);
		return NULL;
	}
	ld_inventory *inv = ld_inventory_read(f, path, err);
	fclose(f);
	return inv;
}

ld_inventory *ld_inventory_read(FILE *f, const char *path, ld_err *err)
{
	ld_inventory *inv = ld_inventory_new();
	char *line = malloc(INV_LINE_MAX);
	if (!inv || !line) {
		ld_err_set(err, "%s: out of memory", path);
		goto fail;
	}
	static const char *const names[C_N] = {"ip", "name", "user", "pool", "role", "valid_from",
					       "valid_to"};
	int col[C_N];
	for (int i = 0; i < C_N; i++)
		col[i] = -1;
	int lineno = 0;
	bool header = false;
	while (fgets(line, INV_LINE_MAX, f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == INV_LINE_MAX - 1 && line[len - 1] != '\n') {
			ld_err_set(err, "%s:%d: line too long", path, lineno);
			goto fail;
		}
		char *t = trim(line);
		if (!*t || *t == '#')
			continue;
		char *fields[INV_MAX_FIELDS];
		int nf = split_csv(t, fields, INV_MAX_FIELDS);
		if (nf < 0) {
			ld_err_set(err, "%s:%d: malformed CSV (too many fields or bad quoting)", path,
				   lineno);
			goto fail;
		}
		if (!header) {
			for (int i = 0; i < nf; i++) {
				char *h = trim(fields[i]);
				for (int c = 0; c < C_N; c++)
					if (strcasecmp(h, names[c]) == 0)
						col[c] = i;
			}
			if (col[C_IP] < 0 || col[C_NAME] < 0) {
				ld_err_set(err, "%s:%d: header must name at least the columns ip and name",
					   path, lineno);
				goto fail;
			}
			header = true;
			continue;
		}
		const char *v[C_N];
		for (int c = 0; c < C_N; c++)
			v[c] = col[c] >= 0 && col[c] < nf ? trim(fields[col[c]]) : "";
		ld_addr ip;
		if (!ld_addr_parse(&ip, v[C_IP], strlen(v[C_IP]))) {
			ld_err_set(err, "%s:%d: bad ip '%s'", path, lineno, v[C_IP]);
			goto fail;
		}
		if (!*v[C_NAME]) {
			ld_err_set(err, "%s:%d: empty name", path, lineno);
			goto fail;
		}
		unsigned role = LD_ROLE_DESKTOP;
		if (*v[C_ROLE]) {
			if (strcasecmp(v[C_ROLE], "desktop") == 0)
				role = LD_ROLE_DESKTOP;
			else if (strcasecmp(v[C_ROLE], "server") == 0)
				role = LD_ROLE_SERVER;
			else if (strcasecmp(v[C_ROLE], "scanner") == 0)
				role = LD_ROLE_SCANNER;
			else {
				ld_err_set(err, "%s:%d: role '%s' is not desktop, server or scanner",
					   path, lineno, v[C_ROLE]);
				goto fail;
			}
		}
		int64_t from = INT64_MIN, to = INT64_MAX;
		const char *tv[2] = {v[C_FROM], v[C_TO]};
		int64_t *tp[2] = {&from, &to};
		for (int k = 0; k < 2; k++) {
			if (!*tv[k])
				continue;
			size_t l = strlen(tv[k]);
			if (ld_time_parse_rfc3339(tv[k], l, tp[k], NULL) != l) {
				ld_err_set(err, "%s:%d: bad %s '%s' (RFC 3339 expected)", path, lineno,
					   names[k ? C_TO : C_FROM], tv[k]);
				goto fail;
			}
		}
		if (to <= from) {
			ld_err_set(err, "%s:%d: valid_to is not after valid_from", path, lineno);
			goto fail;
		}
		if (!ld_inventory_add(inv, &ip, v[C_NAME], v[C_USER], v[C_POOL], role, from, to)) {
			ld_err_set(err, "%s:%d: out of memory", path, lineno);
			goto fail;
		}
	}
	if (ferror(f)) {
		ld_err_errno(err, "%s: read", path);
		goto fail;
	}
	if (!header) {
		ld_err_set(err, "%s: empty inventory (no header line)", path);
		goto fail;
	}
	free(line);
	ld_inventory_finish(inv);
	return inv;
fail:
	free(line);
	ld_inventory_free(inv);
	return NULL;
}
