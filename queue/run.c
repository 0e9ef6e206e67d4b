/* run.c — a run's session: its prepared statements and transactions (see
 * run.h). The statements are all here, prepared once per run; claim.c,
 * complete.c and ledger.c bind and step them. Those that change a job's
 * state are built from the transition table (jobstate.h). */
#include "queue/run.h"

#include <stdlib.h>

#include "queue/jobstate.h"
#include "queue/run_int.h"
#include "util/xalloc.h"

/* A statement: plain SQL, or (sql NULL) a move of the transition table
 * with the rest of its UPDATE. */
static const struct stmt {
	const char *sql;
	enum jobstate_move move;
	const char *set, *where;
	int to_param;
} STMTS[QRUN_S_COUNT] = {
	/* Read first, then leased row by row: an UPDATE ... RETURNING
	 * would copy every row it returns, request and all, into a table of
	 * its own first (2.5k instructions a job). The store's transaction
	 * holds the write lock from the read on, so no other run can lease
	 * the same rows in between. */
	[QRUN_S_CLAIM] = {"SELECT " CLAIM_COLS " FROM jobs WHERE state = "
			  JOBSTATE_SQL(QUEUED) " AND not_before <= ?1 ORDER "
			  "BY priority DESC, not_before, id LIMIT ?2"},
	[QRUN_S_LEASE] = {.move = JOBSTATE_LEASE,
			  .set = "lease_owner = ?2, lease_expires = ?3, "
				 "updated_at = ?4",
			  .where = "id = ?1"},
	[QRUN_S_RENEW] = {"UPDATE jobs SET lease_expires = ?2 WHERE state = "
			  JOBSTATE_SQL(RUNNING) " AND lease_owner = ?1"},
	[QRUN_S_ATTEMPT] = {"INSERT INTO attempts (job_id, run_id, provider, "
			    "model, sent_at, http_status, error_class, "
			    "latency_ms, tokens_in, tokens_cached, "
			    "tokens_cache_write, tokens_out, "
			    "tokens_reasoning, cost_usd, action, cost_basis, "
			    "lane, cost_sync_usd) VALUES (?1, ?2, ?3, ?4, ?5, "
			    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
			    "?17, ?18)"},
	/* Only while we hold the lease: a job whose lease we lost belongs
	 * to whoever took it. */
	[QRUN_S_RETRY] = {.move = JOBSTATE_RETRY,
			  .set = "lease_owner = NULL, lease_expires = NULL, "
				 "attempts = attempts + ?3, candidate = ?4, "
				 "cand_attempts = ?5, not_before = ?6, "
				 "last_error = ?7, updated_at = ?8, "
				 "cand_exhausted = ?9, spent_usd = spent_usd "
				 "+ ?10, cand_invalid = ?11",
			  .where = "id = ?1 AND lease_owner = ?2"},
	/* While our lease holds nobody else has touched the row since the
	 * claim, and the result can be written from what the claim read
	 * (QRUN_S_RESULT_OWN: its attempts and spent_usd, plus this
	 * request) instead of reading the row back. */
	[QRUN_S_FINISH] = {.move = JOBSTATE_FINISH,
			   .set = "lease_owner = NULL, lease_expires = NULL, "
				  "attempts = attempts + ?3, last_error = ?4, "
				  "updated_at = ?5, spent_usd = spent_usd + ?6",
			   .where = "id = ?1 AND lease_owner = ?7",
			   .to_param = QRUN_FINISH_TO},
	/* A finished job is finished even if our lease lapsed: the work
	 * was paid for, and results.job_id keeps it to one result. */
	[QRUN_S_FINISH_LAPSED] = {.move = JOBSTATE_FINISH_LAPSED,
				  .set = "lease_owner = NULL, lease_expires = "
					 "NULL, attempts = attempts + ?3, "
					 "last_error = ?4, updated_at = ?5, "
					 "spent_usd = spent_usd + ?6",
				  .where = "id = ?1",
				  .to_param = QRUN_FINISH_TO},
	[QRUN_S_RESULT] = {"INSERT OR IGNORE INTO results (job_id, provider, "
			   "model, status_code, request_id, body, error_code, "
			   "error_message, attempts, cost_usd, latency_ms, "
			   "finished_at, cost_ref_usd, lane) SELECT ?1, ?2, "
			   "?3, ?4, ?5, ?6, ?7, ?8, j.attempts, j.spent_usd, "
			   "?9, ?10, ?11, ?14 FROM jobs j WHERE j.id = ?1"},
	[QRUN_S_RESULT_OWN] = {"INSERT OR IGNORE INTO results (job_id, "
			       "provider, model, status_code, request_id, "
			       "body, error_code, error_message, attempts, "
			       "cost_usd, latency_ms, finished_at, "
			       "cost_ref_usd, lane) VALUES (?1, ?2, ?3, ?4, "
			       "?5, ?6, ?7, ?8, ?12, ?13, ?9, ?10, ?11, ?14)"},
	[QRUN_S_RELEASE] = {.move = JOBSTATE_RELEASE,
			    .set = "lease_owner = NULL, lease_expires = NULL, "
				   "updated_at = ?3",
			    .where = "id = ?1 AND lease_owner = ?2"},
	[QRUN_S_RELEASE_ALL] = {.move = JOBSTATE_RELEASE_ALL,
				.set = "lease_owner = NULL, lease_expires = "
				       "NULL",
				.where = "lease_owner = ?1"},
	[QRUN_S_RESULT_BODY] = {"UPDATE results SET body = ?1 WHERE job_id = "
				"?2"},
	/* The cost of a request whose job is no longer ours to update (our
	 * lease lapsed, or another run finished it): spent_usd stays the
	 * ledger's sum all the same. */
	[QRUN_S_SPEND] = {"UPDATE jobs SET spent_usd = spent_usd + ?2 WHERE "
			  "id = ?1"},
	[QRUN_S_INFLIGHT] = {"INSERT OR REPLACE INTO inflight (owner, at, "
			     "requests) VALUES (?1, ?2, ?3)"},
	[QRUN_S_INFLIGHT_CLEAR] = {"DELETE FROM inflight WHERE owner = ?1"},
};

int qrun_open(struct queue *q, const char *owner, struct qrun **out)
{
	struct qrun *r = xcalloc(1, sizeof(*r));
	int rc = QUEUE_OK;

	r->q = q;
	r->owner = xstrdup(owner);
	r->codec = blob_codec_new();
	sampler_init(&r->sample, q->result_dict == NULL);
	atomic_init(&r->rdict, q->result_dict);
	/* The claim's UPDATE keeps a statement journal; in memory, it
	 * costs no temporary file per claim (nor fails on a full /var/tmp).
	 * Only the run: the report's sort may need files for its size. */
	rc = qexec(q, "PRAGMA temp_store = MEMORY", "opening");
	if (rc == QUEUE_OK)
		rc = jobstate_arm(q); /* the pragma dropped the trace */
	for (int i = 0; i < QRUN_S_COUNT && rc == QUEUE_OK; i++) {
		const struct stmt *s = &STMTS[i];

		rc = s->sql ? qprepare(q, s->sql, &r->st[i])
			    : jobstate_prepare(q, s->move, s->set, s->where,
					       s->to_param, &r->st[i]);
	}
	if (rc) {
		qrun_close(&r);
		return rc;
	}
	*out = r;
	return QUEUE_OK;
}

void qrun_close(struct qrun **rp)
{
	struct qrun *r = *rp;

	if (!r)
		return;
	qrun_rollback(r);
	for (int i = 0; i < QRUN_S_COUNT; i++)
		sqlite3_finalize(r->st[i]);
	blob_codec_free(&r->codec);
	sampler_free(&r->sample);
	free(r->owner);
	free(r);
	*rp = NULL;
}

int qrun_begin(struct qrun *r)
{
	return qbegin(r->q, &r->in_txn, "starting a commit");
}

int qrun_commit(struct qrun *r)
{
	int rc = qcommit(r->q, &r->in_txn, "committing results");

	if (rc)
		qrun_rollback(r);
	return rc;
}

void qrun_rollback(struct qrun *r)
{
	qrollback(r->q, &r->in_txn);
	/* sampled result rows went with the transaction */
	sampler_free(&r->sample);
}
