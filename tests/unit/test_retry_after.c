/* test_retry_after.c — every form of "not before T" a provider sends:
 * HTTP-dates (the other texts' own parsing is test_timeparse.c's), then
 * whole responses (header blocks and bodies) through retry_after_parse /
 * retry_after_parse_429. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runner/providers/httphdr.h"
#include "runner/providers/retry_after.h"

#define BAD (-999) /* expected: not read as a date */

/* Retry-After dates, read by libcurl's curl_getdate. Each is sent as the
 * only hint, a second before the time it names, so that the parse gives
 * that time back; a date refused gives -1. */
static void http_date_forms(void **state)
{
	static const struct {
		const char *in;
		int64_t want; /* epoch ms, or BAD */
	} c[] = {
	    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777000},
	    {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777000},
	    {"Sun Nov  6 08:49:37 1994", 784111777000},
	    {"Wed, 01 May 2024 12:00:00 GMT", 1714564800000},
	    {"Tue, 29 Feb 2000 23:59:60 GMT", 951868800000}, /* leap s */
	    {"Sun, 06 Nov 1994 08:49:37 UTC", 784111777000},
	    {"Sun, 06 Nov 1994 25:00:00 GMT", BAD},
	    {"Sun, 06 Nov 1994 08:60:00 GMT", BAD},
	    {"Sun, 06 Xyz 1994 08:49:37 GMT", BAD},
	    {"Sun, 06 Nov 1994 08:49:37 GMTjunk", BAD},
	    {"Thu, 01 Jan 1960 00:00:00 GMT", BAD}, /* before 1970 */
	    {"", BAD},
	    {",", BAD},
	    {"soon", BAD},
	    /* curl_getdate is looser than the grammar (the hand parser
	     * before it refused these): zones and offsets are read, words
	     * after the sixth part ignored, a missing time is midnight, a
	     * day past the month's end rolls over. */
	    {"Sun, 06 Nov 1994 08:49:37 PST", 784140577000},
	    {"Wed, 01 May 2024 12:00:10 +0200", 1714557610000},
	    {"wed, 01 may 2024 12:00:10 gmt", 1714564810000},
	    {"Sun, 06 Nov 1994 08:49:37 GMT junk", 784111777000},
	    {"Sun, 06 Nov 1994", 784080000000},
	    {"Sun, 31 Feb 2024 00:00:00 GMT", 1709337600000}, /* Mar 2 */
	    {"Mon, 29 Feb 2100 00:00:00 GMT", 4107542400000}, /* Mar 1 */
	    /* RFC 9110 would make "70" 1970, the most recent past year */
	    {"Thursday, 01-Jan-70 00:00:00 GMT", 3155760000000}, /* 2070 */
	};
	char h[128];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int64_t now = c[i].want == BAD ? 1000 : c[i].want - 1000;
		int64_t got;

		snprintf(h, sizeof(h), "Retry-After: %s\r\n", c[i].in);
		got = retry_after_parse(h, strlen(h), NULL, 0, now);
		if (c[i].want == BAD ? got != -1 : got != c[i].want)
			fail_msg("\"%s\": got %lld, want %lld", c[i].in,
				 (long long)got, (long long)c[i].want);
	}
}

#define NOW ((int64_t)1714564800000) /* 2024-05-01T12:00:00Z */

struct resp_case {
	const char *name;
	const char *headers;
	const char *body;
	int is_429;
	int64_t now;
	int64_t want;
};

static const struct resp_case resp_cases[] = {
    {"nothing", "HTTP/1.1 429 Too Many Requests\r\n\r\n", "{}", 1, NOW, -1},
    {"null buffers", NULL, NULL, 1, NOW, -1},
    {"retry-after seconds", "Retry-After: 30\r\n", NULL, 0, NOW, NOW + 30000},
    {"retry-after fractional", "retry-after: 1.25\r\n", NULL, 0, NOW,
     NOW + 1250},
    {"name case-insensitive", "RETRY-AFTER: 7\r\n", NULL, 0, NOW, NOW + 7000},
    {"retry-after-ms", "retry-after-ms: 1500\r\n", NULL, 0, NOW, NOW + 1500},
    {"x-ms-retry-after-ms", "x-ms-retry-after-ms: 2500\n", NULL, 0, NOW,
     NOW + 2500},
    {"latest of several wins",
     "HTTP/2 429\r\nretry-after: 2\r\nretry-after-ms: 5000\r\n"
     "x-ms-retry-after-ms: 300\r\n\r\n",
     NULL, 0, NOW, NOW + 5000},
    {"http-date", "Retry-After: Wed, 01 May 2024 12:00:10 GMT\r\n", NULL, 0,
     NOW, NOW + 10000},
    {"http-date in the past means now",
     "Retry-After: Sun, 06 Nov 1994 08:49:37 GMT\r\n", NULL, 0, NOW, NOW},
    {"absurd value capped", "Retry-After: 999999\r\n", NULL, 0, NOW,
     NOW + RETRY_AFTER_CAP_MS},
    {"far date capped", "Retry-After: Fri, 01 Jan 2100 00:00:00 GMT\r\n", NULL,
     0, NOW, NOW + RETRY_AFTER_CAP_MS},
    {"garbage ignored", "Retry-After: soon\r\nretry-after-ms: -4\r\n", NULL, 0,
     NOW, -1},
    {"garbage ignored, good one kept",
     "Retry-After: soon\r\nretry-after-ms: 800\r\n", NULL, 0, NOW, NOW + 800},
    {"only the last header block counts",
     "HTTP/1.1 100 Continue\r\nRetry-After: 100\r\n\r\n"
     "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\n\r\n",
     NULL, 0, NOW, NOW + 3000},
    {"earlier block's value is not used",
     "HTTP/1.1 307 Temporary Redirect\r\nRetry-After: 100\r\n\r\n"
     "HTTP/1.1 503 Service Unavailable\r\n\r\n",
     NULL, 0, NOW, -1},
    {"openai reset on 429",
     "x-ratelimit-reset-requests: 1s\r\nx-ratelimit-reset-tokens: 6m0s\r\n",
     NULL, 1, NOW, NOW + 360000},
    {"openai reset ms on 429", "x-ratelimit-reset-tokens: 12ms\r\n", NULL, 1,
     NOW, NOW + 12},
    {"openai reset ignored off 429",
     "x-ratelimit-reset-requests: 1s\r\nx-ratelimit-reset-tokens: 6m0s\r\n",
     NULL, 0, NOW, -1},
    {"anthropic resets on 429",
     "anthropic-ratelimit-requests-reset: 2024-05-01T12:00:05Z\r\n"
     "anthropic-ratelimit-tokens-reset: 2024-05-01T12:00:20Z\r\n"
     "anthropic-ratelimit-input-tokens-reset: 2024-05-01T12:00:09Z\r\n"
     "anthropic-ratelimit-output-tokens-reset: 2024-05-01T12:00:01Z\r\n"
     "retry-after: 4\r\n",
     NULL, 1, NOW, NOW + 20000},
    {"anthropic resets ignored off 429",
     "anthropic-ratelimit-tokens-reset: 2024-05-01T12:00:20Z\r\n"
     "retry-after: 4\r\n",
     NULL, 0, NOW, NOW + 4000},
    {"gemini message text", NULL,
     "[{\"error\":{\"code\":429,\"message\":\"Quota exceeded. "
     "Please retry in 45.5s.\",\"status\":\"RESOURCE_EXHAUSTED\"}}]",
     1, NOW, NOW + 45500},
    {"gemini retryDelay", NULL,
     "{\"error\":{\"details\":[{\"@type\":\"type.googleapis.com/"
     "google.rpc.RetryInfo\",\"retryDelay\": \"45s\"}]}}",
     1, NOW, NOW + 45000},
    {"gemini both: latest", NULL,
     "{\"error\":{\"message\":\"Please retry in 58.821668433s.\","
     "\"details\":[{\"retryDelay\":\"58s\"}]}}",
     1, NOW, NOW + 58822},
    {"gemini escaped inside a string", NULL,
     "{\"error\":{\"message\":\"{\\\"retryDelay\\\": \\\"7s\\\"}\"}}", 0, NOW,
     NOW + 7000},
    {"body garbage ignored", NULL,
     "Please retry in soon. retryDelay: \"forever\"", 0, NOW, -1},
    {"header later than body", "Retry-After: 60\r\n", "Please retry in 5s.", 0,
     NOW, NOW + 60000},
    {"body later than header", "Retry-After: 1\r\n", "please retry in 1m", 0,
     NOW, NOW + 60000},
};

static void responses(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		const struct resp_case *c = &resp_cases[i];
		size_t hl = c->headers ? strlen(c->headers) : 0;
		size_t bl = c->body ? strlen(c->body) : 0;
		int64_t got = c->is_429
				  ? retry_after_parse_429(c->headers, hl,
							  c->body, bl, c->now)
				  : retry_after_parse(c->headers, hl, c->body,
						      bl, c->now);

		if (got != c->want)
			fail_msg("%s: got %lld, want %lld (delta %lld)",
				 c->name, (long long)got, (long long)c->want,
				 (long long)(got - c->now));
	}
}

/* The buffers are used by length: bytes past hlen/blen must not count. */
static void buffers_read_by_length(void **state)
{
	const char h[] = "Retry-After: 5\r\nRetry-After-Ms: 90000";
	const char b[] = "Please retry in 2s. Please retry in 99s";
	size_t hl = strlen("Retry-After: 5\r\n");
	size_t bl = strlen("Please retry in 2s.");

	(void)state;
	assert_int_equal(retry_after_parse(h, hl, NULL, 0, NOW), NOW + 5000);
	assert_int_equal(retry_after_parse(NULL, 0, b, bl, NOW), NOW + 2000);
	assert_int_equal(retry_after_parse(h, sizeof(h) - 1, NULL, 0, NOW),
			 NOW + 90000);
}

static void httphdr_lookup(void **state)
{
	const char h[] = "HTTP/1.1 100 Continue\r\nX-Request-Id: old\r\n\r\n"
			 "HTTP/2 429 \r\nx-request-id:   req_123 \t\r\n"
			 "content-type: application/json\n\r\n";
	size_t n = 0;
	const char *v;
	char *d;

	(void)state;
	assert_int_equal(httphdr_status(h, sizeof(h) - 1), 429);
	v = httphdr_get(h, sizeof(h) - 1, "X-REQUEST-ID", &n);
	assert_non_null(v);
	assert_int_equal(n, 7);
	assert_memory_equal(v, "req_123", 7);
	assert_null(httphdr_get(h, sizeof(h) - 1, "x-request", &n));
	assert_null(httphdr_get(h, sizeof(h) - 1, "retry-after", &n));
	d = httphdr_dup(h, sizeof(h) - 1, "content-type", 4);
	assert_string_equal(d, "appl");
	free(d);
	assert_int_equal(httphdr_status("x: y\r\n", 6), 0);
	assert_int_equal(httphdr_status("HTTP/1.1 2\r\n", 12), 0);
	assert_null(httphdr_get(NULL, 0, "x", &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(http_date_forms),
	    cmocka_unit_test(responses),
	    cmocka_unit_test(buffers_read_by_length),
	    cmocka_unit_test(httphdr_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
