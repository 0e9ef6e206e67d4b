/* stats.c — aggregate counts over the queue and the ledger. A full scan of
 * jobs is fine here: status is run by a person, not per job. */
#include "queue/stats.h"

#include <string.h>

#include "queue/queue_int.h"
#include "queue/run.h"
#include "util/clock.h"

static int run(struct queue *q, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? QUEUE_OK : qfail(q, rc, "reading status");
}

int queue_stats(struct queue *q, struct queue_stats *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	/* Reads in one transaction so the counts agree with each other. */
	if ((rc = qexec(q, "BEGIN", "reading status")))
		return rc;
	if ((rc = run(q,
		      "SELECT state, count(*), sum(not_before > ?1 AND "
		      "not_before < ?2), sum(length(request)), "
		      "sum(not_before >= ?2) FROM jobs GROUP BY state",
		      &st)))
		goto out;
	sqlite3_bind_int64(st, 1, clk_wall_ms());
	sqlite3_bind_int64(st, 2, QRUN_PARKED);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 0);

		if (state < 0 || state >= JOB_NSTATES)
			continue;
		s->by_state[state] = sqlite3_column_int64(st, 1);
		s->total += s->by_state[state];
		if (state == JOB_QUEUED) {
			s->waiting = sqlite3_column_int64(st, 2);
			s->parked = sqlite3_column_int64(st, 4);
		}
		s->body_bytes += sqlite3_column_int64(st, 3);
	}
	if (rc != SQLITE_DONE) {
		rc = qfail(q, rc, "reading status");
		goto out;
	}
	sqlite3_finalize(st);
	if ((rc = run(q,
		      "SELECT count(*), total(cost_usd), "
		      "total(tokens_in + tokens_cached + tokens_cache_write), "
		      "total(tokens_out + tokens_reasoning) FROM attempts",
		      &st)))
		goto out;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		rc = qfail(q, rc, "reading status");
		goto out;
	}
	s->requests = sqlite3_column_int64(st, 0);
	s->spend_usd = sqlite3_column_double(st, 1);
	s->tokens_in = (int64_t)sqlite3_column_double(st, 2);
	s->tokens_out = (int64_t)sqlite3_column_double(st, 3);
	rc = QUEUE_OK;
out:
	sqlite3_finalize(st);
	sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}
