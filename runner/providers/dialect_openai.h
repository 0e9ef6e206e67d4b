/* dialect_openai.h — the `openai` dialect: Chat Completions as spoken by
 * OpenAI, Qwen/DashScope compatible mode, DeepSeek, Mistral, Gemini's
 * compatible endpoint, vLLM and llama.cpp. It rewrites a queued job body
 * into the request to send, and turns the HTTP response into an outcome.
 * Providers differ in error shapes and a few meanings (a DashScope 429
 * "insufficient_quota" is a throttle, an OpenAI one is billing), so the
 * response side takes the provider's flavor.
 * Thread-safe (pure functions: no I/O, no globals, clock passed in). */
#ifndef NIGHTSHIFT_DIALECT_OPENAI_H
#define NIGHTSHIFT_DIALECT_OPENAI_H

#include <stddef.h>
#include <stdint.h>

#include "runner/providers/flavor.h"
#include "runner/providers/outcome.h"

/* How a job asking for JSON output (response_format json_object or
 * json_schema) is sent. */
enum dialect_json_mode {
	DIALECT_JSON_NATIVE,	  /* pass response_format through */
	DIALECT_JSON_ENSURE_WORD, /* pass it, and add a JSON instruction when
				     no message says "json" (DashScope 400s
				     otherwise) */
	DIALECT_JSON_PROMPT	  /* drop response_format; ask by instruction
				     (schema included) and validate */
};

/* Per-provider request rewrites; a zeroed struct (or NULL) only replaces
 * the model. */
struct dialect_openai_quirks {
	char *const *drop_params; /* top-level keys to remove (Mistral 422s
				     on unknown ones); "model" and
				     "messages" are never dropped */
	size_t ndrop;
	int thinking_off; /* send "enable_thinking": false (Qwen3
			     400s on non-streaming calls
			     otherwise) */
	enum dialect_json_mode json_mode;
};

/* Response flags, produced by dialect_openai_request. */
#define DIALECT_EXPECT_JSON 0x1u /* message content must be a JSON object */

/* dialect_openai_request: the queued job body (JSON text, borrowed,
 * len bytes, need not be NUL-terminated) rewritten as the request body to
 * send: "model" set to `model` (kept when model is NULL), "stream" and
 * "stream_options" removed (the worker reads whole responses), then the
 * quirks q (may be NULL) applied. Sets *resp_flags (may be NULL) to the
 * flags to pass to dialect_openai_response. Returns a new string
 * (free()), or NULL when body is not a JSON object. */
char *dialect_openai_request(const char *body, size_t len, const char *model,
			     const struct dialect_openai_quirks *q,
			     unsigned *resp_flags);
/* dialect_openai_request_indexed: the same for a body its caller has
 * indexed already (jsonidx_parse(x, body, len, &end) returned 0), which
 * saves indexing it again for every request sent; x may be NULL. */
struct jsonidx;
char *dialect_openai_request_indexed(const char *body, size_t len,
				     const struct jsonidx *x, size_t end,
				     const char *model,
				     const struct dialect_openai_quirks *q,
				     unsigned *resp_flags);

/* dialect_openai_response: classify one HTTP response into o. o must be
 * initialized (outcome_init/OUTCOME_INIT); it is cleared first, then
 * owns the strings it gets. headers is the raw header block as collected
 * from libcurl, body the raw response body; both borrowed, either may be
 * NULL. On a valid chat.completion (choices[0].message present) the class
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

/* Shared with the other dialects.
 * dialect_json_instruction: the instruction asking for a bare JSON
 * object, naming the schema when schema_json (JSON text, borrowed) is not
 * NULL. Returns a new string (free()).
 * dialect_json_text_ok: 1 when text is a JSON object, or a ``` fenced
 * block holding one; then *unwrapped is the inside of the fence (new,
 * free()) or NULL when there was no fence. 0 otherwise. */
char *dialect_json_instruction(const char *schema_json);
int dialect_json_text_ok(const char *text, char **unwrapped);

#ifdef NIGHTSHIFT_TEST
/* For tests only (built with the unit tests' copy of the library, never
 * into nightshift): the tree paths alone, which the fast paths of the two
 * functions above must agree with (the unit tests compare them). Same
 * contracts as dialect_openai_request and dialect_openai_response. */
char *dialect_openai__request_slow(const char *body, size_t len,
				   const char *model,
				   const struct dialect_openai_quirks *q,
				   unsigned *resp_flags);
void dialect_openai__response_slow(int http_status, const char *headers,
				   size_t hlen, const char *body, size_t blen,
				   enum prov_flavor flavor, unsigned flags,
				   int64_t now_ms, struct outcome *o);
#endif

#endif
