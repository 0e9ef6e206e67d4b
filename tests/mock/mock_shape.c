/* mock_shape.c — the error replies real providers send, byte for byte
 * where it matters to a client: DashScope's quota trap and Arrearage,
 * DeepSeek's 402 and 503, Mistral's flat 422, Gemini's array-wrapped
 * errors with the pause in the message, a context overflow in each
 * dialect, and a 429 for each way a pause is announced (an HTTP-date,
 * retry-after-ms, OpenAI's reset durations, Anthropic's RFC 3339 stamps).
 * The bodies are those of tests/unit/test_dialect_openai.c and
 * shared/PROVIDERS.md, so a run through the mock meets what the unit
 * fixtures read. Pure: builds bodies and headers as data. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/mock/mock_reply.h"
#include "tests/mock/mock_util.h"

/* body sets r's status and its body from a printf format. */
static void body(struct mock_reply *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void body(struct mock_reply *r, int status, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mock_reply_set_text(r, buf);
	r->status = status;
}

/* pause_at: epoch seconds of now + S, rounded up to a whole second, so a
 * stamp with one-second resolution never announces less than S. */
static time_t pause_at(const struct mock_call *c)
{
	return (time_t)((c->now_ms + 999) / 1000) + c->retry_after_s;
}

/* stamp formats pause_at as an HTTP-date (IMF-fixdate), or as RFC 3339
 * when rfc3339. */
static void stamp(const struct mock_call *c, bool rfc3339, char *buf, size_t n)
{
	time_t t = pause_at(c);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (rfc3339)
		strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static const char openai_rate[] =
    "{\"error\":{\"message\":\"Rate limit reached for gpt-4o-mini in "
    "organization org-abc on requests per min (RPM): Limit 3, Used 3, "
    "Requested 1.\",\"type\":\"requests\",\"param\":null,"
    "\"code\":\"rate_limit_exceeded\"}}";

static const char anthropic_rate[] =
    "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
    "\"message\":\"This request would exceed the rate limit for your "
    "organization of 8,000 input tokens per minute.\"}}";

bool mock_shape_build(const struct mock_call *c, enum mock_kind k,
		      struct mock_reply *r)
{
	char id[48], v[64];
	int s = c->retry_after_s;

	switch (k) {
	case MOCK_K_ALLOCQUOTA:
		/* Compatible mode's per-minute token cap in OpenAI's
		 * billing words (oh-my-pi#8476); no Retry-After. */
		mock_uuid(c, 0x5a, id, sizeof(id));
		body(r, 429,
		     "{\"error\":{\"message\":\"You exceeded your current "
		     "quota, please check your plan and billing details. For "
		     "details, see: https://help.aliyun.com/zh/model-studio/"
		     "error-code#token-limit\",\"type\":\"insufficient_quota\","
		     "\"param\":\"insufficient_quota\",\"code\":"
		     "\"insufficient_quota\"},\"id\":\"chatcmpl-%.12s\","
		     "\"request_id\":\"%s\"}",
		     id + 24, id);
		break;
	case MOCK_K_ARREARAGE:
		mock_uuid(c, 0x5a, id, sizeof(id));
		body(r, 400,
		     "{\"error\":{\"message\":\"Access denied, please make "
		     "sure your account is in good standing.\",\"type\":"
		     "\"Arrearage\",\"param\":null,\"code\":\"Arrearage\"},"
		     "\"request_id\":\"%s\"}",
		     id);
		break;
	case MOCK_K_402DEEPSEEK:
		body(r, 402,
		     "{\"error\":{\"message\":\"Insufficient Balance\","
		     "\"type\":\"unknown_error\",\"param\":null,"
		     "\"code\":\"invalid_request_error\"}}");
		break;
	case MOCK_K_503DEEPSEEK:
		body(r, 503,
		     "{\"error\":{\"message\":\"Server overloaded, please try "
		     "again later\",\"type\":\"server_error\"}}");
		break;
	case MOCK_K_422MISTRAL:
		body(r, 422,
		     "{\"object\":\"error\",\"message\":{\"detail\":[{\"type\":"
		     "\"extra_forbidden\",\"loc\":[\"body\","
		     "\"frequency_penalty\"],\"msg\":\"Extra inputs are not "
		     "permitted\",\"input\":0.5}]},\"type\":"
		     "\"invalid_request_error\",\"param\":null,\"code\":null}");
		break;
	case MOCK_K_429GEMINI:
		/* The pause is only in the text (S.5 s) and RetryInfo (S s):
		 * the later one is what a client must honour. */
		body(
		    r, 429,
		    "[{\"error\":{\"code\":429,\"message\":\"You exceeded your "
		    "current quota, please check your plan and billing "
		    "details.\\n* Quota exceeded for metric: "
		    "generativelanguage.googleapis.com/generate_content_free_"
		    "tier_requests, limit: 20, model: gemini-2.5-flash\\n"
		    "Please retry in "
		    "%d.5s.\",\"status\":\"RESOURCE_EXHAUSTED\","
		    "\"details\":[{\"@type\":\"type.googleapis.com/google.rpc."
		    "QuotaFailure\",\"violations\":[{\"quotaId\":"
		    "\"GenerateRequestsPerMinutePerProjectPerModel-FreeTier\"}"
		    "]},{\"@type\":\"type.googleapis.com/"
		    "google.rpc.RetryInfo\","
		    "\"retryDelay\":\"%ds\"}]}}]",
		    s, s);
		break;
	case MOCK_K_503GEMINI:
		body(r, 503,
		     "[{\"error\":{\"code\":503,\"message\":\"The model is "
		     "overloaded. Please try again later.\",\"status\":"
		     "\"UNAVAILABLE\"}}]");
		break;
	case MOCK_K_CONTEXT:
		if (c->dialect == MOCK_ANTHROPIC)
			body(
			    r, 400,
			    "{\"type\":\"error\",\"error\":{\"type\":"
			    "\"invalid_request_error\",\"message\":\"prompt is "
			    "too long: 215304 tokens > 200000 maximum\"}}");
		else
			body(
			    r, 400,
			    "{\"error\":{\"message\":\"This model's maximum "
			    "context length is 128000 tokens. However, your "
			    "messages resulted in 130412 tokens. Please reduce "
			    "the length of the messages.\",\"type\":"
			    "\"invalid_request_error\",\"param\":\"messages\","
			    "\"code\":\"context_length_exceeded\"}}");
		break;
	case MOCK_K_429DATE:
		body(r, 429, "%s", openai_rate);
		stamp(c, false, v, sizeof(v));
		mock_reply_add_header(r, "Retry-After", v);
		break;
	case MOCK_K_429MS:
		body(r, 429, "%s", openai_rate);
		snprintf(v, sizeof(v), "%d", s * 1000 + 250);
		mock_reply_add_header(r, "retry-after-ms", v);
		break;
	case MOCK_K_429RESET:
		/* No Retry-After: only the windows' reset durations, the
		 * tokens' the later one. */
		body(r, 429, "%s", openai_rate);
		snprintf(v, sizeof(v), "%ds", s);
		mock_reply_add_header(r, "x-ratelimit-reset-requests", v);
		snprintf(v, sizeof(v), "%dms", s * 1000 + 300);
		mock_reply_add_header(r, "x-ratelimit-reset-tokens", v);
		mock_reply_add_header(r, "x-ratelimit-remaining-requests", "2");
		mock_reply_add_header(r, "x-ratelimit-remaining-tokens", "0");
		break;
	case MOCK_K_429RFC3339:
		body(r, 429, "%s", anthropic_rate);
		stamp(c, true, v, sizeof(v));
		mock_reply_add_header(
		    r, "anthropic-ratelimit-input-tokens-reset", v);
		mock_reply_add_header(
		    r, "anthropic-ratelimit-input-tokens-remaining", "0");
		break;
	default:
		return false;
	}
	mock_reply_request_id(c, r);
	return true;
}
