/* dialect_openai.c — Chat Completions requests and responses for every
 * provider that speaks the OpenAI wire format, with each one's quirks.
 *
 * The request side edits the queued body as a JSON tree: the model is
 * replaced by the candidate's, streaming is turned off, and per-provider
 * quirks are applied (unknown fields dropped for Mistral, Qwen3 thinking
 * off, JSON mode emulated by instruction where the provider lacks it).
 *
 * The response side is the error taxonomy in practice. "OpenAI
 * compatible" providers agree on the success shape but not on errors:
 * DashScope's compatible mode reports a per-minute token throttle as a
 * 429 "insufficient_quota" that OpenAI uses for an empty account
 * (oh-my-pi#8476), Gemini sends errors as a JSON array and puts the pause
 * in the message text, Mistral uses a flat {"object":"error"} body,
 * DeepSeek signals moderation with "Content Exists Risk", and a 200 can
 * carry an error instead of choices. Classification therefore looks at
 * the provider's code/type/status strings first and the HTTP status last,
 * and reads ambiguous codes by flavor. See PROVIDERS.md 1, 3.3, 3.6-3.8.
 *
 * Both sides have a fast path for the common case, which indexes the text
 * in place (jsonidx) instead of building a cJSON tree: building and
 * printing trees was ~15% of a run's CPU, mostly malloc. A request that
 * needs no message rewrite is copied member by member as text slices; a
 * plain 2xx chat.completion is read without a tree. Anything else, or
 * anything cJSON might read differently from jsonidx, falls through to the
 * tree code, which stays the reference: the unit tests compare the two. */
#define _GNU_SOURCE /* memmem */
#include "runner/providers/dialect_openai.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"
#include "runner/json/jsonutil.h"
#include "runner/providers/httphdr.h"
#include "runner/json/jsonidx.h"
#include "runner/providers/retry_after.h"

/* Longest request id kept; ids are short, a longer one is garbage. */
#define REQUEST_ID_MAX 128

/* ---- small helpers ---------------------------------------------------- */

static int ci_contains(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);

	if (hay == NULL)
		return 0;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, nl) == 0)
			return 1;
	return 0;
}

/* Bounded search in a buffer that need not be NUL-terminated. */
static int mem_contains(const char *hay, size_t n, const char *needle)
{
	return hay != NULL && memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* A copy of an id with anything but printable ASCII dropped. */
static char *dup_token(const char *s, size_t n)
{
	char *out;
	size_t i, k = 0;

	if (s == NULL || n == 0)
		return NULL;
	if (n > REQUEST_ID_MAX)
		n = REQUEST_ID_MAX;
	out = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		if (s[i] > 0x20 && s[i] < 0x7f)
			out[k++] = s[i];
	out[k] = '\0';
	if (k == 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void set_error(struct outcome *o, enum outcome_class cls,
		      const char *code, const char *msg)
{
	o->cls = cls;
	free(o->error_code);
	o->error_code = code ? outcome_message_dup(code, strlen(code)) : NULL;
	free(o->error_message);
	o->error_message = msg ? outcome_message_dup(msg, strlen(msg)) : NULL;
}

/* ---- fast paths: what cJSON would read the same ---------------------- */

/* Longest number every cJSON build parses: upstream 1.7 copies at most 63
 * characters and then fails on the digits left over (the packaged build
 * may not; longer numbers are too rare to be worth the doubt). */
#define CJSON_NUMBER_MAX 63

/* index_exact: index body[0..len) into x when it is one JSON object that
 * json_parse_exact would accept and read exactly as jsonidx does. cJSON
 * differs on three texts jsonidx takes: a \u0000 escape (cJSON cuts the
 * string there, so "model\u0000x" is a key "model" to it), a number
 * longer than CJSON_NUMBER_MAX (may be refused) and one that overflows a
 * double (inf, printed as null). Any of them sends the caller to the slow path,
 * as does anything but the four whitespace bytes after the value. Returns
 * 0 (free x with jsonidx_free) or -1 (nothing to free). */
static int exact(const struct jsonidx *x, const char *body, size_t len,
		 size_t end)
{
	while (end < len && (body[end] == ' ' || body[end] == '\t' ||
			     body[end] == '\r' || body[end] == '\n'))
		end++;
	if (end != len || x->t[0].type != JSONIDX_OBJECT)
		return -1;
	if (!x->nul && !x->exp && x->longest_number <= CJSON_NUMBER_MAX)
		return 0; /* as almost every text: no token to look at */
	for (size_t i = 0; i < x->n; i++) {
		const struct jsonidx_tok *t = &x->t[i];
		size_t n = t->end - t->start;

		if (jsonidx_holds_nul(x, body, i))
			return -1;
		if (t->type == JSONIDX_NUMBER &&
		    (n > CJSON_NUMBER_MAX ||
		     ((memchr(body + t->start, 'e', n) ||
		       memchr(body + t->start, 'E', n)) &&
		      !isfinite(jsonidx_number(x, body, i)))))
			return -1;
	}
	return 0;
}

static int index_exact(struct jsonidx *x, const char *body, size_t len)
{
	size_t end;

	if (body == NULL || len == 0)
		return -1;
	if (jsonidx_parse(x, body, len, &end) != 0 ||
	    exact(x, body, len, end) != 0) {
		jsonidx_free(x);
		return -1;
	}
	return 0;
}

/* ---- request ---------------------------------------------------------- */

/* Whether any message's text mentions "json", in any case. */
static int mentions_json(const cJSON *messages)
{
	const cJSON *m, *part;

	cJSON_ArrayForEach(m, messages)
	{
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");

		if (cJSON_IsString(c) && ci_contains(c->valuestring, "json"))
			return 1;
		if (!cJSON_IsArray(c))
			continue;
		cJSON_ArrayForEach(part, c)
		{
			if (ci_contains(json_str(part, "text"), "json"))
				return 1;
		}
	}
	return 0;
}

char *dialect_json_instruction(const char *schema_json)
{
	static const char plain[] =
	    "Respond with a single valid JSON object and nothing else: "
	    "no prose, no code fences.";
	char *out;
	size_t n;

	if (schema_json == NULL || schema_json[0] == '\0')
		return xstrdup(plain);
	n = sizeof(plain) + strlen(schema_json) + 64;
	out = xmalloc(n);
	snprintf(out, n, "%s It must conform to this JSON Schema: %s", plain,
		 schema_json);
	return out;
}

/* The instruction for a response_format object. Returns a new string. */
static char *json_instruction(const cJSON *rf)
{
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");
	char *text =
	    cJSON_IsObject(schema) ? cJSON_PrintUnformatted(schema) : NULL;
	char *out = dialect_json_instruction(text);

	free(text);
	return out;
}

/* Adds the instruction to the leading system message, or inserts one:
 * some providers refuse a second system message. */
static void add_instruction(cJSON *messages, const char *text)
{
	cJSON *first = cJSON_GetArrayItem(messages, 0);
	const char *role = json_str(first, "role");
	cJSON *content = cJSON_GetObjectItemCaseSensitive(first, "content");

	if (role &&
	    (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0)) {
		if (cJSON_IsString(content)) {
			size_t n =
			    strlen(content->valuestring) + strlen(text) + 3;
			char *joined = xmalloc(n);

			snprintf(joined, n, "%s\n\n%s", content->valuestring,
				 text);
			cJSON_ReplaceItemInObjectCaseSensitive(
			    first, "content", cJSON_CreateString(joined));
			free(joined);
			return;
		}
		if (cJSON_IsArray(content)) {
			cJSON *part = cJSON_CreateObject();

			cJSON_AddStringToObject(part, "type", "text");
			cJSON_AddStringToObject(part, "text", text);
			cJSON_AddItemToArray(content, part);
			return;
		}
	}
	{
		cJSON *sys = cJSON_CreateObject();

		cJSON_AddStringToObject(sys, "role", "system");
		cJSON_AddStringToObject(sys, "content", text);
		cJSON_InsertItemInArray(messages, 0, sys);
	}
}

/* Applies the JSON-mode quirk; returns DIALECT_EXPECT_JSON when the job
 * asked for JSON output. */
static unsigned apply_json_mode(cJSON *root, enum dialect_json_mode mode)
{
	cJSON *rf = cJSON_GetObjectItemCaseSensitive(root, "response_format");
	cJSON *messages = cJSON_GetObjectItemCaseSensitive(root, "messages");
	const char *type = json_str(rf, "type");
	char *instr;

	if (type == NULL || (strcmp(type, "json_object") != 0 &&
			     strcmp(type, "json_schema") != 0))
		return 0;
	if (!cJSON_IsArray(messages) || mode == DIALECT_JSON_NATIVE)
		return DIALECT_EXPECT_JSON;
	if (mode == DIALECT_JSON_ENSURE_WORD && mentions_json(messages))
		return DIALECT_EXPECT_JSON;
	instr = json_instruction(rf);
	add_instruction(messages, instr);
	free(instr);
	if (mode == DIALECT_JSON_PROMPT)
		cJSON_DeleteItemFromObjectCaseSensitive(root,
							"response_format");
	return DIALECT_EXPECT_JSON;
}

/* request_slow: dialect_openai_request on a cJSON tree; handles every
 * body. */
static char *request_slow(const char *body, size_t len, const char *model,
			  const struct dialect_openai_quirks *q,
			  unsigned *resp_flags)
{
	cJSON *root = json_parse_exact(body, len);
	unsigned flags = 0;
	char *out = NULL;
	size_t i;

	if (resp_flags)
		*resp_flags = 0;
	if (!cJSON_IsObject(root))
		goto out;
	if (model) {
		cJSON_DeleteItemFromObjectCaseSensitive(root, "model");
		cJSON_AddStringToObject(root, "model", model);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(root, "stream");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "stream_options");
	for (i = 0; q && q->drop_params && i < q->ndrop; i++) {
		const char *k = q->drop_params[i];

		if (k && strcmp(k, "model") != 0 && strcmp(k, "messages") != 0)
			cJSON_DeleteItemFromObjectCaseSensitive(root, k);
	}
	if (q && q->thinking_off) {
		cJSON_DeleteItemFromObjectCaseSensitive(root,
							"enable_thinking");
		cJSON_AddFalseToObject(root, "enable_thinking");
	}
	flags = apply_json_mode(root, q ? q->json_mode : DIALECT_JSON_NATIVE);
	out = cJSON_PrintUnformatted(root);
	if (resp_flags && out)
		*resp_flags = flags;
out:
	cJSON_Delete(root);
	return out;
}

/* Most top-level members the fast request takes; more go the slow way,
 * which keeps its duplicate check (quadratic) cheap. */
#define FAST_MEMBERS_MAX 64

/* escaped_len, put_escaped: s as a JSON string, quotes included, escaped
 * as cJSON prints strings (bytes >= 0x80 as they are). put_escaped
 * returns the end of what it wrote. */
static size_t escaped_len(const char *s)
{
	size_t n = 2;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\' || c == '\b' || c == '\f' ||
		    c == '\n' || c == '\r' || c == '\t')
			n += 2;
		else if (c < 0x20)
			n += 6;
		else
			n++;
	}
	return n;
}

static char *put_escaped(char *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	*w++ = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e = 0;

		switch (c) {
		case '"':
			e = '"';
			break;
		case '\\':
			e = '\\';
			break;
		case '\b':
			e = 'b';
			break;
		case '\f':
			e = 'f';
			break;
		case '\n':
			e = 'n';
			break;
		case '\r':
			e = 'r';
			break;
		case '\t':
			e = 't';
			break;
		default:
			break;
		}
		if (e) {
			*w++ = '\\';
			*w++ = e;
		} else if (c < 0x20) {
			memcpy(w, "\\u00", 4);
			w[4] = hex[c >> 4];
			w[5] = hex[c & 0xf];
			w += 6;
		} else {
			*w++ = (char)c;
		}
	}
	*w++ = '"';
	return w;
}

/* Whether key tokens a and b decode to the same text. Long escaped keys
 * count as the same: the caller then takes the slow path, never wrong. */
static int same_key(const struct jsonidx *x, const char *s, size_t a, size_t b)
{
	const struct jsonidx_tok *ta = &x->t[a], *tb = &x->t[b];
	char da[64], db[64];

	if (ta->n != tb->n)
		return 0;
	if (!ta->esc && !tb->esc)
		return memcmp(s + ta->start + 1, s + tb->start + 1, ta->n) == 0;
	if (ta->n >= sizeof(da))
		return 1;
	jsonidx_decode(x, s, a, da, sizeof(da));
	jsonidx_decode(x, s, b, db, sizeof(db));
	return memcmp(da, db, ta->n) == 0;
}

/* Whether the slow path would delete the member with key k. "model" and
 * "messages" are handled by the caller before this is asked. */
static int dropped(const struct jsonidx *x, const char *s, size_t k,
		   const struct dialect_openai_quirks *q)
{
	size_t i;

	if (jsonidx_equals(x, s, k, "stream") ||
	    jsonidx_equals(x, s, k, "stream_options"))
		return 1;
	if (q == NULL)
		return 0;
	if (q->thinking_off && jsonidx_equals(x, s, k, "enable_thinking"))
		return 1;
	for (i = 0; q->drop_params && i < q->ndrop; i++)
		if (q->drop_params[i] &&
		    jsonidx_equals(x, s, k, q->drop_params[i]))
			return 1;
	return 0;
}

/* request_fast: dialect_openai_request without a tree, for a body that
 * needs no message rewrite: the members are copied as text in their order,
 * minus the deleted ones, the model's value replaced in place (appended
 * when the body has none), "enable_thinking":false appended last. Returns
 * 1 with *out (new) and *flags set, or 0 when the slow path must run. */
static int request_fast(const char *body, size_t len,
			const struct jsonidx *pre, size_t pre_end,
			const char *model,
			const struct dialect_openai_quirks *q, char **out,
			unsigned *flags)
{
	static const char model_key[] = "\"model\":",
			  thinking[] = "\"enable_thinking\":false";
	struct jsonidx own;
	const struct jsonidx *x = pre;
	size_t keys[FAST_MEMBERS_MAX];
	unsigned char skip[FAST_MEMBERS_MAX], is_model[FAST_MEMBERS_MAX];
	size_t nk = 0, k, i, rf = 0, msgs = 0, mlen = 0, size;
	int has_model = 0, ok = 0, thinking_off = q && q->thinking_off;
	unsigned fl = 0;
	char *w;

	if (pre) {
		if (exact(pre, body, len, pre_end) != 0)
			return 0;
	} else {
		if (index_exact(&own, body, len) != 0)
			return 0;
		x = &own;
	}
	/* A raw control character (x->ctl) that strict JSON refuses, copied
	 * verbatim, would make the request invalid; cJSON accepts it and
	 * prints it escaped or not at all, so such bodies take the slow
	 * path. */
	if (x->t[0].n > FAST_MEMBERS_MAX || x->ctl)
		goto out;
	for (k = jsonidx_first(x, 0); k; k = x->t[k].next) {
		/* The slow path deletes only the first of duplicate keys. */
		for (i = 0; i < nk; i++)
			if (same_key(x, body, keys[i], k))
				goto out;
		keys[nk] = k;
		skip[nk] = is_model[nk] = 0;
		if (jsonidx_equals(x, body, k, "model"))
			is_model[nk] = has_model = 1;
		else if (jsonidx_equals(x, body, k, "messages"))
			msgs = k + 1;
		else if (dropped(x, body, k, q))
			skip[nk] = 1;
		else if (jsonidx_equals(x, body, k, "response_format"))
			rf = k + 1;
		nk++;
	}
	if (rf) {
		size_t type = jsonidx_get(x, body, rf, "type");

		if (type && (jsonidx_equals(x, body, type, "json_object") ||
			     jsonidx_equals(x, body, type, "json_schema"))) {
			/* apply_json_mode rewrites messages only when they
			 * are an array and the mode is not native. */
			if (q && q->json_mode != DIALECT_JSON_NATIVE && msgs &&
			    x->t[msgs].type == JSONIDX_ARRAY)
				goto out;
			fl = DIALECT_EXPECT_JSON;
		}
	}

	/* Upper bound: every member counted with a comma. */
	size = sizeof("{}");
	if (model)
		mlen = escaped_len(model);
	for (i = 0; i < nk; i++) {
		const struct jsonidx_tok *kt = &x->t[keys[i]],
					 *vt = &x->t[keys[i] + 1];

		if (skip[i])
			continue;
		size += kt->end - kt->start + 2;
		size += is_model[i] && model ? mlen : vt->end - vt->start;
	}
	if (model && !has_model)
		size += sizeof(model_key) + mlen;
	if (thinking_off)
		size += sizeof(thinking);

	*out = xmalloc(size);
	w = *out;
	*w++ = '{';
	for (i = 0; i < nk; i++) {
		const struct jsonidx_tok *kt = &x->t[keys[i]],
					 *vt = &x->t[keys[i] + 1];

		if (skip[i])
			continue;
		if (w > *out + 1)
			*w++ = ',';
		memcpy(w, body + kt->start, kt->end - kt->start);
		w += kt->end - kt->start;
		*w++ = ':';
		if (is_model[i] && model) {
			w = put_escaped(w, model);
		} else {
			memcpy(w, body + vt->start, vt->end - vt->start);
			w += vt->end - vt->start;
		}
	}
	if (model && !has_model) {
		if (w > *out + 1)
			*w++ = ',';
		memcpy(w, model_key, sizeof(model_key) - 1);
		w = put_escaped(w + sizeof(model_key) - 1, model);
	}
	if (thinking_off) {
		if (w > *out + 1)
			*w++ = ',';
		memcpy(w, thinking, sizeof(thinking) - 1);
		w += sizeof(thinking) - 1;
	}
	*w++ = '}';
	*w = '\0';
	assert((size_t)(w - *out) < size);
	*flags = fl;
	ok = 1;
out:
	if (x == &own)
		jsonidx_free(&own);
	return ok;
}

char *dialect_openai_request_indexed(const char *body, size_t len,
				     const struct jsonidx *x, size_t end,
				     const char *model,
				     const struct dialect_openai_quirks *q,
				     unsigned *resp_flags)
{
	char *out;
	unsigned flags;

	if (request_fast(body, len, x, end, model, q, &out, &flags)) {
		if (resp_flags)
			*resp_flags = flags;
		return out;
	}
	return request_slow(body, len, model, q, resp_flags);
}

char *dialect_openai_request(const char *body, size_t len, const char *model,
			     const struct dialect_openai_quirks *q,
			     unsigned *resp_flags)
{
	return dialect_openai_request_indexed(body, len, NULL, 0, model, q,
					      resp_flags);
}

#ifdef NIGHTSHIFT_TEST
char *dialect_openai__request_slow(const char *body, size_t len,
				   const char *model,
				   const struct dialect_openai_quirks *q,
				   unsigned *resp_flags)
{
	return request_slow(body, len, model, q, resp_flags);
}
#endif

/* ---- response: errors ------------------------------------------------- */

/* The fields of a provider error, borrowed from the parsed tree. */
struct err_fields {
	const char *code;    /* string code ("insufficient_quota", "1300") */
	const char *type;    /* OpenAI/Anthropic type */
	const char *status;  /* Google status ("RESOURCE_EXHAUSTED") */
	const char *param;   /* OpenAI param */
	const char *message; /* message text */
	char *message_owned; /* message printed from a non-string */
	int num_code;	     /* numeric code (Gemini: HTTP status), or 0 */
	int top_request_id;  /* body has a top-level request_id */
	char num_buf[16];
};

/* Finds the error object in any known shape: {"error":{...}}, Gemini's
 * [{"error":{...}}], a flat {"object":"error",...} or DashScope native
 * {"code":...,"message":...}. Returns 1 when the body holds an error. */
static int error_fields(const cJSON *root, struct err_fields *e)
{
	const cJSON *obj = root, *err, *code, *msg;

	memset(e, 0, sizeof(*e));
	if (cJSON_IsArray(root))
		obj = cJSON_GetArrayItem(root, 0);
	if (!cJSON_IsObject(obj))
		return 0;
	e->top_request_id = json_str(obj, "request_id") != NULL;
	err = cJSON_GetObjectItemCaseSensitive(obj, "error");
	if (cJSON_IsString(err)) {
		e->message = err->valuestring;
		err = obj;
	} else if (!cJSON_IsObject(err)) {
		err = obj;
	}
	code = cJSON_GetObjectItemCaseSensitive(err, "code");
	if (cJSON_IsString(code) && code->valuestring[0]) {
		e->code = code->valuestring;
	} else if (cJSON_IsNumber(code) && code->valuedouble >= 0 &&
		   code->valuedouble < 1e6) {
		e->num_code = (int)code->valuedouble;
		snprintf(e->num_buf, sizeof(e->num_buf), "%d", e->num_code);
	}
	e->type = json_str(err, "type");
	e->status = json_str(err, "status");
	e->param = json_str(err, "param");
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	if (cJSON_IsString(msg)) {
		e->message = msg->valuestring;
	} else if (cJSON_IsObject(msg) || cJSON_IsArray(msg)) {
		/* Mistral's 422 carries the pydantic detail list here. */
		e->message_owned = cJSON_PrintUnformatted(msg);
		e->message = e->message_owned;
	}
	/* A flat {"object":"error"} with a "detail" (FastAPI-style, vLLM). */
	if (e->message == NULL) {
		const cJSON *d =
		    cJSON_GetObjectItemCaseSensitive(err, "detail");

		if (cJSON_IsString(d))
			e->message = d->valuestring;
	}
	if (err != obj)
		return 1;
	/* No "error" member: an error only if it looks like one. */
	return (e->code || e->num_code || e->message) &&
	       !cJSON_GetObjectItemCaseSensitive(obj, "choices");
}

static int is_code(const struct err_fields *e, const char *name)
{
	return (e->code && strcmp(e->code, name) == 0) ||
	       (e->type && strcmp(e->type, name) == 0) ||
	       (e->status && strcmp(e->status, name) == 0);
}

static int code_prefix(const struct err_fields *e, const char *prefix)
{
	size_t n = strlen(prefix);

	return (e->code && strncmp(e->code, prefix, n) == 0) ||
	       (e->type && strncmp(e->type, prefix, n) == 0);
}

/* insufficient_quota means an empty account at OpenAI but a per-minute
 * token throttle at DashScope (PROVIDERS.md 3.3, the trap). For a generic
 * provider, DashScope's marks decide: it sets param to the same string
 * and adds a top-level request_id; OpenAI's param is null. */
static enum outcome_class insufficient_quota(enum prov_flavor f,
					     const struct err_fields *e)
{
	if (f == FLAVOR_DASHSCOPE)
		return OUTCOME_RATE_LIMITED;
	if (f == FLAVOR_GENERIC &&
	    ((e->param && strcmp(e->param, "insufficient_quota") == 0) ||
	     e->top_request_id))
		return OUTCOME_RATE_LIMITED;
	return OUTCOME_BILLING;
}

static int says_context_overflow(const struct err_fields *e)
{
	static const char *const phrases[] = {
	    "range of input length",  /* DashScope */
	    "maximum context length", /* OpenAI, DeepSeek */
	    "context length",	      /* vLLM, Mistral */
	    "context window",
	    "prompt is too long",		    /* Anthropic */
	    "exceed context limit",		    /* Anthropic */
	    "exceeds the maximum number of tokens", /* Gemini */
	};
	size_t i;

	if (is_code(e, "context_length_exceeded"))
		return 1;
	for (i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (ci_contains(e->message, phrases[i]))
			return 1;
	return 0;
}

/* The class of an error response. status is the HTTP status, or 0 for an
 * error carried by a 2xx. */
static enum outcome_class classify(int status, enum prov_flavor f,
				   const struct err_fields *e, const char *body,
				   size_t blen)
{
	/* Moderation first: DashScope sends it as a 400 that would
	 * otherwise read as a bad request. */
	if (is_code(e, "data_inspection_failed") ||
	    is_code(e, "DataInspectionFailed") ||
	    is_code(e, "InvalidParameter.DataInspection") ||
	    is_code(e, "content_filter") ||
	    is_code(e, "content_policy_violation") ||
	    ci_contains(e->message, "Content Exists Risk"))
		return OUTCOME_CONTENT_FILTER;
	if (is_code(e, "insufficient_quota"))
		return insufficient_quota(f, e);
	if (code_prefix(e, "Throttling"))
		return OUTCOME_RATE_LIMITED;
	if (status == 402 || is_code(e, "Arrearage") ||
	    is_code(e, "billing_error") || is_code(e, "insufficient_balance") ||
	    ci_contains(e->message, "credit balance is too low"))
		return OUTCOME_BILLING;
	/* Gemini answers a bad key with 400 INVALID_ARGUMENT. */
	if (status == 401 || status == 403 || is_code(e, "InvalidApiKey") ||
	    is_code(e, "invalid_api_key") ||
	    is_code(e, "authentication_error") ||
	    is_code(e, "permission_error") || is_code(e, "AccessDenied") ||
	    is_code(e, "access_denied") || is_code(e, "UNAUTHENTICATED") ||
	    is_code(e, "PERMISSION_DENIED") ||
	    mem_contains(body, blen, "API_KEY_INVALID"))
		return OUTCOME_AUTH;
	if (status == 404 || is_code(e, "ModelNotFound") ||
	    is_code(e, "model_not_found") || is_code(e, "not_found_error") ||
	    is_code(e, "NOT_FOUND"))
		return OUTCOME_NOT_FOUND;
	if ((status == 0 || status == 400 || status == 422) &&
	    says_context_overflow(e))
		return OUTCOME_CONTEXT_OVERFLOW;
	if (status == 413 || is_code(e, "request_too_large"))
		return OUTCOME_TOO_LARGE;
	if (status == 429 || is_code(e, "RESOURCE_EXHAUSTED") ||
	    is_code(e, "rate_limit_exceeded") ||
	    is_code(e, "rate_limit_error") || is_code(e, "rate_limited"))
		return OUTCOME_RATE_LIMITED;
	/* 503 is "overloaded" at DeepSeek, OpenAI ("engine overloaded") and
	 * Gemini (UNAVAILABLE) alike, so it is OVERLOADED for every flavor;
	 * policy retries it like a server error either way. */
	if (status == 503 || status == 529 || is_code(e, "overloaded_error") ||
	    is_code(e, "UNAVAILABLE"))
		return OUTCOME_OVERLOADED;
	if (status == 408)
		return OUTCOME_TIMEOUT;
	if (status >= 500)
		return OUTCOME_SERVER_ERROR;
	/* 409 Conflict and 425 Too Early are worth another try. */
	if (status == 409 || status == 425)
		return OUTCOME_SERVER_ERROR;
	if (status >= 400)
		return OUTCOME_BAD_REQUEST;
	return OUTCOME_SERVER_ERROR;
}

/* The provider code to keep: a word beats a number ("rate_limited" over
 * Mistral's "1300"), then the type, the Google status, the number. */
static const char *best_code(const struct err_fields *e)
{
	const char *c = e->code;

	if (c && strspn(c, "0123456789") != strlen(c))
		return c;
	if (e->type)
		return e->type;
	if (e->status)
		return e->status;
	if (c)
		return c;
	return e->num_code ? e->num_buf : NULL;
}

static void error_outcome(int status, const char *h, size_t hlen,
			  const char *body, size_t blen, const cJSON *root,
			  enum prov_flavor f, int64_t now_ms,
			  struct outcome *o)
{
	struct err_fields e;
	int eff = status;
	char fallback[32];

	/* Whatever fields are there help, even in a shape not recognized. */
	error_fields(root, &e);
	/* A 2xx carrying an error: Gemini-style numeric codes are statuses. */
	if (status >= 200 && status < 300)
		eff = (e.num_code >= 400 && e.num_code < 600) ? e.num_code : 0;
	o->cls = classify(eff, f, &e, body, blen);
	set_error(o, o->cls, best_code(&e), e.message);
	if (o->error_message == NULL && root == NULL && body && blen) {
		/* Not JSON (a proxy's HTML page): its text still helps. */
		o->error_message = outcome_message_dup(body, blen);
	}
	if (o->error_message == NULL) {
		snprintf(fallback, sizeof(fallback), "HTTP %d", status);
		o->error_message = xstrdup(fallback);
	}
	if (eff == 429 || o->cls == OUTCOME_RATE_LIMITED)
		o->retry_after_ms =
		    retry_after_parse_429(h, hlen, body, blen, now_ms);
	else
		o->retry_after_ms =
		    retry_after_parse(h, hlen, body, blen, now_ms);
	free(e.message_owned);
}

/* ---- response: success ------------------------------------------------ */

/* The counts the usage mapping reads, each -1 when absent or not a sane
 * count (json_count's rule). Both paths fill it and share the arithmetic
 * in usage_from_counts. */
struct usage_counts {
	int64_t prompt, input, completion, output, cached, reasoning, hit, miss;
};

/* Maps the counts to the token kinds priced separately. DeepSeek's
 * prompt_cache_hit/miss_tokens win over cached_tokens when present. */
static void usage_from_counts(const struct usage_counts *c,
			      struct outcome_usage *u)
{
	int64_t prompt = c->prompt >= 0 ? c->prompt : c->input;
	int64_t completion = c->completion >= 0 ? c->completion : c->output;
	int64_t reasoning = c->reasoning;

	memset(u, 0, sizeof(*u));
	prompt = prompt < 0 ? 0 : prompt;
	completion = completion < 0 ? 0 : completion;
	reasoning = reasoning < 0 ? 0 : reasoning;
	if (c->hit >= 0 || c->miss >= 0) {
		u->in_cached = c->hit < 0 ? 0 : c->hit;
		u->in = c->miss >= 0 ? c->miss : prompt - u->in_cached;
	} else {
		u->in_cached = c->cached < 0 ? 0 : c->cached;
		u->in = prompt - u->in_cached;
	}
	if (u->in < 0)
		u->in = 0;
	if (reasoning > completion)
		reasoning = completion;
	u->out = completion - reasoning;
	u->out_reasoning = reasoning;
}

/* Maps the usage object of a tree (all zero when there is none). */
static void map_usage(const cJSON *root, struct outcome_usage *u)
{
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	const cJSON *pd, *cd;
	struct usage_counts c;

	memset(u, 0, sizeof(*u));
	if (!cJSON_IsObject(usage))
		return;
	pd = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens_details");
	cd = cJSON_GetObjectItemCaseSensitive(usage,
					      "completion_tokens_details");
	c.prompt = json_count(usage, "prompt_tokens", -1);
	c.input = json_count(usage, "input_tokens", -1);
	c.completion = json_count(usage, "completion_tokens", -1);
	c.output = json_count(usage, "output_tokens", -1);
	c.cached = json_count(pd, "cached_tokens", -1);
	c.reasoning = json_count(cd, "reasoning_tokens", -1);
	c.hit = json_count(usage, "prompt_cache_hit_tokens", -1);
	c.miss = json_count(usage, "prompt_cache_miss_tokens", -1);
	usage_from_counts(&c, u);
}

/* If s is a ``` fenced block, sets [*b, *e) to its inside. */
static int unfence(const char *s, const char **b, const char **e)
{
	const char *start = s, *end = s + strlen(s), *nl;

	while (*start == ' ' || *start == '\t' || *start == '\r' ||
	       *start == '\n')
		start++;
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
			       end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end - start < 6 || strncmp(start, "```", 3) != 0 ||
	    strncmp(end - 3, "```", 3) != 0)
		return 0;
	nl = memchr(start, '\n', (size_t)(end - start));
	if (nl == NULL || nl >= end - 3)
		return 0;
	*b = nl + 1;
	*e = end - 3;
	return 1;
}

int dialect_json_text_ok(const char *text, char **unwrapped)
{
	cJSON *doc;
	const char *b, *e;
	int ok;

	*unwrapped = NULL;
	if (text == NULL)
		return 0;
	doc = json_parse_exact(text, strlen(text));
	ok = cJSON_IsObject(doc);
	cJSON_Delete(doc);
	if (ok)
		return 1;
	if (!unfence(text, &b, &e))
		return 0;
	doc = json_parse_exact(b, (size_t)(e - b));
	ok = cJSON_IsObject(doc);
	cJSON_Delete(doc);
	if (ok)
		*unwrapped = xstrndup(b, (size_t)(e - b));
	return ok;
}

/* Checks the message content is a JSON object, unwrapping a ``` fence in
 * place (models asked by prompt often add one); sets *changed then.
 * Returns 1 when the content is acceptable. */
static int check_json_content(cJSON *message, int *changed)
{
	cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");
	char *inner;

	*changed = 0;
	if (!cJSON_IsString(content) ||
	    !dialect_json_text_ok(content->valuestring, &inner))
		return 0;
	if (inner) {
		cJSON_ReplaceItemInObjectCaseSensitive(
		    message, "content", cJSON_CreateString(inner));
		free(inner);
		*changed = 1;
	}
	return 1;
}

static void success_outcome(const char *body, size_t blen, cJSON *root,
			    unsigned flags, struct outcome *o)
{
	cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	cJSON *c0 = cJSON_GetArrayItem(choices, 0);
	cJSON *msg = cJSON_GetObjectItemCaseSensitive(c0, "message");
	const char *finish = json_str(c0, "finish_reason");
	const cJSON *content, *tools;
	int changed = 0;

	map_usage(root, &o->usage);
	if (!cJSON_IsArray(choices) || !cJSON_IsObject(msg)) {
		set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
			  "response has no choices[0].message");
		return;
	}
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	tools = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
	if (finish && strcmp(finish, "content_filter") == 0 &&
	    (!cJSON_IsString(content) || content->valuestring[0] == '\0') &&
	    cJSON_GetArraySize(tools) == 0) {
		set_error(o, OUTCOME_CONTENT_FILTER, "content_filter",
			  "output withheld by the provider's content filter");
		return;
	}
	if ((flags & DIALECT_EXPECT_JSON) &&
	    !check_json_content(msg, &changed)) {
		set_error(o, OUTCOME_INVALID_OUTPUT, "invalid_json",
			  (finish && strcmp(finish, "length") == 0)
			      ? "content is not a JSON object (cut by "
				"max_tokens)"
			      : "content is not a JSON object");
		return;
	}
	o->cls = OUTCOME_OK;
	if (changed) {
		o->body = cJSON_PrintUnformatted(root);
		if (o->body == NULL) {
			set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
				  "could not re-encode the response");
			return;
		}
		o->body_len = strlen(o->body);
	} else {
		o->body = xmalloc(blen + 1);
		memcpy(o->body, body, blen);
		o->body[blen] = '\0';
		o->body_len = blen;
	}
}

/* The request id from the headers: 1 when a header gives one (then *id is
 * its copy, or NULL when nothing printable is left), 0 when the body
 * decides. */
static int header_request_id(const char *h, size_t hlen, char **id)
{
	static const char *const headers[] = {"x-request-id", "request-id"};
	const char *v;
	size_t i, n;

	for (i = 0; i < 2; i++) {
		v = httphdr_get(h, hlen, headers[i], &n);
		if (v && n) {
			*id = dup_token(v, n);
			return 1;
		}
	}
	*id = NULL;
	return 0;
}

static char *request_id(const char *h, size_t hlen, const cJSON *root)
{
	const cJSON *obj =
	    cJSON_IsArray(root) ? cJSON_GetArrayItem(root, 0) : root;
	const char *v;
	char *id;

	if (header_request_id(h, hlen, &id))
		return id;
	v = json_str(obj, "request_id");
	if (v == NULL)
		v = json_str(obj, "id");
	return v ? dup_token(v, strlen(v)) : NULL;
}

/* ---- response: fast path ---------------------------------------------- */

/* json_count on an index: obj[key] (obj 0: absent) as a count, or -1. */
static int64_t idx_count(const struct jsonidx *x, const char *s, size_t obj,
			 const char *key)
{
	size_t v = obj ? jsonidx_get(x, s, obj, key) : 0;
	double d;

	if (v == 0 || x->t[v].type != JSONIDX_NUMBER)
		return -1;
	d = jsonidx_number(x, s, v);
	if (d < 0 || d > 1e15)
		return -1;
	return (int64_t)d;
}

/* map_usage on an index; usage is the "usage" value or 0. */
static void idx_usage(const struct jsonidx *x, const char *s, size_t usage,
		      struct outcome_usage *u)
{
	struct usage_counts c;
	size_t pd, cd;

	memset(u, 0, sizeof(*u));
	if (usage == 0 || x->t[usage].type != JSONIDX_OBJECT)
		return;
	pd = jsonidx_get(x, s, usage, "prompt_tokens_details");
	cd = jsonidx_get(x, s, usage, "completion_tokens_details");
	c.prompt = idx_count(x, s, usage, "prompt_tokens");
	c.input = idx_count(x, s, usage, "input_tokens");
	c.completion = idx_count(x, s, usage, "completion_tokens");
	c.output = idx_count(x, s, usage, "output_tokens");
	c.cached = idx_count(x, s, pd, "cached_tokens");
	c.reasoning = idx_count(x, s, cd, "reasoning_tokens");
	c.hit = idx_count(x, s, usage, "prompt_cache_hit_tokens");
	c.miss = idx_count(x, s, usage, "prompt_cache_miss_tokens");
	usage_from_counts(&c, u);
}

/* request_id's body part on an index: the string "request_id", else the
 * string "id", through dup_token. */
static char *idx_request_id(const struct jsonidx *x, const char *s, size_t rid,
			    size_t id)
{
	char buf[REQUEST_ID_MAX + 1];
	size_t v = rid && x->t[rid].type == JSONIDX_STRING ? rid : id, n;

	if (v == 0 || x->t[v].type != JSONIDX_STRING)
		return NULL;
	/* dup_token keeps at most REQUEST_ID_MAX bytes: the rest of a long
	 * id needs no decoding. */
	n = jsonidx_decode(x, s, v, buf, sizeof(buf));
	return dup_token(buf, n < REQUEST_ID_MAX ? n : REQUEST_ID_MAX);
}

/* response_fast: a 2xx chat.completion with choices[0].message, no
 * "error" member and no JSON expected, read without a tree. Fills o (just
 * cleared) exactly as the slow path would and returns 1, or returns 0
 * with o untouched when the slow path must run. */
static int response_fast(int http_status, const char *headers, size_t hlen,
			 const char *body, size_t blen, unsigned flags,
			 struct outcome *o)
{
	enum { F_ERROR, F_CHOICES, F_USAGE, F_REQUEST_ID, F_ID, F__N };
	static const char *const names[F__N] = {"error", "choices", "usage",
						"request_id", "id"};
	struct jsonidx x;
	size_t v[F__N], c0, msg, finish, content, tools, ntools;
	int ok = 0;

	if (http_status < 200 || http_status >= 300 ||
	    (flags & DIALECT_EXPECT_JSON))
		return 0;
	if (index_exact(&x, body, blen) != 0)
		return 0;
	jsonidx_members(&x, body, 0, names, F__N, v);
	if (v[F_ERROR] || v[F_CHOICES] == 0 ||
	    x.t[v[F_CHOICES]].type != JSONIDX_ARRAY || x.t[v[F_CHOICES]].n == 0)
		goto out;
	c0 = v[F_CHOICES] + 1;
	if (x.t[c0].type != JSONIDX_OBJECT)
		goto out;
	msg = jsonidx_get(&x, body, c0, "message");
	if (msg == 0 || x.t[msg].type != JSONIDX_OBJECT)
		goto out;
	finish = jsonidx_get(&x, body, c0, "finish_reason");
	content = jsonidx_get(&x, body, msg, "content");
	tools = jsonidx_get(&x, body, msg, "tool_calls");
	/* cJSON_GetArraySize counts the children of whatever it is given:
	 * members of an object too, none of a scalar. */
	ntools = tools && (x.t[tools].type == JSONIDX_ARRAY ||
			   x.t[tools].type == JSONIDX_OBJECT)
		     ? x.t[tools].n
		     : 0;

	ok = 1;
	if (!header_request_id(headers, hlen, &o->request_id))
		o->request_id =
		    idx_request_id(&x, body, v[F_REQUEST_ID], v[F_ID]);
	idx_usage(&x, body, v[F_USAGE], &o->usage);
	if (finish && jsonidx_equals(&x, body, finish, "content_filter") &&
	    !(content && x.t[content].type == JSONIDX_STRING &&
	      x.t[content].n > 0) &&
	    ntools == 0) {
		set_error(o, OUTCOME_CONTENT_FILTER, "content_filter",
			  "output withheld by the provider's content filter");
		goto out;
	}
	o->cls = OUTCOME_OK;
	o->body = xmalloc(blen + 1);
	memcpy(o->body, body, blen);
	o->body[blen] = '\0';
	o->body_len = blen;
out:
	jsonidx_free(&x);
	return ok;
}

/* response: dialect_openai_response, trying the fast path when fast. */
static void response(int fast, int http_status, const char *headers,
		     size_t hlen, const char *body, size_t blen,
		     enum prov_flavor flavor, unsigned flags, int64_t now_ms,
		     struct outcome *o)
{
	cJSON *root;
	struct err_fields e;
	int is_error;

	outcome_clear(o);
	o->http_status = http_status;
	if (http_status <= 0) {
		set_error(o, OUTCOME_CONNECTION, NULL, "no HTTP response");
		return;
	}
	if (fast &&
	    response_fast(http_status, headers, hlen, body, blen, flags, o))
		return;
	root = json_parse_exact(body, blen);
	o->request_id = request_id(headers, hlen, root);
	if (http_status < 200 || http_status >= 300) {
		error_outcome(http_status, headers, hlen, body, blen, root,
			      flavor, now_ms, o);
		goto out;
	}
	if (root == NULL) {
		set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
			  blen ? "response body is not valid JSON "
				 "(truncated?)"
			       : "empty response body");
		goto out;
	}
	is_error = error_fields(root, &e);
	free(e.message_owned);
	if (cJSON_IsArray(root) || is_error) {
		error_outcome(http_status, headers, hlen, body, blen, root,
			      flavor, now_ms, o);
		/* Tokens a provider reports alongside an error are billed. */
		map_usage(root, &o->usage);
		goto out;
	}
	success_outcome(body, blen, root, flags, o);
out:
	cJSON_Delete(root);
}

void dialect_openai_response(int http_status, const char *headers, size_t hlen,
			     const char *body, size_t blen,
			     enum prov_flavor flavor, unsigned flags,
			     int64_t now_ms, struct outcome *o)
{
	response(1, http_status, headers, hlen, body, blen, flavor, flags,
		 now_ms, o);
}

#ifdef NIGHTSHIFT_TEST
void dialect_openai__response_slow(int http_status, const char *headers,
				   size_t hlen, const char *body, size_t blen,
				   enum prov_flavor flavor, unsigned flags,
				   int64_t now_ms, struct outcome *o)
{
	response(0, http_status, headers, hlen, body, blen, flavor, flags,
		 now_ms, o);
}
#endif
