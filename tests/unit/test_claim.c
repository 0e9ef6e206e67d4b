/* test_claim.c — queue/claim: claimed jobs and their frames, leases
 * renewed, released and unparked. (Recovery, and every change of state a
 * claim makes: test_jobstate.c.) */
#include "queue/claim.h"
#include "queue/run.h"
#include "qtest.h"

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

/* take: claim up to limit (at most 8) jobs for r at now, leased until
 * until, in a commit of its own; their ids in claim order into ids.
 * Returns how many. */
static int take(struct qrun *r, int64_t now, int64_t until, int limit,
		int64_t *ids)
{
	struct claim_job jobs[8];
	int n = -1;

	assert_true(limit <= 8);
	assert_int_equal(qrun_begin(r), QUEUE_OK);
	assert_int_equal(claim_jobs(r, now, until, limit, jobs, &n), QUEUE_OK);
	assert_int_equal(qrun_commit(r), QUEUE_OK);
	for (int i = 0; i < n; i++) {
		ids[i] = jobs[i].id;
		claim_job_clear(&jobs[i]);
	}
	return n;
}

/* Highest priority first, then the earliest due, then ingest order; a job
 * not due yet waits. */
static void claims_take_priority_then_due_then_ingest_order(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 6);
	struct qrun *r;
	int64_t ids[8];

	raw_exec(f->path, "UPDATE jobs SET priority = 5 WHERE id IN (4, 6); "
			  "UPDATE jobs SET not_before = 30 WHERE id = 2; "
			  "UPDATE jobs SET not_before = 20 WHERE id = 5; "
			  "UPDATE jobs SET not_before = 99 WHERE id = 3");
	assert_int_equal(qrun_open(q, "host:1:run", &r), QUEUE_OK);
	assert_int_equal(take(r, 50, 1000, 8, ids), 5);
	assert_int_equal(ids[0], 4);
	assert_int_equal(ids[1], 6);
	assert_int_equal(ids[2], 1);
	assert_int_equal(ids[3], 5);
	assert_int_equal(ids[4], 2);
	assert_int_equal(take(r, 98, 1000, 8, ids), 0);
	assert_int_equal(take(r, 99, 1000, 8, ids), 1);
	qrun_close(&r);
	queue_close(&q);
}

/* A run renews and releases its own leases and no other run's. */
static void renew_and_release_touch_only_this_runs_leases(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 4);
	struct qrun *mine, *other;
	int64_t ids[8];

	assert_int_equal(qrun_open(q, "host:1:mine", &mine), QUEUE_OK);
	assert_int_equal(qrun_open(q, "host:2:other", &other), QUEUE_OK);
	assert_int_equal(take(mine, 1, 100, 2, ids), 2);
	assert_int_equal(take(other, 1, 100, 1, ids), 1);
	assert_int_equal(qrun_begin(mine), QUEUE_OK);
	assert_int_equal(claim_renew(mine, 5000), QUEUE_OK);
	assert_int_equal(qrun_commit(mine), QUEUE_OK);
	assert_int_equal(raw_int(f->path,
				 "SELECT group_concat(lease_expires, ',') = "
				 "'5000,5000,100' FROM (SELECT lease_expires "
				 "FROM jobs WHERE state = 1 ORDER BY id)"),
			 1);
	assert_int_equal(qrun_begin(mine), QUEUE_OK);
	assert_int_equal(claim_release_all(mine), QUEUE_OK);
	assert_int_equal(qrun_commit(mine), QUEUE_OK);
	/* jobs 1 and 2 back as they were, 3 still the other run's */
	assert_int_equal(raw_int(f->path,
				 "SELECT count(*) FROM jobs WHERE state = 0 "
				 "AND lease_owner IS NULL AND lease_expires IS "
				 "NULL AND id IN (1, 2, 4)"),
			 3);
	assert_int_equal(raw_int(f->path,
				 "SELECT count(*) FROM jobs WHERE state = 1 "
				 "AND lease_owner = 'host:2:other' AND id = 3"),
			 1);
	qrun_close(&other);
	qrun_close(&mine);
	queue_close(&q);
}

/* A parked job (no usable provider) is not claimed, in this century or
 * the next, until a run unparks it. */
static void parked_jobs_wait_for_unpark(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 2);
	struct qrun *r;
	int64_t ids[8];
	long long n = -1;
	char sql[128];

	snprintf(sql, sizeof(sql),
		 "UPDATE jobs SET not_before = %lld WHERE id = 2",
		 (long long)CLAIM_PARKED);
	raw_exec(f->path, sql);
	assert_int_equal(qrun_open(q, "host:1:run", &r), QUEUE_OK);
	assert_int_equal(take(r, 4102444800000, 4102444900000, 8, ids), 1);
	assert_int_equal(ids[0], 1);
	assert_int_equal(qrun_begin(r), QUEUE_OK);
	assert_int_equal(claim_unpark(r, &n), QUEUE_OK);
	assert_int_equal(qrun_commit(r), QUEUE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(take(r, 1, 100, 8, ids), 1);
	assert_int_equal(ids[0], 2);
	qrun_close(&r);
	queue_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(claimed_frames_decode_anywhere_or_say_why_not),
		T(claims_take_priority_then_due_then_ingest_order),
		T(renew_and_release_touch_only_this_runs_leases),
		T(parked_jobs_wait_for_unpark),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
