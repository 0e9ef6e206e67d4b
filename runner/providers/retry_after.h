/* retry_after.h — when a provider says we may try again.
 *
 * Providers announce the pause in many ways: Retry-After (seconds or an
 * HTTP-date), retry-after-ms, OpenAI's x-ratelimit-reset-* durations,
 * Anthropic's RFC 3339 reset stamps, Gemini's "Please retry in 45.5s" in
 * the body. These functions turn them into one absolute epoch time.
 * Thread-safe (pure functions: the clock is passed in). */
#ifndef NIGHTSHIFT_RETRY_AFTER_H
#define NIGHTSHIFT_RETRY_AFTER_H

#include <stddef.h>
#include <stdint.h>

/* Longest pause honoured; a later announced time is cut to now + this, so
 * a garbage or hostile value cannot park a job for days. */
#define RETRY_AFTER_CAP_MS ((int64_t)3600 * 1000)

/* retry_after_parse: the earliest epoch ms at which a retry honours every
 * pause announced in the response, i.e. the LATEST of: retry-after-ms,
 * x-ms-retry-after-ms, retry-after (delta seconds, fractional allowed, or
 * an HTTP-date as libcurl's curl_getdate reads it: IMF-fixdate, RFC 850,
 * asctime and the looser forms it takes) and, in the body, Gemini's
 * "Please retry in <duration>" and "retryDelay": "<duration>".
 * `headers` is the raw header block as libcurl collects it (only the last
 * response block is read); either buffer may be NULL, neither need be
 * NUL-terminated. Returns -1 when nothing usable is present; otherwise a
 * value in [now_ms, now_ms + RETRY_AFTER_CAP_MS]. Garbage is ignored.
 * Call it only for error responses: a successful body may well contain
 * the words "Please retry in". */
int64_t retry_after_parse(const char *headers, size_t hlen, const char *body,
			  size_t blen, int64_t now_ms);

/* retry_after_parse_429: retry_after_parse, plus the rate-limit reset
 * headers that only mean "wait" when the request was refused with 429:
 * x-ratelimit-reset-requests / -tokens (OpenAI durations) and
 * anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset
 * (RFC 3339). On other responses those headers describe a window that was
 * not exhausted, so waiting for them would only waste time. */
int64_t retry_after_parse_429(const char *headers, size_t hlen,
			      const char *body, size_t blen, int64_t now_ms);

#endif
