/* test_ledger.c — queue/ledger: a row per request under the run's name,
 * provider events, and the spend they add up to across runs; each row's
 * cost basis (reported unless said), and no other value taken. */
#include "queue/claim.h"
#include "queue/ledger.h"
#include "queue/run.h"
#include "qtest.h"

static void rows_events_and_spend_across_runs(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 2);
	struct qrun *one, *two;
	struct ledger_attempt a = {.job_id = 1,
				   .provider = "qwen",
				   .model = "qwen-plus",
				   .sent_at_ms = 10,
				   .error_class = "rate_limited",
				   .latency_ms = 40,
				   .tok_in = 100,
				   .cost_usd = 0.25,
				   .action = "retry"};
	double usd = -1;

	assert_int_equal(qrun_open(q, "host:1:one", &one), QUEUE_OK);
	assert_int_equal(qrun_open(q, "host:1:two", &two), QUEUE_OK);
	assert_int_equal(ledger_spend(one, &usd), QUEUE_OK);
	assert_true(usd == 0);
	assert_int_equal(qrun_begin(one), QUEUE_OK);
	assert_int_equal(ledger_add(one, &a), QUEUE_OK);
	assert_int_equal(ledger_event(one, "qwen", "paused", NULL), QUEUE_OK);
	assert_int_equal(qrun_commit(one), QUEUE_OK);
	a.job_id = 2;
	a.http_status = 200;
	a.error_class = "ok";
	a.cost_usd = 0.5;
	a.action = NULL;
	assert_int_equal(qrun_begin(two), QUEUE_OK);
	assert_int_equal(ledger_add(two, &a), QUEUE_OK);
	assert_int_equal(ledger_event(two, "qwen", "breaker_open", "5 failed"),
			 QUEUE_OK);
	assert_int_equal(qrun_commit(two), QUEUE_OK);

	assert_int_equal(ledger_spend(one, &usd), QUEUE_OK);
	assert_true(usd == 0.75);
	/* each row under its run; no status and no action stay NULL */
	assert_int_equal(raw_int(f->path,
				 "SELECT group_concat(v, ';') = "
				 "'1,host:1:one,,retry;2,host:1:two,200,' FROM "
				 "(SELECT job_id || ',' || run_id || ',' || "
				 "coalesce(http_status, '') || ',' || "
				 "coalesce(action, '') AS v FROM attempts "
				 "ORDER BY id)"),
			 1);
	assert_int_equal(raw_int(f->path,
				 "SELECT group_concat(v, ';') = "
				 "'host:1:one,paused,-;host:1:two,"
				 "breaker_open,5 failed' FROM (SELECT run_id "
				 "|| ',' || kind || ',' || coalesce(detail, "
				 "'-') AS v FROM events ORDER BY id)"),
			 1);
	qrun_close(&two);
	qrun_close(&one);
	queue_close(&q);
}

static void rows_keep_their_cost_basis(void **state)
{
	static const char *const bases[] = {NULL, "reported", "estimated",
					    "suspect"};
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 1);
	struct qrun *r;
	struct ledger_attempt a = {.job_id = 1,
				   .provider = "qwen",
				   .model = "qwen-plus",
				   .error_class = "ok",
				   .cost_usd = 0.125};

	assert_int_equal(qrun_open(q, "host:1:one", &r), QUEUE_OK);
	assert_int_equal(qrun_begin(r), QUEUE_OK);
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		a.cost_basis = bases[i];
		assert_int_equal(ledger_add(r, &a), QUEUE_OK);
	}
	assert_int_equal(qrun_commit(r), QUEUE_OK);
	assert_int_equal(raw_int(f->path,
				 "SELECT group_concat(cost_basis, ',') = "
				 "'reported,reported,estimated,suspect' FROM "
				 "(SELECT cost_basis FROM attempts ORDER BY "
				 "id)"),
			 1);
	/* the schema takes nothing else */
	assert_int_equal(qrun_begin(r), QUEUE_OK);
	a.cost_basis = "guessed";
	assert_int_not_equal(ledger_add(r, &a), QUEUE_OK);
	qrun_rollback(r);
	qrun_close(&r);
	queue_close(&q);
}

static int dead(const char *owner, void *arg)
{
	(void)owner;
	(void)arg;
	return 0;
}

/* A run dies with requests in flight: the run that takes its jobs back
 * records what its last commit listed as lost, at their estimated cost,
 * in the jobs' spend and attempts; entries for jobs it no longer holds,
 * or not well formed, are not; the list goes. */
static void lost_requests_of_a_dead_run(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 4);
	struct qrun *one, *two;
	struct claim_job jobs[4];
	long long recovered = -1, lost = -1;
	int got = 0;

	assert_int_equal(qrun_open(q, "host:1:one", &one), QUEUE_OK);
	assert_int_equal(qrun_begin(one), QUEUE_OK);
	assert_int_equal(claim_jobs(one, 1000, 9e12, 3, jobs, &got), QUEUE_OK);
	assert_int_equal(got, 3);
	for (int i = 0; i < got; i++)
		claim_job_clear(&jobs[i]);
	/* jobs 1-3 are held; 4 is not; "x" is not a job */
	assert_int_equal(
		ledger_inflight(one, "[[1,\"qwen\",\"qwen-plus\",250000000],"
				     "[2,\"claude\",\"sonnet\",500000000],"
				     "[4,\"qwen\",\"qwen-plus\",9000000000],"
				     "[\"x\",\"qwen\",\"m\",1],"
				     "[3,\"qwen\",7,1]]"),
		QUEUE_OK);
	assert_int_equal(qrun_commit(one), QUEUE_OK);
	/* an older list of another dead run, damaged */
	raw_exec(f->path, "INSERT INTO inflight VALUES ('host:9:x', 1, '[[1,')");
	qrun_close(&one); /* killed: no release */
	assert_int_equal(qrun_open(q, "host:2:two", &two), QUEUE_OK);
	if (claim_recover(two, 2000, dead, NULL, &recovered, &lost))
		fail_msg("%s", queue_errmsg(q));
	assert_int_equal(recovered, 3);
	assert_int_equal(lost, 2);
	assert_int_equal(raw_int(f->path,
				 "SELECT group_concat(v, ';') = "
				 "'1,host:1:one,qwen,qwen-plus,lost,retry,"
				 "estimated,0.25;2,host:1:one,claude,sonnet,"
				 "lost,retry,estimated,0.5' FROM (SELECT job_id "
				 "|| ',' || run_id || ',' || provider || ',' || "
				 "model || ',' || error_class || ',' || action "
				 "|| ',' || cost_basis || ',' || cost_usd AS v "
				 "FROM attempts ORDER BY id)"),
			 1);
	assert_int_equal(raw_int(f->path, "SELECT total(spent_usd) * 100 + "
					  "sum(attempts) FROM jobs"),
			 75 + 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inflight "
					  "WHERE owner = 'host:1:one'"),
			 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM jobs WHERE "
					  "state = 0"),
			 4);
	/* the budget's start counts them */
	{
		double usd = -1;

		assert_int_equal(ledger_spend(two, &usd), QUEUE_OK);
		assert_true(usd == 0.75);
	}
	/* a clean end clears a run's list */
	assert_int_equal(qrun_begin(two), QUEUE_OK);
	assert_int_equal(ledger_inflight(two, "[[1,\"q\",\"m\",1]]"),
			 QUEUE_OK);
	assert_int_equal(claim_release_all(two), QUEUE_OK);
	assert_int_equal(qrun_commit(two), QUEUE_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inflight "
					  "WHERE owner = 'host:2:two'"),
			 0);
	qrun_close(&two);
	queue_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			rows_events_and_spend_across_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_keep_their_cost_basis,
						setup, teardown),
		cmocka_unit_test_setup_teardown(lost_requests_of_a_dead_run,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
