/* dialect_error.c — the error taxonomy in practice (see dialect_error.h).
 *
 * "OpenAI compatible" providers agree on the success shape but not on
 * errors: DashScope's compatible mode reports a per-minute token throttle
 * as a 429 "insufficient_quota" that OpenAI uses for an empty account
 * (oh-my-pi#8476), Gemini sends errors as a JSON array and puts the pause
 * in the message text, Mistral uses a flat {"object":"error"} body,
 * DeepSeek signals moderation with "Content Exists Risk", and a 200 can
 * carry an error instead of choices. Anthropic's errors take the same
 * road with their own codes (overloaded_error, a too-low credit balance).
 * Classification therefore looks at the provider's code/type/status
 * strings first and the HTTP status last, and reads ambiguous codes by
 * flavor. See PROVIDERS.md 1, 3.3, 3.6-3.8. */
#define _GNU_SOURCE /* memmem, strcasestr */
#include "runner/providers/dialect_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/json/jsonutil.h"
#include "runner/providers/httphdr.h"
#include "runner/providers/retry_after.h"
#include "util/xalloc.h"

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

int dialect_error_begin(int http_status, struct outcome *o)
{
	outcome_clear(o);
	o->http_status = http_status;
	if (http_status > 0)
		return 0;
	outcome_set_error(o, OUTCOME_CONNECTION, NULL, "no HTTP response");
	return 1;
}

/* says: whether text (may be NULL) holds phrase, in any case (the C
 * locale's, which nightshift never changes). */
static int says(const char *text, const char *phrase)
{
	return text != NULL && strcasestr(text, phrase) != NULL;
}

/* error_fields: finds the error object in any known shape and fills e
 * (free e->message_owned). Returns 1 when the body holds an error. */
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

int dialect_error_found(const cJSON *root)
{
	struct err_fields e;
	int found = error_fields(root, &e);

	free(e.message_owned);
	return found;
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

/* says_spent: a 429 whose reply says the account's window is used up
 * (a remaining count of 0 in the rate-limit headers, or a quota spent),
 * as opposed to a refusal of this one request under load. */
static int says_spent(const char *h, size_t hlen, const struct err_fields *e)
{
	static const char *const remaining[] = {
	    "x-ratelimit-remaining-requests",
	    "x-ratelimit-remaining-tokens",
	    "anthropic-ratelimit-requests-remaining",
	    "anthropic-ratelimit-tokens-remaining",
	    "anthropic-ratelimit-input-tokens-remaining",
	    "anthropic-ratelimit-output-tokens-remaining",
	};
	size_t i, n;
	const char *v;

	for (i = 0; i < sizeof(remaining) / sizeof(remaining[0]); i++) {
		v = httphdr_get(h, hlen, remaining[i], &n);
		if (v && n == 1 && v[0] == '0')
			return 1;
	}
	return is_code(e, "Throttling.AllocationQuota") ||
	       is_code(e, "insufficient_quota") ||
	       says(e->message, "quota");
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
		if (says(e->message, phrases[i]))
			return 1;
	return 0;
}

/* classify: the class of an error reply. status is the HTTP status, or 0
 * for an error carried by a 2xx. */
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
	    says(e->message, "Content Exists Risk"))
		return OUTCOME_CONTENT_FILTER;
	if (is_code(e, "insufficient_quota"))
		return insufficient_quota(f, e);
	if (code_prefix(e, "Throttling"))
		return OUTCOME_RATE_LIMITED;
	if (status == 402 || is_code(e, "Arrearage") ||
	    is_code(e, "billing_error") || is_code(e, "insufficient_balance") ||
	    says(e->message, "credit balance is too low"))
		return OUTCOME_BILLING;
	/* Gemini answers a bad key with 400 INVALID_ARGUMENT. */
	if (status == 401 || status == 403 || is_code(e, "InvalidApiKey") ||
	    is_code(e, "invalid_api_key") ||
	    is_code(e, "authentication_error") ||
	    is_code(e, "permission_error") || is_code(e, "AccessDenied") ||
	    is_code(e, "access_denied") || is_code(e, "UNAUTHENTICATED") ||
	    is_code(e, "PERMISSION_DENIED") ||
	    (body && memmem(body, blen, "API_KEY_INVALID", 15)))
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

/* best_code: the provider code to keep: a word beats a number
 * ("rate_limited" over Mistral's "1300"), then the type, the Google
 * status, the number. */
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

void dialect_error_outcome(int http_status, const char *h, size_t hlen,
			   const char *body, size_t blen, const cJSON *root,
			   enum prov_flavor flavor, int64_t now_ms,
			   struct outcome *o)
{
	struct err_fields e;
	int eff = http_status;
	char fallback[32];

	/* Whatever fields are there help, even in a shape not recognized. */
	error_fields(root, &e);
	/* A 2xx carrying an error: Gemini-style numeric codes are statuses. */
	if (http_status >= 200 && http_status < 300)
		eff = (e.num_code >= 400 && e.num_code < 600) ? e.num_code : 0;
	outcome_set_error(o, classify(eff, flavor, &e, body, blen),
			  best_code(&e), e.message);
	if (o->error_message == NULL && root == NULL && body && blen) {
		/* Not JSON (a proxy's HTML page): its text still helps. */
		o->error_message = outcome_message_dup(body, blen);
	}
	if (o->error_message == NULL) {
		snprintf(fallback, sizeof(fallback), "HTTP %d", http_status);
		o->error_message = xstrdup(fallback);
	}
	if (eff == 429 || o->cls == OUTCOME_RATE_LIMITED) {
		o->retry_after_ms =
		    retry_after_parse_429(h, hlen, body, blen, now_ms);
		o->limit_spent = says_spent(h, hlen, &e);
	} else
		o->retry_after_ms =
		    retry_after_parse(h, hlen, body, blen, now_ms);
	free(e.message_owned);
}

int dialect_error_check(int http_status, const char *h, size_t hlen,
			const char *body, size_t blen, const cJSON *root,
			enum prov_flavor flavor, int64_t now_ms,
			struct outcome *o)
{
	if (http_status < 200 || http_status >= 300) {
		dialect_error_outcome(http_status, h, hlen, body, blen, root,
				      flavor, now_ms, o);
		return 1;
	}
	if (root != NULL)
		return 0;
	outcome_set_error(o, OUTCOME_INVALID_OUTPUT, NULL,
			  blen ? "response body is not valid JSON (truncated?)"
			       : "empty response body");
	return 1;
}
