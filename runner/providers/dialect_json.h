/* dialect_json.h — JSON mode, as both dialects speak it: a job asks for
 * a bare JSON object with response_format json_object or json_schema;
 * where the provider lacks that mode (the Messages API, some OpenAI-like
 * servers) it is asked for by an instruction in the messages, and the
 * reply is checked to be a JSON object (a ``` fence, which models asked
 * by prompt often add, is taken off).
 * Thread-safe (pure functions). */
#ifndef NIGHTSHIFT_DIALECT_JSON_H
#define NIGHTSHIFT_DIALECT_JSON_H

#include <cjson/cJSON.h>

/* How a job asking for JSON output is sent (a provider's quirk). */
enum dialect_json_mode {
	DIALECT_JSON_NATIVE,	  /* pass response_format through */
	DIALECT_JSON_ENSURE_WORD, /* pass it, and add a JSON instruction when
				     no message says "json" (DashScope 400s
				     otherwise) */
	DIALECT_JSON_PROMPT	  /* drop response_format; ask by instruction
				     (schema included) and validate */
};

/* Response flags, produced by a dialect's request function and passed
 * back to its response function. */
#define DIALECT_EXPECT_JSON 0x1u /* message content must be a JSON object */

/* Asking.
 * dialect_json_format: root's response_format (borrowed from the tree)
 * when it asks for JSON output (type json_object or json_schema), else
 * NULL.
 * dialect_json_instruction: the instruction asking for a bare JSON
 * object, naming the schema of format (a dialect_json_format result) when
 * it gives one. Returns a new string (free()).
 * dialect_json_apply: JSON mode for the Chat Completions body root (a
 * tree, edited in place): under a mode other than NATIVE the instruction
 * joins the leading system message (or a new one is put first: some
 * providers refuse a second system message), ENSURE_WORD only when no
 * message mentions "json", and PROMPT drops response_format. Returns
 * DIALECT_EXPECT_JSON when the job asks for JSON, else 0. */
const cJSON *dialect_json_format(const cJSON *root);
char *dialect_json_instruction(const cJSON *format);
unsigned dialect_json_apply(cJSON *root, enum dialect_json_mode mode);

/* Checking the reply.
 * dialect_json_text_ok: 1 when text (may be NULL) is a JSON object, or a
 * ``` fenced block holding one; then *unwrapped is the inside of the
 * fence (new, free()) or NULL when there was no fence. 0 otherwise.
 * dialect_json_check_content: whether a chat.completion message's
 * "content" (message borrowed, edited in place) is acceptable as above;
 * a fenced one is replaced by its inside, and *changed set then. */
int dialect_json_text_ok(const char *text, char **unwrapped);
int dialect_json_check_content(cJSON *message, int *changed);

#endif
