/* dialect_anthropic.h — the `anthropic` dialect: a queued Chat Completions
 * job translated to an Anthropic Messages API request, and the Messages
 * response translated back to a chat.completion (original usage kept)
 * with the outcome's token kinds, including cache writes.
 * Thread-safe (pure functions: no I/O, no globals, clock passed in). */
#ifndef NIGHTSHIFT_DIALECT_ANTHROPIC_H
#define NIGHTSHIFT_DIALECT_ANTHROPIC_H

#include <stddef.h>
#include <stdint.h>

#include "runner/providers/dialect_json.h"
#include "runner/providers/outcome.h"

/* The worker sends "anthropic-version: " DIALECT_ANTHROPIC_VERSION and the
 * key as "x-api-key" (not Authorization). */
#define DIALECT_ANTHROPIC_VERSION "2023-06-01"

/* max_tokens is required by Messages; used when the job gives none. */
#define DIALECT_ANTHROPIC_DEFAULT_MAX_TOKENS 4096

/* dialect_anthropic_request: the queued job body (Chat Completions JSON,
 * borrowed, len bytes) as a Messages request for `model` (the job's model
 * when NULL): system/developer messages become "system", max_tokens (or
 * max_completion_tokens, else default_max_tokens when > 0, else
 * DIALECT_ANTHROPIC_DEFAULT_MAX_TOKENS) is set, temperature is clamped to
 * Anthropic's [0, 1], stop becomes stop_sequences, user becomes
 * metadata.user_id, text and image parts are mapped, parameters Messages
 * lacks are dropped, and a JSON response_format becomes an instruction
 * (with *resp_flags, which may be NULL, set to DIALECT_EXPECT_JSON).
 * Returns a new string (free()), or NULL when the body is not a JSON
 * object or needs what this translation does not do (tools, n > 1, audio
 * or file parts, no messages): such a job is a bad request here. */
char *dialect_anthropic_request(const char *body, size_t len, const char *model,
				int64_t default_max_tokens,
				unsigned *resp_flags);

/* dialect_anthropic_response: classify one HTTP response into o (which
 * must be initialized; it is cleared first). A 200 Messages reply becomes
 * OK with o->body a chat.completion: content is the text blocks joined
 * (thinking blocks left out), finish_reason mapped from stop_reason,
 * usage in OpenAI terms (prompt_tokens includes cache reads and writes)
 * plus the original object as usage.anthropic; "created" is now_ms in
 * seconds; message.refusal and choices[0].logprobs are null (OpenAI's
 * schema requires them; Messages has neither). o->usage: in = input_tokens, in_cached =
 * cache_read_input_tokens, cache_write = cache_creation_input_tokens,
 * out = output_tokens. A refusal with no text is CONTENT_FILTER; flags as
 * for dialect_openai_response. Errors (any status, or a 200 of type
 * "error") are classified by dialect_error_outcome with the anthropic
 * flavor: 529 overloaded, a too-low credit balance is billing, "prompt is
 * too long" is a context overflow; an http_status <= 0 is CONNECTION. */
void dialect_anthropic_response(int http_status, const char *headers,
				size_t hlen, const char *body, size_t blen,
				unsigned flags, int64_t now_ms,
				struct outcome *o);

#endif
