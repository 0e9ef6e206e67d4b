/* test_dialect_error.c — provider error replies read by the room both
 * dialects share: which bodies hold an error, how a reply that cannot be
 * a success is settled, and what an error outcome keeps (code, message,
 * pause). The classification of each provider's real error bodies is in
 * test_dialect_openai.c and test_dialect_anthropic.c, through the
 * dialects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "runner/json/jsonutil.h"
#include "runner/providers/dialect_error.h"

#define NOW ((int64_t)1714564800000)

static void begin_clears_and_spots_no_reply(void **state)
{
	struct outcome o = OUTCOME_INIT;

	(void)state;
	outcome_set_error(&o, OUTCOME_AUTH, "c", "m");
	o.request_id = strdup("r");
	assert_int_equal(dialect_error_begin(200, &o), 0);
	assert_int_equal(o.cls, OUTCOME_OK);
	assert_int_equal(o.http_status, 200);
	assert_null(o.request_id);
	assert_null(o.error_message);
	assert_int_equal(dialect_error_begin(0, &o), 1);
	assert_int_equal(o.cls, OUTCOME_CONNECTION);
	assert_string_equal(o.error_message, "no HTTP response");
	assert_int_equal(dialect_error_begin(-1, &o), 1);
	outcome_clear(&o);
}

static void error_shapes_found(void **state)
{
	static const struct {
		const char *body;
		int found;
	} c[] = {
	    {"{\"error\":{\"message\":\"m\"}}", 1},
	    {"{\"error\":{}}", 1},
	    {"{\"error\":\"text only\"}", 1},
	    {"[{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\"}}]",
	     1},
	    {"{\"object\":\"error\",\"message\":\"m\",\"code\":\"1300\"}", 1},
	    {"{\"object\":\"error\",\"detail\":\"vLLM says\"}", 1},
	    {"{\"code\":\"Throttling\",\"message\":\"m\",\"request_id\":\"r\"}",
	     1},
	    {"{\"code\":7}", 1},
	    /* a success that happens to carry a code or message */
	    {"{\"code\":\"x\",\"choices\":[]}", 0},
	    {"{\"choices\":[{\"message\":{\"content\":\"hi\"}}]}", 0},
	    {"{\"code\":\"\"}", 0},
	    {"{\"code\":-3}", 0},
	    {"[]", 0},
	    {"[1]", 0},
	    {"\"error\"", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cJSON *root = cJSON_Parse(c[i].body);

		assert_non_null(root);
		if (dialect_error_found(root) != c[i].found)
			fail_msg("%s: found %d", c[i].body, !c[i].found);
		cJSON_Delete(root);
	}
	assert_int_equal(dialect_error_found(NULL), 0);
}

/* outcome_of: the error outcome of one reply. */
static void outcome_of(int status, const char *h, const char *body,
		       enum prov_flavor f, struct outcome *o)
{
	size_t blen = body ? strlen(body) : 0;
	cJSON *root = json_parse_exact(body, blen);

	dialect_error_begin(status, o);
	dialect_error_outcome(status, h, h ? strlen(h) : 0, body, blen, root, f,
			      NOW, o);
	cJSON_Delete(root);
}

struct out_case {
	const char *name;
	int status;
	enum prov_flavor flavor;
	const char *headers, *body;
	enum outcome_class cls;
	const char *code;    /* NULL: none */
	const char *message; /* exact */
	int64_t ra;	     /* retry_after_ms */
};

#define QUOTA(extra)                                                           \
	"{\"error\":{\"code\":\"insufficient_quota\",\"message\":\"q\"" extra  \
	"}}"

static const struct out_case out_cases[] = {
    {"insufficient_quota: DashScope throttles", 429, FLAVOR_DASHSCOPE, NULL,
     QUOTA(""), OUTCOME_RATE_LIMITED, "insufficient_quota", "q", -1},
    {"insufficient_quota: OpenAI bills", 429, FLAVOR_OPENAI, NULL, QUOTA(""),
     OUTCOME_BILLING, "insufficient_quota", "q", -1},
    {"insufficient_quota: generic with DashScope's param", 429, FLAVOR_GENERIC,
     NULL, QUOTA(",\"param\":\"insufficient_quota\""), OUTCOME_RATE_LIMITED,
     "insufficient_quota", "q", -1},
    {"insufficient_quota: generic without", 429, FLAVOR_GENERIC, NULL,
     QUOTA(""), OUTCOME_BILLING, "insufficient_quota", "q", -1},
    {"a word beats a number", 429, FLAVOR_MISTRAL, NULL,
     "{\"object\":\"error\",\"message\":\"m\",\"type\":\"rate_limited\","
     "\"code\":\"1300\"}",
     OUTCOME_RATE_LIMITED, "rate_limited", "m", -1},
    {"a number alone is kept", 500, FLAVOR_GENERIC, NULL,
     "{\"error\":{\"code\":500}}", OUTCOME_SERVER_ERROR, "500", "HTTP 500", -1},
    {"a 200 carrying Gemini's code: the code is the status", 200, FLAVOR_GEMINI,
     NULL, "[{\"error\":{\"code\":404,\"message\":\"no such model\"}}]",
     OUTCOME_NOT_FOUND, "404", "no such model", -1},
    {"a 200 carrying an error without a status", 200, FLAVOR_OPENAI, NULL,
     "{\"error\":{\"message\":\"oops\"}}", OUTCOME_SERVER_ERROR, NULL, "oops",
     -1},
    {"not JSON: the text is the message", 502, FLAVOR_OPENAI, NULL,
     "<html>Bad Gateway</html>", OUTCOME_SERVER_ERROR, NULL,
     "<html>Bad Gateway</html>", -1},
    {"no message at all", 503, FLAVOR_OPENAI, NULL, NULL, OUTCOME_OVERLOADED,
     NULL, "HTTP 503", -1},
    {"reset headers read for a rate-limit class", 400, FLAVOR_OPENAI,
     "x-ratelimit-reset-tokens: 6s\r\n",
     "{\"error\":{\"code\":\"rate_limit_exceeded\"}}", OUTCOME_RATE_LIMITED,
     "rate_limit_exceeded", "HTTP 400", NOW + 6000},
    {"reset headers not read otherwise", 500, FLAVOR_OPENAI,
     "x-ratelimit-reset-tokens: 6s\r\nretry-after: 2\r\n", NULL,
     OUTCOME_SERVER_ERROR, NULL, "HTTP 500", NOW + 2000},
};

static void error_outcomes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(out_cases) / sizeof(out_cases[0]); i++) {
		const struct out_case *c = &out_cases[i];
		struct outcome o = OUTCOME_INIT;

		outcome_of(c->status, c->headers, c->body, c->flavor, &o);
		if (o.cls != c->cls || (c->code == NULL) != (!o.error_code) ||
		    (c->code && strcmp(c->code, o.error_code) != 0) ||
		    !o.error_message ||
		    strcmp(c->message, o.error_message) != 0 ||
		    o.retry_after_ms != c->ra)
			fail_msg("%s: %s code %s message \"%s\" ra %lld",
				 c->name, outcome_class_name(o.cls),
				 o.error_code ? o.error_code : "(none)",
				 o.error_message ? o.error_message : "(none)",
				 (long long)(o.retry_after_ms - NOW));
		outcome_clear(&o);
	}
}

/* A 429 says the shared window is spent (so the provider pauses) only
 * when it says so: a remaining count of 0, a quota; a bare 429 is a
 * refusal of one request (DashScope's storms send exactly that). */
static void spent_window_told_apart(void **state)
{
	static const struct {
		const char *h, *body;
		enum prov_flavor f;
		int spent;
	} cases[] = {
	    {"retry-after: 1\r\n",
	     "{\"error\":{\"code\":\"Throttling.RateQuota\",\"message\":"
	     "\"Requests rate limit exceeded, please try again later.\"}}",
	     FLAVOR_DASHSCOPE, 0},
	    {"x-ratelimit-remaining-requests: 0\r\n",
	     "{\"error\":{\"code\":\"rate_limit_exceeded\"}}", FLAVOR_OPENAI,
	     1},
	    {"x-ratelimit-remaining-requests: 10\r\n"
	     "x-ratelimit-remaining-tokens: 0\r\n",
	     "{\"error\":{\"code\":\"rate_limit_exceeded\"}}", FLAVOR_OPENAI,
	     1},
	    {"x-ratelimit-remaining-requests: 10\r\n",
	     "{\"error\":{\"code\":\"rate_limit_exceeded\"}}", FLAVOR_OPENAI,
	     0},
	    {"anthropic-ratelimit-requests-remaining: 0\r\n",
	     "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
	     "\"message\":\"m\"}}",
	     FLAVOR_ANTHROPIC, 1},
	    {NULL, QUOTA(""), FLAVOR_DASHSCOPE, 1},
	    {NULL,
	     "{\"error\":{\"code\":\"Throttling.AllocationQuota\","
	     "\"message\":\"m\"}}",
	     FLAVOR_DASHSCOPE, 1},
	    {NULL,
	     "[{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\","
	     "\"message\":\"Quota exceeded for metric: requests per minute\"}}]",
	     FLAVOR_GEMINI, 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o = OUTCOME_INIT;

		outcome_of(429, cases[i].h, cases[i].body, cases[i].f, &o);
		assert_int_equal(o.cls, OUTCOME_RATE_LIMITED);
		if (o.limit_spent != cases[i].spent)
			fail_msg("case %zu: limit_spent %d", i, o.limit_spent);
		outcome_clear(&o);
	}
}

static void check_settles_what_cannot_succeed(void **state)
{
	struct outcome o = OUTCOME_INIT;
	const char err[] = "{\"error\":{\"code\":\"model_not_found\"}}";
	cJSON *root = json_parse_exact(err, strlen(err));

	(void)state;
	dialect_error_begin(404, &o);
	assert_int_equal(dialect_error_check(404, NULL, 0, err, strlen(err),
					     root, FLAVOR_OPENAI, NOW, &o),
			 1);
	assert_int_equal(o.cls, OUTCOME_NOT_FOUND);
	/* a 2xx with a tree is the caller's to read */
	dialect_error_begin(200, &o);
	assert_int_equal(dialect_error_check(200, NULL, 0, err, strlen(err),
					     root, FLAVOR_OPENAI, NOW, &o),
			 0);
	assert_int_equal(o.cls, OUTCOME_OK);
	assert_null(o.error_message);
	dialect_error_begin(200, &o);
	assert_int_equal(dialect_error_check(200, NULL, 0, "{\"a\":", 5, NULL,
					     FLAVOR_OPENAI, NOW, &o),
			 1);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	assert_string_equal(o.error_message,
			    "response body is not valid JSON (truncated?)");
	dialect_error_begin(204, &o);
	assert_int_equal(dialect_error_check(204, NULL, 0, NULL, 0, NULL,
					     FLAVOR_OPENAI, NOW, &o),
			 1);
	assert_string_equal(o.error_message, "empty response body");
	outcome_clear(&o);
	cJSON_Delete(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(begin_clears_and_spots_no_reply),
	    cmocka_unit_test(error_shapes_found),
	    cmocka_unit_test(error_outcomes),
	    cmocka_unit_test(spent_window_told_apart),
	    cmocka_unit_test(check_settles_what_cannot_succeed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
