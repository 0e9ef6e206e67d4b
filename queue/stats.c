/* stats.c — aggregate counts over the queue and the ledger. A full scan of
 * jobs is fine for stats_read: status is run by a person, not per job. A
 * run's counts read only the partial indexes of queued and dead jobs, at
 * its start and end. */
#include "queue/stats.h"

#include <string.h>

#include "queue/claim.h"
#include "queue/jobstate.h"
#include "queue/run_int.h"
#include "util/clock.h"
#include "util/sat.h"

int stats_read(struct queue *q, struct stats *s)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	/* Reads in one transaction so the counts agree with each other. */
	if ((rc = qexec(q, "BEGIN", "reading status")))
		return rc;
	if ((rc = qquery(q,
			 "SELECT state, count(*), sum(not_before > ?1 AND "
			 "not_before < ?2), sum(length(request)), "
			 "sum(not_before >= ?2) FROM jobs GROUP BY state",
			 &st, "reading status")))
		goto out;
	sqlite3_bind_int64(st, 1, clk_wall_ms());
	sqlite3_bind_int64(st, 2, CLAIM_PARKED);
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
	rc = qend(q, st, rc, "reading status");
	st = NULL;
	if (rc || (rc = qone_row(q,
				 "SELECT count(*), total(cost_usd), "
				 "total(tokens_in + tokens_cached + "
				 "tokens_cache_write), total(tokens_out + "
				 "tokens_reasoning) FROM attempts",
				 &st, "reading status")))
		goto out;
	s->requests = sqlite3_column_int64(st, 0);
	s->spend_usd = sqlite3_column_double(st, 1);
	/* total() is a real: past int64 a cast would be undefined */
	s->tokens_in = sat_of_double(sqlite3_column_double(st, 2));
	s->tokens_out = sat_of_double(sqlite3_column_double(st, 3));
	rc = QUEUE_OK;
out:
	sqlite3_finalize(st);
	sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* CLAIM_PARKED as SQL text, for the backlog's filters. */
#define PARKED_SQL "4611686018427387904"
_Static_assert(CLAIM_PARKED == 4611686018427387904, "stats.c: PARKED_SQL");

int stats_backlog(struct qrun *r, long long *queued, int64_t *next_due_ms,
		  long long *parked, long long *others_running)
{
	sqlite3_stmt *st = NULL;
	int rc = qone_row(r->q,
			  "SELECT count(*) FILTER (WHERE not_before < "
			  PARKED_SQL "), coalesce(min(not_before) FILTER "
			  "(WHERE not_before < " PARKED_SQL "), 0), count(*) "
			  "FILTER (WHERE not_before >= " PARKED_SQL ") FROM "
			  "jobs WHERE state = " JOBSTATE_SQL(QUEUED),
			  &st, "reading the queue");

	if (rc)
		return rc;
	*queued = sqlite3_column_int64(st, 0);
	*next_due_ms = sqlite3_column_int64(st, 1);
	*parked = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	*others_running = 0;
	if ((rc = qquery(r->q,
			 "SELECT count(*) FROM jobs WHERE state = "
			 JOBSTATE_SQL(RUNNING) " AND lease_owner IS NOT ?1",
			 &st, "reading the queue")))
		return rc;
	sqlite3_bind_text(st, 1, r->owner, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*others_running = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE; /* count(*): one row is all there is */
	}
	return qend(r->q, st, rc, "reading the queue");
}

int stats_dead(struct qrun *r, long long *n)
{
	/* The state spelled as jobs_dead's WHERE is (jobstate.h): a bound
	 * parameter would not match the partial index, and the count would
	 * read the whole table. */
	return qone_int(r->q,
			"SELECT count(*) FROM jobs WHERE state = "
			JOBSTATE_SQL(DEAD),
			n, "reading the queue");
}
