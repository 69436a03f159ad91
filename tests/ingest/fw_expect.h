/* fw_expect.h — shared by the firewall-format tests: check one parsed line against a list of
 * expected `key=value` pairs (the `= ...` lines of the fixture files under tests/ingest/fixtures/<fmt>/).
 *
 * Keys: result reason fmt ts tsns src dst sport dport noports proto action dir rule reporter vif
 * flags len partial lost.  Only the keys given are checked.  Mismatches are printed with the line
 * and counted; the caller asserts the count is zero.
 */
#ifndef FW_EXPECT_H
#define FW_EXPECT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld_parse.h"
#include "ld_record.h"
#include "ld_time.h"
#include "parse_state.h"

static const char *fw_result_name(int rc)
{
	switch (rc) {
	case LD_PARSE_DROP:
		return "drop";
	case LD_PARSE_NOT_DROP:
		return "notdrop";
	case LD_PARSE_SKIP:
		return "skip";
	case LD_PARSE_REJECT:
		return "reject";
	}
	return "?";
}

static int fw_mismatch(const char *where, const char *key, const char *want, const char *got)
{
	fprintf(stderr, "%s: %s: want [%s] got [%s]\n", where, key, want, got);
	return 1;
}

static int fw_str_check(const char *where, const char *key, const char *want, ld_str got)
{
	char buf[512];
	size_t n = got.len < sizeof buf - 1 ? got.len : sizeof buf - 1;
	memcpy(buf, got.ptr ? got.ptr : "", n);
	buf[n] = 0;
	if (strcmp(want, buf) != 0)
		return fw_mismatch(where, key, want, buf);
	return 0;
}

/* Next key=value from *p (value may be "double quoted"); false at the end. */
static int fw_next_kv(char **p, char **key, const char **val)
{
	char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	*key = s;
	while (*s && *s != '=' && *s != ' ')
		s++;
	if (*s != '=') { /* bare key ("noports") */
		if (*s)
			*s++ = 0;
		*val = "";
		*p = s;
		return 1;
	}
	*s = 0;
	s++;
	if (*s == '"') {
		*val = ++s;
		while (*s && *s != '"')
			s++;
	} else {
		*val = s;
		while (*s && *s != ' ')
			s++;
	}
	if (*s)
		*s++ = 0;
	*p = s;
	return 1;
}

/* Returns the number of mismatches.  `expect` is modified (split in place). */
static int fw_check(const char *where, char *expect, int rc, uint8_t reason, const ld_record *r,
		    const ld_parse_state *st)
{
	int bad = 0;
	char *key, *p = expect;
	const char *val;
	char got[128];
	while (fw_next_kv(&p, &key, &val)) {
		if (!strcmp(key, "result")) {
			if (strcmp(val, fw_result_name(rc)))
				bad += fw_mismatch(where, key, val, fw_result_name(rc));
		} else if (!strcmp(key, "reason")) {
			if (strcmp(val, ld_reject_name(reason)))
				bad += fw_mismatch(where, key, val, ld_reject_name(reason));
		} else if (!strcmp(key, "fmt")) {
			if (strcmp(val, ld_format_name(r->format)))
				bad += fw_mismatch(where, key, val, ld_format_name(r->format));
		} else if (!strcmp(key, "ts")) {
			ld_time_format_ms(r->ts_ns, got);
			if (strcmp(val, got))
				bad += fw_mismatch(where, key, val, got);
		} else if (!strcmp(key, "tsns")) {
			snprintf(got, sizeof got, "%lld", (long long)r->ts_ns);
			if (strcmp(val, got))
				bad += fw_mismatch(where, key, val, got);
		} else if (!strcmp(key, "src") || !strcmp(key, "dst")) {
			ld_addr want;
			const ld_addr *a = key[0] == 's' ? &r->src : &r->dst;
			ld_addr_format(a, got);
			if (!ld_addr_parse(&want, val, strlen(val)) || !ld_addr_eq(&want, a))
				bad += fw_mismatch(where, key, val, got);
		} else if (!strcmp(key, "sport") || !strcmp(key, "dport")) {
			unsigned v = key[0] == 's' ? r->sport : r->dport;
			snprintf(got, sizeof got, "%u%s", v, r->present & LD_RF_PORTS ? "" : "(absent)");
			if (strtoul(val, NULL, 10) != v || !(r->present & LD_RF_PORTS))
				bad += fw_mismatch(where, key, val, got);
		} else if (!strcmp(key, "noports")) {
			if (r->present & LD_RF_PORTS)
				bad += fw_mismatch(where, key, "no ports", "ports present");
		} else if (!strcmp(key, "proto")) {
			snprintf(got, sizeof got, "%u", r->proto);
			if (strcmp(val, got))
				bad += fw_mismatch(where, key, val, got);
		} else if (!strcmp(key, "action")) {
			if (strcmp(val, ld_action_name(r->action)))
				bad += fw_mismatch(where, key, val, ld_action_name(r->action));
		} else if (!strcmp(key, "dir")) {
			if (strcmp(val, ld_dir_name(r->dir)))
				bad += fw_mismatch(where, key, val, ld_dir_name(r->dir));
		} else if (!strcmp(key, "rule")) {
			bad += fw_str_check(where, key, val, r->rule);
		} else if (!strcmp(key, "reporter")) {
			bad += fw_str_check(where, key, val, r->reporter);
		} else if (!strcmp(key, "vif")) {
			bad += fw_str_check(where, key, val, r->vif);
		} else if (!strcmp(key, "flags")) {
			int want = ld_tcp_flags_parse(val, strlen(val));
			snprintf(got, sizeof got, "0x%02x%s", r->tcp_flags,
				 r->present & LD_RF_TCPFLAGS ? "" : "(absent)");
			if (want < 0 || want != r->tcp_flags || !(r->present & LD_RF_TCPFLAGS))
				bad += fw_mismatch(where, key, val, got);
		} else if (!strcmp(key, "len")) {
			snprintf(got, sizeof got, "%u%s", r->len, r->present & LD_RF_LEN ? "" : "(absent)");
			if (strtoul(val, NULL, 10) != r->len || !(r->present & LD_RF_LEN))
				bad += fw_mismatch(where, key, val, got);
		} else if (!strcmp(key, "partial")) {
			int is = (r->present & LD_RF_PARTIAL) != 0;
			if (is != atoi(val))
				bad += fw_mismatch(where, key, val, is ? "1" : "0");
		} else if (!strcmp(key, "lost")) {
			snprintf(got, sizeof got, "%llu", (unsigned long long)st->fw.winfw_events_lost);
			if (strcmp(val, got))
				bad += fw_mismatch(where, key, val, got);
		} else {
			bad += fw_mismatch(where, "unknown key", key, "");
		}
	}
	return bad;
}

#endif
