/* test_complete.c — queue/complete: what a result counts (attempts and
 * cost, whoever held the lease) and the result dictionary trained on the
 * first results. */
#include "queue/claim.h"
#include "queue/complete.h"
#include "queue/ledger.h"
#include "queue/retry.h"
#include "queue/run.h"
#include "qtest.h"

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
		T(result_cost_counts_every_request),
		T(results_framed_before_the_dictionary_end_up_with_it),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
