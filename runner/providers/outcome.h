/* outcome.h — what one provider request came to: success with usage, or a
 * classified error. Dialects fill it from the HTTP response, the worker
 * fills it from curl (timeouts, connection errors), and policy_next()
 * turns it into the next action. The class names are stored in the ledger,
 * so they are stable strings.
 * Thread-safe (no shared state; an outcome belongs to one thread). */
#ifndef NIGHTSHIFT_OUTCOME_H
#define NIGHTSHIFT_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

/* Comments say what each class means to policy_next(). */
enum outcome_class {
	OUTCOME_OK = 0,
	/* slow down, retry the same provider later */
	OUTCOME_RATE_LIMITED,
	/* provider-wide load (529, 503): retry later */
	OUTCOME_OVERLOADED,
	/* 500/502/504, a 200 carrying an error: retry */
	OUTCOME_SERVER_ERROR,
	/* curl timeout, or HTTP 408: retry */
	OUTCOME_TIMEOUT,
	/* reset/refused/DNS, set from curl: retry */
	OUTCOME_CONNECTION,
	/* bad or truncated JSON, no choices, content not JSON when JSON
	 * was asked for: retry a little, then fail over */
	OUTCOME_INVALID_OUTPUT,
	/* moderation: fail over, never retry the same provider */
	OUTCOME_CONTENT_FILTER,
	/* 401/403, bad key: stop using the provider for the run */
	OUTCOME_AUTH,
	/* quota gone, arrears, 402: stop using the provider for the run */
	OUTCOME_BILLING,
	/* 400/422 that is the request's fault: dead */
	OUTCOME_BAD_REQUEST,
	/* 404, model not found: fail over */
	OUTCOME_NOT_FOUND,
	/* input too long for the model: fail over to a bigger window */
	OUTCOME_CONTEXT_OVERFLOW,
	/* 413: dead */
	OUTCOME_TOO_LARGE,
	OUTCOME__COUNT
};

/* Token kinds kept apart so cost is exact: cached input and reasoning
 * output are priced differently from plain input and output. */
struct outcome_usage {
	int64_t in;	       /* uncached input tokens */
	int64_t in_cached;     /* cache-read input tokens */
	int64_t cache_write;   /* cache-creation input tokens (Anthropic) */
	int64_t out;	       /* output tokens excluding reasoning */
	int64_t out_reasoning; /* reasoning ("thinking") output tokens */
};

struct outcome {
	enum outcome_class cls;
	int http_status;	/* 0 when there was no response */
	int64_t retry_after_ms; /* epoch ms not to retry before; -1 none */
	int limit_spent;	/* a 429 that says the account's shared
				   window is spent (remaining 0, a quota),
				   not a refusal of this request alone */
	struct outcome_usage usage;
	/* The reply carried usable input and output counts (a count that is
	 * absent, negative, not a number or over 1e15 is not): usage of
	 * zero tokens is then zero, not unknown. */
	int usage_reported;
	char *request_id;    /* provider's request id, owned, or NULL */
	char *error_code;    /* provider's code/type string, owned, or NULL */
	char *error_message; /* short human text, owned, or NULL; scrubbed */
	char *body;	     /* on OK: chat.completion JSON to store, owned */
	size_t body_len;
};

/* Longest error_message kept, in bytes (cut on a UTF-8 boundary). */
#define OUTCOME_MESSAGE_MAX 300

/* Static initializer equal to what outcome_init() sets. */
#define OUTCOME_INIT                                                           \
	{                                                                      \
		.cls = OUTCOME_OK, .retry_after_ms = -1                        \
	}

/* Lifecycle. outcome_init sets an empty outcome (OK, no strings,
 * retry_after_ms -1); outcome_clear frees the owned strings and re-inits.
 * outcome_clear on an initialized outcome is always safe. */
void outcome_init(struct outcome *o);
void outcome_clear(struct outcome *o);

/* Names. outcome_class_name returns a static stable string ("ok",
 * "rate_limited", ...; "unknown" out of range). outcome_class_from_name
 * maps it back; returns 0 and sets *c, or -1 when the name is unknown. */
const char *outcome_class_name(enum outcome_class c);
int outcome_class_from_name(const char *name, enum outcome_class *c);

/* outcome_is_transient: 1 for the classes worth retrying on the same
 * provider (rate limited, overloaded, server error, timeout, connection). */
int outcome_is_transient(enum outcome_class c);

/* outcome_message_dup: a new (free()) copy of s[0..n) fit to store and
 * log: control characters become spaces, runs of spaces collapse, invalid
 * UTF-8 becomes '?', it is cut to OUTCOME_MESSAGE_MAX bytes, and words
 * that look like credentials (sk-..., AIza..., "Bearer x", long opaque
 * tokens) become "[redacted]". Returns NULL when s is NULL or the result
 * is empty. */
char *outcome_message_dup(const char *s, size_t n);

/* outcome_set_error: make o the error cls with the provider's code and a
 * message (both borrowed, either may be NULL), each copied through
 * outcome_message_dup; what o held for them before is freed. */
void outcome_set_error(struct outcome *o, enum outcome_class cls,
		       const char *code, const char *msg);

/* outcome_scrub: replace every occurrence of `secret` (e.g. the API key
 * the worker sent) with "[redacted]" in o's error_message, error_code,
 * request_id and body (a 200 reply may echo it), in place. The dialects
 * never see keys; the worker calls this as a second guard. A NULL or
 * short (< 8 bytes) secret is ignored. */
void outcome_scrub(struct outcome *o, const char *secret);

#endif
