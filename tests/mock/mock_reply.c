/* mock_reply.c — the mock provider's replies, built from mock_content's
 * deterministic text; fault replies copy the
 * shapes that DashScope, OpenAI and Anthropic really send (see
 * shared/PROVIDERS.md), since nightshift classifies errors by them. Pure:
 * builds bodies and headers as data, does no I/O. */
#include "tests/mock/mock_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/mock/mock_content.h"
#include "tests/mock/mock_usage.h"
#include "tests/mock/mock_util.h"

static const char *const kind_names[MOCK_K_COUNT] = {
    [MOCK_K_OK] = "ok",
    [MOCK_K_429] = "429",
    [MOCK_K_429OPENAI] = "429openai",
    [MOCK_K_429QUOTA] = "429quota",
    [MOCK_K_429ANTHROPIC] = "429anthropic",
    [MOCK_K_529] = "529",
    [MOCK_K_500] = "500",
    [MOCK_K_502] = "502",
    [MOCK_K_503] = "503",
    [MOCK_K_RESET] = "reset",
    [MOCK_K_HANG] = "hang",
    [MOCK_K_TRUNCATED] = "truncated",
    [MOCK_K_BADJSON] = "badjson",
    [MOCK_K_ERROR200] = "error200",
    [MOCK_K_MODERATION] = "moderation",
    [MOCK_K_401] = "401",
    [MOCK_K_EMPTYCHOICES] = "emptychoices",
    [MOCK_K_BADCONTENT] = "badcontent",
    [MOCK_K_NOSCHEMA] = "noschema",
    [MOCK_K_NOUSAGE] = "nousage",
    [MOCK_K_NEGUSAGE] = "negusage",
    [MOCK_K_HUGEUSAGE] = "hugeusage",
    [MOCK_K_ALLOCQUOTA] = "allocquota",
    [MOCK_K_ARREARAGE] = "arrearage",
    [MOCK_K_402DEEPSEEK] = "402deepseek",
    [MOCK_K_503DEEPSEEK] = "503deepseek",
    [MOCK_K_422MISTRAL] = "422mistral",
    [MOCK_K_429GEMINI] = "429gemini",
    [MOCK_K_503GEMINI] = "503gemini",
    [MOCK_K_CONTEXT] = "context",
    [MOCK_K_429DATE] = "429date",
    [MOCK_K_429MS] = "429ms",
    [MOCK_K_429RESET] = "429reset",
    [MOCK_K_429RFC3339] = "429rfc3339",
    [MOCK_K_DRIP] = "drip",
    [MOCK_K_STALL] = "stall",
    [MOCK_K_RPM] = "rpm",
    [MOCK_K_AUTH] = "auth",
    [MOCK_K_INVALID] = "invalid",
    [MOCK_K_NOTFOUND] = "notfound",
    [MOCK_K_METHOD] = "method",
    [MOCK_K_TOOLARGE] = "toolarge",
};

const char *mock_kind_name(enum mock_kind k)
{
	if ((int)k < 0 || k >= MOCK_K_COUNT)
		return "?";
	return kind_names[k];
}

int mock_kind_parse(const char *s, enum mock_kind *out)
{
	for (int k = 0; k < MOCK_K_SCRIPTABLE; k++) {
		if (strcmp(s, kind_names[k]) == 0) {
			*out = (enum mock_kind)k;
			return 0;
		}
	}
	return -1;
}

void mock_reply_clear(struct mock_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* copy: a bounded strcpy (snprintf's "%s" was a hot spot). */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

void mock_reply_add_header(struct mock_reply *r, const char *name,
			   const char *value)
{
	if (r->nhdr >= MOCK_REPLY_MAX_HEADERS)
		return;
	copy(r->hdr[r->nhdr].name, sizeof(r->hdr[0].name), name);
	copy(r->hdr[r->nhdr].value, sizeof(r->hdr[0].value), value);
	r->nhdr++;
}

/* set_body prints root into r (taking the printed text) and deletes it. */
static void set_body(struct mock_reply *r, cJSON *root)
{
	char *s = cJSON_PrintUnformatted(root);

	cJSON_Delete(root);
	if (!s) {
		fprintf(stderr, "mock-provider: out of memory printing JSON\n");
		abort();
	}
	free(r->body);
	r->body = s;
	r->len = strlen(s);
}

void mock_reply_set_text(struct mock_reply *r, const char *text)
{
	free(r->body);
	r->body = mock_xstrdup(text);
	r->len = strlen(text);
}

static cJSON *obj(void)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		abort();
	return o;
}

/* Every reply carries the dialect's request-id header, errors too: the
 * real providers send one and nightshift records it. */
void mock_reply_request_id(const struct mock_call *c, struct mock_reply *r)
{
	char id[48];

	memcpy(id, "req_", 4);
	mock_hex(id + 4, mock_mix64(c->hash ^ c->seq), 16);
	mock_hex(id + 20, c->seq, 6);
	id[26] = '\0';
	mock_reply_add_header(r,
		   c->dialect == MOCK_ANTHROPIC ? "request-id" : "x-request-id",
		   id);
}

void mock_uuid(const struct mock_call *c, uint64_t salt, char *buf, size_t n)
{
	uint64_t a = mock_mix64(c->hash ^ (c->seq << 1) ^ salt);
	uint64_t b = mock_mix64(a ^ c->seq);

	snprintf(buf, n, "%08llx-%04llx-%04llx-%04llx-%012llx",
		 (unsigned long long)(a >> 32),
		 (unsigned long long)((a >> 16) & 0xffff),
		 (unsigned long long)(a & 0xffff),
		 (unsigned long long)(b >> 48),
		 (unsigned long long)(b & 0xffffffffffffULL));
}

/* openai_error builds {"error":{message,type,param,code}} (+request_id). */
static void openai_error(const struct mock_call *c, struct mock_reply *r,
			 int status, const char *message, const char *type,
			 const char *param, const char *code, bool with_rid)
{
	cJSON *root = obj();
	cJSON *e = obj();
	char rid[48];

	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddStringToObject(e, "type", type);
	if (param)
		cJSON_AddStringToObject(e, "param", param);
	else
		cJSON_AddNullToObject(e, "param");
	if (code)
		cJSON_AddStringToObject(e, "code", code);
	else
		cJSON_AddNullToObject(e, "code");
	cJSON_AddItemToObject(root, "error", e);
	if (with_rid) {
		mock_uuid(c, 0, rid, sizeof(rid));
		cJSON_AddStringToObject(root, "request_id", rid);
	}
	r->status = status;
	set_body(r, root);
}

/* anthropic_error builds {"type":"error","error":{type,message}}. */
static void anthropic_error(struct mock_reply *r, int status, const char *type,
			    const char *message)
{
	cJSON *root = obj();
	cJSON *e = obj();

	cJSON_AddStringToObject(root, "type", "error");
	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToObject(root, "error", e);
	r->status = status;
	set_body(r, root);
}
static const char *model_of(const struct mock_call *c)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(c->req, "model");

	return cJSON_IsString(m) ? m->valuestring : "mock";
}

/* wants_json: the request asks for a JSON object back, natively
 * (response_format) or by instruction (a prompt-emulated JSON mode, or an
 * Anthropic system prompt), so a JSON job gets JSON content like from a
 * real model. */
static bool wants_json(const cJSON *req)
{
	const cJSON *rf = cJSON_GetObjectItemCaseSensitive(req, "response_format");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(rf, "type");
	const cJSON *sys = cJSON_GetObjectItemCaseSensitive(req, "system");
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(req, "messages");
	const cJSON *m;

	if (cJSON_IsString(type) && strncmp(type->valuestring, "json", 4) == 0)
		return true;
	if (cJSON_IsString(sys) && strstr(sys->valuestring, "JSON object"))
		return true;
	cJSON_ArrayForEach(m, msgs)
	{
		const cJSON *ct = cJSON_GetObjectItemCaseSensitive(m, "content");

		if (cJSON_IsString(ct) && strstr(ct->valuestring, "single valid JSON object"))
			return true;
	}
	return false;
}

/* What a model says when it ignores JSON mode: prose, then a JSON
 * object it never finishes. Not JSON, and not a fenced block either. */
static const char bad_content[] = "Sure! Here is the JSON: {\"summary\": "
				  "\"broken";

/* schema_of: the JSON Schema a request's reply must follow natively
 * (response_format json_schema), or NULL. */
static const cJSON *schema_of(const cJSON *req)
{
	const cJSON *rf = cJSON_GetObjectItemCaseSensitive(req, "response_format");
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(js, "schema");

	return cJSON_IsObject(schema) ? schema : NULL;
}

/* scaled: prompt tokens as --prompt-scale reports them: times a factor
 * drawn from the body's hash, so a body always gets the same count. */
static long scaled(const struct mock_call *c, long tokens)
{
	double u = (double)(mock_mix64(c->hash ^ 0x5ca1e) >> 11) /
		   (double)(1ull << 53);
	double k = c->scale_min + (c->scale_max - c->scale_min) * u;

	return (long)((double)tokens * k + 0.5);
}

/* ok_reply fills r with a 200 reply; empty: no choices / content blocks;
 * text: the content to send instead of the generated one (or NULL);
 * follow: JSON content follows the request's json_schema, as a model in
 * structured-output mode does; usage: the usage kind (put_usage). */
static void ok_reply(const struct mock_call *c, struct mock_reply *r,
		     bool empty, const char *text, bool follow,
		     enum mock_kind usage)
{
	struct mock_content mc;
	struct mock_sb b = {0};
	char id[22];
	bool anthropic = c->dialect == MOCK_ANTHROPIC;

	mock_content_make(c->req, c->hash, c->content_json || wants_json(c->req),
			  follow ? schema_of(c->req) : NULL, &mc);
	if (text) {
		free(mc.text);
		mc.text = mock_xstrdup(text);
		mc.cut = false;
		mc.completion_tokens = (long)((strlen(text) + 3) / 4);
	}
	mc.prompt_tokens = scaled(c, mc.prompt_tokens);
	mock_hex(id, c->hash, 16);
	mock_hex(id + 16, c->seq, 6);
	mock_sb_raw(&b, anthropic ? "{\"id\":\"msg_" : "{\"id\":\"chatcmpl-");
	mock_sb_put(&b, id, 22);
	mock_sb_put(&b, "\"", 1);
	if (anthropic) {
		mock_sb_raw(&b, ",\"type\":\"message\",\"role\":\"assistant\","
			   "\"model\":");
		mock_sb_json(&b, model_of(c));
		mock_sb_raw(&b, ",\"content\":[");
		if (!empty) {
			mock_sb_raw(&b, "{\"type\":\"text\",\"text\":");
			mock_sb_json(&b, mc.text);
			mock_sb_raw(&b, "}");
		}
		mock_sb_raw(&b, mc.cut ? "],\"stop_reason\":\"max_tokens\""
				  : "],\"stop_reason\":\"end_turn\"");
		mock_sb_raw(&b, ",\"stop_sequence\":null");
	} else {
		mock_sb_raw(&b, ",\"object\":\"chat.completion\",\"created\":");
		mock_sb_long(&b, c->now_ms / 1000);
		mock_sb_raw(&b, ",\"model\":");
		mock_sb_json(&b, model_of(c));
		mock_sb_raw(&b, ",\"choices\":[");
		if (!empty) {
			mock_sb_raw(&b, "{\"index\":0,\"message\":{\"role\":"
				   "\"assistant\",\"content\":");
			mock_sb_json(&b, mc.text);
			mock_sb_raw(&b, mc.cut ? "},\"finish_reason\":\"length\"}"
					  : "},\"finish_reason\":\"stop\"}");
		}
		mock_sb_raw(&b, "]");
	}
	mock_usage_put(&b, c, mc.prompt_tokens, mc.completion_tokens, usage,
		       r);
	mock_sb_raw(&b, "}");
	mock_content_clear(&mc);
	free(r->body);
	r->body = b.p;
	r->len = b.len;
	r->status = 200;
}

static void auth_reply(const struct mock_call *c, struct mock_reply *r)
{
	if (c->dialect == MOCK_ANTHROPIC)
		anthropic_error(r, 401, "authentication_error",
				"invalid x-api-key");
	else
		openai_error(c, r, 401, "Incorrect API key provided",
			     "invalid_request_error", NULL, "invalid_api_key",
			     false);
}

static void server_error(const struct mock_call *c, struct mock_reply *r,
			 int status)
{
	const char *msg = status == 502	  ? "Bad gateway."
			  : status == 503 ? "The server is overloaded or not "
					    "ready yet."
					  : "The server had an error while "
					    "processing your request.";

	if (c->dialect == MOCK_ANTHROPIC)
		anthropic_error(r, status, "api_error", msg);
	else
		openai_error(c, r, status, msg, "server_error", NULL, NULL,
			     false);
}

static void retry_after(const struct mock_call *c, struct mock_reply *r,
			const char *name)
{
	char v[24];

	snprintf(v, sizeof(v), "%d", c->retry_after_s);
	mock_reply_add_header(r, name, v);
}

void mock_reply_build(const struct mock_call *c, enum mock_kind k,
		      struct mock_reply *r)
{
	char v[64];

	memset(r, 0, sizeof(*r));
	if (mock_shape_build(c, k, r))
		return;
	switch (k) {
	case MOCK_K_OK:
	case MOCK_K_TRUNCATED:
	case MOCK_K_DRIP:
	case MOCK_K_STALL:
		ok_reply(c, r, false, NULL, true, MOCK_K_OK);
		r->truncate = k == MOCK_K_TRUNCATED;
		r->drip = k == MOCK_K_DRIP;
		r->stall = k == MOCK_K_STALL;
		break;
	case MOCK_K_NOUSAGE:
	case MOCK_K_NEGUSAGE:
	case MOCK_K_HUGEUSAGE:
		ok_reply(c, r, false, NULL, true, k);
		break;
	case MOCK_K_EMPTYCHOICES:
		ok_reply(c, r, true, NULL, true, MOCK_K_OK);
		break;
	case MOCK_K_BADCONTENT:
		ok_reply(c, r, false, bad_content, true, MOCK_K_OK);
		break;
	case MOCK_K_NOSCHEMA:
		ok_reply(c, r, false, NULL, false, MOCK_K_OK);
		break;
	case MOCK_K_BADJSON:
		/* A real reply cut in half: valid JSON up to a point, as a
		 * proxy that drops the connection's tail would leave it. */
		ok_reply(c, r, false, NULL, true, MOCK_K_OK);
		r->usage.set = false; /* cut off with the rest */
		r->len /= 2;
		r->body[r->len] = '\0';
		break;
	case MOCK_K_429:
	case MOCK_K_RPM:
		openai_error(c, r, 429,
			     "Requests rate limit exceeded, please try again "
			     "later.",
			     "Throttling.RateQuota", NULL,
			     "Throttling.RateQuota", true);
		retry_after(c, r, "Retry-After");
		break;
	case MOCK_K_429OPENAI:
		openai_error(c, r, 429, "Rate limit reached for requests",
			     "requests", NULL, "rate_limit_exceeded", false);
		retry_after(c, r, "Retry-After");
		snprintf(v, sizeof(v), "%ds", c->retry_after_s);
		mock_reply_add_header(r, "x-ratelimit-reset-requests", v);
		mock_reply_add_header(r, "x-ratelimit-remaining-requests", "0");
		break;
	case MOCK_K_429QUOTA:
		openai_error(c, r, 429,
			     "You exceeded your current quota, please check "
			     "your plan and billing details.",
			     "insufficient_quota", "insufficient_quota",
			     "insufficient_quota", false);
		break;
	case MOCK_K_429ANTHROPIC: {
		time_t t = (time_t)(c->now_ms / 1000) + c->retry_after_s;
		struct tm tm;

		anthropic_error(r, 429, "rate_limit_error",
				"This request would exceed your "
				"organization's rate limit of requests per "
				"minute. Please try again later.");
		retry_after(c, r, "retry-after");
		gmtime_r(&t, &tm);
		strftime(v, sizeof(v), "%Y-%m-%dT%H:%M:%SZ", &tm);
		mock_reply_add_header(r, "anthropic-ratelimit-requests-reset",
				      v);
		mock_reply_add_header(
		    r, "anthropic-ratelimit-requests-remaining", "0");
		break;
	}
	case MOCK_K_529:
		anthropic_error(r, 529, "overloaded_error", "Overloaded");
		break;
	case MOCK_K_500:
		server_error(c, r, 500);
		break;
	case MOCK_K_502:
		server_error(c, r, 502);
		break;
	case MOCK_K_503:
		server_error(c, r, 503);
		break;
	case MOCK_K_ERROR200:
		r->status = 200;
		mock_reply_set_text(r, "{\"error\":{\"message\":"
				       "\"internal error\","
				       "\"type\":\"server_error\","
				       "\"code\":\"internal_error\"}}");
		break;
	case MOCK_K_MODERATION:
		openai_error(c, r, 400,
			     "Input data may contain inappropriate content.",
			     "data_inspection_failed", NULL,
			     "data_inspection_failed", true);
		break;
	case MOCK_K_401:
	case MOCK_K_AUTH:
		auth_reply(c, r);
		break;
	case MOCK_K_NOTFOUND:
		openai_error(c, r, 404,
			     "Unknown request URL. Please check "
			     "the URL for typos.",
			     "invalid_request_error", NULL, "unknown_url",
			     false);
		break;
	case MOCK_K_METHOD:
		openai_error(c, r, 405, "Method not allowed; use POST.",
			     "invalid_request_error", NULL, NULL, false);
		break;
	case MOCK_K_TOOLARGE:
		if (c->dialect == MOCK_ANTHROPIC)
			anthropic_error(r, 413, "request_too_large",
					"Request exceeds the maximum allowed "
					"number of bytes.");
		else
			openai_error(c, r, 413, "Request too large.",
				     "invalid_request_error", NULL,
				     "request_too_large", false);
		break;
	case MOCK_K_INVALID:
		openai_error(c, r, 400, "Invalid request.",
			     "invalid_request_error", NULL, NULL, false);
		break;
	case MOCK_K_RESET:
	case MOCK_K_HANG:
	case MOCK_K_COUNT:
		return;
	default: /* the shapes, built above */
		break;
	}
	mock_reply_request_id(c, r);
}

/* invalid fills r with the dialect's 400 and returns MOCK_K_INVALID. */
static enum mock_kind invalid(const struct mock_call *c, struct mock_reply *r,
			      const char *message)
{
	memset(r, 0, sizeof(*r));
	if (c->dialect == MOCK_ANTHROPIC)
		anthropic_error(r, 400, "invalid_request_error", message);
	else
		openai_error(c, r, 400, message, "invalid_request_error", NULL,
			     NULL, false);
	mock_reply_request_id(c, r);
	return MOCK_K_INVALID;
}

static enum mock_kind check_openai(const struct mock_call *c,
				   struct mock_reply *r)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(c->req, "model");
	const cJSON *msgs =
	    cJSON_GetObjectItemCaseSensitive(c->req, "messages");
	const cJSON *m;

	if (!cJSON_IsString(model))
		return invalid(c, r, "you must provide a model parameter");
	if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
		return invalid(c, r, "'messages' must be a non-empty array");
	cJSON_ArrayForEach(m, msgs)
	{
		if (!cJSON_IsString(
			cJSON_GetObjectItemCaseSensitive(m, "role")))
			return invalid(c, r, "each message must have a 'role'");
	}
	return MOCK_K_OK;
}

static enum mock_kind check_anthropic(const struct mock_call *c,
				      bool has_version, struct mock_reply *r)
{
	const cJSON *model = cJSON_GetObjectItemCaseSensitive(c->req, "model");
	const cJSON *mt =
	    cJSON_GetObjectItemCaseSensitive(c->req, "max_tokens");
	const cJSON *msgs =
	    cJSON_GetObjectItemCaseSensitive(c->req, "messages");
	const cJSON *m;

	if (!has_version)
		return invalid(c, r, "anthropic-version: header is required");
	if (!cJSON_IsString(model))
		return invalid(c, r, "model: Field required");
	if (!cJSON_IsNumber(mt) || mt->valuedouble < 1 ||
	    mt->valuedouble > 1e12 ||
	    mt->valuedouble != (double)(long long)mt->valuedouble)
		return invalid(c, r,
			       "max_tokens: Field required (an integer "
			       ">= 1)");
	if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
		return invalid(c, r,
			       "messages: at least one message is "
			       "required");
	cJSON_ArrayForEach(m, msgs)
	{
		const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");

		if (!cJSON_IsString(role))
			return invalid(c, r, "messages: Field required: role");
		if (strcmp(role->valuestring, "system") == 0)
			return invalid(
			    c, r,
			    "messages: Unexpected role \"system\". The "
			    "Messages API accepts a top-level `system` "
			    "parameter, not \"system\" as an input "
			    "message role.");
		if (strcmp(role->valuestring, "user") != 0 &&
		    strcmp(role->valuestring, "assistant") != 0)
			return invalid(c, r,
				       "messages: roles must be "
				       "\"user\" or \"assistant\"");
	}
	return MOCK_K_OK;
}

enum mock_kind mock_reply_check(const struct mock_call *c, bool has_version,
				bool has_key, struct mock_reply *out)
{
	if (c->dialect == MOCK_ANTHROPIC && !has_key) {
		/* Anthropic answers a missing key with 401, not 400. */
		memset(out, 0, sizeof(*out));
		anthropic_error(out, 401, "authentication_error",
				"x-api-key header is required");
		mock_reply_request_id(c, out);
		return MOCK_K_AUTH;
	}
	if (!cJSON_IsObject(c->req))
		return invalid(c, out,
			       c->dialect == MOCK_ANTHROPIC
				   ? "There was an issue with your "
				     "request body: not valid JSON"
				   : "We could not parse the JSON body of "
				     "your request.");
	if (c->dialect == MOCK_ANTHROPIC)
		return check_anthropic(c, has_version, out);
	return check_openai(c, out);
}
