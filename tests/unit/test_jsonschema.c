/* test_jsonschema.c — required keys and types of structured output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "runner/json/jsonschema.h"

static const char SCHEMA[] =
	"{\"type\":\"object\",\"required\":[\"total\",\"currency\",\"lines\","
	"\"paid\",\"note\"],\"properties\":{\"total\":{\"type\":\"number\"},"
	"\"currency\":{\"type\":\"string\"},\"lines\":{\"type\":\"array\"},"
	"\"paid\":{\"type\":\"boolean\"},\"note\":{\"type\":[\"string\","
	"\"null\"]},\"count\":{\"type\":\"integer\"}}}";

struct row {
	const char *name, *doc, *why; /* why NULL: accepted */
};

static const struct row ROWS[] = {
	{"all_required_keys_with_types",
	 "{\"total\":12.5,\"currency\":\"EUR\",\"lines\":[],\"paid\":false,"
	 "\"note\":null}",
	 NULL},
	{"extra_keys_are_fine",
	 "{\"total\":1,\"currency\":\"EUR\",\"lines\":[1],\"paid\":true,"
	 "\"note\":\"x\",\"other\":{}}",
	 NULL},
	{"missing_required_key",
	 "{\"total\":1,\"currency\":\"EUR\",\"lines\":[],\"paid\":true}",
	 "lacks the required key \"note\""},
	{"number_sent_as_string",
	 "{\"total\":\"12.5\",\"currency\":\"EUR\",\"lines\":[],\"paid\":true,"
	 "\"note\":null}",
	 "\"total\" has the wrong type"},
	{"type_list_rejects_other_types",
	 "{\"total\":1,\"currency\":\"EUR\",\"lines\":[],\"paid\":true,"
	 "\"note\":3}",
	 "\"note\" has the wrong type"},
	{"not_an_object", "[1,2]", "not a JSON object"},
	{"not_json", "Sure! here it is", "not a JSON object"},
	{"trailing_text", "{\"total\":1} thanks", "not a JSON object"},
};

static void check_row(void **state)
{
	const struct row *r = *state;
	cJSON *schema = cJSON_Parse(SCHEMA);
	char why[200] = "";
	int rc = jsonschema_check(r->doc, strlen(r->doc), schema, why,
				  sizeof(why));

	cJSON_Delete(schema);
	if (!r->why) {
		if (rc != 0)
			fail_msg("rejected: %s", why);
		return;
	}
	assert_int_equal(rc, -1);
	if (!strstr(why, r->why))
		fail_msg("reason \"%s\" lacks \"%s\"", why, r->why);
}

static void integer_type_needs_a_whole_number(void **state)
{
	cJSON *s = cJSON_Parse("{\"required\":[\"count\"],\"properties\":{"
			       "\"count\":{\"type\":\"integer\"}}}");
	char why[100];

	(void)state;
	assert_int_equal(jsonschema_check("{\"count\":3}", 11, s, why, 100), 0);
	assert_int_equal(jsonschema_check("{\"count\":3.5}", 13, s, why, 100),
			 -1);
	cJSON_Delete(s);
}

static void no_schema_only_asks_for_an_object(void **state)
{
	char why[100];

	(void)state;
	assert_int_equal(jsonschema_check("{}", 2, NULL, why, 100), 0);
	assert_int_equal(jsonschema_check("\"x\"", 3, NULL, why, 100), -1);
}

static void schema_is_found_in_a_request(void **state)
{
	cJSON *body = cJSON_Parse(
		"{\"model\":\"m\",\"response_format\":{\"type\":\"json_schema\","
		"\"json_schema\":{\"name\":\"x\",\"schema\":{\"type\":"
		"\"object\"}}}}");
	cJSON *plain = cJSON_Parse(
		"{\"model\":\"m\",\"response_format\":{\"type\":"
		"\"json_object\"}}");

	(void)state;
	assert_non_null(jsonschema_of_request(body));
	assert_null(jsonschema_of_request(plain));
	assert_null(jsonschema_of_request(NULL));
	cJSON_Delete(body);
	cJSON_Delete(plain);
}

int main(void)
{
	struct CMUnitTest t[sizeof(ROWS) / sizeof(ROWS[0]) + 3];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++)
		t[n++] = (struct CMUnitTest){.name = ROWS[i].name,
					     .test_func = check_row,
					     .initial_state = (void *)&ROWS[i]};
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		integer_type_needs_a_whole_number);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		no_schema_only_asks_for_an_object);
	t[n++] = (struct CMUnitTest)cmocka_unit_test(
		schema_is_found_in_a_request);
	return _cmocka_run_group_tests("jsonschema", t, n, NULL, NULL);
}
