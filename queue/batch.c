/* batch.c — provider batches in the queue (see batch.h). Statements are
 * prepared per call: a batch changes state a handful of times, and the
 * per-job ones (hold, job) are prepared once per connection below. */
#include "queue/batch.h"

#include <stdlib.h>
#include <string.h>

#include "queue/claim.h"
#include "queue/jobstate.h"
#include "queue/run_int.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* CLAIM_LANE_WAIT spelled as jobs_lane_wait's WHERE is (007), so that the
 * partial index serves the query. */
#define LANE_WAIT_SQL "4611686018427387905"
_Static_assert(CLAIM_LANE_WAIT == 4611686018427387905LL,
	       "batch.c: LANE_WAIT_SQL");
#define PARKED_SQL "4611686018427387904"

/* Most jobs one statement moves into a batch: its statement journal
 * (kept in memory, temp_store) holds the pages they are on; 50,000 at
 * once took 12 MB more at the peak. */
#define HOLD_RUN 1024

#define BATCH_COLS                                                             \
	"id, tag, provider, model, state, file_id, remote_id, status, "        \
	"requests, bytes, reserved_usd, created_at, submitted_at, ended_at, "  \
	"collected_at, cancel_at, done, failed, owner"

void qbatch_clear(struct qbatch *b)
{
	free(b->tag);
	free(b->provider);
	free(b->model);
	free(b->file_id);
	free(b->remote_id);
	free(b->status);
	free(b->owner);
	memset(b, 0, sizeof(*b));
}

static char *col_str(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	return s ? xstrdup(s) : NULL;
}

static void read_batch(sqlite3_stmt *st, struct qbatch *b)
{
	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(st, 0);
	b->tag = col_str(st, 1);
	b->provider = col_str(st, 2);
	b->model = col_str(st, 3);
	b->state = sqlite3_column_int(st, 4);
	b->file_id = col_str(st, 5);
	b->remote_id = col_str(st, 6);
	b->status = col_str(st, 7);
	b->requests = sqlite3_column_int64(st, 8);
	b->bytes = sqlite3_column_int64(st, 9);
	b->reserved_usd = sqlite3_column_double(st, 10);
	b->created_at = sqlite3_column_int64(st, 11);
	b->submitted_at = sqlite3_column_int64(st, 12);
	b->ended_at = sqlite3_column_int64(st, 13);
	b->collected_at = sqlite3_column_int64(st, 14);
	b->cancel_at = sqlite3_column_int64(st, 15);
	b->done = sqlite3_column_int64(st, 16);
	b->failed = sqlite3_column_int64(st, 17);
	b->owner = col_str(st, 18);
}

int qbatch_intent(struct qrun *r, const char *provider, const char *model,
		  const char *tag_prefix, const char *run, int64_t now_ms,
		  struct qbatch *b)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q,
			"INSERT INTO batches (tag, provider, model, state, "
			"requests, created_at, owner) VALUES (?1 || (SELECT "
			"coalesce(max(id), 0) + 1 FROM batches), ?2, ?3, 0, 0, "
			"?4, ?5) RETURNING " BATCH_COLS,
			&st, "recording a batch");

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, tag_prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_text(st, 5, run, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_batch(st, b);
		rc = sqlite3_step(st);
	}
	return qend(r->q, st, rc, "recording a batch");
}

int qbatch_hold(struct qrun *r, int64_t batch, const int64_t *ids, int n,
		unsigned char *held, int *nheld)
{
	sqlite3_stmt *st = NULL;
	int rc = jobstate_prepare(r->q, JOBSTATE_BATCH,
				  "lease_owner = '" CLAIM_BATCH_OWNER
				  "', lease_expires = NULL, batch_id = ?2, "
				  "updated_at = ?3",
				  "id BETWEEN ?1 AND ?4", 0, &st);

	*nheld = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 2, batch);
	sqlite3_bind_int64(st, 3, clk_wall_ms());
	for (int i = 0, k; i < n && rc == QUEUE_OK; i = k) {
		int ok;

		/* A batch's jobs are mostly consecutive ids: a run of them
		 * is one statement (a third of the per-row cost), unless
		 * the caller wants to know of each job. */
		for (k = i + 1; !held && k < n && k - i < HOLD_RUN &&
			    ids[k] == ids[k - 1] + 1;)
			k++;
		sqlite3_bind_int64(st, 1, ids[i]);
		sqlite3_bind_int64(st, 4, ids[k - 1]);
		if ((rc = qstep(r->q, st, "putting jobs in a batch")))
			break;
		ok = sqlite3_changes(r->q->db);
		*nheld += ok;
		if (held)
			held[i] = (unsigned char)(ok > 0);
	}
	sqlite3_finalize(st);
	return rc;
}

int qbatch_jobs(struct qrun *r, int64_t batch, const int64_t *ids, int n,
		struct claim_job *out, unsigned char *found)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q,
			"SELECT " CLAIM_COLS " FROM jobs WHERE id = ?1 AND "
			"batch_id = ?2 AND state = " JOBSTATE_SQL(RUNNING)
			" AND lease_owner = '" CLAIM_BATCH_OWNER "'",
			&st, "reading a batch's jobs");

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 2, batch);
	for (int i = 0; i < n && rc == QUEUE_OK; i++) {
		found[i] = 0;
		sqlite3_bind_int64(st, 1, ids[i]);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (claim_read_row(r->q, st, &out[i])) {
				sqlite3_finalize(st);
				for (int k = 0; k < i; k++)
					if (found[k])
						claim_job_clear(&out[k]);
				return QUEUE_EINVAL;
			}
			found[i] = 1;
			rc = SQLITE_DONE;
		}
		sqlite3_reset(st);
		rc = rc == SQLITE_DONE ? QUEUE_OK
				       : qfail(r->q, rc, "reading a batch's jobs");
	}
	sqlite3_finalize(st);
	if (rc)
		for (int k = 0; k < n; k++)
			if (found[k])
				claim_job_clear(&out[k]);
	return rc;
}

int qbatch_save(struct qrun *r, const struct qbatch *b)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q,
			"UPDATE batches SET state = ?2, file_id = ?3, "
			"remote_id = ?4, status = ?5, requests = ?6, bytes = "
			"?7, reserved_usd = ?8, submitted_at = nullif(?9, 0), "
			"ended_at = nullif(?10, 0), collected_at = nullif(?11, "
			"0), cancel_at = nullif(?12, 0), done = ?13, failed = "
			"?14 WHERE id = ?1",
			&st, "recording a batch");

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, b->id);
	sqlite3_bind_int(st, 2, b->state);
	qbind_text(st, 3, b->file_id);
	qbind_text(st, 4, b->remote_id);
	qbind_text(st, 5, b->status);
	sqlite3_bind_int64(st, 6, b->requests);
	sqlite3_bind_int64(st, 7, b->bytes);
	sqlite3_bind_double(st, 8, b->reserved_usd);
	sqlite3_bind_int64(st, 9, b->submitted_at);
	sqlite3_bind_int64(st, 10, b->ended_at);
	sqlite3_bind_int64(st, 11, b->collected_at);
	sqlite3_bind_int64(st, 12, b->cancel_at);
	sqlite3_bind_int64(st, 13, b->done);
	sqlite3_bind_int64(st, 14, b->failed);
	return qend(r->q, st, sqlite3_step(st), "recording a batch");
}

int qbatch_release(struct qrun *r, int64_t batch, int64_t job_id,
		   int64_t not_before_ms, const char *why, long long *n)
{
	sqlite3_stmt *st = NULL;
	int rc = jobstate_prepare(r->q, JOBSTATE_UNBATCH,
				  "lease_owner = NULL, lease_expires = NULL, "
				  "not_before = ?2, last_error = "
				  "coalesce(?3, last_error), updated_at = ?4",
				  "batch_id = ?1 AND lease_owner = '"
				  CLAIM_BATCH_OWNER "' AND (?5 = 0 OR id = ?5)",
				  0, &st);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, batch);
	sqlite3_bind_int64(st, 2, not_before_ms);
	qbind_text(st, 3, why);
	sqlite3_bind_int64(st, 4, clk_wall_ms());
	sqlite3_bind_int64(st, 5, job_id);
	rc = qstep(r->q, st, "taking jobs out of a batch");
	if (rc == QUEUE_OK && n)
		*n += sqlite3_changes(r->q->db);
	sqlite3_finalize(st);
	return rc;
}

int qbatch_unwait(struct qrun *r, const int64_t *ids, int n)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q,
			"UPDATE jobs SET not_before = 0 WHERE id = ?1 AND state "
			"= " JOBSTATE_SQL(QUEUED) " AND not_before = "
			LANE_WAIT_SQL,
			&st, "queueing jobs for the sync lane");

	for (int i = 0; i < n && rc == QUEUE_OK; i++) {
		sqlite3_bind_int64(st, 1, ids[i]);
		rc = qstep(r->q, st, "queueing jobs for the sync lane");
	}
	sqlite3_finalize(st);
	return rc;
}

int qbatch_open_list(struct queue *q, struct qbatch **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(q,
			"SELECT " BATCH_COLS " FROM batches WHERE state < 3 "
			"ORDER BY id",
			&st, "reading the batches");

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		read_batch(st, &(*out)[(*n)++]);
	}
	return qend(q, st, rc, "reading the batches");
}

int qbatch_held(struct qrun *r, long long *n)
{
	return qone_int(r->q,
			"SELECT count(*) FROM jobs WHERE state = "
			JOBSTATE_SQL(RUNNING) " AND lease_owner = '"
			CLAIM_BATCH_OWNER "'",
			n, "reading the batches");
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int qbatch_turnaround(struct queue *q, const char *provider, int64_t *ms,
		      int *n)
{
	int64_t v[20];
	sqlite3_stmt *st = NULL;
	int rc = qquery(q,
			"SELECT ended_at - submitted_at FROM batches WHERE "
			"provider = ?1 AND ended_at IS NOT NULL AND "
			"submitted_at IS NOT NULL AND cancel_at IS NULL ORDER BY "
			"ended_at DESC LIMIT 20",
			&st, "reading the batches");

	*ms = 0;
	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < 20)
		v[(*n)++] = sqlite3_column_int64(st, 0);
	if ((rc = qend(q, st, rc, "reading the batches")) || !*n)
		return rc;
	qsort(v, (size_t)*n, sizeof(v[0]), cmp64);
	*ms = v[*n / 2];
	return QUEUE_OK;
}

int qbatch_page(struct qrun *r, enum qbatch_page_of which, int64_t after,
		int limit, struct claim_job *out, int *n)
{
	static const char *const SQL[] = {
		[QBATCH_QUEUED] = "SELECT " CLAIM_COLS " FROM jobs WHERE state "
				  "= " JOBSTATE_SQL(QUEUED) " AND not_before < "
				  PARKED_SQL " AND id > ?1 ORDER BY id LIMIT ?2",
		/* as jobs_lane_wait's WHERE is spelled (007) */
		[QBATCH_LANE_WAIT] = "SELECT " CLAIM_COLS " FROM jobs WHERE "
				     "state = " JOBSTATE_SQL(QUEUED) " AND "
				     "not_before = " LANE_WAIT_SQL " AND id > ?1 "
				     "ORDER BY id LIMIT ?2",
		[QBATCH_CHOSE_BATCH] = "SELECT " CLAIM_COLS " FROM jobs WHERE "
				       "state = " JOBSTATE_SQL(QUEUED) " AND "
				       "not_before < " PARKED_SQL " AND lane = 2 "
				       "AND id > ?1 ORDER BY id LIMIT ?2",
	};
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q, SQL[which], &st, "reading the queue"), code;

	*n = 0;
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, limit);
	rc = claim_read_rows(r->q, st, limit, out, n);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_finalize(st);
		return QUEUE_OK;
	}
	/* The message before the finalize, which may clear it (a damaged
	 * file read "batch lane: reading the queue: ", issue 17). */
	code = rc == CLAIM_EFRAME ? QUEUE_EINVAL
				  : qfail(r->q, rc, "reading the queue");
	sqlite3_finalize(st);
	for (int i = 0; i < *n; i++)
		claim_job_clear(&out[i]);
	*n = 0;
	return code;
}

int qbatch_scan_open(struct qrun *r, int64_t batch, struct claim_scan **c)
{
	return claim_scan_sql(r->q,
			      "SELECT " CLAIM_COLS " FROM jobs WHERE batch_id = "
			      "?1 AND state = " JOBSTATE_SQL(RUNNING) " AND "
			      "lease_owner = '" CLAIM_BATCH_OWNER "' ORDER BY id",
			      batch, c);
}

int qbatch_remote_known(struct qrun *r, const char *remote)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(r->q, "SELECT count(*) FROM batches WHERE remote_id = ?1",
			&st, "reading the batches");
	int known = 0;

	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, remote, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		known = sqlite3_column_int(st, 0) > 0;
		rc = SQLITE_DONE;
	}
	rc = qend(r->q, st, rc, "reading the batches");
	return rc ? rc : known;
}

int qbatch_providers(struct queue *q, char ***names, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc = qquery(q,
			"SELECT DISTINCT provider FROM batches WHERE ended_at IS "
			"NOT NULL ORDER BY provider",
			&st, "reading the batches");

	*names = NULL;
	*n = 0;
	if (rc)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*names = xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = col_str(st, 0);
	}
	return qend(q, st, rc, "reading the batches");
}
