/* test_ingest_pipe.c — lines validated on worker threads come back whole,
 * in file order, the same whatever the number of workers; and ingest_path
 * over the pipe keeps its guarantees (order of messages, dictionary,
 * idempotence). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/blob.h"
#include "queue/queue.h"
#include "runner/cli.h"
#include "runner/ingest_file.h"
#include "runner/ingest/ingest_pipe.h"

#define NLINES 3000

struct fx {
	char dir[64];
	char jobs[96], pretty[96], db[96];
};

/* What line i of the test file is: a job, a blank line, a bad line or one
 * over the cap; the bodies vary enough to train a dictionary. */
static int kind_of(int i)
{
	if (i % 97 == 5)
		return INGEST_ROW_BAD;
	if (i % 211 == 7)
		return INGEST_ROW_TOOLONG;
	if (i % 50 == 3)
		return -1; /* blank */
	return INGEST_ROW_JOB;
}

static void write_line(FILE *fp, int i, int pretty)
{
	switch (kind_of(i)) {
	case -1:
		fputs(i % 100 == 3 ? "\n" : "  \t\n", fp);
		return;
	case INGEST_ROW_BAD:
		fprintf(fp, "{\"custom_id\":\"bad-%d\",\"body\":{}}\n", i);
		return;
	case INGEST_ROW_TOOLONG:
		fprintf(fp, "{\"custom_id\":\"long-%d\",\"body\":\"", i);
		for (int k = 0; k < 5000; k++)
			fputc('x', fp);
		fputs("\"}\n", fp);
		return;
	}
	fprintf(fp,
		pretty ? "{ \"custom_id\": \"job-%d\",\t\"body\": { \"model\": "
			 "\"cheap\", \"messages\": [ { \"role\": \"user\", "
			 "\"content\": \"Summarize report %d of region %d, "
			 "about %s.\" } ], \"max_tokens\": %d } }\n"
		       : "{\"custom_id\":\"job-%d\",\"body\":{\"model\":"
			 "\"cheap\",\"messages\":[{\"role\":\"user\","
			 "\"content\":\"Summarize report %d of region %d, "
			 "about %s.\"}],\"max_tokens\":%d}}\n",
		i, i * 7919 % 10007, i % 13, i % 3 ? "sales" : "hiring",
		50 + i % 7);
}

/* compact_body: the body of job line i as it must be stored. */
static void compact_body(char *buf, size_t cap, int i)
{
	snprintf(buf, cap,
		 "{\"model\":\"cheap\",\"messages\":[{\"role\":\"user\","
		 "\"content\":\"Summarize report %d of region %d, about %s.\"}"
		 "],\"max_tokens\":%d}",
		 i * 7919 % 10007, i % 13, i % 3 ? "sales" : "hiring",
		 50 + i % 7);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	FILE *a, *b;

	strcpy(f->dir, "/tmp/nightshift-pipe-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->jobs, sizeof(f->jobs), "%s/jobs.jsonl", f->dir);
	snprintf(f->pretty, sizeof(f->pretty), "%s/pretty.jsonl", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/q.db", f->dir);
	a = fopen(f->jobs, "w");
	b = fopen(f->pretty, "w");
	if (!a || !b)
		return -1;
	/* pretty.jsonl: the same jobs with other spacing, one per line */
	for (int i = 1; i <= NLINES; i++) {
		write_line(a, i, 0);
		if (kind_of(i) == INGEST_ROW_JOB)
			write_line(b, i, 1);
	}
	fclose(a);
	fclose(b);
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

/* drain: read the file through a pipe with nworkers and check every row
 * against what was written; returns the rows seen. */
static int drain(const char *path, unsigned nworkers, int encode)
{
	int fd = open(path, O_RDONLY);
	struct ingest_pipe *p;
	long last = 0;
	int rows = 0, batches = 0, end = 0;

	assert_true(fd >= 0);
	p = ingest_pipe_new(fd, 1000, nworkers);
	ingest_pipe_set_dict(p, NULL, encode);
	while (!end) {
		struct ingest_batch *b = ingest_pipe_next(p);

		assert_true(b->n <= INGEST_PIPE_ROWS);
		for (size_t i = 0; i < b->n; i++) {
			const struct ingest_row *r = &b->rows[i];
			char id[32], body[300];

			/* in file order, blank lines left out */
			assert_true(r->lineno > last);
			for (long k = last + 1; k < r->lineno; k++)
				assert_int_equal(kind_of((int)k), -1);
			last = r->lineno;
			assert_int_equal(r->kind, kind_of((int)r->lineno));
			if (r->kind == INGEST_ROW_BAD)
				assert_string_equal(r->why,
						    "body.model: missing (a "
						    "route, provider:model, "
						    "or a model name)");
			if (r->kind != INGEST_ROW_JOB)
				continue;
			snprintf(id, sizeof(id), "job-%ld", r->lineno);
			assert_string_equal(r->job.custom_id, id);
			assert_int_equal(strlen(r->job.body), r->job.body_len);
			compact_body(body, sizeof(body), (int)r->lineno);
			assert_string_equal(r->job.body, body);
			assert_int_equal(r->job.max_output_tokens,
					 50 + r->lineno % 7);
			if (encode) {
				assert_non_null(r->job.blob);
				assert_true(r->job.blob_len > 0);
			} else {
				assert_null(r->job.blob);
			}
		}
		rows += (int)b->n;
		batches++;
		end = b->end;
		assert_int_equal(b->end == INGEST_PIPE_MORE ||
					 b->end == INGEST_PIPE_EOF,
				 1);
		ingest_pipe_done(p, b);
	}
	assert_true(batches > 1);
	ingest_pipe_free(&p);
	assert_null(p);
	close(fd);
	return rows;
}

static void rows_come_back_in_order_with_any_worker_count(void **state)
{
	struct fx *f = *state;
	int want = 0;

	for (int i = 1; i <= NLINES; i++)
		want += kind_of(i) != -1;
	assert_int_equal(drain(f->jobs, 0, 1), want);
	assert_int_equal(drain(f->jobs, 1, 0), want);
	assert_int_equal(drain(f->jobs, 3, 1), want);
	assert_int_equal(drain(f->jobs, 8, 1), want);
}

/* Freeing the pipe with batches still in flight stops the workers. */
static void pipe_can_be_dropped_midway(void **state)
{
	struct fx *f = *state;
	int fd = open(f->jobs, O_RDONLY);
	struct ingest_pipe *p = ingest_pipe_new(fd, 1000, 2);
	struct ingest_batch *b;

	ingest_pipe_set_dict(p, NULL, 1);
	b = ingest_pipe_next(p);
	assert_true(b->n > 0);
	ingest_pipe_done(p, b);
	ingest_pipe_free(&p);
	close(fd);
}

static long long count(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

static long long frames_without_dict(const char *db)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long long n = 0;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT request FROM jobs", -1,
					    &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		n += blob_frame_dict_id(sqlite3_column_blob(st, 0),
					(size_t)sqlite3_column_bytes(st, 0)) ==
		     0;
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

/* The whole path: more lines than the dictionary sample, bad lines among
 * them, then the same jobs pretty-printed: all already queued. */
static void ingest_path_trains_once_and_reingest_is_idempotent(void **state)
{
	struct fx *f = *state;
	struct ingest_opts o = {.max_line = 1000, .max_errors = 2};
	struct ingest_counts n;
	struct queue *q;
	long long jobs = 0, bad = 0;

	for (int i = 1; i <= NLINES; i++) {
		jobs += kind_of(i) == INGEST_ROW_JOB;
		bad += kind_of(i) == INGEST_ROW_BAD ||
		       kind_of(i) == INGEST_ROW_TOOLONG;
	}
	assert_true(jobs > BLOB_TRAIN_ROWS);
	assert_int_equal(queue_open(f->db, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_path(q, f->jobs, &o, &n), EXIT_PARTIAL);
	assert_int_equal(n.added, jobs);
	assert_int_equal(n.rejected, bad);
	assert_int_equal(n.lines, jobs + bad);
	assert_int_equal(ingest_path(q, f->pretty, &o, &n), EXIT_OK);
	assert_int_equal(n.added, 0);
	assert_int_equal(n.duplicate, jobs);
	queue_close(&q);
	assert_int_equal(count(f->db, "SELECT count(*) FROM jobs"), jobs);
	assert_int_equal(count(f->db, "SELECT count(*) FROM dicts"), 1);
	assert_int_equal(frames_without_dict(f->db), 0);
}

/* --strict: nothing is queued, and every bad line is still counted. */
static void strict_ingest_queues_nothing_and_counts_all(void **state)
{
	struct fx *f = *state;
	struct ingest_opts o = {.max_line = 1000, .max_errors = 2, .strict = 1};
	struct ingest_counts n;
	struct queue *q;
	long long bad = 0;

	for (int i = 1; i <= NLINES; i++)
		bad += kind_of(i) == INGEST_ROW_BAD ||
		       kind_of(i) == INGEST_ROW_TOOLONG;
	assert_int_equal(queue_open(f->db, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	assert_int_equal(ingest_path(q, f->jobs, &o, &n), EXIT_PARTIAL);
	assert_int_equal(n.rejected, bad);
	assert_int_equal(n.added, 0);
	queue_close(&q);
	assert_int_equal(count(f->db, "SELECT count(*) FROM jobs"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM dicts"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(rows_come_back_in_order_with_any_worker_count),
		T(pipe_can_be_dropped_midway),
		T(ingest_path_trains_once_and_reingest_is_idempotent),
		T(strict_ingest_queues_nothing_and_counts_all),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
