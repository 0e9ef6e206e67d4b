/* test_queue.c — opening and migrating the database, idempotent ingest,
 * conflicts, atomic (--strict) batches, dictionaries and a full disk. */
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

#include "queue/ingest.h"
#include "queue/jobs.h"
#include "queue/queue.h"
#include "queue/queue_int.h"
#include "queue/stats.h"

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

static long long frames_without_dict(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n = 0, rows = 0;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT request FROM jobs", -1,
					    &st, NULL),
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

static struct ingest_job job(const char *id, const char *body)
{
	return (struct ingest_job){.custom_id = id,
				   .body = body,
				   .body_len = strlen(body),
				   .max_cost_usd = -1,
				   .est_input_tokens = 10};
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
		assert_int_equal(queue_open(f->path, 0, &q, NULL, 0), QUEUE_OK);
		assert_int_equal(raw_int(f->path, "PRAGMA user_version"),
				 queue_schema_version());
		assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs "
						  "WHERE custom_id = 'old'"),
				 1);
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

/* SQLite reports a full disk as SQLITE_FULL whether the file system or
 * max_page_count is the limit; the queue must say "disk full", keep what
 * was committed and stay usable. */
static void full_disk_is_reported_and_committed_rows_survive(void **state)
{
	struct fx *f = *state;
	struct queue *q;
	struct ingest *in;
	enum ingest_verdict v;
	struct queue_stats s;
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
	assert_int_equal(queue_stats(q, &s), QUEUE_OK);
	assert_int_equal(s.total, 100);
	queue_close(&q);
	assert_int_equal(raw_int(f->path, "SELECT integrity_check = 'ok' FROM "
					  "pragma_integrity_check"),
			 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs"), 100);
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
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
