/* test_batch_wire.c — the batch APIs' wire text: custom_ids that round
 * trip and foreign ids refused; input lines, request elements and create
 * bodies written byte for byte (escapes, unicode, raw control characters,
 * a dropped "stream", a full buffer left as it was); batch objects of
 * every status of both APIs and list pages, in the shapes of the
 * providers' docs; result lines of every kind; and malformed or cut
 * input refused without a crash or a leak (run it under
 * SANITIZE=address,undefined too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "runner/json/jsonidx.h"
#include "runner/providers/batch_wire.h"
#include "util/buf.h"

/* ---- names and ids ---------------------------------------------------- */

static void api_names_round_trip(void **state)
{
	enum batch_api api = BATCH_API_ANTHROPIC;

	(void)state;
	assert_int_equal(batch_api_parse("openai", &api), 0);
	assert_int_equal(api, BATCH_API_OPENAI);
	assert_string_equal(batch_api_name(api), "openai");
	assert_int_equal(batch_api_parse("anthropic", &api), 0);
	assert_int_equal(api, BATCH_API_ANTHROPIC);
	assert_string_equal(batch_api_name(api), "anthropic");
	assert_int_equal(batch_api_parse("OpenAI", &api), -1);
	assert_int_equal(batch_api_parse("", &api), -1);
	assert_int_equal(batch_api_parse(NULL, &api), -1);
	assert_int_equal(api, BATCH_API_ANTHROPIC); /* untouched on -1 */
	assert_string_equal(batch_api_name((enum batch_api)7), "?");
}

static void custom_id_round_trips(void **state)
{
	static const struct {
		const char *tag;
		int64_t batch, job;
		const char *want;
	} rows[] = {
	    {"ns", 12, 345, "ns-12-345"},
	    {"ns", 0, 0, "ns-0-0"},
	    {"my-queue_2", 7, 1, "my-queue_2-7-1"}, /* a dash in the tag */
	    {"abcdefghijklmnopqrstuvwx", INT64_MAX, INT64_MAX,
	     "abcdefghijklmnopqrstuvwx-9223372036854775807-"
	     "9223372036854775807"}, /* the longest: 64 */
	};
	char id[BATCH_CUSTOM_ID_MAX + 1];
	int64_t b, j;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int n = batch_custom_id(id, sizeof(id), rows[i].tag,
					rows[i].batch, rows[i].job);

		assert_int_equal(n, (int)strlen(rows[i].want));
		assert_string_equal(id, rows[i].want);
		assert_true(n <= BATCH_CUSTOM_ID_MAX);
		b = j = -1;
		assert_int_equal(batch_custom_id_parse(id, (size_t)n,
						       rows[i].tag, &b, &j),
				 0);
		assert_true(b == rows[i].batch && j == rows[i].job);
	}
	/* by length: the text need not end at a NUL */
	assert_int_equal(batch_custom_id_parse("ns-1-23", 6, "ns", &b, &j), 0);
	assert_true(b == 1 && j == 2);
}

static void custom_id_refuses_bad_tags_and_room(void **state)
{
	char id[BATCH_CUSTOM_ID_MAX + 1];

	(void)state;
	assert_int_equal(batch_custom_id(id, sizeof(id),
					 "abcdefghijklmnopqrstuvwxy", 1, 1),
			 -1); /* 25 characters */
	assert_string_equal(id, "");
	assert_int_equal(batch_custom_id(id, sizeof(id), "n.s", 1, 1), -1);
	assert_int_equal(batch_custom_id(id, sizeof(id), "", 1, 1), -1);
	assert_int_equal(batch_custom_id(id, sizeof(id), NULL, 1, 1), -1);
	assert_int_equal(batch_custom_id(id, sizeof(id), "ns", -1, 1), -1);
	assert_int_equal(batch_custom_id(id, sizeof(id), "ns", 1, -1), -1);
	assert_int_equal(batch_custom_id(id, 6, "ns", 1, 23), -1);
	assert_string_equal(id, "");
	assert_int_equal(batch_custom_id(id, 8, "ns", 1, 23), 7);
	assert_int_equal(batch_custom_id(id, 0, "ns", 1, 23), -1);
}

static void custom_id_refuses_foreign_ids(void **state)
{
	static const char *const foreign[] = {
	    "ns-01-2",	/* leading zero: two spellings */
	    "ns-1-02",	"ns-1-2x", "ns-1-",   "ns--1-2", "ns-+1-2",
	    "ns-1-2-3", "ns-1",	   "ns1-2-3", "other-1-2",
	    "job-1", /* a user's id */
	    "ns-9223372036854775808-1", /* overflows */
	    "ns-1-99999999999999999999", "ns-1-2\\", "NS-1-2", "ns-1 -2", "",
	};
	int64_t b = -7, j = -7;

	(void)state;
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++)
		assert_int_equal(batch_custom_id_parse(foreign[i],
						       strlen(foreign[i]), "ns",
						       &b, &j),
				 -1);
	assert_true(b == -7 && j == -7);
	assert_int_equal(batch_custom_id_parse("ns-1-2", 6, "n.s", &b, &j), -1);
	assert_int_equal(batch_custom_id_parse(NULL, 0, "ns", &b, &j), -1);
}

/* ---- what is sent ----------------------------------------------------- */

/* Every byte of a built text is printable or non-ASCII: nothing a strict
 * reader refuses, nothing that splits a JSONL line. */
static void assert_no_controls(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_true((unsigned char)s[i] >= 0x20);
}

static void openai_line_copies_body(void **state)
{
	/* escapes, a raw UTF-8 é, an escaped one and an emoji pair */
	static const char body[] =
	    "{\"model\":\"qwen-plus\",\"messages\":[{\"role\":\"user\","
	    "\"content\":\"say \\\"hi\\\" \\\\ caf\xc3\xa9 \\u00e9 "
	    "\\ud83d\\ude00\"}],\"max_tokens\":5}";
	static const char head[] = "{\"custom_id\":\"ns-1-2\",\"method\":"
				   "\"POST\",\"url\":\"/v1/chat/completions\","
				   "\"body\":";
	struct buf b = BUF_INIT(1 << 20);
	cJSON *j, *parsed_body, *want;
	char *printed_want, *printed_got;

	(void)state;
	assert_int_equal(batch_line_openai(&b, "ns-1-2", "/v1/chat/completions",
					   body, strlen(body)),
			 0);
	assert_memory_equal(b.p, head, strlen(head));
	assert_memory_equal(b.p + strlen(head), body, strlen(body));
	assert_string_equal(b.p + strlen(head) + strlen(body), "}\n");
	assert_no_controls(b.p, b.len - 1);
	/* and it is JSON whose body is the job's */
	j = cJSON_ParseWithLength(b.p, b.len);
	assert_non_null(j);
	parsed_body = cJSON_GetObjectItem(j, "body");
	want = cJSON_Parse(body);
	printed_want = cJSON_PrintUnformatted(want);
	printed_got = cJSON_PrintUnformatted(parsed_body);
	assert_string_equal(printed_got, printed_want);
	free(printed_want);
	free(printed_got);
	cJSON_Delete(want);
	cJSON_Delete(j);
	/* a second line follows the first */
	assert_int_equal(batch_line_openai(&b, "ns-1-3", "/v1/chat/completions",
					   "{}", 2),
			 0);
	assert_string_equal(strchr(b.p, '\n') + 1,
			    "{\"custom_id\":\"ns-1-3\",\"method\":\"POST\",\"url\":"
			    "\"/v1/chat/completions\",\"body\":{}}\n");
	buf_free(&b);
}

static void openai_line_escapes_its_strings(void **state)
{
	struct buf b = BUF_INIT(1024);

	(void)state;
	assert_int_equal(batch_line_openai(&b, "a\"b\\c\n\x01", "/v1/x\t",
					   "{}", 2),
			 0);
	assert_string_equal(b.p, "{\"custom_id\":\"a\\\"b\\\\c\\n\\u0001\","
				 "\"method\":\"POST\",\"url\":\"/v1/x\\t\","
				 "\"body\":{}}\n");
	buf_free(&b);
}

static void raw_controls_in_a_body_stay_on_one_line(void **state)
{
	static const struct {
		const char *body, *want;
	} rows[] = {
	    /* pretty-printed: whitespace becomes spaces */
	    {"{\n\t\"a\": [1,\r\n 2]\n}", "{  \"a\": [1,   2] }"},
	    /* raw controls inside strings (cJSON's leniency) are escaped,
	     * also after an escaped quote, which does not end the string */
	    {"{\"a\":\"x\ty\nz\x1f\"}", "{\"a\":\"x\\ty\\nz\\u001f\"}"},
	    {"{\"a\":\"q\\\"\nz\",\"b\":\"\\\\\"\n}",
	     "{\"a\":\"q\\\"\\nz\",\"b\":\"\\\\\" }"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b = BUF_INIT(1024);
		char want[256];
		cJSON *j;

		assert_int_equal(batch_line_openai(&b, "id", "/u",
						   rows[i].body,
						   strlen(rows[i].body)),
				 0);
		snprintf(want, sizeof(want),
			 "{\"custom_id\":\"id\",\"method\":\"POST\",\"url\":"
			 "\"/u\",\"body\":%s}\n",
			 rows[i].want);
		assert_string_equal(b.p, want);
		assert_no_controls(b.p, b.len - 1);
		j = cJSON_Parse(b.p);
		assert_non_null(j);
		cJSON_Delete(j);
		buf_free(&b);
	}
}

static void a_full_buffer_is_left_as_it_was(void **state)
{
	static const char body[] = "{\"model\":\"m\",\"messages\":[]}";
	struct buf b = BUF_INIT(SIZE_MAX);
	size_t one;

	(void)state;
	/* one line's size, then a cap that holds exactly one */
	assert_int_equal(batch_line_openai(&b, "ns-1-1", "/u", body,
					   strlen(body)),
			 0);
	one = b.len;
	buf_free(&b);
	buf_init(&b, one + one - 1);
	assert_int_equal(batch_line_openai(&b, "ns-1-1", "/u", body,
					   strlen(body)),
			 0);
	assert_int_equal(batch_line_openai(&b, "ns-1-2", "/u", body,
					   strlen(body)),
			 BUF_ETOOBIG);
	assert_int_equal(b.len, one);
	assert_int_equal(strlen(b.p), one); /* NUL back at the end */
	assert_int_equal(b.p[one - 1], '\n');
	b.max = one * 2; /* exactly two */
	assert_int_equal(batch_line_openai(&b, "ns-1-2", "/u", body,
					   strlen(body)),
			 0);
	assert_int_equal(b.len, one * 2);
	buf_free(&b);
}

static void anthropic_requests_drop_stream(void **state)
{
	static const struct {
		const char *body, *params;
	} rows[] = {
	    {"{\"model\":\"m\",\"stream\":false,\"max_tokens\":5}",
	     "{\"model\":\"m\",\"max_tokens\":5}"},
	    {"{\"stream\":true,\"model\":\"m\"}", "{\"model\":\"m\"}"},
	    {"{\"model\":\"m\",\"stream\":false}", "{\"model\":\"m\"}"},
	    {"{\"stream\":false}", "{}"},
	    /* "stream" only as a value or below the top: kept */
	    {"{\"messages\":[{\"role\":\"user\",\"content\":\"stream\"}]}",
	     "{\"messages\":[{\"role\":\"user\",\"content\":\"stream\"}]}"},
	    {"{\"metadata\":{\"stream\":1},\"model\":\"m\"}",
	     "{\"metadata\":{\"stream\":1},\"model\":\"m\"}"},
	    /* spaces around the member dropped */
	    {"{\"model\":\"m\" , \"stream\" : true }", "{\"model\":\"m\"}"},
	    /* a dropped member and raw controls in the same body */
	    {"{\"stream\":false,\n\"a\":\"x\ny\"}", "{\"a\":\"x\\ny\"}"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b = BUF_INIT(4096);
		char want[512];
		cJSON *j;

		assert_int_equal(batch_anthropic_open(&b), 0);
		assert_int_equal(batch_req_anthropic(&b, "ns-1-1", "{}", 2), 0);
		assert_int_equal(batch_req_anthropic(&b, "ns-1-2",
						     rows[i].body,
						     strlen(rows[i].body)),
				 0);
		assert_int_equal(batch_anthropic_close(&b), 0);
		snprintf(want, sizeof(want),
			 "{\"requests\":[{\"custom_id\":\"ns-1-1\",\"params\":{}"
			 "},{\"custom_id\":\"ns-1-2\",\"params\":%s}]}",
			 rows[i].params);
		assert_string_equal(b.p, want);
		assert_no_controls(b.p, b.len);
		j = cJSON_Parse(b.p);
		assert_non_null(j);
		assert_int_equal(
		    cJSON_GetArraySize(cJSON_GetObjectItem(j, "requests")), 2);
		cJSON_Delete(j);
		buf_free(&b);
	}
}

static void anthropic_request_leaves_room_to_close(void **state)
{
	static const char body[] = "{\"model\":\"m\",\"max_tokens\":1}";
	struct buf b = BUF_INIT(0);
	size_t head, req;

	(void)state;
	assert_int_equal(batch_anthropic_open(&b), BUF_ETOOBIG);
	assert_int_equal(b.len, 0);
	buf_init(&b, 1 << 16);
	assert_int_equal(batch_anthropic_open(&b), 0);
	head = b.len;
	assert_int_equal(batch_req_anthropic(&b, "ns-1-1", body, strlen(body)),
			 0);
	req = b.len - head;
	buf_free(&b);
	/* a cap one short of request + close refuses the request */
	buf_init(&b, head + req + 1);
	assert_int_equal(batch_anthropic_open(&b), 0);
	assert_int_equal(batch_req_anthropic(&b, "ns-1-1", body, strlen(body)),
			 BUF_ETOOBIG);
	assert_int_equal(b.len, head);
	assert_string_equal(b.p, "{\"requests\":[");
	assert_int_equal(batch_anthropic_close(&b), 0);
	assert_string_equal(b.p, "{\"requests\":[]}");
	buf_free(&b);
	/* exactly enough: the close that follows cannot fail */
	buf_init(&b, head + req + 2);
	assert_int_equal(batch_anthropic_open(&b), 0);
	assert_int_equal(batch_req_anthropic(&b, "ns-1-1", body, strlen(body)),
			 0);
	assert_int_equal(batch_anthropic_close(&b), 0);
	assert_int_equal(b.len, b.max);
	buf_free(&b);
}

static void openai_create_body(void **state)
{
	char *s;

	(void)state;
	s = batch_create_openai("file-abc123", "/v1/chat/completions", "24h",
				"ns-7");
	assert_string_equal(s, "{\"input_file_id\":\"file-abc123\",\"endpoint\":"
			       "\"/v1/chat/completions\",\"completion_window\":"
			       "\"24h\",\"metadata\":{\"nightshift_batch\":"
			       "\"ns-7\"}}");
	free(s);
	s = batch_create_openai("file-1", "/v1/chat/completions", NULL, NULL);
	assert_string_equal(s, "{\"input_file_id\":\"file-1\",\"endpoint\":"
			       "\"/v1/chat/completions\",\"completion_window\":"
			       "\"24h\"}");
	free(s);
	s = batch_create_openai("f\"1", "/e", "336h", "t\\");
	assert_string_equal(s, "{\"input_file_id\":\"f\\\"1\",\"endpoint\":"
			       "\"/e\",\"completion_window\":\"336h\","
			       "\"metadata\":{\"nightshift_batch\":\"t\\\\\"}}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(api_names_round_trip),
	    cmocka_unit_test(custom_id_round_trips),
	    cmocka_unit_test(custom_id_refuses_bad_tags_and_room),
	    cmocka_unit_test(custom_id_refuses_foreign_ids),
	    cmocka_unit_test(openai_line_copies_body),
	    cmocka_unit_test(openai_line_escapes_its_strings),
	    cmocka_unit_test(raw_controls_in_a_body_stay_on_one_line),
	    cmocka_unit_test(a_full_buffer_is_left_as_it_was),
	    cmocka_unit_test(anthropic_requests_drop_stream),
	    cmocka_unit_test(anthropic_request_leaves_room_to_close),
	    cmocka_unit_test(openai_create_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
