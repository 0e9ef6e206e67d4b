/* claim.c — claims, leases and their recovery (see claim.h).
 *
 * A lease is the pair (lease_owner, lease_expires) on a running job. The
 * run renews its leases while it works, so a lease expires only when its
 * run stopped renewing: killed, hung, or on a host that went away. A run
 * that starts takes back such jobs, and those of owners on this host that
 * no longer run, before claiming any: that is how a killed run resumes. */
#include "queue/claim.h"

#include <stdlib.h>
#include <string.h>

#include "queue/jobstate.h"
#include "queue/ledger.h"
#include "queue/run_int.h"
#include "util/xalloc.h"

void claim_job_clear(struct claim_job *j)
{
	free(j->custom_id);
	free(j->body);
	free(j->frame);
	free(j->providers);
	memset(j, 0, sizeof(*j));
}

int claim_job_decode(struct claim_job *j, struct blob_codec *c)
{
	const void *p;
	size_t n;

	if (blob_decompress(c, j->dict, j->frame, j->frame_len, &p, &n))
		return -1;
	j->body = xstrndup(p, n);
	j->body_len = n;
	free(j->frame);
	j->frame = NULL;
	j->frame_len = 0;
	return 0;
}

/* changed: run st to its end and reset it; *n += the rows it changed. */
static int changed(struct qrun *r, sqlite3_stmt *st, long long *n,
		   const char *what)
{
	int rc = qstep(r->q, st, what);

	if (rc == QUEUE_OK)
		*n += sqlite3_changes(r->q->db);
	return rc;
}

/* dead_owners: the owners of leases that alive says are gone; *out new,
 * *n of them, each freed by the caller. */
static int dead_owners(struct qrun *r,
		       int (*alive)(const char *owner, void *arg), void *arg,
		       char ***out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q,
			"SELECT DISTINCT lease_owner FROM jobs WHERE state = "
			JOBSTATE_SQL(RUNNING),
			&st, "recovering leases");

	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *o = (const char *)sqlite3_column_text(st, 0);

		/* jobs inside provider batches are the lane's to settle */
		if (o && strcmp(o, CLAIM_BATCH_OWNER) != 0 && !alive(o, arg)) {
			*out = xrealloc(*out, (*n + 1) * sizeof(**out));
			(*out)[(*n)++] = xstrdup(o);
		}
	}
	return qend(r->q, st, rc, "recovering leases");
}

int claim_recover(struct qrun *r, int64_t now_ms,
		  int (*alive)(const char *owner, void *arg), void *arg,
		  long long *recovered, long long *lost)
{
	static const char *const RESET = "lease_owner = NULL, "
					 "lease_expires = NULL";
	sqlite3_stmt *st = NULL;
	char **dead = NULL;
	size_t ndead = 0;
	int rc;

	*recovered = *lost = 0;
	if ((rc = dead_owners(r, alive, arg, &dead, &ndead)) ||
	    (rc = qrun_begin(r)))
		goto out;
	/* first what the dead had sent: it holds those jobs until then */
	for (size_t i = 0; i < ndead && rc == QUEUE_OK; i++)
		rc = ledger_lost(r, dead[i], lost);
	if (rc == QUEUE_OK)
		rc = jobstate_prepare(r->q, JOBSTATE_RECOVER_OWNER, RESET,
			      "lease_owner = ?1", 0, &st);
	for (size_t i = 0; i < ndead && rc == QUEUE_OK; i++) {
		sqlite3_bind_text(st, 1, dead[i], -1, SQLITE_STATIC);
		rc = changed(r, st, recovered, "recovering leases");
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc == QUEUE_OK)
		rc = jobstate_prepare(r->q, JOBSTATE_RECOVER_EXPIRED, RESET,
				      "lease_expires < ?1", 0, &st);
	if (rc == QUEUE_OK) {
		sqlite3_bind_int64(st, 1, now_ms);
		rc = changed(r, st, recovered, "recovering leases");
	}
	sqlite3_finalize(st);
	if (rc == QUEUE_OK)
		rc = qrun_commit(r);
	else
		qrun_rollback(r);
out:
	for (size_t i = 0; i < ndead; i++)
		free(dead[i]);
	free(dead);
	return rc;
}

int claim_read_row(struct queue *q, sqlite3_stmt *st, struct claim_job *j)
{
	const char *prov;

	memset(j, 0, sizeof(*j));
	j->frame_len = (size_t)sqlite3_column_bytes(st, 2);
	if (qframe_dict(q, sqlite3_column_blob(st, 2), j->frame_len,
			&j->dict))
		return QUEUE_EINVAL;
	j->id = sqlite3_column_int64(st, 0);
	j->custom_id = xstrdup((const char *)sqlite3_column_text(st, 1));
	j->frame = xmalloc(j->frame_len ? j->frame_len : 1);
	if (j->frame_len) /* an empty blob reads as NULL */
		memcpy(j->frame, sqlite3_column_blob(st, 2), j->frame_len);
	j->attempts = sqlite3_column_int(st, 3);
	j->candidate = sqlite3_column_int(st, 4);
	j->cand_attempts = sqlite3_column_int(st, 5);
	j->est_input_tokens = sqlite3_column_int64(st, 6);
	j->max_output_tokens = sqlite3_column_int64(st, 7);
	j->max_cost_usd = sqlite3_column_type(st, 8) == SQLITE_NULL
				  ? -1
				  : sqlite3_column_double(st, 8);
	prov = (const char *)sqlite3_column_text(st, 9);
	j->providers = prov ? xstrdup(prov) : NULL;
	j->cand_exhausted = (unsigned)sqlite3_column_int64(st, 10);
	j->spent_usd = sqlite3_column_double(st, 11);
	j->cand_invalid = sqlite3_column_int(st, 12);
	j->lane = sqlite3_column_int(st, 13);
	return QUEUE_OK;
}

struct claim_scan {
	struct queue *q;
	sqlite3_stmt *st;
};

int claim_scan_sql(struct queue *q, const char *sql, int64_t arg,
		   struct claim_scan **out)
{
	struct claim_scan *c = xcalloc(1, sizeof(*c));
	int rc;

	c->q = q;
	if ((rc = qexec(q, "BEGIN", "reading the queue")) ||
	    (rc = qquery(q, sql, &c->st, "reading the queue"))) {
		if (rc != QUEUE_OK)
			qexec(q, "ROLLBACK", "reading the queue");
		free(c);
		return rc;
	}
	if (sqlite3_bind_parameter_count(c->st) > 0)
		sqlite3_bind_int64(c->st, 1, arg);
	*out = c;
	return QUEUE_OK;
}

int claim_scan_open(struct queue *q, struct claim_scan **out)
{
	/* the claim's columns, every job a run would still send (queued,
	 * parked or held by a run), in id order, read in one transaction */
	return claim_scan_sql(q,
			      "SELECT " CLAIM_COLS " FROM jobs WHERE state = "
			      JOBSTATE_SQL(QUEUED) " OR (state = "
			      JOBSTATE_SQL(RUNNING) " AND lease_owner IS NOT '"
			      CLAIM_BATCH_OWNER "') ORDER BY id",
			      0, out);
}

int claim_scan_next(struct claim_scan *c, struct claim_job *j)
{
	int rc = sqlite3_step(c->st);

	if (rc == SQLITE_ROW)
		return claim_read_row(c->q, c->st, j) ? QUEUE_EINVAL : 1;
	return rc == SQLITE_DONE ? 0 : qfail(c->q, rc, "reading the queue");
}

void claim_scan_close(struct claim_scan **cp)
{
	if (!cp || !*cp)
		return;
	sqlite3_finalize((*cp)->st);
	qexec((*cp)->q, "COMMIT", "reading the queue");
	free(*cp);
	*cp = NULL;
}

int claim_read_rows(struct queue *q, sqlite3_stmt *st, int limit,
		    struct claim_job *out, int *n)
{
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
		if (claim_read_row(q, st, &out[*n]))
			return SQLITE_CORRUPT;
		(*n)++;
	}
	return rc;
}

int claim_jobs(struct qrun *r, int64_t now_ms, int64_t lease_until_ms,
	       int limit, struct claim_job *out, int *n)
{
	sqlite3_stmt *st = r->st[QRUN_S_CLAIM];
	sqlite3_stmt *lease = r->st[QRUN_S_LEASE];
	int rc;

	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, limit);
	rc = claim_read_rows(r->q, st, limit, out, n);
	/* The message is taken at once: a bind on any statement clears
	 * the connection's error, and a read that failed (an I/O error)
	 * said "not an error" (issue 17, iofault.sh). */
	if (rc != SQLITE_DONE && rc != SQLITE_CORRUPT)
		rc = qfail(r->q, rc, "claiming jobs");
	else if (rc == SQLITE_CORRUPT)
		rc = QUEUE_EINVAL; /* message set by qframe_dict */
	else
		rc = QUEUE_OK;
	sqlite3_reset(st);
	/* The rows read are leased once the read is over: a statement
	 * that changes the rows another one is still reading leaves what
	 * the reader sees undefined. */
	sqlite3_bind_text(lease, 2, r->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(lease, 3, lease_until_ms);
	sqlite3_bind_int64(lease, 4, now_ms);
	for (int i = 0; i < *n && rc == QUEUE_OK; i++) {
		int step;

		sqlite3_bind_int64(lease, 1, out[i].id);
		if ((step = sqlite3_step(lease)) != SQLITE_DONE)
			rc = qfail(r->q, step, "claiming jobs");
		sqlite3_reset(lease);
	}
	if (rc == QUEUE_OK)
		return QUEUE_OK;
	for (int i = 0; i < *n; i++)
		claim_job_clear(&out[i]);
	*n = 0;
	return rc;
}

int claim_renew(struct qrun *r, int64_t lease_until_ms)
{
	sqlite3_bind_text(r->st[QRUN_S_RENEW], 1, r->owner, -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(r->st[QRUN_S_RENEW], 2, lease_until_ms);
	return qrun_step(r, QRUN_S_RENEW, "renewing leases");
}

int claim_release_all(struct qrun *r)
{
	int rc;

	sqlite3_bind_text(r->st[QRUN_S_RELEASE_ALL], 1, r->owner, -1,
			  SQLITE_STATIC);
	if ((rc = qrun_step(r, QRUN_S_RELEASE_ALL, "releasing jobs")))
		return rc;
	/* whatever was in flight has been recorded, or given up unsent */
	sqlite3_bind_text(r->st[QRUN_S_INFLIGHT_CLEAR], 1, r->owner, -1,
			  SQLITE_STATIC);
	return qrun_step(r, QRUN_S_INFLIGHT_CLEAR, "releasing jobs");
}

int claim_unpark(struct qrun *r, long long *n)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q,
			"UPDATE jobs SET not_before = 0 WHERE state = "
			JOBSTATE_SQL(QUEUED) " AND not_before >= ?1",
			&st, "unparking jobs");

	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, CLAIM_PARKED);
	rc = changed(r, st, n, "unparking jobs");
	sqlite3_finalize(st);
	return rc;
}
