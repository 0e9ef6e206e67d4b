/* qtest.h — what the queue/ unit tests share: a temporary directory per
 * test (setup/teardown), SQL run on the file from a connection of its
 * own, a queue filled with small jobs, and chat.completion replies to
 * store. Included by test files only; everything is static inline, so a
 * test that does not use a helper does not warn. */
#ifndef NIGHTSHIFT_QTEST_H
#define NIGHTSHIFT_QTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/blob.h"
#include "queue/ingest.h"
#include "queue/queue.h"

struct fx {
	char dir[64];
	char path[96];
};

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/nightshift-q-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/q.db", f->dir);
	unsetenv("NIGHTSHIFT_TRACE"); /* tests that trace set it */
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	unsetenv("NIGHTSHIFT_TRACE");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* raw_exec: run SQL on the file directly, as another program would (so
 * not traced by a queue's NIGHTSHIFT_TRACE). */
static inline void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static inline long long raw_int(const char *path, const char *sql)
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
static inline long long frames_without_dict_in(const char *path,
						const char *sql)
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

static inline long long frames_without_dict(const char *path)
{
	return frames_without_dict_in(path, "SELECT request FROM jobs");
}

static inline struct ingest_job job(const char *id, const char *body)
{
	return (struct ingest_job){.custom_id = id,
				   .body = body,
				   .body_len = strlen(body),
				   .max_cost_usd = -1,
				   .est_input_tokens = 10};
}

/* queued: the queue at path, created, with jobs id0..id(n-1) (or the n
 * ids given) of one small body. */
static inline struct queue *queued(const char *path, const char *const *ids,
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

/* reply: a chat.completion for job k, varied enough to train on. */
static inline size_t reply(char *buf, size_t cap, int k)
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

#endif
