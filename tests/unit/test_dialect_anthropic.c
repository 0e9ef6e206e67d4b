/* test_dialect_anthropic.c — the anthropic dialect: Chat Completions jobs
 * translated to Messages requests, Messages replies translated back with
 * the four token kinds and every member OpenAI's schema requires of a
 * chat completion (the openai dialect's replies left as they came), and
 * Anthropic's real error shapes classified (PROVIDERS.md 2.2;
 * bespokelabsai/curator#296 for the credit error). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "runner/providers/dialect_anthropic.h"
#include "runner/providers/dialect_json.h"
#include "runner/providers/dialect_openai_response.h"
#include "runner/providers/outcome.h"

#define NOW ((int64_t)1714564800000)

static cJSON *req(const char *body, const char *model, unsigned *flags)
{
	char *out =
	    dialect_anthropic_request(body, strlen(body), model, 0, flags);
	cJSON *r;

	if (out == NULL)
		fail_msg("request refused: %s", body);
	r = cJSON_Parse(out);
	free(out);
	assert_non_null(r);
	return r;
}

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double num_at(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(it));
	return it->valuedouble;
}

static void request_translation(void **state)
{
	const char *job =
	    "{\"model\":\"cheap\",\"messages\":["
	    "{\"role\":\"system\",\"content\":\"You summarize.\"},"
	    "{\"role\":\"developer\",\"content\":[{\"type\":\"text\","
	    "\"text\":\"Be brief.\"}]},"
	    "{\"role\":\"user\",\"content\":\"Summarize: x\"},"
	    "{\"role\":\"assistant\",\"content\":\"Ok.\"},"
	    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
	    "\"And y\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
	    "\"data:image/png;base64,iVBORw0KGgo=\"}},{\"type\":"
	    "\"image_url\",\"image_url\":{\"url\":\"https://e.com/a.jpg\"}}]}"
	    "],\"max_tokens\":300,\"temperature\":1.7,\"top_p\":0.9,"
	    "\"stop\":\"END\",\"user\":\"u-1\",\"stream\":true,"
	    "\"frequency_penalty\":0.5,\"seed\":3,\"logprobs\":false}";
	unsigned flags = 9;
	cJSON *r = req(job, "claude-haiku", &flags);
	const cJSON *msgs = cJSON_GetObjectItem(r, "messages");
	const cJSON *last, *parts, *img;

	(void)state;
	assert_int_equal(flags, 0);
	assert_string_equal(str_at(r, "model"), "claude-haiku");
	assert_string_equal(str_at(r, "system"), "You summarize.\n\nBe brief.");
	assert_int_equal((int)num_at(r, "max_tokens"), 300);
	assert_true(num_at(r, "temperature") == 1.0);
	assert_true(num_at(r, "top_p") == 0.9);
	assert_string_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(r, "stop_sequences"), 0)
		->valuestring,
	    "END");
	assert_string_equal(
	    str_at(cJSON_GetObjectItem(r, "metadata"), "user_id"), "u-1");
	assert_null(cJSON_GetObjectItem(r, "stream"));
	assert_null(cJSON_GetObjectItem(r, "frequency_penalty"));
	assert_null(cJSON_GetObjectItem(r, "seed"));
	assert_null(cJSON_GetObjectItem(r, "logprobs"));
	assert_null(cJSON_GetObjectItem(r, "user"));
	assert_int_equal(cJSON_GetArraySize(msgs), 3);
	assert_string_equal(str_at(cJSON_GetArrayItem(msgs, 0), "role"),
			    "user");
	assert_string_equal(str_at(cJSON_GetArrayItem(msgs, 1), "content"),
			    "Ok.");
	last = cJSON_GetArrayItem(msgs, 2);
	parts = cJSON_GetObjectItem(last, "content");
	assert_int_equal(cJSON_GetArraySize(parts), 3);
	assert_string_equal(str_at(cJSON_GetArrayItem(parts, 0), "text"),
			    "And y");
	img = cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 1), "source");
	assert_string_equal(str_at(img, "type"), "base64");
	assert_string_equal(str_at(img, "media_type"), "image/png");
	assert_string_equal(str_at(img, "data"), "iVBORw0KGgo=");
	img = cJSON_GetObjectItem(cJSON_GetArrayItem(parts, 2), "source");
	assert_string_equal(str_at(img, "type"), "url");
	assert_string_equal(str_at(img, "url"), "https://e.com/a.jpg");
	cJSON_Delete(r);
}

static void request_defaults_and_json(void **state)
{
	unsigned flags = 0;
	cJSON *r;
	char *out;

	(void)state;
	/* max_tokens is required: the default fills it; the job's model
	 * is kept when none is given; max_completion_tokens wins. */
	r = req("{\"model\":\"claude-x\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"hi\"}],\"stop\":[\"a\",\"b\"]}",
		NULL, &flags);
	assert_int_equal((int)num_at(r, "max_tokens"),
			 DIALECT_ANTHROPIC_DEFAULT_MAX_TOKENS);
	assert_string_equal(str_at(r, "model"), "claude-x");
	assert_null(cJSON_GetObjectItem(r, "system"));
	assert_int_equal(
	    cJSON_GetArraySize(cJSON_GetObjectItem(r, "stop_sequences")), 2);
	cJSON_Delete(r);
	out = dialect_anthropic_request(
	    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
	    "\"max_tokens\":10,\"max_completion_tokens\":20}",
	    strlen("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
		   "\"max_tokens\":10,\"max_completion_tokens\":20}"),
	    "m", 777, NULL);
	r = cJSON_Parse(out);
	assert_int_equal((int)num_at(r, "max_tokens"), 20);
	cJSON_Delete(r);
	free(out);
	out = dialect_anthropic_request(
	    "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	    strlen("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"),
	    "m", 777, NULL);
	r = cJSON_Parse(out);
	assert_int_equal((int)num_at(r, "max_tokens"), 777);
	cJSON_Delete(r);
	free(out);

	/* JSON mode has no native form: an instruction, and validation. */
	r = req("{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},"
		"{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":"
		"{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
		"\"schema\":{\"type\":\"object\",\"required\":[\"k\"]}}}}",
		"m", &flags);
	assert_int_equal(flags, DIALECT_EXPECT_JSON);
	assert_null(cJSON_GetObjectItem(r, "response_format"));
	assert_true(strncmp(str_at(r, "system"), "S\n\n", 3) == 0);
	assert_non_null(strstr(str_at(r, "system"), "\"required\""));
	cJSON_Delete(r);
}

static void request_refusals(void **state)
{
	static const char *const bad[] = {
	    "[1]",
	    "{\"model\":\"m\"",
	    "{\"model\":\"m\",\"messages\":[]}",
	    "{\"model\":\"m\",\"messages\":[{\"role\":\"system\","
	    "\"content\":\"only system\"}]}",
	    "{\"model\":\"m\",\"n\":2,\"messages\":[{\"role\":\"user\","
	    "\"content\":\"hi\"}]}",
	    "{\"model\":\"m\",\"tools\":[{\"type\":\"function\"}],"
	    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
	    "{\"model\":\"m\",\"messages\":[{\"role\":\"tool\","
	    "\"content\":\"x\",\"tool_call_id\":\"1\"}]}",
	    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
	    "[{\"type\":\"input_audio\",\"input_audio\":{}}]}]}",
	    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
	    "[{\"type\":\"image_url\",\"image_url\":{\"url\":"
	    "\"data:image/png,notbase64\"}}]}]}",
	    "{\"messages\":[{\"role\":\"user\",\"content\":\"no model\"}]}",
	    "{\"model\":\"m\",\"stop\":[1],\"messages\":[{\"role\":\"user\","
	    "\"content\":\"hi\"}]}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned flags = 5;
		char *out = dialect_anthropic_request(
		    bad[i], strlen(bad[i]), i == 9 ? NULL : "m", 0, &flags);

		if (out)
			fail_msg("accepted %s as %s", bad[i], out);
		assert_int_equal(flags, 0);
	}
	/* "n": 1 and empty tools are fine. */
	{
		const char *ok =
		    "{\"n\":1,\"tools\":[],\"messages\":[{\"role\":"
		    "\"user\",\"content\":\"hi\"}]}";
		char *out =
		    dialect_anthropic_request(ok, strlen(ok), "m", 0, NULL);

		assert_non_null(out);
		free(out);
	}
}

#define REPLY                                                                  \
	"{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\","      \
	"\"model\":\"claude-haiku\",\"content\":[{\"type\":\"thinking\","      \
	"\"thinking\":\"hmm\",\"signature\":\"x\"},{\"type\":\"text\","        \
	"\"text\":\"Hello \"},{\"type\":\"text\",\"text\":\"world\"}],"        \
	"\"stop_reason\":\"max_tokens\",\"stop_sequence\":null,\"usage\":"     \
	"{\"input_tokens\":100,\"cache_creation_input_tokens\":2000,"          \
	"\"cache_read_input_tokens\":3000,\"output_tokens\":50}}"

static void reply_translated(void **state)
{
	const char *h = "HTTP/2 200\r\nrequest-id: req_011CXyz\r\n\r\n";
	struct outcome o = OUTCOME_INIT;
	cJSON *c, *ch, *u;

	(void)state;
	dialect_anthropic_response(200, h, strlen(h), REPLY, strlen(REPLY), 0,
				   NOW, &o);
	assert_int_equal(o.cls, OUTCOME_OK);
	assert_string_equal(o.request_id, "req_011CXyz");
	assert_int_equal(o.usage.in, 100);
	assert_int_equal(o.usage.in_cached, 3000);
	assert_int_equal(o.usage.cache_write, 2000);
	assert_int_equal(o.usage.out, 50);
	assert_int_equal(o.usage.out_reasoning, 0);
	assert_int_equal(o.body_len, strlen(o.body));
	c = cJSON_Parse(o.body);
	assert_non_null(c);
	assert_string_equal(str_at(c, "object"), "chat.completion");
	assert_string_equal(str_at(c, "id"), "msg_01");
	assert_string_equal(str_at(c, "model"), "claude-haiku");
	assert_int_equal((int64_t)num_at(c, "created"), NOW / 1000);
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(c, "choices"), 0);
	assert_string_equal(str_at(ch, "finish_reason"), "length");
	assert_string_equal(
	    str_at(cJSON_GetObjectItem(ch, "message"), "content"),
	    "Hello world");
	u = cJSON_GetObjectItem(c, "usage");
	assert_int_equal((int)num_at(u, "prompt_tokens"), 5100);
	assert_int_equal((int)num_at(u, "completion_tokens"), 50);
	assert_int_equal((int)num_at(u, "total_tokens"), 5150);
	assert_int_equal(
	    (int)num_at(cJSON_GetObjectItem(u, "prompt_tokens_details"),
			"cached_tokens"),
	    3000);
	assert_int_equal((int)num_at(cJSON_GetObjectItem(u, "anthropic"),
				     "cache_creation_input_tokens"),
			 2000);
	cJSON_Delete(c);
	outcome_clear(&o);
}

/* A reply whose usage lacks a usable input or output count says nothing
 * of its tokens: usage_reported is 0 (the cost is then estimated), while
 * counts of zero are reported zeros. */
static void usage_reported_only_when_usable(void **state)
{
	static const struct {
		const char *usage; /* the "usage" member, or "" */
		int reported;
	} cases[] = {
	    {",\"usage\":{\"input_tokens\":9,\"output_tokens\":4}", 1},
	    {",\"usage\":{\"input_tokens\":0,\"output_tokens\":0}", 1},
	    {",\"usage\":{\"input_tokens\":1e15,\"output_tokens\":1e15}",
	     1},
	    {"", 0},
	    {",\"usage\":null", 0},
	    {",\"usage\":{\"input_tokens\":9}", 0},
	    {",\"usage\":{\"output_tokens\":4}", 0},
	    {",\"usage\":{\"input_tokens\":-9,\"output_tokens\":-4}", 0},
	    {",\"usage\":{\"input_tokens\":\"9\",\"output_tokens\":4}", 0},
	    {",\"usage\":{\"input_tokens\":9,\"output_tokens\":1e16}", 0},
	};
	char body[400];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o = OUTCOME_INIT;
		int n = snprintf(body, sizeof(body),
				 "{\"id\":\"msg_1\",\"type\":\"message\","
				 "\"content\":[{\"type\":\"text\",\"text\":"
				 "\"hi\"}],\"stop_reason\":\"end_turn\"%s}",
				 cases[i].usage);

		dialect_anthropic_response(200, NULL, 0, body, (size_t)n, 0,
					   NOW, &o);
		assert_int_equal(o.cls, OUTCOME_OK);
		if (o.usage_reported != cases[i].reported)
			fail_msg("case %zu (%s): usage_reported %d", i,
				 cases[i].usage, o.usage_reported);
		/* never a negative count */
		assert_true(o.usage.in >= 0 && o.usage.out >= 0);
		outcome_clear(&o);
	}
}

static void reply_checks(void **state)
{
	const char *refusal =
	    "{\"id\":\"msg_2\",\"type\":\"message\",\"content\":[],"
	    "\"stop_reason\":\"refusal\",\"usage\":{\"input_tokens\":9,"
	    "\"output_tokens\":0}}";
	const char *fenced =
	    "{\"id\":\"msg_3\",\"type\":\"message\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"```json\\n{\\\"k\\\": 2}\\n```\"}],"
	    "\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":1,"
	    "\"output_tokens\":2}}";
	const char *prose =
	    "{\"id\":\"msg_4\",\"type\":\"message\",\"content\":[{\"type\":"
	    "\"text\",\"text\":\"Sure.\"}],\"stop_reason\":\"end_turn\","
	    "\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}";
	struct outcome o = OUTCOME_INIT;
	cJSON *c;

	(void)state;
	dialect_anthropic_response(200, NULL, 0, refusal, strlen(refusal), 0,
				   NOW, &o);
	assert_int_equal(o.cls, OUTCOME_CONTENT_FILTER);
	assert_int_equal(o.usage.in, 9);
	assert_null(o.body);

	dialect_anthropic_response(200, NULL, 0, fenced, strlen(fenced),
				   DIALECT_EXPECT_JSON, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_OK);
	c = cJSON_Parse(o.body);
	assert_string_equal(
	    str_at(cJSON_GetObjectItem(
		       cJSON_GetArrayItem(cJSON_GetObjectItem(c, "choices"), 0),
		       "message"),
		   "content"),
	    "{\"k\": 2}\n");
	cJSON_Delete(c);

	dialect_anthropic_response(200, NULL, 0, prose, strlen(prose),
				   DIALECT_EXPECT_JSON, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	assert_int_equal(o.usage.out, 2);

	dialect_anthropic_response(200, NULL, 0, "{\"type\":\"message\"", 18, 0,
				   NOW, &o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	dialect_anthropic_response(200, NULL, 0, "{\"choices\":[]}", 14, 0, NOW,
				   &o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	dialect_anthropic_response(200, NULL, 0, NULL, 0, 0, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_INVALID_OUTPUT);
	outcome_clear(&o);
}

struct err_case {
	const char *name;
	int status;
	const char *headers;
	const char *body;
	enum outcome_class want;
	const char *want_code;
	int64_t want_ra;
};

#define AERR(type, msg)                                                        \
	"{\"type\":\"error\",\"error\":{\"type\":\"" type "\",\"message\":"    \
	"\"" msg "\"},\"request_id\":\"req_011\"}"

static const struct err_case err_cases[] = {
    {"400 invalid request", 400, NULL,
     AERR("invalid_request_error", "messages: roles must alternate"),
     OUTCOME_BAD_REQUEST, "invalid_request_error", -2},
    {"400 credit balance is billing", 400, NULL,
     AERR("invalid_request_error",
	  "Your credit balance is too low to access the Anthropic API. "
	  "Please go to Plans & Billing to upgrade or purchase credits."),
     OUTCOME_BILLING, "invalid_request_error", -2},
    {"400 prompt too long", 400, NULL,
     AERR("invalid_request_error",
	  "prompt is too long: 210000 tokens > 200000 maximum"),
     OUTCOME_CONTEXT_OVERFLOW, "invalid_request_error", -2},
    {"401", 401, NULL, AERR("authentication_error", "invalid x-api-key"),
     OUTCOME_AUTH, "authentication_error", -2},
    {"403", 403, NULL,
     AERR("permission_error", "Your API key does not have permission"),
     OUTCOME_AUTH, "permission_error", -2},
    {"404", 404, NULL, AERR("not_found_error", "model: claude-9"),
     OUTCOME_NOT_FOUND, "not_found_error", -2},
    {"413", 413, NULL,
     AERR("request_too_large", "Request exceeds the maximum size"),
     OUTCOME_TOO_LARGE, "request_too_large", -2},
    {"429 with retry-after and resets", 429,
     "retry-after: 3\r\n"
     "anthropic-ratelimit-output-tokens-reset: 2024-05-01T12:00:30Z\r\n",
     AERR("rate_limit_error", "Number of request tokens has exceeded"),
     OUTCOME_RATE_LIMITED, "rate_limit_error", NOW + 30000},
    {"500", 500, NULL, AERR("api_error", "Internal server error"),
     OUTCOME_SERVER_ERROR, "api_error", -1},
    {"529", 529, NULL, AERR("overloaded_error", "Overloaded"),
     OUTCOME_OVERLOADED, "overloaded_error", -1},
    {"402 billing_error", 402, NULL, AERR("billing_error", "billing issue"),
     OUTCOME_BILLING, "billing_error", -2},
    {"200 carrying an overloaded error", 200, NULL,
     AERR("overloaded_error", "Overloaded"), OUTCOME_OVERLOADED,
     "overloaded_error", -1},
};

static void error_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct outcome o = OUTCOME_INIT;

		dialect_anthropic_response(
		    c->status, c->headers, c->headers ? strlen(c->headers) : 0,
		    c->body, strlen(c->body), 0, NOW, &o);
		if (o.cls != c->want)
			fail_msg("%s: class %s, want %s", c->name,
				 outcome_class_name(o.cls),
				 outcome_class_name(c->want));
		if (o.error_code == NULL ||
		    strcmp(o.error_code, c->want_code) != 0)
			fail_msg("%s: code %s", c->name,
				 o.error_code ? o.error_code : "(null)");
		if (c->want_ra != -2 && o.retry_after_ms != c->want_ra)
			fail_msg("%s: retry_after %lld", c->name,
				 (long long)o.retry_after_ms);
		assert_string_equal(o.request_id, "req_011");
		assert_null(o.body);
		outcome_clear(&o);
	}
}

/* The members OpenAI's published schema requires of a chat completion
 * (CreateChatCompletionResponse in openai/openai-openapi's openapi.json:
 * required [choices, created, id, model, object]; each choice [finish_reason,
 * index, message, logprobs]; ChatCompletionResponseMessage [role, content,
 * refusal]; CompletionUsage [prompt_tokens, completion_tokens,
 * total_tokens]; usage itself is optional there, and nightshift always
 * gives it) and the types it allows them: S string, N number, A
 * non-empty array, O object, s string or null, n null (what a translated
 * reply has no value for). A typed client (openai-python's ChatCompletion,
 * the Go and Java SDKs) reading the export refuses a reply without them. */
struct member {
	const char *name;
	char type;
};

static const struct member completion_required[] = {
    {"id", 'S'},    {"object", 'S'},  {"created", 'N'},
    {"model", 'S'}, {"choices", 'A'}, {"usage", 'O'},
};
static const struct member choice_required[] = {
    {"index", 'N'},
    {"message", 'O'},
    {"finish_reason", 'S'},
    {"logprobs", 'n'},
};
static const struct member message_required[] = {
    {"role", 'S'}, {"content", 's'}, {"refusal", 'n'}};
static const struct member usage_required[] = {
    {"prompt_tokens", 'N'}, {"completion_tokens", 'N'}, {"total_tokens", 'N'}};

/* has_members: obj (named where) holds each of want[0..n) with its type;
 * the first one missing or mistyped fails the test, named. */
static void has_members(const cJSON *obj, const char *where,
			const struct member *want, size_t n)
{
	size_t i;

	assert_true(cJSON_IsObject(obj));
	for (i = 0; i < n; i++) {
		const cJSON *it =
		    cJSON_GetObjectItemCaseSensitive(obj, want[i].name);
		int ok = 0;

		switch (want[i].type) {
		case 'S':
			ok = cJSON_IsString(it);
			break;
		case 's':
			ok = cJSON_IsString(it) || cJSON_IsNull(it);
			break;
		case 'N':
			ok = cJSON_IsNumber(it);
			break;
		case 'A':
			ok = cJSON_IsArray(it) && it->child;
			break;
		case 'O':
			ok = cJSON_IsObject(it);
			break;
		case 'n':
			ok = cJSON_IsNull(it);
			break;
		}
		if (!ok)
			fail_msg("%s.%s: %s", where, want[i].name,
				 it ? "wrong type" : "missing");
	}
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void reply_has_every_required_member(void **state)
{
	struct outcome o = OUTCOME_INIT;
	const cJSON *ch, *msg;
	cJSON *c;

	(void)state;
	dialect_anthropic_response(200, NULL, 0, REPLY, strlen(REPLY), 0, NOW,
				   &o);
	assert_int_equal(o.cls, OUTCOME_OK);
	c = cJSON_Parse(o.body);
	assert_non_null(c);
	has_members(c, "completion", completion_required,
		    COUNT(completion_required));
	assert_string_equal(str_at(c, "object"), "chat.completion");
	cJSON_ArrayForEach(ch, cJSON_GetObjectItem(c, "choices"))
	{
		has_members(ch, "choices[]", choice_required,
			    COUNT(choice_required));
		msg = cJSON_GetObjectItem(ch, "message");
		has_members(msg, "choices[].message", message_required,
			    COUNT(message_required));
		assert_string_equal(str_at(msg, "role"), "assistant");
	}
	has_members(cJSON_GetObjectItem(c, "usage"), "usage", usage_required,
		    COUNT(usage_required));
	cJSON_Delete(c);
	outcome_clear(&o);
}

/* The openai dialect stores the provider's reply as it came: nothing is
 * added to it (a provider that leaves out logprobs or refusal is passed
 * through so, and one that has them keeps its own values). */
static void openai_reply_passes_through_unchanged(void **state)
{
	static const char *const bodies[] = {
	    "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,"
	    "\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{"
	    "\"role\":\"assistant\",\"content\":\"hi\"},"
	    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,"
	    "\"completion_tokens\":1,\"total_tokens\":2}}",
	    "{\"id\":\"c2\",\"object\":\"chat.completion\",\"created\":1,"
	    "\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{"
	    "\"role\":\"assistant\",\"content\":\"hi\",\"refusal\":null},"
	    "\"logprobs\":{\"content\":[]},\"finish_reason\":\"stop\"}],"
	    "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
	    "\"total_tokens\":2}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < COUNT(bodies); i++) {
		struct outcome o = OUTCOME_INIT;

		dialect_openai_response(200, NULL, 0, bodies[i],
					strlen(bodies[i]), FLAVOR_OPENAI, 0,
					NOW, &o);
		assert_int_equal(o.cls, OUTCOME_OK);
		assert_int_equal(o.body_len, strlen(bodies[i]));
		assert_memory_equal(o.body, bodies[i], o.body_len);
		outcome_clear(&o);
	}
}

/* What every reply shares with the success path: no HTTP reply is a
 * connection failure, and the request id comes from "request-id" first,
 * for an error reply too; the tokens an error inside a 200 reports are
 * kept (billed). */
static void replies_of_any_kind(void **state)
{
	const char h[] = "HTTP/1.1 529\r\nx-request-id: proxy_1\r\n"
			 "request-id: req_anthropic\r\n\r\n";
	const char err200[] =
	    "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
	    "\"message\":\"Overloaded\"},\"usage\":{\"input_tokens\":7,"
	    "\"output_tokens\":2}}";
	struct outcome o = OUTCOME_INIT;

	(void)state;
	dialect_anthropic_response(0, NULL, 0, NULL, 0, 0, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_CONNECTION);
	assert_string_equal(o.error_message, "no HTTP response");
	dialect_anthropic_response(
	    529, h, strlen(h), AERR("overloaded_error", "Overloaded"),
	    strlen(AERR("overloaded_error", "Overloaded")), 0, NOW, &o);
	assert_int_equal(o.cls, OUTCOME_OVERLOADED);
	assert_string_equal(o.request_id, "req_anthropic");
	dialect_anthropic_response(200, h, strlen(h), err200, strlen(err200), 0,
				   NOW, &o);
	assert_int_equal(o.cls, OUTCOME_OVERLOADED);
	assert_string_equal(o.request_id, "req_anthropic");
	assert_int_equal(o.usage.in, 7);
	assert_int_equal(o.usage.out, 2);
	outcome_clear(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(request_translation),
	    cmocka_unit_test(request_defaults_and_json),
	    cmocka_unit_test(request_refusals),
	    cmocka_unit_test(reply_translated),
	    cmocka_unit_test(usage_reported_only_when_usable),
	    cmocka_unit_test(reply_checks),
	    cmocka_unit_test(reply_has_every_required_member),
	    cmocka_unit_test(openai_reply_passes_through_unchanged),
	    cmocka_unit_test(error_table),
	    cmocka_unit_test(replies_of_any_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
