/* ingest.c — idempotent, batched inserts of validated jobs.
 *
 * DESIGN: a row's identity is its custom_id (UNIQUE); its content is a
 * 64-bit hash of the normalized body and the job's options, so a re-ingest
 * compares one integer instead of decompressing the stored body. The body
 * dictionary is trained from the first rows this database ever receives:
 * those rows are inserted compressed without it, then rewritten with it in
 * the same transaction once it exists, so no row is left behind and no line
 * waits in memory for its verdict. */
#include "queue/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_int.h"
#include "queue/sampler.h"
#include "queue/xalloc.h"

struct ingest {
	struct queue *q;
	int atomic;
	int in_txn;
	unsigned pending;
	sqlite3_stmt *ins, *sel, *upd;
	struct blob_codec *codec;
	struct sampler sample; /* while there is no body dictionary */
};

static const char INSERT_SQL[] =
	"INSERT INTO jobs (custom_id, priority, body_hash, request, "
	"est_input_tokens, max_output_tokens, max_cost_usd, providers, "
	"created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
	"ON CONFLICT (custom_id) DO NOTHING";
static const char SELECT_SQL[] =
	"SELECT body_hash FROM jobs WHERE custom_id = ?1";
static const char UPDATE_SQL[] = "UPDATE jobs SET request = ?1 WHERE id = ?2";

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* job_hash: what makes two lines "the same job": body and options. */
static sqlite3_int64 job_hash(const struct ingest_job *j)
{
	char opts[96];
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, j->body, j->body_len);
	int n = snprintf(opts, sizeof(opts), "\x1f%lld\x1f%.17g", j->priority,
			 j->max_cost_usd < 0 ? -1.0 : j->max_cost_usd);

	h = fnv1a(h, opts, (size_t)n);
	if (j->providers)
		h = fnv1a(h, j->providers, strlen(j->providers));
	return (sqlite3_int64)h;
}

int ingest_begin(struct queue *q, int atomic, struct ingest **out)
{
	struct ingest *in = xcalloc(1, sizeof(*in));
	int rc;

	in->q = q;
	in->atomic = atomic;
	in->codec = blob_codec_new();
	sampler_init(&in->sample, q->body_dict == NULL);
	if ((rc = qprepare(q, INSERT_SQL, &in->ins)) ||
	    (rc = qprepare(q, SELECT_SQL, &in->sel)) ||
	    (rc = qprepare(q, UPDATE_SQL, &in->upd))) {
		ingest_abort(&in);
		return rc;
	}
	*out = in;
	return QUEUE_OK;
}

static int step_done(struct ingest *in, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? QUEUE_OK : qfail(in->q, rc, what);
}

static int train(struct ingest *in)
{
	return sampler_train(&in->sample, in->q, in->codec, "body", in->upd);
}

static int begin(struct ingest *in)
{
	int rc;

	if (in->in_txn)
		return QUEUE_OK;
	/* IMMEDIATE: take the write lock now, so a concurrent run makes us
	 * wait at BEGIN (busy timeout) rather than fail at COMMIT. */
	if ((rc = qexec(in->q, "BEGIN IMMEDIATE", "starting a transaction")))
		return rc;
	in->in_txn = 1;
	return QUEUE_OK;
}

static int commit(struct ingest *in)
{
	int rc;

	if (!in->in_txn)
		return QUEUE_OK;
	if ((rc = qexec(in->q, "COMMIT", "committing jobs")))
		return rc;
	in->in_txn = 0;
	in->pending = 0;
	return QUEUE_OK;
}

static void rollback(struct ingest *in)
{
	if (in->in_txn)
		sqlite3_exec(in->q->db, "ROLLBACK", NULL, NULL, NULL);
	in->in_txn = 0;
	in->pending = 0;
	/* The sampled rows are gone with the transaction (or committed
	 * without a dictionary, which is still correct): stop sampling. */
	sampler_free(&in->sample);
}

static int verdict_of(struct ingest *in, const struct ingest_job *j,
		      sqlite3_int64 hash, enum ingest_verdict *v)
{
	int rc;

	sqlite3_bind_text(in->sel, 1, j->custom_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(in->sel);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(in->sel, 0) == hash
			     ? INGEST_DUPLICATE
			     : INGEST_CONFLICT;
		rc = QUEUE_OK;
	} else {
		rc = qfail(in->q, rc, "looking up a job");
	}
	sqlite3_reset(in->sel);
	return rc;
}

int ingest_add(struct ingest *in, const struct ingest_job *j,
	       enum ingest_verdict *v)
{
	sqlite3_int64 hash = job_hash(j);
	const struct blob_dict *d =
		in->sample.active ? NULL : in->q->body_dict;
	const void *z;
	size_t zlen;
	int rc;

	if ((rc = begin(in)))
		return rc;
	if (blob_compress(in->codec, d, j->body, j->body_len, &z, &zlen)) {
		snprintf(in->q->err, sizeof(in->q->err),
			 "job %s: body too large to store", j->custom_id);
		rc = QUEUE_EINVAL;
		goto fail;
	}
	sqlite3_bind_text(in->ins, 1, j->custom_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(in->ins, 2, j->priority);
	sqlite3_bind_int64(in->ins, 3, hash);
	sqlite3_bind_blob(in->ins, 4, z, (int)zlen, SQLITE_STATIC);
	sqlite3_bind_int64(in->ins, 5, j->est_input_tokens);
	sqlite3_bind_int64(in->ins, 6, j->max_output_tokens);
	if (j->max_cost_usd >= 0)
		sqlite3_bind_double(in->ins, 7, j->max_cost_usd);
	else
		sqlite3_bind_null(in->ins, 7);
	if (j->providers)
		sqlite3_bind_text(in->ins, 8, j->providers, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(in->ins, 8);
	sqlite3_bind_int64(in->ins, 9, qnow_ms());
	if ((rc = step_done(in, in->ins, "inserting a job")))
		goto fail;
	if (sqlite3_changes(in->q->db) == 1) {
		*v = INGEST_ADDED;
		if (sampler_add(&in->sample, j->body, j->body_len,
				sqlite3_last_insert_rowid(in->q->db)) &&
		    (rc = train(in)))
			goto fail;
	} else if ((rc = verdict_of(in, j, hash, v))) {
		goto fail;
	}
	if (!in->atomic && ++in->pending >= INGEST_BATCH_ROWS &&
	    !in->sample.active && (rc = commit(in)))
		goto fail;
	return QUEUE_OK;
fail:
	rollback(in);
	return rc;
}

static void release(struct ingest **inp)
{
	struct ingest *in = *inp;

	sqlite3_finalize(in->ins);
	sqlite3_finalize(in->sel);
	sqlite3_finalize(in->upd);
	blob_codec_free(&in->codec);
	sampler_free(&in->sample);
	free(in);
	*inp = NULL;
}

int ingest_commit(struct ingest **inp)
{
	struct ingest *in = *inp;
	int rc = QUEUE_OK;

	if (in->sample.active && in->sample.n >= BLOB_TRAIN_MIN &&
	    ((rc = begin(in)) || (rc = train(in))))
		goto out;
	rc = commit(in);
out:
	if (rc)
		rollback(in);
	release(inp);
	return rc;
}

void ingest_abort(struct ingest **inp)
{
	if (!*inp)
		return;
	rollback(*inp);
	release(inp);
}
