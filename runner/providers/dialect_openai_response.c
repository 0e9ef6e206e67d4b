/* dialect_openai_response.c — an OpenAI-format reply read into an outcome
 * (see dialect_openai_response.h).
 *
 * A 2xx that holds choices[0].message is a success: its usage is mapped
 * to the token kinds priced apart (cached input, reasoning output), its
 * content checked when JSON was asked for, and the body kept. Anything
 * else is an error reply, read by dialect_error.h; a 200 can carry one
 * too. As on the request side, the common case has a fast path: a plain
 * 2xx chat.completion is read through an index of the text (jsonidx)
 * instead of a cJSON tree, and anything else, or anything cJSON might
 * read differently (jsonidx_parse_exact), falls through to the tree code,
 * which stays the reference: the unit tests compare the two. */
#include "runner/providers/dialect_openai_response.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "runner/json/jsonidx.h"
#include "runner/json/jsonutil.h"
#include "runner/providers/dialect_error.h"
#include "runner/providers/reqid.h"
#include "util/xalloc.h"

/* Where the request id is looked for first, in this order. */
static const char *const reqid_headers[] = {"x-request-id", "request-id"};

/* ---- success: usage --------------------------------------------------- */

/* The counts the usage mapping reads, each -1 when absent or not a sane
 * count (json_count's rule). Both paths fill it and share the arithmetic
 * in usage_from_counts. */
struct usage_counts {
	int64_t prompt, input, completion, output, cached, reasoning, hit, miss;
};

/* Maps the counts to the token kinds priced separately. DeepSeek's
 * prompt_cache_hit/miss_tokens win over cached_tokens when present.
 * Returns 1 when the counts hold an input and an output figure (the
 * usage was reported), else 0: the tokens are then unknown, not zero. */
static int usage_from_counts(const struct usage_counts *c,
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
	return (c->prompt >= 0 || c->input >= 0) &&
	       (c->completion >= 0 || c->output >= 0);
}

/* Maps the usage object of a tree (all zero when there is none); 1 when
 * it was reported (usage_from_counts). */
static int map_usage(const cJSON *root, struct outcome_usage *u)
{
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	const cJSON *pd, *cd;
	struct usage_counts c;

	memset(u, 0, sizeof(*u));
	if (!cJSON_IsObject(usage))
		return 0;
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
	return usage_from_counts(&c, u);
}

/* ---- success ---------------------------------------------------------- */

/* keep_body: o is OK with a copy of the reply as its body. */
static void keep_body(struct outcome *o, const char *body, size_t blen)
{
	o->cls = OUTCOME_OK;
	o->body = xmalloc(blen + 1);
	memcpy(o->body, body, blen);
	o->body[blen] = '\0';
	o->body_len = blen;
}

/* ---- success: the tree path ------------------------------------------- */

/* success_outcome: o for a 2xx without an error, from its tree. */
static void success_outcome(const char *body, size_t blen, cJSON *root,
			    unsigned flags, struct outcome *o)
{
	cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	cJSON *c0 = cJSON_GetArrayItem(choices, 0);
	cJSON *msg = cJSON_GetObjectItemCaseSensitive(c0, "message");
	const char *finish = json_str(c0, "finish_reason");
	const cJSON *content, *tools;
	int changed = 0;

	o->usage_reported = map_usage(root, &o->usage);
	if (!cJSON_IsArray(choices) || !cJSON_IsObject(msg)) {
		outcome_set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
				  "response has no choices[0].message");
		return;
	}
	content = cJSON_GetObjectItemCaseSensitive(msg, "content");
	tools = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
	if (finish && strcmp(finish, "content_filter") == 0 &&
	    (!cJSON_IsString(content) || content->valuestring[0] == '\0') &&
	    cJSON_GetArraySize(tools) == 0) {
		outcome_set_error(
		    o, OUTCOME_CONTENT_FILTER, "content_filter",
		    "output withheld by the provider's content filter");
		return;
	}
	if ((flags & DIALECT_EXPECT_JSON) &&
	    !dialect_json_check_content(msg, &changed)) {
		outcome_set_error(o, OUTCOME_INVALID_OUTPUT, "invalid_json",
				  (finish && strcmp(finish, "length") == 0)
				      ? "content is not a JSON object (cut by "
					"max_tokens)"
				      : "content is not a JSON object");
		return;
	}
	if (!changed) {
		keep_body(o, body, blen);
		return;
	}
	o->cls = OUTCOME_OK;
	o->body = cJSON_PrintUnformatted(root);
	if (o->body == NULL) {
		outcome_set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
				  "could not re-encode the response");
		return;
	}
	o->body_len = strlen(o->body);
}

/* ---- success: the fast path ------------------------------------------- */

/* idx_count: json_count on an index: value token v (0: absent) as a
 * count, or -1. */
static int64_t idx_count(const struct jsonidx *x, const char *s, size_t v)
{
	double d;

	if (v == 0 || x->t[v].type != JSONIDX_NUMBER)
		return -1;
	d = jsonidx_number(x, s, v);
	if (d < 0 || d > 1e15)
		return -1;
	return (int64_t)d;
}

/* idx_usage: map_usage on an index; usage is the "usage" value or 0. Its
 * members are found in one pass (jsonidx_members), not one per name. */
static int idx_usage(const struct jsonidx *x, const char *s, size_t usage,
		      struct outcome_usage *u)
{
	enum { PROMPT, INPUT, COMPLETION, OUTPUT, HIT, MISS, PD, CD, N };
	static const char *const names[N] = {
	    "prompt_tokens",	       "input_tokens",
	    "completion_tokens",       "output_tokens",
	    "prompt_cache_hit_tokens", "prompt_cache_miss_tokens",
	    "prompt_tokens_details",   "completion_tokens_details"};
	struct usage_counts c;
	size_t v[N];

	memset(u, 0, sizeof(*u));
	if (usage == 0 || x->t[usage].type != JSONIDX_OBJECT)
		return 0;
	jsonidx_members(x, s, usage, names, N, v);
	c.prompt = idx_count(x, s, v[PROMPT]);
	c.input = idx_count(x, s, v[INPUT]);
	c.completion = idx_count(x, s, v[COMPLETION]);
	c.output = idx_count(x, s, v[OUTPUT]);
	c.hit = idx_count(x, s, v[HIT]);
	c.miss = idx_count(x, s, v[MISS]);
	/* jsonidx_get reads only objects: 0 for anything else */
	c.cached = idx_count(
	    x, s, v[PD] ? jsonidx_get(x, s, v[PD], "cached_tokens") : 0);
	c.reasoning = idx_count(
	    x, s, v[CD] ? jsonidx_get(x, s, v[CD], "reasoning_tokens") : 0);
	return usage_from_counts(&c, u);
}

/* idx_request_id: reqid_get's body part on an index: the string
 * "request_id", else the string "id", through reqid_dup. */
static char *idx_request_id(const struct jsonidx *x, const char *s, size_t rid,
			    size_t id)
{
	char buf[REQID_MAX + 1];
	size_t v = rid && x->t[rid].type == JSONIDX_STRING ? rid : id, n;

	if (v == 0 || x->t[v].type != JSONIDX_STRING)
		return NULL;
	/* reqid_dup keeps at most REQID_MAX bytes: the rest of a long id
	 * needs no decoding. */
	n = jsonidx_decode(x, s, v, buf, sizeof(buf));
	return reqid_dup(buf, n < REQID_MAX ? n : REQID_MAX);
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
	if (jsonidx_parse_exact(&x, body, blen) != 0)
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
	if (!reqid_header(headers, hlen, reqid_headers, 2, &o->request_id))
		o->request_id =
		    idx_request_id(&x, body, v[F_REQUEST_ID], v[F_ID]);
	o->usage_reported = idx_usage(&x, body, v[F_USAGE], &o->usage);
	if (finish && jsonidx_equals(&x, body, finish, "content_filter") &&
	    !(content && x.t[content].type == JSONIDX_STRING &&
	      x.t[content].n > 0) &&
	    ntools == 0) {
		outcome_set_error(
		    o, OUTCOME_CONTENT_FILTER, "content_filter",
		    "output withheld by the provider's content filter");
		goto out;
	}
	keep_body(o, body, blen);
out:
	jsonidx_free(&x);
	return ok;
}

/* ---- the reply -------------------------------------------------------- */

/* response: dialect_openai_response, trying the fast path when fast. */
static void response(int fast, int http_status, const char *headers,
		     size_t hlen, const char *body, size_t blen,
		     enum prov_flavor flavor, unsigned flags, int64_t now_ms,
		     struct outcome *o)
{
	cJSON *root;

	if (dialect_error_begin(http_status, o))
		return;
	if (fast &&
	    response_fast(http_status, headers, hlen, body, blen, flags, o))
		return;
	root = json_parse_exact(body, blen);
	/* Gemini's errors come as an array of one object. */
	o->request_id =
	    reqid_get(headers, hlen, reqid_headers, 2,
		      cJSON_IsArray(root) ? cJSON_GetArrayItem(root, 0) : root);
	if (dialect_error_check(http_status, headers, hlen, body, blen, root,
				flavor, now_ms, o))
		goto out;
	if (cJSON_IsArray(root) || dialect_error_found(root)) {
		dialect_error_outcome(http_status, headers, hlen, body, blen,
				      root, flavor, now_ms, o);
		/* Tokens a provider reports alongside an error are billed. */
		o->usage_reported = map_usage(root, &o->usage);
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
void dialect_openai_response__slow(int http_status, const char *headers,
				   size_t hlen, const char *body, size_t blen,
				   enum prov_flavor flavor, unsigned flags,
				   int64_t now_ms, struct outcome *o)
{
	response(0, http_status, headers, hlen, body, blen, flavor, flags,
		 now_ms, o);
}
#endif
