/* dialect_openai_request.c — the queued body rewritten for one provider
 * that speaks the OpenAI wire format (see dialect_openai_request.h).
 *
 * The reference is the tree path: the body is parsed into a cJSON tree,
 * the model replaced by the candidate's, streaming turned off, quirks
 * applied (unknown fields dropped for Mistral, Qwen3 thinking off, JSON
 * mode by instruction where the provider lacks it; dialect_json.h), and
 * the tree printed. Building and printing trees was ~15% of a run's CPU,
 * mostly malloc, so the common case, a body that needs no message
 * rewrite, takes a fast path instead: the body is indexed in place
 * (jsonidx) and copied member by member as text slices. Anything else, or
 * anything cJSON might read differently from jsonidx
 * (jsonidx_parse_exact), takes the tree path; the unit tests compare the
 * two on every body they have. */
#include "runner/providers/dialect_openai_request.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "runner/json/jsonidx.h"
#include "runner/json/jsonutil.h"
#include "util/xalloc.h"

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
	flags =
	    dialect_json_apply(root, q ? q->json_mode : DIALECT_JSON_NATIVE);
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
static int request_fast(const char *body, size_t len, const struct jsonidx *pre,
			size_t pre_end, const char *model,
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
		if (jsonidx_exact(pre, body, len, pre_end) != 0)
			return 0;
	} else {
		if (jsonidx_parse_exact(&own, body, len) != 0)
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
			/* dialect_json_apply rewrites messages only when they
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
char *dialect_openai_request__slow(const char *body, size_t len,
				   const char *model,
				   const struct dialect_openai_quirks *q,
				   unsigned *resp_flags)
{
	return request_slow(body, len, model, q, resp_flags);
}
#endif
