/* test_queue.c — opening and migrating the database, idempotent ingest,
 * conflicts, atomic (--strict) batches, dictionaries, jobs prepared on
 * other threads and a full disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue/blob.h"
#include "queue/claim.h"
#include "queue/complete.h"
#include "queue/ingest.h"
#include "queue/jobs.h"
#include "queue/ledger.h"
#include "queue/queue.h"
#include "queue/queue_int.h"
#include "queue/retry.h"
#include "queue/run.h"
#include "queue/stats.h"
#include "runner/ingest/jobline.h"

struct fx {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/nightshift-q-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/q.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* raw_exec: run SQL on the file directly, as another program would. */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* frames_without_dict: how many of the blobs sql selects name no
 * dictionary (there must be some blobs). */
static long long frames_without_dict_in(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n = 0, rows = 0;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		n += blob_frame_dict_id(sqlite3_column_blob(st, 0),
					(size_t)sqlite3_column_bytes(st, 0)) ==
		     0;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(rows > 0);
	return n;
}

static long long frames_without_dict(const char *path)
{
	return frames_without_dict_in(path, "SELECT request FROM jobs");
}

static struct ingest_job job(const char *id, const char *body)
{
	return (struct ingest_job){.custom_id = id,
				   .body = body,
				   .body_len = strlen(body),
				   .max_cost_usd = -1,
				   .est_input_tokens = 10};
}

/* queued: the queue at path, created, with jobs id0..id(n-1) (or the n
 * ids given) of one small body. */
static struct queue *queued(const char *path, const char *const *ids,
			    int n)
{
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	char id[16];

	assert_int_equal(queue_open(path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	for (int i = 0; i < n; i++) {
		struct ingest_job j;

		snprintf(id, sizeof(id), "j%d", i);
		j = job(ids ? ids[i] : id, "{\"model\":\"m\"}");
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
	}
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	return q;
}

static void open_creates_private_file_at_current_version(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct stat sb;

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	queue_close(&q);
	assert_null(q);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"),
			 queue_schema_version());
	assert_int_equal(raw_int(f->path, "SELECT journal_mode = 'wal' FROM "
					  "pragma_journal_mode"),
			 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_schema "
					  "WHERE name IN ('jobs','results',"
					  "'attempts','dicts')"),
			 4);
}

static void open_without_create_reports_missing_file(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	char err[200];

	assert_int_equal(queue_open(f->path, 0, &q, err, sizeof(err)),
			 QUEUE_ENOENT);
	assert_null(q);
	assert_non_null(strstr(err, f->path));
	assert_int_not_equal(access(f->path, F_OK), 0);
}

static void open_refuses_non_sqlite_file(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	char err[200];
	FILE *fp = fopen(f->path, "w");

	fputs("this is a text file, not a database, and long enough to have "
	      "a header page of its own........................................"
	      ".................................................\n",
	      fp);
	fclose(fp);
	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, err,
				    sizeof(err)),
			 QUEUE_ENOTDB);
	assert_non_null(strstr(err, "not a nightshift database"));
}

static void open_refuses_foreign_sqlite_database(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	char err[200];

	raw_exec(f->path, "CREATE TABLE mine (x); INSERT INTO mine VALUES (1)");
	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, err,
				    sizeof(err)),
			 QUEUE_ENOTDB);
	/* untouched */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM mine"), 1);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 0);
}

static void open_refuses_newer_schema(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	char err[200], sql[64];

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	queue_close(&q);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 queue_schema_version() + 1);
	raw_exec(f->path, sql);
	assert_int_equal(queue_open(f->path, 0, &q, err, sizeof(err)),
			 QUEUE_EVERSION);
	assert_non_null(strstr(err, "upgrade nightshift"));
}

/* An older file is migrated step by step and keeps its rows: build a file
 * at each earlier version from the embedded steps, add a job, reopen. */
static void open_migrates_older_schema_keeping_jobs(void **state)
{
	struct fx *f = *state;

	for (int from = 1; from <= queue_schema_version(); from++) {
		struct queue *q;
		char sql[128];

		unlink(f->path);
		for (int v = 0; v < from; v++)
			raw_exec(f->path, schema_sql[v]);
		snprintf(sql, sizeof(sql),
			 "PRAGMA user_version = %d; PRAGMA application_id = "
			 "0x4E534654",
			 from);
		raw_exec(f->path, sql);
		raw_exec(f->path,
			 "INSERT INTO jobs (custom_id, body_hash, request, "
			 "est_input_tokens, max_output_tokens, created_at, "
			 "updated_at) VALUES ('old', 1, "
			 "x'00', 1, 0, 0, 0)");
		/* two requests in the ledger: 0.25 + 0.5, exact in binary */
		raw_exec(f->path,
			 "INSERT INTO attempts (job_id, run_id, provider, "
			 "model, sent_at, error_class, latency_ms, cost_usd) "
			 "SELECT id, 'r', 'p', 'm', 1, 'ok', 1, c FROM jobs, "
			 "(SELECT 0.25 AS c UNION ALL SELECT 0.5) WHERE "
			 "custom_id = 'old'");
		assert_int_equal(queue_open(f->path, 0, &q, NULL, 0), QUEUE_OK);
		assert_int_equal(raw_int(f->path, "PRAGMA user_version"),
				 queue_schema_version());
		assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs "
						  "WHERE custom_id = 'old'"),
				 1);
		/* 004: the job's spend comes from its ledger rows */
		if (from < 4)
			assert_int_equal(raw_int(f->path,
						 "SELECT spent_usd * 4 FROM "
						 "jobs WHERE custom_id = "
						 "'old'"),
					 3);
		assert_int_equal(raw_int(f->path,
					 "SELECT count(*) FROM sqlite_schema "
					 "WHERE name = 'attempts_job'"),
				 0);
		queue_close(&q);
	}
}

static void reingest_is_idempotent_and_conflicts_keep_queued_job(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	struct ingest_job a = job("a", "{\"m\":1}"), b = job("b", "{\"m\":2}");
	struct ingest_job a2 = job("a", "{\"m\":999}");
	struct ingest_job a3 = a;
	char *body;
	size_t len;

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_ADDED);
	assert_int_equal(ingest_add(in, &b, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_ADDED);
	/* the same line again in the same file */
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);

	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_add(in, &a2, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	/* a changed option is a different job too */
	a3.priority = 5;
	assert_int_equal(ingest_add(in, &a3, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);

	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 2);
	assert_int_equal(queue_job_body(q, "a", &body, &len), QUEUE_OK);
	assert_string_equal(body, "{\"m\":1}");
	free(body);
	assert_int_equal(queue_job_body(q, "zz", &body, &len), QUEUE_ENOENT);
	queue_close(&q);
}

static void atomic_ingest_abort_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	char id[32];

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 1, &in), QUEUE_OK);
	for (int i = 0; i < 3000; i++) {
		struct ingest_job j = job(id, "{\"messages\":[1,2,3]}");

		snprintf(id, sizeof(id), "job-%d", i);
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
	}
	ingest_abort(&in);
	assert_null(in);
	queue_close(&q);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dicts"), 0);
}

/* The first rows train a dictionary; rows before and after it decode, and
 * a later ingest reuses it instead of training another. */
static void dictionary_is_trained_once_and_every_row_decodes(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	char id[32], body[400], *got;
	size_t len;

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
		for (int i = 0; i < BLOB_TRAIN_ROWS + 500; i++) {
			struct ingest_job j;

			snprintf(id, sizeof(id), "r%d-%d", round, i);
			snprintf(body, sizeof(body),
				 "{\"model\":\"cheap\",\"messages\":[{\"role\":"
				 "\"user\",\"content\":\"Summarize report %d "
				 "of region %d, quarter %d, about %s.\"}]}",
				 i * 7919 % 10007, i % 13, i % 4,
				 i % 3 ? "sales" : "hiring");
			j = job(id, body);
			assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
			assert_int_equal(v, INGEST_ADDED);
		}
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
	}
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dicts"), 1);
	/* every frame names the dictionary: the first rows were rewritten */
	assert_int_equal(frames_without_dict(f->path), 0);
	for (int i = 0; i < BLOB_TRAIN_ROWS + 500; i += 97) {
		snprintf(id, sizeof(id), "r0-%d", i);
		snprintf(body, sizeof(body),
			 "{\"model\":\"cheap\",\"messages\":[{\"role\":"
			 "\"user\",\"content\":\"Summarize report %d "
			 "of region %d, quarter %d, about %s.\"}]}",
			 i * 7919 % 10007, i % 13, i % 4,
			 i % 3 ? "sales" : "hiring");
		assert_int_equal(queue_job_body(q, id, &got, &len), QUEUE_OK);
		assert_string_equal(got, body);
		free(got);
	}
	queue_close(&q);
	/* a fresh connection finds the dictionary in the file */
	assert_int_equal(queue_open(f->path, 0, &q, NULL, 0), QUEUE_OK);
	assert_int_equal(queue_job_body(q, "r1-7", &got, &len), QUEUE_OK);
	free(got);
	queue_close(&q);
}

/* ingest_job from a parsed line; j stays owned by the caller. */
static struct ingest_job from_line(const struct jobline *j)
{
	return (struct ingest_job){.custom_id = j->custom_id,
				   .body = j->body,
				   .body_len = j->body_len,
				   .priority = j->priority,
				   .providers = j->providers,
				   .max_cost_usd = j->max_cost_usd,
				   .est_input_tokens = j->est_input_tokens,
				   .max_output_tokens = j->max_output_tokens};
}

/* The same job pretty-printed is already queued, not a conflict: the
 * identity is the body without the spacing outside its strings. */
static void pretty_and_compact_spellings_are_one_job(void **state)
{
	static const char *const lines[] = {
		"{\"custom_id\":\"p\",\"providers\":[\"qwen\"],\"body\":{"
		"\"model\":\"cheap\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"Summarize:  a, b\"}],\"max_tokens\":50}}",
		"{ \"custom_id\": \"p\",  \"providers\": [ \"qwen\" ],"
		"\t\"body\": { \"model\": \"cheap\", \"messages\": [ "
		"{ \"role\": \"user\", \"content\": \"Summarize:  a, b\" }"
		" ], \"max_tokens\": 50 }\r\n}",
		/* spacing inside a string is content */
		"{\"custom_id\":\"p\",\"providers\":[\"qwen\"],\"body\":{"
		"\"model\":\"cheap\",\"messages\":[{\"role\":\"user\","
		"\"content\":\"Summarize: a, b\"}],\"max_tokens\":50}}",
	};
	static const enum ingest_verdict want[] = {
		INGEST_ADDED, INGEST_DUPLICATE, INGEST_CONFLICT};
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	char err[200];

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	for (size_t i = 0; i < 3; i++) {
		struct jobline j;
		struct ingest_job ij;
		enum ingest_verdict v;

		assert_int_equal(jobline_parse(lines[i], strlen(lines[i]), &j,
					       err, sizeof(err)),
				 0);
		ij = from_line(&j);
		assert_int_equal(ingest_add(in, &ij, &v), QUEUE_OK);
		assert_int_equal(v, want[i]);
		jobline_clear(&j);
	}
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	queue_close(&q);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 1);
}

/* A stored hash that does not match (rows from a build that hashed
 * differently) is not taken for a conflict: the stored job is compared. */
static void differing_hash_falls_back_to_content(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	struct ingest_job a = job("a", "{\"m\":1}"), b = job("b", "{\"m\":2}");
	struct ingest_job a_body = job("a", "{\"m\":3}"), a_opt = a, b_cost = b;

	a.providers = "[\"qwen\"]";
	a_body.providers = a.providers;
	a_opt.providers = "[\"mistral\"]";
	b.max_cost_usd = 0.5;
	b_cost.max_cost_usd = 0.25;
	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(ingest_add(in, &b, &v), QUEUE_OK);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	raw_exec(f->path, "UPDATE jobs SET body_hash = body_hash + 1");

	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &a, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_add(in, &b, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_add(in, &a_body, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_add(in, &a_opt, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_add(in, &b_cost, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	queue_close(&q);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 2);
}

/* Older builds stored the body as cJSON re-printed it: "0" for 0.0. With
 * a JSON comparison the line as written is the same job; without, only
 * the bytes count. */
static void legacy_spelling_is_the_same_job_given_a_comparison(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	struct ingest_job old = job("t", "{\"model\":\"m\",\"temperature\":0}");
	struct ingest_job now =
		job("t", "{\"model\":\"m\",\"temperature\":0.0}");
	struct ingest_job changed =
		job("t", "{\"model\":\"m\",\"temperature\":0.5}");

	old.providers = "[\"qwen\"]";
	now.providers = "[ \"qw\\u0065n\" ]";
	changed.providers = old.providers;
	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_int_equal(ingest_add(in, &old, &v), QUEUE_OK);
	assert_int_equal(ingest_add(in, &now, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	ingest_set_same_json(in, jobline_same_json);
	assert_int_equal(ingest_add(in, &now, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_DUPLICATE);
	assert_int_equal(ingest_add(in, &changed, &v), QUEUE_OK);
	assert_int_equal(v, INGEST_CONFLICT);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	queue_close(&q);
}

static void varied_body(char *buf, size_t cap, int i)
{
	snprintf(buf, cap,
		 "{\"model\":\"cheap\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"Summarize report %d of region %d, quarter %d, "
		 "about %s.\"}]}",
		 i * 7919 % 10007, i % 13, i % 4, i % 3 ? "sales" : "hiring");
}

/* Jobs hashed and compressed ahead (on other threads) are stored as
 * prepared when made with the dictionary the queue wants, and compressed
 * again when not; the hash is the same either way. */
static void prepared_jobs_follow_the_current_dictionary(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	struct blob_codec *c = blob_codec_new();
	enum ingest_verdict v;
	const struct blob_dict *d;
	char id[32], body[400], sql[128];

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	/* no dictionary yet: rows are sampled, encoders must use none */
	assert_null(ingest_body_dict(in));
	for (int i = 0; i < BLOB_TRAIN_ROWS + 10; i++) {
		struct ingest_job j;

		snprintf(id, sizeof(id), "t-%d", i);
		varied_body(body, sizeof(body), i);
		j = job(id, body);
		assert_int_equal(ingest_encode(c, NULL, &j), QUEUE_OK);
		assert_null(j.blob_dict);
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
		assert_int_equal(v, INGEST_ADDED);
	}
	/* the sample trained one: the last rows, prepared without it, were
	 * compressed again */
	d = ingest_body_dict(in);
	assert_non_null(d);
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	assert_int_equal(frames_without_dict(f->path), 0);

	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	assert_ptr_equal(ingest_body_dict(in), d);
	for (int i = 0; i < 2; i++) {
		struct ingest_job j;
		size_t zlen;

		snprintf(id, sizeof(id), "u-%d", i);
		varied_body(body, sizeof(body), 5000 + i);
		j = job(id, body);
		assert_int_equal(ingest_encode(c, i ? d : NULL, &j), QUEUE_OK);
		zlen = j.blob_len;
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
		assert_int_equal(v, INGEST_ADDED);
		snprintf(sql, sizeof(sql),
			 "SELECT body_hash = %lld AND (length(request) = %zu) "
			 "= %d FROM jobs WHERE custom_id = '%s'",
			 (long long)j.hash, zlen, i, id);
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
		assert_int_equal(raw_int(f->path, sql), 1);
		assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
		/* the same job unprepared: same hash, so a duplicate */
		j = job(id, body);
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
		assert_int_equal(v, INGEST_DUPLICATE);
	}
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	assert_int_equal(frames_without_dict(f->path), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dicts"), 1);
	blob_codec_free(&c);
	queue_close(&q);
}

/* A list of jobs with every kind of verdict, some within reach of one
 * statement: new, already queued, changed, and the same custom_id twice
 * in a row with the same or another body. */
#define MIXED (BLOB_TRAIN_ROWS + 400)

static void mixed_job(int i, char *id, size_t idcap, char *body,
		      size_t bodycap)
{
	int k = i, b = i;

	if (i >= BLOB_TRAIN_ROWS + 100) {
		switch (i % 7) {
		case 0: /* an early job again */
			k = b = i - 2000;
			break;
		case 2: /* the line before again */
			k = b = i - 1;
			break;
		case 3: /* the line two before, changed */
			k = i - 2;
			b = i + 100000;
			break;
		case 5: /* the line before, changed */
			k = i - 1;
			b = i + 100000;
			break;
		case 6: /* an early job, changed */
			k = i - 200;
			b = i + 100000;
			break;
		}
	}
	snprintf(id, idcap, "m-%d", k);
	varied_body(body, bodycap, b);
}

/* ingest_add_batch gives each job the verdict ingest_add would, and leaves
 * the same rows, the first time and on a re-ingest. */
static void batch_verdicts_match_one_at_a_time(void **state)
{
	struct fx *f = *state;
	static char ids[MIXED][32], bodies[MIXED][400];
	static struct ingest_job jobs[MIXED];
	static const struct ingest_job *ptrs[MIXED];
	static enum ingest_verdict one[MIXED], many[MIXED];
	static const size_t cuts[] = {1, 300, 33, 31, 32, 64, 1000, 7, 256};
	char other[128], sql[64];
	int counts[3] = {0};

	snprintf(other, sizeof(other), "%s/other.db", f->dir);
	for (int i = 0; i < MIXED; i++) {
		mixed_job(i, ids[i], sizeof(ids[i]), bodies[i],
			  sizeof(bodies[i]));
		jobs[i] = job(ids[i], bodies[i]);
		ptrs[i] = &jobs[i];
	}
	for (int round = 0; round < 2; round++) {
		struct queue *q1, *q2;
		struct ingest *in;
		size_t at = 0, failed;

		assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q1,
					    NULL, 0),
				 QUEUE_OK);
		assert_int_equal(queue_open(other, QUEUE_OPEN_CREATE, &q2,
					    NULL, 0),
				 QUEUE_OK);
		assert_int_equal(ingest_begin(q1, 0, &in), QUEUE_OK);
		for (int i = 0; i < MIXED; i++)
			assert_int_equal(ingest_add(in, &jobs[i], &one[i]),
					 QUEUE_OK);
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
		assert_int_equal(ingest_begin(q2, 0, &in), QUEUE_OK);
		for (size_t c = 0; at < MIXED; c++) {
			size_t n = cuts[c % 9] < MIXED - at ? cuts[c % 9]
							    : MIXED - at;

			assert_int_equal(ingest_add_batch(in, ptrs + at, n,
							  many + at, &failed),
					 QUEUE_OK);
			assert_int_equal(failed, n);
			at += n;
		}
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
		for (int i = 0; i < MIXED; i++) {
			if (one[i] != many[i])
				fail_msg("round %d, job %d (%s): %d one at a "
					 "time, %d in a batch",
					 round, i, ids[i], one[i], many[i]);
			counts[one[i]]++;
		}
		queue_close(&q1);
		queue_close(&q2);
	}
	/* every kind of verdict was exercised */
	assert_true(counts[INGEST_ADDED] > BLOB_TRAIN_ROWS);
	assert_true(counts[INGEST_DUPLICATE] > 100);
	assert_true(counts[INGEST_CONFLICT] > 50);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs");
	assert_int_equal(raw_int(f->path, sql), raw_int(other, sql));
	snprintf(sql, sizeof(sql),
		 "SELECT sum(body_hash %% 1000003 + id) FROM jobs");
	assert_int_equal(raw_int(f->path, sql), raw_int(other, sql));
	assert_int_equal(frames_without_dict(other), 0);
}

/* SQLite reports a full disk as SQLITE_FULL whether the file system or
 * max_page_count is the limit; the queue must say "disk full", keep what
 * was committed and stay usable. */
static void full_disk_is_reported_and_committed_rows_survive(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	struct stats s;
	char id[32], body[2048];
	int rc = QUEUE_OK, i;
	long long committed;

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	for (i = 0; i < 100; i++) {
		struct ingest_job j = job(id, "{\"a\":1}");

		snprintf(id, sizeof(id), "first-%d", i);
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
	}
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	committed = raw_int(f->path, "SELECT count(*) FROM jobs");
	assert_int_equal(committed, 100);
	assert_int_equal(sqlite3_exec(q->db, "PRAGMA max_page_count = 40",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	for (i = 0; i < 5000 && rc == QUEUE_OK; i++) {
		struct ingest_job j;

		snprintf(id, sizeof(id), "more-%d", i);
		for (size_t k = 0; k < sizeof(body) - 1; k++)
			body[k] = (char)('a' + (k * 31 + (size_t)i * 17) % 26);
		body[sizeof(body) - 1] = '\0';
		j = job(id, body);
		rc = ingest_add(in, &j, &v);
	}
	assert_int_equal(rc, QUEUE_EFULL);
	assert_non_null(strstr(queue_errmsg(q), "disk full"));
	ingest_abort(&in);
	assert_int_equal(stats_read(q, &s), QUEUE_OK);
	assert_int_equal(s.total, 100);
	queue_close(&q);
	assert_int_equal(raw_int(f->path, "SELECT integrity_check = 'ok' FROM "
					  "pragma_integrity_check"),
			 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 100);
}

/* The end of every run asks how many jobs are dead. */
static void dead_jobs_are_counted(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 10);
	struct qrun *r;
	long long dead = -1;

	assert_int_equal(qrun_open(q, "host:1:run", &r), QUEUE_OK);
	assert_int_equal(stats_dead(r, &dead), QUEUE_OK);
	assert_int_equal(dead, 0);
	raw_exec(f->path, "UPDATE jobs SET state = 3 WHERE id % 3 = 0; "
			  "UPDATE jobs SET state = 2 WHERE id % 3 = 1");
	assert_int_equal(stats_dead(r, &dead), QUEUE_OK);
	assert_int_equal(dead, 3);
	qrun_close(&r);
	queue_close(&q);
	/* that the count reads jobs_dead: test_jobstate.c */
}

/* A claim hands the stored frame to whichever thread sends the job, which
 * decodes it with its own codec; a frame naming a dictionary the file no
 * longer has stops the claim with a message, not a wrong body. */
static void claimed_frames_decode_anywhere_or_say_why_not(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	struct qrun *r;
	struct claim_job jobs[8];
	struct blob_codec *c = blob_codec_new();
	enum ingest_verdict v;
	char id[32], body[200];
	int n = -1;

	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
	for (int i = 0; i < BLOB_TRAIN_ROWS + 10; i++) {
		struct ingest_job j;

		snprintf(id, sizeof(id), "c%05d", i);
		snprintf(body, sizeof(body),
			 "{\"model\":\"cheap\",\"messages\":[{\"role\":"
			 "\"user\",\"content\":\"Report %d, region %d.\"}]}",
			 i * 7919 % 10007, i % 13);
		j = job(id, body);
		assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
	}
	assert_int_equal(ingest_commit(&in), QUEUE_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dicts"), 1);
	assert_int_equal(qrun_open(q, "host:1:run", &r), QUEUE_OK);
	assert_int_equal(qrun_begin(r), QUEUE_OK);
	assert_int_equal(claim_jobs(r, 1, 2, 8, jobs, &n), QUEUE_OK);
	assert_int_equal(n, 8);
	assert_int_equal(qrun_commit(r), QUEUE_OK);
	for (int i = 0; i < n; i++) {
		int k = atoi(jobs[i].custom_id + 1);

		assert_null(jobs[i].body);
		assert_non_null(jobs[i].dict);
		assert_int_equal(claim_job_decode(&jobs[i], c), 0);
		snprintf(body, sizeof(body),
			 "{\"model\":\"cheap\",\"messages\":[{\"role\":"
			 "\"user\",\"content\":\"Report %d, region %d.\"}]}",
			 k * 7919 % 10007, k % 13);
		assert_string_equal(jobs[i].body, body);
		assert_int_equal(jobs[i].body_len, strlen(body));
		claim_job_clear(&jobs[i]);
	}
	qrun_close(&r);
	queue_close(&q);
	raw_exec(f->path, "DELETE FROM dicts");
	assert_int_equal(queue_open(f->path, 0, &q, NULL, 0), QUEUE_OK);
	assert_int_equal(qrun_open(q, "host:1:run2", &r), QUEUE_OK);
	assert_int_equal(qrun_begin(r), QUEUE_OK);
	assert_int_equal(claim_jobs(r, 1, 2, 8, jobs, &n), QUEUE_EINVAL);
	assert_int_equal(n, 0);
	assert_non_null(strstr(queue_errmsg(q), "dictionary is missing"));
	qrun_rollback(r);
	qrun_close(&r);
	queue_close(&q);
	blob_codec_free(&c);
}

/* sent: one request for claimed job j, costing usd, in the ledger. */
static void sent(struct qrun *r, const struct claim_job *j, double usd)
{
	struct ledger_attempt a = {.job_id = j->id,
				   .provider = "p",
				   .model = "m",
				   .sent_at_ms = 1,
				   .http_status = 200,
				   .error_class = "ok",
				   .cost_usd = usd,
				   .action = "done"};

	assert_int_equal(ledger_add(r, &a), QUEUE_OK);
}

/* ended: the fate of claimed job j after one request costing usd, with
 * what the claim read, as the store hands it over (a retry goes back
 * with no candidate chosen, as after a failover). */
static void ended(struct qrun *r, const struct claim_job *j,
		  enum complete_verb verb, double usd)
{
	struct complete_fate f = {.job_id = j->id,
				  .verb = verb,
				  .attempts_add = 1,
				  .provider = "p",
				  .model = "m",
				  .status_code = 200,
				  .body = "{\"ok\":1}",
				  .body_len = 8,
				  .error_code =
				      verb == COMPLETE_DEAD ? "x" : NULL,
				  .claimed_attempts = j->attempts,
				  .claimed_usd = j->spent_usd,
				  .candidate = -1,
				  .add_usd = usd};

	assert_int_equal(complete_job(r, &f), QUEUE_OK);
}

static const struct claim_job *named(const struct claim_job *jobs, int n,
				     const char *id)
{
	for (int i = 0; i < n; i++)
		if (strcmp(jobs[i].custom_id, id) == 0)
			return &jobs[i];
	fail_msg("job %s not claimed", id);
	return NULL;
}

/* A result's attempts and cost count every request the job made: those
 * before a `retry`, those of an earlier run, and those another run made
 * after our lease lapsed (then the row and ledger are read back). Each
 * job's spent_usd stays its ledger's sum, even for a request that comes
 * back after the job passed to another run (d) or was finished by it (e).
 */
static void result_cost_counts_every_request(void **state)
{
	static const char *const ids[] = {"a", "b", "c", "d", "e"};
	struct fx *f = *state;
	struct queue *q = queued(f->path, ids, 5);
	struct qrun *r1, *r2;
	struct claim_job one[8], two[8];
	int n1 = -1, n2 = -1;
	int64_t requeued = 0;

	/* Run 1: a dies, b is retried, c, d and e are still in flight. */
	assert_int_equal(qrun_open(q, "host:1:one", &r1), QUEUE_OK);
	assert_int_equal(qrun_begin(r1), QUEUE_OK);
	assert_int_equal(claim_jobs(r1, 1, 1000000, 8, one, &n1), QUEUE_OK);
	assert_int_equal(n1, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(one[i].attempts, 0);
		assert_true(one[i].spent_usd == 0.0);
	}
	sent(r1, named(one, n1, "a"), 0.25);
	ended(r1, named(one, n1, "a"), COMPLETE_DEAD, 0.25);
	sent(r1, named(one, n1, "b"), 0.25);
	ended(r1, named(one, n1, "b"), COMPLETE_RETRY, 0.25);
	assert_int_equal(qrun_commit(r1), QUEUE_OK);
	assert_int_equal(retry_dead(q, NULL, 0, NULL, &requeued), QUEUE_OK);
	assert_int_equal(requeued, 1);
	/* The leases of c, d and e lapse; another run takes them and sends
	 * a request for each; it finishes e. */
	raw_exec(f->path,
		 "UPDATE jobs SET lease_owner = 'host:2:other', attempts = 1, "
		 "spent_usd = spent_usd + 1.0 WHERE custom_id IN ('c', 'd', "
		 "'e'); UPDATE jobs SET state = 2, lease_owner = NULL WHERE "
		 "custom_id = 'e'; INSERT INTO attempts (job_id, run_id, "
		 "provider, model, sent_at, error_class, latency_ms, cost_usd) "
		 "SELECT id, 'host:2:other', 'p', 'm', 1, 'ok', 1, 1.0 FROM "
		 "jobs WHERE custom_id IN ('c', 'd', 'e')");

	/* Run 2 takes a and b back; run 1's request for c comes back late. */
	assert_int_equal(qrun_open(q, "host:1:two", &r2), QUEUE_OK);
	assert_int_equal(qrun_begin(r2), QUEUE_OK);
	assert_int_equal(claim_jobs(r2, 1, 1000000, 4, two, &n2), QUEUE_OK);
	assert_int_equal(n2, 2);
	assert_int_equal(named(two, n2, "a")->attempts, 0);
	assert_true(named(two, n2, "a")->spent_usd == 0.25);
	assert_int_equal(named(two, n2, "b")->attempts, 1);
	assert_true(named(two, n2, "b")->spent_usd == 0.25);
	for (int i = 0; i < n2; i++) {
		sent(r2, &two[i], 0.5);
		ended(r2, &two[i], COMPLETE_DONE, 0.5);
	}
	assert_int_equal(qrun_commit(r2), QUEUE_OK);
	assert_int_equal(qrun_begin(r1), QUEUE_OK);
	sent(r1, named(one, n1, "c"), 0.25);
	ended(r1, named(one, n1, "c"), COMPLETE_DONE, 0.25);
	sent(r1, named(one, n1, "d"), 0.25);
	ended(r1, named(one, n1, "d"), COMPLETE_RETRY, 0.25);
	sent(r1, named(one, n1, "e"), 0.25);
	ended(r1, named(one, n1, "e"), COMPLETE_DONE, 0.25);
	assert_int_equal(qrun_commit(r1), QUEUE_OK);

	/* attempts, then costs in quarters of a dollar (exact in binary),
	 * per job in custom_id order */
	assert_int_equal(raw_int(f->path,
				 "SELECT group_concat(v, ',') = "
				 "'a=1/3,b=2/3,c=2/5,e=1/5' FROM (SELECT "
				 "custom_id || '=' || r.attempts || '/' || "
				 "CAST(r.cost_usd * 4 AS INTEGER) AS v FROM "
				 "results r JOIN jobs ON id = job_id ORDER BY "
				 "custom_id)"),
			 1);
	assert_int_equal(raw_int(f->path,
				 "SELECT count(*) FROM results r WHERE "
				 "r.cost_usd != (SELECT total(cost_usd) FROM "
				 "attempts a WHERE a.job_id = r.job_id)"),
			 0);
	assert_int_equal(raw_int(f->path,
				 "SELECT group_concat(v, ',') = "
				 "'a=3,b=3,c=5,d=5,e=5' FROM (SELECT custom_id "
				 "|| '=' || CAST(spent_usd * 4 AS INTEGER) AS v "
				 "FROM jobs WHERE spent_usd = (SELECT "
				 "total(cost_usd) FROM attempts WHERE job_id = "
				 "jobs.id) ORDER BY custom_id)"),
			 1);
	for (int i = 0; i < n1; i++)
		claim_job_clear(&one[i]);
	for (int i = 0; i < n2; i++)
		claim_job_clear(&two[i]);
	qrun_close(&r2);
	qrun_close(&r1);
	queue_close(&q);
}

/* reply: a chat.completion for job k, varied enough to train on. */
static size_t reply(char *buf, size_t cap, int k)
{
	return (size_t)snprintf(
		buf, cap,
		"{\"id\":\"chatcmpl-%08x\",\"object\":\"chat.completion\","
		"\"choices\":[{\"index\":0,\"message\":{\"role\":"
		"\"assistant\",\"content\":\"Report %d of region %d: %s "
		"fell in quarter %d.\"},\"finish_reason\":\"stop\"}],"
		"\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":%d}}",
		(unsigned)k * 2654435761u, k * 7919 % 10007, k % 13,
		k % 3 ? "sales" : "hiring", k % 4, 100 + k % 57, 20 + k % 31);
}

/* Workers compress replies before the results' dictionary exists too,
 * sending the plain body along: the store samples those bodies, trains
 * the dictionary and rewrites the sample with it, and a frame still made
 * without it after that (a worker that had not seen it yet) is made
 * again. Every result ends up with the dictionary and decodes to its
 * reply. */
static void results_framed_before_the_dictionary_end_up_with_it(void **state)
{
	struct fx *f = *state;
	int total = BLOB_TRAIN_ROWS + 300, done = 0, late = 0;
	struct queue *q = queued(f->path, NULL, total);
	struct blob_codec *c = blob_codec_new();
	const struct blob_dict *d = NULL;
	struct qrun *r;
	sqlite3 *db;
	sqlite3_stmt *st;
	char body[400];

	assert_int_equal(qrun_open(q, "host:1:run", &r), QUEUE_OK);
	assert_null(complete_result_dict(r));
	while (done < total) {
		struct claim_job jobs[64];
		int n = -1;

		assert_int_equal(qrun_begin(r), QUEUE_OK);
		assert_int_equal(claim_jobs(r, 1, 1000000, 64, jobs, &n),
				 QUEUE_OK);
		assert_true(n > 0);
		for (int i = 0; i < n; i++) {
			int k = atoi(jobs[i].custom_id + 1);
			size_t len = reply(body, sizeof(body), k), zlen;
			const void *z;
			void *frame;
			struct complete_fate rf = {.job_id = jobs[i].id,
						   .verb = COMPLETE_DONE,
						   .attempts_add = 1,
						   .provider = "p",
						   .model = "m",
						   .status_code = 200};

			/* as a worker does: with the dictionary once it
			 * sees one (every other job sees it late) */
			d = complete_result_dict(r);
			if (d && k % 2)
				d = NULL;
			late += d == NULL && complete_result_dict(r) != NULL;
			assert_int_equal(blob_compress(c, d, body, len, &z,
						       &zlen),
					 0);
			frame = malloc(zlen);
			memcpy(frame, z, zlen);
			rf.zbody = frame;
			rf.zbody_len = zlen;
			if (!d) {
				rf.body = body;
				rf.body_len = len;
			}
			assert_int_equal(complete_job(r, &rf), QUEUE_OK);
			free(frame);
			claim_job_clear(&jobs[i]);
		}
		assert_int_equal(qrun_commit(r), QUEUE_OK);
		done += n;
	}
	d = complete_result_dict(r);
	assert_non_null(d);
	assert_true(late > 50);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM dicts WHERE "
					  "kind = 'result'"),
			 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM results"),
			 total);
	assert_int_equal(
		frames_without_dict_in(f->path, "SELECT body FROM results"), 0);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT custom_id, body FROM "
					    "results JOIN jobs ON id = job_id",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		size_t len = reply(body, sizeof(body), atoi(id + 1)), got;
		const void *out;

		assert_int_equal(
			blob_decompress(c, d, sqlite3_column_blob(st, 1),
					(size_t)sqlite3_column_bytes(st, 1),
					&out, &got),
			0);
		assert_int_equal(got, len);
		assert_memory_equal(out, body, len);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	qrun_close(&r);
	queue_close(&q);
	blob_codec_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(open_creates_private_file_at_current_version),
		T(open_without_create_reports_missing_file),
		T(open_refuses_non_sqlite_file),
		T(open_refuses_foreign_sqlite_database),
		T(open_refuses_newer_schema),
		T(open_migrates_older_schema_keeping_jobs),
		T(reingest_is_idempotent_and_conflicts_keep_queued_job),
		T(atomic_ingest_abort_leaves_nothing),
		T(dictionary_is_trained_once_and_every_row_decodes),
		T(full_disk_is_reported_and_committed_rows_survive),
		T(pretty_and_compact_spellings_are_one_job),
		T(differing_hash_falls_back_to_content),
		T(legacy_spelling_is_the_same_job_given_a_comparison),
		T(prepared_jobs_follow_the_current_dictionary),
		T(batch_verdicts_match_one_at_a_time),
		T(dead_jobs_are_counted),
		T(claimed_frames_decode_anywhere_or_say_why_not),
		T(result_cost_counts_every_request),
		T(results_framed_before_the_dictionary_end_up_with_it),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
