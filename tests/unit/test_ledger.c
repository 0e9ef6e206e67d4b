/* test_ledger.c — queue/ledger: a row per request under the run's name,
 * provider events, and the spend they add up to across runs; each row's
 * cost basis (reported unless said), and no other value taken. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			rows_events_and_spend_across_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_keep_their_cost_basis,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
