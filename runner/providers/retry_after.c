/* retry_after.c — every way a provider says "not before T", read into one
 * absolute epoch time.
 *
 * The rule is to honour the latest announced time, never an earlier one:
 * a client that retries at the first of several announced resets just
 * collects another 429 (litellm#20722, #40130). What is about providers
 * is here: which headers and body hints count, and on which replies. The
 * texts themselves are read elsewhere: durations, seconds, milliseconds
 * and RFC 3339 stamps by util/timeparse.h (rounded up, saturating), and
 * HTTP-dates by libcurl's curl_getdate, which the worker links anyway. The
 * result is capped at RETRY_AFTER_CAP_MS past now.
 *
 * curl_getdate is looser than the HTTP-date grammar: it also takes other
 * zone names and numeric offsets (read as such), no zone (GMT), no weekday
 * or no time (midnight), a day past its month's end (rolled over: Feb 31
 * is Mar 2), words after the sixth part (ignored), and reads a two-digit
 * year 70 as 2070. A date before 1970 comes back negative and is not
 * taken. Each is a time some server meant or garbage, and the cap bounds
 * what garbage can cost, so its reading is taken as it is. */
#include "runner/providers/retry_after.h"

#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "runner/providers/httphdr.h"
#include "util/timeparse.h"

/* Only this much of an error body is searched for a retry hint. */
#define BODY_SCAN_MAX ((size_t)64 * 1024)

/* Longest HTTP-date read; the longest of the three forms (RFC 850 with
 * "Wednesday") has 33 bytes. */
#define HTTP_DATE_MAX 64

/* Latest date taken, 9999-12-31T23:59:59Z in seconds: far past the cap,
 * and far from overflowing once in ms. */
#define DATE_MAX_S ((int64_t)253402300799)

/* http_date: an HTTP-date (s[0..n), not NUL-terminated) as epoch ms. */
static int http_date(const char *s, size_t n, int64_t *ms)
{
	char buf[HTTP_DATE_MAX + 1];
	time_t t;

	if (n > HTTP_DATE_MAX || memchr(s, '\0', n))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((t = curl_getdate(buf, NULL)) == -1)
		return -1;
	*ms = ((int64_t)t > DATE_MAX_S ? DATE_MAX_S : (int64_t)t) * 1000;
	return 0;
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* find_ci: needle (ASCII, lower case) in hay[from..n) ignoring case; the
 * offset just past it, or 0 when absent. */
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
	return (c >= '0' && c <= '9') || c == '.' || (c >= 'a' && c <= 'z') ||
	       c == 0xc2 || c == 0xb5 || c == 0xce || c == 0xbc;
}

/* body_duration: the duration at body[i]: the longest run of duration
 * characters, minus a sentence's closing period. */
static int body_duration(const char *b, size_t n, size_t i, int64_t *ms)
{
	size_t j = i;

	while (j < n && is_dur_char((unsigned char)b[j]))
		j++;
	while (j > i && b[j - 1] == '.')
		j--;
	return tp_duration(b + i, j - i, TP_UNITS, ms);
}

/* body_delay_ms: Gemini puts the pause in the body: in the message text
 * ("Please retry in 58.8s.") and in a google.rpc.RetryInfo detail
 * ("retryDelay": "58s"). The scan skips quotes, colons, spaces and
 * backslashes after the key so the hint is also found when the error JSON
 * arrives escaped inside another string. Returns the largest delta found,
 * or -1. */
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
		if (val && tp_duration(val, vlen, TP_MSECS, &v) == 0)
			take(&best, now_ms + v);
	}
	val = httphdr_get(h, hlen, "retry-after", &vlen);
	if (val) {
		if (tp_duration(val, vlen, TP_SECS, &v) == 0)
			take(&best, now_ms + v);
		else if (http_date(val, vlen, &v) == 0)
			take(&best, v);
	}
	if (is_429) {
		for (k = 0; k < 2; k++) {
			val = httphdr_get(h, hlen, openai_resets[k], &vlen);
			if (val && tp_duration(val, vlen, TP_UNITS, &v) == 0)
				take(&best, now_ms + v);
		}
		for (k = 0; k < 4; k++) {
			val = httphdr_get(h, hlen, anthropic_resets[k], &vlen);
			if (val && tp_rfc3339(val, vlen, &v) == 0)
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
