/* ld_time.c — civil-date arithmetic and the time syntaxes logdrop accepts.
 *
 * days_from_civil / civil_from_days follow the well-known era-based algorithm (400-year cycles),
 * exact for any proleptic Gregorian date, with no libc time-zone state involved. */
#include "ld_time.h"

#include <string.h>
#include <strings.h>
#include <time.h>

int64_t ld_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void ld_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool ld_civil_valid(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	/* int64 nanoseconds end in April 2262: later years cannot be represented. */
	if (y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1)
		return false;
	unsigned dim = mdays[mo - 1] + (mo == 2 && is_leap(y));
	return d <= dim && h < 24 && mi < 60 && s <= 60;
}

int64_t ld_time_from_civil(int64_t y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s,
			   uint32_t nsec)
{
	int64_t days = ld_days_from_civil(y, mo, d);
	int64_t secs = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + s;
	return secs * LD_NS_PER_SEC + nsec;
}

static bool digits(const char *s, size_t len, size_t at, size_t n, unsigned *out)
{
	if (at + n > len)
		return false;
	unsigned v = 0;
	for (size_t i = at; i < at + n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return true;
}

size_t ld_time_parse_rfc3339(const char *s, size_t len, int64_t *out_ns, bool *had_zone)
{
	unsigned y, mo, d, h, mi, sec;
	if (!digits(s, len, 0, 4, &y) || len < 19 || s[4] != '-' || !digits(s, len, 5, 2, &mo) ||
	    s[7] != '-' || !digits(s, len, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s, len, 11, 2, &h) || s[13] != ':' || !digits(s, len, 14, 2, &mi) ||
	    s[16] != ':' || !digits(s, len, 17, 2, &sec))
		return 0;
	if (!ld_civil_valid(y, mo, d, h, mi, sec))
		return 0;
	size_t i = 19;
	uint32_t nsec = 0;
	if (i < len && (s[i] == '.' || s[i] == ',')) {
		i++;
		size_t start = i;
		uint32_t scale = 100000000;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			nsec += (uint32_t)(s[i] - '0') * scale;
			scale /= 10;
			i++;
		}
		if (i == start || i - start > 9)
			return 0;
	}
	int64_t off = 0;
	bool zone = false;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		zone = true;
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		unsigned oh, om;
		int sign = s[i] == '-' ? -1 : 1;
		if (!digits(s, len, i + 1, 2, &oh))
			return 0;
		size_t j = i + 3;
		if (j < len && s[j] == ':')
			j++;
		if (!digits(s, len, j, 2, &om) || oh > 23 || om > 59)
			return 0;
		off = sign * ((int64_t)oh * 3600 + om * 60);
		zone = true;
		i = j + 2;
	}
	if (had_zone)
		*had_zone = zone;
	*out_ns = ld_time_from_civil(y, mo, d, h, mi, sec, nsec) - off * LD_NS_PER_SEC;
	return i;
}

unsigned ld_month_from_abbr(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	char m[3];
	for (int i = 0; i < 3; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		m[i] = c;
	}
	for (unsigned k = 0; k < 12; k++)
		if (memcmp(months + 3 * k, m, 3) == 0)
			return k + 1;
	return 0;
}

int64_t ld_infer_year(unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s, int64_t now_ns,
		      int year_override)
{
	if (year_override > 0)
		return year_override;
	int64_t y;
	unsigned nm, nd;
	ld_civil_from_days(now_ns / LD_NS_PER_SEC / 86400, &y, &nm, &nd);
	/* Feb 29 in a non-leap current year can only be the latest leap year's. */
	if (mo == 2 && d == 29 && !is_leap(y)) {
		do
			y--;
		while (!is_leap(y));
		return y;
	}
	int64_t t = ld_time_from_civil(y, mo, d, h, mi, s, 0);
	if (t > now_ns + 86400 * LD_NS_PER_SEC)
		return y - 1;
	return y;
}

bool ld_duration_parse(const char *s, int64_t *out_ns)
{
	size_t len = strlen(s);
	if (len < 2)
		return false;
	int64_t v = 0;
	size_t i = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (v > INT64_C(1000000000000))
			return false;
		v = v * 10 + (s[i] - '0');
		i++;
	}
	if (i == 0)
		return false;
	const char *u = s + i;
	int64_t mult;
	if (strcmp(u, "ms") == 0)
		mult = 1000000;
	else if (strcmp(u, "s") == 0)
		mult = LD_NS_PER_SEC;
	else if (strcmp(u, "m") == 0)
		mult = 60 * LD_NS_PER_SEC;
	else if (strcmp(u, "h") == 0)
		mult = 3600 * LD_NS_PER_SEC;
	else if (strcmp(u, "d") == 0)
		mult = 86400 * LD_NS_PER_SEC;
	else if (strcmp(u, "w") == 0)
		mult = 7 * 86400 * LD_NS_PER_SEC;
	else
		return false;
	if (v > INT64_MAX / mult)
		return false;
	*out_ns = v * mult;
	return true;
}

bool ld_time_parse_arg(const char *s, int64_t now_ns, int64_t *out_ns)
{
	if (strcasecmp(s, "now") == 0) {
		*out_ns = now_ns;
		return true;
	}
	if (s[0] == '-' || s[0] == '+') {
		int64_t d;
		if (!ld_duration_parse(s + 1, &d))
			return false;
		/* a relative time that leaves the clock's range is not a time */
		if (s[0] == '-' ? __builtin_sub_overflow(now_ns, d, out_ns)
				: __builtin_add_overflow(now_ns, d, out_ns))
			return false;
		return true;
	}
	size_t len = strlen(s);
	int64_t t;
	/* A bare date means its midnight UTC. */
	if (len == 10) {
		char buf[32];
		memcpy(buf, s, 10);
		memcpy(buf + 10, "T00:00:00Z", 11);
		if (ld_time_parse_rfc3339(buf, 20, &t, NULL) != 20)
			return false;
		*out_ns = t;
		return true;
	}
	if (ld_time_parse_rfc3339(s, len, &t, NULL) != len)
		return false;
	*out_ns = t;
	return true;
}

size_t ld_time_format_ms(int64_t ns, char *buf)
{
	int64_t secs = ns / LD_NS_PER_SEC, rem = ns % LD_NS_PER_SEC;
	if (rem < 0) {
		rem += LD_NS_PER_SEC;
		secs--;
	}
	int64_t days = secs / 86400, sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int64_t y;
	unsigned m, d;
	ld_civil_from_days(days, &y, &m, &d);
	/* Fixed-width formatting by hand: this runs once per output row. */
	char *p = buf;
	unsigned yy = (unsigned)(y < 0 ? 0 : y > 9999 ? 9999 : y);
	unsigned ms = (unsigned)(rem / 1000000);
	unsigned hh = (unsigned)(sod / 3600), mi = (unsigned)(sod / 60 % 60), ss = (unsigned)(sod % 60);
	p[0] = (char)('0' + yy / 1000);
	p[1] = (char)('0' + yy / 100 % 10);
	p[2] = (char)('0' + yy / 10 % 10);
	p[3] = (char)('0' + yy % 10);
	p[4] = '-';
	p[5] = (char)('0' + m / 10);
	p[6] = (char)('0' + m % 10);
	p[7] = '-';
	p[8] = (char)('0' + d / 10);
	p[9] = (char)('0' + d % 10);
	p[10] = 'T';
	p[11] = (char)('0' + hh / 10);
	p[12] = (char)('0' + hh % 10);
	p[13] = ':';
	p[14] = (char)('0' + mi / 10);
	p[15] = (char)('0' + mi % 10);
	p[16] = ':';
	p[17] = (char)('0' + ss / 10);
	p[18] = (char)('0' + ss % 10);
	p[19] = '.';
	p[20] = (char)('0' + ms / 100);
	p[21] = (char)('0' + ms / 10 % 10);
	p[22] = (char)('0' + ms % 10);
	p[23] = 'Z';
	p[24] = '\0';
	return 24;
}

int64_t ld_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * LD_NS_PER_SEC + ts.tv_nsec;
}
