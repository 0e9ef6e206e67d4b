/* retry.c — dead jobs back into the queue.
 *
 * A requeued job starts over (attempt count, backoff and lease cleared)
 * and loses its result, since a job has at most one; the attempts ledger
 * is left alone, so the report still shows what the first try cost. The
 * write happens in one IMMEDIATE transaction: a run working on the same
 * file sees either none of the jobs back or all of them. */
#include "queue/retry.h"

#include <stdio.h>
#include <stdlib.h>

#include "queue/jobstate.h"
#include "queue/queue_int.h"
#include "util/clock.h"
#include "util/killpoint.h"
#include "util/xalloc.h"

/* Everything a run keeps per job goes back to how ingest left it. */
static const char RESET[] =
	"attempts = 0, candidate = -1, cand_attempts = 0, cand_exhausted = 0, "
	"cand_invalid = 0, "
	"not_before = 0, lease_owner = NULL, lease_expires = NULL, "
	"last_error = NULL, updated_at = ?1";

static int retry_all(struct queue *q, int64_t *requeued)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* The states spelled as jobs_dead's WHERE is (jobstate.h), so both
	 * statements read that index, not the whole table. */
	rc = qexec(q,
		   "DELETE FROM results WHERE job_id IN (SELECT id FROM jobs "
		   "WHERE state = " JOBSTATE_SQL(DEAD) ")",
		   "requeueing jobs");
	if (rc)
		return rc;
	if ((rc = jobstate_prepare(q, JOBSTATE_REQUEUE, RESET, NULL, 0, &st)))
		return rc;
	sqlite3_bind_int64(st, 1, clk_wall_ms());
	if ((rc = qstep(q, st, "requeueing jobs")) == QUEUE_OK)
		*requeued = sqlite3_changes64(q->db);
	sqlite3_finalize(st);
	return rc;
}

static int retry_some(struct queue *q, const char *const *ids, size_t n,
		      int *prev, int64_t *requeued)
{
	sqlite3_stmt *get = NULL, *del = NULL, *upd = NULL;
	int64_t *rowid = xcalloc(n, sizeof(*rowid));
	int rc;

	if ((rc = qprepare(q, "SELECT id, state FROM jobs WHERE custom_id = ?1",
			   &get)) ||
	    (rc = qprepare(q, "DELETE FROM results WHERE job_id = ?1", &del)) ||
	    (rc = jobstate_prepare(q, JOBSTATE_REQUEUE, RESET, "id = ?2", 0,
				   &upd)))
		goto out;
	sqlite3_bind_int64(upd, 1, clk_wall_ms());
	/* Look every name up before changing anything, so a name given twice
	 * reads "dead" both times and an unknown name changes nothing. */
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(get, 1, ids[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(get);
		if (rc == SQLITE_ROW) {
			rowid[i] = sqlite3_column_int64(get, 0);
			prev[i] = sqlite3_column_int(get, 1);
		}
		sqlite3_reset(get);
		if (rc == SQLITE_DONE) {
			snprintf(q->err, sizeof(q->err), "no job \"%s\"",
				 ids[i]);
			rc = QUEUE_ENOENT;
			goto out;
		}
		if (rc != SQLITE_ROW) {
			rc = qfail(q, rc, "requeueing jobs");
			goto out;
		}
	}
	rc = QUEUE_OK;
	for (size_t i = 0; i < n; i++) {
		if (prev[i] != JOB_DEAD)
			continue;
		sqlite3_bind_int64(upd, 2, rowid[i]);
		if ((rc = qstep(q, upd, "requeueing jobs")))
			goto out;
		if (sqlite3_changes64(q->db) == 0)
			continue; /* named twice: already requeued */
		(*requeued)++;
		sqlite3_bind_int64(del, 1, rowid[i]);
		if ((rc = qstep(q, del, "requeueing jobs")))
			goto out;
	}
out:
	sqlite3_finalize(upd);
	sqlite3_finalize(del);
	sqlite3_finalize(get);
	free(rowid);
	return rc;
}

int retry_dead(struct queue *q, const char *const *ids, size_t nids,
	       int *prev, int64_t *requeued)
{
	int rc, open = 0;

	*requeued = 0;
	if ((rc = qbegin(q, &open, "requeueing jobs")))
		return rc;
	rc = nids ? retry_some(q, ids, nids, prev, requeued)
		  : retry_all(q, requeued);
	kill_point("retry"); /* the crash tests' seam */
	if (rc == QUEUE_OK)
		rc = qcommit(q, &open, "requeueing jobs");
	if (rc) {
		qrollback(q, &open);
		*requeued = 0;
	}
	return rc;
}
