/* test_stats.c — queue/stats: the counts a run reads at its start and
 * end, and status's. */
#include "queue/claim.h"
#include "queue/run.h"
#include "queue/stats.h"
#include "qtest.h"

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

/* lease: claim up to limit jobs for r, in a commit of its own. */
static void lease(struct qrun *r, int limit)
{
	struct claim_job jobs[8];
	int n = -1;

	assert_int_equal(qrun_begin(r), QUEUE_OK);
	assert_int_equal(claim_jobs(r, 1000, 100000, limit, jobs, &n),
			 QUEUE_OK);
	assert_int_equal(qrun_commit(r), QUEUE_OK);
	assert_int_equal(n, limit);
	for (int i = 0; i < n; i++)
		claim_job_clear(&jobs[i]);
}

/* What a run has left: queued jobs, the first of them due, parked ones
 * apart, and the jobs other runs hold (not its own). */
static void backlog_counts_what_is_left_and_who_holds_it(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 7);
	struct qrun *mine, *other;
	long long queued_n = -1, parked = -1, others = -1;
	int64_t due = -1;
	char sql[400];

	assert_int_equal(qrun_open(q, "host:1:mine", &mine), QUEUE_OK);
	assert_int_equal(qrun_open(q, "host:2:other", &other), QUEUE_OK);
	lease(mine, 2);  /* jobs 1, 2 */
	lease(other, 1); /* job 3 */
	snprintf(sql, sizeof(sql),
		 "UPDATE jobs SET not_before = %lld WHERE id = 4; UPDATE jobs "
		 "SET not_before = 777 WHERE id = 5; UPDATE jobs SET "
		 "not_before = 500 WHERE id = 6; UPDATE jobs SET state = 2 "
		 "WHERE id = 7",
		 (long long)CLAIM_PARKED);
	raw_exec(f->path, sql);
	assert_int_equal(stats_backlog(mine, &queued_n, &due, &parked, &others),
			 QUEUE_OK);
	assert_int_equal(queued_n, 2);
	assert_int_equal(due, 500);
	assert_int_equal(parked, 1);
	assert_int_equal(others, 1);
	assert_int_equal(stats_backlog(other, &queued_n, &due, &parked,
				       &others),
			 QUEUE_OK);
	assert_int_equal(others, 2);
	qrun_close(&other);
	qrun_close(&mine);
	queue_close(&q);
}

/* status: jobs by state, parked and waiting ones, and the ledger. */
static void status_counts_jobs_by_state_and_the_ledger(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 5);
	struct stats s;
	char sql[600];

	snprintf(sql, sizeof(sql),
		 "UPDATE jobs SET state = 2 WHERE id = 1; UPDATE jobs SET "
		 "state = 3 WHERE id = 2; UPDATE jobs SET state = 1 WHERE id "
		 "= 3; UPDATE jobs SET not_before = %lld WHERE id = 4; "
		 "UPDATE jobs SET not_before = 4102444800000 WHERE id = 5; "
		 "INSERT INTO attempts (job_id, run_id, provider, model, "
		 "sent_at, error_class, latency_ms, tokens_in, tokens_cached, "
		 "tokens_out, tokens_reasoning, cost_usd) VALUES (1, 'r', 'p', "
		 "'m', 1, 'ok', 1, 10, 5, 7, 3, 0.25), (2, 'r', 'p', 'm', 1, "
		 "'timeout', 1, 1, 0, 0, 0, 0.5)",
		 (long long)CLAIM_PARKED);
	raw_exec(f->path, sql);
	assert_int_equal(stats_read(q, &s), QUEUE_OK);
	assert_int_equal(s.total, 5);
	assert_int_equal(s.by_state[JOB_QUEUED], 2);
	assert_int_equal(s.by_state[JOB_RUNNING], 1);
	assert_int_equal(s.by_state[JOB_DONE], 1);
	assert_int_equal(s.by_state[JOB_DEAD], 1);
	assert_int_equal(s.parked, 1);
	assert_int_equal(s.waiting, 1);
	assert_int_equal(s.requests, 2);
	assert_true(s.spend_usd == 0.75);
	assert_int_equal(s.tokens_in, 16);
	assert_int_equal(s.tokens_out, 10);
	assert_true(s.body_bytes > 0);
	queue_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(dead_jobs_are_counted),
		T(backlog_counts_what_is_left_and_who_holds_it),
		T(status_counts_jobs_by_state_and_the_ledger),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
