/* ld_analyze_config.c — defaults and INI overrides for the [analyze] section. */
#include "ld_analyze_config.h"
#include "ld_config_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_time.h"

const char *const ld_analyze_keys[] = {
	"inventory", "internal_networks", "allow_scanners", "lateral_ports", "discovery_ports",
	"benign_ports", "weight_lateral", "weight_discovery", "weight_other", "dedupe_window",
	"novelty_horizon", "fast_leak", "fast_threshold", "medium_leak", "medium_threshold",
	"slow_leak", "slow_threshold", "vertical_window", "vertical_lateral", "vertical_any",
	"suspect_fraction", "quiet_after", "realert_after", "habitual_days", "fleet_common",
	"outbreak_window", "parent_window", NULL,
};

static const char default_nets[] = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7";
static const char default_lateral[] = "445,139,135,3389,5985,5986,22,5900,4899,23";
static const char default_discovery[] = "88,389,636,3268,3269,9389,53,80,443,8080,161,137";
/* Benign applies to destination *or* source port: unicast replies to multicast discovery
 * (LLMNR, mDNS, SSDP, NetBIOS) leave from the well-known port toward an ephemeral one. */
static const char default_benign[] = "67,68,138,546,547,1900,3702,5353,5355,5357,5358,7680,8003,"
				     "8004,17500,57621,3544,50000-50059";

/* Parse "a,b,c-d" into class marks for both TCP and UDP. */
static bool set_ports(ld_analyze_config *c, const char *list, uint8_t cls)
{
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		char *end;
		errno = 0;
		unsigned long lo = strtoul(p, &end, 10);
		if (end == p || lo > 65535)
			return false;
		unsigned long hi = lo;
		p = end;
		if (*p == '-') {
			hi = strtoul(p + 1, &end, 10);
			if (end == p + 1 || hi > 65535 || hi < lo)
				return false;
			p = end;
		}
		while (*p == ' ')
			p++;
		if (*p && *p != ',')
			return false;
		for (unsigned long v = lo; v <= hi; v++) {
			c->port_class[0][v] = cls;
			c->port_class[1][v] = cls;
		}
	}
	return true;
}

static bool set_nets(ld_prefix *out, unsigned *n, const char *list)
{
	*n = 0;
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (*n >= LD_ANALYZE_MAX_NETS || !ld_prefix_parse(&out[*n], s, (size_t)(p - s)))
			return false;
		(*n)++;
	}
	return true;
}

static void classes_default(ld_analyze_config *c)
{
	memset(c->port_class, LD_PC_OTHER, sizeof c->port_class);
	set_ports(c, default_discovery, LD_PC_DISCOVERY);
	set_ports(c, default_lateral, LD_PC_LATERAL);
	set_ports(c, default_benign, LD_PC_BENIGN);
}

void ld_analyze_config_default(ld_analyze_config *c)
{
	memset(c, 0, sizeof *c);
	set_nets(c->internal, &c->n_internal, default_nets);
	classes_default(c);
	c->weight[LD_PC_LATERAL] = 1.0f;
	c->weight[LD_PC_DISCOVERY] = 0.5f;
	c->weight[LD_PC_OTHER] = 0.25f;
	c->weight[LD_PC_BENIGN] = 0.0f;
	c->dedupe_ns = 3 * LD_NS_PER_SEC;
	c->horizon_ns = 24 * 3600 * LD_NS_PER_SEC;
	c->leak_ns[LD_TIER_FAST] = 30 * LD_NS_PER_SEC;
	c->leak_ns[LD_TIER_MEDIUM] = 300 * LD_NS_PER_SEC;
	c->leak_ns[LD_TIER_SLOW] = 3600 * LD_NS_PER_SEC;
	c->threshold[LD_TIER_FAST] = 5;
	c->threshold[LD_TIER_MEDIUM] = 8;
	c->threshold[LD_TIER_SLOW] = 12;
	c->vertical_window_ns = 300 * LD_NS_PER_SEC;
	c->vertical_lateral = 5;
	c->vertical_any = 15;
	c->suspect_fraction = 0.6f;
	c->quiet_ns = 1800 * LD_NS_PER_SEC;
	c->realert_ns = 24 * 3600 * LD_NS_PER_SEC;
	c->habitual_days = 3;
	c->fleet_common = 0.2f;
	c->outbreak_ns = 1800 * LD_NS_PER_SEC;
	c->parent_window_ns = 1800 * LD_NS_PER_SEC;
}

static bool get_duration(const ld_ini *ini, const char *key, int64_t *out, ld_err *err)
{
	const char *v = ld_ini_get(ini, "analyze", key);
	if (!v)
		return true;
	int64_t ns;
	if (!ld_duration_parse(v, &ns) || ns <= 0) {
		ld_err_set(err, "%s:%d: [analyze] %s: bad duration '%s'", ini->path,
			   ld_ini_line(ini, "analyze", key), key, v);
		return false;
	}
	*out = ns;
	return true;
}

static bool get_float(const ld_ini *ini, const char *key, float *out, float lo, float hi,
		      ld_err *err)
{
	const char *v = ld_ini_get(ini, "analyze", key);
	if (!v)
		return true;
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || d < lo || d > hi) {
		ld_err_set(err, "%s:%d: [analyze] %s: expected a number in [%g, %g], got '%s'",
			   ini->path, ld_ini_line(ini, "analyze", key), key, (double)lo, (double)hi, v);
		return false;
	}
	*out = (float)d;
	return true;
}

static bool get_uint(const ld_ini *ini, const char *key, unsigned *out, ld_err *err)
{
	if (!ld_ini_get(ini, "analyze", key))
		return true;
	unsigned long v;
	if (!ld_ini_uint(ini, "analyze", key, &v, err))
		return false;
	if (v == 0 || v > 1000000) {
		ld_err_set(err, "%s:%d: [analyze] %s: out of range", ini->path,
			   ld_ini_line(ini, "analyze", key), key);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool bad(const ld_ini *ini, const char *key, const char *what, ld_err *err)
{
	ld_err_set(err, "%s:%d: [analyze] %s: %s", ini->path, ld_ini_line(ini, "analyze", key), key,
		   what);
	return false;
}

bool ld_analyze_config_apply(ld_analyze_config *c, const ld_ini *ini, ld_err *err)
{
	for (size_t i = 0; i < ini->n; i++) {
		const ld_ini_entry *e = &ini->entries[i];
		if (strcmp(e->section, "analyze") != 0)
			continue;
		bool known = false;
		for (size_t k = 0; ld_analyze_keys[k]; k++)
			if (strcmp(ld_analyze_keys[k], e->key) == 0)
				known = true;
		if (!known) {
			ld_err_set(err, "%s:%d: unknown key '%s' in [analyze]", ini->path, e->line,
				   e->key);
			return false;
		}
	}
	const char *v;
	if ((v = ld_ini_get(ini, "analyze", "inventory"))) {
		if (strlen(v) >= sizeof c->inventory)
			return bad(ini, "inventory", "path too long", err);
		strcpy(c->inventory, v);
	}
	if ((v = ld_ini_get(ini, "analyze", "internal_networks")) &&
	    !set_nets(c->internal, &c->n_internal, v))
		return bad(ini, "internal_networks", "expected comma-separated CIDRs", err);
	if ((v = ld_ini_get(ini, "analyze", "allow_scanners")) &&
	    !set_nets(c->scanners, &c->n_scanners, v))
		return bad(ini, "allow_scanners", "expected comma-separated CIDRs", err);
	/* Port lists: a list given in the file replaces that class's default list. */
	const char *lat = ld_ini_get(ini, "analyze", "lateral_ports");
	const char *dis = ld_ini_get(ini, "analyze", "discovery_ports");
	const char *ben = ld_ini_get(ini, "analyze", "benign_ports");
	if (lat || dis || ben) {
		memset(c->port_class, LD_PC_OTHER, sizeof c->port_class);
		if (!set_ports(c, dis ? dis : default_discovery, LD_PC_DISCOVERY))
			return bad(ini, "discovery_ports", "expected ports or ranges a-b", err);
		if (!set_ports(c, lat ? lat : default_lateral, LD_PC_LATERAL))
			return bad(ini, "lateral_ports", "expected ports or ranges a-b", err);
		if (!set_ports(c, ben ? ben : default_benign, LD_PC_BENIGN))
			return bad(ini, "benign_ports", "expected ports or ranges a-b", err);
	}
	if (!get_float(ini, "weight_lateral", &c->weight[LD_PC_LATERAL], 0, 10, err) ||
	    !get_float(ini, "weight_discovery", &c->weight[LD_PC_DISCOVERY], 0, 10, err) ||
	    !get_float(ini, "weight_other", &c->weight[LD_PC_OTHER], 0, 10, err) ||
	    !get_duration(ini, "dedupe_window", &c->dedupe_ns, err) ||
	    !get_duration(ini, "novelty_horizon", &c->horizon_ns, err) ||
	    !get_duration(ini, "fast_leak", &c->leak_ns[LD_TIER_FAST], err) ||
	    !get_duration(ini, "medium_leak", &c->leak_ns[LD_TIER_MEDIUM], err) ||
	    !get_duration(ini, "slow_leak", &c->leak_ns[LD_TIER_SLOW], err) ||
	    !get_float(ini, "fast_threshold", &c->threshold[LD_TIER_FAST], 1, 10000, err) ||
	    !get_float(ini, "medium_threshold", &c->threshold[LD_TIER_MEDIUM], 1, 10000, err) ||
	    !get_float(ini, "slow_threshold", &c->threshold[LD_TIER_SLOW], 1, 10000, err) ||
	    !get_duration(ini, "vertical_window", &c->vertical_window_ns, err) ||
	    !get_uint(ini, "vertical_lateral", &c->vertical_lateral, err) ||
	    !get_uint(ini, "vertical_any", &c->vertical_any, err) ||
	    !get_float(ini, "suspect_fraction", &c->suspect_fraction, 0.05f, 1, err) ||
	    !get_duration(ini, "quiet_after", &c->quiet_ns, err) ||
	    !get_duration(ini, "realert_after", &c->realert_ns, err) ||
	    !get_uint(ini, "habitual_days", &c->habitual_days, err) ||
	    !get_float(ini, "fleet_common", &c->fleet_common, 0, 1, err) ||
	    !get_duration(ini, "outbreak_window", &c->outbreak_ns, err) ||
	    !get_duration(ini, "parent_window", &c->parent_window_ns, err))
		return false;
	if (c->horizon_ns > INT64_C(400) * 86400 * LD_NS_PER_SEC)
		return bad(ini, "novelty_horizon", "at most 400d", err);
	return true;
}

bool ld_analyze_config_load(ld_analyze_config *c, const char *path, ld_err *err)
{
	ld_ini *ini = ld_ini_load(path, err);
	if (!ini)
		return false;
	/* every section of the file is checked, not only [analyze]: a typo anywhere is an error */
	bool ok = ld_config_check_common(ini, err);
	if (ok)
		ok = ld_analyze_config_apply(c, ini, err);
	ld_ini_free(ini);
	return ok;
}

unsigned ld_analyze_port_class(const ld_analyze_config *c, uint8_t proto, uint16_t sport,
			       uint16_t dport, bool have_ports)
{
	if (proto == 1)
		return LD_PC_DISCOVERY; /* ICMP (echo): IP scanners ping first */
	if (proto != 6 && proto != 17)
		return LD_PC_BENIGN; /* IGMP, ICMPv6 ND/MLD, GRE...: not scan evidence here */
	if (!have_ports)
		return LD_PC_OTHER;
	unsigned t = proto == 17;
	/* replies to multicast discovery leave from the service port (UDP 5355, 5353, 1900...)
	 * toward an ephemeral one; ephemeral source ports themselves say nothing */
	if (t == 1 && sport < 49152 && c->port_class[1][sport] == LD_PC_BENIGN && dport >= 1024)
		return LD_PC_BENIGN;
	return c->port_class[t][dport];
}
