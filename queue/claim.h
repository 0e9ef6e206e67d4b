/* claim.h — jobs taken under a run's lease: claimed, renewed, given back at
 * the end of a run, and taken back from runs that died (see run.h).
 *
 * Not thread-safe: these use the run's connection and belong to the store
 * thread; claim_job_decode and claim_job_clear touch only the job, on any
 * thread. */
#ifndef NIGHTSHIFT_CLAIM_H
#define NIGHTSHIFT_CLAIM_H

#include <stddef.h>
#include <stdint.h>

struct qrun;
struct blob_codec;
struct blob_dict;

/* A claimed job; every pointer is new and freed by claim_job_clear. */
struct claim_job {
	int64_t id;
	char *custom_id;
	char *body; /* the queued body JSON, NUL-terminated; NULL until
		       claim_job_decode */
	size_t body_len;
	/* as claimed: the stored frame and the dictionary it names (NULL:
	 * none), decoded by claim_job_decode on whichever thread sends it,
	 * so the store thread, the run's one writer, does not */
	void *frame;
	size_t frame_len;
	const struct blob_dict *dict;
	int attempts;      /* requests sent so far, every candidate */
	int candidate;     /* current candidate (config order); -1 none yet */
	int cand_attempts; /* attempts on that candidate that count
			      (policy_counts: not 429s that said when) */
	unsigned cand_exhausted; /* bit i: candidate i was failed over from */
	int cand_invalid;	 /* invalid outputs from that candidate */
	double spent_usd; /* what the ledger holds for the job */
	int64_t est_input_tokens;
	int64_t max_output_tokens; /* 0 = not given */
	double max_cost_usd;       /* < 0 = none */
	char *providers;           /* JSON array allow-list or NULL */
	int lane; /* the job's own lane: 0 auto, 1 sync, 2 batch */
};

/* Jobs */
void claim_job_clear(struct claim_job *j);
/* claim_job_decode: the job's body from its frame, with the caller's codec
 * (any thread; dictionaries live as long as the queue). Returns 0, or -1
 * for a corrupt frame (the job keeps no body). */
int claim_job_decode(struct claim_job *j, struct blob_codec *c);

/* Reading the jobs a run would send, without claiming them (plan): a
 * cursor in id order over queued jobs and those held by runs (not those
 * inside provider batches), in one read transaction.
 * claim_scan_next fills *j (its frame, as a claim does; claim_job_decode
 * gives the body) and returns 1, 0 at the end, or a negative QUEUE_* code
 * (QUEUE_EINVAL: a frame names a dictionary the file lacks). Not
 * thread-safe: it uses q's connection. */
struct queue;
struct claim_scan;
int claim_scan_open(struct queue *q, struct claim_scan **c);
int claim_scan_next(struct claim_scan *c, struct claim_job *j);
void claim_scan_close(struct claim_scan **c);

/* At the start of a run, outside a transaction */
/* claim_recover: take back jobs whose lease expired or whose owner is gone;
 * alive(owner, arg) says whether a lease owner still runs. *recovered
 * counts them; *lost counts the requests a gone owner had in flight at
 * its last commit, now in the ledger as "lost" (ledger_lost). */
int claim_recover(struct qrun *r, int64_t now_ms,
		  int (*alive)(const char *owner, void *arg), void *arg,
		  long long *recovered, long long *lost);

/* Inside a transaction (qrun_begin) */
/* claim_jobs: lease up to limit ready jobs (highest priority, then oldest
 * due, then ingest order) until lease_until_ms. out has room for limit;
 * *n says how many were filled. QUEUE_EINVAL (and no job) when a stored
 * frame names a dictionary the file lacks. */
int claim_jobs(struct qrun *r, int64_t now_ms, int64_t lease_until_ms,
	       int limit, struct claim_job *out, int *n);
/* claim_renew: extend every lease this run holds. */
int claim_renew(struct qrun *r, int64_t lease_until_ms);
/* claim_release_all: every job this run still leases back to queued. */
int claim_release_all(struct qrun *r);

/* Parked jobs: queued with no usable provider (a key not set); they wait
 * with this not_before until the next run unparks them. */
#define CLAIM_PARKED ((int64_t)1 << 62)
/* Queued for the batch lane: the sync lane's claims pass them by (as they
 * do parked jobs) until the lane puts them in a batch or gives them back
 * with not_before 0; a new run starts them over as parked ones. */
#define CLAIM_LANE_WAIT (CLAIM_PARKED + 1)
/* The lease owner of jobs inside provider batches (queue/batch.h): no
 * run, so never taken back as a dead one's. */
#define CLAIM_BATCH_OWNER "batch"
/* claim_unpark: make parked jobs claimable again (start of a run); *n
 * counts them. */
int claim_unpark(struct qrun *r, long long *n);

#endif
