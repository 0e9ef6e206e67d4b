/* batch_wire.h — the providers' batch APIs as text: what nightshift sends
 * (input file lines, request elements, create bodies, the custom_ids that
 * tie a result to a job) and what it reads back (batch objects, list
 * pages, the uploaded file's id, result lines), for the two shapes there
 * are: OpenAI's Files + Batches (also DashScope, Mistral) and Anthropic's
 * Message Batches. PROVIDERS.md §1, §1.1 and §2.1 hold the wire facts.
 *
 * No I/O: the batch lane's client moves the bytes and the queue keeps the
 * state; this room only translates. Bodies go through untouched, so that
 * a result line's body reaches the sync dialect's reply reader exactly as
 * an HTTP reply would, and the job body the sync dialect built is copied
 * into the input without being parsed again.
 * Thread-safe (pure functions: no I/O, no globals). */
#ifndef NIGHTSHIFT_BATCH_WIRE_H
#define NIGHTSHIFT_BATCH_WIRE_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct jsonidx;

enum batch_api { BATCH_API_OPENAI, BATCH_API_ANTHROPIC };

/* batch_api_parse: "openai" or "anthropic" (the config's batch.api) into
 * *api; 0, or -1 for any other name (or NULL). batch_api_name: the name
 * back, a static string ("?" out of range). */
int batch_api_parse(const char *name, enum batch_api *api);
const char *batch_api_name(enum batch_api api);

/* ---- custom_id -------------------------------------------------------- */

/* Anthropic takes 1-64 characters of [A-Za-z0-9_-]; OpenAI anything, so
 * one form serves both. */
#define BATCH_CUSTOM_ID_MAX 64

/* Longest tag: two 19-digit row ids and two dashes leave 24. */
#define BATCH_TAG_MAX 24

/* batch_custom_id: "<tag>-<batch>-<job>" (decimal row ids) into
 * out[0..n), NUL-terminated. tag is 1 to BATCH_TAG_MAX characters of
 * [A-Za-z0-9_-], so any pair of row ids fits. Returns the length, or -1
 * (out "" when n > 0) when the tag is refused, a row id is negative, or
 * the id does not fit in n. */
int batch_custom_id(char *out, size_t n, const char *tag, int64_t batch,
		    int64_t job);
/* batch_custom_id_parse: s[0..len) (need not be NUL-terminated) read as
 * batch_custom_id(tag, *batch, *job) wrote it. Returns 0, or -1 when it
 * is not one of ours: another tag, a sign, a leading zero, an overflow,
 * anything after the job id (so each id has one spelling only). */
int batch_custom_id_parse(const char *s, size_t len, const char *tag,
			  int64_t *batch, int64_t *job);

/* ---- what nightshift sends -------------------------------------------- */
/* The builders below append to b, and an append that would pass b's cap
 * (buf.h) fails with BUF_ETOOBIG and leaves b as it was: a caller sizes
 * an input file by giving b the provider's byte limit as its cap, and
 * starts the next file when a line no longer fits. body[0..len) (borrowed,
 * need not be NUL-terminated) is the request body as the sync dialect
 * built it: one JSON object, taken as valid and copied as it is, except
 * that a raw control character (a pretty-printed body's newlines, or a
 * raw one inside a string, which cJSON lets through) would split or break
 * the line: outside strings it becomes a space, inside a \u escape.
 * The strings (custom_id, url...) are borrowed and written escaped. */

/* batch_line_openai: one line of an OpenAI-style input file, newline
 * included: {"custom_id":ID,"method":"POST","url":URL,"body":BODY}.
 * url is the batch's endpoint, e.g. "/v1/chat/completions". Returns 0 or
 * BUF_ETOOBIG. */
int batch_line_openai(struct buf *b, const char *custom_id, const char *url,
		      const char *body, size_t len);

/* An Anthropic create body is {"requests":[REQ,REQ...]}:
 * batch_anthropic_open writes its head into an empty b, batch_req_anthropic
 * appends one element {"custom_id":ID,"params":BODY} (with the comma
 * before it when it is not the first), and batch_anthropic_close ends it.
 * A request is refused (BUF_ETOOBIG) unless it leaves room under the cap
 * for the close, which therefore never fails. A top-level "stream" (as
 * the dialect prints it: unescaped) is left out of params: a batch's
 * results come as one JSONL file, there is nothing to stream, and the
 * SDKs' examples send non-streaming params (MessageCreateParams-
 * NonStreaming). Each returns 0 or BUF_ETOOBIG. */
int batch_anthropic_open(struct buf *b);
int batch_req_anthropic(struct buf *b, const char *custom_id, const char *body,
			size_t len);
int batch_anthropic_close(struct buf *b);

/* batch_create_openai: the body of POST /v1/batches:
 * {"input_file_id":F,"endpoint":E,"completion_window":W,
 *  "metadata":{"nightshift_batch":TAG}}; window NULL is "24h" (OpenAI's
 * only value; DashScope takes up to "336h"), tag NULL leaves metadata
 * out. A new string (free()). */
char *batch_create_openai(const char *file_id, const char *endpoint,
			  const char *window, const char *tag);

/* ---- what the provider sends back ------------------------------------- */

enum batch_status {
	BATCH_ST_VALIDATING,
	BATCH_ST_IN_PROGRESS,
	BATCH_ST_FINALIZING,
	BATCH_ST_COMPLETED,
	BATCH_ST_FAILED, /* OpenAI: the input file was refused (error) */
	BATCH_ST_EXPIRED,
	BATCH_ST_CANCELLING,
	BATCH_ST_CANCELLED,
	BATCH_ST_ENDED /* Anthropic "ended": completed, expired or
			  cancelled alike; the counts tell which */
};

/* The provider's batch object, normalised. Strings are new (freed by
 * batch_info_clear) or NULL when absent or null. */
struct batch_info {
	char *id;
	enum batch_status status;
	int ended; /* no more change to come: the results can be read */
	/* Epoch ms, 0 when unknown. ended_ms is when it reached its end
	 * state (OpenAI completed_at, failed_at, expired_at or
	 * cancelled_at; Anthropic ended_at). */
	int64_t created_ms, ended_ms, expires_ms;
	/* Requests: total, and how many ended each way. OpenAI counts only
	 * completed (done_ok) and failed (errored); the rest is processing
	 * while it runs, expired or cancelled when it ended so, and in no
	 * count otherwise. Anthropic keeps all in processing until the whole
	 * batch ends. */
	int64_t total, done_ok, errored, expired, cancelled, processing;
	/* OpenAI; either may be NULL even when completed (PROVIDERS.md
	 * §1.1: every line failed, no output file). */
	char *output_file_id, *error_file_id;
	/* Anthropic; NULL until ended. */
	char *results_url;
	/* OpenAI metadata.nightshift_batch, and model when given. */
	char *tag, *model;
	/* OpenAI failed validation: the first of errors.data[] as
	 * "code: message (line N)", scrubbed (outcome_message_dup). */
	char *error;
};

/* batch_info_parse: json[0..len) (borrowed), the reply to create,
 * retrieve or cancel, into *out (overwritten: clear it first if it held
 * anything). Returns 0, or -1 when it is not a batch object of api (out
 * is then empty): not a JSON object, another "object"/"type", no id, or
 * a status this code does not know. */
int batch_info_parse(enum batch_api api, const char *json, size_t len,
		     struct batch_info *out);
/* batch_info_clear: free out's strings and zero it; safe on a zeroed
 * struct and twice. */
void batch_info_clear(struct batch_info *b);

/* batch_list_parse: a page of GET /batches (OpenAI) or
 * /messages/batches (Anthropic): *items (new array, free with
 * batch_list_free) of the *n elements of data[] that batch_info_parse
 * reads (others, such as a batch in a status this code does not know,
 * are left out, so one odd batch does not hide the rest); *has_more; and
 * *last_id (new, or NULL), the cursor for the next page (OpenAI ?after=,
 * Anthropic ?after_id=): the page's last_id, else its last element's id.
 * Returns 0, or -1 (outputs empty) when json is not a list page. */
int batch_list_parse(enum batch_api api, const char *json, size_t len,
		     struct batch_info **items, size_t *n, int *has_more,
		     char **last_id);
/* batch_list_free: clear and free items[0..n); NULL is fine. */
void batch_list_free(struct batch_info *items, size_t n);

/* batch_file_id_parse: the uploaded file's id from the reply to
 * POST /files (a file object), new; NULL when it is none. */
char *batch_file_id_parse(const char *json, size_t len);

/* ---- result lines ----------------------------------------------------- */

enum batch_line_kind {
	BATCH_LINE_REPLY,     /* a response: give status and body to the
				 sync dialect's reply reader as if they came
				 over HTTP */
	BATCH_LINE_EXPIRED,   /* not run before the window closed */
	BATCH_LINE_CANCELLED, /* not run: the batch was cancelled */
	BATCH_LINE_ERROR,     /* no response, another error
				 (request_timeout...) */
};

/* Longest Anthropic error type, OpenAI error code and message kept. */
#define BATCH_LINE_CODE_MAX 64
#define BATCH_LINE_MESSAGE_MAX 256

/* One result line read; pointers are into the line (valid while it is). */
struct batch_line {
	enum batch_line_kind kind;
	/* The text between the custom_id's quotes, not decoded: ours never
	 * need escapes, and batch_custom_id_parse refuses a backslash. */
	const char *custom_id;
	size_t custom_id_len;
	/* REPLY: the HTTP status. OpenAI: response.status_code. Anthropic:
	 * 200 when succeeded; when errored, from the error's type as the
	 * Messages API would have answered: invalid_request_error 400,
	 * authentication_error 401, billing_error 402, permission_error
	 * 403, not_found_error 404, request_too_large 413,
	 * rate_limit_error 429, api_error 500, overloaded_error 529,
	 * anything else 500. */
	int status;
	/* REPLY: the reply body's JSON text: OpenAI response.body,
	 * Anthropic result.message, or when errored result.error (the
	 * {"type":"error","error":{...}} object). NULL, 0 when an OpenAI
	 * response holds none. */
	const char *body;
	size_t body_len;
	char request_id[128]; /* OpenAI response.request_id (printable
				 ASCII kept, reqid.h), else "" */
	/* EXPIRED/CANCELLED/ERROR: the code (OpenAI error.code, e.g.
	 * "batch_expired"; Anthropic result.type, "expired"/"canceled"),
	 * else "". */
	char code[BATCH_LINE_CODE_MAX];
	/* ERROR: the provider's message, scrubbed (outcome_message_dup)
	 * and cut on a UTF-8 boundary, else "". */
	char message[BATCH_LINE_MESSAGE_MAX];
};

/* batch_line_parse: one line of an output or error file (OpenAI) or of
 * the results stream (Anthropic), line[0..len) without its newline (a
 * trailing CR is fine). x is scratch for the line's index: zero it before
 * the first call, pass it again for every line, and jsonidx_free it after
 * the last. Returns 0 and fills *out, or -1 and sets *why (may be NULL)
 * to a short static reason when the line is not a result line (not JSON,
 * e.g. the truncated last line of a cut download; no custom_id; neither
 * response nor error; an unknown result type). */
int batch_line_parse(enum batch_api api, struct jsonidx *x, const char *line,
		     size_t len, struct batch_line *out, const char **why);

#endif
