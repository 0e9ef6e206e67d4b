/* test_dialect_openai.c — the openai dialect against each provider's real
 * error shapes (PROVIDERS.md 1, 3.3, 3.6-3.8 and the issue threads cited
 * there), success bodies with each provider's usage fields, JSON-mode
 * validation, and the request rewrites (model, stream, quirks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "runner/providers/dialect_openai_request.h"
#include "runner/providers/dialect_openai_response.h"
#include "runner/json/jsonidx.h"
#include "runner/providers/outcome.h"
#include "runner/providers/retry_after.h"

#define NOW ((int64_t)1714564800000)
#define ANY_RA (-2) /* retry_after_ms not checked */

struct cls_case {
	const char *name;
	int status;
	enum prov_flavor flavor;
	const char *headers;
	const char *body;
	enum outcome_class want;
	const char *want_code; /* NULL: not checked */
	int64_t want_ra;       /* absolute, -1 none, ANY_RA unchecked */
	const char *msg_has;   /* NULL: not checked */
};

/* ---- fixtures: real shapes -------------------------------------------- */

#define OPENAI_RATE                                                            \
	"{\"error\":{\"message\":\"Rate limit reached for gpt-4o-mini in "     \
	"organization org-abc on requests per min (RPM): Limit 3, Used 3, "    \
	"Requested 1. Please try again in 20s.\",\"type\":\"requests\","       \
	"\"param\":null,\"code\":\"rate_limit_exceeded\"}}"
#define OPENAI_QUOTA                                                           \
	"{\"error\":{\"message\":\"You exceeded your current quota, please "   \
	"check your plan and billing details. For more information on this "   \
	"error, read the docs: https://platform.openai.com/docs/guides/"       \
	"error-codes/api-errors.\",\"type\":\"insufficient_quota\","           \
	"\"param\":null,\"code\":\"insufficient_quota\"}}"
/* oh-my-pi#8476: DashScope's TPM throttle in OpenAI billing words. */
#define DASHSCOPE_TRAP                                                         \
	"{\"error\":{\"message\":\"You exceeded your current quota, please "   \
	"check your plan and billing details. For details, see: "              \
	"https://help.aliyun.com/zh/model-studio/error-code#token-limit\","    \
	"\"type\":\"insufficient_quota\",\"param\":\"insufficient_quota\","    \
	"\"code\":\"insufficient_quota\"},\"id\":\"chatcmpl-7d1\","            \
	"\"request_id\":\"5c1b9f0e-5e6a-9d4c-8a9b-2f6c1d0e7a11\"}"
#define DASHSCOPE_FILTER                                                       \
	"{\"error\":{\"code\":\"data_inspection_failed\",\"param\":null,"      \
	"\"message\":\"Input data may contain inappropriate content.\","       \
	"\"type\":\"data_inspection_failed\"},\"id\":\"chatcmpl-1\","          \
	"\"request_id\":\"b1a3d0c2-0000-4e8e-9c1b-7f3e2a1d9c00\"}"
#define DASHSCOPE_ARREARS                                                      \
	"{\"error\":{\"message\":\"Access denied, please make sure your "      \
	"account is in good standing.\",\"type\":\"Arrearage\","               \
	"\"param\":null,\"code\":\"Arrearage\"},\"request_id\":\"r-1\"}"
#define DASHSCOPE_BADKEY                                                       \
	"{\"error\":{\"message\":\"Incorrect API key provided. \","            \
	"\"type\":\"invalid_request_error\",\"param\":null,"                   \
	"\"code\":\"invalid_api_key\"},\"request_id\":\"r-2\"}"
#define DASHSCOPE_RANGE                                                        \
	"{\"error\":{\"code\":\"invalid_parameter_error\",\"param\":null,"     \
	"\"message\":\"<400> InternalError.Algo.InvalidParameter: Range of "   \
	"input length should be [1, 129024]\","                                \
	"\"type\":\"invalid_request_error\"},\"request_id\":\"r-3\"}"
#define DASHSCOPE_THINKING                                                     \
	"{\"error\":{\"code\":\"invalid_parameter_error\",\"param\":null,"     \
	"\"message\":\"parameter.enable_thinking must be set to false for "    \
	"non-streaming calls\",\"type\":\"invalid_request_error\"}}"
#define OPENAI_CONTEXT                                                         \
	"{\"error\":{\"message\":\"This model's maximum context length is "    \
	"128000 tokens. However, your messages resulted in 130412 tokens. "    \
	"Please reduce the length of the messages.\",\"type\":"                \
	"\"invalid_request_error\",\"param\":\"messages\",\"code\":"           \
	"\"context_length_exceeded\"}}"
#define OPENAI_BADKEY                                                          \
	"{\"error\":{\"message\":\"Incorrect API key provided: "               \
	"sk-proj-Ab12****************************************************"     \
	"wxYZ. You can find your API key at https://platform.openai.com/"      \
	"account/api-keys.\",\"type\":\"invalid_request_error\","              \
	"\"param\":null,\"code\":\"invalid_api_key\"}}"
#define OPENAI_NOMODEL                                                         \
	"{\"error\":{\"message\":\"The model `gpt-9-mini` does not exist or "  \
	"you do not have access to it.\",\"type\":\"invalid_request_error\","  \
	"\"param\":null,\"code\":\"model_not_found\"}}"
#define OPENAI_500                                                             \
	"{\"error\":{\"message\":\"The server had an error while processing "  \
	"your request. Sorry about that!\",\"type\":\"server_error\","         \
	"\"param\":null,\"code\":null}}"
#define ANTHROPIC_529                                                          \
	"{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","        \
	"\"message\":\"Overloaded\"},\"request_id\":\"req_011\"}"
#define DEEPSEEK_402                                                           \
	"{\"error\":{\"message\":\"Insufficient Balance\",\"type\":"           \
	"\"unknown_error\",\"param\":null,\"code\":\"invalid_request_error\"}" \
	"}"
#define DEEPSEEK_RISK                                                          \
	"{\"error\":{\"message\":\"Content Exists Risk\",\"type\":"            \
	"\"invalid_request_error\",\"param\":null,\"code\":"                   \
	"\"invalid_request_error\"}}"
#define DEEPSEEK_CONTEXT                                                       \
	"{\"error\":{\"message\":\"This model's maximum context length is "    \
	"65536 tokens. However, you requested 70123 tokens (70000 in the "     \
	"messages, 123 in the completion). Please reduce the length of the "   \
	"messages or completion.\",\"type\":\"invalid_request_error\","        \
	"\"param\":null,\"code\":\"invalid_request_error\"}}"
#define MISTRAL_429                                                            \
	"{\"object\":\"error\",\"message\":\"Requests rate limit exceeded\","  \
	"\"type\":\"rate_limited\",\"param\":null,\"code\":\"1300\"}"
#define MISTRAL_422                                                            \
	"{\"object\":\"error\",\"message\":{\"detail\":[{\"type\":"            \
	"\"extra_forbidden\",\"loc\":[\"body\",\"frequency_penalty\"],"        \
	"\"msg\":\"Extra inputs are not permitted\",\"input\":0.5}]},"         \
	"\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}"
#define MISTRAL_401 "{\"message\":\"Unauthorized\",\"request_id\":\"9f2a\"}"
#define GEMINI_429                                                             \
	"[{\"error\":{\"code\":429,\"message\":\"You exceeded your current "   \
	"quota, please check your plan and billing details.\\n* Quota "        \
	"exceeded for metric: generativelanguage.googleapis.com/"              \
	"generate_content_free_tier_requests, limit: 20, model: "              \
	"gemini-2.5-flash\\nPlease retry in 58.821668433s.\",\"status\":"      \
	"\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":\"type.googleapis."    \
	"com/google.rpc.QuotaFailure\",\"violations\":[{\"quotaId\":"          \
	"\"GenerateRequestsPerDayPerProjectPerModel-FreeTier\"}]},{\"@type\":" \
	"\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":"         \
	"\"58s\"}]}}]"
#define GEMINI_BADKEY                                                          \
	"[{\"error\":{\"code\":400,\"message\":\"API key not valid. Please "   \
	"pass a valid API key.\",\"status\":\"INVALID_ARGUMENT\","             \
	"\"details\":[{\"@type\":\"type.googleapis.com/google.rpc."            \
	"ErrorInfo\",\"reason\":\"API_KEY_INVALID\",\"domain\":"               \
	"\"googleapis.com\"}]}}]"
#define GEMINI_CONTEXT                                                         \
	"{\"error\":{\"code\":400,\"message\":\"The input token count "        \
	"exceeds the maximum number of tokens allowed 1048576.\","             \
	"\"status\":\"INVALID_ARGUMENT\"}}"
#define GEMINI_503                                                             \
	"[{\"error\":{\"code\":503,\"message\":\"The model is overloaded. "    \
	"Please try again later.\",\"status\":\"UNAVAILABLE\"}}]"
#define GEMINI_404                                                             \
	"[{\"error\":{\"code\":404,\"message\":\"models/gemini-9 is not "      \
	"found for API version v1main\",\"status\":\"NOT_FOUND\"}}]"

static const struct cls_case cls_cases[] = {
    {"openai 429 rate limit", 429, FLAVOR_OPENAI,
     "HTTP/2 429\r\nx-request-id: req_abc\r\n"
     "x-ratelimit-reset-requests: 20s\r\n\r\n",
     OPENAI_RATE, OUTCOME_RATE_LIMITED, "rate_limit_exceeded", NOW + 20000,
     "Rate limit reached"},
    {"openai 429 insufficient_quota is billing", 429, FLAVOR_OPENAI, NULL,
     OPENAI_QUOTA, OUTCOME_BILLING, "insufficient_quota", -1,
     "exceeded your current quota"},
    {"generic 429 insufficient_quota (openai marks) is billing", 429,
     FLAVOR_GENERIC, NULL, OPENAI_QUOTA, OUTCOME_BILLING, "insufficient_quota",
     -1, NULL},
    {"dashscope 429 insufficient_quota is a throttle", 429, FLAVOR_DASHSCOPE,
     "Retry-After: 30\r\n", DASHSCOPE_TRAP, OUTCOME_RATE_LIMITED,
     "insufficient_quota", NOW + 30000, NULL},
    {"generic 429 insufficient_quota (dashscope marks) is a throttle", 429,
     FLAVOR_GENERIC, NULL, DASHSCOPE_TRAP, OUTCOME_RATE_LIMITED, NULL, -1,
     NULL},
    {"dashscope native Throttling.RateQuota", 429, FLAVOR_DASHSCOPE, NULL,
     "{\"request_id\":\"r\",\"code\":\"Throttling.RateQuota\","
     "\"message\":\"Requests rate limit exceeded, please try again "
     "later.\"}",
     OUTCOME_RATE_LIMITED, "Throttling.RateQuota", -1, "rate limit"},
    {"dashscope native Throttling.AllocationQuota", 429, FLAVOR_DASHSCOPE,
     NULL,
     "{\"request_id\":\"r\",\"code\":\"Throttling.AllocationQuota\","
     "\"message\":\"Allocated quota exceeded, please increase your "
     "quota limit.\"}",
     OUTCOME_RATE_LIMITED, "Throttling.AllocationQuota", -1, NULL},
    {"dashscope native Throttling", 429, FLAVOR_DASHSCOPE, NULL,
     "{\"code\":\"Throttling\",\"message\":\"Requests throttling "
     "triggered.\"}",
     OUTCOME_RATE_LIMITED, "Throttling", -1, NULL},
    {"dashscope 400 data_inspection_failed", 400, FLAVOR_DASHSCOPE, NULL,
     DASHSCOPE_FILTER, OUTCOME_CONTENT_FILTER, "data_inspection_failed", ANY_RA,
     "inappropriate content"},
    {"dashscope native DataInspectionFailed", 400, FLAVOR_DASHSCOPE, NULL,
     "{\"code\":\"DataInspectionFailed\",\"message\":\"Output data may "
     "contain inappropriate content.\",\"request_id\":\"x\"}",
     OUTCOME_CONTENT_FILTER, "DataInspectionFailed", ANY_RA, NULL},
    {"dashscope InvalidParameter.DataInspection", 400, FLAVOR_DASHSCOPE, NULL,
     "{\"code\":\"InvalidParameter.DataInspection\",\"message\":\"The "
     "media format is not supported or incorrect for the data "
     "inspection.\"}",
     OUTCOME_CONTENT_FILTER, NULL, ANY_RA, NULL},
    {"dashscope Arrearage", 400, FLAVOR_DASHSCOPE, NULL, DASHSCOPE_ARREARS,
     OUTCOME_BILLING, "Arrearage", ANY_RA, "good standing"},
    {"dashscope native Arrearage", 400, FLAVOR_DASHSCOPE, NULL,
     "{\"statusCode\":400,\"message\":\"Access denied, please make sure "
     "your account is in good standing.\",\"code\":\"Arrearage\","
     "\"requestId\":\"8af5\"}",
     OUTCOME_BILLING, "Arrearage", ANY_RA, NULL},
    {"dashscope 401 invalid_api_key", 401, FLAVOR_DASHSCOPE, NULL,
     DASHSCOPE_BADKEY, OUTCOME_AUTH, "invalid_api_key", ANY_RA, NULL},
    {"dashscope native InvalidApiKey", 401, FLAVOR_DASHSCOPE, NULL,
     "{\"code\":\"InvalidApiKey\",\"message\":\"Invalid API-key "
     "provided.\",\"request_id\":\"z\"}",
     OUTCOME_AUTH, "InvalidApiKey", ANY_RA, NULL},
    {"dashscope range of input length", 400, FLAVOR_DASHSCOPE, NULL,
     DASHSCOPE_RANGE, OUTCOME_CONTEXT_OVERFLOW, "invalid_parameter_error",
     ANY_RA, "Range of input length"},
    {"dashscope thinking 400 is a bad request", 400, FLAVOR_DASHSCOPE, NULL,
     DASHSCOPE_THINKING, OUTCOME_BAD_REQUEST, "invalid_parameter_error", ANY_RA,
     "enable_thinking"},
    {"dashscope 404 ModelNotFound", 404, FLAVOR_DASHSCOPE, NULL,
     "{\"code\":\"ModelNotFound\",\"message\":\"Model not exist.\"}",
     OUTCOME_NOT_FOUND, "ModelNotFound", ANY_RA, NULL},
    {"dashscope 500 InternalError", 500, FLAVOR_DASHSCOPE, NULL,
     "{\"code\":\"InternalError\",\"message\":\"An internal error has "
     "occured, please try again later.\"}",
     OUTCOME_SERVER_ERROR, "InternalError", -1, NULL},
    {"openai context_length_exceeded", 400, FLAVOR_OPENAI, NULL,
     OPENAI_CONTEXT, OUTCOME_CONTEXT_OVERFLOW, "context_length_exceeded",
     ANY_RA, "maximum context length"},
    {"openai 401 masked key not echoed", 401, FLAVOR_OPENAI, NULL,
     OPENAI_BADKEY, OUTCOME_AUTH, "invalid_api_key", ANY_RA,
     "Incorrect API key provided: [redacted]"},
    {"openai 404 model_not_found", 404, FLAVOR_OPENAI, NULL, OPENAI_NOMODEL,
     OUTCOME_NOT_FOUND, "model_not_found", ANY_RA, "does not exist"},
    {"openai 500", 500, FLAVOR_OPENAI, NULL, OPENAI_500, OUTCOME_SERVER_ERROR,
     "server_error", -1, "had an error"},
    {"proxy 502 html", 502, FLAVOR_OPENAI, NULL,
     "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>",
     OUTCOME_SERVER_ERROR, NULL, -1, "502 Bad Gateway"},
    {"503 with retry-after is overloaded", 503, FLAVOR_OPENAI,
     "Retry-After: 12\r\n", "", OUTCOME_OVERLOADED, NULL, NOW + 12000,
     "HTTP 503"},
    {"504", 504, FLAVOR_GENERIC, NULL, "", OUTCOME_SERVER_ERROR, NULL, -1,
     NULL},
    {"529 anthropic shape", 529, FLAVOR_ANTHROPIC, NULL, ANTHROPIC_529,
     OUTCOME_OVERLOADED, "overloaded_error", -1, "Overloaded"},
    {"408", 408, FLAVOR_GENERIC, NULL, "", OUTCOME_TIMEOUT, NULL, -1, NULL},
    {"413", 413, FLAVOR_GENERIC, NULL,
     "{\"error\":{\"type\":\"request_too_large\",\"message\":\"Request "
     "exceeds the maximum allowed number of bytes.\"}}",
     OUTCOME_TOO_LARGE, "request_too_large", ANY_RA, NULL},
    {"422 generic", 422, FLAVOR_GENERIC, NULL, "{\"detail\":\"bad field\"}",
     OUTCOME_BAD_REQUEST, NULL, ANY_RA, "bad field"},
    {"402 generic", 402, FLAVOR_GENERIC, NULL, "", OUTCOME_BILLING, NULL,
     ANY_RA, NULL},
    {"403 generic", 403, FLAVOR_GENERIC, NULL,
     "{\"error\":{\"message\":\"Country, region, or territory not "
     "supported\",\"type\":\"request_forbidden\",\"code\":"
     "\"unsupported_country_region_territory\"}}",
     OUTCOME_AUTH, "unsupported_country_region_territory", ANY_RA, NULL},
    {"400 generic bad request", 400, FLAVOR_GENERIC, NULL,
     "{\"error\":{\"message\":\"'messages' must contain the word 'json' "
     "in some form, to use 'response_format' of type 'json_object'.\","
     "\"type\":\"invalid_request_error\",\"param\":null,\"code\":"
     "\"invalid_parameter_error\"}}",
     OUTCOME_BAD_REQUEST, "invalid_parameter_error", ANY_RA, NULL},
    {"deepseek 402", 402, FLAVOR_DEEPSEEK, NULL, DEEPSEEK_402, OUTCOME_BILLING,
     "invalid_request_error", ANY_RA, "Insufficient Balance"},
    {"deepseek content exists risk", 400, FLAVOR_DEEPSEEK, NULL, DEEPSEEK_RISK,
     OUTCOME_CONTENT_FILTER, NULL, ANY_RA, NULL},
    {"deepseek context overflow", 400, FLAVOR_DEEPSEEK, NULL, DEEPSEEK_CONTEXT,
     OUTCOME_CONTEXT_OVERFLOW, NULL, ANY_RA, NULL},
    {"deepseek 503", 503, FLAVOR_DEEPSEEK, NULL,
     "{\"error\":{\"message\":\"Server overloaded, please try again "
     "later\",\"type\":\"server_error\"}}",
     OUTCOME_OVERLOADED, NULL, -1, NULL},
    {"mistral 429", 429, FLAVOR_MISTRAL, "retry-after: 2\r\n", MISTRAL_429,
     OUTCOME_RATE_LIMITED, "rate_limited", NOW + 2000, "rate limit exceeded"},
    {"mistral 422 extra_forbidden", 422, FLAVOR_MISTRAL, NULL, MISTRAL_422,
     OUTCOME_BAD_REQUEST, "invalid_request_error", ANY_RA, "extra_forbidden"},
    {"mistral 401 flat", 401, FLAVOR_MISTRAL, NULL, MISTRAL_401, OUTCOME_AUTH,
     NULL, ANY_RA, "Unauthorized"},
    {"gemini 429 array, pause in the text", 429, FLAVOR_GEMINI, NULL,
     GEMINI_429, OUTCOME_RATE_LIMITED, "RESOURCE_EXHAUSTED", NOW + 58822,
     "exceeded your current quota"},
    {"gemini bad key is 400 but auth", 400, FLAVOR_GEMINI, NULL, GEMINI_BADKEY,
     OUTCOME_AUTH, "INVALID_ARGUMENT", ANY_RA, "API key not valid"},
    {"gemini context overflow", 400, FLAVOR_GEMINI, NULL, GEMINI_CONTEXT,
     OUTCOME_CONTEXT_OVERFLOW, "INVALID_ARGUMENT", ANY_RA, NULL},
    {"gemini 503 UNAVAILABLE", 503, FLAVOR_GEMINI, NULL, GEMINI_503,
     OUTCOME_OVERLOADED, "UNAVAILABLE", -1, "overloaded"},
    {"gemini 404", 404, FLAVOR_GEMINI, NULL, GEMINI_404, OUTCOME_NOT_FOUND,
     "NOT_FOUND", ANY_RA, "not found"},
    {"200 carrying an error object", 200, FLAVOR_GENERIC, NULL,
     "{\"error\":{\"message\":\"upstream failed\",\"type\":"
     "\"server_error\",\"code\":null}}",
     OUTCOME_SERVER_ERROR, "server_error", -1, "upstream failed"},
    {"200 carrying a gemini 429 array", 200, FLAVOR_GEMINI, NULL, GEMINI_429,
     OUTCOME_RATE_LIMITED, "RESOURCE_EXHAUSTED", NOW + 58822, NULL},
    {"200 carrying a moderation error", 200, FLAVOR_DASHSCOPE, NULL,
     DASHSCOPE_FILTER, OUTCOME_CONTENT_FILTER, "data_inspection_failed", ANY_RA,
     NULL},
    {"200 carrying a numeric 429 code", 200, FLAVOR_GENERIC, NULL,
     "{\"error\":{\"message\":\"Rate limit exceeded\",\"code\":429}}",
     OUTCOME_RATE_LIMITED, "429", -1, NULL},
    {"200 truncated body", 200, FLAVOR_OPENAI, NULL,
     "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"message\":{",
     OUTCOME_INVALID_OUTPUT, NULL, -1, "not valid JSON"},
    {"200 trailing garbage", 200, FLAVOR_OPENAI, NULL,
     "{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}xyz",
     OUTCOME_INVALID_OUTPUT, NULL, -1, NULL},
    {"200 empty body", 200, FLAVOR_OPENAI, NULL, "", OUTCOME_INVALID_OUTPUT,
     NULL, -1, "empty"},
    {"200 no choices", 200, FLAVOR_OPENAI, NULL,
     "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\"}",
     OUTCOME_INVALID_OUTPUT, NULL, -1, "choices"},
    {"200 empty choices", 200, FLAVOR_OPENAI, NULL,
     "{\"id\":\"chatcmpl-1\",\"choices\":[]}", OUTCOME_INVALID_OUTPUT, NULL, -1,
     NULL},
    {"200 choice without message", 200, FLAVOR_OPENAI, NULL,
     "{\"choices\":[{\"index\":0,\"text\":\"legacy\"}]}",
     OUTCOME_INVALID_OUTPUT, NULL, -1, NULL},
    {"200 content_filter with empty content", 200, FLAVOR_OPENAI, NULL,
     "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
     "\"content\":null},\"finish_reason\":\"content_filter\"}]}",
     OUTCOME_CONTENT_FILTER, "content_filter", -1, NULL},
    {"200 content_filter with partial content is kept", 200, FLAVOR_OPENAI,
     NULL,
     "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
     "\"content\":\"Part\"},\"finish_reason\":\"content_filter\"}]}",
     OUTCOME_OK, NULL, -1, NULL},
    {"no response at all", 0, FLAVOR_OPENAI, NULL, NULL, OUTCOME_CONNECTION,
     NULL, -1, NULL},
};

static void classification_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cls_cases) / sizeof(cls_cases[0]); i++) {
		const struct cls_case *c = &cls_cases[i];
		struct outcome o = OUTCOME_INIT;

		dialect_openai_response(c->status, c->headers,
					c->headers ? strlen(c->headers) : 0,
					c->body, c->body ? strlen(c->body) : 0,
					c->flavor, 0, NOW, &o);
		if (o.cls != c->want)
			fail_msg("%s: class %s, want %s (code %s, msg %s)",
				 c->name, outcome_class_name(o.cls),
				 outcome_class_name(c->want),
				 o.error_code ? o.error_code : "-",
				 o.error_message ? o.error_message : "-");
		if (o.http_status != c->status)
			fail_msg("%s: http_status %d", c->name, o.http_status);
		if (c->want_code && (o.error_code == NULL ||
				     strcmp(o.error_code, c->want_code) != 0))
			fail_msg("%s: code %s, want %s", c->name,
				 o.error_code ? o.error_code : "(null)",
				 c->want_code);
		if (c->want_ra != ANY_RA && o.retry_after_ms != c->want_ra)
			fail_msg("%s: retry_after %lld, want %lld", c->name,
				 (long long)o.retry_after_ms,
				 (long long)c->want_ra);
		if (c->msg_has && (o.error_message == NULL ||
				   strstr(o.error_message, c->msg_has) == NULL))
			fail_msg("%s: message \"%s\" lacks \"%s\"", c->name,
				 o.error_message ? o.error_message : "(null)",
				 c->msg_has);
		if (o.cls != OUTCOME_OK && o.body != NULL)
			fail_msg("%s: error outcome has a body", c->name);
		if (o.cls != OUTCOME_OK && o.error_message == NULL)
			fail_msg("%s: error outcome has no message", c->name);
		if (o.error_message &&
		    strlen(o.error_message) > OUTCOME_MESSAGE_MAX)
			fail_msg("%s: message too long", c->name);
		outcome_clear(&o);
	}
}

/* The key the provider half-echoes must not survive in any field. */
static void key_never_echoed(void **state)
{
	struct outcome o = OUTCOME_INIT;

	(void)state;
	dialect_openai_response(401, NULL, 0, OPENAI_BADKEY,
				strlen(OPENAI_BADKEY), FLAVOR_OPENAI, 0, NOW,
				&o);
	assert_non_null(o.error_message);
	assert_null(strstr(o.error_message, "sk-"));
	assert_null(strstr(o.error_message, "Ab12"));
	assert_null(strstr(o.error_message, "wxYZ"));
	outcome_clear(&o);
}

static void request_id_sources(void **state)
{
	struct outcome o = OUTCOME_INIT;
	const char *ok = "{\"id\":\"chatcmpl-9\",\"choices\":[{\"message\":"
			 "{\"role\":\"assistant\",\"content\":\"hi\"}}]}";
	const char *h = "HTTP/1.1 200 OK\r\nX-Request-ID: req_77\r\n\r\n";

	(void)state;
	dialect_openai_response(200, h, strlen(h), ok, strlen(ok),
				FLAVOR_OPENAI, 0, NOW, &o);
	assert_string_equal(o.request_id, "req_77");
	dialect_openai_response(200, NULL, 0, ok, strlen(ok), FLAVOR_OPENAI, 0,
				NOW, &o);
	assert_string_equal(o.request_id, "chatcmpl-9");
	dialect_openai_response(400, NULL, 0, DASHSCOPE_FILTER,
				strlen(DASHSCOPE_FILTER), FLAVOR_DASHSCOPE, 0,
				NOW, &o);
	assert_string_equal(o.request_id,
			    "b1a3d0c2-0000-4e8e-9c1b-7f3e2a1d9c00");
	dialect_openai_response(504, NULL, 0, "", 0, FLAVOR_OPENAI, 0, NOW,
				&o);
	assert_null(o.request_id);
	outcome_clear(&o);
}

/* ---- success and usage ------------------------------------------------ */

struct usage_case {
	const char *name;
	enum prov_flavor flavor;
	const char *usage; /* the "usage" object, or NULL */
	struct outcome_usage want;
	int unreported; /* no usable input and output count: unknown */
};

static const struct usage_case usage_cases[] = {
    {"openai cached and reasoning",
     FLAVOR_OPENAI,
     "{\"prompt_tokens\":1000,\"completion_tokens\":500,"
     "\"total_tokens\":1500,\"prompt_tokens_details\":{\"cached_tokens\":"
     "800},\"completion_tokens_details\":{\"reasoning_tokens\":300}}",
     {200, 800, 0, 200, 300}, 0},
    {"dashscope cached",
     FLAVOR_DASHSCOPE,
     "{\"prompt_tokens\":3019,\"completion_tokens\":104,"
     "\"total_tokens\":3123,\"prompt_tokens_details\":{\"cached_tokens\":"
     "2048}}",
     {971, 2048, 0, 104, 0}, 0},
    {"deepseek hit/miss",
     FLAVOR_DEEPSEEK,
     "{\"prompt_tokens\":1000,\"completion_tokens\":50,"
     "\"total_tokens\":1050,\"prompt_cache_hit_tokens\":600,"
     "\"prompt_cache_miss_tokens\":400,\"completion_tokens_details\":"
     "{\"reasoning_tokens\":20}}",
     {400, 600, 0, 30, 20}, 0},
    {"deepseek hit/miss win over cached_tokens",
     FLAVOR_DEEPSEEK,
     "{\"prompt_tokens\":100,\"completion_tokens\":5,"
     "\"prompt_cache_hit_tokens\":64,\"prompt_cache_miss_tokens\":36,"
     "\"prompt_tokens_details\":{\"cached_tokens\":64}}",
     {36, 64, 0, 5, 0}, 0},
    {"plain",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":12,\"completion_tokens\":7,\"total_tokens\":19}",
     {12, 0, 0, 7, 0}, 0},
    {"no usage", FLAVOR_GENERIC, NULL, {0, 0, 0, 0, 0}, 1},
    {"nonsense values clamp to zero",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":10,\"completion_tokens\":-4,"
     "\"prompt_tokens_details\":{\"cached_tokens\":50},"
     "\"completion_tokens_details\":{\"reasoning_tokens\":\"x\"}}",
     {0, 50, 0, 0, 0}, 1},
    {"zero is reported, not unknown",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":0,\"completion_tokens\":0}",
     {0, 0, 0, 0, 0}, 0},
    {"input and output under the other names",
     FLAVOR_GENERIC,
     "{\"input_tokens\":12,\"output_tokens\":7}",
     {12, 0, 0, 7, 0}, 0},
    {"usage not an object", FLAVOR_GENERIC, "[12,7]", {0, 0, 0, 0, 0}, 1},
    {"empty usage", FLAVOR_GENERIC, "{}", {0, 0, 0, 0, 0}, 1},
    {"no output count",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":12,\"total_tokens\":19}",
     {12, 0, 0, 0, 0}, 1},
    {"negative counts",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":-12,\"completion_tokens\":-7}",
     {0, 0, 0, 0, 0}, 1},
    {"counts as strings",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":\"12\",\"completion_tokens\":\"7\"}",
     {0, 0, 0, 0, 0}, 1},
    {"counts past 1e15",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":12,\"completion_tokens\":1e16}",
     {12, 0, 0, 0, 0}, 1},
    {"1e15 is a count (for the cost to judge)",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":1e15,\"completion_tokens\":1e15}",
     {1000000000000000, 0, 0, 1000000000000000, 0}, 0},
    {"reasoning above completion is cut",
     FLAVOR_GENERIC,
     "{\"prompt_tokens\":1,\"completion_tokens\":5,"
     "\"completion_tokens_details\":{\"reasoning_tokens\":9}}",
     {1, 0, 0, 0, 5}, 0},
};

static char *completion(const char *content_json, const char *finish,
			const char *usage)
{
	size_t n = strlen(content_json) + (usage ? strlen(usage) : 0) + 256;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n,
		 "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","
		 "\"created\":1714564800,\"model\":\"m\",\"choices\":[{"
		 "\"index\":0,\"message\":{\"role\":\"assistant\","
		 "\"content\":%s},\"finish_reason\":\"%s\"}]%s%s}",
		 content_json, finish, usage ? ",\"usage\":" : "",
		 usage ? usage : "");
	return s;
}

static void usage_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(usage_cases) / sizeof(usage_cases[0]); i++) {
		const struct usage_case *c = &usage_cases[i];
		char *body = completion("\"Hello\"", "stop", c->usage);
		struct outcome o = OUTCOME_INIT;
		const struct outcome_usage *u = &o.usage;

		dialect_openai_response(200, NULL, 0, body, strlen(body),
					c->flavor, 0, NOW, &o);
		if (o.cls != OUTCOME_OK)
			fail_msg("%s: class %s", c->name,
				 outcome_class_name(o.cls));
		if (u->in != c->want.in || u->in_cached != c->want.in_cached ||
		    u->cache_write != c->want.cache_write ||
		    u->out != c->want.out ||
		    u->out_reasoning != c->want.out_reasoning)
			fail_msg("%s: got in=%lld cached=%lld write=%lld "
				 "out=%lld reasoning=%lld",
				 c->name, (long long)u->in,
				 (long long)u->in_cached,
				 (long long)u->cache_write, (long long)u->out,
				 (long long)u->out_reasoning);
		if (o.usage_reported != !c->unreported)
			fail_msg("%s: usage_reported %d", c->name,
				 o.usage_reported);
		/* The stored body is the response exactly as received. */
		assert_int_equal(o.body_len, strlen(body));
		assert_memory_equal(o.body, body, o.body_len);
		assert_int_equal(o.body[o.body_len], '\0');
		assert_int_equal(o.retry_after_ms, -1);
		assert_null(o.error_code);
		outcome_clear(&o);
		free(body);
	}
}

static const char *content_of(const char *body, char *buf, size_t n)
{
	cJSON *root = cJSON_Parse(body);
	cJSON *c = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(root, "choices"), 0),
		"message"),
	    "content");

	assert_true(cJSON_IsString(c));
	snprintf(buf, n, "%s", c->valuestring);
	cJSON_Delete(root);
	return buf;
}

static void json_content_checked(void **state)
{
	const char *usage = "{\"prompt_tokens\":10,\"completion_tokens\":20}";
	struct outcome o = OUTCOME_INIT;
	char buf[256];
	char *body;

	(void)state;
	/* A JSON object passes, body untouched. */
	body = completion("\"{\\\"a\\\": 1}\"", "stop", usage);
	dialect_openai_response(200, NULL, 0, body, strlen(body),
				FLAVOR_DASHSCOPE, DIALECT_EXPECT_JSON, NOW,
				&o);
	assert_int_equal(o.cls, OUTCOME_OK);
	assert_memory_equal(o.body, body, strlen(body));
	free(body);

	/* A fenced object is unwrapped in the stored body. */
	body = completion("\"```json\\n{\\\"a\\\": 1}\\n```\"", "stop", usage);
	dialect_openai_response(200, NULL, 0, body, strlen(body),
				FLAVOR_DASHSCOPE, DIALECT_EXPECT_JSON, NOW,
				&o);
	assert_int_equal(o.cls, OUTCOME_OK);
	assert_string_equal(content_of(o.body, buf, sizeof(buf)),
			    "{\"a\": 1}\n");
	assert_int_equal(o.body_len, strlen(o.body));
	assert_int_equal(o.usage.out, 20);
	free(body);

	/* Without the flag, the same fenced text is left as is. */
	body = completion("\"```json\\n{\\\"a\\\": 1}\\n```\"", "stop", usage);
	dialect_openai_response(200, NULL, 0, body, strlen(body),
				FLAVOR_DASHSCOPE, 0, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_OK);
	assert_memory_equal(o.body, body, strlen(body));
	free(body);

	/* Prose is invalid output, and its tokens are still counted. */
	body = completion("\"Sure! Here is the JSON you asked for.\"", "stop",
			  usage);
	dialect_openai_response(200, NULL, 0, body, strlen(body),
				FLAVOR_DASHSCOPE, DIALECT_EXPECT_JSON, NOW,
				&o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	assert_null(o.body);
	assert_int_equal(o.usage.in, 10);
	assert_int_equal(o.usage.out, 20);
	free(body);

	/* Cut by max_tokens: says so. */
	body = completion("\"{\\\"a\\\": [1, 2\"", "length", usage);
	dialect_openai_response(200, NULL, 0, body, strlen(body),
				FLAVOR_OPENAI, DIALECT_EXPECT_JSON, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	assert_non_null(strstr(o.error_message, "max_tokens"));
	free(body);

	/* A JSON array or a bare string is not an object. */
	body = completion("\"[1, 2]\"", "stop", usage);
	dialect_openai_response(200, NULL, 0, body, strlen(body),
				FLAVOR_OPENAI, DIALECT_EXPECT_JSON, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	free(body);
	body = completion("null", "tool_calls", usage);
	dialect_openai_response(200, NULL, 0, body, strlen(body),
				FLAVOR_OPENAI, DIALECT_EXPECT_JSON, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	free(body);
	outcome_clear(&o);
}

/* Hostile error text: huge, with control characters and escapes. */
static void error_message_scrubbed(void **state)
{
	size_t n = 5000, i;
	char *msg = malloc(n + 1), *body = malloc(n + 64);
	struct outcome o = OUTCOME_INIT;

	(void)state;
	assert_non_null(msg);
	assert_non_null(body);
	for (i = 0; i < n; i++)
		msg[i] = (i % 7 == 0) ? ' ' : 'a';
	msg[n] = '\0';
	memcpy(msg, "line1\\nline2\\u001b[31m", 22);
	snprintf(body, n + 64, "{\"error\":{\"message\":\"%s\"}}", msg);
	dialect_openai_response(400, NULL, 0, body, strlen(body),
				FLAVOR_OPENAI, 0, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_BAD_REQUEST);
	assert_non_null(o.error_message);
	assert_true(strlen(o.error_message) <= OUTCOME_MESSAGE_MAX);
	for (i = 0; o.error_message[i]; i++)
		assert_true((unsigned char)o.error_message[i] >= 0x20 &&
			    o.error_message[i] != 0x7f);
	assert_non_null(
	    strstr(o.error_message, "line1 line2 [31maaaaaa aaaaaa"));
	outcome_clear(&o);
	free(msg);
	free(body);
}

/* ---- request ---------------------------------------------------------- */

/* indexed: dialect_openai_request_indexed on a body indexed here, as the
 * worker does for the body it routed; NULL when it refuses the body. */
static char *indexed(const char *body, const char *model,
		     const struct dialect_openai_quirks *q, unsigned *flags)
{
	struct jsonidx x;
	size_t end;
	char *out;

	if (jsonidx_parse(&x, body, strlen(body), &end) != 0) {
		jsonidx_free(&x);
		return dialect_openai_request(body, strlen(body), model, q,
					      flags);
	}
	out = dialect_openai_request_indexed(body, strlen(body), &x, end,
					     model, q, flags);
	jsonidx_free(&x);
	return out;
}

/* req: the request for body, parsed; the indexed entry point must send
 * the same bytes with the same flags. */
static cJSON *req(const char *body, const char *model,
		  const struct dialect_openai_quirks *q, unsigned *flags)
{
	char *out = dialect_openai_request(body, strlen(body), model, q, flags);
	unsigned iflags = 77;
	char *iout = indexed(body, model, q, &iflags);
	cJSON *root;

	assert_non_null(out);
	assert_non_null(iout);
	assert_string_equal(iout, out);
	if (flags)
		assert_int_equal(iflags, *flags);
	free(iout);
	root = cJSON_Parse(out);
	free(out);
	assert_non_null(root);
	return root;
}

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void request_model_and_stream(void **state)
{
	const char *job = "{\"model\":\"cheap\",\"messages\":[{\"role\":"
			  "\"user\",\"content\":\"Summarize: x\"}],"
			  "\"max_tokens\":300,\"stream\":true,"
			  "\"stream_options\":{\"include_usage\":true},"
			  "\"temperature\":0.2}";
	unsigned flags = 99;
	cJSON *r = req(job, "qwen-plus", NULL, &flags);

	(void)state;
	assert_string_equal(str_at(r, "model"), "qwen-plus");
	assert_int_equal(cJSON_GetObjectItem(r, "max_tokens")->valueint, 300);
	assert_null(cJSON_GetObjectItem(r, "stream"));
	assert_null(cJSON_GetObjectItem(r, "stream_options"));
	assert_null(cJSON_GetObjectItem(r, "enable_thinking"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "messages")),
			 1);
	assert_int_equal(flags, 0);
	cJSON_Delete(r);

	/* NULL model keeps the job's; a body without a model gets one. */
	r = req(job, NULL, NULL, NULL);
	assert_string_equal(str_at(r, "model"), "cheap");
	cJSON_Delete(r);
	r = req("{\"messages\":[]}", "m1", NULL, NULL);
	assert_string_equal(str_at(r, "model"), "m1");
	cJSON_Delete(r);
}

static void request_rejects_non_objects(void **state)
{
	static const char *const bad[] = {
	    "[1,2]",
	    "\"str\"",
	    "garbage",
	    "",
	    "{\"a\":1} {\"b\":2}",
	    "{\"model\":\"x\"",
	};
	size_t i;
	unsigned flags = 7;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = dialect_openai_request(bad[i], strlen(bad[i]), "m",
						   NULL, &flags);

		if (out != NULL)
			fail_msg("accepted \"%s\" as %s", bad[i], out);
		assert_int_equal(flags, 0);
		flags = 7;
		out = indexed(bad[i], "m", NULL, &flags);
		if (out != NULL)
			fail_msg("indexed accepted \"%s\" as %s", bad[i], out);
		assert_int_equal(flags, 0);
	}
	assert_null(dialect_openai_request(NULL, 0, "m", NULL, NULL));
}

static void request_quirks(void **state)
{
	static char fp[] = "frequency_penalty", mo[] = "model",
		    me[] = "messages", se[] = "seed";
	/* Shaped like the config's quirks: char ** plus a count. */
	char *drop[] = {fp, mo, me, NULL, se};
	struct dialect_openai_quirks q = {
	    .drop_params = drop, .ndrop = 5, .thinking_off = 1};
	const char *job = "{\"model\":\"x\",\"messages\":[{\"role\":\"user\","
			  "\"content\":\"hi\"}],\"frequency_penalty\":0.5,"
			  "\"seed\":1,\"enable_thinking\":true,\"top_p\":1}";
	cJSON *r = req(job, "mistral-small", &q, NULL);
	const cJSON *th;

	(void)state;
	assert_null(cJSON_GetObjectItem(r, "frequency_penalty"));
	assert_null(cJSON_GetObjectItem(r, "seed"));
	assert_non_null(cJSON_GetObjectItem(r, "top_p"));
	assert_string_equal(str_at(r, "model"), "mistral-small");
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(r, "messages")));
	th = cJSON_GetObjectItem(r, "enable_thinking");
	assert_true(cJSON_IsFalse(th));
	cJSON_Delete(r);
}

static const char *first_content(const cJSON *r, const char **role)
{
	const cJSON *m =
	    cJSON_GetArrayItem(cJSON_GetObjectItem(r, "messages"), 0);

	*role = str_at(m, "role");
	return str_at(m, "content");
}

static void request_json_modes(void **state)
{
	const char *no_word =
	    "{\"model\":\"x\",\"response_format\":{\"type\":"
	    "\"json_object\"},\"messages\":[{\"role\":\"user\","
	    "\"content\":\"List three colours.\"}]}";
	const char *has_word =
	    "{\"model\":\"x\",\"response_format\":{\"type\":"
	    "\"json_object\"},\"messages\":[{\"role\":\"user\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"Answer in JSON\"}]}]}";
	const char *schema =
	    "{\"model\":\"x\",\"response_format\":{\"type\":"
	    "\"json_schema\",\"json_schema\":{\"name\":\"c\",\"schema\":"
	    "{\"type\":\"object\",\"properties\":{\"colour\":{\"type\":"
	    "\"string\"}}}}},\"messages\":[{\"role\":\"system\","
	    "\"content\":\"You name colours.\"},{\"role\":\"user\","
	    "\"content\":\"One colour.\"}]}";
	const char *sys_parts =
	    "{\"model\":\"x\",\"response_format\":{\"type\":"
	    "\"json_object\"},\"messages\":[{\"role\":\"system\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"Be brief.\"}]},"
	    "{\"role\":\"user\",\"content\":\"Go\"}]}";
	struct dialect_openai_quirks q = {0};
	unsigned flags;
	const char *role, *content;
	cJSON *r;

	(void)state;
	/* native: untouched, but the response must be JSON. */
	q.json_mode = DIALECT_JSON_NATIVE;
	r = req(no_word, "m", &q, &flags);
	assert_int_equal(flags, DIALECT_EXPECT_JSON);
	assert_non_null(cJSON_GetObjectItem(r, "response_format"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "messages")),
			 1);
	cJSON_Delete(r);

	/* ensure_word: a system instruction is added when "json" is
	 * missing, and nothing when a text part already says it. */
	q.json_mode = DIALECT_JSON_ENSURE_WORD;
	r = req(no_word, "m", &q, &flags);
	assert_int_equal(flags, DIALECT_EXPECT_JSON);
	assert_non_null(cJSON_GetObjectItem(r, "response_format"));
	content = first_content(r, &role);
	assert_string_equal(role, "system");
	assert_non_null(strstr(content, "JSON"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "messages")),
			 2);
	cJSON_Delete(r);
	r = req(has_word, "m", &q, &flags);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "messages")),
			 1);
	cJSON_Delete(r);

	/* prompt: response_format removed, instruction appended to the
	 * existing system message, schema included. */
	q.json_mode = DIALECT_JSON_PROMPT;
	r = req(schema, "m", &q, &flags);
	assert_int_equal(flags, DIALECT_EXPECT_JSON);
	assert_null(cJSON_GetObjectItem(r, "response_format"));
	content = first_content(r, &role);
	assert_string_equal(role, "system");
	assert_true(strncmp(content, "You name colours.\n\n", 19) == 0);
	assert_non_null(strstr(content, "\"colour\""));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r, "messages")),
			 2);
	cJSON_Delete(r);

	/* prompt with a system message made of parts: a part is added. */
	r = req(sys_parts, "m", &q, &flags);
	{
		const cJSON *parts = cJSON_GetObjectItem(
		    cJSON_GetArrayItem(cJSON_GetObjectItem(r, "messages"), 0),
		    "content");

		assert_int_equal(cJSON_GetArraySize(parts), 2);
		assert_non_null(strstr(
		    str_at(cJSON_GetArrayItem(parts, 1), "text"), "JSON"));
	}
	cJSON_Delete(r);

	/* Plain text jobs are not touched by any mode. */
	r = req("{\"response_format\":{\"type\":\"text\"},\"messages\":[]}",
		"m", &q, &flags);
	assert_int_equal(flags, 0);
	assert_non_null(cJSON_GetObjectItem(r, "response_format"));
	cJSON_Delete(r);
}

/* ---- fast paths against the slow paths --------------------------------- */


struct text {
	const char *s;
	size_t len;
};

/* A literal with its length, so that bodies may hold NUL bytes. */
/* clang-format off */
#define T(lit) {(lit), sizeof(lit) - 1}

static const struct text req_bodies[] = {
    T("{\"model\":\"cheap\",\"messages\":[{\"role\":\"user\",\"content\":"
      "\"Summarize: x\"}],\"max_tokens\":300,\"temperature\":0.2}"),
    T("{\"model\":\"cheap\",\"stream\":true,\"messages\":[],"
      "\"stream_options\":{\"include_usage\":true},\"n\":1}"),
    T("{\"stream\":false}"),
    T("{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":"
      "\"hi\"}],\"frequency_penalty\":0.5,\"seed\":1,\"top_p\":1,"
      "\"presence_penalty\":-0.5}"),
    T("{\"model\":\"x\",\"enable_thinking\":true,\"messages\":[]}"),
    T("{\"enable_thinking\":false,\"messages\":[],\"model\":\"x\"}"),
    T("{\"model\":\"x\",\"response_format\":{\"type\":\"json_object\"},"
      "\"messages\":[{\"role\":\"user\",\"content\":\"List colours.\"}]}"),
    T("{\"model\":\"x\",\"response_format\":{\"type\":\"json_object\"},"
      "\"messages\":[{\"role\":\"user\",\"content\":\"Answer in JSON\"}]}"),
    T("{\"model\":\"x\",\"response_format\":{\"type\":\"json_schema\","
      "\"json_schema\":{\"name\":\"c\",\"schema\":{\"type\":\"object\"}}},"
      "\"messages\":[{\"role\":\"system\",\"content\":\"You name "
      "colours.\"},{\"role\":\"user\",\"content\":\"One.\"}]}"),
    T("{\"response_format\":{\"type\":\"text\"},\"messages\":[]}"),
    T("{\"response_format\":{\"type\":\"json_object\"},\"messages\":\"x\"}"),
    T("{\"response_format\":{\"type\":\"json_object\"}}"),
    T("{\"response_format\":{\"type\":7},\"messages\":[]}"),
    T("{\"response_format\":\"json_object\",\"messages\":[]}"),
    T("{\"response_format\":{\"type\":\"json_\\u006fbject\"},"
      "\"messages\":[]}"),
    T("{\"response_format\":{\"type\":\"text\",\"type\":\"json_object\"},"
      "\"messages\":[]}"),
    T("{\"messages\":[{\"role\":\"user\",\"content\":\"no model\"}]}"),
    T("{}"),
    T("{\"mod\\u0065l\":\"x\",\"messages\":[],\"stre\\u0061m\":true,"
      "\"a\\/b\":1,\"\\u00e9\":\"\\u00e9\"}"),
    T("{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":"
      "\"h\xc3\xa9llo \\u00e9 \\ud83d\\ude00 \xe6\x97\xa5\xe6\x9c\xac "
      "\\\"q\\\" \\\\ \\n\"}]}"),
    T("{\"model\":\"x\",\"messages\":[],\"tools\":[{\"type\":\"function\","
      "\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\","
      "\"properties\":{\"a\":{\"type\":\"array\",\"items\":[1,2.5,-3e2,"
      "true,false,null,{},[]]}}}}}],\"metadata\":{\"stream\":true}}"),
    T("  {  \"model\" : \"x\" ,\n\t\"messages\" : [ { \"role\" : "
      "\"user\" ,\r\n \"content\" : \"hi\" } ] , \"stream\" : true }\n "),
    T("{\"model\":\"a\",\"model\":\"b\",\"messages\":[]}"),
    T("{\"stream\":true,\"stream\":false,\"messages\":[]}"),
    T("{\"seed\":1,\"seed\":2,\"messages\":[]}"),
    T("{\"a\":1,\"\\u0061\":2,\"messages\":[]}"),
    T("{\"enable_thinking\":true,\"enable_thinking\":true}"),
    T("[1,2]"),
    T("\"str\""),
    T("1"),
    T("null"),
    T("true"),
    T(""),
    T("   "),
    T("garbage"),
    T("{\"a\":}"),
    T("{\"a\":01}"),
    T("{\"a\":1.}"),
    T("{\"a\":1,}"),
    T("{\"model\":\"x\""),
    T("{\"a\":1} x"),
    T("{\"a\":1}{\"b\":2}"),
    T("{\"a\":1}\f"),
    T("{\"a\":1}\x01"),
    T("{\"a\":1} \t\r\n"),
    T("\x01{\"a\":1}"),
    T("\xef\xbb\xbf{\"a\":1}"),
    T("{\"a\":\"b\0c\"}"),
    T("{\"a\":\"b\\u0000c\",\"messages\":[]}"),
    T("{\"model\\u0000x\":\"y\",\"messages\":[]}"),
    T("{\"stream\\u0000\":1}"),
    T("{\"a\":\"raw\ttab\",\"b\":1}"),
    T("{\"a\":\"raw\x01" "ctl\"}"),
    T("{\"a\":[1,\x01" "2]}"),
    T("{\"a\":1e400}"),
    T("{\"a\":-1E+400}"),
    T("{\"a\":1e-400,\"b\":-0,\"c\":1.5e3,\"d\":12345678901234567890}"),
    T("{\"a\":\"\\ud800\"}"),
    T("{\"a\":\"\\udc00\"}"),
    T("{\"a\":\"\\x\"}"),
    T("{\"a\":tru}"),
};

static const char *const req_models[] = {
    "m", NULL, "we\"ird\\name\n\x01\x1f\t\xc3\xa9/", "",
};
/* clang-format on */

/* The request checked both ways under one set of quirks. */
static void req_same(const char *body, size_t len, const char *model,
		     const struct dialect_openai_quirks *q, const char *what)
{
	unsigned ff = 77, fs = 77;
	char *fast = dialect_openai_request(body, len, model, q, &ff);
	char *slow = dialect_openai_request__slow(body, len, model, q, &fs);
	cJSON *a, *b;
	size_t i;

	if ((fast == NULL) != (slow == NULL))
		fail_msg("%s: fast %s, slow %s", what, fast ? fast : "NULL",
			 slow ? slow : "NULL");
	if (ff != fs)
		fail_msg("%s: flags %u vs %u", what, ff, fs);
	if (fast == NULL)
		return;
	/* Strict JSON: no control bytes but whitespace inside values. */
	for (i = 0; fast[i]; i++)
		if ((unsigned char)fast[i] < 0x20 && fast[i] != '\t' &&
		    fast[i] != '\n' && fast[i] != '\r')
			fail_msg("%s: control byte in %s", what, fast);
	a = cJSON_ParseWithOpts(fast, NULL, 1);
	b = cJSON_ParseWithOpts(slow, NULL, 1);
	/* cJSON_Compare finds only the first of duplicate keys in nested
	 * objects, so it calls equal texts different: compare texts first. */
	if (strcmp(fast, slow) != 0 &&
	    (a == NULL || b == NULL || !cJSON_Compare(a, b, 1)))
		fail_msg("%s:\n fast %s\n slow %s", what, fast, slow);
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(fast);
	free(slow);
}

/* req_same for every model under every set of quirks. */
static void req_same_all(const char *body, size_t len, const char *name)
{
	static char fp[] = "frequency_penalty", mo[] = "model",
		    me[] = "messages", se[] = "seed", et[] = "enable_thinking",
		    rf[] = "response_format", st[] = "stream",
		    ea[] = "\xc3\xa9";
	static char *drop[] = {fp, mo, me, NULL, se, ea};
	static char *drop2[] = {et, rf, st};
	const struct dialect_openai_quirks qs[] = {
	    {0},
	    {.drop_params = drop, .ndrop = 6, .thinking_off = 1},
	    {.drop_params = drop2, .ndrop = 3},
	    {.drop_params = drop2,
	     .ndrop = 3,
	     .thinking_off = 1,
	     .json_mode = DIALECT_JSON_PROMPT},
	    {.thinking_off = 1, .json_mode = DIALECT_JSON_NATIVE},
	    {.json_mode = DIALECT_JSON_ENSURE_WORD},
	    {.thinking_off = 1, .json_mode = DIALECT_JSON_PROMPT},
	};
	char what[160];
	size_t m, k;

	for (m = 0; m < sizeof(req_models) / sizeof(req_models[0]); m++) {
		snprintf(what, sizeof(what), "%s, model %zu, quirks NULL", name,
			 m);
		req_same(body, len, req_models[m], NULL, what);
		for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
			snprintf(what, sizeof(what),
				 "%s, model %zu, quirks %zu", name, m, k);
			req_same(body, len, req_models[m], &qs[k], what);
		}
	}
}

/* Bodies built at run time: deep nesting at and past the limit, many
 * members, long numbers, more tokens than jsonidx keeps on the stack. */
static void req_generated(void (*check)(const char *, size_t, const char *))
{
	size_t cap = 8192, n, i;
	char *b = malloc(cap), name[32];

	assert_non_null(b);
	for (size_t depth = 999; depth <= 1001; depth++) {
		n = (size_t)snprintf(b, cap, "{\"messages\":[],\"x\":");
		for (i = 1; i < depth; i++)
			b[n++] = '[';
		b[n++] = '1';
		for (i = 1; i < depth; i++)
			b[n++] = ']';
		b[n++] = '}';
		snprintf(name, sizeof(name), "depth %zu", depth);
		check(b, n, name);
	}
	for (size_t members = 63; members <= 66; members++) {
		n = (size_t)snprintf(b, cap, "{\"model\":\"x\"");
		for (i = 1; i < members; i++)
			n += (size_t)snprintf(b + n, cap - n, ",\"k%zu\":%zu",
					      i, i);
		b[n++] = '}';
		snprintf(name, sizeof(name), "%zu members", members);
		check(b, n, name);
	}
	for (size_t digits = 62; digits <= 65; digits++) {
		n = (size_t)snprintf(b, cap, "{\"messages\":[],\"n\":");
		for (i = 0; i < digits; i++)
			b[n++] = (char)('1' + i % 9);
		b[n++] = '}';
		snprintf(name, sizeof(name), "%zu digits", digits);
		check(b, n, name);
	}
	n = (size_t)snprintf(b, cap, "{\"model\":\"x\",\"a\":[");
	for (i = 0; i < 600; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s%zu", i ? "," : "", i);
	n += (size_t)snprintf(b + n, cap - n, "],\"stream\":true}");
	check(b, n, "600 tokens");
	/* A long escaped duplicate, past what the key check decodes. */
	n = (size_t)snprintf(b, cap, "{\"messages\":[],\"");
	for (i = 0; i < 80; i++)
		n += (size_t)snprintf(b + n, cap - n, "\\u0041");
	n += (size_t)snprintf(b + n, cap - n, "\":1,\"");
	for (i = 0; i < 80; i++)
		b[n++] = 'A';
	n += (size_t)snprintf(b + n, cap - n, "\":2}");
	check(b, n, "long escaped duplicate");
	free(b);
}

static void request_fast_matches_slow(void **state)
{
	size_t i;
	char name[32];

	(void)state;
	for (i = 0; i < sizeof(req_bodies) / sizeof(req_bodies[0]); i++) {
		snprintf(name, sizeof(name), "body %zu", i);
		req_same_all(req_bodies[i].s, req_bodies[i].len, name);
	}
	req_generated(req_same_all);
	/* NULL body, or a length shorter than the text. */
	req_same(NULL, 0, "m", NULL, "NULL body");
	req_same("{\"a\":1}", 6, "m", NULL, "cut body");
}

/* The fast path keeps the job's member order and text, model in place. */
static void request_fast_exact(void **state)
{
	static char fp[] = "seed";
	char *drop[] = {fp};
	struct dialect_openai_quirks q = {
	    .drop_params = drop, .ndrop = 1, .thinking_off = 1};
	const struct {
		const char *body, *model, *want;
		const struct dialect_openai_quirks *q;
		unsigned flags;
	} cases[] = {
	    {"{\"model\":\"cheap\",\"messages\":[{\"role\":\"user\"}],"
	     "\"stream\":true,\"t\":0.20}",
	     "qwen-plus",
	     "{\"model\":\"qwen-plus\",\"messages\":[{\"role\":\"user\"}],"
	     "\"t\":0.20}",
	     NULL, 0},
	    {" { \"messages\" : [ 1 , 2 ] ,\n \"x\" : \"\\u00e9\" } ",
	     "a\"b\\c\n\x01",
	     "{\"messages\":[ 1 , 2 ],\"x\":\"\\u00e9\","
	     "\"model\":\"a\\\"b\\\\c\\n\\u0001\"}",
	     NULL, 0},
	    {"{\"mod\\u0065l\":\"old\",\"seed\":1,\"enable_thinking\":true,"
	     "\"response_format\":{\"type\":\"json_object\"}}",
	     NULL,
	     "{\"mod\\u0065l\":\"old\",\"response_format\":{\"type\":"
	     "\"json_object\"},\"enable_thinking\":false}",
	     &q, DIALECT_EXPECT_JSON},
	    {"{}", NULL, "{}", NULL, 0},
	    {"{\"stream\":true}", "m", "{\"model\":\"m\"}", NULL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned flags = 99;
		char *out =
		    dialect_openai_request(cases[i].body, strlen(cases[i].body),
					   cases[i].model, cases[i].q, &flags);

		assert_non_null(out);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got %s", i, out);
		assert_int_equal(flags, cases[i].flags);
		free(out);
	}
}

/* clang-format off */
#define CHOICE(content, finish)                                                \
	"\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","      \
	"\"content\":" content "},\"finish_reason\":" finish "}]"

static const struct text resp_bodies[] = {
    T("{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":"
      "1714564800,\"model\":\"m\"," CHOICE("\"Hello\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":7,"
      "\"total_tokens\":19}}"),
    T("{\"id\":\"c\"," CHOICE("\"{\\\"a\\\":1}\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":500,"
      "\"prompt_tokens_details\":{\"cached_tokens\":800},"
      "\"completion_tokens_details\":{\"reasoning_tokens\":300}}}"),
    T("{\"id\":\"c\"," CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":50,"
      "\"prompt_cache_hit_tokens\":600,\"prompt_cache_miss_tokens\":400,"
      "\"prompt_tokens_details\":{\"cached_tokens\":64},"
      "\"completion_tokens_details\":{\"reasoning_tokens\":20}}}"),
    T("{" CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":100,\"prompt_cache_hit_tokens\":30}}"),
    T("{" CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":100,\"prompt_cache_miss_tokens\":"
      "130}}"),
    T("{" CHOICE("\"x\"", "\"stop\"") "}"),
    T("{" CHOICE("\"x\"", "\"stop\"") ",\"usage\":null}"),
    T("{" CHOICE("\"x\"", "\"stop\"") ",\"usage\":[1,2]}"),
    T("{" CHOICE("\"x\"", "\"stop\"") ",\"usage\":\"lots\"}"),
    T("{" CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":\"10\",\"completion_tokens\":-4,"
      "\"prompt_tokens_details\":{\"cached_tokens\":50.9},"
      "\"completion_tokens_details\":{\"reasoning_tokens\":\"x\"}}}"),
    T("{" CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":1.9,\"completion_tokens\":1e3,"
      "\"completion_tokens_details\":{\"reasoning_tokens\":2E+3}}}"),
    T("{" CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":1e16,\"completion_tokens\":"
      "1000000000000000,\"prompt_cache_hit_tokens\":-0,"
      "\"prompt_cache_miss_tokens\":-1}}"),
    T("{" CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":1e400,\"completion_tokens\":5}}"),
    T("{" CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"input_tokens\":11,\"output_tokens\":22,"
      "\"prompt_tokens\":null}}"),
    T("{" CHOICE("\"x\"", "\"stop\"")
      ",\"usage\":{\"prompt_tokens\":5,\"prompt_tokens\":9,"
      "\"prompt_tokens_details\":[{\"cached_tokens\":1}],"
      "\"completion_tokens_details\":7}}"),
    T("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[{"
      "\"id\":\"t\",\"type\":\"function\",\"function\":{\"name\":\"f\","
      "\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}"),
    T("{" CHOICE("null", "\"content_filter\"") "}"),
    T("{" CHOICE("\"\"", "\"content_filter\"") "}"),
    T("{" CHOICE("\"partial\"", "\"content_filter\"") "}"),
    T("{" CHOICE("7", "\"content_filter\"") "}"),
    T("{" CHOICE("\"\\u0000x\"", "\"content_filter\"") "}"),
    T("{" CHOICE("null", "\"content_\\u0066ilter\"") "}"),
    T("{" CHOICE("null", "\"content_filter\\u0000\"") "}"),
    T("{" CHOICE("null", "1") "}"),
    T("{" CHOICE("null", "null") "}"),
    T("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[]},"
      "\"finish_reason\":\"content_filter\"}]}"),
    T("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":{}},"
      "\"finish_reason\":\"content_filter\"}]}"),
    T("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":{"
      "\"a\":1}},\"finish_reason\":\"content_filter\"}]}"),
    T("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":"
      "\"call\"},\"finish_reason\":\"content_filter\"}]}"),
    T("{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[1]},"
      "\"finish_reason\":\"content_filter\"}]}"),
    T("{\"choices\":[],\"usage\":{\"prompt_tokens\":3}}"),
    T("{\"choices\":{\"message\":{\"content\":\"x\"}}}"),
    T("{\"choices\":\"x\"}"),
    T("{\"choices\":[1]}"),
    T("{\"choices\":[{\"text\":\"x\"}]}"),
    T("{\"choices\":[{\"message\":\"x\"}]}"),
    T("{\"choices\":[{\"message\":[]}]}"),
    T("{\"choices\":[1],\"choices\":[{\"message\":{}}]}"),
    T("{\"choices\":[{\"message\":{}}],\"choices\":[1]}"),
    T("{\"ch\\u006fices\":[{\"message\":{\"content\":\"x\"}}]}"),
    T("{\"error\":null," CHOICE("\"x\"", "\"stop\"") "}"),
    T("{\"error\":{\"message\":\"upstream\",\"code\":500},"
      CHOICE("\"x\"", "\"stop\"") "}"),
    T("{" CHOICE("\"x\"", "\"stop\"") ",\"error\":\"late\"}"),
    T("{\"error\":{\"message\":\"upstream failed\",\"type\":"
      "\"server_error\"},\"usage\":{\"prompt_tokens\":4}}"),
    T("{\"code\":\"Throttling\",\"message\":\"slow down\"}"),
    T("{\"request_id\":\"r-1\",\"id\":\"c-1\","
      CHOICE("\"x\"", "\"stop\"") "}"),
    T("{\"request_id\":7,\"id\":\"c-1\"," CHOICE("\"x\"", "\"stop\"") "}"),
    T("{\"request_id\":\"\",\"id\":\"c-1\"," CHOICE("\"x\"", "\"stop\"")
      "}"),
    T("{\"id\":\"\\u0041b\\tc\\n d\\u00e9\\/\"," CHOICE("\"x\"", "\"stop\"")
      "}"),
    T("{\"id\":\"\\u0001\\u0002\"," CHOICE("\"x\"", "\"stop\"") "}"),
    T("{\"id\":\"a\\u0000b\"," CHOICE("\"x\"", "\"stop\"") "}"),
    T("{\"id\":null," CHOICE("\"x\"", "\"stop\"") "}"),
    T("[{" CHOICE("\"x\"", "\"stop\"") "}]"),
    T("[]"),
    T("\"text\""),
    T("{\"id\":\"c\"," CHOICE("\"x\"", "\"stop\"")),
    T("{\"id\":\"c\"," CHOICE("\"x\"", "\"stop\"") "} x"),
    T("{\"id\":\"c\"," CHOICE("\"x\"", "\"stop\"") "}\n \r\t"),
    T("{\"id\":\"c\"," CHOICE("\"x\"", "\"stop\"") "}\f"),
    T("\xef\xbb\xbf{" CHOICE("\"x\"", "\"stop\"") "}"),
    T("{" CHOICE("\"a\0b\"", "\"stop\"") "}"),
    T("{" CHOICE("\"raw\x01" "ctl\"", "\"stop\"") "}"),
    T(""),
    T("  "),
    T("<html>502</html>"),
};
/* clang-format on */

static void outcome_same(const struct outcome *a, const struct outcome *b,
			 const char *what)
{
	if (a->cls != b->cls || a->http_status != b->http_status ||
	    a->retry_after_ms != b->retry_after_ms ||
	    a->usage_reported != b->usage_reported)
		fail_msg("%s: cls %s/%s status %d/%d retry %lld/%lld "
			 "reported %d/%d",
			 what, outcome_class_name(a->cls),
			 outcome_class_name(b->cls), a->http_status,
			 b->http_status, (long long)a->retry_after_ms,
			 (long long)b->retry_after_ms, a->usage_reported,
			 b->usage_reported);
	if (memcmp(&a->usage, &b->usage, sizeof(a->usage)) != 0)
		fail_msg("%s: usage in %lld/%lld cached %lld/%lld out "
			 "%lld/%lld reasoning %lld/%lld",
			 what, (long long)a->usage.in, (long long)b->usage.in,
			 (long long)a->usage.in_cached,
			 (long long)b->usage.in_cached, (long long)a->usage.out,
			 (long long)b->usage.out,
			 (long long)a->usage.out_reasoning,
			 (long long)b->usage.out_reasoning);
#define SAME_STR(f)                                                            \
	if ((a->f == NULL) != (b->f == NULL) ||                                \
	    (a->f && strcmp(a->f, b->f) != 0))                                 \
		fail_msg("%s: " #f " %s/%s", what, a->f ? a->f : "NULL",       \
			 b->f ? b->f : "NULL");
	SAME_STR(request_id)
	SAME_STR(error_code)
	SAME_STR(error_message)
#undef SAME_STR
	if (a->body_len != b->body_len ||
	    (a->body == NULL) != (b->body == NULL) ||
	    (a->body && memcmp(a->body, b->body, a->body_len + 1) != 0))
		fail_msg("%s: bodies differ", what);
}

static void resp_same_all(const char *body, size_t len, const char *name)
{
	static const char *const hdrs[] = {
	    NULL,
	    "HTTP/1.1 200 OK\r\nX-Request-ID: hdr-1\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nrequest-id: \x01\x02\r\nRetry-After: 5\r\n\r\n",
	};
	static const int statuses[] = {200, 201, 299, 300, 429, 0};
	static const unsigned flags[] = {0, DIALECT_EXPECT_JSON};
	char what[160];
	size_t h, s, f;

	for (h = 0; h < sizeof(hdrs) / sizeof(hdrs[0]); h++)
		for (s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++)
			for (f = 0; f < 2; f++) {
				struct outcome a = OUTCOME_INIT,
					       b = OUTCOME_INIT;
				size_t hl = hdrs[h] ? strlen(hdrs[h]) : 0;

				snprintf(what, sizeof(what),
					 "%s, headers %zu, status %d, flags %u",
					 name, h, statuses[s], flags[f]);
				dialect_openai_response(
				    statuses[s], hdrs[h], hl, body, len,
				    FLAVOR_GENERIC, flags[f], NOW, &a);
				dialect_openai_response__slow(
				    statuses[s], hdrs[h], hl, body, len,
				    FLAVOR_GENERIC, flags[f], NOW, &b);
				outcome_same(&a, &b, what);
				outcome_clear(&a);
				outcome_clear(&b);
			}
}

static void response_fast_matches_slow(void **state)
{
	size_t i, n, cap = 4096;
	char name[32], *b = malloc(cap);

	(void)state;
	assert_non_null(b);
	for (i = 0; i < sizeof(resp_bodies) / sizeof(resp_bodies[0]); i++) {
		snprintf(name, sizeof(name), "body %zu", i);
		resp_same_all(resp_bodies[i].s, resp_bodies[i].len, name);
	}
	req_generated(resp_same_all);
	resp_same_all(NULL, 0, "NULL body");
	/* A long id (reqid_dup keeps REQID_MAX bytes), and a long escaped
	 * one. */
	for (int esc = 0; esc < 2; esc++) {
		n = (size_t)snprintf(b, cap, "{\"id\":\"");
		for (i = 0; i < 300; i++) {
			if (esc)
				n += (size_t)snprintf(
				    b + n, cap - n, "\\u00%02x",
				    (unsigned)(0x20 + i % 90));
			else
				b[n++] = (char)('a' + i % 26);
		}
		n += (size_t)snprintf(b + n, cap - n,
				      "\"," CHOICE("\"x\"", "\"stop\"") "}");
		resp_same_all(b, n, esc ? "long escaped id" : "long id");
	}
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(classification_table),
	    cmocka_unit_test(key_never_echoed),
	    cmocka_unit_test(request_id_sources),
	    cmocka_unit_test(usage_table),
	    cmocka_unit_test(json_content_checked),
	    cmocka_unit_test(error_message_scrubbed),
	    cmocka_unit_test(request_model_and_stream),
	    cmocka_unit_test(request_rejects_non_objects),
	    cmocka_unit_test(request_quirks),
	    cmocka_unit_test(request_json_modes),
	    cmocka_unit_test(request_fast_exact),
	    cmocka_unit_test(request_fast_matches_slow),
	    cmocka_unit_test(response_fast_matches_slow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
