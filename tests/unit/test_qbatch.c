/* test_qbatch.c — provider batches in the queue: an intent holds its jobs
 * (running, owner "batch", no run's to take back), a held job is not in a
 * second batch, the sync claim and the lane's pages pass them by, lines
 * find only the jobs their batch holds, a release gives them back, the
 * turnaround is the median of batches that ended on their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qtest.h"
#include "queue/batch.h"
#include "queue/claim.h"
#include "queue/run.h"

static int never_alive(const char *owner, void *arg)
{
	(void)owner;
	(void)arg;
	return 0;
}

/* intent: a batch of ids[0..n) in q through the lane's session r. */
static struct qbatch intent(struct qrun *r, const int64_t *ids, int n,
			    int *nheld)
{
	struct qbatch b;

	assert_int_equal(qrun_begin(r), QUEUE_OK);
	assert_int_equal(qbatch_intent(r, "p", "m", "nsab12cd34-",
				       "host:1:run", 1000, &b),
			 QUEUE_OK);
	assert_int_equal(qbatch_hold(r, b.id, ids, n, NULL, nheld), QUEUE_OK);
	b.requests = *nheld;
	assert_int_equal(qbatch_save(r, &b), QUEUE_OK);
	assert_int_equal(qrun_commit(r), QUEUE_OK);
	return b;
}

static void an_intent_holds_its_jobs_once(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 5);
	struct qrun *lane, *run;
	const int64_t ids[] = {1, 2, 3};
	struct claim_job jobs[8];
	unsigned char found[3];
	long long rec = 0, lost = 0, n = 0;
	struct qbatch a, b, *open = NULL;
	size_t nopen = 0;
	int held, k;

	assert_int_equal(qrun_open(q, CLAIM_BATCH_OWNER, &lane), QUEUE_OK);
	a = intent(lane, ids, 3, &held);
	assert_int_equal(held, 3);
	assert_string_equal(a.tag, "nsab12cd34-1");
	assert_int_equal(a.state, QBATCH_INTENT);
	/* the same jobs again: none is queued, none is held twice */
	b = intent(lane, ids, 3, &held);
	assert_int_equal(held, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs WHERE "
					  "batch_id = 1 AND state = 1 AND "
					  "lease_owner = 'batch'"),
			 3);
	/* a run starting after a crash takes back no job from a batch */
	assert_int_equal(qrun_open(q, "host:2:run", &run), QUEUE_OK);
	assert_int_equal(claim_recover(run, 1LL << 62, never_alive, NULL,
				       &rec, &lost),
			 QUEUE_OK);
	assert_int_equal(rec, 0);
	/* the sync claim and the lane's page see only jobs 4 and 5 */
	assert_int_equal(qrun_begin(run), QUEUE_OK);
	assert_int_equal(claim_jobs(run, 1LL << 61, 1LL << 61, 8, jobs, &k),
			 QUEUE_OK);
	assert_int_equal(k, 2);
	assert_int_equal(jobs[0].id, 4);
	for (int i = 0; i < k; i++)
		claim_job_clear(&jobs[i]);
	assert_int_equal(qrun_commit(run), QUEUE_OK);
	assert_int_equal(qbatch_page(lane, QBATCH_QUEUED, 0, 8, jobs, &k),
			 QUEUE_OK);
	assert_int_equal(k, 0); /* 4 and 5 are the run's now */
	/* lines find the jobs the batch holds, not others */
	{
		const int64_t look[] = {2, 4, 3};

		assert_int_equal(qbatch_jobs(lane, a.id, look, 3, jobs, found),
				 QUEUE_OK);
		assert_true(found[0] && !found[1] && found[2]);
		assert_int_equal(jobs[0].id, 2);
		claim_job_clear(&jobs[0]);
		claim_job_clear(&jobs[2]);
		assert_int_equal(qbatch_jobs(lane, b.id, look, 3, jobs, found),
				 QUEUE_OK);
		assert_true(!found[0] && !found[1] && !found[2]);
	}
	assert_int_equal(qbatch_open_list(q, &open, &nopen), QUEUE_OK);
	assert_int_equal(nopen, 2);
	for (size_t i = 0; i < nopen; i++)
		qbatch_clear(&open[i]);
	free(open);
	/* one job back, then the rest, to the lane's wait */
	assert_int_equal(qrun_begin(lane), QUEUE_OK);
	assert_int_equal(qbatch_release(lane, a.id, 2, 0, "x", &n), QUEUE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(qbatch_release(lane, a.id, 0, CLAIM_LANE_WAIT, NULL,
					&n),
			 QUEUE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(qrun_commit(lane), QUEUE_OK);
	assert_int_equal(qbatch_page(lane, QBATCH_LANE_WAIT, 0, 8, jobs, &k),
			 QUEUE_OK);
	assert_int_equal(k, 2);
	assert_int_equal(jobs[0].id, 1);
	assert_int_equal(jobs[1].id, 3);
	for (int i = 0; i < k; i++)
		claim_job_clear(&jobs[i]);
	qbatch_clear(&a);
	qbatch_clear(&b);
	qrun_close(&run);
	qrun_close(&lane);
	queue_close(&q);
}

static void the_turnaround_is_a_median(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 1);
	int64_t ms;
	int n;

	assert_int_equal(qbatch_turnaround(q, "p", &ms, &n), QUEUE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(ms, 0);
	raw_exec(f->path,
		 "INSERT INTO batches (tag, provider, model, state, requests, "
		 "created_at, submitted_at, ended_at, cancel_at, owner) VALUES "
		 "('t1', 'p', 'm', 3, 1, 0, 0, 1000, NULL, 'o'), "
		 "('t2', 'p', 'm', 3, 1, 0, 0, 9000, NULL, 'o'), "
		 "('t3', 'p', 'm', 3, 1, 0, 0, 3000, NULL, 'o'), "
		 /* cancelled by us: says nothing of the lane */
		 "('t4', 'p', 'm', 3, 1, 0, 0, 99000, 5, 'o'), "
		 "('t5', 'x', 'm', 3, 1, 0, 0, 50000, NULL, 'o')");
	assert_int_equal(qbatch_turnaround(q, "p", &ms, &n), QUEUE_OK);
	assert_int_equal(n, 3);
	assert_int_equal(ms, 3000);
	queue_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(an_intent_holds_its_jobs_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(the_turnaround_is_a_median,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
