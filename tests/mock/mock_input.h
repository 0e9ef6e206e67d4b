/* mock_input.h — the requests of a batch, as uploaded: an OpenAI JSONL
 * input file (one {"custom_id","method","url","body"} per line) or an
 * Anthropic create body ({"requests":[{"custom_id","params"}, ...]}),
 * walked in place where it is mapped from disk, and checked the way each
 * provider checks it. Thread-safe (no shared state). */
#ifndef MOCK_INPUT_H
#define MOCK_INPUT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "tests/mock/mock_json.h"
#include "tests/mock/mock_reply.h"

/* One request. Spans point into the walked text. */
struct mock_item {
	size_t line;	       /* 1-based: OpenAI line, Anthropic index + 1 */
	const char *text;      /* the whole line / requests element */
	size_t text_len;
	const char *custom_id; /* its JSON string, quotes included */
	size_t custom_id_len;  /* 0: none found */
	const char *body;      /* the body / params value */
	size_t body_len;       /* 0: none found */
};

/* A walk over the requests; mock_input_start, then mock_input_next. */
struct mock_input {
	enum mock_dialect dialect;
	const char *p, *end;
	size_t line;
	struct mock_json_arr arr;
};

/* mock_input_start starts a walk over len bytes at data (borrowed for
 * the walk). Returns 0, or -1 when an Anthropic body has no "requests"
 * array. */
int mock_input_start(struct mock_input *in, enum mock_dialect d,
		     const char *data, size_t len);

/* mock_input_next fills *it with the next request (OpenAI: the next line
 * that is not blank). Returns 1, 0 after the last, or -1 when an
 * Anthropic body is malformed past this point. A line or element that is
 * not an object with custom_id and body is still returned, its missing
 * spans 0-long. */
int mock_input_next(struct mock_input *in, struct mock_item *it);

/* What checking an input found. */
struct mock_input_check {
	size_t n;	 /* requests */
	char *model;	 /* the first request's model, new; NULL: none */
	cJSON *errors;	 /* OpenAI: the batch's errors.data, new; NULL: none */
	char error[256]; /* Anthropic: why the create is refused; "": fine */
};

/* mock_input_check_openai checks an input file as OpenAI does when a
 * batch is created from it: each line an object with a unique non-empty
 * string custom_id, method POST, url /v1/chat/completions and a body
 * object with a string model, every line the same model. Each fault is
 * one errors.data entry {code, message, param, line} (the first 100 are
 * kept). Release *out with mock_input_check_clear. */
void mock_input_check_openai(const char *data, size_t len,
			     struct mock_input_check *out);

/* mock_input_check_anthropic checks a Message Batches create body: a
 * non-empty requests array of at most 100,000, each custom_id 1-64 of
 * [A-Za-z0-9_-] and unique, each params what POST /messages accepts.
 * The first fault is described in out->error. */
void mock_input_check_anthropic(const char *data, size_t len,
				struct mock_input_check *out);

/* mock_input_check_clear frees what a check allocated. */
void mock_input_check_clear(struct mock_input_check *c);

/* mock_input_map maps the file at path read-only into *data, *len (an
 * empty file gives a NULL map of length 0). Returns 0 or -1 (errno). */
int mock_input_map(const char *path, const char **data, size_t *len);

/* mock_input_unmap releases what mock_input_map gave. */
void mock_input_unmap(const char *data, size_t len);

#endif
