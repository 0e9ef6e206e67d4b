/* test_export.c — `nightshift export`: the shape of done and dead lines,
 * JSON escaping, the filters, .zst output, the file's mode and atomic
 * replacement, and write errors. Databases are built by hand with raw
 * SQL, as the run loop would leave them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "queue/blob.h"
#include "queue/export.h"
#include "queue/queue.h"
#include "runner/cmd.h"
#include "util/utf8.h"

#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct fx {
	char dir[64];
	char db[96];
	char out[96];
	sqlite3 *raw;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct queue *q;

	strcpy(f->dir, "/tmp/nightshift-export-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/q.db", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out.jsonl", f->dir);
	if (queue_open(f->db, QUEUE_OPEN_CREATE, &q, NULL, 0) != QUEUE_OK)
		return -1;
	queue_close(&q);
	if (sqlite3_open(f->db, &f->raw) != SQLITE_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	sqlite3_close(f->raw);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void add_job(struct fx *f, int id, const char *custom_id, int state)
{
	sqlite3_stmt *st;

	assert_int_equal(
		sqlite3_prepare_v2(f->raw,
				   "INSERT INTO jobs (id, custom_id, state, "
				   "body_hash, request, est_input_tokens, "
				   "max_output_tokens, created_at, updated_at) "
				   "VALUES (?1, ?2, ?3, 1, x'00', 1, 0, 0, 0)",
				   -1, &st, NULL),
		SQLITE_OK);
	sqlite3_bind_int(st, 1, id);
	sqlite3_bind_text(st, 2, custom_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, state);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* A result row; body is JSON text stored as a zstd frame (NULL: none). */
struct res {
	const char *provider, *model, *request_id, *body;
	const char *error_code, *error_message;
	int status_code, attempts, latency_ms;
	double cost;
};

static void add_result(struct fx *f, int job_id, const struct res *r)
{
	struct blob_codec *c = blob_codec_new();
	sqlite3_stmt *st;
	const void *z = NULL;
	size_t zlen = 0;

	if (r->body)
		assert_int_equal(blob_compress(c, NULL, r->body,
					       strlen(r->body), &z, &zlen),
				 0);
	assert_int_equal(
		sqlite3_prepare_v2(
			f->raw,
			"INSERT INTO results (job_id, provider, model, "
			"status_code, request_id, body, error_code, "
			"error_message, attempts, cost_usd, latency_ms, "
			"finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
			"?9, ?10, ?11, 1)",
			-1, &st, NULL),
		SQLITE_OK);
	sqlite3_bind_int(st, 1, job_id);
	sqlite3_bind_text(st, 2, r->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->model, -1, SQLITE_STATIC);
	if (r->status_code)
		sqlite3_bind_int(st, 4, r->status_code);
	sqlite3_bind_text(st, 5, r->request_id, -1, SQLITE_STATIC);
	if (z)
		sqlite3_bind_blob(st, 6, z, (int)zlen, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, r->error_code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->error_message, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, r->attempts);
	sqlite3_bind_double(st, 10, r->cost);
	if (r->latency_ms >= 0)
		sqlite3_bind_int(st, 11, r->latency_ms);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	blob_codec_free(&c);
}

static const char BODY[] =
	"{\n  \"id\": \"chatcmpl-1\",\n  \"object\": \"chat.completion\",\r\n"
	"  \"model\": \"qwen-plus\",\n  \"choices\": [{\"index\": 0, "
	"\"message\": {\"role\": \"assistant\", \"content\": \"line 1\\nline "
	"2 \\\"quoted\\\" \\u00e9\"}, \"finish_reason\": \"stop\"}],\n"
	"  \"usage\": {\"prompt_tokens\": 12, \"completion_tokens\": 5, "
	"\"total_tokens\": 17}\n}\n";

static void add_done(struct fx *f, int id, const char *custom_id)
{
	struct res r = {.provider = "qwen",
			.model = "qwen-plus",
			.request_id = "req-abc",
			.body = BODY,
			.status_code = 200,
			.attempts = 2,
			.latency_ms = 840,
			.cost = 0.000213};

	add_job(f, id, custom_id, JOB_DONE);
	add_result(f, id, &r);
}

static void add_dead(struct fx *f, int id, const char *custom_id)
{
	struct res r = {.provider = "deepseek",
			.model = "deepseek-chat",
			.error_code = "rate_limited",
			.error_message = "429 Too Many Requests",
			.attempts = 5,
			.latency_ms = -1,
			.cost = 0};

	add_job(f, id, custom_id, JOB_DEAD);
	add_result(f, id, &r);
}

/* slurp: a whole file, NUL-terminated; *len its size. NULL if missing. */
static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* lines: parse every line of text; returns how many, fills out[] (each
 * freed by the caller). Fails the test on a line that is not JSON. */
static int lines(const char *text, cJSON **out, int max)
{
	int n = 0;

	while (*text) {
		const char *nl = strchr(text, '\n');

		assert_non_null(nl); /* every line ends with \n */
		assert_true(n < max);
		out[n] = cJSON_ParseWithLength(text, (size_t)(nl - text));
		assert_non_null(out[n]);
		n++;
		text = nl + 1;
	}
	return n;
}

static void free_lines(cJSON **v, int n)
{
	for (int i = 0; i < n; i++)
		cJSON_Delete(v[i]);
}

static int export_to(struct fx *f, const char *out, const char *filter)
{
	char *argv[] = {"export", "--db", f->db, "-o", (char *)out,
			(char *)filter};

	return cmd_export(filter ? 6 : 5, argv);
}

/* temporaries: how many files in f's directory are an export's temporary
 * (out.jsonl.tmp, out.jsonl.tmp.XXXXXX). */
static int temporaries(struct fx *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strncmp(e->d_name, "out.jsonl.tmp", 13) == 0;
	closedir(d);
	return n;
}

/* export_lines: export f to f->out with filter and parse the lines. */
static int export_lines(struct fx *f, const char *filter, cJSON **v, int max)
{
	char *text;
	int n;

	assert_int_equal(export_to(f, f->out, filter), 0);
	text = slurp(f->out, NULL);
	assert_non_null(text);
	n = lines(text, v, max);
	free(text);
	return n;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static const cJSON *obj(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_non_null(v);
	return v;
}

static void done_job_line_has_every_field(void **state)
{
	struct fx *f = *state;
	cJSON *v[4], *want = cJSON_Parse(BODY);
	const cJSON *resp, *ns;
	int n;

	add_done(f, 7, "doc-1");
	n = export_lines(f, NULL, v, 4);
	assert_int_equal(n, 1);
	assert_int_equal(cJSON_GetArraySize(v[0]), 5);
	assert_string_equal(str(v[0], "id"), "batch_req_7");
	assert_string_equal(str(v[0], "custom_id"), "doc-1");
	assert_true(cJSON_IsNull(obj(v[0], "error")));
	resp = obj(v[0], "response");
	assert_int_equal(cJSON_GetArraySize(resp), 3);
	assert_int_equal((int)num(resp, "status_code"), 200);
	assert_string_equal(str(resp, "request_id"), "req-abc");
	/* The stored body, line breaks and all, comes back as the same JSON
	 * value on one line. */
	assert_non_null(want);
	assert_true(cJSON_Compare(obj(resp, "body"), want, 1));
	ns = obj(v[0], "nightshift");
	assert_int_equal(cJSON_GetArraySize(ns), 6);
	assert_string_equal(str(ns, "provider"), "qwen");
	assert_string_equal(str(ns, "model"), "qwen-plus");
	/* a result written before lanes existed was the sync lane's */
	assert_string_equal(str(ns, "lane"), "sync");
	assert_int_equal((int)num(ns, "attempts"), 2);
	assert_true(num(ns, "cost_usd") == 0.000213);
	assert_int_equal((int)num(ns, "latency_ms"), 840);
	cJSON_Delete(want);
	free_lines(v, n);
}

static void dead_job_line_has_error_and_null_response(void **state)
{
	struct fx *f = *state;
	cJSON *v[4];
	const cJSON *err, *ns;
	int n;

	add_dead(f, 3, "doc-dead");
	n = export_lines(f, NULL, v, 4);
	assert_int_equal(n, 1);
	assert_string_equal(str(v[0], "id"), "batch_req_3");
	assert_string_equal(str(v[0], "custom_id"), "doc-dead");
	assert_true(cJSON_IsNull(obj(v[0], "response")));
	err = obj(v[0], "error");
	assert_int_equal(cJSON_GetArraySize(err), 2);
	assert_string_equal(str(err, "code"), "rate_limited");
	assert_string_equal(str(err, "message"), "429 Too Many Requests");
	ns = obj(v[0], "nightshift");
	assert_string_equal(str(ns, "provider"), "deepseek");
	assert_string_equal(str(ns, "model"), "deepseek-chat");
	assert_int_equal((int)num(ns, "attempts"), 5);
	assert_true(num(ns, "cost_usd") == 0);
	assert_true(cJSON_IsNull(obj(ns, "latency_ms")));
	free_lines(v, n);
}

static void odd_strings_are_escaped(void **state)
{
	struct fx *f = *state;
	static const char *const ids[] = {
		"say \"hi\"",
		"back\\slash\\",
		"caf\xc3\xa9 \xe2\x82\xac",
		"emoji \xf0\x9f\x98\x80",
		"tab\tnew\nline\r",
		"ctl \x01\x1f end",
		"</script>",
		"{\"json\":1}",
	};
	struct res r = {.provider = "p\"x",
			.model = "m\\y",
			.error_code = "bad_request",
			/* invalid UTF-8 from a provider must not make
			 * the line invalid */
			.error_message = "bad \xff\xfe byte \xc3",
			.attempts = 1,
			.latency_ms = 5};
	int nids = (int)(sizeof(ids) / sizeof(ids[0]));
	cJSON *v[16];
	int n;

	for (int i = 0; i < nids; i++)
		add_done(f, i + 1, ids[i]);
	add_job(f, 100, "dead \"one\"", JOB_DEAD);
	add_result(f, 100, &r);
	n = export_lines(f, NULL, v, 16);
	assert_int_equal(n, nids + 1);
	for (int i = 0; i < nids; i++)
		assert_string_equal(str(v[i], "custom_id"), ids[i]);
	assert_string_equal(str(v[nids], "custom_id"), "dead \"one\"");
	assert_string_equal(str(obj(v[nids], "nightshift"), "provider"),
			    "p\"x");
	assert_string_equal(str(obj(v[nids], "nightshift"), "model"), "m\\y");
	assert_string_equal(str(obj(v[nids], "error"), "message"),
			    "bad \xef\xbf\xbd\xef\xbf\xbd byte \xef\xbf\xbd");
	free_lines(v, n);
}

static void zst_output_round_trips(void **state)
{
	struct fx *f = *state;
	char zpath[128];
	char *plain, *z, *back;
	size_t plen, zlen, got;

	for (int i = 1; i <= 50; i++) {
		char id[32];

		snprintf(id, sizeof(id), "doc-%d", i);
		if (i % 7 == 0)
			add_dead(f, i, id);
		else
			add_done(f, i, id);
	}
	snprintf(zpath, sizeof(zpath), "%s/out.jsonl.zst", f->dir);
	assert_int_equal(export_to(f, f->out, NULL), 0);
	assert_int_equal(export_to(f, zpath, NULL), 0);
	plain = slurp(f->out, &plen);
	z = slurp(zpath, &zlen);
	assert_non_null(plain);
	assert_non_null(z);
	assert_true(plen > 0);
	assert_true(zlen < plen); /* it really is compressed */
	back = malloc(plen + 1);
	got = ZSTD_decompress(back, plen + 1, z, zlen);
	assert_false(ZSTD_isError(got));
	assert_int_equal(got, plen);
	assert_memory_equal(back, plain, plen);
	free(back);
	free(z);
	free(plain);
}

static void filters_pick_done_dead_or_both_in_id_order(void **state)
{
	struct fx *f = *state;
	cJSON *v[8];
	int n;

	add_done(f, 4, "d4");
	add_dead(f, 2, "x2");
	add_done(f, 1, "d1");
	add_dead(f, 9, "x9");
	add_job(f, 5, "queued", JOB_QUEUED);
	add_job(f, 6, "running", JOB_RUNNING);

	n = export_lines(f, NULL, v, 8);
	assert_int_equal(n, 4);
	assert_string_equal(str(v[0], "custom_id"), "d1");
	assert_string_equal(str(v[1], "custom_id"), "x2");
	assert_string_equal(str(v[2], "custom_id"), "d4");
	assert_string_equal(str(v[3], "custom_id"), "x9");
	free_lines(v, n);

	n = export_lines(f, "--all", v, 8);
	assert_int_equal(n, 4);
	free_lines(v, n);

	n = export_lines(f, "--failed", v, 8);
	assert_int_equal(n, 2);
	assert_string_equal(str(v[0], "custom_id"), "x2");
	assert_string_equal(str(v[1], "custom_id"), "x9");
	for (int i = 0; i < n; i++)
		assert_true(cJSON_IsNull(obj(v[i], "response")));
	free_lines(v, n);

	n = export_lines(f, "--succeeded", v, 8);
	assert_int_equal(n, 2);
	assert_string_equal(str(v[0], "custom_id"), "d1");
	assert_string_equal(str(v[1], "custom_id"), "d4");
	for (int i = 0; i < n; i++)
		assert_true(cJSON_IsNull(obj(v[i], "error")));
	free_lines(v, n);
}

static void output_file_is_private_and_replaced_whole(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	char *text;
	FILE *fp;

	/* An older export with a looser mode is replaced, not appended to. */
	fp = fopen(f->out, "w");
	assert_non_null(fp);
	fputs("old contents\n", fp);
	fclose(fp);
	chmod(f->out, 0644);
	add_done(f, 1, "doc-1");
	assert_int_equal(export_to(f, f->out, NULL), 0);
	assert_int_equal(stat(f->out, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	text = slurp(f->out, NULL);
	assert_non_null(text);
	assert_null(strstr(text, "old contents"));
	assert_non_null(strstr(text, "\"custom_id\":\"doc-1\""));
	free(text);
	assert_int_equal(temporaries(f), 0);
}

static void damaged_body_fails_and_keeps_the_previous_file(void **state)
{
	struct fx *f = *state;
	struct res r = {.provider = "qwen",
			.model = "m",
			.body = "not json at all",
			.attempts = 1,
			.latency_ms = 1};
	char *text;

	add_done(f, 1, "doc-1");
	assert_int_equal(export_to(f, f->out, NULL), 0);
	add_job(f, 2, "bad", JOB_DONE);
	add_result(f, 2, &r);
	add_done(f, 3, "doc-3");
	assert_int_equal(export_to(f, f->out, NULL), 1);
	text = slurp(f->out, NULL);
	assert_non_null(text);
	assert_non_null(strstr(text, "doc-1"));
	assert_null(strstr(text, "doc-3"));
	free(text);
	assert_int_equal(temporaries(f), 0);

	/* A frame that is not zstd at all fails the same way. */
	assert_int_equal(sqlite3_exec(f->raw,
				      "UPDATE results SET body = x'0102030405' "
				      "WHERE job_id = 2",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(export_to(f, f->out, NULL), 1);
}

/* Issue 17: a provider's 200 reply with invalid UTF-8 in its content (a
 * stray \xff\xfe, an overlong \xc0\xaf, a surrogate \xed\xa0\x80) was
 * exported raw: the line was not UTF-8 and strict readers refused it.
 * Each bad byte is now U+FFFD and the line says how many were replaced. */
static void invalid_utf8_in_a_reply_is_replaced_and_counted(void **state)
{
	struct fx *f = *state;
	static const char body[] =
		"{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":"
		"{\"role\":\"assistant\",\"content\":\"a\xff\xfe b\xc0\xaf "
		"c\xed\xa0\x80 d\xc3\xa9\"},\"finish_reason\":\"stop\"}]}";
	static const char want[] =
		"a\xef\xbf\xbd\xef\xbf\xbd b\xef\xbf\xbd\xef\xbf\xbd "
		"c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd d\xc3\xa9";
	struct res r = {.provider = "qwen",
			.model = "m",
			.body = body,
			.status_code = 200,
			.attempts = 1,
			.latency_ms = 1};
	const cJSON *content;
	cJSON *v[4];
	size_t len;
	char *text;
	int n;

	add_job(f, 1, "bad-bytes", JOB_DONE);
	add_result(f, 1, &r);
	add_done(f, 2, "clean");
	assert_int_equal(export_to(f, f->out, NULL), 0);
	text = slurp(f->out, &len);
	assert_non_null(text);
	assert_true(utf8_valid(text, len, NULL));
	n = lines(text, v, 4);
	free(text);
	assert_int_equal(n, 2);
	content = obj(obj(cJSON_GetArrayItem(obj(obj(obj(v[0], "response"),
						   "body"),
					       "choices"),
					   0),
			  "message"),
		      "content");
	assert_true(cJSON_IsString(content));
	assert_string_equal(content->valuestring, want);
	assert_int_equal(
		cJSON_GetNumberValue(obj(obj(v[0], "nightshift"),
					 "utf8_replaced")),
		7);
	/* A clean reply carries no such field. */
	assert_null(cJSON_GetObjectItemCaseSensitive(obj(v[1], "nightshift"),
						     "utf8_replaced"));
	free_lines(v, n);
}

/* Issue 17: two exports to one file at once shared PATH.tmp; the second
 * truncated what the first was writing, the first's rename then failed,
 * and the file was left full of NUL bytes. Each now has its own
 * temporary: both succeed and the file is one of them, whole. */
static void concurrent_exports_to_one_file_do_not_mix(void **state)
{
	struct fx *f = *state;
	struct export_out *a = NULL, *b = NULL;
	char err[600], big[4096], *text;
	size_t len;

	memset(big, 'a', sizeof(big));
	assert_int_equal(export_out_open(f->out, &a, err, sizeof(err)), 0);
	assert_int_equal(export_out_open(f->out, &b, err, sizeof(err)), 0);
	assert_non_null(export_out_tmp(a));
	assert_non_null(export_out_tmp(b));
	assert_string_not_equal(export_out_tmp(a), export_out_tmp(b));
	for (int i = 0; i < 200; i++)
		assert_int_equal(export_out_write(a, big, sizeof(big)), 0);
	assert_int_equal(export_out_write(b, "b\n", 2), 0);
	assert_int_equal(export_out_commit(b), 0);
	assert_int_equal(export_out_commit(a), 0);
	export_out_free(&a);
	export_out_free(&b);
	text = slurp(f->out, &len);
	assert_non_null(text);
	assert_int_equal(len, 200 * sizeof(big));
	assert_null(memchr(text, '\0', len));
	free(text);
	assert_int_equal(temporaries(f), 0);

	/* An abandoned one leaves nothing behind. */
	assert_int_equal(export_out_open(f->out, &a, err, sizeof(err)), 0);
	assert_int_equal(export_out_write(a, "x\n", 2), 0);
	assert_int_equal(temporaries(f), 1);
	export_out_free(&a);
	assert_int_equal(temporaries(f), 0);
}

static void write_error_on_stdout_exits_1(void **state)
{
	struct fx *f = *state;
	int full = open("/dev/full", O_WRONLY), saved;
	int rc;

	if (full < 0)
		skip();
	add_done(f, 1, "doc-1");
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(full, STDOUT_FILENO) >= 0);
	rc = export_to(f, "-", NULL);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
	close(full);
	assert_int_equal(rc, 1);
}

static void unwritable_output_exits_1(void **state)
{
	struct fx *f = *state;
	char path[160];

	add_done(f, 1, "doc-1");
	snprintf(path, sizeof(path), "%s/no/such/dir/out.jsonl", f->dir);
	assert_int_equal(export_to(f, path, NULL), 1);
	assert_int_not_equal(access(path, F_OK), 0);
}

static void usage_errors_exit_2(void **state)
{
	struct fx *f = *state;
	char nodb[128];
	char *both[] = {"export", "--db", f->db, "--failed", "--succeeded"};
	char *bogus[] = {"export", "--bogus"};
	char *extra[] = {"export", "--db", f->db, "stray"};
	char *noarg[] = {"export", "--db", f->db, "-o"};
	char *missing[] = {"export", "--db", nodb};

	snprintf(nodb, sizeof(nodb), "%s/none.db", f->dir);
	assert_int_equal(cmd_export(NARGS(both), both), 2);
	assert_int_equal(cmd_export(NARGS(bogus), bogus), 2);
	assert_int_equal(cmd_export(NARGS(extra), extra), 2);
	assert_int_equal(cmd_export(NARGS(noarg), noarg), 2);
	assert_int_equal(cmd_export(NARGS(missing), missing), 2);
	assert_int_not_equal(access(nodb, F_OK), 0);
}

static void empty_queue_exports_an_empty_file(void **state)
{
	struct fx *f = *state;
	size_t len = 99;
	char *text;

	add_job(f, 1, "queued", JOB_QUEUED);
	assert_int_equal(export_to(f, f->out, NULL), 0);
	text = slurp(f->out, &len);
	assert_non_null(text);
	assert_int_equal(len, 0);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(done_job_line_has_every_field),
		T(dead_job_line_has_error_and_null_response),
		T(odd_strings_are_escaped),
		T(zst_output_round_trips),
		T(filters_pick_done_dead_or_both_in_id_order),
		T(output_file_is_private_and_replaced_whole),
		T(damaged_body_fails_and_keeps_the_previous_file),
		T(concurrent_exports_to_one_file_do_not_mix),
		T(invalid_utf8_in_a_reply_is_replaced_and_counted),
		T(write_error_on_stdout_exits_1),
		T(unwritable_output_exits_1),
		T(usage_errors_exit_2),
		T(empty_queue_exports_an_empty_file),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
