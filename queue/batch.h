/* batch.h — provider batches in the queue: the intent committed before a
 * batch is created, the jobs it holds, and what became of it.
 *
 * A batch row is written, with every job it will hold moved into it
 * (running, lease owner CLAIM_BATCH_OWNER, jobs.batch_id), in one
 * transaction before anything is sent to the provider. The steps after it
 * (file uploaded, batch created, results collected) each commit as they
 * happen, so a run that starts after a kill -9 at any point finds every
 * batch that may exist and adopts or finishes it; a job held by a batch is
 * never put in another until that batch has let it go.
 *
 * Not thread-safe: these use the qrun's connection. The lane opens a
 * connection of its own, with the owner CLAIM_BATCH_OWNER, so that the
 * fates of batch lines (complete_job) apply to the jobs the lane holds. */
#ifndef NIGHTSHIFT_QBATCH_H
#define NIGHTSHIFT_QBATCH_H

#include <stddef.h>
#include <stdint.h>

struct qrun;
struct claim_job;

enum qbatch_state {
	QBATCH_INTENT = 0,   /* committed; nothing created that we know of */
	QBATCH_UPLOADED = 1, /* its input file is uploaded (file_id) */
	QBATCH_LIVE = 2,     /* created at the provider (remote_id) */
	QBATCH_COLLECTED = 3, /* ended, and every line applied */
	QBATCH_DROPPED = 4,   /* never created, or refused: its jobs went back */
};

/* A batch row. Strings are new (qbatch_clear frees them); NULL when the
 * column is. */
struct qbatch {
	int64_t id;
	char *tag, *provider, *model, *file_id, *remote_id, *status;
	int state;
	int64_t requests, bytes;
	double reserved_usd;
	char *owner; /* the run that wrote the intent */
	int64_t created_at, submitted_at, ended_at, collected_at, cancel_at;
	int64_t done, failed;
};
void qbatch_clear(struct qbatch *b);

/* Inside a transaction (qrun_begin) */

/* qbatch_intent: a new batch row for (provider, model) in state intent at
 * now_ms, written by run; its tag is tag_prefix followed by its id. *b
 * filled (new). */
int qbatch_intent(struct qrun *r, const char *provider, const char *model,
		  const char *tag_prefix, const char *run, int64_t now_ms,
		  struct qbatch *b);
/* qbatch_hold: move the queued jobs ids[0..n) into batch `batch`; held[i]
 * (held may be NULL) says whether job i was queued and now is held (one
 * no longer queued is left alone); *nheld counts them. */
int qbatch_hold(struct qrun *r, int64_t batch, const int64_t *ids, int n,
		unsigned char *held, int *nheld);
/* qbatch_save: write b's mutable columns (state, file_id, remote_id,
 * status, requests, bytes, reserved_usd, submitted_at, ended_at,
 * collected_at, cancel_at, done, failed). */
int qbatch_save(struct qrun *r, const struct qbatch *b);
/* qbatch_release: every job still held by batch (or only job_id, when
 * not 0) goes back to the queue, with not_before not_before_ms and
 * last_error why (may be NULL); *n counts them (may be NULL). */
int qbatch_release(struct qrun *r, int64_t batch, int64_t job_id,
		   int64_t not_before_ms, const char *why, long long *n);
/* qbatch_jobs: the jobs ids[0..n) as batch holds them: found[i] 1 and
 * out[i] filled (its frame; claim_job_decode gives the body), or 0 when
 * batch does not hold job i (finished already, or not one of its). */
int qbatch_jobs(struct qrun *r, int64_t batch, const int64_t *ids, int n,
		struct claim_job *out, unsigned char *found);
/* qbatch_unwait: jobs queued for the batch lane (CLAIM_LANE_WAIT) that it
 * will not take, back to the sync lane's claims (not_before 0). */
int qbatch_unwait(struct qrun *r, const int64_t *ids, int n);

/* Outside a transaction */

/* qbatch_open_list: the batches not yet collected or dropped, oldest
 * first; *out new (free each with qbatch_clear, then the array). */
struct queue;
int qbatch_open_list(struct queue *q, struct qbatch **out, size_t *n);
/* qbatch_remote_known: 1 when a batch row has the provider's id remote,
 * 0 when none, or a negative QUEUE_* code. */
int qbatch_remote_known(struct qrun *r, const char *remote);
/* qbatch_held: jobs held by batches not yet collected; *n. */
int qbatch_held(struct qrun *r, long long *n);
/* qbatch_providers: the providers with a batch that ended, by name;
 * *names new (free each, then the array). */
int qbatch_providers(struct queue *q, char ***names, size_t *n);
/* qbatch_turnaround: the median time from created to ended of provider's
 * last 20 batches that ended on their own (not cancelled by us), in ms;
 * *ms 0 and *n 0 when it has none. */
int qbatch_turnaround(struct queue *q, const char *provider, int64_t *ms,
		      int *n);

/* Which queued jobs a page holds: every one not parked, those left to the
 * lane (CLAIM_LANE_WAIT), or those not parked that chose the batch lane. */
enum qbatch_page_of { QBATCH_QUEUED, QBATCH_LANE_WAIT, QBATCH_CHOSE_BATCH };
/* qbatch_page: up to limit queued jobs the lane may take (which: see
 * above), of id above after, in id order, into out[0..*n) (their frames).
 * Read a page, then hold its jobs: a page is read whole first, since an
 * UPDATE of rows a cursor is still reading leaves what it reads undefined. */
int qbatch_page(struct qrun *r, enum qbatch_page_of which, int64_t after,
		int limit, struct claim_job *out, int *n);

/* qbatch_scan_open: a cursor over batch's held jobs in id order (for its
 * input file), in one read transaction: claim_scan_next and
 * claim_scan_close (claim.h) read and end it. */
struct claim_scan;
int qbatch_scan_open(struct qrun *r, int64_t batch, struct claim_scan **c);

#endif
