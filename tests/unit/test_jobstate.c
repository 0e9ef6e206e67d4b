/* test_jobstate.c — the job-state transition table: what it allows, the
 * statements built from it, the trace (NIGHTSHIFT_TRACE=states) of a
 * run's whole sequence of moves, the refusal of changes outside the
 * table, and the reads that must spell states as the partial indexes do. */

#include "queue/claim.h"
#include "queue/complete.h"
#include "queue/jobstate.h"
#include "queue/queue_int.h"
#include "queue/retry.h"
#include "queue/run.h"
#include "queue/run_int.h"
#include "queue/stats.h"
#include "qtest.h"

/* Every (move, from, to) the table allows; everything else it refuses. */
static void table_allows_its_transitions_and_no_other(void **state)
{
	static const struct {
		enum jobstate_move m;
		int from, to;
	} ok[] = {
		{JOBSTATE_INGEST, -1, JOB_QUEUED},
		{JOBSTATE_LEASE, JOB_QUEUED, JOB_RUNNING},
		{JOBSTATE_RETRY, JOB_RUNNING, JOB_QUEUED},
		{JOBSTATE_FINISH, JOB_RUNNING, JOB_DONE},
		{JOBSTATE_FINISH, JOB_RUNNING, JOB_DEAD},
		{JOBSTATE_FINISH_LAPSED, JOB_QUEUED, JOB_DONE},
		{JOBSTATE_FINISH_LAPSED, JOB_QUEUED, JOB_DEAD},
		{JOBSTATE_FINISH_LAPSED, JOB_RUNNING, JOB_DONE},
		{JOBSTATE_FINISH_LAPSED, JOB_RUNNING, JOB_DEAD},
		{JOBSTATE_RELEASE, JOB_RUNNING, JOB_QUEUED},
		{JOBSTATE_RELEASE_ALL, JOB_RUNNING, JOB_QUEUED},
		{JOBSTATE_RECOVER_OWNER, JOB_RUNNING, JOB_QUEUED},
		{JOBSTATE_RECOVER_EXPIRED, JOB_RUNNING, JOB_QUEUED},
		{JOBSTATE_REQUEUE, JOB_DEAD, JOB_QUEUED},
		{JOBSTATE_BATCH, JOB_QUEUED, JOB_RUNNING},
		{JOBSTATE_UNBATCH, JOB_RUNNING, JOB_QUEUED},
	};
	int allowed = 0;

	(void)state;
	for (int m = -1; m <= JOBSTATE_NMOVES; m++)
		for (int from = -2; from <= JOB_NSTATES; from++)
			for (int to = -1; to <= JOB_NSTATES; to++) {
				int want = 0;

				for (size_t i = 0; i < sizeof(ok) / sizeof(*ok);
				     i++)
					want |= (int)ok[i].m == m &&
						ok[i].from == from &&
						ok[i].to == to;
				if (jobstate_allowed(m, from, to) != want)
					fail_msg("move %d: %d -> %d: %s", m,
						 from, to,
						 want ? "refused" : "allowed");
				allowed += want;
			}
	assert_int_equal(allowed, (int)(sizeof(ok) / sizeof(*ok)));
	assert_string_equal(jobstate_name(JOBSTATE_FINISH_LAPSED),
			    "finish_lapsed");
	assert_string_equal(jobstate_name(JOBSTATE_NMOVES), "?");
}

/* The statements are built from the table: without the trace, the very
 * text the run loop used before the table; a caller's SQL that names the
 * state column, a to-parameter that does not fit the move, an INSERT's
 * move, or a to-state the move cannot lead to, are refused. */
static void statements_come_from_the_table_and_nothing_else(void **state)
{
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 1);
	sqlite3_stmt *st = NULL;

	assert_int_equal(jobstate_prepare(q, JOBSTATE_LEASE,
					  "lease_owner = ?2, lease_expires = "
					  "?3, updated_at = ?4",
					  "id = ?1", 0, &st),
			 QUEUE_OK);
	assert_string_equal(sqlite3_sql(st),
			    "UPDATE jobs SET state = 1, lease_owner = ?2, "
			    "lease_expires = ?3, updated_at = ?4 WHERE id = "
			    "?1 AND state = 0");
	/* a single to-state is in the text: nothing to bind */
	assert_int_equal(jobstate_bind_to(q, st, 2, JOBSTATE_LEASE,
					  JOB_DONE),
			 QUEUE_EINVAL);
	sqlite3_finalize(st);
	assert_int_equal(jobstate_prepare(q, JOBSTATE_FINISH_LAPSED,
					  "updated_at = ?3", "id = ?1", 2, &st),
			 QUEUE_OK);
	assert_string_equal(sqlite3_sql(st),
			    "UPDATE jobs SET state = ?2, updated_at = ?3 WHERE "
			    "id = ?1 AND state IN (0, 1)");
	assert_int_equal(jobstate_bind_to(q, st, 2, JOBSTATE_FINISH_LAPSED,
					  JOB_QUEUED),
			 QUEUE_EINVAL);
	assert_non_null(strstr(queue_errmsg(q), "finish_lapsed"));
	assert_int_equal(jobstate_bind_to(q, st, 2, JOBSTATE_FINISH_LAPSED,
					  JOB_RUNNING),
			 QUEUE_EINVAL);
	assert_int_equal(jobstate_bind_to(q, st, 2, JOBSTATE_FINISH_LAPSED,
					  JOB_DONE),
			 QUEUE_OK);
	sqlite3_finalize(st);
	assert_int_equal(jobstate_prepare(q, JOBSTATE_REQUEUE, NULL, NULL, 0,
					  &st),
			 QUEUE_OK);
	assert_string_equal(sqlite3_sql(st),
			    "UPDATE jobs SET state = 0 WHERE state = 3");
	sqlite3_finalize(st);

	/* what the table does not allow cannot be written */
	assert_int_equal(jobstate_prepare(q, JOBSTATE_RETRY, "state = 2",
					  "id = ?1", 0, &st),
			 QUEUE_EINVAL);
	assert_null(st);
	assert_int_equal(jobstate_prepare(q, JOBSTATE_RETRY, NULL,
					  "id = ?1 OR STATE = 3", 0, &st),
			 QUEUE_EINVAL);
	assert_int_equal(jobstate_prepare(q, JOBSTATE_FINISH, NULL, "id = ?1",
					  0, &st),
			 QUEUE_EINVAL);
	assert_int_equal(jobstate_prepare(q, JOBSTATE_RETRY, NULL, "id = ?1",
					  2, &st),
			 QUEUE_EINVAL);
	assert_int_equal(jobstate_prepare(q, JOBSTATE_INGEST, NULL, NULL, 0,
					  &st),
			 QUEUE_EINVAL);
	assert_null(st);
	queue_close(&q);
}

/* alive: every owner but the one named by arg still runs. */
static int alive(const char *owner, void *arg)
{
	return strcmp(owner, (const char *)arg) != 0;
}

static int all_alive(const char *owner, void *arg)
{
	(void)owner;
	(void)arg;
	return 1;
}

static void fate(struct qrun *r, int64_t id, enum complete_verb verb,
		 int64_t not_before)
{
	struct complete_fate f = {.job_id = id,
				  .verb = verb,
				  .attempts_add = verb != COMPLETE_RELEASE,
				  .candidate = -1,
				  .not_before_ms = not_before,
				  .provider = "p",
				  .model = "m",
				  .status_code = 200,
				  .body = "{\"ok\":1}",
				  .body_len = 8,
				  .error_code = verb == COMPLETE_DEAD ? "x"
								      : NULL};

	assert_int_equal(complete_job(r, &f), QUEUE_OK);
}

/* claim: lease up to 8 jobs at now until until; returns how many, and
 * frees them (the trace is what this test reads). */
static int claim(struct qrun *r, int64_t now, int64_t until)
{
	struct claim_job jobs[8];
	int n = -1;

	assert_int_equal(qrun_begin(r), QUEUE_OK);
	assert_int_equal(claim_jobs(r, now, until, 8, jobs, &n), QUEUE_OK);
	assert_int_equal(qrun_commit(r), QUEUE_OK);
	for (int i = 0; i < n; i++)
		claim_job_clear(&jobs[i]);
	return n;
}

/* read_all: what was written to fp, NUL-terminated (free()). */
static char *read_all(FILE *fp)
{
	long n;
	char *s;

	fflush(fp);
	n = ftell(fp);
	assert_true(n >= 0);
	s = calloc(1, (size_t)n + 1);
	rewind(fp);
	assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
	return s;
}

/* A run's whole life with the trace on: every change of state, and only
 * those, each named by its move. */
static void trace_names_every_move_of_a_run(void **state)
{
	static const char want[] =
		"nightshift: trace: job 1 new -> queued (ingest)\n"
		"nightshift: trace: job 2 new -> queued (ingest)\n"
		"nightshift: trace: job 3 new -> queued (ingest)\n"
		"nightshift: trace: job 4 new -> queued (ingest)\n"
		"nightshift: trace: job 1 queued -> running (lease)\n"
		"nightshift: trace: job 2 queued -> running (lease)\n"
		"nightshift: trace: job 3 queued -> running (lease)\n"
		"nightshift: trace: job 4 queued -> running (lease)\n"
		"nightshift: trace: job 1 running -> queued (retry)\n"
		"nightshift: trace: job 2 running -> done (finish)\n"
		"nightshift: trace: job 3 running -> dead (finish)\n"
		"nightshift: trace: job 4 running -> queued (release)\n"
		"nightshift: trace: job 4 queued -> running (lease)\n"
		"nightshift: trace: job 1 queued -> running (lease)\n"
		"nightshift: trace: job 4 running -> done (finish_lapsed)\n"
		"nightshift: trace: job 1 running -> queued (recover_owner)\n"
		"nightshift: trace: job 1 queued -> running (lease)\n"
		"nightshift: trace: job 1 running -> queued (recover_expired)\n"
		"nightshift: trace: job 1 queued -> running (lease)\n"
		"nightshift: trace: job 1 running -> queued (release_all)\n"
		"nightshift: trace: job 3 dead -> queued (requeue)\n";
	struct fx *f = *state;
	FILE *out = tmpfile();
	struct queue *q;
	struct qrun *r1, *r2;
	long long n = -1, lost = -1;
	int64_t requeued = -1;
	char *got;

	assert_non_null(out);
	/* "states" among other flags */
	setenv("NIGHTSHIFT_TRACE", "ingest,states", 1);
	assert_int_equal(queue_open(f->path, QUEUE_OPEN_CREATE, &q, NULL, 0),
			 QUEUE_OK);
	jobstate__trace_to(q, out);
	{
		struct ingest *in;
		enum ingest_verdict v;

		assert_int_equal(ingest_begin(q, 0, &in), QUEUE_OK);
		for (int i = 0; i < 4; i++) {
			char id[8];
			struct ingest_job j = {.custom_id = id,
					       .body = "{}",
					       .body_len = 2,
					       .max_cost_usd = -1};

			snprintf(id, sizeof(id), "%c", 'a' + i);
			assert_int_equal(ingest_add(in, &j, &v), QUEUE_OK);
		}
		assert_int_equal(ingest_commit(&in), QUEUE_OK);
	}

	assert_int_equal(qrun_open(q, "host:1:one", &r1), QUEUE_OK);
	assert_int_equal(claim(r1, 1, 1000), 4);
	assert_int_equal(qrun_begin(r1), QUEUE_OK);
	fate(r1, 1, COMPLETE_RETRY, 5);
	fate(r1, 2, COMPLETE_DONE, 0);
	fate(r1, 3, COMPLETE_DEAD, 0);
	fate(r1, 4, COMPLETE_RELEASE, 0);
	assert_int_equal(qrun_commit(r1), QUEUE_OK);
	/* due first: 4 (released as it was), then 1 (retried for 5) */
	assert_int_equal(claim(r1, 10, 1000), 2);
	/* Job 4's lease passes to another run (by hand, untraced); run one
	 * finishes it all the same. */
	raw_exec(f->path, "UPDATE jobs SET lease_owner = 'host:3:three' "
			  "WHERE id = 4");
	assert_int_equal(qrun_begin(r1), QUEUE_OK);
	fate(r1, 4, COMPLETE_DONE, 0);
	assert_int_equal(qrun_commit(r1), QUEUE_OK);

	/* Run one is gone: run two takes job 1 back, leases it, lets the
	 * lease expire, takes it back again, then ends with it leased. */
	assert_int_equal(qrun_open(q, "host:2:two", &r2), QUEUE_OK);
	assert_int_equal(claim_recover(r2, 20, alive, "host:1:one", &n, &lost),
			 QUEUE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(claim(r2, 20, 30), 1);
	assert_int_equal(claim_recover(r2, 40, all_alive, NULL, &n, &lost),
			 QUEUE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(claim(r2, 50, 1000), 1);
	assert_int_equal(qrun_begin(r2), QUEUE_OK);
	assert_int_equal(claim_release_all(r2), QUEUE_OK);
	assert_int_equal(qrun_commit(r2), QUEUE_OK);
	assert_int_equal(retry_dead(q, NULL, 0, NULL, &requeued), QUEUE_OK);
	assert_int_equal(requeued, 1);

	got = read_all(out);
	assert_string_equal(got, want);
	free(got);
	qrun_close(&r2);
	qrun_close(&r1);
	queue_close(&q);
	fclose(out);
}

/* With the trace on, a change of state outside the table fails, even one
 * written by hand or one whose to-state was bound past jobstate_bind_to;
 * a hand-made change the table allows goes through, traced as unnamed.
 * Without the trace nothing checks (and nothing is paid). */
static void changes_outside_the_table_fail_with_the_trace(void **state)
{
	struct fx *f = *state;
	FILE *out = tmpfile();
	struct queue *q = queued(f->path, NULL, 3);
	sqlite3_stmt *st;
	char *got;

	queue_close(&q);
	raw_exec(f->path, "UPDATE jobs SET state = 3 WHERE id = 1; UPDATE jobs "
			  "SET state = 1 WHERE id = 2");
	setenv("NIGHTSHIFT_TRACE", "states", 1);
	assert_int_equal(queue_open(f->path, 0, &q, NULL, 0), QUEUE_OK);
	jobstate__trace_to(q, out);
	/* dead -> done, done -> queued: no move makes them */
	assert_int_equal(sqlite3_exec(q->db,
				      "UPDATE jobs SET state = 2 WHERE id = 1",
				      NULL, NULL, NULL),
			 SQLITE_ERROR);
	assert_non_null(strstr(sqlite3_errmsg(q->db),
			       "job 1: dead -> done is not a transition"));
	assert_int_equal(sqlite3_exec(q->db,
				      "INSERT INTO jobs (custom_id, state, "
				      "body_hash, request, est_input_tokens, "
				      "max_output_tokens, created_at, "
				      "updated_at) VALUES ('x', 2, 1, x'00', "
				      "1, 0, 0, 0)",
				      NULL, NULL, NULL),
			 SQLITE_ERROR);
	/* running -> queued is a move's: allowed, but named by none */
	assert_int_equal(sqlite3_exec(q->db,
				      "UPDATE jobs SET state = 0 WHERE id = 2",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	/* a finish whose to-state was bound by hand, as queued */
	assert_int_equal(jobstate_prepare(q, JOBSTATE_FINISH_LAPSED, NULL,
					  "id = ?1", 2, &st),
			 QUEUE_OK);
	sqlite3_bind_int(st, 1, 3);
	sqlite3_bind_int(st, 2, JOB_QUEUED);
	assert_int_equal(sqlite3_step(st), SQLITE_ERROR);
	sqlite3_finalize(st);
	got = read_all(out);
	assert_string_equal(
		got, "nightshift: trace: job 1 dead -> done (refused)\n"
		     "nightshift: trace: job 4 new -> done (refused)\n"
		     "nightshift: trace: job 2 running -> queued (no move "
		     "named)\n"
		     "nightshift: trace: job 3 queued -> queued (refused)\n");
	free(got);
	queue_close(&q);
	fclose(out);

	unsetenv("NIGHTSHIFT_TRACE");
	assert_int_equal(queue_open(f->path, 0, &q, NULL, 0), QUEUE_OK);
	assert_int_equal(sqlite3_exec(q->db,
				      "UPDATE jobs SET state = 2 WHERE id = 1",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	queue_close(&q);
}

/* The SQL statements q runs, as written (for their query plans). */
struct seen {
	char *sql[64];
	int n;
};

static int record(unsigned type, void *ctx, void *p, void *x)
{
	struct seen *s = ctx;

	(void)type;
	(void)p;
	if (s->n < 64)
		s->sql[s->n++] = strdup((const char *)x);
	return 0;
}

/* plan_of: the query plan of the statement seen that holds needle, as
 * one line of its details. */
static void plan_of(struct queue *q, const struct seen *s, const char *needle,
		    char *plan, size_t cap)
{
	const char *sql = NULL;
	char *eqp;
	sqlite3_stmt *st;
	size_t len = 0;

	for (int i = 0; i < s->n && !sql; i++)
		if (strstr(s->sql[i], needle))
			sql = s->sql[i];
	if (!sql)
		fail_msg("no statement holds \"%s\"", needle);
	eqp = malloc(strlen(sql) + 32);
	sprintf(eqp, "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(q->db, eqp, -1, &st, NULL),
			 SQLITE_OK);
	plan[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && len < cap)
		len += (size_t)snprintf(plan + len, cap - len, "%s; ",
					sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	free(eqp);
}

/* The reads and moves that find jobs by state use the partial index of
 * that state (schema: jobs_ready, jobs_leased, jobs_dead), which SQLite
 * does only when the query spells the state as the index does. */
static void reads_by_state_use_the_partial_indexes(void **state)
{
	static const struct {
		const char *needle, *index;
	} want[] = {
		{"ORDER BY priority DESC", "jobs_ready"},  /* claim */
		{"SET not_before = 0", "jobs_ready"},      /* unpark */
		{"count(*) FILTER", "jobs_ready"},         /* backlog */
		{"DISTINCT lease_owner", "jobs_leased"},   /* recovery */
		{"lease_expires < ?1", "jobs_leased"},     /* recovery */
		{"count(*) FROM jobs WHERE state = 3", "jobs_dead"},
		{"DELETE FROM results", "jobs_dead"},      /* requeue */
		{"attempts = 0, candidate", "jobs_dead"},  /* requeue */
	};
	struct fx *f = *state;
	struct queue *q = queued(f->path, NULL, 3);
	struct seen seen = {.n = 0};
	struct qrun *r;
	long long n, a, b, c, lost;
	int64_t due, requeued;
	char plan[600];

	assert_int_equal(qrun_open(q, "host:1:run", &r), QUEUE_OK);
	sqlite3_trace_v2(q->db, SQLITE_TRACE_STMT, record, &seen);
	assert_int_equal(qrun_begin(r), QUEUE_OK);
	assert_int_equal(claim_unpark(r, &n), QUEUE_OK);
	assert_int_equal(qrun_commit(r), QUEUE_OK);
	assert_int_equal(claim_recover(r, 1, all_alive, NULL, &n, &lost),
			 QUEUE_OK);
	assert_int_equal(stats_backlog(r, &a, &due, &b, &c), QUEUE_OK);
	assert_int_equal(claim(r, 1, 1000), 3);
	assert_int_equal(stats_dead(r, &n), QUEUE_OK);
	assert_int_equal(retry_dead(q, NULL, 0, NULL, &requeued), QUEUE_OK);
	sqlite3_trace_v2(q->db, 0, NULL, NULL);
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		plan_of(q, &seen, want[i].needle, plan, sizeof(plan));
		if (!strstr(plan, want[i].index))
			fail_msg("\"%s\": %s, not %s", want[i].needle, plan,
				 want[i].index);
	}
	for (int i = 0; i < seen.n; i++)
		free(seen.sql[i]);
	qrun_close(&r);
	queue_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(table_allows_its_transitions_and_no_other),
		T(statements_come_from_the_table_and_nothing_else),
		T(trace_names_every_move_of_a_run),
		T(changes_outside_the_table_fail_with_the_trace),
		T(reads_by_state_use_the_partial_indexes),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
