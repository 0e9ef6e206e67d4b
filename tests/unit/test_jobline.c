/* test_jobline.c — one case per validation rule of a job line (each
 * refusal naming the value it refused: strings quoted and cut, numbers as
 * written, other types by name, keys never), and how the body is kept
 * (compacted in place, escapes untouched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/ingest/jobline.h"
#include "runner/json/jsonidx.h"

#define MSGS "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
#define BODY "\"body\":{\"model\":\"cheap\"," MSGS "}"

struct row {
	const char *name;
	const char *line;
	const char *want_err; /* NULL: must be accepted */
};

static const struct row ROWS[] = {
	/* accepted */
	{"accepts_minimal_line", "{\"custom_id\":\"a\"," BODY "}", NULL},
	{"accepts_openai_batch_line",
	 "{\"custom_id\":\"a\",\"method\":\"POST\",\"url\":\"/v1/chat/"
	 "completions\"," BODY "}",
	 NULL},
	{"accepts_prefixed_chat_path",
	 "{\"custom_id\":\"a\",\"url\":\"/compatible-mode/v1/chat/"
	 "completions\"," BODY "}",
	 NULL},
	{"accepts_extensions",
	 "{\"custom_id\":\"a\",\"priority\":-3,\"providers\":[\"qwen\"],"
	 "\"max_cost_usd\":0.5," BODY "}",
	 NULL},
	{"accepts_content_parts",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}"
	 "]}}",
	 NULL},
	{"accepts_assistant_null_content",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\","
	 "\"content\":null}]}}",
	 NULL},
	{"accepts_trailing_whitespace", "{\"custom_id\":\"a\"," BODY "}  \t",
	 NULL},
	{"accepts_utf8_text",
	 "{\"custom_id\":\"\xc3\xa9t\xc3\xa9\",\"body\":{\"model\":\"m\","
	 "\"messages\":[{\"role\":\"user\",\"content\":\"\xe6\x97\xa5\xf0\x9f"
	 "\x98\x80\"}]}}",
	 NULL},
	/* the line itself */
	{"rejects_invalid_json", "{\"custom_id\":\"a\",", "not valid JSON"},
	{"rejects_text_after_object", "{\"custom_id\":\"a\"," BODY "} x",
	 "text after the object"},
	{"rejects_array_line", "[1,2]", "not a JSON object, got an array"},
	{"rejects_string_line", "\"job\"", "not a JSON object, got \"job\""},
	{"rejects_invalid_utf8", "{\"custom_id\":\"a\xff\"," BODY "}",
	 "not valid UTF-8 (byte 16)"},
	{"rejects_overlong_utf8", "{\"custom_id\":\"\xc0\xaf\"," BODY "}",
	 "not valid UTF-8"},
	{"rejects_utf16_surrogate",
	 "{\"custom_id\":\"\xed\xa0\x80\"," BODY "}", "not valid UTF-8"},
	{"rejects_truncated_utf8", "{\"custom_id\":\"a\"," BODY "}\xe6\x97",
	 "not valid UTF-8"},
	{"rejects_unknown_field",
	 "{\"custom_id\":\"a\",\"priorty\":1," BODY "}",
	 "unknown field \"priorty\""},
	/* custom_id */
	{"rejects_missing_custom_id", "{" BODY "}", "custom_id: missing"},
	{"rejects_numeric_custom_id", "{\"custom_id\":7," BODY "}",
	 "custom_id: must be a string, got 7"},
	{"rejects_empty_custom_id", "{\"custom_id\":\"\"," BODY "}",
	 "custom_id: must not be empty"},
	{"rejects_control_char_custom_id",
	 "{\"custom_id\":\"a\\nb\"," BODY "}",
	 "custom_id: contains a control character or a line separator, "
	 "got \"a\\nb\""},
	/* issue 17: what got in, though the README refuses it */
	{"rejects_del_custom_id", "{\"custom_id\":\"a\x7f\"," BODY "}",
	 "custom_id: contains a control character or a line separator, "
	 "got \"a\\u007f\""},
	{"rejects_nel_custom_id", "{\"custom_id\":\"a\xc2\x85\"," BODY "}",
	 "got \"a\\u0085\""},
	{"rejects_escaped_nel_custom_id",
	 "{\"custom_id\":\"a\\u0085\"," BODY "}", "got \"a\\u0085\""},
	{"rejects_line_separator_custom_id",
	 "{\"custom_id\":\"a\xe2\x80\xa8\"," BODY "}",
	 "custom_id: contains a control character or a line separator, "
	 "got \"a\\u2028\""},
	{"rejects_paragraph_separator_custom_id",
	 "{\"custom_id\":\"a\\u2029b\"," BODY "}", "got \"a\\u2029b\""},
	{"accepts_nbsp_and_other_punctuation_custom_id",
	 "{\"custom_id\":\"a\xc2\xa0\xe2\x80\xa7\xe2\x80\xa6\"," BODY "}",
	 NULL},
	{"rejects_function_role",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"function\",\"name\":\"f\",\"content\":\"b\"}]}}",
	 "body.messages[0].role: must be one of system, developer, user, "
	 "assistant, tool, got \"function\" (the retired name of \"tool\""},
	{"rejects_max_tokens_1_0",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"max_tokens\":1.0,"
	 MSGS "}}",
	 "written in digits (no fraction or exponent), got 1.0"},
	{"rejects_max_tokens_1e2",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"max_tokens\":1e2,"
	 MSGS "}}",
	 "got 1e2"},
	{"rejects_max_tokens_1E_plus_2",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"max_tokens\":1E+2,"
	 MSGS "}}",
	 "got 1E+2"},
	{"rejects_max_tokens_over_range",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\","
	 "\"max_tokens\":2147483648," MSGS "}}",
	 "body.max_tokens: must be an integer from 1 to 1000000000 written "
	 "in digits (no fraction or exponent), got 2147483648"},
	{"rejects_priority_0_0", "{\"custom_id\":\"a\",\"priority\":0.0," BODY "}",
	 "priority: must be an integer from -1000000000000000 to "
	 "1000000000000000 written in digits (no fraction or exponent), "
	 "got 0.0"},
	{"rejects_priority_underflow",
	 "{\"custom_id\":\"a\",\"priority\":1e-400," BODY "}", "got 1e-400"},
	{"rejects_priority_int64_max",
	 "{\"custom_id\":\"a\",\"priority\":9223372036854775807," BODY "}",
	 "priority: must be an integer from -1000000000000000 to "
	 "1000000000000000 written in digits (no fraction or exponent), "
	 "got 9223372036854775807"},
	{"accepts_priority_bounds",
	 "{\"custom_id\":\"a\",\"priority\":-1000000000000000," BODY "}",
	 NULL},
	{"rejects_v_chat_path",
	 "{\"custom_id\":\"a\",\"url\":\"/v/chat/completions\"," BODY "}",
	 "url: must be \"/v1/chat/completions\" (a prefix before it is "
	 "allowed), got \"/v/chat/completions\""},
	{"rejects_bare_chat_path",
	 "{\"custom_id\":\"a\",\"url\":\"/chat/completions\"," BODY "}",
	 "got \"/chat/completions\""},
	{"rejects_cr_only_line_endings",
	 "{\"custom_id\":\"a\"," BODY "}\r{\"custom_id\":\"b\"," BODY "}\r",
	 "text after the object at byte 88); the lines seem to end in CR "
	 "alone: nightshift reads LF or CRLF line endings"},
	{"rejects_text_after_object_without_cr_hint",
	 "{\"custom_id\":\"a\"," BODY "} {}", "at byte 88)"},
	/* method / url */
	{"rejects_get_method", "{\"custom_id\":\"a\",\"method\":\"GET\"," BODY
			       "}",
	 "method: must be \"POST\", got \"GET\""},
	{"rejects_key_as_method",
	 "{\"custom_id\":\"a\",\"method\":\"sk-abc123\"," BODY "}",
	 "method: must be \"POST\", got a string that looks like an API key "
	 "(not shown)"},
	{"rejects_embeddings_url",
	 "{\"custom_id\":\"a\",\"url\":\"/v1/embeddings\"," BODY "}",
	 "url: must be \"/v1/chat/completions\" (a prefix before it is "
	 "allowed), got \"/v1/embeddings\""},
	{"rejects_numeric_url", "{\"custom_id\":\"a\",\"url\":3," BODY "}",
	 "url: must be \"/v1/chat/completions\" (a prefix before it is "
	 "allowed), got 3"},
	{"rejects_long_url_cut",
	 "{\"custom_id\":\"a\",\"url\":\"/v1/"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
	 BODY "}",
	 "got \"/v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"... (70 bytes)"},
	/* body */
	{"rejects_missing_body", "{\"custom_id\":\"a\"}", "body: missing"},
	{"rejects_body_not_object", "{\"custom_id\":\"a\",\"body\":[]}",
	 "body: must be an object, got an empty array"},
	{"rejects_missing_model",
	 "{\"custom_id\":\"a\",\"body\":{" MSGS "}}", "body.model: missing"},
	{"rejects_empty_model",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"\"," MSGS "}}",
	 "body.model: must be a non-empty string, got \"\""},
	{"rejects_numeric_model",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":4," MSGS "}}",
	 "body.model: must be a non-empty string, got 4"},
	{"rejects_zero_max_tokens",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"max_tokens\":0,"
	 MSGS "}}",
	 "body.max_tokens: must be an integer from 1 to 1000000000 written "
	 "in digits (no fraction or exponent), got 0"},
	{"rejects_fractional_max_tokens",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\","
	 "\"max_completion_tokens\":1.5," MSGS "}}",
	 "body.max_completion_tokens: must be an integer from 1 to "
	 "1000000000 written in digits (no fraction or exponent), got 1.5"},
	/* a number is shown as written */
	{"rejects_max_tokens_as_written",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\","
	 "\"max_tokens\":2.50e0," MSGS "}}",
	 "body.max_tokens: must be an integer from 1 to 1000000000 written "
	 "in digits (no fraction or exponent), got 2.50e0"},
	/* messages */
	{"rejects_missing_messages",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\"}}",
	 "body.messages: missing"},
	{"rejects_messages_not_array",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":{}}}",
	 "body.messages: must be an array, got an empty object"},
	{"rejects_empty_messages",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[]}}",
	 "body.messages: must not be empty"},
	{"rejects_message_not_object",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[\"hi\"]"
	 "}}",
	 "body.messages[0]: must be an object, got \"hi\""},
	{"rejects_missing_role",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"user\",\"content\":\"a\"},{\"content\":\"b\"}]}}",
	 "body.messages[1].role: missing"},
	{"rejects_numeric_role",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":1,\"content\":\"b\"}]}}",
	 "body.messages[0].role: must be a string, got 1"},
	{"rejects_unknown_role",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"robot\",\"content\":\"b\"}]}}",
	 "body.messages[0].role: must be one of system, developer, user, "
	 "assistant, tool, got \"robot\""},
	{"rejects_missing_content",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"user\"}]}}",
	 "body.messages[0].content: missing"},
	{"rejects_numeric_content",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"user\",\"content\":5}]}}",
	 "body.messages[0].content: must be a string or an array of parts, "
	 "got 5"},
	{"rejects_user_null_content",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"user\",\"content\":null}]}}",
	 "body.messages[0].content: must be a string or an array of parts, "
	 "got null"},
	/* extensions */
	{"rejects_fractional_priority",
	 "{\"custom_id\":\"a\",\"priority\":1.5," BODY "}",
	 "priority: must be an integer from -1000000000000000 to "
	 "1000000000000000 written in digits (no fraction or exponent), "
	 "got 1.5"},
	{"rejects_string_priority",
	 "{\"custom_id\":\"a\",\"priority\":\"high\"," BODY "}",
	 "priority: must be an integer from -1000000000000000 to "
	 "1000000000000000 written in digits (no fraction or exponent), "
	 "got \"high\""},
	{"rejects_boolean_priority",
	 "{\"custom_id\":\"a\",\"priority\":true," BODY "}",
	 "priority: must be an integer from -1000000000000000 to "
	 "1000000000000000 written in digits (no fraction or exponent), "
	 "got a boolean"},
	{"rejects_providers_not_array",
	 "{\"custom_id\":\"a\",\"providers\":\"qwen\"," BODY "}",
	 "providers: must be a non-empty array of provider names, got "
	 "\"qwen\""},
	{"rejects_empty_providers",
	 "{\"custom_id\":\"a\",\"providers\":[]," BODY "}",
	 "providers: must be a non-empty array of provider names, got an "
	 "empty array"},
	{"rejects_non_string_provider",
	 "{\"custom_id\":\"a\",\"providers\":[\"qwen\",2]," BODY "}",
	 "providers[1]: must be a non-empty string, got 2"},
	{"rejects_negative_max_cost",
	 "{\"custom_id\":\"a\",\"max_cost_usd\":-1," BODY "}",
	 "max_cost_usd: must be a number >= 0, got -1"},
	{"rejects_string_max_cost",
	 "{\"custom_id\":\"a\",\"max_cost_usd\":\"1\"," BODY "}",
	 "max_cost_usd: must be a number >= 0, got \"1\""},
	/* strict JSON: what cJSON let through */
	{"rejects_leading_zero_number",
	 "{\"custom_id\":\"a\",\"priority\":01," BODY "}",
	 "not valid JSON"},
	{"rejects_trailing_comma", "{\"custom_id\":\"a\"," BODY ",}",
	 "not valid JSON"},
	{"rejects_bad_escape", "{\"custom_id\":\"a\\x\"," BODY "}",
	 "not valid JSON"},
	{"rejects_lone_surrogate_escape",
	 "{\"custom_id\":\"a\\ud800\"," BODY "}", "not valid JSON"},
	/* escapes are decoded before the rules apply */
	{"accepts_escaped_key", "{\"custom\\u005fid\":\"a\"," BODY "}",
	 NULL},
	{"accepts_escaped_role",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"\\u0075ser\",\"content\":\"b\"}]}}",
	 NULL},
	{"accepts_escaped_url",
	 "{\"custom_id\":\"a\",\"url\":\"\\/v1\\/chat\\/completions\","
	 BODY "}",
	 NULL},
	{"rejects_escaped_control_char_custom_id",
	 "{\"custom_id\":\"a\\u0000b\"," BODY "}",
	 "custom_id: contains a control character or a line separator, "
	 "got \"a\\u0000b\""},
	{"rejects_escaped_empty_model",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"\\u0000\"," MSGS "}}",
	 "body.model: must be a non-empty string, got \"\\u0000\""},
	/* a NUL would be cut off, with the rest of its string, on the way out */
	{"rejects_nul_escape_in_body",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"user\",\"content\":\"a\\u0000b\"}]}}",
	 "the string at byte 75 holds \\u0000 (NUL)"},
	{"rejects_nul_escape_in_body_key",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"x\\u0000\":1,"
	 MSGS "}}",
	 "holds \\u0000"},
	{"accepts_escaped_backslash_before_u0000",
	 "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	 "\"role\":\"user\",\"content\":\"a\\\\u0000b\"}]}}",
	 NULL},
};

static void check_row(void **state)
{
	const struct row *r = *state;
	struct jobline j;
	char err[400] = "";
	int rc = jobline_parse(r->line, strlen(r->line), &j, err, sizeof(err));

	if (!r->want_err) {
		if (rc != 0)
			fail_msg("rejected: %s", err);
		assert_non_null(j.custom_id);
		assert_non_null(j.body);
		assert_int_equal(strlen(j.body), j.body_len);
	} else {
		assert_int_equal(rc, -1);
		if (!strstr(err, r->want_err))
			fail_msg("error \"%s\" lacks \"%s\"", err, r->want_err);
		assert_null(j.custom_id);
		assert_null(j.body);
	}
	jobline_clear(&j);
}

static void body_is_normalized_and_fields_extracted(void **state)
{
	const char *line =
		"{ \"custom_id\" : \"doc-1\", \"priority\": 7, \"providers\": "
		"[ \"qwen\", \"deepseek\" ], \"max_cost_usd\": 0.25, \"body\": "
		"{ \"model\": \"cheap\", \"max_tokens\": 300, \"messages\": [ "
		"{\"role\": \"system\", \"content\": \"12345678\"}, {\"role\": "
		"\"user\", \"content\": \"1234567890123456\"} ] } }";
	struct jobline j;
	char err[200];

	(void)state;
	assert_int_equal(jobline_parse(line, strlen(line), &j, err,
				       sizeof(err)),
			 0);
	assert_string_equal(j.custom_id, "doc-1");
	assert_string_equal(j.body,
			    "{\"model\":\"cheap\",\"max_tokens\":300,"
			    "\"messages\":[{\"role\":\"system\",\"content\":"
			    "\"12345678\"},{\"role\":\"user\",\"content\":"
			    "\"1234567890123456\"}]}");
	assert_int_equal(j.priority, 7);
	assert_string_equal(j.providers, "[\"qwen\",\"deepseek\"]");
	assert_true(j.max_cost_usd == 0.25);
	assert_int_equal(j.max_output_tokens, 300);
	/* 24 content bytes / 4 + 4 per message */
	assert_int_equal(j.est_input_tokens, 6 + 8);
	jobline_clear(&j);
}

static void absent_options_have_defaults(void **state)
{
	const char *line = "{\"custom_id\":\"a\"," BODY "}";
	struct jobline j;
	char err[200];

	(void)state;
	assert_int_equal(jobline_parse(line, strlen(line), &j, err,
				       sizeof(err)),
			 0);
	assert_int_equal(j.priority, 0);
	assert_null(j.providers);
	assert_true(j.max_cost_usd < 0);
	assert_int_equal(j.max_output_tokens, 0);
	jobline_clear(&j);
}

static void line_need_not_be_nul_terminated(void **state)
{
	const char *line = "{\"custom_id\":\"a\"," BODY "}GARBAGE";
	size_t n = strlen(line) - strlen("GARBAGE");
	struct jobline j;
	char err[200];

	(void)state;
	assert_int_equal(jobline_parse(line, n, &j, err, sizeof(err)), 0);
	jobline_clear(&j);
}

static void custom_id_length_is_capped(void **state)
{
	char line[JOBLINE_MAX_ID + 200];
	struct jobline j;
	char err[200];
	int n = snprintf(line, sizeof(line), "{\"custom_id\":\"");

	(void)state;
	memset(line + n, 'x', JOBLINE_MAX_ID + 1);
	n += JOBLINE_MAX_ID + 1;
	snprintf(line + n, sizeof(line) - (size_t)n, "\"," BODY "}");
	assert_int_equal(jobline_parse(line, strlen(line), &j, err,
				       sizeof(err)),
			 -1);
	assert_string_equal(err, "custom_id: longer than 512 bytes, got "
				 "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"... "
				 "(513 bytes)");
}

/* The same job spelled with other spacing is the same bytes: that is
 * what makes a pretty-printed re-ingest "already queued". Spacing inside
 * strings is content and stays. */
static void spacing_outside_strings_is_dropped(void **state)
{
	const char *compact =
		"{\"custom_id\":\"d\",\"providers\":[\"qwen\",\"mistral\"],"
		"\"body\":{\"model\":\"cheap\",\"temperature\":0.5,"
		"\"messages\":[{\"role\":\"user\",\"content\":"
		"\"a  b\\t\\\" , : { }\"}]}}";
	const char *pretty =
		"{\r\n  \"custom_id\" : \"d\",\t\"providers\" : [ \"qwen\" ,\n"
		"\"mistral\" ] ,\n  \"body\" : {\n    \"model\" : \"cheap\" ,\n"
		"    \"temperature\" : 0.5 ,\n    \"messages\" : [ {\n      "
		"\"role\" : \"user\" , \"content\" : \"a  b\\t\\\" , : { }\"\n"
		"    } ]\n  }\n}";
	struct jobline a, b;
	char err[200];

	(void)state;
	assert_int_equal(jobline_parse(compact, strlen(compact), &a, err,
				       sizeof(err)),
			 0);
	assert_int_equal(jobline_parse(pretty, strlen(pretty), &b, err,
				       sizeof(err)),
			 0);
	assert_string_equal(a.body,
			    "{\"model\":\"cheap\",\"temperature\":0.5,"
			    "\"messages\":[{\"role\":\"user\",\"content\":"
			    "\"a  b\\t\\\" , : { }\"}]}");
	assert_string_equal(a.body, b.body);
	assert_int_equal(a.body_len, b.body_len);
	assert_string_equal(a.providers, "[\"qwen\",\"mistral\"]");
	assert_string_equal(a.providers, b.providers);
	assert_string_equal(a.custom_id, b.custom_id);
	assert_int_equal(a.est_input_tokens, b.est_input_tokens);
	jobline_clear(&a);
	jobline_clear(&b);
}

/* jobline_parse_inplace hands back pointers into the line itself. */
static void inplace_parse_points_into_the_line(void **state)
{
	char line[] = "{ \"custom_id\" : \"x\\u0079z\", \"body\" : { \"model\" "
		      ": \"m\", " MSGS " } }";
	size_t len = strlen(line);
	struct jobline_view v;
	char err[200];

	(void)state;
	assert_int_equal(jobline_parse_inplace(line, len, &v, err,
					       sizeof(err)),
			 0);
	assert_string_equal(v.custom_id, "xyz");
	assert_string_equal(v.body, "{\"model\":\"m\"," MSGS "}");
	assert_int_equal(v.body_len, strlen(v.body));
	assert_null(v.providers);
	assert_true(v.custom_id >= line && v.custom_id < line + len);
	assert_true(v.body >= line && v.body + v.body_len < line + len);
}

static void custom_id_escapes_are_decoded(void **state)
{
	const char *line =
		"{\"custom_id\":\"doc\\/7 \\u00e9\\ud83d\\ude00\"," BODY "}";
	struct jobline j;
	char err[200];

	(void)state;
	assert_int_equal(jobline_parse(line, strlen(line), &j, err,
				       sizeof(err)),
			 0);
	assert_string_equal(j.custom_id, "doc/7 \xc3\xa9\xf0\x9f\x98\x80");
	jobline_clear(&j);
}

/* A key given twice is refused anywhere in the line: providers' parsers
 * disagree on which counts, so the model routed and priced could differ
 * from the one the provider runs. */
static void duplicated_keys_are_refused(void **state)
{
	static const struct {
		const char *line, *err;
	} rows[] = {
	    {"{\"custom_id\":\"a\",\"custom_id\":\"b\"," BODY "}",
	     "custom_id: given twice"},
	    {"{\"custom_id\":\"a\",\"body\":{\"model\":\"cheap\",\"model\":"
	     "\"other\"," MSGS "}}",
	     "body.model: given twice"},
	    /* the same key spelled with an escape */
	    {"{\"custom_id\":\"a\",\"body\":{\"model\":\"cheap\",\"mo\\u0064el\":"
	     "\"other\"," MSGS "}}",
	     "body.model: given twice"},
	    {"{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"messages\":[{"
	     "\"role\":\"user\",\"content\":\"x\",\"content\":\"y\"}]}}",
	     "body: key \"content\" given twice in the object at byte 50"},
	    /* more keys than the pairwise check takes: sorted */
	    {"{\"custom_id\":\"a\",\"body\":{\"model\":\"m\"," MSGS ",\"k1\":1,"
	     "\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,"
	     "\"k9\":1,\"k10\":1,\"k11\":1,\"k12\":1,\"k13\":1,\"k14\":1,"
	     "\"k15\":1,\"k16\":1,\"k7\":2}}",
	     "body.k7: given twice"},
	};
	static const char *const fine[] = {
	    /* prefixes, and equal keys in different objects, are no twins */
	    "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"mode\":1,"
	    "\"modelx\":2,\"messages\":[{\"role\":\"user\",\"content\":\"x\"},"
	    "{\"role\":\"assistant\",\"content\":\"y\"}]}}",
	    "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\"," MSGS ",\"k1\":1,"
	    "\"k2\":1,\"k3\":1,\"k4\":1,\"k5\":1,\"k6\":1,\"k7\":1,\"k8\":1,"
	    "\"k9\":1,\"k10\":1,\"k11\":1,\"k12\":1,\"k13\":1,\"k14\":1,"
	    "\"k15\":1,\"k16\":1,\"k17\":2}}",
	};
	struct jobline j;
	char err[300];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		assert_int_equal(jobline_parse(rows[i].line,
					       strlen(rows[i].line), &j, err,
					       sizeof(err)),
				 -1);
		if (!strstr(err, rows[i].err))
			fail_msg("row %zu: \"%s\" lacks \"%s\"", i, err,
				 rows[i].err);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		if (jobline_parse(fine[i], strlen(fine[i]), &j, err,
				  sizeof(err)) != 0)
			fail_msg("fine %zu refused: %s", i, err);
		jobline_clear(&j);
	}
}

/* Only digits: a body goes to the provider as written, and an integral
 * number with a fraction or an exponent is what some refuse (issue 17;
 * these were accepted before). */
static void integral_numbers_must_be_written_in_digits(void **state)
{
	static const char *const lines[] = {
		"{\"custom_id\":\"a\",\"priority\":-2.0e0," BODY "}",
		"{\"custom_id\":\"a\",\"body\":{\"model\":\"m\",\"max_tokens\":"
		"3e2," MSGS "}}",
	};
	const char *ok = "{\"custom_id\":\"a\",\"priority\":-2,"
			 "\"body\":{\"model\":\"m\",\"max_tokens\":300," MSGS
			 "}}";
	struct jobline j;
	char err[300];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(jobline_parse(lines[i], strlen(lines[i]), &j,
					       err, sizeof(err)),
				 -1);
		assert_non_null(strstr(err, "written in digits"));
	}
	assert_int_equal(jobline_parse(ok, strlen(ok), &j, err, sizeof(err)),
			 0);
	assert_int_equal(j.priority, -2);
	assert_int_equal(j.max_output_tokens, 300);
	jobline_clear(&j);
}

static void nul_byte_is_refused(void **state)
{
	const char line[] = "{\"custom_id\":\"a\",\"body\":{\"model\":\"m\","
			    "\"messages\":[{\"role\":\"user\","
			    "\"content\":\"x\0y\"}]}}";
	const char *nul = memchr(line, 0, sizeof(line));
	struct jobline j;
	char err[200], want[200];

	(void)state;
	assert_int_equal(jobline_parse(line, sizeof(line) - 1, &j, err,
				       sizeof(err)),
			 -1);
	snprintf(want, sizeof(want), "not valid JSON (NUL byte at byte %zu)",
		 (size_t)(nul - line) + 1);
	assert_string_equal(err, want);
}

static void bom_is_skipped(void **state)
{
	const char *line = "\xEF\xBB\xBF{\"custom_id\":\"a\"," BODY "}";
	struct jobline j;
	char err[200];

	(void)state;
	assert_int_equal(jobline_parse(line, strlen(line), &j, err,
				       sizeof(err)),
			 0);
	assert_string_equal(j.custom_id, "a");
	jobline_clear(&j);
}

/* What an older build stored (the body re-printed by cJSON) is the same
 * job as the line as written. */
static void same_json_compares_values(void **state)
{
	static const struct {
		const char *a, *b;
		int same;
	} cases[] = {
		{"{\"t\":0}", "{\"t\":0.0}", 1},
		{"{\"t\":100}", "{\"t\":1e2}", 1},
		{"{\"s\":\"\xc3\xa9/\"}", "{\"s\":\"\\u00e9\\/\"}", 1},
		{"{\"a\":1,\"b\":[2]}", "{ \"b\" : [ 2 ] , \"a\" : 1 }", 1},
		{"[\"qwen\"]", "[ \"qwen\" ]", 1},
		{"{\"t\":0}", "{\"t\":0.5}", 0},
		{"{\"s\":\"x\"}", "{\"s\":\"X\"}", 0},
		{"{\"a\":1}", "{\"a\":1,\"b\":2}", 0},
		{"{\"a\":1}", "{\"a\":", 0},
		{"not json", "not json", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *a = cases[i].a, *b = cases[i].b;

		if (jobline_same_json(a, strlen(a), b, strlen(b)) !=
		    cases[i].same)
			fail_msg("%s vs %s: want %d", a, b, cases[i].same);
	}
}

/* Nesting is capped (at cJSON's limit) so a hostile line cannot exhaust
 * the stack; a deep but legal one is fine. */
static void nesting_is_capped(void **state)
{
	(void)state;
	for (int extra = 0; extra < 2; extra++) {
		/* root object + body object + the arrays */
		size_t depth = JSONIDX_MAX_DEPTH - 2 + (size_t)extra, n;
		char *line = malloc(2 * depth + 200);
		struct jobline j;
		char err[200];

		n = (size_t)sprintf(line, "{\"custom_id\":\"a\",\"body\":{"
					  "\"model\":\"m\"," MSGS ",\"x\":");
		memset(line + n, '[', depth);
		memset(line + n + depth, ']', depth);
		n += 2 * depth;
		n += (size_t)sprintf(line + n, "}}");
		assert_int_equal(jobline_parse(line, n, &j, err, sizeof(err)),
				 extra ? -1 : 0);
		/* issue 17: it said only "not valid JSON" */
		if (extra)
			assert_non_null(strstr(err, "nested deeper than 1000 "
						    "arrays and objects"));
		jobline_clear(&j);
		free(line);
	}
}

/* A line with more values than the indexer keeps on the stack. */
static void many_content_parts_are_counted(void **state)
{
	size_t parts = 600, cap = parts * 40 + 200, n;
	char *line = malloc(cap);
	struct jobline j;
	char err[200];

	(void)state;
	n = (size_t)snprintf(line, cap,
			     "{\"custom_id\":\"p\",\"body\":{\"model\":\"m\","
			     "\"messages\":[{\"role\":\"user\",\"content\":[");
	for (size_t i = 0; i < parts; i++)
		n += (size_t)snprintf(line + n, cap - n,
				      "%s{\"type\":\"text\",\"text\":\"abcd\"}",
				      i ? "," : "");
	n += (size_t)snprintf(line + n, cap - n, "]}]}}");
	assert_int_equal(jobline_parse(line, n, &j, err, sizeof(err)), 0);
	/* 600 parts of 4 bytes: 600 tokens, + 4 for the message */
	assert_int_equal(j.est_input_tokens, 600 + 4);
	jobline_clear(&j);
	free(line);
}

int main(void)
{
	size_t n = sizeof(ROWS) / sizeof(ROWS[0]);
	struct CMUnitTest *t = calloc(n + 16, sizeof(*t));
	int rc;

	for (size_t i = 0; i < n; i++) {
		t[i].name = ROWS[i].name;
		t[i].test_func = check_row;
		t[i].initial_state = (void *)&ROWS[i];
	}
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		body_is_normalized_and_fields_extracted);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		absent_options_have_defaults);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		line_need_not_be_nul_terminated);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		custom_id_length_is_capped);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		spacing_outside_strings_is_dropped);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		inplace_parse_points_into_the_line);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		custom_id_escapes_are_decoded);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		duplicated_keys_are_refused);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		integral_numbers_must_be_written_in_digits);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(nul_byte_is_refused);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(bom_is_skipped);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(nesting_is_capped);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(same_json_compares_values);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		many_content_parts_are_counted);
	rc = _cmocka_run_group_tests("jobline", t, n, NULL, NULL);
	free(t);
	return rc;
}
