/* ingest.c — idempotent, batched inserts of validated jobs.
 *
 * DESIGN: a row's identity is its custom_id (UNIQUE); its content is a
 * 64-bit hash of the compact body and the job's options, so a re-ingest
 * compares one integer instead of decompressing the stored body. Only when
 * the hashes differ is the stored job decoded and compared, so a conflict
 * is reported on content, never on a hash alone (rows written by a build
 * that hashed differently still re-ingest as duplicates). Rows go in
 * MULTI_ROWS to a statement with ON CONFLICT DO NOTHING; when the count of
 * rows added is short, each job of the statement is looked up to tell
 * which it added. The body
 * dictionary is trained from the first rows this database ever receives:
 * those rows are inserted compressed without it, then rewritten with it in
 * the same transaction once it exists, so no row is left behind and no line
 * waits in memory for its verdict. Hashing and compression are pure
 * (ingest_encode) so that callers can do them on other threads. */
#include "queue/ingest.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/jobstate.h"
#include "queue/queue_int.h"
#include "queue/sampler.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* Rows per INSERT statement in ingest_add_batch: a statement's fixed cost
 * (cursors opened and closed on the table and both indexes) was half of
 * a one-row insert; at 16-64 rows it is noise. */
#define MULTI_ROWS 32
#define NCOLS 10 /* bound per row; created_at is updated_at */

struct ingest {
	struct queue *q;
	int atomic;
	int in_txn;
	unsigned pending;
	sqlite3_stmt *ins, *sel, *upd;
	sqlite3_stmt *insn; /* MULTI_ROWS rows, prepared at first use */
	struct blob_codec *codec;
	struct sampler sample; /* while there is no body dictionary */
	int (*same_json)(const char *, size_t, const char *, size_t);
};

static const char INSERT_HEAD[] =
	"INSERT INTO jobs (custom_id, priority, body_hash, request, "
	"est_input_tokens, max_output_tokens, max_cost_usd, providers, lane, "
	"created_at, updated_at) VALUES ";
static const char INSERT_TAIL[] = " ON CONFLICT (custom_id) DO NOTHING";
static const char SELECT_SQL[] =
	"SELECT id, body_hash, request, priority, max_cost_usd, providers, "
	"lane FROM jobs WHERE custom_id = ?1";
static const char UPDATE_SQL[] = "UPDATE jobs SET request = ?1 WHERE id = ?2";

/* The content hash: xxHash64's 8-byte round and avalanche on one lane, a
 * word at a time (byte-at-a-time FNV-1a cost 5% of an ingest). Words are
 * read little-endian so the stored hash is the same on every host. */
#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

static inline uint64_t load_le64(const unsigned char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

static inline uint64_t round64(uint64_t h, uint64_t w)
{
	h ^= rotl(w * P2, 31) * P1;
	return rotl(h, 27) * P1 + P4;
}

static uint64_t hash64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t w = 0;
	size_t i;

	h += P5 + n;
	for (i = 0; i + 8 <= n; i += 8)
		h = round64(h, load_le64(s + i));
	for (size_t k = 0; i + k < n; k++)
		w |= (uint64_t)s[i + k] << (8 * k);
	h = round64(h, w);
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	return h ^ (h >> 32);
}

/* job_hash: what makes two lines "the same job": body and options. */
static int64_t job_hash(const struct ingest_job *j)
{
	uint64_t opts[2];
	double cost = j->max_cost_usd < 0 ? -1.0 : j->max_cost_usd + 0.0;
	uint64_t h = hash64(0, j->body, j->body_len);

	opts[0] = (uint64_t)j->priority;
	memcpy(&opts[1], &cost, sizeof(cost));
	h = hash64(h, opts, sizeof(opts));
	if (j->providers)
		h = hash64(h, j->providers, strlen(j->providers));
	/* only a chosen lane: jobs queued before lanes existed keep their
	 * hash */
	if (j->lane) {
		uint64_t lane = (uint64_t)j->lane;

		h = hash64(h, &lane, sizeof(lane));
	}
	return (int64_t)h;
}

int ingest_encode(struct blob_codec *c, const struct blob_dict *d,
		  struct ingest_job *j)
{
	const void *z;
	size_t zlen;

	if (blob_compress(c, d, j->body, j->body_len, &z, &zlen))
		return QUEUE_EINVAL;
	j->hash = job_hash(j);
	j->blob = z;
	j->blob_len = zlen;
	j->blob_dict = d;
	return QUEUE_OK;
}

const struct blob_dict *ingest_body_dict(const struct ingest *in)
{
	return in->sample.active ? NULL : in->q->body_dict;
}

/* prepare_insert: an INSERT of rows rows, NCOLS parameters each. */
static int prepare_insert(struct queue *q, int rows, sqlite3_stmt **st)
{
	size_t cap = sizeof(INSERT_HEAD) + sizeof(INSERT_TAIL) + 64 * rows;
	char *sql = xmalloc(cap);
	size_t n = (size_t)snprintf(sql, cap, "%s", INSERT_HEAD);
	int rc;

	for (int r = 0; r < rows; r++) {
		int b = r * NCOLS;

		n += (size_t)snprintf(sql + n, cap - n,
				      "%s(?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,"
				      "?%d,?%d)",
				      r ? "," : "", b + 1, b + 2, b + 3, b + 4,
				      b + 5, b + 6, b + 7, b + 8, b + 9, b + 10,
				      b + 10);
	}
	snprintf(sql + n, cap - n, "%s", INSERT_TAIL);
	rc = qprepare(q, sql, st);
	free(sql);
	return rc;
}

int ingest_begin(struct queue *q, int atomic, struct ingest **out)
{
	struct ingest *in = xcalloc(1, sizeof(*in));
	int rc;

	in->q = q;
	in->atomic = atomic;
	in->codec = blob_codec_new();
	sampler_init(&in->sample, q->body_dict == NULL);
	/* jobs are born here: the trace, if asked for, sees them */
	if ((rc = jobstate_arm(q)) || (rc = prepare_insert(q, 1, &in->ins)) ||
	    (rc = qprepare(q, SELECT_SQL, &in->sel)) ||
	    (rc = qprepare(q, UPDATE_SQL, &in->upd))) {
		ingest_abort(&in);
		return rc;
	}
	*out = in;
	return QUEUE_OK;
}

static int train(struct ingest *in)
{
	return sampler_train(&in->sample, in->q, in->codec, "body", in->upd);
}

static int begin(struct ingest *in)
{
	return qbegin(in->q, &in->in_txn, "starting a transaction");
}

static int commit(struct ingest *in)
{
	int rc = qcommit(in->q, &in->in_txn, "committing jobs");

	if (rc == QUEUE_OK)
		in->pending = 0;
	return rc;
}

static void rollback(struct ingest *in)
{
	qrollback(in->q, &in->in_txn);
	in->pending = 0;
	/* The sampled rows are gone with the transaction (or committed
	 * without a dictionary, which is still correct): stop sampling. */
	sampler_free(&in->sample);
}

void ingest_set_same_json(struct ingest *in,
			  int (*same)(const char *a, size_t alen,
				      const char *b, size_t blen))
{
	in->same_json = same;
}

/* same_json: whether JSON texts a and b say the same. */
static int same_json(struct ingest *in, const char *a, size_t alen,
		     const char *b, size_t blen)
{
	if (alen == blen && memcmp(a, b, alen) == 0)
		return 1;
	return in->same_json && in->same_json(a, alen, b, blen);
}

/* same_content: whether the stored job (the current row of in->sel) holds
 * j's body and options, for when the hashes differ. */
static int same_content(struct ingest *in, const struct ingest_job *j,
			int *same)
{
	sqlite3_stmt *st = in->sel;
	const char *prov = (const char *)sqlite3_column_text(st, 5);
	char *body = NULL;
	size_t len;
	int rc;

	*same = 0;
	if (sqlite3_column_int64(st, 3) != j->priority ||
	    sqlite3_column_int(st, 6) != j->lane ||
	    (sqlite3_column_type(st, 4) == SQLITE_NULL) !=
		    (j->max_cost_usd < 0) ||
	    (j->max_cost_usd >= 0 &&
	     sqlite3_column_double(st, 4) != j->max_cost_usd) ||
	    !prov != !j->providers ||
	    (prov && !same_json(in, prov, strlen(prov), j->providers,
				strlen(j->providers))))
		return QUEUE_OK;
	rc = qdecode(in->q, in->codec, sqlite3_column_blob(st, 2),
		     (size_t)sqlite3_column_bytes(st, 2), &body, &len);
	if (rc)
		return rc;
	*same = same_json(in, body, len, j->body, j->body_len);
	free(body);
	return QUEUE_OK;
}

/* Rows a multi-row INSERT added: ids from first_new up, each claimed by
 * the first job of the statement that looks it up (a later job with the
 * same custom_id found it, it did not add it). */
struct fresh {
	sqlite3_int64 first_new;
	sqlite3_int64 claimed[MULTI_ROWS];
	unsigned n;
};

static int claim(struct fresh *f, sqlite3_int64 id)
{
	if (!f || id < f->first_new)
		return 0;
	for (unsigned i = 0; i < f->n; i++)
		if (f->claimed[i] == id)
			return 0;
	f->claimed[f->n++] = id;
	return 1;
}

/* verdict_of: what became of j, whose INSERT may not have added it. */
static int verdict_of(struct ingest *in, const struct ingest_job *j,
		      sqlite3_int64 hash, struct fresh *f,
		      enum ingest_verdict *v)
{
	int rc, same = 1;

	sqlite3_bind_text(in->sel, 1, j->custom_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(in->sel);
	if (rc == SQLITE_ROW) {
		rc = QUEUE_OK;
		if (claim(f, sqlite3_column_int64(in->sel, 0))) {
			*v = INGEST_ADDED;
		} else {
			if (sqlite3_column_int64(in->sel, 1) != hash)
				rc = same_content(in, j, &same);
			*v = same ? INGEST_DUPLICATE : INGEST_CONFLICT;
		}
	} else {
		rc = qfail(in->q, rc, "looking up a job");
	}
	sqlite3_reset(in->sel);
	return rc;
}

/* encoded: j's hash and frame as stored with dictionary d: as prepared by
 * ingest_encode when made with d, else compressed here (*z then points
 * into in->codec until its next call and *mine is set). */
static int encoded(struct ingest *in, const struct ingest_job *j,
		   const struct blob_dict *d, sqlite3_int64 *hash,
		   const void **z, size_t *zlen, int *mine)
{
	*mine = !(j->blob && j->blob_dict == d);
	if (!*mine) {
		*hash = j->hash;
		*z = j->blob;
		*zlen = j->blob_len;
		return QUEUE_OK;
	}
	if (blob_compress(in->codec, d, j->body, j->body_len, z, zlen)) {
		snprintf(in->q->err, sizeof(in->q->err),
			 "job %s: body too large to store", j->custom_id);
		return QUEUE_EINVAL;
	}
	*hash = j->blob ? j->hash : job_hash(j);
	return QUEUE_OK;
}

/* bind_job: bind j's columns as row r of st. A frame of our own codec is
 * copied (the next compression reuses the buffer). */
static void bind_job(sqlite3_stmt *st, int r, const struct ingest_job *j,
		     sqlite3_int64 hash, const void *z, size_t zlen, int mine,
		     long long now)
{
	int b = r * NCOLS;

	sqlite3_bind_text(st, b + 1, j->custom_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, b + 2, j->priority);
	sqlite3_bind_int64(st, b + 3, hash);
	sqlite3_bind_blob(st, b + 4, z, (int)zlen,
			  mine ? SQLITE_TRANSIENT : SQLITE_STATIC);
	sqlite3_bind_int64(st, b + 5, j->est_input_tokens);
	sqlite3_bind_int64(st, b + 6, j->max_output_tokens);
	if (j->max_cost_usd >= 0)
		sqlite3_bind_double(st, b + 7, j->max_cost_usd);
	else
		sqlite3_bind_null(st, b + 7);
	if (j->providers)
		sqlite3_bind_text(st, b + 8, j->providers, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, b + 8);
	sqlite3_bind_int(st, b + 9, j->lane);
	sqlite3_bind_int64(st, b + 10, now);
}

/* pending: count rows into the transaction and commit a full batch. */
static int pending(struct ingest *in, unsigned rows)
{
	in->pending += rows;
	if (!in->atomic && in->pending >= INGEST_BATCH_ROWS &&
	    !in->sample.active)
		return commit(in);
	return QUEUE_OK;
}

int ingest_add(struct ingest *in, const struct ingest_job *j,
	       enum ingest_verdict *v)
{
	sqlite3_int64 hash;
	const void *z;
	size_t zlen;
	int rc, mine;

	if ((rc = begin(in)))
		return rc;
	if ((rc = encoded(in, j, ingest_body_dict(in), &hash, &z, &zlen,
			  &mine)))
		goto fail;
	bind_job(in->ins, 0, j, hash, z, zlen, mine, clk_wall_ms());
	if ((rc = qstep(in->q, in->ins, "inserting a job")))
		goto fail;
	if (sqlite3_changes(in->q->db) == 1) {
		*v = INGEST_ADDED;
		if (sampler_add(&in->sample, j->body, j->body_len,
				sqlite3_last_insert_rowid(in->q->db)) &&
		    (rc = train(in)))
			goto fail;
	} else if ((rc = verdict_of(in, j, hash, NULL, v))) {
		goto fail;
	}
	if ((rc = pending(in, 1)))
		goto fail;
	return QUEUE_OK;
fail:
	rollback(in);
	return rc;
}

/* add_multi: MULTI_ROWS jobs in one statement. */
static int add_multi(struct ingest *in, const struct ingest_job *const *jobs,
		     enum ingest_verdict *v)
{
	const struct blob_dict *d = ingest_body_dict(in);
	sqlite3_int64 hash[MULTI_ROWS];
	struct fresh f = {.n = 0};
	long long now = clk_wall_ms();
	int rc, changes;

	if (!in->insn && (rc = prepare_insert(in->q, MULTI_ROWS, &in->insn)))
		return rc;
	for (int r = 0; r < MULTI_ROWS; r++) {
		const void *z;
		size_t zlen;
		int mine;

		if ((rc = encoded(in, jobs[r], d, &hash[r], &z, &zlen, &mine)))
			return rc;
		bind_job(in->insn, r, jobs[r], hash[r], z, zlen, mine, now);
	}
	if ((rc = qstep(in->q, in->insn, "inserting jobs")))
		return rc;
	changes = sqlite3_changes(in->q->db);
	if (changes == MULTI_ROWS) {
		for (int r = 0; r < MULTI_ROWS; r++)
			v[r] = INGEST_ADDED;
		return pending(in, MULTI_ROWS);
	}
	/* Some were queued already. The rows this statement added have
	 * consecutive ids (one past the largest, in VALUES order, and we
	 * hold the write lock) ending at the last insert rowid. */
	f.first_new = changes ? sqlite3_last_insert_rowid(in->q->db) -
					changes + 1
			      : INT64_MAX;
	for (int r = 0; r < MULTI_ROWS; r++)
		if ((rc = verdict_of(in, jobs[r], hash[r], &f, &v[r])))
			return rc;
	return pending(in, MULTI_ROWS);
}

int ingest_add_batch(struct ingest *in, const struct ingest_job *const *jobs,
		     size_t n, enum ingest_verdict *v, size_t *failed)
{
	size_t i = 0;
	int rc = QUEUE_OK;

	while (i < n) {
		/* The rows that train the dictionary go one by one: the
		 * sampler needs each one's id. */
		if (in->sample.active || n - i < MULTI_ROWS) {
			if ((rc = ingest_add(in, jobs[i], &v[i])))
				break; /* rolled back */
			i++;
			continue;
		}
		if ((rc = begin(in)))
			break;
		if ((rc = add_multi(in, jobs + i, v + i))) {
			rollback(in);
			break;
		}
		i += MULTI_ROWS;
	}
	*failed = i;
	return rc;
}

static void release(struct ingest **inp)
{
	struct ingest *in = *inp;

	sqlite3_finalize(in->ins);
	sqlite3_finalize(in->insn);
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
