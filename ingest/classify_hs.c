/* classify_hs.c — Hyperscan database of format and verdict patterns.
 *
 * Pattern ids: fmt (enum ld_format) = "this line is format fmt"; DROP_ID + fmt = "and it reads as
 * a deny/drop/reject".  Patterns are literal-anchored so Hyperscan's literal prefilter does most of
 * the work; none of them needs backtracking.
 */
#include "classify_hs.h"

#include <hs/hs.h>
#include <stdlib.h>
#include <string.h>

#define DROP_ID 100

struct ld_classifier {
	hs_database_t *db;
	hs_scratch_t *proto; /* prototype scratch; threads clone it */
};

struct ld_classify_scratch {
	hs_scratch_t *s;
};

static const struct pat {
	const char *re;
	unsigned id;
	unsigned flags;
} patterns[] = {
	/* NSX DFW / NSX-V / gateway firewall */
	{"(^|\\s)INET6?\\s+(match|reason-match|TERM|[a-z]+(-[a-z]+)*|SpoofGuard)\\s", LD_FMT_NSX, 0},
	{"(dfwpktlogs|FIREWALL[-_]PKTLOG)", LD_FMT_NSX, 0},
	{"(^|\\s)INET6?\\s+\\S+\\s+(DROP|REJECT)\\s", DROP_ID + LD_FMT_NSX, 0},
	/* netfilter LOG family */
	{"(^|[^A-Za-z0-9_])IN=\\S*\\s+OUT=\\S*\\s.*SRC=\\S+\\s+DST=", LD_FMT_IPTABLES, 0},
	/* a hint only (the parser decides): verdict words as prefixes write them, not "Block ..." in
	 * a UniFi description */
	{"(DROP|REJECT|BLOCK|DENY|DENIED|drop|reject|block|deny|-D\\]|-R\\]|-D-)[^=]*IN=\\S*\\s+OUT=",
	 DROP_ID + LD_FMT_IPTABLES, 0},
	/* Cisco ASA / FTD */
	{"%(ASA|PIX|FWSM|FTD)-([a-z]+-)?\\d-\\d{6}:", LD_FMT_ASA, 0},
	{"%(ASA|PIX|FWSM|FTD)-([a-z]+-)?\\d-(106001|106006|106007|106014|106015|106021|106023|313001|"
	 "313008|710003):",
	 DROP_ID + LD_FMT_ASA, 0},
	{"%(ASA|PIX|FWSM|FTD)-([a-z]+-)?\\d-106100: access-list \\S+ denied", DROP_ID + LD_FMT_ASA, 0},
	{"AccessControlRuleAction: Block", DROP_ID + LD_FMT_ASA, 0},
	/* PAN-OS TRAFFIC CSV */
	{"(^|\\s)1,\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d,[^,]*,TRAFFIC,", LD_FMT_PANOS, 0},
	{",TRAFFIC,[a-z]+,.*,(deny|drop|drop-icmp|reset-client|reset-server|reset-both),",
	 DROP_ID + LD_FMT_PANOS, 0},
	/* FortiGate key=value */
	{"date=\\d{4}-\\d\\d-\\d\\d\\s+time=\\d\\d:\\d\\d:\\d\\d\\s.*type=\"?traffic", LD_FMT_FORTIGATE, 0},
	{"type=\"?traffic.*action=\"?(deny|ip-conn|dropped|blocked)", DROP_ID + LD_FMT_FORTIGATE, 0},
	/* pfSense / OPNsense filterlog */
	/* "filterlog[pid]: csv", "filterlog: csv", RFC 5424 "filterlog PID - [SD] csv" */
	{"filterlog(\\[\\d+\\]:?|:|\\s+\\d+\\s+-\\s+(\\[[^\\]]*\\]|-))\\s+\\d*,[^,]*,[^,]*,[^,]*,[^,]*,"
	 "[a-z-]+,(block|pass|match),",
	 LD_FMT_PFSENSE, 0},
	{"filterlog(\\[\\d+\\]:?|:|\\s+\\d+\\s+-\\s+(\\[[^\\]]*\\]|-))\\s+\\d*,[^,]*,[^,]*,[^,]*,[^,]*,"
	 "[a-z-]+,block,",
	 DROP_ID + LD_FMT_PFSENSE, 0},
	/* Juniper SRX */
	{"RT_FLOW_SESSION_(DENY|CREATE|CLOSE)", LD_FMT_SRX, 0},
	{"RT_FLOW_SESSION_DENY", DROP_ID + LD_FMT_SRX, 0},
	/* Windows Firewall pfirewall.log */
	{"^#Fields: date time action protocol", LD_FMT_WINFW, 0},
	{"^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d (DROP|ALLOW|INFO-EVENTS-LOST) ", LD_FMT_WINFW, 0},
	{"^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d DROP ", DROP_ID + LD_FMT_WINFW, 0},
};

#define NPAT (sizeof patterns / sizeof patterns[0])

/* Lower = more specific; wins when a line matches several formats. */
static unsigned rank(unsigned fmt)
{
	switch (fmt) {
	case LD_FMT_SRX: return 1;
	case LD_FMT_ASA: return 2;
	case LD_FMT_PANOS: return 3;
	case LD_FMT_FORTIGATE: return 4;
	case LD_FMT_PFSENSE: return 5;
	case LD_FMT_WINFW: return 6;
	case LD_FMT_NSX: return 7;
	case LD_FMT_IPTABLES: return 8;
	default: return 99;
	}
}

ld_classifier *ld_classifier_new(ld_err *err)
{
	const char *exprs[NPAT];
	unsigned ids[NPAT], flags[NPAT];
	for (size_t i = 0; i < NPAT; i++) {
		exprs[i] = patterns[i].re;
		ids[i] = patterns[i].id;
		flags[i] = patterns[i].flags | HS_FLAG_SINGLEMATCH | HS_FLAG_MULTILINE;
	}
	ld_classifier *c = calloc(1, sizeof *c);
	if (!c) {
		ld_err_set(err, "out of memory");
		return NULL;
	}
	hs_compile_error_t *ce = NULL;
	if (hs_compile_multi(exprs, flags, ids, (unsigned)NPAT, HS_MODE_BLOCK, NULL, &c->db, &ce) !=
	    HS_SUCCESS) {
		ld_err_set(err, "format patterns: %s (pattern %d)", ce ? ce->message : "?",
			   ce ? ce->expression : -1);
		hs_free_compile_error(ce);
		free(c);
		return NULL;
	}
	if (hs_alloc_scratch(c->db, &c->proto) != HS_SUCCESS) {
		ld_err_set(err, "hyperscan scratch allocation failed");
		hs_free_database(c->db);
		free(c);
		return NULL;
	}
	return c;
}

void ld_classifier_free(ld_classifier *c)
{
	if (!c)
		return;
	hs_free_scratch(c->proto);
	hs_free_database(c->db);
	free(c);
}

ld_classify_scratch *ld_classifier_scratch_new(const ld_classifier *c, ld_err *err)
{
	ld_classify_scratch *s = calloc(1, sizeof *s);
	if (!s || hs_clone_scratch(c->proto, &s->s) != HS_SUCCESS) {
		ld_err_set(err, "hyperscan scratch clone failed");
		free(s);
		return NULL;
	}
	return s;
}

void ld_classifier_scratch_free(ld_classify_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->s);
	free(s);
}

typedef struct hits {
	uint32_t fmt_mask;
	uint32_t drop_mask;
} hits;

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		    void *ctx)
{
	(void)from;
	(void)to;
	(void)flags;
	hits *h = ctx;
	if (id >= DROP_ID)
		h->drop_mask |= 1u << (id - DROP_ID);
	else
		h->fmt_mask |= 1u << id;
	return 0;
}

unsigned ld_classify_line(const ld_classifier *c, ld_classify_scratch *s, const char *line,
			  size_t len, bool *is_drop)
{
	hits h = {0, 0};
	*is_drop = false;
	if (len > UINT32_MAX)
		len = UINT32_MAX;
	if (hs_scan(c->db, line, (unsigned)len, 0, s->s, on_match, &h) != HS_SUCCESS)
		return 0;
	unsigned best = 0;
	for (unsigned f = 1; f < LD_FMT_COUNT_; f++)
		if ((h.fmt_mask & (1u << f)) && (best == 0 || rank(f) < rank(best)))
			best = f;
	if (best)
		*is_drop = (h.drop_mask & (1u << best)) != 0;
	return best;
}

void ld_classify_sample(const ld_classifier *c, ld_classify_scratch *s, const char *buf, size_t len,
			uint32_t max_lines, ld_classify_result *res)
{
	memset(res, 0, sizeof *res);
	size_t p = 0;
	while (p < len && res->lines < max_lines) {
		const char *nl = memchr(buf + p, '\n', len - p);
		if (!nl && res->lines > 0)
			break; /* partial last line of a sample */
		size_t e = nl ? (size_t)(nl - buf) : len;
		size_t n = e - p;
		if (n > 65536)
			n = 65536;
		if (n > 0) {
			bool drop;
			unsigned f = ld_classify_line(c, s, buf + p, n, &drop);
			res->lines++;
			if (f) {
				res->per_format[f]++;
				if (drop)
					res->drops[f]++;
			}
		}
		p = e + 1;
	}
	uint32_t best = 0;
	for (unsigned f = 1; f < LD_FMT_COUNT_; f++)
		if (res->per_format[f] > best) {
			best = res->per_format[f];
			res->format = f;
		}
}
