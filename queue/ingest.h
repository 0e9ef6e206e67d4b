/* ingest.h — putting validated jobs into the queue, many per transaction.
 *
 * The caller (runner/) parses and validates lines; this module decides
 * whether each job is new, already queued (same custom_id, same content:
 * re-ingest is idempotent) or a conflict (same custom_id, different
 * content: the queued job is kept), compresses the body and inserts it.
 * Not thread-safe: one ingest per struct queue at a time. */
#ifndef NIGHTSHIFT_INGEST_H
#define NIGHTSHIFT_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct queue;
struct ingest;

/* One job, all fields borrowed for the call. */
struct ingest_job {
	const char *custom_id;
	const char *body; /* the body JSON, normalized (no whitespace) */
	size_t body_len;
	long long priority;
	const char *providers; /* JSON array text, or NULL */
	double max_cost_usd;   /* < 0: none */
	int64_t est_input_tokens;
	int64_t max_output_tokens; /* 0: not given */
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
/* ingest_add: add one job; *verdict says what became of it. A failure is a
 * QUEUE_* code (the database's, e.g. QUEUE_EFULL), details in
 * queue_errmsg(q); the open transaction is then rolled back. */
int ingest_add(struct ingest *in, const struct ingest_job *job,
	       enum ingest_verdict *verdict);
/* ingest_commit: commit what is pending (trains the body dictionary first
 * if the file had none and there are enough rows). Frees in. */
int ingest_commit(struct ingest **in);
/* ingest_abort: roll back the open transaction and free in. Rows from
 * transactions already committed (non-atomic) stay. */
void ingest_abort(struct ingest **in);

#endif
