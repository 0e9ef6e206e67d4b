/* test_dialect_json.c — JSON mode: which jobs ask for it, the instruction,
 * where each mode puts it, and which replies count as a JSON object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "runner/providers/dialect_json.h"

#define PLAIN                                                                  \
	"Respond with a single valid JSON object and nothing else: no "        \
	"prose, no code fences."

static void format_asks_for_json(void **state)
{
	static const struct {
		const char *body;
		int asks;
	} c[] = {
	    {"{\"response_format\":{\"type\":\"json_object\"}}", 1},
	    {"{\"response_format\":{\"type\":\"json_schema\"}}", 1},
	    {"{\"response_format\":{\"type\":\"text\"}}", 0},
	    {"{\"response_format\":{\"type\":1}}", 0},
	    {"{\"response_format\":\"json_object\"}", 0},
	    {"{}", 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cJSON *root = cJSON_Parse(c[i].body);

		if ((dialect_json_format(root) != NULL) != c[i].asks)
			fail_msg("%s: asks %d", c[i].body, !c[i].asks);
		cJSON_Delete(root);
	}
	assert_null(dialect_json_format(NULL));
}

static void instruction_names_the_schema(void **state)
{
	cJSON *plain = cJSON_Parse("{\"type\":\"json_object\"}");
	cJSON *schema = cJSON_Parse(
	    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\","
	    "\"schema\":{\"type\":\"object\", \"required\":[\"a\"]}}}");
	cJSON *no_object = cJSON_Parse(
	    "{\"type\":\"json_schema\",\"json_schema\":{\"schema\":true}}");
	char *s;

	(void)state;
	s = dialect_json_instruction(plain);
	assert_string_equal(s, PLAIN);
	free(s);
	s = dialect_json_instruction(schema);
	assert_string_equal(s,
			    PLAIN " It must conform to this JSON Schema: "
				  "{\"type\":\"object\",\"required\":[\"a\"]}");
	free(s);
	s = dialect_json_instruction(no_object);
	assert_string_equal(s, PLAIN);
	free(s);
	cJSON_Delete(plain);
	cJSON_Delete(schema);
	cJSON_Delete(no_object);
}

/* apply_case: body, mode; what the body becomes and the flags. */
struct apply_case {
	const char *name, *body;
	enum dialect_json_mode mode;
	const char *want; /* the body after, printed unformatted */
	unsigned flags;
};

#define RF "\"response_format\":{\"type\":\"json_object\"}"

static const struct apply_case apply_cases[] = {
    {"not asked", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
     DIALECT_JSON_PROMPT,
     "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 0},
    {"native: untouched",
     "{" RF ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
     DIALECT_JSON_NATIVE,
     "{" RF ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
     DIALECT_EXPECT_JSON},
    {"ensure word: mentioned in any case",
     "{" RF ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
     "\"text\",\"text\":\"as Json\"}]}]}",
     DIALECT_JSON_ENSURE_WORD,
     "{" RF ",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
     "\"text\",\"text\":\"as Json\"}]}]}",
     DIALECT_EXPECT_JSON},
    {"ensure word: a system message put first",
     "{" RF ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
     DIALECT_JSON_ENSURE_WORD,
     "{" RF ",\"messages\":[{\"role\":\"system\",\"content\":\"" PLAIN
     "\"},{\"role\":\"user\",\"content\":\"hi\"}]}",
     DIALECT_EXPECT_JSON},
    {"prompt: joins the system text, format dropped",
     "{" RF ",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief."
     "\"},{\"role\":\"user\",\"content\":\"json\"}]}",
     DIALECT_JSON_PROMPT,
     "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\\n\\n" PLAIN
     "\"},{\"role\":\"user\",\"content\":\"json\"}]}",
     DIALECT_EXPECT_JSON},
    {"prompt: a part added to a developer message",
     "{" RF ",\"messages\":[{\"role\":\"developer\",\"content\":[{\"type\":"
     "\"text\",\"text\":\"x\"}]}]}",
     DIALECT_JSON_PROMPT,
     "{\"messages\":[{\"role\":\"developer\",\"content\":[{\"type\":"
     "\"text\",\"text\":\"x\"},{\"type\":\"text\",\"text\":\"" PLAIN "\"}]}]}",
     DIALECT_EXPECT_JSON},
    {"no messages array: only the flag", "{" RF ",\"messages\":\"x\"}",
     DIALECT_JSON_PROMPT, "{" RF ",\"messages\":\"x\"}", DIALECT_EXPECT_JSON},
};

static void apply_by_mode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(apply_cases) / sizeof(apply_cases[0]);
	     i++) {
		const struct apply_case *c = &apply_cases[i];
		cJSON *root = cJSON_Parse(c->body);
		unsigned flags = dialect_json_apply(root, c->mode);
		char *got = cJSON_PrintUnformatted(root);

		if (strcmp(got, c->want) != 0 || flags != c->flags)
			fail_msg("%s: got %s (flags %u)\nwant %s (flags %u)",
				 c->name, got, flags, c->want, c->flags);
		free(got);
		cJSON_Delete(root);
	}
}

static void reply_text_checked(void **state)
{
	static const struct {
		const char *text;
		int ok;
		const char *inside; /* NULL: no fence taken off */
	} c[] = {
	    {"{\"a\":1}", 1, NULL},
	    {"  {\"a\":1}\n", 1, NULL},
	    {"```json\n{\"a\":1}\n```", 1, "{\"a\":1}\n"},
	    {"\n ```\n{}```  \n", 1, "{}"},
	    {"```json\n[1]\n```", 0, NULL},
	    {"```{\"a\":1}```", 0, NULL}, /* no line after the fence */
	    {"[1,2]", 0, NULL},
	    {"Sure: {\"a\":1}", 0, NULL},
	    {"", 0, NULL},
	};
	char *inner;

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int ok = dialect_json_text_ok(c[i].text, &inner);

		if (ok != c[i].ok || (c[i].inside == NULL) != (inner == NULL) ||
		    (inner && strcmp(inner, c[i].inside) != 0))
			fail_msg("\"%s\": ok %d, inside \"%s\"", c[i].text, ok,
				 inner ? inner : "(none)");
		free(inner);
	}
	assert_int_equal(dialect_json_text_ok(NULL, &inner), 0);
	assert_null(inner);
}

static void message_content_unfenced_in_place(void **state)
{
	cJSON *m = cJSON_Parse("{\"role\":\"assistant\",\"content\":"
			       "\"```json\\n{\\\"a\\\":1}\\n```\"}");
	cJSON *plain = cJSON_Parse("{\"content\":\"{}\"}");
	cJSON *none = cJSON_Parse("{\"content\":null}");
	int changed = -1;

	(void)state;
	assert_int_equal(dialect_json_check_content(m, &changed), 1);
	assert_int_equal(changed, 1);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(m, "content")->valuestring,
	    "{\"a\":1}\n");
	assert_int_equal(dialect_json_check_content(plain, &changed), 1);
	assert_int_equal(changed, 0);
	assert_int_equal(dialect_json_check_content(none, &changed), 0);
	assert_int_equal(changed, 0);
	cJSON_Delete(m);
	cJSON_Delete(plain);
	cJSON_Delete(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(format_asks_for_json),
	    cmocka_unit_test(instruction_names_the_schema),
	    cmocka_unit_test(apply_by_mode),
	    cmocka_unit_test(reply_text_checked),
	    cmocka_unit_test(message_content_unfenced_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
