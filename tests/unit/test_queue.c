/* test_queue.c — opening and migrating the database, and a full disk. */
#include <sys/stat.h>
#include <unistd.h>

#include "queue/blob.h"
#include "queue/queue_int.h"
#include "queue/stats.h"
#include "qtest.h"

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
		/* 005: rows older than the cost basis were as reported */
		assert_int_equal(raw_int(f->path,
					 "SELECT count(*) FROM attempts WHERE "
					 "cost_basis = 'reported'"),
				 2);
		queue_close(&q);
	}
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

/* A frame made with a dictionary that another process stored after this
 * one opened the file decodes: a run claiming what a concurrent ingest
 * queued (two cron runs of `run FILE`). The dictionary is found, not
 * made the one this process compresses with. */
static void dictionary_stored_by_another_process_is_found(void **state)
{
	struct fx *f = *state;
	struct queue *mine, *other;
	struct blob_codec *c = blob_codec_new();
	struct blob_dict *d;
	char *buf = malloc(BLOB_TRAIN_ROWS * 400), body[400], *out = NULL;
	size_t sizes[BLOB_TRAIN_ROWS], len = 0, blen, zlen, outlen = 0;
	const void *z;
	void *copy;

	for (int k = 0; k < BLOB_TRAIN_ROWS; k++) {
		sizes[k] = reply(buf + len, 400, k);
		len += sizes[k];
	}
	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &mine, NULL,
				    0),
			 QUEUE_OK);
	assert_int_equal(queue_open(f->path, 0, &other, NULL, 0), QUEUE_OK);
	d = blob_dict_train(buf, sizes, BLOB_TRAIN_ROWS,
			    blob_level_of("body"));
	assert_non_null(d);
	blen = reply(body, sizeof(body), 7);
	assert_int_equal(blob_compress(c, d, body, blen, &z, &zlen), 0);
	copy = malloc(zlen);
	memcpy(copy, z, zlen);
	assert_int_equal(qdict_add(other, "body", d), QUEUE_OK); /* owns d */
	assert_int_equal(qdecode(mine, c, copy, zlen, &out, &outlen),
			 QUEUE_OK);
	assert_int_equal(outlen, blen);
	assert_memory_equal(out, body, blen);
	assert_null(mine->body_dict);
	free(out);
	free(copy);
	free(buf);
	blob_codec_free(&c);
	queue_close(&other);
	queue_close(&mine);
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
		T(full_disk_is_reported_and_committed_rows_survive),
		T(dictionary_stored_by_another_process_is_found),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
