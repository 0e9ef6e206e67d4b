/* mock_content.h — the mock provider's deterministic assistant text and
 * its token counts. Thread-safe (pure functions; no globals). */
#ifndef MOCK_CONTENT_H
#define MOCK_CONTENT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct mock_content {
	char *text; /* new, freed by mock_content_clear */
	bool cut;   /* cut to max_tokens * 4 bytes */
	long prompt_tokens, completion_tokens;
};

/* mock_content_make fills *out with the answer to the request req
 * (borrowed; NULL or not an object gives a generic answer) whose body
 * hashes to hash: "Summary (HASH8): <first ~12 words of the last user
 * message> ..." padded to 200-600 bytes, or with as_json the object
 * {"summary":...,"id":HASH8} shrunk to fit max_tokens when it can, or,
 * given a JSON Schema (borrowed, may be NULL), an object with each of its
 * properties as a value of the property's type (strings: words of the
 * summary).
 * prompt_tokens = ceil(message content bytes / 4) + 4 per message
 * (Anthropic's top-level system counts as a message); completion_tokens
 * = ceil(text bytes / 4). */
void mock_content_make(const cJSON *req, uint64_t hash, bool as_json,
		       const cJSON *schema, struct mock_content *out);

/* mock_content_prompt_tokens returns the prompt tokens of req (borrowed)
 * as mock_content_make counts them, before any --prompt-scale. */
long mock_content_prompt_tokens(const cJSON *req);

/* mock_content_clear frees out->text. */
void mock_content_clear(struct mock_content *c);

#endif
