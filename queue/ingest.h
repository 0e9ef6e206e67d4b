/* ingest.h — putting validated jobs into the queue, many per transaction.
 *
 * The caller (runner/) parses and validates lines; this module decides
 * whether each job is new, already queued (same custom_id, same content:
 * re-ingest is idempotent) or a conflict (same custom_id, different
 * content: the queued job is kept), compresses the body and inserts it.
 * struct ingest is not thread-safe: one ingest per struct queue, on one
 * thread. ingest_encode is thread-safe (one blob_codec per thread), so
 * hashing and compression can run ahead on other threads. */
#ifndef NIGHTSHIFT_INGEST_H
#define NIGHTSHIFT_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct queue;
struct ingest;
struct blob_codec;
struct blob_dict;

/* One job, all fields borrowed for the call. */
struct ingest_job {
	const char *custom_id;
	const char *body; /* the body JSON, compact (no whitespace outside
			   * strings): its bytes are the job's identity */
	size_t body_len;
	long long priority;
	const char *providers; /* JSON array text, or NULL */
	double max_cost_usd;   /* < 0: none */
	int lane;	       /* the job's own lane: 0 auto, 1 sync, 2 batch */
	int64_t est_input_tokens;
	int64_t max_output_tokens; /* 0: not given */
	/* Set by ingest_encode, or left zero for ingest_add to do it. */
	const void *blob; /* the body's zstd frame, or NULL */
	size_t blob_len;
	const struct blob_dict *blob_dict; /* what blob was made with */
	int64_t hash;                      /* content hash, with blob */
};

enum ingest_verdict {
	INGEST_ADDED,
	INGEST_DUPLICATE, /* already queued with the same content */
	INGEST_CONFLICT,  /* already queued with different content */
};

/* Batching: rows per transaction when not atomic. Large enough that the
 * commit cost vanishes, small enough that a crash loses little work. */
#define INGEST_BATCH_ROWS 50000

/* ingest_begin: start ingesting into q. With atomic set, everything goes in
 * one transaction that ingest_abort can roll back (--strict). */
int ingest_begin(struct queue *q, int atomic, struct ingest **out);
/* ingest_add: add one job; *verdict says what became of it. A job that
 * ingest_encode prepared with the dictionary ingest_body_dict names now is
 * stored as prepared; any other is (re)compressed here. A failure is a
 * QUEUE_* code (the database's, e.g. QUEUE_EFULL), details in
 * queue_errmsg(q); the open transaction is then rolled back. */
int ingest_add(struct ingest *in, const struct ingest_job *job,
	       enum ingest_verdict *verdict);
/* ingest_add_batch: add jobs[0..n) in order with the same verdicts (into
 * verdicts[i]) as n calls of ingest_add, but many rows per statement, at
 * about half the cost per row. On a failure returns its QUEUE_* code with
 * *failed the index of the first job not known to be added (the open
 * transaction is rolled back); else *failed = n. */
int ingest_add_batch(struct ingest *in, const struct ingest_job *const *jobs,
		     size_t n, enum ingest_verdict *verdicts, size_t *failed);
/* ingest_set_same_json: how to tell whether two JSON texts whose bytes
 * differ say the same (a body, a provider list), asked only when a queued
 * job's hash differs from the new one's: rows written by older builds hold
 * the body as cJSON re-printed it ("0" for 0.0). same is called on in's
 * thread; NULL (the default) compares bytes. */
void ingest_set_same_json(struct ingest *in,
			  int (*same)(const char *a, size_t alen,
				      const char *b, size_t blen));
/* ingest_commit: commit what is pending (trains the body dictionary first
 * if the file had none and there are enough rows). Frees in. */
int ingest_commit(struct ingest **in);
/* ingest_abort: roll back the open transaction and free in. Rows from
 * transactions already committed (non-atomic) stay. */
void ingest_abort(struct ingest **in);

/* Preparing jobs on other threads */
/* ingest_body_dict: the dictionary ingest_add stores bodies with now: NULL
 * while the first rows are sampled to train one. Borrowed; it lives as
 * long as the queue and may be shared by threads. Call on in's thread. */
const struct blob_dict *ingest_body_dict(const struct ingest *in);
/* ingest_encode: hash j and compress its body with d (NULL: none), setting
 * j->hash, blob (in c's buffer, valid until c's next call), blob_len and
 * blob_dict. Thread-safe given a codec per thread. QUEUE_EINVAL when the
 * body is too large to store. */
int ingest_encode(struct blob_codec *c, const struct blob_dict *d,
		  struct ingest_job *j);

#endif
