/* timeparse.c — durations, times of day and RFC 3339 stamps (see
 * timeparse.h). Values are kept in nanoseconds while parsing, so that
 * "1.0000001s" rounds up to 1001 ms rather than down to 1000, and
 * saturate at TP_SPAN_MAX_MS. */
#include "util/timeparse.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_MS ((int64_t)1000000)
#define SAT_NS (TP_SPAN_MAX_MS * NS_PER_MS)

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > SAT_NS - b ? SAT_NS : a + b;
}

static int64_t ns_to_ms_up(int64_t ns)
{
	return ns / NS_PER_MS + (ns % NS_PER_MS != 0);
}

/* scan_decimal: "digits[.digits]" at s[*pos], scaled by unit_ns, the
 * fraction rounded up. Returns 0 and advances *pos, or -1 when no digit
 * is there. */
static int scan_decimal(const char *s, size_t n, size_t *pos, int64_t unit_ns,
			int64_t *out)
{
	size_t i = *pos;
	int64_t v = 0, scale;
	int any = 0;

	while (i < n && is_digit((unsigned char)s[i])) {
		int d = s[i++] - '0';

		any = 1;
		if (v > (SAT_NS - d) / 10)
			v = SAT_NS;
		else
			v = v * 10 + d;
	}
	v = v > SAT_NS / unit_ns ? SAT_NS : v * unit_ns;
	if (i < n && s[i] == '.') {
		i++;
		scale = unit_ns;
		while (i < n && is_digit((unsigned char)s[i])) {
			int d = s[i++] - '0';

			any = 1;
			if (scale >= 10) {
				scale /= 10;
				v = sat_add(v, d * scale);
			} else if (d != 0 && scale > 0) {
				/* Below 1 ns: round up, never early. */
				v = sat_add(v, 1);
				scale = 0;
			}
		}
	}
	if (!any)
		return -1;
	*pos = i;
	*out = v;
	return 0;
}

/* scan_unit: the unit at s[*pos], in ns, advancing past it; 0 if none. */
static int64_t scan_unit(const char *s, size_t n, size_t *pos)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {
		/* two-letter units before their one-letter prefixes */
		{"ms", NS_PER_MS},
		{"ns", 1},
		{"us", 1000},
		{"\xc2\xb5s", 1000}, /* U+00B5 micro sign, as Go prints */
		{"\xce\xbcs", 1000}, /* U+03BC Greek mu */
		{"s", 1000 * NS_PER_MS},
		{"m", 60 * 1000 * NS_PER_MS},
		{"h", 3600 * 1000 * NS_PER_MS},
	};

	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		size_t len = strlen(units[k].name);

		if (n - *pos >= len && memcmp(s + *pos, units[k].name, len) == 0) {
			*pos += len;
			return units[k].ns;
		}
	}
	return 0;
}

/* bare: the whole of s as one plain number of unit_ns. */
static int bare(const char *s, size_t n, int64_t unit_ns, int64_t *ns)
{
	size_t i = 0;

	return scan_decimal(s, n, &i, unit_ns, ns) == 0 && i == n ? 0 : -1;
}

/* units: s as Go-style number+unit pairs. */
static int units(const char *s, size_t n, int64_t *ns)
{
	size_t i = 0;
	int64_t total = 0;

	if (n == 1 && s[0] == '0') {
		*ns = 0;
		return 0;
	}
	while (i < n) {
		size_t start = i, j;
		int64_t unit, v;

		/* Find the unit first: the number's scale depends on it. */
		while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '.'))
			i++;
		if (i == start)
			return -1;
		j = i;
		if ((unit = scan_unit(s, n, &j)) == 0)
			return -1;
		i = start;
		if (scan_decimal(s, n, &i, unit, &v) != 0 ||
		    (i < n && s[i] == '.'))
			return -1;
		total = sat_add(total, v);
		i = j;
	}
	*ns = total;
	return 0;
}

int tp_duration(const char *s, size_t n, unsigned flags, int64_t *ms)
{
	int64_t ns;

	if (s == NULL || n == 0)
		return TP_EINVAL;
	if (((flags & TP_SECS) && bare(s, n, 1000 * NS_PER_MS, &ns) == 0) ||
	    ((flags & TP_MSECS) && bare(s, n, NS_PER_MS, &ns) == 0) ||
	    ((flags & TP_UNITS) && units(s, n, &ns) == 0)) {
		*ms = ns_to_ms_up(ns);
		return 0;
	}
	return TP_EINVAL;
}

int tp_hhmm(const char *s, int allow_end, int *minutes)
{
	size_t n = s ? strlen(s) : 0, hl = n - 3;
	int h, m;

	/* H:MM or HH:MM, digits only: no sign, no spaces. */
	if ((n != 4 && n != 5) || s[hl] != ':' || !is_digit((unsigned char)s[0]) ||
	    !is_digit((unsigned char)s[hl - 1]) ||
	    !is_digit((unsigned char)s[hl + 1]) ||
	    !is_digit((unsigned char)s[hl + 2]))
		return TP_EINVAL;
	h = hl == 2 ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
	m = (s[hl + 1] - '0') * 10 + (s[hl + 2] - '0');
	if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_end)))
		return TP_EINVAL;
	*minutes = h * 60 + m;
	return 0;
}

/* days_from_civil: days since 1970-01-01 of a proleptic Gregorian date
 * (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dim[m - 1];
}

/* civil_ms: epoch ms of a UTC date and time, or -1 when a field is out of
 * range (second 60 is a leap second and allowed). */
static int64_t civil_ms(int64_t y, int mo, int d, int h, int mi, int s)
{
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    s < 0 || s > 60)
		return -1;
	return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
	       (int64_t)s * 1000;
}

/* A cursor over a stamp. */
struct scan {
	const char *s;
	size_t n, i;
};

static int sc_char(struct scan *c, char ch)
{
	if (c->i < c->n && c->s[c->i] == ch) {
		c->i++;
		return 1;
	}
	return 0;
}

/* sc_int: min..max digits as a number. */
static int sc_int(struct scan *c, int min, int max, int *v)
{
	int k = 0, x = 0;

	while (k < max && c->i < c->n && is_digit((unsigned char)c->s[c->i])) {
		x = x * 10 + (c->s[c->i++] - '0');
		k++;
	}
	*v = x;
	return k >= min;
}

int tp_rfc3339(const char *s, size_t n, int64_t *ms)
{
	struct scan c = {s, n, 0};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t t, frac_ms = 0;

	if (s == NULL || !sc_int(&c, 4, 4, &y) || !sc_char(&c, '-') ||
	    !sc_int(&c, 2, 2, &mo) || !sc_char(&c, '-') ||
	    !sc_int(&c, 2, 2, &d))
		return TP_EINVAL;
	if (!sc_char(&c, 'T') && !sc_char(&c, 't') && !sc_char(&c, ' '))
		return TP_EINVAL;
	if (!sc_int(&c, 2, 2, &h) || !sc_char(&c, ':') ||
	    !sc_int(&c, 2, 2, &mi) || !sc_char(&c, ':') ||
	    !sc_int(&c, 2, 2, &sec))
		return TP_EINVAL;
	if (c.i < c.n && c.s[c.i] == '.') {
		int64_t ns;

		/* ".5": a decimal of seconds with no integer part */
		if (scan_decimal(c.s, c.n, &c.i, 1000 * NS_PER_MS, &ns) != 0)
			return TP_EINVAL;
		frac_ms = ns_to_ms_up(ns);
	}
	if (sc_char(&c, 'Z') || sc_char(&c, 'z'))
		sign = 0;
	else if (sc_char(&c, '+'))
		sign = 1;
	else if (sc_char(&c, '-'))
		sign = -1;
	else
		return TP_EINVAL;
	if (sign != 0 && (!sc_int(&c, 2, 2, &oh) || !sc_char(&c, ':') ||
			  !sc_int(&c, 2, 2, &om) || oh > 23 || om > 59))
		return TP_EINVAL;
	if (c.i != c.n || (t = civil_ms(y, mo, d, h, mi, sec)) < 0)
		return TP_EINVAL;
	/* "+02:00" means local = UTC + 2h, so UTC = local - offset. */
	*ms = t + frac_ms - (int64_t)sign * ((int64_t)oh * 60 + om) * 60000;
	return 0;
}

int tp_date_ok(const char *s)
{
	struct scan c = {s, s ? strlen(s) : 0, 0};
	int y, mo, d;

	if (!s || !sc_int(&c, 4, 4, &y) || !sc_char(&c, '-') ||
	    !sc_int(&c, 2, 2, &mo) || !sc_char(&c, '-') ||
	    !sc_int(&c, 2, 2, &d) || c.i != c.n)
		return 0;
	return y >= 2000 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

void tp_hms(char *buf, size_t n, long long secs)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 3600)
		snprintf(buf, n, "%lld:%02lld:%02lld", secs / 3600,
			 secs / 60 % 60, secs % 60);
	else
		snprintf(buf, n, "%lld:%02lld", secs / 60, secs % 60);
}
