/* dialect_openai_request.h — the `openai` dialect's request: a queued job
 * body (Chat Completions, as OpenAI's batch files hold it) rewritten as
 * the body to send to one provider that speaks the OpenAI wire format
 * (OpenAI, Qwen/DashScope compatible mode, DeepSeek, Mistral, Gemini's
 * compatible endpoint, vLLM, llama.cpp): its model, no streaming, and its
 * quirks. The reply is read by dialect_openai_response.h.
 * Thread-safe (pure functions: no I/O, no globals). */
#ifndef NIGHTSHIFT_DIALECT_OPENAI_REQUEST_H
#define NIGHTSHIFT_DIALECT_OPENAI_REQUEST_H

#include <stddef.h>

#include "runner/providers/dialect_json.h"

struct jsonidx;

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
 * saves indexing it again for every request sent; x (borrowed) may be
 * NULL. */
char *dialect_openai_request_indexed(const char *body, size_t len,
				     const struct jsonidx *x, size_t end,
				     const char *model,
				     const struct dialect_openai_quirks *q,
				     unsigned *resp_flags);

#ifdef NIGHTSHIFT_TEST
/* For tests only (built with the unit tests' copy of the library, never
 * into nightshift): the tree path alone, which the fast path must agree
 * with (the unit tests compare them). Same contract as
 * dialect_openai_request. */
char *dialect_openai_request__slow(const char *body, size_t len,
				   const char *model,
				   const struct dialect_openai_quirks *q,
				   unsigned *resp_flags);
#endif

#endif
