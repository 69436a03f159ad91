/* tz_local.c — TZif reader and local->UTC conversion (see tz_local.h). */
#include "tz_local.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ld_time.h"

/* One end of a POSIX TZ daylight rule: Jn (kind 'J'), n (kind 'n') or Mm.w.d (kind 'M'). */
typedef struct tz_rule_date {
	char kind;
	int16_t day; /* Jn: 1..365, n: 0..365, M: weekday 0..6 */
	uint8_t month, week;
	int32_t time_s; /* local time of day of the switch, may be negative or > 24 h */
} tz_rule_date;

typedef struct tz_footer {
	bool present;
	bool has_dst;
	int32_t std_off, dst_off; /* east positive */
	tz_rule_date start, end;
} tz_footer;

struct ld_tz {
	char name[128];
	uint32_t n;        /* transitions */
	int64_t *at;       /* UTC instant of each transition, ascending */
	int32_t *off;      /* offset in force from at[i] on */
	int32_t first_off; /* before the first transition */
	tz_footer rule;    /* after the last transition */
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* --- POSIX TZ footer --------------------------------------------------------------------- */

static const char *tz_skip_name(const char *s, const char *e)
{
	if (s < e && *s == '<') {
		while (s < e && *s != '>')
			s++;
		return s < e ? s + 1 : NULL;
	}
	const char *b = s;
	while (s < e && ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		s++;
	return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]]; returns seconds (sign as written), NULL on error. */
static const char *tz_hms(const char *s, const char *e, int32_t *out)
{
	int sign = 1;
	if (s < e && (*s == '+' || *s == '-')) {
		sign = *s == '-' ? -1 : 1;
		s++;
	}
	int32_t part[3] = {0, 0, 0};
	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			if (s >= e || *s != ':')
				break;
			s++;
		}
		int digits = 0;
		int32_t v = 0;
		while (s < e && *s >= '0' && *s <= '9' && digits < 3) {
			v = v * 10 + (*s - '0');
			s++;
			digits++;
		}
		if (digits == 0)
			return NULL;
		part[i] = v;
	}
	if (part[0] > 167 || part[1] > 59 || part[2] > 59)
		return NULL;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	return s;
}

static const char *tz_rule_date_parse(const char *s, const char *e, tz_rule_date *d)
{
	int32_t v[3] = {0, 0, 0};
	d->time_s = 7200;
	if (s < e && *s == 'M') {
		s++;
		for (int i = 0; i < 3; i++) {
			if (i > 0) {
				if (s >= e || *s != '.')
					return NULL;
				s++;
			}
			int digits = 0;
			while (s < e && *s >= '0' && *s <= '9' && digits < 2) {
				v[i] = v[i] * 10 + (*s - '0');
				s++;
				digits++;
			}
			if (!digits)
				return NULL;
		}
		if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
			return NULL;
		d->kind = 'M';
		d->month = (uint8_t)v[0];
		d->week = (uint8_t)v[1];
		d->day = (int16_t)v[2];
	} else {
		d->kind = 'n';
		if (s < e && *s == 'J') {
			d->kind = 'J';
			s++;
		}
		int digits = 0;
		while (s < e && *s >= '0' && *s <= '9' && digits < 3) {
			v[0] = v[0] * 10 + (*s - '0');
			s++;
			digits++;
		}
		if (!digits || v[0] > 365 || (d->kind == 'J' && v[0] < 1))
			return NULL;
		d->day = (int16_t)v[0];
	}
	if (s < e && *s == '/') {
		s = tz_hms(s + 1, e, &d->time_s);
		if (!s)
			return NULL;
	}
	return s;
}

static bool tz_footer_parse(const char *s, size_t len, tz_footer *f)
{
	const char *e = s + len;
	memset(f, 0, sizeof *f);
	if (len == 0)
		return false;
	int32_t v;
	s = tz_skip_name(s, e);
	if (!s || !(s = tz_hms(s, e, &v)))
		return false;
	f->std_off = -v; /* POSIX offsets are west-positive */
	f->dst_off = f->std_off;
	f->present = true;
	if (s == e)
		return true;
	s = tz_skip_name(s, e);
	if (!s)
		return false;
	f->has_dst = true;
	f->dst_off = f->std_off + 3600;
	if (s < e && *s != ',') {
		if (!(s = tz_hms(s, e, &v)))
			return false;
		f->dst_off = -v;
	}
	if (s >= e || *s != ',')
		return false; /* no rule given: POSIX leaves it implementation-defined */
	if (!(s = tz_rule_date_parse(s + 1, e, &f->start)))
		return false;
	if (s >= e || *s != ',')
		return false;
	if (!(s = tz_rule_date_parse(s + 1, e, &f->end)))
		return false;
	return s == e;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local-time seconds (as if UTC) of the rule date in year y. */
static int64_t tz_rule_local(const tz_rule_date *d, int64_t y)
{
	int64_t days;
	if (d->kind == 'J') {
		days = ld_days_from_civil(y, 1, 1) + d->day - 1;
		if (is_leap(y) && d->day >= 60)
			days++;
	} else if (d->kind == 'n') {
		days = ld_days_from_civil(y, 1, 1) + d->day;
	} else {
		int64_t first = ld_days_from_civil(y, d->month, 1);
		int64_t wd = ((first % 7) + 7 + 4) % 7; /* 1970-01-01 was a Thursday (4) */
		int64_t day = first + ((d->day - wd + 7) % 7) + 7 * (d->week - 1);
		static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int64_t ml = mdays[d->month - 1] + (d->month == 2 && is_leap(y));
		while (day >= first + ml)
			day -= 7;
		days = day;
	}
	return days * 86400 + d->time_s;
}

static int32_t tz_footer_offset(const tz_footer *f, int64_t utc_s)
{
	if (!f->has_dst)
		return f->std_off;
	int64_t y;
	unsigned m, d;
	ld_civil_from_days((utc_s + f->std_off) / 86400 - ((utc_s + f->std_off) % 86400 < 0), &y, &m,
			   &d);
	/* Rule times are local: start in standard time, end in daylight time. */
	int64_t start = tz_rule_local(&f->start, y) - f->std_off;
	int64_t end = tz_rule_local(&f->end, y) - f->dst_off;
	bool dst;
	if (start < end)
		dst = utc_s >= start && utc_s < end;
	else
		dst = !(utc_s >= end && utc_s < start);
	return dst ? f->dst_off : f->std_off;
}

/* --- TZif -------------------------------------------------------------------------------- */

ld_tz *ld_tz_parse(const uint8_t *data, size_t len)
{
	if (len < 44 || memcmp(data, "TZif", 4) != 0)
		return NULL;
	const uint8_t *p = data;
	const uint8_t *end = data + len;
	int version = data[4] ? data[4] - '0' : 1;
	size_t tsize = 4;
	for (int pass = 0; pass < 2; pass++) {
		if ((size_t)(end - p) < 44 || memcmp(p, "TZif", 4) != 0)
			return NULL;
		uint32_t isut = be32(p + 20), isstd = be32(p + 24), leap = be32(p + 28);
		uint32_t timecnt = be32(p + 32), typecnt = be32(p + 36), charcnt = be32(p + 40);
		if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leap > 100000 ||
		    charcnt > 100000 || isut > 256 || isstd > 256)
			return NULL;
		size_t body = (size_t)timecnt * tsize + timecnt + (size_t)typecnt * 6 + charcnt +
			      (size_t)leap * (tsize + 4) + isstd + isut;
		if ((size_t)(end - p) - 44 < body)
			return NULL;
		if (pass == 0 && version >= 2) {
			p += 44 + body; /* skip the 32-bit block, use the 64-bit one */
			tsize = 8;
			continue;
		}
		const uint8_t *times = p + 44;
		const uint8_t *idx = times + (size_t)timecnt * tsize;
		const uint8_t *types = idx + timecnt;
		ld_tz *tz = calloc(1, sizeof *tz);
		if (!tz)
			return NULL;
		tz->at = malloc((timecnt ? timecnt : 1) * sizeof *tz->at);
		tz->off = malloc((timecnt ? timecnt : 1) * sizeof *tz->off);
		if (!tz->at || !tz->off) {
			ld_tz_free(tz);
			return NULL;
		}
		tz->first_off = (int32_t)be32(types);
		int64_t prev = INT64_MIN;
		for (uint32_t i = 0; i < timecnt; i++) {
			int64_t at = tsize == 8 ? be64(times + (size_t)i * 8)
						: (int64_t)(int32_t)be32(times + (size_t)i * 4);
			if (idx[i] >= typecnt || at <= prev) {
				ld_tz_free(tz);
				return NULL;
			}
			prev = at;
			tz->at[tz->n] = at;
			tz->off[tz->n] = (int32_t)be32(types + (size_t)idx[i] * 6);
			if (tz->off[tz->n] < -25 * 3600 || tz->off[tz->n] > 26 * 3600) {
				ld_tz_free(tz);
				return NULL;
			}
			tz->n++;
		}
		if (tz->first_off < -25 * 3600 || tz->first_off > 26 * 3600) {
			ld_tz_free(tz);
			return NULL;
		}
		const uint8_t *foot = p + 44 + body;
		if (tsize == 8 && foot < end && *foot == '\n') {
			const uint8_t *nl = memchr(foot + 1, '\n', (size_t)(end - foot - 1));
			if (nl)
				tz_footer_parse((const char *)foot + 1, (size_t)(nl - foot - 1), &tz->rule);
		}
		return tz;
	}
	return NULL;
}

void ld_tz_free(ld_tz *tz)
{
	if (!tz)
		return;
	free(tz->at);
	free(tz->off);
	free(tz);
}

int32_t ld_tz_offset_at(const ld_tz *tz, int64_t utc_s)
{
	if (tz->n == 0 || utc_s < tz->at[0]) {
		if (tz->n == 0 && tz->rule.present)
			return tz_footer_offset(&tz->rule, utc_s);
		return tz->first_off;
	}
	if (utc_s >= tz->at[tz->n - 1] && tz->rule.present)
		return tz_footer_offset(&tz->rule, utc_s);
	uint32_t lo = 0, hi = tz->n; /* last i with at[i] <= utc_s */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= utc_s)
			lo = mid;
		else
			hi = mid;
	}
	return tz->off[lo];
}

int64_t ld_tz_local_to_utc(const ld_tz *tz, int64_t local_s)
{
	/* Offsets lie within ±26 h, so a day either side brackets any transition that can make
	 * this local time ambiguous or non-existent. */
	int32_t before = ld_tz_offset_at(tz, local_s - 2 * 86400);
	int32_t after = ld_tz_offset_at(tz, local_s + 2 * 86400);
	if (before == after) {
		int32_t o = ld_tz_offset_at(tz, local_s - before);
		return local_s - o;
	}
	if (ld_tz_offset_at(tz, local_s - before) == before)
		return local_s - before; /* unambiguous, or the first of two occurrences */
	if (ld_tz_offset_at(tz, local_s - after) == after)
		return local_s - after;
	return local_s - before; /* in the gap */
}

bool ld_tz_local_window(const ld_tz *tz, int64_t local_s, int64_t *utc, int64_t *lo, int64_t *hi,
			int32_t *off)
{
	*utc = ld_tz_local_to_utc(tz, local_s);
	int32_t o = ld_tz_offset_at(tz, *utc);
	*off = o;
	const int64_t far = INT64_C(1) << 50;
	if (tz->n == 0) {
		if (tz->rule.present && tz->rule.has_dst)
			return false;
		*lo = -far;
		*hi = far;
		return *utc == local_s - o;
	}
	/* i = last transition at or before utc, -1 before the first */
	int64_t i = -1;
	uint32_t a = 0, b = tz->n;
	while (a < b) {
		uint32_t mid = a + (b - a) / 2;
		if (tz->at[mid] <= *utc)
			a = mid + 1;
		else
			b = mid;
	}
	i = (int64_t)a - 1;
	if (i == (int64_t)tz->n - 1 && tz->rule.present && tz->rule.has_dst)
		return false; /* the footer rule governs: no fixed window */
	int32_t prev = i <= 0 ? tz->first_off : tz->off[i - 1];
	int64_t start = i < 0 ? -far : tz->at[i];
	int64_t end = i + 1 < (int64_t)tz->n ? tz->at[i + 1] : far;
	int32_t next = i + 1 < (int64_t)tz->n ? tz->off[i + 1] : o;
	if (i < 0)
		prev = o;
	*lo = start + (o > prev ? o : prev);
	*hi = end + (o < next ? o : next);
	return local_s >= *lo && local_s < *hi && *utc == local_s - o;
}

/* --- cache ------------------------------------------------------------------------------- */

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;
static ld_tz *tz_cache[LD_TZ_CACHE_MAX];
static unsigned tz_cached;

static bool tz_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= sizeof ((ld_tz *)0)->name || name[0] == '/' || strstr(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '/' || c == '_' || c == '-' || c == '+'))
			return false;
	}
	return true;
}

static ld_tz *tz_load(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	ld_tz *tz = buf ? ld_tz_parse(buf, n) : NULL;
	free(buf);
	if (tz)
		snprintf(tz->name, sizeof tz->name, "%s", name);
	return tz;
}

const ld_tz *ld_tz_get(const char *name)
{
	if (!name || !tz_name_ok(name))
		return NULL;
	ld_tz *found = NULL;
	pthread_mutex_lock(&tz_lock);
	for (unsigned i = 0; i < tz_cached; i++)
		if (strcmp(tz_cache[i]->name, name) == 0) {
			found = tz_cache[i];
			break;
		}
	if (!found && tz_cached < LD_TZ_CACHE_MAX) {
		found = tz_load(name);
		if (found)
			tz_cache[tz_cached++] = found;
	}
	pthread_mutex_unlock(&tz_lock);
	return found;
}

bool ld_tz_abbr_offset(const char *s, size_t len, int32_t *off_s)
{
	static const struct {
		const char *abbr;
		int32_t off_min;
	} tab[] = {
		{"UTC", 0},	 {"GMT", 0},	  {"Z", 0},	      {"WET", 0},     {"WEST", 60},
		{"BST", 60},	 {"CET", 60},	  {"CEST", 120},      {"MET", 60},    {"MEST", 120},
		{"EET", 120},	 {"EEST", 180},	  {"MSK", 180},	      {"EST", -300},  {"EDT", -240},
		{"CST", -360},	 {"CDT", -300},	  {"MST", -420},      {"MDT", -360},  {"PST", -480},
		{"PDT", -420},	 {"AKST", -540},  {"AKDT", -480},     {"HST", -600},  {"JST", 540},
		{"KST", 540},	 {"AEST", 600},	  {"AEDT", 660},      {"ACST", 570},  {"AWST", 480},
		{"NZST", 720},	 {"NZDT", 780},	  {"SGT", 480},	      {"HKT", 480},
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strlen(tab[i].abbr) == len && strncasecmp(tab[i].abbr, s, len) == 0) {
			*off_s = tab[i].off_min * 60;
			return true;
		}
	return false;
}
