/* dialect_openai_response.h — the `openai` dialect's reply: one HTTP
 * response of a provider that speaks the OpenAI wire format turned into
 * an outcome: a chat.completion with its usage in the token kinds priced
 * apart, or a classified error (dialect_error.h). Providers differ in
 * error shapes and a few meanings (a DashScope 429 "insufficient_quota"
 * is a throttle, an OpenAI one is billing), so it takes the provider's
 * flavor.
 * Thread-safe (pure functions: no I/O, no globals, clock passed in). */
#ifndef NIGHTSHIFT_DIALECT_OPENAI_RESPONSE_H
#define NIGHTSHIFT_DIALECT_OPENAI_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "runner/providers/dialect_json.h"
#include "runner/providers/flavor.h"
#include "runner/providers/outcome.h"

/* dialect_openai_response: classify one HTTP response into o. o must be
 * initialized (outcome_init/OUTCOME_INIT); it is cleared first, then
 * owns the strings it gets. headers is the raw header block as collected
 * from libcurl, body the raw response body; both borrowed, either may be
 * NULL. flags are those dialect_openai_request gave (DIALECT_EXPECT_JSON).
 * On a valid chat.completion (choices[0].message present) the class
 * is OK, o->body is a copy of the response (the content unwrapped from a
 * ``` fence when JSON was expected) and o->usage holds the token kinds;
 * usage is also filled for INVALID_OUTPUT and CONTENT_FILTER replies,
 * since those tokens are billed. Otherwise o holds the error class,
 * provider code, scrubbed message and the absolute retry_after_ms the
 * provider announced (-1 when none; the 429-only reset headers are read
 * only for a 429 or a rate-limit class). An http_status <= 0 is
 * CONNECTION. */
void dialect_openai_response(int http_status, const char *headers, size_t hlen,
			     const char *body, size_t blen,
			     enum prov_flavor flavor, unsigned flags,
			     int64_t now_ms, struct outcome *o);

#ifdef NIGHTSHIFT_TEST
/* For tests only (built with the unit tests' copy of the library, never
 * into nightshift): the tree path alone, which the fast path must agree
 * with (the unit tests compare them). Same contract as
 * dialect_openai_response. */
void dialect_openai_response__slow(int http_status, const char *headers,
				   size_t hlen, const char *body, size_t blen,
				   enum prov_flavor flavor, unsigned flags,
				   int64_t now_ms, struct outcome *o);
#endif

#endif
