/* retry_after.c — every way a provider says "not before T", parsed into
 * one absolute epoch time.
 *
 * The rule is to honour the latest announced time, never an earlier one:
 * a client that retries at the first of several announced resets just
 * collects another 429 (litellm#20722, #40130). All parsing is by hand,
 * without the C library's time functions, so it is pure (no TZ, no
 * locale) and works on buffers that are not NUL-terminated. Every number
 * saturates instead of overflowing, and the result is capped at
 * RETRY_AFTER_CAP_MS past now. */
#include "runner/providers/retry_after.h"

#include <string.h>

#include "runner/providers/httphdr.h"

#define NS_PER_MS ((int64_t)1000000)
/* Saturation point for parsed spans: 100 days in ns. Far past the cap, and
 * far from INT64_MAX so now + span cannot overflow either. */
#define SAT_NS ((int64_t)100 * 86400 * 1000 * NS_PER_MS)

/* Only this much of an error body is searched for a retry hint. */
#define BODY_SCAN_MAX ((size_t)64 * 1024)

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > SAT_NS - b ? SAT_NS : a + b;
}

static int64_t ns_to_ms_up(int64_t ns)
{
	return ns / NS_PER_MS + (ns % NS_PER_MS != 0);
}

/* Reads "digits[.digits]" at s[*pos] and scales it by unit_ns, rounding
 * the fraction up. Returns 0 or -1 when no digit is there. */
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

int retry_after_seconds(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	int64_t ns;

	if (s == NULL || scan_decimal(s, n, &i, 1000 * NS_PER_MS, &ns) != 0 ||
	    i != n)
		return RETRY_AFTER_EINVAL;
	*out = ns_to_ms_up(ns);
	return 0;
}

/* The value of a delta in milliseconds ("1500", "2.5"), as ms. */
static int parse_ms(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	int64_t ns;

	if (s == NULL || scan_decimal(s, n, &i, NS_PER_MS, &ns) != 0 || i != n)
		return RETRY_AFTER_EINVAL;
	*out = ns_to_ms_up(ns);
	return 0;
}

/* Unit at s[*pos] for a Go duration; advances past it. */
static int64_t scan_unit(const char *s, size_t n, size_t *pos)
{
	size_t i = *pos, left = n - i;

	if (left >= 2 && s[i] == 'm' && s[i + 1] == 's') {
		*pos = i + 2;
		return NS_PER_MS;
	}
	if (left >= 2 && s[i] == 'n' && s[i + 1] == 's') {
		*pos = i + 2;
		return 1;
	}
	if (left >= 2 && s[i] == 'u' && s[i + 1] == 's') {
		*pos = i + 2;
		return 1000;
	}
	/* U+00B5 micro sign and U+03BC Greek mu, as Go prints them. */
	if (left >= 3 && s[i + 2] == 's' &&
	    ((s[i] == '\xc2' && s[i + 1] == '\xb5') ||
	     (s[i] == '\xce' && s[i + 1] == '\xbc'))) {
		*pos = i + 3;
		return 1000;
	}
	if (left >= 1 && s[i] == 's') {
		*pos = i + 1;
		return 1000 * NS_PER_MS;
	}
	if (left >= 1 && s[i] == 'm') {
		*pos = i + 1;
		return 60 * 1000 * NS_PER_MS;
	}
	if (left >= 1 && s[i] == 'h') {
		*pos = i + 1;
		return 3600 * 1000 * NS_PER_MS;
	}
	return 0;
}

int retry_after_duration(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	int64_t total = 0;

	if (s == NULL || n == 0)
		return RETRY_AFTER_EINVAL;
	if (n == 1 && s[0] == '0') {
		*out = 0;
		return 0;
	}
	while (i < n) {
		size_t numstart = i, j;
		int64_t unit, v;

		/* Find the unit first: the number's scale depends on it. */
		while (i < n && (is_digit((unsigned char)s[i]) || s[i] == '.'))
			i++;
		if (i == numstart)
			return RETRY_AFTER_EINVAL;
		j = i;
		unit = scan_unit(s, n, &j);
		if (unit == 0)
			return RETRY_AFTER_EINVAL;
		i = numstart;
		if (scan_decimal(s, n, &i, unit, &v) != 0 ||
		    (i < n && s[i] == '.'))
			return RETRY_AFTER_EINVAL;
		total = sat_add(total, v);
		i = j;
	}
	*out = ns_to_ms_up(total);
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
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

/* Epoch ms of a broken-down UTC time, or -1 when a field is out of range
 * (second 60 is a leap second and allowed). */
static int64_t civil_ms(int64_t y, int mo, int d, int h, int mi, int s)
{
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 || h < 0 ||
	    mi < 0 || s < 0)
		return -1;
	return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
	       (int64_t)s * 1000;
}

/* Cursor over a date string. */
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

static void sc_spaces(struct scan *c)
{
	while (c->i < c->n && c->s[c->i] == ' ')
		c->i++;
}

/* Exactly `min`..`max` digits. */
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

static int sc_month(struct scan *c, int *m)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int k;

	if (c->n - c->i < 3)
		return 0;
	for (k = 0; k < 12; k++) {
		if (lower((unsigned char)c->s[c->i]) == names[3 * k] &&
		    lower((unsigned char)c->s[c->i + 1]) == names[3 * k + 1] &&
		    lower((unsigned char)c->s[c->i + 2]) == names[3 * k + 2]) {
			c->i += 3;
			*m = k + 1;
			return 1;
		}
	}
	return 0;
}

static int sc_word(struct scan *c)
{
	size_t start = c->i;

	while (c->i < c->n && ((c->s[c->i] >= 'a' && c->s[c->i] <= 'z') ||
			       (c->s[c->i] >= 'A' && c->s[c->i] <= 'Z')))
		c->i++;
	return c->i > start;
}

static int sc_hms(struct scan *c, int *h, int *mi, int *s)
{
	return sc_int(c, 2, 2, h) && sc_char(c, ':') && sc_int(c, 2, 2, mi) &&
	       sc_char(c, ':') && sc_int(c, 2, 2, s);
}

static int sc_gmt(struct scan *c)
{
	if (c->n - c->i < 3)
		return 0;
	if (memcmp(c->s + c->i, "GMT", 3) == 0 ||
	    memcmp(c->s + c->i, "UTC", 3) == 0) {
		c->i += 3;
		return 1;
	}
	return 0;
}

int retry_after_http_date(const char *s, size_t n, int64_t *out)
{
	struct scan c = {s, n, 0};
	int d, mo, y, h, mi, sec;
	int64_t t;

	if (s == NULL || !sc_word(&c))
		return RETRY_AFTER_EINVAL;
	if (sc_char(&c, ',')) {
		sc_spaces(&c);
		if (!sc_int(&c, 1, 2, &d))
			return RETRY_AFTER_EINVAL;
		if (sc_char(&c, '-')) {
			/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a
			 * two-digit year is read in a 1970-2069 window. */
			if (!sc_month(&c, &mo) || !sc_char(&c, '-') ||
			    !sc_int(&c, 2, 4, &y))
				return RETRY_AFTER_EINVAL;
			if (y < 100)
				y += y < 70 ? 2000 : 1900;
		} else {
			/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
			if (!sc_char(&c, ' ') || !sc_month(&c, &mo) ||
			    !sc_char(&c, ' ') || !sc_int(&c, 4, 4, &y))
				return RETRY_AFTER_EINVAL;
		}
		if (!sc_char(&c, ' ') || !sc_hms(&c, &h, &mi, &sec) ||
		    !sc_char(&c, ' ') || !sc_gmt(&c))
			return RETRY_AFTER_EINVAL;
	} else {
		/* asctime: "Sun Nov  6 08:49:37 1994". */
		if (!sc_char(&c, ' ') || !sc_month(&c, &mo))
			return RETRY_AFTER_EINVAL;
		sc_spaces(&c);
		if (!sc_int(&c, 1, 2, &d) || !sc_char(&c, ' ') ||
		    !sc_hms(&c, &h, &mi, &sec) || !sc_char(&c, ' ') ||
		    !sc_int(&c, 4, 4, &y))
			return RETRY_AFTER_EINVAL;
	}
	if (c.i != c.n)
		return RETRY_AFTER_EINVAL;
	t = civil_ms(y, mo, d, h, mi, sec);
	if (t < 0)
		return RETRY_AFTER_EINVAL;
	*out = t;
	return 0;
}

int retry_after_rfc3339(const char *s, size_t n, int64_t *out)
{
	struct scan c = {s, n, 0};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t t, frac_ms = 0;

	if (s == NULL || !sc_int(&c, 4, 4, &y) || !sc_char(&c, '-') ||
	    !sc_int(&c, 2, 2, &mo) || !sc_char(&c, '-') ||
	    !sc_int(&c, 2, 2, &d))
		return RETRY_AFTER_EINVAL;
	if (!sc_char(&c, 'T') && !sc_char(&c, 't') && !sc_char(&c, ' '))
		return RETRY_AFTER_EINVAL;
	if (!sc_hms(&c, &h, &mi, &sec))
		return RETRY_AFTER_EINVAL;
	if (c.i < c.n && c.s[c.i] == '.') {
		int64_t ns;

		/* ".5" scanned as a decimal of seconds with no integer part. */
		if (scan_decimal(c.s, c.n, &c.i, 1000 * NS_PER_MS, &ns) != 0)
			return RETRY_AFTER_EINVAL;
		frac_ms = ns_to_ms_up(ns);
	}
	if (sc_char(&c, 'Z') || sc_char(&c, 'z')) {
		sign = 0;
	} else if (sc_char(&c, '+')) {
		sign = 1;
	} else if (sc_char(&c, '-')) {
		sign = -1;
	} else {
		return RETRY_AFTER_EINVAL;
	}
	if (sign != 0 && (!sc_int(&c, 2, 2, &oh) || !sc_char(&c, ':') ||
			  !sc_int(&c, 2, 2, &om) || oh > 23 || om > 59))
		return RETRY_AFTER_EINVAL;
	if (c.i != c.n)
		return RETRY_AFTER_EINVAL;
	t = civil_ms(y, mo, d, h, mi, sec);
	if (t < 0)
		return RETRY_AFTER_EINVAL;
	/* "+02:00" means local = UTC + 2h, so UTC = local - offset. */
	*out = t + frac_ms - (int64_t)sign * ((int64_t)oh * 60 + om) * 60000;
	return 0;
}

/* Finds needle (ASCII, lower case) in hay[0..n) ignoring case; returns
 * the offset just past it, or 0 when absent. */
static size_t find_ci(const char *hay, size_t n, const char *needle,
		      size_t from)
{
	size_t nl = strlen(needle), i, k;

	if (nl == 0 || n < nl)
		return 0;
	for (i = from; i + nl <= n; i++) {
		for (k = 0; k < nl; k++)
			if (lower((unsigned char)hay[i + k]) != needle[k])
				break;
		if (k == nl)
			return i + nl;
	}
	return 0;
}

static int is_dur_char(int c)
{
	/* Digits, '.', unit letters and the bytes of "µ" (C2 B5, CE BC). */
	return is_digit(c) || c == '.' || (c >= 'a' && c <= 'z') || c == 0xc2 ||
	       c == 0xb5 || c == 0xce || c == 0xbc;
}

/* Parses a duration token starting at body[i]: the longest run of duration
 * characters, minus a sentence's closing period. */
static int body_duration(const char *b, size_t n, size_t i, int64_t *ms)
{
	size_t j = i;

	while (j < n && is_dur_char((unsigned char)b[j]))
		j++;
	while (j > i && b[j - 1] == '.')
		j--;
	return retry_after_duration(b + i, j - i, ms);
}

/* Gemini puts the pause in the body: in the message text ("Please retry
 * in 58.8s.") and in a google.rpc.RetryInfo detail ("retryDelay": "58s").
 * The scan skips quotes, colons, spaces and backslashes after the key so
 * the hint is also found when the error JSON arrives escaped inside
 * another string. Returns the largest delta found, or -1. */
static int64_t body_delay_ms(const char *b, size_t n)
{
	static const char *const keys[] = {"please retry in ", "retrydelay"};
	int64_t best = -1, ms;
	size_t k;

	if (b == NULL)
		return -1;
	if (n > BODY_SCAN_MAX)
		n = BODY_SCAN_MAX;
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t at = 0;

		while ((at = find_ci(b, n, keys[k], at)) != 0) {
			while (at < n && (b[at] == '"' || b[at] == ':' ||
					  b[at] == ' ' || b[at] == '\\'))
				at++;
			if (body_duration(b, n, at, &ms) == 0 && ms > best)
				best = ms;
		}
	}
	return best;
}

static void take(int64_t *best, int64_t t)
{
	if (t > *best)
		*best = t;
}

static int64_t parse(const char *h, size_t hlen, const char *body, size_t blen,
		     int64_t now_ms, int is_429)
{
	static const char *const ms_names[] = {"retry-after-ms",
					       "x-ms-retry-after-ms"};
	static const char *const openai_resets[] = {
	    "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"};
	static const char *const anthropic_resets[] = {
	    "anthropic-ratelimit-requests-reset",
	    "anthropic-ratelimit-tokens-reset",
	    "anthropic-ratelimit-input-tokens-reset",
	    "anthropic-ratelimit-output-tokens-reset"};
	int64_t best = -1, v;
	const char *val;
	size_t vlen, k;

	for (k = 0; k < 2; k++) {
		val = httphdr_get(h, hlen, ms_names[k], &vlen);
		if (val && parse_ms(val, vlen, &v) == 0)
			take(&best, now_ms + v);
	}
	val = httphdr_get(h, hlen, "retry-after", &vlen);
	if (val) {
		if (retry_after_seconds(val, vlen, &v) == 0)
			take(&best, now_ms + v);
		else if (retry_after_http_date(val, vlen, &v) == 0)
			take(&best, v);
	}
	if (is_429) {
		for (k = 0; k < 2; k++) {
			val = httphdr_get(h, hlen, openai_resets[k], &vlen);
			if (val && retry_after_duration(val, vlen, &v) == 0)
				take(&best, now_ms + v);
		}
		for (k = 0; k < 4; k++) {
			val = httphdr_get(h, hlen, anthropic_resets[k], &vlen);
			if (val && retry_after_rfc3339(val, vlen, &v) == 0)
				take(&best, v);
		}
	}
	v = body_delay_ms(body, blen);
	if (v >= 0)
		take(&best, now_ms + v);

	if (best < 0)
		return -1;
	if (best < now_ms)
		return now_ms; /* a reset already past: go now */
	if (best - now_ms > RETRY_AFTER_CAP_MS)
		return now_ms + RETRY_AFTER_CAP_MS;
	return best;
}

int64_t retry_after_parse(const char *headers, size_t hlen, const char *body,
			  size_t blen, int64_t now_ms)
{
	return parse(headers, hlen, body, blen, now_ms, 0);
}

int64_t retry_after_parse_429(const char *headers, size_t hlen,
			      const char *body, size_t blen, int64_t now_ms)
{
	return parse(headers, hlen, body, blen, now_ms, 1);
}
