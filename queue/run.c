/* run.c — leases, claims, ledger rows and job fates (see run.h). */
#include "queue/run.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"
#include "queue/sampler.h"
#include "util/clock.h"
#include "util/xalloc.h"

enum {
	S_CLAIM,
	S_LEASE,
	S_RENEW,
	S_ATTEMPT,
	S_RETRY,
	S_FINISH,
	S_FINISH_OWN,
	S_RESULT,
	S_RESULT_OWN,
	S_RELEASE,
	S_RELEASE_ALL,
	S_RESULT_BODY,
	S_SPEND,
	S_COUNT
};

static const char *const SQL[S_COUNT] = {
	/* Read first, then leased row by row: an UPDATE ... RETURNING
	 * would copy every row it returns, request and all, into a table of
	 * its own first (2.5k instructions a job). The store's transaction
	 * holds the write lock from the read on, so no other run can lease
	 * the same rows in between. */
	[S_CLAIM] = "SELECT id, custom_id, request, attempts, candidate, "
		    "cand_attempts, est_input_tokens, max_output_tokens, "
		    "max_cost_usd, providers, cand_exhausted, spent_usd FROM "
		    "jobs WHERE state = 0 AND not_before <= ?1 ORDER BY "
		    "priority DESC, not_before, id LIMIT ?2",
	[S_LEASE] = "UPDATE jobs SET state = 1, lease_owner = ?2, "
		    "lease_expires = ?3, updated_at = ?4 WHERE id = ?1 AND "
		    "state = 0",
	[S_RENEW] = "UPDATE jobs SET lease_expires = ?2 WHERE state = 1 AND "
		    "lease_owner = ?1",
	[S_ATTEMPT] =
		"INSERT INTO attempts (job_id, run_id, provider, model, "
		"sent_at, http_status, error_class, latency_ms, tokens_in, "
		"tokens_cached, tokens_cache_write, tokens_out, "
		"tokens_reasoning, cost_usd, action) VALUES (?1, ?2, ?3, ?4, "
		"?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	/* Only while we hold the lease: a job whose lease we lost belongs
	 * to whoever took it. */
	[S_RETRY] = "UPDATE jobs SET state = 0, lease_owner = NULL, "
		    "lease_expires = NULL, attempts = attempts + ?3, "
		    "candidate = ?4, cand_attempts = ?5, not_before = ?6, "
		    "last_error = ?7, updated_at = ?8, cand_exhausted = ?9, "
		    "spent_usd = spent_usd + ?10 WHERE id = ?1 AND "
		    "state = 1 AND lease_owner = ?2",
	/* A finished job is finished even if our lease lapsed: the work
	 * was paid for, and results.job_id keeps it to one result. */
	[S_FINISH] = "UPDATE jobs SET state = ?2, lease_owner = NULL, "
		     "lease_expires = NULL, attempts = attempts + ?3, "
		     "last_error = ?4, updated_at = ?5, spent_usd = spent_usd "
		     "+ ?6 WHERE id = ?1 AND state IN (0, 1)",
	/* The same while our lease holds: then nobody else has touched the
	 * row since the claim, and the result can be written from what the
	 * claim read (S_RESULT_OWN: its attempts and spent_usd, plus this
	 * request) instead of reading the row back. */
	[S_FINISH_OWN] = "UPDATE jobs SET state = ?2, lease_owner = NULL, "
			 "lease_expires = NULL, attempts = attempts + ?3, "
			 "last_error = ?4, updated_at = ?5, spent_usd = "
			 "spent_usd + ?6 WHERE id = ?1 AND state = 1 AND "
			 "lease_owner = ?7",
	[S_RESULT] =
		"INSERT OR IGNORE INTO results (job_id, provider, model, "
		"status_code, request_id, body, error_code, error_message, "
		"attempts, cost_usd, latency_ms, finished_at, cost_ref_usd) "
		"SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, j.attempts, "
		"j.spent_usd, ?9, ?10, ?11 FROM jobs j WHERE j.id = ?1",
	[S_RESULT_OWN] =
		"INSERT OR IGNORE INTO results (job_id, provider, model, "
		"status_code, request_id, body, error_code, error_message, "
		"attempts, cost_usd, latency_ms, finished_at, cost_ref_usd) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?12, ?13, ?9, ?10, ?11)",
	[S_RELEASE] = "UPDATE jobs SET state = 0, lease_owner = NULL, "
		      "lease_expires = NULL, updated_at = ?3 WHERE id = ?1 "
		      "AND state = 1 AND lease_owner = ?2",
	[S_RELEASE_ALL] = "UPDATE jobs SET state = 0, lease_owner = NULL, "
			  "lease_expires = NULL WHERE state = 1 AND "
			  "lease_owner = ?1",
	[S_RESULT_BODY] = "UPDATE results SET body = ?1 WHERE job_id = ?2",
	/* The cost of a request whose job is no longer ours to update (our
	 * lease lapsed, or another run finished it): spent_usd stays the
	 * ledger's sum all the same. */
	[S_SPEND] = "UPDATE jobs SET spent_usd = spent_usd + ?2 WHERE id = ?1",
};

struct qrun {
	struct queue *q;
	char *owner;
	sqlite3_stmt *st[S_COUNT];
	struct blob_codec *codec;
	struct sampler sample; /* results, while there is no dictionary */
	/* the result dictionary once there is one, for other threads */
	_Atomic(const struct blob_dict *) rdict;
	int in_txn;
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
	for (int i = 0; i < S_COUNT && rc == QUEUE_OK; i++)
		rc = qprepare(q, SQL[i], &r->st[i]);
	if (rc) {
		qrun_close(&r);
		return rc;
	}
	*out = r;
	return QUEUE_OK;
}

const struct blob_dict *qrun_result_dict(struct qrun *r)
{
	return atomic_load(&r->rdict);
}

void qrun_close(struct qrun **rp)
{
	struct qrun *r = *rp;

	if (!r)
		return;
	if (r->in_txn)
		qrun_rollback(r);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(r->st[i]);
	blob_codec_free(&r->codec);
	sampler_free(&r->sample);
	free(r->owner);
	free(r);
	*rp = NULL;
}

void qrun_job_clear(struct qrun_job *j)
{
	free(j->custom_id);
	free(j->body);
	free(j->frame);
	free(j->providers);
	memset(j, 0, sizeof(*j));
}

int qrun_job_decode(struct qrun_job *j, struct blob_codec *c)
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

static int done(struct qrun *r, int i, const char *what)
{
	int rc = sqlite3_step(r->st[i]);

	sqlite3_reset(r->st[i]);
	sqlite3_clear_bindings(r->st[i]);
	return rc == SQLITE_DONE ? QUEUE_OK : qfail(r->q, rc, what);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int qrun_begin(struct qrun *r)
{
	int rc;

	if (r->in_txn)
		return QUEUE_OK;
	if ((rc = qexec(r->q, "BEGIN IMMEDIATE", "starting a commit")))
		return rc;
	r->in_txn = 1;
	return QUEUE_OK;
}

int qrun_commit(struct qrun *r)
{
	int rc;

	if (!r->in_txn)
		return QUEUE_OK;
	if ((rc = qexec(r->q, "COMMIT", "committing results"))) {
		qrun_rollback(r);
		return rc;
	}
	r->in_txn = 0;
	return QUEUE_OK;
}

void qrun_rollback(struct qrun *r)
{
	if (r->in_txn)
		sqlite3_exec(r->q->db, "ROLLBACK", NULL, NULL, NULL);
	r->in_txn = 0;
	/* sampled result rows went with the transaction */
	sampler_free(&r->sample);
}

int qrun_recover(struct qrun *r, int64_t now_ms,
		 int (*alive)(const char *owner, void *arg), void *arg,
		 long long *recovered)
{
	sqlite3_stmt *st = NULL;
	char **dead = NULL;
	size_t ndead = 0;
	int rc;

	*recovered = 0;
	rc = sqlite3_prepare_v2(r->q->db,
				"SELECT DISTINCT lease_owner FROM jobs WHERE "
				"state = 1",
				-1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *o = (const char *)sqlite3_column_text(st, 0);

		if (o && !alive(o, arg)) {
			dead = xrealloc(dead, (ndead + 1) * sizeof(*dead));
			dead[ndead++] = xstrdup(o);
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = qfail(r->q, rc, "recovering leases");
		goto out;
	}
	if ((rc = qrun_begin(r)))
		goto out;
	for (size_t i = 0; i < ndead; i++) {
		sqlite3_bind_text(r->st[S_RELEASE_ALL], 1, dead[i], -1,
				  SQLITE_STATIC);
		if ((rc = done(r, S_RELEASE_ALL, "recovering leases")))
			goto fail;
		*recovered += sqlite3_changes(r->q->db);
	}
	rc = sqlite3_prepare_v2(r->q->db,
				"UPDATE jobs SET state = 0, lease_owner = NULL, "
				"lease_expires = NULL WHERE state = 1 AND "
				"lease_expires < ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now_ms);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = qfail(r->q, rc, "recovering leases");
		goto fail;
	}
	*recovered += sqlite3_changes(r->q->db);
	rc = qrun_commit(r);
	goto out;
fail:
	qrun_rollback(r);
out:
	for (size_t i = 0; i < ndead; i++)
		free(dead[i]);
	free(dead);
	return rc;
}

int qrun_claim(struct qrun *r, int64_t now_ms, int64_t lease_until_ms,
	       int limit, struct qrun_job *out, int *n)
{
	sqlite3_stmt *st = r->st[S_CLAIM], *lease = r->st[S_LEASE];
	int rc;

	*n = 0;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
		struct qrun_job *j = &out[*n];
		const char *prov;

		memset(j, 0, sizeof(*j));
		j->id = sqlite3_column_int64(st, 0);
		j->custom_id = xstrdup((const char *)sqlite3_column_text(st, 1));
		j->frame_len = (size_t)sqlite3_column_bytes(st, 2);
		if (qframe_dict(r->q, sqlite3_column_blob(st, 2), j->frame_len,
				&j->dict)) {
			free(j->custom_id);
			rc = SQLITE_CORRUPT;
			break;
		}
		j->frame = xmalloc(j->frame_len ? j->frame_len : 1);
		if (j->frame_len) /* an empty blob reads as NULL */
			memcpy(j->frame, sqlite3_column_blob(st, 2),
			       j->frame_len);
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
		(*n)++;
	}
	sqlite3_reset(st);
	/* The rows read are leased once the read is over: a statement
	 * that changes the rows another one is still reading leaves what
	 * the reader sees undefined. */
	sqlite3_bind_text(lease, 2, r->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(lease, 3, lease_until_ms);
	sqlite3_bind_int64(lease, 4, now_ms);
	for (int i = 0; i < *n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(lease, 1, out[i].id);
		rc = sqlite3_step(lease);
		sqlite3_reset(lease);
	}
	if (rc == SQLITE_DONE)
		return QUEUE_OK;
	for (int i = 0; i < *n; i++)
		qrun_job_clear(&out[i]);
	*n = 0;
	if (rc == SQLITE_CORRUPT)
		return QUEUE_EINVAL; /* message set by qframe_dict */
	return qfail(r->q, rc, "claiming jobs");
}

int qrun_renew(struct qrun *r, int64_t lease_until_ms)
{
	sqlite3_bind_text(r->st[S_RENEW], 1, r->owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(r->st[S_RENEW], 2, lease_until_ms);
	return done(r, S_RENEW, "renewing leases");
}

int qrun_attempt(struct qrun *r, const struct qrun_attempt *a)
{
	sqlite3_stmt *st = r->st[S_ATTEMPT];

	sqlite3_bind_int64(st, 1, a->job_id);
	sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, a->provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->model, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, a->sent_at_ms);
	if (a->http_status)
		sqlite3_bind_int(st, 6, a->http_status);
	sqlite3_bind_text(st, 7, a->error_class, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, a->latency_ms);
	sqlite3_bind_int64(st, 9, a->tok_in);
	sqlite3_bind_int64(st, 10, a->tok_cached);
	sqlite3_bind_int64(st, 11, a->tok_cache_write);
	sqlite3_bind_int64(st, 12, a->tok_out);
	sqlite3_bind_int64(st, 13, a->tok_reasoning);
	sqlite3_bind_double(st, 14, a->cost_usd);
	bind_text(st, 15, a->action);
	return done(r, S_ATTEMPT, "recording a request");
}

/* store_result: the result row of a finished job; own: our lease held
 * to the end, so f's claimed figures are the row's and the ledger's. */
static int store_result(struct qrun *r, const struct qrun_fate *f, int own)
{
	int s = own ? S_RESULT_OWN : S_RESULT;
	sqlite3_stmt *st = r->st[s];
	const struct blob_dict *d =
		r->sample.active ? NULL : r->q->result_dict;
	/* A frame made without the dictionary that exists now is made again
	 * with it: one turn's replies come back between the two. */
	int redo = f->zbody && f->body && d &&
		   !blob_frame_dict_id(f->zbody, f->zbody_len);
	int rc;

	sqlite3_bind_int64(st, 1, f->job_id);
	bind_text(st, 2, f->provider);
	bind_text(st, 3, f->model);
	if (f->status_code)
		sqlite3_bind_int(st, 4, f->status_code);
	bind_text(st, 5, f->request_id);
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
	bind_text(st, 7, f->error_code);
	bind_text(st, 8, f->error_message);
	sqlite3_bind_int64(st, 9, f->latency_ms);
	sqlite3_bind_int64(st, 10, clk_wall_ms());
	if (f->cost_ref_usd > 0)
		sqlite3_bind_double(st, 11, f->cost_ref_usd);
	if (own) {
		sqlite3_bind_int(st, 12, f->claimed_attempts + f->attempts_add);
		sqlite3_bind_double(st, 13, f->claimed_usd + f->add_usd);
	}
	if ((rc = done(r, s, "storing a result")))
		return rc;
	if (!f->body || sqlite3_changes(r->q->db) != 1 ||
	    !sampler_add(&r->sample, f->body, f->body_len, f->job_id))
		return QUEUE_OK;
	rc = sampler_train(&r->sample, r->q, r->codec, "result",
			   r->st[S_RESULT_BODY]);
	/* Frames made with it are stored in this transaction or later ones,
	 * never without it; a commit that fails stops the run. */
	if (rc == QUEUE_OK)
		atomic_store(&r->rdict, r->q->result_dict);
	return rc;
}

static void bind_finish(sqlite3_stmt *st, const struct qrun_fate *f,
			int64_t now)
{
	sqlite3_bind_int64(st, 1, f->job_id);
	sqlite3_bind_int(st, 2, f->verb == QRUN_DONE ? JOB_DONE : JOB_DEAD);
	sqlite3_bind_int(st, 3, f->attempts_add);
	bind_text(st, 4, f->verb == QRUN_DEAD ? f->last_error : NULL);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_double(st, 6, f->add_usd);
}

/* spend: f's request cost counted on a job row that f's other updates
 * no longer match. */
static int spend(struct qrun *r, const struct qrun_fate *f)
{
	if (f->add_usd == 0)
		return QUEUE_OK;
	sqlite3_bind_int64(r->st[S_SPEND], 1, f->job_id);
	sqlite3_bind_double(r->st[S_SPEND], 2, f->add_usd);
	return done(r, S_SPEND, "recording a job's spend");
}

int qrun_fate(struct qrun *r, const struct qrun_fate *f)
{
	sqlite3_stmt *st;
	int64_t now = clk_wall_ms();
	int rc;

	switch (f->verb) {
	case QRUN_RETRY:
		st = r->st[S_RETRY];
		sqlite3_bind_int64(st, 1, f->job_id);
		sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, f->attempts_add);
		sqlite3_bind_int(st, 4, f->candidate);
		sqlite3_bind_int(st, 5, f->cand_attempts);
		sqlite3_bind_int64(st, 6, f->not_before_ms);
		bind_text(st, 7, f->last_error);
		sqlite3_bind_int64(st, 8, now);
		sqlite3_bind_int64(st, 9, f->cand_exhausted);
		sqlite3_bind_double(st, 10, f->add_usd);
		if ((rc = done(r, S_RETRY, "requeueing a job")))
			return rc;
		return sqlite3_changes(r->q->db) == 1 ? QUEUE_OK : spend(r, f);
	case QRUN_RELEASE:
		st = r->st[S_RELEASE];
		sqlite3_bind_int64(st, 1, f->job_id);
		sqlite3_bind_text(st, 2, r->owner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		return done(r, S_RELEASE, "releasing a job");
	case QRUN_DONE:
	case QRUN_DEAD: {
		int own;

		bind_finish(r->st[S_FINISH_OWN], f, now);
		sqlite3_bind_text(r->st[S_FINISH_OWN], 7, r->owner, -1,
				  SQLITE_STATIC);
		if ((rc = done(r, S_FINISH_OWN, "finishing a job")))
			return rc;
		own = sqlite3_changes(r->q->db) == 1;
		if (!own) {
			/* A lapsed lease: another run may have sent requests
			 * for the job since; the row and ledger say what. */
			bind_finish(r->st[S_FINISH], f, now);
			if ((rc = done(r, S_FINISH, "finishing a job")))
				return rc;
			/* another run finished it first */
			if (sqlite3_changes(r->q->db) == 0 &&
			    (rc = spend(r, f)))
				return rc;
		}
		return store_result(r, f, own);
	}
	}
	return QUEUE_EINVAL;
}

int qrun_event(struct qrun *r, const char *provider, const char *kind,
	       const char *detail)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(r->q->db,
				    "INSERT INTO events (run_id, at, provider, "
				    "kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
				    -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, r->owner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, clk_wall_ms());
		sqlite3_bind_text(st, 3, provider, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
		bind_text(st, 5, detail);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? QUEUE_OK
				 : qfail(r->q, rc, "recording an event");
}

int qrun_release_all(struct qrun *r)
{
	sqlite3_bind_text(r->st[S_RELEASE_ALL], 1, r->owner, -1,
			  SQLITE_STATIC);
	return done(r, S_RELEASE_ALL, "releasing jobs");
}

static int one_row(struct qrun *r, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(r->q->db, sql, -1, st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(*st)) == SQLITE_ROW)
		return QUEUE_OK;
	rc = qfail(r->q, rc, "reading the queue");
	sqlite3_finalize(*st);
	*st = NULL;
	return rc;
}

int qrun_unpark(struct qrun *r, long long *n)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(r->q->db,
				    "UPDATE jobs SET not_before = 0 WHERE "
				    "state = 0 AND not_before >= ?1",
				    -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, QRUN_PARKED);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return qfail(r->q, rc, "unparking jobs");
	*n = sqlite3_changes(r->q->db);
	return QUEUE_OK;
}

int qrun_backlog(struct qrun *r, long long *queued, int64_t *next_due_ms,
		 long long *parked, long long *others_running)
{
	sqlite3_stmt *st = NULL;
	/* 4611686018427387904 is QRUN_PARKED */
	int rc = one_row(r,
			 "SELECT count(*) FILTER (WHERE not_before < "
			 "4611686018427387904), coalesce(min(not_before) "
			 "FILTER (WHERE not_before < 4611686018427387904), 0), "
			 "count(*) FILTER (WHERE not_before >= "
			 "4611686018427387904) FROM jobs WHERE state = 0",
			 &st);

	if (rc)
		return rc;
	*queued = sqlite3_column_int64(st, 0);
	*next_due_ms = sqlite3_column_int64(st, 1);
	*parked = sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	*others_running = 0;
	rc = sqlite3_prepare_v2(r->q->db,
				"SELECT count(*) FROM jobs WHERE state = 1 AND "
				"lease_owner IS NOT ?1",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, r->owner, -1, SQLITE_STATIC);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			*others_running = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? QUEUE_OK : qfail(r->q, rc, "reading the queue");
}

int qrun_dead(struct qrun *r, long long *n)
{
	/* "state = 3" spelled as jobs_dead's WHERE is: a bound parameter
	 * would not match the partial index, and the count would scan. */
	sqlite3_stmt *st = NULL;
	int rc = one_row(r, "SELECT count(*) FROM jobs WHERE state = 3", &st);

	if (rc)
		return rc;
	*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return QUEUE_OK;
}

int qrun_spend(struct qrun *r, double *usd)
{
	sqlite3_stmt *st = NULL;
	int rc = one_row(r, "SELECT total(cost_usd) FROM attempts", &st);

	if (rc)
		return rc;
	*usd = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return QUEUE_OK;
}
