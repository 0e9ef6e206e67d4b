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
		assert_int_equal(
		    batch_custom_id_parse(id, (size_t)n, rows[i].tag, &b, &j),
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
	assert_int_equal(
	    batch_custom_id(id, sizeof(id), "abcdefghijklmnopqrstuvwxy", 1, 1),
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
	    "ns-01-2", /* leading zero: two spellings */
	    "ns-1-02",
	    "ns-1-2x",
	    "ns-1-",
	    "ns--1-2",
	    "ns-+1-2",
	    "ns-1-2-3",
	    "ns-1",
	    "ns1-2-3",
	    "other-1-2",
	    "job-1",			/* a user's id */
	    "ns-9223372036854775808-1", /* overflows */
	    "ns-1-99999999999999999999",
	    "ns-1-2\\",
	    "NS-1-2",
	    "ns-1 -2",
	    "",
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
	assert_int_equal(
	    batch_line_openai(&b, "ns-1-3", "/v1/chat/completions", "{}", 2),
	    0);
	assert_string_equal(
	    strchr(b.p, '\n') + 1,
	    "{\"custom_id\":\"ns-1-3\",\"method\":\"POST\",\"url\":"
	    "\"/v1/chat/completions\",\"body\":{}}\n");
	buf_free(&b);
}

static void openai_line_escapes_its_strings(void **state)
{
	struct buf b = BUF_INIT(1024);

	(void)state;
	assert_int_equal(
	    batch_line_openai(&b, "a\"b\\c\n\x01", "/v1/x\t", "{}", 2), 0);
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
	    /* a backslash before a raw newline (not JSON): still one line */
	    {"{\"a\":\"x\\\ny\"}", "{\"a\":\"x\\\\ny\"}"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b = BUF_INIT(1024);
		char want[256];
		cJSON *j;

		assert_int_equal(batch_line_openai(&b, "id", "/u", rows[i].body,
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
	assert_int_equal(
	    batch_line_openai(&b, "ns-1-1", "/u", body, strlen(body)), 0);
	one = b.len;
	buf_free(&b);
	buf_init(&b, one + one - 1);
	assert_int_equal(
	    batch_line_openai(&b, "ns-1-1", "/u", body, strlen(body)), 0);
	assert_int_equal(
	    batch_line_openai(&b, "ns-1-2", "/u", body, strlen(body)),
	    BUF_ETOOBIG);
	assert_int_equal(b.len, one);
	assert_int_equal(strlen(b.p), one); /* NUL back at the end */
	assert_int_equal(b.p[one - 1], '\n');
	b.max = one * 2; /* exactly two */
	assert_int_equal(
	    batch_line_openai(&b, "ns-1-2", "/u", body, strlen(body)), 0);
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
		assert_int_equal(batch_req_anthropic(&b, "ns-1-2", rows[i].body,
						     strlen(rows[i].body)),
				 0);
		assert_int_equal(batch_anthropic_close(&b), 0);
		snprintf(
		    want, sizeof(want),
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
	assert_string_equal(s,
			    "{\"input_file_id\":\"file-abc123\",\"endpoint\":"
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
	assert_string_equal(s,
			    "{\"input_file_id\":\"f\\\"1\",\"endpoint\":"
			    "\"/e\",\"completion_window\":\"336h\","
			    "\"metadata\":{\"nightshift_batch\":\"t\\\\\"}}");
	free(s);
}

/* ---- batch objects ---------------------------------------------------- */

/* An OpenAI batch object as the API reference shows it, with the parts a
 * row changes left as printf holes: status, the *_at stamps, counts,
 * output and error file ids, errors and metadata. */
static char *openai_batch(const char *status, const char *stamps,
			  const char *counts, const char *files,
			  const char *errors, const char *metadata)
{
	static const char fmt[] =
	    "{\"id\":\"batch_abc123\",\"object\":\"batch\","
	    "\"endpoint\":\"/v1/chat/completions\",\"errors\":%s,"
	    "\"input_file_id\":\"file-abc123\",\"completion_window\":\"24h\","
	    "\"status\":\"%s\",%s,\"created_at\":1711471533,"
	    "\"expires_at\":1711557933,%s,"
	    "\"request_counts\":%s,\"metadata\":%s,\"model\":\"gpt-4o-mini\"}";
	size_t n = sizeof(fmt) + strlen(status) + strlen(stamps) +
		   strlen(counts) + strlen(files) + strlen(errors) +
		   strlen(metadata);
	char *s = malloc(n);

	snprintf(s, n, fmt, errors, status, files, stamps, counts, metadata);
	return s;
}

#define NOFILES "\"output_file_id\":null,\"error_file_id\":null"
#define NOSTAMPS                                                               \
	"\"in_progress_at\":null,\"finalizing_at\":null,"                      \
	"\"completed_at\":null,\"failed_at\":null,\"expired_at\":null,"        \
	"\"cancelling_at\":null,\"cancelled_at\":null"

/* What a batch object should come to: status, end and counts. */
struct want_info {
	enum batch_status st;
	int ended;
	int64_t ended_ms, total, ok, err, expired, cancelled, processing;
};

static void assert_info(const struct batch_info *b, const struct want_info *w)
{
	assert_int_equal(b->status, w->st);
	assert_int_equal(b->ended, w->ended);
	assert_int_equal(b->ended_ms, w->ended_ms);
	assert_int_equal(b->total, w->total);
	assert_int_equal(b->done_ok, w->ok);
	assert_int_equal(b->errored, w->err);
	assert_int_equal(b->expired, w->expired);
	assert_int_equal(b->cancelled, w->cancelled);
	assert_int_equal(b->processing, w->processing);
}

static void openai_batch_every_status(void **state)
{
	static const struct {
		const char *status, *stamps, *counts, *files;
		struct want_info w;
		const char *out, *errf;
	} rows[] = {
	    {"validating",
	     NOSTAMPS,
	     "{\"total\":0,\"completed\":0,\"failed\":0}",
	     NOFILES,
	     {BATCH_ST_VALIDATING, 0, 0, 0, 0, 0, 0, 0, 0},
	     NULL,
	     NULL},
	    {"in_progress",
	     "\"in_progress_at\":1711471538",
	     "{\"total\":100,\"completed\":40,\"failed\":2}",
	     NOFILES,
	     {BATCH_ST_IN_PROGRESS, 0, 0, 100, 40, 2, 0, 0, 58},
	     NULL,
	     NULL},
	    {"finalizing",
	     "\"finalizing_at\":1711493133",
	     "{\"total\":100,\"completed\":95,\"failed\":5}",
	     NOFILES,
	     {BATCH_ST_FINALIZING, 0, 0, 100, 95, 5, 0, 0, 0},
	     NULL,
	     NULL},
	    {"completed",
	     "\"finalizing_at\":1711493133,\"completed_at\":1711493163",
	     "{\"total\":100,\"completed\":95,\"failed\":5}",
	     "\"output_file_id\":\"file-cvaTdG\","
	     "\"error_file_id\":\"file-HOWS94\"",
	     {BATCH_ST_COMPLETED, 1, 1711493163000, 100, 95, 5, 0, 0, 0},
	     "file-cvaTdG",
	     "file-HOWS94"},
	    /* kaapi-backend#723: completed, no output, every line failed */
	    {"completed",
	     "\"completed_at\":1711493163",
	     "{\"total\":3,\"completed\":0,\"failed\":3}",
	     "\"output_file_id\":null,\"error_file_id\":\"file-err\"",
	     {BATCH_ST_COMPLETED, 1, 1711493163000, 3, 0, 3, 0, 0, 0},
	     NULL,
	     "file-err"},
	    {"failed",
	     "\"failed_at\":1711471540",
	     "{\"total\":0,\"completed\":0,\"failed\":0}",
	     NOFILES,
	     {BATCH_ST_FAILED, 1, 1711471540000, 0, 0, 0, 0, 0, 0},
	     NULL,
	     NULL},
	    {"expired",
	     "\"expired_at\":1711557940",
	     "{\"total\":100,\"completed\":60,\"failed\":1}",
	     "\"output_file_id\":\"file-o\",\"error_file_id\":\"file-e\"",
	     {BATCH_ST_EXPIRED, 1, 1711557940000, 100, 60, 1, 39, 0, 0},
	     "file-o",
	     "file-e"},
	    {"cancelling",
	     "\"cancelling_at\":1711480000",
	     "{\"total\":10,\"completed\":4,\"failed\":0}",
	     NOFILES,
	     {BATCH_ST_CANCELLING, 0, 0, 10, 4, 0, 0, 0, 6},
	     NULL,
	     NULL},
	    {"cancelled",
	     "\"cancelling_at\":1711480000,\"cancelled_at\":1711480100",
	     "{\"total\":10,\"completed\":4,\"failed\":0}",
	     "\"output_file_id\":\"file-o\",\"error_file_id\":null",
	     {BATCH_ST_CANCELLED, 1, 1711480100000, 10, 4, 0, 0, 6, 0},
	     "file-o",
	     NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *j = openai_batch(rows[i].status, rows[i].stamps,
				       rows[i].counts, rows[i].files, "null",
				       "{\"nightshift_batch\":\"ns-4\"}");
		struct batch_info b;

		assert_int_equal(
		    batch_info_parse(BATCH_API_OPENAI, j, strlen(j), &b), 0);
		assert_string_equal(b.id, "batch_abc123");
		assert_int_equal(b.created_ms, 1711471533000);
		assert_int_equal(b.expires_ms, 1711557933000);
		assert_info(&b, &rows[i].w);
		if (rows[i].out)
			assert_string_equal(b.output_file_id, rows[i].out);
		else
			assert_null(b.output_file_id);
		if (rows[i].errf)
			assert_string_equal(b.error_file_id, rows[i].errf);
		else
			assert_null(b.error_file_id);
		assert_null(b.results_url);
		assert_string_equal(b.tag, "ns-4");
		assert_string_equal(b.model, "gpt-4o-mini");
		assert_null(b.error);
		batch_info_clear(&b);
		assert_null(b.id);
		batch_info_clear(&b); /* twice is fine */
		free(j);
	}
}

static void openai_failed_batch_says_why(void **state)
{
	static const struct {
		const char *errors, *metadata, *want;
	} rows[] = {
	    /* openai-python#2084's shape: no line */
	    {"{\"object\":\"list\",\"data\":[{\"code\":\"token_limit_"
	     "exceeded\","
	     "\"message\":\"Enqueued token limit reached for gpt-4o in "
	     "organization org-x. Limit: 90,000 enqueued tokens.\","
	     "\"param\":null,\"line\":null}]}",
	     "null",
	     "token_limit_exceeded: Enqueued token limit reached for gpt-4o in "
	     "organization org-x. Limit: 90,000 enqueued tokens."},
	    /* a line, a second error not shown, control characters and a
	     * key in the message scrubbed; DashScope's metadata */
	    {"{\"object\":\"list\",\"data\":[{\"code\":\"invalid_json_line\","
	     "\"message\":\"bad\\nline for sk-proj-abcdefghijklmnop1234\","
	     "\"param\":null,\"line\":3},{\"code\":\"x\",\"message\":\"y\"}]}",
	     "{\"ds_name\":\"n\"}",
	     "invalid_json_line: bad line for [redacted] (line 3)"},
	    {"{\"data\":[{\"message\":\"only a message\"}]}", "{}",
	     "only a message"},
	    {"{\"data\":[]}", "{}", NULL},
	    {"{\"data\":[{\"param\":\"x\"}]}", "{}", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *j =
		    openai_batch("failed", "\"failed_at\":1711471540",
				 "{\"total\":0,\"completed\":0,"
				 "\"failed\":0}",
				 NOFILES, rows[i].errors, rows[i].metadata);
		struct batch_info b;

		assert_int_equal(
		    batch_info_parse(BATCH_API_OPENAI, j, strlen(j), &b), 0);
		assert_int_equal(b.status, BATCH_ST_FAILED);
		assert_null(b.tag);
		if (rows[i].want)
			assert_string_equal(b.error, rows[i].want);
		else
			assert_null(b.error);
		batch_info_clear(&b);
		free(j);
	}
}

/* An Anthropic Message Batch as the API reference shows it. */
static char *anthropic_batch(const char *status, const char *ended_at,
			     const char *counts, const char *url)
{
	static const char fmt[] =
	    "{\"id\":\"msgbatch_013Zva2CMHLNnXjNJJKqJ2EF\","
	    "\"archived_at\":null,\"cancel_initiated_at\":null,"
	    "\"created_at\":\"2024-09-24T18:37:24.100435Z\","
	    "\"ended_at\":%s,"
	    "\"expires_at\":\"2024-09-25T18:37:24.100435Z\","
	    "\"processing_status\":\"%s\",\"request_counts\":%s,"
	    "\"results_url\":%s,\"type\":\"message_batch\"}";
	size_t n = sizeof(fmt) + strlen(status) + strlen(ended_at) +
		   strlen(counts) + strlen(url);
	char *s = malloc(n);

	snprintf(s, n, fmt, ended_at, status, counts, url);
	return s;
}

static void anthropic_batch_every_status(void **state)
{
	static const struct {
		const char *status, *ended_at, *counts, *url;
		struct want_info w;
	} rows[] = {
	    {"in_progress",
	     "null",
	     "{\"processing\":100,\"succeeded\":0,\"errored\":0,"
	     "\"canceled\":0,\"expired\":0}",
	     "null",
	     {BATCH_ST_IN_PROGRESS, 0, 0, 100, 0, 0, 0, 0, 100}},
	    {"canceling",
	     "null",
	     "{\"processing\":100,\"succeeded\":0,\"errored\":0,"
	     "\"canceled\":0,\"expired\":0}",
	     "null",
	     {BATCH_ST_CANCELLING, 0, 0, 100, 0, 0, 0, 0, 100}},
	    {"ended",
	     "\"2024-08-20T18:37:24.100435Z\"",
	     "{\"processing\":0,\"succeeded\":50,\"errored\":30,"
	     "\"canceled\":10,\"expired\":10}",
	     "\"https://api.anthropic.com/v1/messages/batches/"
	     "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF/results\"",
	     {BATCH_ST_ENDED, 1, 1724179044101, 100, 50, 30, 10, 10, 0}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *j = anthropic_batch(rows[i].status, rows[i].ended_at,
					  rows[i].counts, rows[i].url);
		struct batch_info b;

		assert_int_equal(
		    batch_info_parse(BATCH_API_ANTHROPIC, j, strlen(j), &b), 0);
		assert_string_equal(b.id, "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF");
		/* fractions of a ms round up (timeparse.h) */
		assert_int_equal(b.created_ms, 1727203044101);
		assert_int_equal(b.expires_ms, 1727289444101);
		assert_info(&b, &rows[i].w);
		if (rows[i].w.ended)
			assert_non_null(strstr(b.results_url, "/results"));
		else
			assert_null(b.results_url);
		assert_null(b.output_file_id);
		assert_null(b.tag);
		assert_null(b.error);
		batch_info_clear(&b);
		free(j);
	}
}

static void not_a_batch_object_is_refused(void **state)
{
	static const struct {
		enum batch_api api;
		const char *json;
	} rows[] = {
	    {BATCH_API_OPENAI, ""},
	    {BATCH_API_OPENAI, "[]"},
	    {BATCH_API_OPENAI, "{\"id\":\"b\",\"status\":\"completed\""},
	    {BATCH_API_OPENAI, "{\"id\":\"b\",\"status\":\"completed\"} x"},
	    {BATCH_API_OPENAI, "{\"id\":\"file-1\",\"object\":\"file\","
			       "\"status\":\"processed\"}"},
	    {BATCH_API_OPENAI, "{\"id\":\"b\",\"status\":\"paused\"}"},
	    {BATCH_API_OPENAI, "{\"id\":\"b\",\"status\":3}"},
	    {BATCH_API_OPENAI, "{\"status\":\"completed\"}"},
	    {BATCH_API_OPENAI, "{\"id\":\"\",\"status\":\"completed\"}"},
	    {BATCH_API_OPENAI, "{\"error\":{\"message\":\"No such batch\"}}"},
	    /* the other API's object */
	    {BATCH_API_OPENAI, "{\"id\":\"m\",\"type\":\"message_batch\","
			       "\"processing_status\":\"ended\"}"},
	    {BATCH_API_ANTHROPIC,
	     "{\"id\":\"b\",\"object\":\"batch\",\"status\":\"completed\"}"},
	    {BATCH_API_ANTHROPIC, "{\"id\":\"m\",\"type\":\"message\","
				  "\"processing_status\":\"ended\"}"},
	    {BATCH_API_ANTHROPIC,
	     "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\","
	     "\"message\":\"x\"}}"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct batch_info b;

		memset(&b, 0xab, sizeof(b));
		assert_int_equal(batch_info_parse(rows[i].api, rows[i].json,
						  strlen(rows[i].json), &b),
				 -1);
		assert_null(b.id); /* left empty: clearing it is safe */
		batch_info_clear(&b);
	}
	/* odd values are unknown, not garbage */
	{
		static const char j[] =
		    "{\"id\":\"b\",\"status\":\"in_progress\",\"created_at\":-"
		    "5,"
		    "\"expires_at\":\"soon\",\"request_counts\":{\"total\":1.5,"
		    "\"completed\":-1,\"failed\":1e300},\"model\":7}";
		struct batch_info b;

		assert_int_equal(
		    batch_info_parse(BATCH_API_OPENAI, j, strlen(j), &b), 0);
		assert_true(b.created_ms == 0 && b.expires_ms == 0);
		assert_true(b.total == 0 && b.done_ok == 0 && b.errored == 0);
		assert_null(b.model);
		batch_info_clear(&b);
	}
}

static void list_pages(void **state)
{
	char *b1 =
	    openai_batch("completed", "\"completed_at\":1711493163",
			 "{\"total\":1,\"completed\":1,\"failed\":0}", NOFILES,
			 "null", "{\"nightshift_batch\":\"t1\"}");
	char *b2 = openai_batch("in_progress", NOSTAMPS,
				"{\"total\":1,\"completed\":0,\"failed\":0}",
				NOFILES, "null", "{}");
	char *a1 = anthropic_batch("ended", "null", "{}", "null");
	char page[8192];
	struct batch_info *items;
	size_t n;
	int more;
	char *last;

	(void)state;
	/* an odd element between two batches is left out, not fatal */
	snprintf(page, sizeof(page),
		 "{\"object\":\"list\",\"data\":[%s,{\"id\":\"batch_x\","
		 "\"object\":\"batch\",\"status\":\"paused\"},%s],"
		 "\"first_id\":\"batch_abc123\",\"last_id\":\"batch_zzz\","
		 "\"has_more\":true}",
		 b1, b2);
	assert_int_equal(batch_list_parse(BATCH_API_OPENAI, page, strlen(page),
					  &items, &n, &more, &last),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].tag, "t1");
	assert_int_equal(items[0].status, BATCH_ST_COMPLETED);
	assert_int_equal(items[1].status, BATCH_ST_IN_PROGRESS);
	assert_int_equal(more, 1);
	assert_string_equal(last, "batch_zzz");
	batch_list_free(items, n);
	free(last);

	/* no last_id: the last element's id; has_more false */
	snprintf(page, sizeof(page),
		 "{\"data\":[%s],\"has_more\":false,\"first_id\":null,"
		 "\"last_id\":null}",
		 a1);
	assert_int_equal(batch_list_parse(BATCH_API_ANTHROPIC, page,
					  strlen(page), &items, &n, &more,
					  &last),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].status, BATCH_ST_ENDED);
	assert_int_equal(more, 0);
	assert_string_equal(last, "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF");
	batch_list_free(items, n);
	free(last);

	/* an empty page */
	snprintf(page, sizeof(page),
		 "{\"data\":[],\"has_more\":false,\"first_id\":null,"
		 "\"last_id\":null}");
	assert_int_equal(batch_list_parse(BATCH_API_ANTHROPIC, page,
					  strlen(page), &items, &n, &more,
					  &last),
			 0);
	assert_int_equal(n, 0);
	assert_null(items);
	assert_null(last);
	batch_list_free(items, n);

	/* not a page */
	assert_int_equal(batch_list_parse(BATCH_API_OPENAI, b1, strlen(b1),
					  &items, &n, &more, &last),
			 -1);
	assert_true(items == NULL && n == 0 && last == NULL);
	assert_int_equal(batch_list_parse(BATCH_API_OPENAI, "{\"data\":[", 9,
					  &items, &n, &more, &last),
			 -1);
	free(b1);
	free(b2);
	free(a1);
}

static void uploaded_file_id(void **state)
{
	static const char file[] =
	    "{\"id\":\"file-abc123\",\"object\":\"file\",\"bytes\":120000,"
	    "\"created_at\":1677610602,\"filename\":\"batch.jsonl\","
	    "\"purpose\":\"batch\",\"status\":\"uploaded\"}";
	char *id;

	(void)state;
	id = batch_file_id_parse(file, strlen(file));
	assert_string_equal(id, "file-abc123");
	free(id);
	id = batch_file_id_parse("{\"id\":\"f\"}", 10); /* no object: fine */
	assert_string_equal(id, "f");
	free(id);
	assert_null(batch_file_id_parse(
	    "{\"id\":\"batch_1\",\"object\":\"batch\"}", 33));
	assert_null(batch_file_id_parse("{\"object\":\"file\"}", 17));
	assert_null(batch_file_id_parse("{\"error\":{\"message\":\"bad\","
					"\"type\":\"invalid_request_error\"}}",
					58));
	assert_null(batch_file_id_parse("{\"id\":\"file-", 12));
	assert_null(batch_file_id_parse(NULL, 0));
}

/* ---- result lines ----------------------------------------------------- */

/* A body text as the line holds it, for comparing with out->body. */
static void assert_body(const struct batch_line *l, const char *want)
{
	assert_non_null(l->body);
	assert_int_equal(l->body_len, strlen(want));
	assert_memory_equal(l->body, want, l->body_len);
}

static void openai_result_lines(void **state)
{
	/* the chat.completion with escapes and unicode in its content */
	static const char ok_body[] =
	    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\","
	    "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":"
	    "{\"role\":\"assistant\",\"content\":\"a \\\"q\\\" \\\\n \\u00e9 "
	    "\xe6\x97\xa5\"},\"finish_reason\":\"stop\"}],\"usage\":"
	    "{\"prompt_tokens\":10,\"completion_tokens\":5}}";
	static const char err_body[] =
	    "{\"error\":{\"message\":\"Invalid model\",\"type\":"
	    "\"invalid_request_error\",\"param\":null,\"code\":null}}";
	/* the output file; the error file (an HTTP failure, its body as
	 * the API sent it) with a CRLF line end; DashScope filling error
	 * too, where the response still wins; a response without a body */
	const struct {
		const char *head, *body, *tail;
		int status;
		const char *request_id;
	} rows[] = {
	    {"{\"id\":\"batch_req_1\",\"custom_id\":\"ns-3-42\",\"response\":"
	     "{\"status_code\":200,\"request_id\":\"req_ab\",\"body\":",
	     ok_body, "},\"error\":null}", 200, "req_ab"},
	    {"{\"id\":\"batch_req_2\",\"custom_id\":\"ns-3-43\",\"response\":"
	     "{\"status_code\":400,\"request_id\":\"req_cd\",\"body\":",
	     err_body, "},\"error\":null}\r", 400, "req_cd"},
	    {"{\"id\":\"r\",\"custom_id\":\"ns-3-44\",\"response\":"
	     "{\"status_code\":429,\"body\":",
	     err_body,
	     "},\"error\":{\"code\":\"Throttling\",\"message\":\"m\"}}", 429,
	     ""},
	    {"{\"custom_id\":\"ns-3-45\",\"response\":{\"status_code\":500,"
	     "\"body\":",
	     NULL, "},\"error\":null}", 500, ""},
	};
	struct jsonidx x = {0};
	char line[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct batch_line l;
		const char *why = NULL;
		int64_t b, j;

		snprintf(line, sizeof(line), "%s%s%s", rows[i].head,
			 rows[i].body ? rows[i].body : "null", rows[i].tail);
		assert_int_equal(batch_line_parse(BATCH_API_OPENAI, &x, line,
						  strlen(line), &l, &why),
				 0);
		assert_null(why);
		assert_int_equal(l.kind, BATCH_LINE_REPLY);
		assert_int_equal(l.status, rows[i].status);
		if (rows[i].body) {
			assert_body(&l, rows[i].body);
		} else {
			assert_null(l.body);
			assert_int_equal(l.body_len, 0);
		}
		assert_string_equal(l.request_id, rows[i].request_id);
		assert_string_equal(l.code, "");
		assert_int_equal(batch_custom_id_parse(l.custom_id,
						       l.custom_id_len, "ns",
						       &b, &j),
				 0);
		assert_true(b == 3 && j == 42 + (int64_t)i);
	}
	jsonidx_free(&x);
}

static void openai_lines_without_response(void **state)
{
	static const struct {
		const char *code, *message;
		enum batch_line_kind kind;
		const char *want_msg;
	} rows[] = {
	    {"batch_expired",
	     "This request could not be executed before the completion "
	     "window expired.",
	     BATCH_LINE_EXPIRED,
	     "This request could not be executed before the completion "
	     "window expired."},
	    {"batch_cancelled",
	     "This request could not be executed before the batch was "
	     "cancelled.",
	     BATCH_LINE_CANCELLED,
	     "This request could not be executed before the batch was "
	     "cancelled."},
	    {"request_timeout",
	     "timed out\\nafter 600s, key sk-abcdefghij"
	     "klmnopqrstuv",
	     BATCH_LINE_ERROR, "timed out after 600s, key [redacted]"},
	};
	struct jsonidx x = {0};
	struct batch_line l;
	char line[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"id\":\"batch_req_9\",\"custom_id\":\"ns-1-%zu\","
			 "\"response\":null,\"error\":{\"code\":\"%s\","
			 "\"message\":\"%s\"}}",
			 i, rows[i].code, rows[i].message);
		assert_int_equal(batch_line_parse(BATCH_API_OPENAI, &x, line,
						  strlen(line), &l, NULL),
				 0);
		assert_int_equal(l.kind, rows[i].kind);
		assert_string_equal(l.code, rows[i].code);
		assert_string_equal(l.message, rows[i].want_msg);
		assert_null(l.body);
		assert_int_equal(l.status, 0);
		assert_int_equal(l.custom_id_len, 6);
	}
	/* a long message is cut short of the field on a UTF-8 boundary */
	{
		char msg[700];
		size_t k = 0;

		while (k + 2 < sizeof(msg) - 1) {
			msg[k++] = '\xc3';
			msg[k++] = '\xa9';
		}
		msg[k] = '\0';
		snprintf(line, sizeof(line),
			 "{\"custom_id\":\"c\",\"response\":null,\"error\":"
			 "{\"code\":\"x\",\"message\":\"%s\"}}",
			 msg);
		assert_int_equal(batch_line_parse(BATCH_API_OPENAI, &x, line,
						  strlen(line), &l, NULL),
				 0);
		assert_true(strlen(l.message) < BATCH_LINE_MESSAGE_MAX);
		assert_true(strlen(l.message) > 200);
		assert_int_equal(strlen(l.message) % 2, 0);
	}
	jsonidx_free(&x);
}

static void anthropic_result_lines(void **state)
{
	static const char msg[] =
	    "{\"id\":\"msg_014VwiXbi91y3JMjcpyGBHX5\",\"type\":\"message\","
	    "\"role\":\"assistant\",\"model\":\"claude-3-5-sonnet-20240620\","
	    "\"content\":[{\"type\":\"text\",\"text\":\"Hello \\\"you\\\" "
	    "\xe2\x9c\x93\"}],\"stop_reason\":\"end_turn\","
	    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":11,"
	    "\"output_tokens\":36}}";
	static const struct {
		const char *type;
		int status;
	} errs[] = {
	    {"invalid_request_error", 400}, {"authentication_error", 401},
	    {"billing_error", 402},	    {"permission_error", 403},
	    {"not_found_error", 404},	    {"request_too_large", 413},
	    {"rate_limit_error", 429},	    {"api_error", 500},
	    {"overloaded_error", 529},	    {"brand_new_error", 500},
	};
	struct jsonidx x = {0};
	struct batch_line l;
	char line[2048], err[512];

	(void)state;
	snprintf(line, sizeof(line),
		 "{\"custom_id\":\"ns-2-7\",\"result\":{\"type\":\"succeeded\","
		 "\"message\":%s}}",
		 msg);
	assert_int_equal(batch_line_parse(BATCH_API_ANTHROPIC, &x, line,
					  strlen(line), &l, NULL),
			 0);
	assert_int_equal(l.kind, BATCH_LINE_REPLY);
	assert_int_equal(l.status, 200);
	assert_body(&l, msg);
	assert_int_equal(l.custom_id_len, 6);
	assert_memory_equal(l.custom_id, "ns-2-7", 6);
	assert_string_equal(l.request_id, "");

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		snprintf(err, sizeof(err),
			 "{\"type\":\"error\",\"error\":{\"type\":\"%s\","
			 "\"message\":\"Your credit balance is too low\"},"
			 "\"request_id\":null}",
			 errs[i].type);
		snprintf(line, sizeof(line),
			 "{\"custom_id\":\"ns-2-8\",\"result\":{\"type\":"
			 "\"errored\",\"error\":%s}}",
			 err);
		assert_int_equal(batch_line_parse(BATCH_API_ANTHROPIC, &x, line,
						  strlen(line), &l, NULL),
				 0);
		assert_int_equal(l.kind, BATCH_LINE_REPLY);
		assert_int_equal(l.status, errs[i].status);
		assert_body(&l, err);
	}
	/* the inner error object alone */
	snprintf(
	    line, sizeof(line),
	    "{\"custom_id\":\"ns-2-9\",\"result\":{\"type\":\"errored\","
	    "\"error\":{\"type\":\"overloaded_error\",\"message\":\"o\"}}}");
	assert_int_equal(batch_line_parse(BATCH_API_ANTHROPIC, &x, line,
					  strlen(line), &l, NULL),
			 0);
	assert_int_equal(l.status, 529);
	/* errored with no error object: a server error, no body */
	snprintf(
	    line, sizeof(line),
	    "{\"custom_id\":\"ns-2-9\",\"result\":{\"type\":\"errored\"}}");
	assert_int_equal(batch_line_parse(BATCH_API_ANTHROPIC, &x, line,
					  strlen(line), &l, NULL),
			 0);
	assert_int_equal(l.status, 500);
	assert_null(l.body);

	snprintf(
	    line, sizeof(line),
	    "{\"custom_id\":\"ns-2-10\",\"result\":{\"type\":\"expired\"}}");
	assert_int_equal(batch_line_parse(BATCH_API_ANTHROPIC, &x, line,
					  strlen(line), &l, NULL),
			 0);
	assert_int_equal(l.kind, BATCH_LINE_EXPIRED);
	assert_string_equal(l.code, "expired");
	snprintf(
	    line, sizeof(line),
	    "{\"custom_id\":\"ns-2-11\",\"result\":{\"type\":\"canceled\"}}");
	assert_int_equal(batch_line_parse(BATCH_API_ANTHROPIC, &x, line,
					  strlen(line), &l, NULL),
			 0);
	assert_int_equal(l.kind, BATCH_LINE_CANCELLED);
	assert_string_equal(l.code, "canceled");
	assert_null(l.body);
	jsonidx_free(&x);
}

static void malformed_lines_are_refused(void **state)
{
	static const struct {
		enum batch_api api;
		const char *line;
	} rows[] = {
	    {BATCH_API_OPENAI, ""},
	    {BATCH_API_OPENAI, "null"},
	    {BATCH_API_OPENAI, "[1]"},
	    {BATCH_API_OPENAI, "{\"custom_id\":\"a\"} {}"},
	    {BATCH_API_OPENAI,
	     "{\"response\":{\"status_code\":200,\"body\":{}}}"},
	    {BATCH_API_OPENAI,
	     "{\"custom_id\":\"\",\"response\":{\"status_code\":200}}"},
	    {BATCH_API_OPENAI,
	     "{\"custom_id\":7,\"response\":{\"status_code\":200}}"},
	    {BATCH_API_OPENAI,
	     "{\"custom_id\":\"a\",\"response\":null,\"error\":null}"},
	    {BATCH_API_OPENAI, "{\"custom_id\":\"a\"}"},
	    {BATCH_API_OPENAI, "{\"custom_id\":\"a\",\"response\":{}}"},
	    {BATCH_API_OPENAI,
	     "{\"custom_id\":\"a\",\"response\":{\"status_code\":\"200\"}}"},
	    {BATCH_API_OPENAI,
	     "{\"custom_id\":\"a\",\"response\":{\"status_code\":99}}"},
	    {BATCH_API_OPENAI,
	     "{\"custom_id\":\"a\",\"response\":{\"status_code\":600}}"},
	    {BATCH_API_OPENAI,
	     "{\"custom_id\":\"a\",\"response\":{\"status_code\":200.5}}"},
	    {BATCH_API_ANTHROPIC, "{\"custom_id\":\"a\"}"},
	    {BATCH_API_ANTHROPIC, "{\"custom_id\":\"a\",\"result\":\"ok\"}"},
	    {BATCH_API_ANTHROPIC,
	     "{\"custom_id\":\"a\",\"result\":{\"type\":\"pending\"}}"},
	    {BATCH_API_ANTHROPIC, "{\"custom_id\":\"a\",\"result\":{}}"},
	    {BATCH_API_ANTHROPIC,
	     "{\"custom_id\":\"a\",\"result\":{\"type\":\"succeeded\"}}"},
	    {BATCH_API_ANTHROPIC,
	     "{\"custom_id\":\"a\",\"result\":{\"type\":\"succeeded\","
	     "\"message\":\"hi\"}}"},
	};
	struct jsonidx x = {0};
	struct batch_line l;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *why = NULL;

		assert_int_equal(batch_line_parse(rows[i].api, &x, rows[i].line,
						  strlen(rows[i].line), &l,
						  &why),
				 -1);
		assert_non_null(why);
	}
	jsonidx_free(&x);
}

/* A download cut anywhere leaves a last line that is refused, never read
 * past its end (ASan would see it) nor taken for a result. */
static void a_cut_line_is_refused_at_every_length(void **state)
{
	static const char lines[][256] = {
	    "{\"id\":\"batch_req_1\",\"custom_id\":\"ns-3-42\",\"response\":"
	    "{\"status_code\":200,\"request_id\":\"req_ab\",\"body\":{\"id\":"
	    "\"c\",\"choices\":[{\"message\":{\"content\":\"a\\u00e9\"}}]}},"
	    "\"error\":null}",
	    "{\"custom_id\":\"ns-2-8\",\"result\":{\"type\":\"errored\","
	    "\"error\":{\"type\":\"error\",\"error\":{\"type\":"
	    "\"api_error\",\"message\":\"m\"}}}}",
	};
	struct jsonidx x = {0};
	struct batch_line l;

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(lines[k]);
		enum batch_api api = k ? BATCH_API_ANTHROPIC : BATCH_API_OPENAI;

		for (size_t cut = 0; cut < n; cut++) {
			/* a copy of just the cut, so that reading past it
			 * is a heap overflow */
			char *c = malloc(cut ? cut : 1);

			memcpy(c, lines[k], cut);
			assert_int_equal(
			    batch_line_parse(api, &x, c, cut, &l, NULL), -1);
			free(c);
		}
		assert_int_equal(
		    batch_line_parse(api, &x, lines[k], n, &l, NULL), 0);
	}
	jsonidx_free(&x);
}

/* A line too big for the index's inline tokens, reused scratch
 * afterwards: nothing leaks (ASan) and every line reads right. */
static void huge_lines_and_reused_scratch(void **state)
{
	const size_t items = 20000, text = 2 << 20;
	struct buf b = BUF_INIT(SIZE_MAX);
	struct jsonidx x = {0};
	struct batch_line l;
	const char *body;
	size_t body_at;
	char *big;

	(void)state;
	buf_addstr(&b, "{\"custom_id\":\"ns-1-1\",\"response\":{"
		       "\"status_code\":200,\"body\":");
	body_at = b.len;
	buf_addstr(&b, "{\"choices\":[");
	for (size_t i = 0; i < items; i++)
		buf_addstr(&b, i ? ",1" : "1");
	buf_addstr(&b, "],\"content\":\"");
	big = malloc(text);
	memset(big, 'z', text);
	buf_add(&b, big, text);
	free(big);
	buf_addstr(&b, "\"}");
	body = b.p + body_at;
	buf_addstr(&b, "}}");
	for (int round = 0; round < 2; round++) {
		assert_int_equal(batch_line_parse(BATCH_API_OPENAI, &x, b.p,
						  b.len, &l, NULL),
				 0);
		assert_ptr_equal(l.body, body);
		assert_int_equal(l.body_len, b.len - body_at - 2);
		/* a small line, then a refused one, on the same scratch */
		assert_int_equal(
		    batch_line_parse(BATCH_API_ANTHROPIC, &x,
				     "{\"custom_id\":\"a\",\"result\":"
				     "{\"type\":\"expired\"}}",
				     45, &l, NULL),
		    0);
		assert_int_equal(l.kind, BATCH_LINE_EXPIRED);
		assert_int_equal(batch_line_parse(BATCH_API_OPENAI, &x, b.p,
						  b.len - 1, &l, NULL),
				 -1);
	}
	jsonidx_free(&x);
	buf_free(&b);
}

/* A custom_id with an escape is passed on undecoded and is not ours. */
static void escaped_custom_id_is_foreign(void **state)
{
	static const char line[] = "{\"custom_id\":\"ns-1-\\u0032\",\"result\":"
				   "{\"type\":\"expired\"}}";
	struct jsonidx x = {0};
	struct batch_line l;
	int64_t b, j;

	(void)state;
	assert_int_equal(batch_line_parse(BATCH_API_ANTHROPIC, &x, line,
					  strlen(line), &l, NULL),
			 0);
	assert_int_equal(l.custom_id_len, 11);
	assert_int_equal(
	    batch_custom_id_parse(l.custom_id, l.custom_id_len, "ns", &b, &j),
	    -1);
	jsonidx_free(&x);
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
	    cmocka_unit_test(openai_batch_every_status),
	    cmocka_unit_test(openai_failed_batch_says_why),
	    cmocka_unit_test(anthropic_batch_every_status),
	    cmocka_unit_test(not_a_batch_object_is_refused),
	    cmocka_unit_test(list_pages),
	    cmocka_unit_test(uploaded_file_id),
	    cmocka_unit_test(openai_result_lines),
	    cmocka_unit_test(openai_lines_without_response),
	    cmocka_unit_test(anthropic_result_lines),
	    cmocka_unit_test(malformed_lines_are_refused),
	    cmocka_unit_test(a_cut_line_is_refused_at_every_length),
	    cmocka_unit_test(huge_lines_and_reused_scratch),
	    cmocka_unit_test(escaped_custom_id_is_foreign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
