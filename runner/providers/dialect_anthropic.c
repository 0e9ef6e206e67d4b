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
 * Error replies are read and classified as in the openai dialect
 * (dialect_error.h), with the anthropic flavor. */
#include "runner/providers/dialect_anthropic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "runner/json/jsonutil.h"
#include "runner/providers/dialect_error.h"
#include "runner/providers/dialect_json.h"
#include "runner/providers/reqid.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Where the request id is looked for first, in this order. */
static const char *const reqid_headers[] = {"request-id", "x-request-id"};

/* para: s appended to b as a paragraph of its own. Returns 0, or
 * BUF_ETOOBIG. */
static int para(struct buf *b, const char *s)
{
	if (b->len > 0 && buf_add(b, "\n\n", 2) != 0)
		return BUF_ETOOBIG;
	return buf_addstr(b, s);
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

	if (cJSON_IsString(content))
		return para(sys, content->valuestring) == 0;
	if (!cJSON_IsArray(content))
		return 0;
	cJSON_ArrayForEach(part, content)
	{
		const char *type = json_str(part, "type");
		const char *text = json_str(part, "text");

		if (type == NULL || strcmp(type, "text") != 0 || text == NULL ||
		    para(sys, text) != 0)
			return 0;
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

char *dialect_anthropic_request(const char *body, size_t len, const char *model,
				int64_t default_max_tokens,
				unsigned *resp_flags)
{
	cJSON *root = json_parse_exact(body, len), *out = NULL, *msgs;
	const cJSON *m, *n, *t;
	/* Not capped here: the system text is made of the job's body, which
	 * ingest capped, and of an instruction made from it. */
	struct buf sys = BUF_INIT(SIZE_MAX);
	unsigned flags = 0;
	const cJSON *format;
	char *text = NULL;
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
	if ((format = dialect_json_format(root)) != NULL) {
		char *instr = dialect_json_instruction(format);
		int rc = para(&sys, instr);

		free(instr);
		if (rc != 0)
			goto fail;
		flags |= DIALECT_EXPECT_JSON;
	}
	if (sys.len > 0)
		cJSON_AddStringToObject(out, "system", sys.p);
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
	buf_free(&sys);
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

/* The chat.completion for a Messages reply. Returns a new string or
 * NULL. Every member OpenAI's schema requires (CreateChatCompletionResponse
 * in its openapi.json: id, object, created, model, choices[] with index,
 * message {role, content, refusal}, logprobs and finish_reason) is there,
 * so that a typed client reading the export takes it as it takes an
 * OpenAI reply; what Messages has no equivalent for (logprobs, a refusal
 * text apart from the content) is null. */
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
	cJSON_AddNullToObject(msg, "refusal");
	cJSON_AddNullToObject(ch, "logprobs");
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
	const char *type, *stop;
	/* The text is never longer than the body it is decoded from. */
	struct buf text = BUF_INIT(blen);
	char *unwrapped = NULL;

	if (dialect_error_begin(http_status, o))
		return;
	root = json_parse_exact(body, blen);
	o->request_id = reqid_get(headers, hlen, reqid_headers, 2, root);
	if (dialect_error_check(http_status, headers, hlen, body, blen, root,
				FLAVOR_ANTHROPIC, now_ms, o))
		goto out;
	usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	o->usage.in = json_count(usage, "input_tokens", -1);
	o->usage.out = json_count(usage, "output_tokens", -1);
	/* Both counts are required: without them the tokens are unknown,
	 * not zero. */
	o->usage_reported = o->usage.in >= 0 && o->usage.out >= 0;
	o->usage.in = o->usage.in < 0 ? 0 : o->usage.in;
	o->usage.out = o->usage.out < 0 ? 0 : o->usage.out;
	o->usage.in_cached = json_count(usage, "cache_read_input_tokens", 0);
	o->usage.cache_write =
	    json_count(usage, "cache_creation_input_tokens", 0);
	type = json_str(root, "type");
	if (type && strcmp(type, "error") == 0) {
		/* An error inside a 200; the tokens it reports (if any) are
		 * billed. */
		dialect_error_outcome(http_status, headers, hlen, body, blen,
				      root, FLAVOR_ANTHROPIC, now_ms, o);
		goto out;
	}
	content = cJSON_GetObjectItemCaseSensitive(root, "content");
	if (type == NULL || strcmp(type, "message") != 0 ||
	    !cJSON_IsArray(content) || buf_add(&text, "", 0) != 0) {
		outcome_set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
				  "response is not a Messages reply");
		goto out;
	}
	cJSON_ArrayForEach(blk, content)
	{
		const char *bt = json_str(blk, "type");
		const char *t = json_str(blk, "text");

		if (bt && strcmp(bt, "text") == 0 && t &&
		    buf_addstr(&text, t) != 0) {
			outcome_set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
					  "response text longer than its "
					  "body");
			goto out;
		}
	}
	stop = json_str(root, "stop_reason");
	if (text.len == 0 && stop && strcmp(stop, "refusal") == 0) {
		outcome_set_error(o, OUTCOME_CONTENT_FILTER, "refusal",
				  "the model refused to answer");
		goto out;
	}
	if ((flags & DIALECT_EXPECT_JSON) &&
	    !dialect_json_text_ok(text.p, &unwrapped)) {
		outcome_set_error(o, OUTCOME_INVALID_OUTPUT, "invalid_json",
				  "content is not a JSON object");
		goto out;
	}
	o->body = to_completion(root, unwrapped ? unwrapped : text.p, &o->usage,
				now_ms);
	if (o->body == NULL) {
		outcome_set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
				  "could not encode the response");
		goto out;
	}
	o->body_len = strlen(o->body);
	o->cls = OUTCOME_OK;
out:
	free(unwrapped);
	buf_free(&text);
	cJSON_Delete(root);
}
