/* complete.c — job fates and their results (see complete.h).
 *
 * A finish first tries the statement that requires our lease: then the
 * row is as the claim read it, and the result's attempts and cost come
 * from the claim's figures plus this fate's. Only when the lease lapsed is
 * the row finished regardless and the result read back from it. The
 * first results, while there is no result dictionary, are kept as a
 * sample; once it is complete the dictionary is trained and stored, and
 * the sampled rows rewritten with it, in the same transaction. */
#include "queue/complete.h"

#include <stdio.h>

#include "queue/jobstate.h"
#include "queue/run_int.h"
#include "util/clock.h"

const struct blob_dict *complete_result_dict(struct qrun *r)
{
	return atomic_load(&r->rdict);
}

/* store_result: the result row of a finished job; own: our lease held
 * to the end, so f's claimed figures are the row's and the ledger's. */
static int store_result(struct qrun *r, const struct complete_fate *f,
			int own)
{
	enum qrun_stmt s = own ? QRUN_S_RESULT_OWN : QRUN_S_RESULT;
	sqlite3_stmt *st = r->st[s];
	const struct blob_dict *d =
		r->sample.active ? NULL : r->q->result_dict;
	/* A frame made without the dictionary that exists now is made again
	 * with it: one turn's replies come back between the two. */
	int redo = f->zbody && f->body && d &&
		   !blob_frame_dict_id(f->zbody, f->zbody_len);
	int rc;

	sqlite3_bind_int64(st, 1, f->job_id);
	qbind_text(st, 2, f->provider);
	qbind_text(st, 3, f->model);
	if (f->status_code)
		sqlite3_bind_int(st, 4, f->status_code);
	qbind_text(st, 5, f->request_id);
	if (f->zbody && !redo) {
		sqlite3_bind_blob(st, 6, f->zbody, (int)f->zbody_len,
				  SQLITE_STATIC);
	} else if (f->body) {
		const void *z;
		size_t zlen;

		if (blob_compress(r->codec, d, f->body, f->body_len, &z,
				  &zlen)) {
			snprintf(r->q->err, sizeof(r->q->err),
				 "a result is too large to store");
			return QUEUE_EINVAL;
		}
		sqlite3_bind_blob(st, 6, z, (int)zlen, SQLITE_STATIC);
	}
	qbind_text(st, 7, f->error_code);
	qbind_text(st, 8, f->error_message);
	sqlite3_bind_int64(st, 9, f->latency_ms);
	sqlite3_bind_int64(st, 10, clk_wall_ms());
	if (f->cost_ref_usd > 0)
		sqlite3_bind_double(st, 11, f->cost_ref_usd);
	sqlite3_bind_text(st, 14, f->lane ? f->lane : "sync", -1,
			  SQLITE_STATIC);
	if (own) {
		sqlite3_bind_int(st, 12, f->claimed_attempts + f->attempts_add);
		sqlite3_bind_double(st, 13, f->claimed_usd + f->add_usd);
	}
	if ((rc = qrun_step(r, s, "storing a result")))
		return rc;
	if (!f->body || sqlite3_changes(r->q->db) != 1 ||
	    !sampler_add(&r->sample, f->body, f->body_len, f->job_id))
		return QUEUE_OK;
	rc = sampler_train(&r->sample, r->q, r->codec, "result",
			   r->st[QRUN_S_RESULT_BODY]);
	/* Frames made with it are stored in this transaction or later ones,
	 * never without it; a commit that fails stops the run. */
	if (rc == QUEUE_OK)
		atomic_store(&r->rdict, r->q->result_dict);
	return rc;
}

/* finish: move m (finish or finish_lapsed) for f at time now; *own says
 * whether it changed the row. */
static int finish(struct qrun *r, enum qrun_stmt s, enum jobstate_move m,
		  const struct complete_fate *f, int64_t now, int *own)
{
	sqlite3_stmt *st = r->st[s];
	int rc = jobstate_bind_to(r->q, st, QRUN_FINISH_TO, m,
				  f->verb == COMPLETE_DONE ? JOB_DONE
							   : JOB_DEAD);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, f->job_id);
	sqlite3_bind_int(st, 3, f->attempts_add);
	qbind_text(st, 4, f->verb == COMPLETE_DEAD ? f->last_error : NULL);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_double(st, 6, f->add_usd);
	if (s == QRUN_S_FINISH)
		sqlite3_bind_text(st, 7, r->owner, -1, SQLITE_STATIC);
	if ((rc = qrun_step(r, s, "finishing a job")))
		return rc;
	*own = sqlite3_changes(r->q->db) == 1;
	return QUEUE_OK;
}

/* spend: f's request cost counted on a job row that f's other updates
 * no longer match. */
static int spend(struct qrun *r, const struct complete_fate *f)
{
	if (f->add_usd == 0)
		return QUEUE_OK;
	sqlite3_bind_int64(r->st[QRUN_S_SPEND], 1, f->job_id);
	sqlite3_bind_double(r->st[QRUN_S_SPEND], 2, f->add_usd);
	return qrun_step(r, QRUN_S_SPEND, "recording a job's spend");
}

static int retry(struct qrun *r, const struct complete_fate *f, int64_t now)
{
	sqlite3_stmt *st = r->st[QRUN_S_RETRY];
	int rc;

	sqlite3_bind_int64(st, 1, f->job_id);
	sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, f->attempts_add);
	sqlite3_bind_int(st, 4, f->candidate);
	sqlite3_bind_int(st, 5, f->cand_attempts);
	sqlite3_bind_int64(st, 6, f->not_before_ms);
	qbind_text(st, 7, f->last_error);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_int64(st, 9, f->cand_exhausted);
	sqlite3_bind_double(st, 10, f->add_usd);
	sqlite3_bind_int(st, 11, f->cand_invalid);
	if ((rc = qrun_step(r, QRUN_S_RETRY, "requeueing a job")))
		return rc;
	return sqlite3_changes(r->q->db) == 1 ? QUEUE_OK : spend(r, f);
}

int complete_job(struct qrun *r, const struct complete_fate *f)
{
	sqlite3_stmt *st;
	int64_t now = clk_wall_ms();
	int rc, own, moved;

	switch (f->verb) {
	case COMPLETE_RETRY:
		return retry(r, f, now);
	case COMPLETE_RELEASE:
		st = r->st[QRUN_S_RELEASE];
		sqlite3_bind_int64(st, 1, f->job_id);
		sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		return qrun_step(r, QRUN_S_RELEASE, "releasing a job");
	case COMPLETE_DONE:
	case COMPLETE_DEAD:
		if ((rc = finish(r, QRUN_S_FINISH, JOBSTATE_FINISH, f, now,
				 &own)))
			return rc;
		/* A lapsed lease: another run may have sent requests for
		 * the job since; the row and ledger say what. */
		if (!own &&
		    ((rc = finish(r, QRUN_S_FINISH_LAPSED,
				  JOBSTATE_FINISH_LAPSED, f, now, &moved)) ||
		     /* another run finished it first */
		     (!moved && (rc = spend(r, f)))))
			return rc;
		return store_result(r, f, own);
	}
	return QUEUE_EINVAL;
}
