/* dialect_anthropic.c — Chat Completions jobs sent to the Anthropic
 * Messages API, and Messages replies returned as chat.completion.
 *
 * Jobs are queued in the OpenAI batch format whatever provider serves
 * them, so this dialect translates both ways (PROVIDERS.md 2.2): system
 * messages move to the top-level "system", max_tokens becomes mandatory,
 * temperature is clamped to [0, 1], stop becomes stop_sequences, and JSON
 * mode (which Messages lacks) is asked for by instruction and validated.
 * A job that needs more than this (tools, several choices) is refused
 * rather than sent half-translated. The reply's text blocks become the
 * message content, and usage keeps Anthropic's four token kinds apart,
 * since cache writes and cache reads are priced differently from input.
 * Error bodies share the openai dialect's classification. */
#include "runner/providers/dialect_anthropic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"
#include "runner/json/jsonutil.h"
#include "runner/providers/dialect_openai.h"
#include "runner/providers/httphdr.h"

#define REQUEST_ID_MAX 128

/* A growing string. */
struct buf {
	char *s;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_para(struct buf *b, const char *s)
{
	if (b->len > 0)
		buf_add(b, "\n\n", 2);
	buf_add(b, s, strlen(s));
}

/* Whether a member is present with a value that means something. */
static int present(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	return it != NULL && !cJSON_IsNull(it) &&
	       !(cJSON_IsArray(it) && cJSON_GetArraySize(it) == 0);
}

/* ---- request ---------------------------------------------------------- */

/* Appends a system message's text to sys; 0 when it holds non-text. */
static int system_text(const cJSON *content, struct buf *sys)
{
	const cJSON *part;

	if (cJSON_IsString(content)) {
		buf_para(sys, content->valuestring);
		return 1;
	}
	if (!cJSON_IsArray(content))
		return 0;
	cJSON_ArrayForEach(part, content)
	{
		const char *type = json_str(part, "type");
		const char *text = json_str(part, "text");

		if (type == NULL || strcmp(type, "text") != 0 || text == NULL)
			return 0;
		buf_para(sys, text);
	}
	return 1;
}

/* An OpenAI image_url part as a Messages image block, or NULL. */
static cJSON *image_block(const cJSON *part)
{
	const cJSON *iu = cJSON_GetObjectItemCaseSensitive(part, "image_url");
	const char *url =
	    cJSON_IsString(iu) ? iu->valuestring : json_str(iu, "url");
	cJSON *blk, *src;

	if (url == NULL)
		return NULL;
	blk = cJSON_CreateObject();
	cJSON_AddStringToObject(blk, "type", "image");
	src = cJSON_AddObjectToObject(blk, "source");
	if (strncmp(url, "data:", 5) == 0) {
		/* data:<media type>;base64,<data> */
		const char *semi = strchr(url, ';');
		const char *comma = strchr(url, ',');
		char *mt;

		if (semi == NULL || comma == NULL || comma < semi ||
		    strncmp(semi, ";base64,", 8) != 0) {
			cJSON_Delete(blk);
			return NULL;
		}
		mt = xstrndup(url + 5, (size_t)(semi - url - 5));
		cJSON_AddStringToObject(src, "type", "base64");
		cJSON_AddStringToObject(src, "media_type", mt);
		cJSON_AddStringToObject(src, "data", comma + 1);
		free(mt);
	} else {
		cJSON_AddStringToObject(src, "type", "url");
		cJSON_AddStringToObject(src, "url", url);
	}
	return blk;
}

/* A user/assistant content as Messages content, or NULL when it holds a
 * part this translation does not carry. */
static cJSON *message_content(const cJSON *content)
{
	const cJSON *part;
	cJSON *out;

	if (cJSON_IsString(content))
		return cJSON_CreateString(content->valuestring);
	if (!cJSON_IsArray(content) || cJSON_GetArraySize(content) == 0)
		return NULL;
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(part, content)
	{
		const char *type = json_str(part, "type");
		cJSON *blk = NULL;

		if (type && strcmp(type, "text") == 0 &&
		    json_str(part, "text")) {
			blk = cJSON_CreateObject();
			cJSON_AddStringToObject(blk, "type", "text");
			cJSON_AddStringToObject(blk, "text",
						json_str(part, "text"));
		} else if (type && strcmp(type, "image_url") == 0) {
			blk = image_block(part);
		}
		if (blk == NULL) {
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToArray(out, blk);
	}
	return out;
}

static int64_t max_tokens_of(const cJSON *root, int64_t dflt)
{
	static const char *const keys[] = {"max_completion_tokens",
					   "max_tokens"};
	size_t i;

	for (i = 0; i < 2; i++) {
		const cJSON *it =
		    cJSON_GetObjectItemCaseSensitive(root, keys[i]);

		if (cJSON_IsNumber(it) && it->valuedouble >= 1 &&
		    it->valuedouble < 1e9)
			return (int64_t)it->valuedouble;
	}
	return dflt > 0 ? dflt : DIALECT_ANTHROPIC_DEFAULT_MAX_TOKENS;
}

/* stop: a string or an array of strings. 0 when malformed. */
static int add_stop(const cJSON *root, cJSON *out)
{
	const cJSON *stop = cJSON_GetObjectItemCaseSensitive(root, "stop");
	const cJSON *s;
	cJSON *arr;

	if (stop == NULL || cJSON_IsNull(stop))
		return 1;
	arr = cJSON_AddArrayToObject(out, "stop_sequences");
	if (cJSON_IsString(stop)) {
		cJSON_AddItemToArray(arr,
				     cJSON_CreateString(stop->valuestring));
		return 1;
	}
	if (!cJSON_IsArray(stop))
		return 0;
	cJSON_ArrayForEach(s, stop)
	{
		if (!cJSON_IsString(s))
			return 0;
		cJSON_AddItemToArray(arr, cJSON_CreateString(s->valuestring));
	}
	return 1;
}

/* The JSON instruction for a json_object/json_schema response_format,
 * or NULL when the job does not ask for JSON. */
static char *json_request(const cJSON *root)
{
	const cJSON *rf =
	    cJSON_GetObjectItemCaseSensitive(root, "response_format");
	const char *type = json_str(rf, "type");
	const cJSON *schema;
	char *text, *out;

	if (type == NULL || (strcmp(type, "json_object") != 0 &&
			     strcmp(type, "json_schema") != 0))
		return NULL;
	schema = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(rf, "json_schema"), "schema");
	text = cJSON_IsObject(schema) ? cJSON_PrintUnformatted(schema) : NULL;
	out = dialect_json_instruction(text);
	free(text);
	return out;
}

char *dialect_anthropic_request(const char *body, size_t len, const char *model,
				int64_t default_max_tokens,
				unsigned *resp_flags)
{
	cJSON *root = json_parse_exact(body, len), *out = NULL, *msgs;
	const cJSON *m, *n, *t;
	struct buf sys = {NULL, 0, 0};
	unsigned flags = 0;
	char *text = NULL, *instr = NULL;
	int nmsgs = 0;

	if (resp_flags)
		*resp_flags = 0;
	if (!cJSON_IsObject(root))
		goto out;
	if (model == NULL)
		model = json_str(root, "model");
	n = cJSON_GetObjectItemCaseSensitive(root, "n");
	if (model == NULL || (cJSON_IsNumber(n) && n->valuedouble > 1) ||
	    present(root, "tools") || present(root, "functions") ||
	    present(root, "tool_choice") || present(root, "audio"))
		goto out;
	msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
	if (!cJSON_IsArray(msgs))
		goto out;

	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "model", model);
	cJSON_AddNumberToObject(
	    out, "max_tokens", (double)max_tokens_of(root, default_max_tokens));
	{
		cJSON *list = cJSON_AddArrayToObject(out, "messages");

		cJSON_ArrayForEach(m, msgs)
		{
			const char *role = json_str(m, "role");
			const cJSON *content =
			    cJSON_GetObjectItemCaseSensitive(m, "content");
			cJSON *mm, *c;

			if (role == NULL || present(m, "tool_calls") ||
			    present(m, "function_call"))
				goto fail;
			if (strcmp(role, "system") == 0 ||
			    strcmp(role, "developer") == 0) {
				if (!system_text(content, &sys))
					goto fail;
				continue;
			}
			if (strcmp(role, "user") != 0 &&
			    strcmp(role, "assistant") != 0)
				goto fail;
			c = message_content(content);
			if (c == NULL)
				goto fail;
			mm = cJSON_CreateObject();
			cJSON_AddStringToObject(mm, "role", role);
			cJSON_AddItemToObject(mm, "content", c);
			cJSON_AddItemToArray(list, mm);
			nmsgs++;
		}
	}
	if (nmsgs == 0)
		goto fail;
	instr = json_request(root);
	if (instr) {
		buf_para(&sys, instr);
		flags |= DIALECT_EXPECT_JSON;
	}
	if (sys.len > 0)
		cJSON_AddStringToObject(out, "system", sys.s);
	t = cJSON_GetObjectItemCaseSensitive(root, "temperature");
	if (cJSON_IsNumber(t)) {
		/* OpenAI allows 0-2, Anthropic 0-1. */
		double v = t->valuedouble;

		cJSON_AddNumberToObject(out, "temperature",
					v < 0	? 0
					: v > 1 ? 1
						: v);
	}
	t = cJSON_GetObjectItemCaseSensitive(root, "top_p");
	if (cJSON_IsNumber(t))
		cJSON_AddNumberToObject(out, "top_p", t->valuedouble);
	if (!add_stop(root, out))
		goto fail;
	if (json_str(root, "user")) {
		cJSON *md = cJSON_AddObjectToObject(out, "metadata");

		cJSON_AddStringToObject(md, "user_id", json_str(root, "user"));
	}
	text = cJSON_PrintUnformatted(out);
	if (resp_flags && text)
		*resp_flags = flags;
	goto out;
fail:
	text = NULL;
out:
	free(instr);
	free(sys.s);
	cJSON_Delete(out);
	cJSON_Delete(root);
	return text;
}

/* ---- response --------------------------------------------------------- */

static const char *finish_reason(const char *stop)
{
	if (stop == NULL)
		return "stop";
	if (strcmp(stop, "max_tokens") == 0 ||
	    strcmp(stop, "model_context_window_exceeded") == 0)
		return "length";
	if (strcmp(stop, "tool_use") == 0)
		return "tool_calls";
	if (strcmp(stop, "refusal") == 0)
		return "content_filter";
	return "stop"; /* end_turn, stop_sequence, pause_turn */
}

static char *request_id(const char *h, size_t hlen, const cJSON *root)
{
	static const char *const names[] = {"request-id", "x-request-id"};
	const char *v;
	size_t i, n, k = 0;
	char *out;

	for (i = 0; i < 2; i++) {
		v = httphdr_get(h, hlen, names[i], &n);
		if (v && n)
			break;
	}
	if (i == 2) {
		v = json_str(root, "request_id");
		if (v == NULL)
			v = json_str(root, "id");
		if (v == NULL)
			return NULL;
		n = strlen(v);
	}
	if (n > REQUEST_ID_MAX)
		n = REQUEST_ID_MAX;
	out = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		if (v[i] > 0x20 && v[i] < 0x7f)
			out[k++] = v[i];
	out[k] = '\0';
	if (k == 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void fail_with(struct outcome *o, enum outcome_class cls,
		      const char *code, const char *msg)
{
	o->cls = cls;
	o->error_code = code ? xstrdup(code) : NULL;
	o->error_message = xstrdup(msg);
}

/* The chat.completion for a Messages reply. Returns a new string or
 * NULL. */
static char *to_completion(const cJSON *root, const char *text,
			   const struct outcome_usage *u, int64_t now_ms)
{
	cJSON *c = cJSON_CreateObject(), *choices, *ch, *msg, *usage;
	const cJSON *orig = cJSON_GetObjectItemCaseSensitive(root, "usage");
	const char *id = json_str(root, "id");
	const char *model = json_str(root, "model");
	int64_t prompt = u->in + u->in_cached + u->cache_write;
	char *out;

	cJSON_AddStringToObject(c, "id", id ? id : "");
	cJSON_AddStringToObject(c, "object", "chat.completion");
	cJSON_AddNumberToObject(c, "created", (double)(now_ms / 1000));
	cJSON_AddStringToObject(c, "model", model ? model : "");
	choices = cJSON_AddArrayToObject(c, "choices");
	ch = cJSON_CreateObject();
	cJSON_AddNumberToObject(ch, "index", 0);
	msg = cJSON_AddObjectToObject(ch, "message");
	cJSON_AddStringToObject(msg, "role", "assistant");
	cJSON_AddStringToObject(msg, "content", text);
	cJSON_AddStringToObject(ch, "finish_reason",
				finish_reason(json_str(root, "stop_reason")));
	cJSON_AddItemToArray(choices, ch);
	usage = cJSON_AddObjectToObject(c, "usage");
	cJSON_AddNumberToObject(usage, "prompt_tokens", (double)prompt);
	cJSON_AddNumberToObject(usage, "completion_tokens", (double)u->out);
	cJSON_AddNumberToObject(usage, "total_tokens",
				(double)(prompt + u->out));
	cJSON_AddNumberToObject(
	    cJSON_AddObjectToObject(usage, "prompt_tokens_details"),
	    "cached_tokens", (double)u->in_cached);
	if (cJSON_IsObject(orig))
		cJSON_AddItemToObject(usage, "anthropic",
				      cJSON_Duplicate(orig, 1));
	out = cJSON_PrintUnformatted(c);
	cJSON_Delete(c);
	return out;
}

void dialect_anthropic_response(int http_status, const char *headers,
				size_t hlen, const char *body, size_t blen,
				unsigned flags, int64_t now_ms,
				struct outcome *o)
{
	cJSON *root = NULL;
	const cJSON *content, *blk, *usage;
	const char *type;
	struct buf text = {NULL, 0, 0};
	char *unwrapped = NULL;

	if (http_status < 200 || http_status >= 300) {
		dialect_openai_response(http_status, headers, hlen, body, blen,
					FLAVOR_ANTHROPIC, flags, now_ms, o);
		return;
	}
	root = json_parse_exact(body, blen);
	type = json_str(root, "type");
	if (type && strcmp(type, "error") == 0) {
		/* An error inside a 200: the shared classifier reads it. */
		cJSON_Delete(root);
		dialect_openai_response(http_status, headers, hlen, body, blen,
					FLAVOR_ANTHROPIC, flags, now_ms, o);
		return;
	}
	outcome_clear(o);
	o->http_status = http_status;
	o->request_id = request_id(headers, hlen, root);
	if (root == NULL) {
		fail_with(o, OUTCOME_INVALID_OUTPUT, NULL,
			  blen ? "response body is not valid JSON (truncated?)"
			       : "empty response body");
		goto out;
	}
	usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	o->usage.in = json_count(usage, "input_tokens", 0);
	o->usage.in_cached = json_count(usage, "cache_read_input_tokens", 0);
	o->usage.cache_write = json_count(usage, "cache_creation_input_tokens", 0);
	o->usage.out = json_count(usage, "output_tokens", 0);
	content = cJSON_GetObjectItemCaseSensitive(root, "content");
	if (type == NULL || strcmp(type, "message") != 0 ||
	    !cJSON_IsArray(content)) {
		fail_with(o, OUTCOME_INVALID_OUTPUT, NULL,
			  "response is not a Messages reply");
		goto out;
	}
	buf_add(&text, "", 0);
	cJSON_ArrayForEach(blk, content)
	{
		const char *bt = json_str(blk, "type");
		const char *t = json_str(blk, "text");

		if (bt && strcmp(bt, "text") == 0 && t)
			buf_add(&text, t, strlen(t));
	}
	if (text.len == 0 && json_str(root, "stop_reason") &&
	    strcmp(json_str(root, "stop_reason"), "refusal") == 0) {
		fail_with(o, OUTCOME_CONTENT_FILTER, "refusal",
			  "the model refused to answer");
		goto out;
	}
	if ((flags & DIALECT_EXPECT_JSON) &&
	    !dialect_json_text_ok(text.s, &unwrapped)) {
		fail_with(o, OUTCOME_INVALID_OUTPUT, "invalid_json",
			  "content is not a JSON object");
		goto out;
	}
	o->body = to_completion(root, unwrapped ? unwrapped : text.s, &o->usage,
				now_ms);
	if (o->body == NULL) {
		fail_with(o, OUTCOME_INVALID_OUTPUT, NULL,
			  "could not encode the response");
		goto out;
	}
	o->body_len = strlen(o->body);
	o->cls = OUTCOME_OK;
out:
	free(unwrapped);
	free(text.s);
	cJSON_Delete(root);
}
