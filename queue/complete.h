/* complete.h — what became of a claimed job: retried later, done or dead
 * with its one result, or released unsent (see run.h); and the dictionary
 * results are compressed with, trained on the first of them.
 *
 * Not thread-safe: complete_job belongs to the store thread;
 * complete_result_dict may be called from any thread. */
#ifndef NIGHTSHIFT_COMPLETE_H
#define NIGHTSHIFT_COMPLETE_H

#include <stddef.h>
#include <stdint.h>

struct qrun;
struct blob_dict;

enum complete_verb {
	COMPLETE_RETRY,   /* queued again, not before not_before */
	COMPLETE_DONE,    /* result stored */
	COMPLETE_DEAD,    /* error stored as its result */
	COMPLETE_RELEASE, /* never sent: queued again as it was */
};

/* What became of a job. Strings and body borrowed for the call. */
struct complete_fate {
	int64_t job_id;
	enum complete_verb verb;
	int attempts_add;  /* requests this fate accounts for */
	int candidate;     /* RETRY: candidate to use next (-1: choose) */
	int cand_attempts; /* RETRY: requests already sent to it */
	unsigned cand_exhausted; /* RETRY: candidates failed over from */
	int cand_invalid;	 /* RETRY: invalid outputs from it so far */
	int64_t not_before_ms;
	const char *last_error; /* RETRY/DEAD: short text, or NULL */
	/* DONE / DEAD: the result row */
	const char *provider, *model, *request_id;
	int status_code;
	const char *body; /* DONE: chat.completion JSON */
	size_t body_len;
	/* DONE: the body already compressed with complete_result_dict (then
	 * body may be NULL), or without a dictionary while there is none
	 * (then body must be given too: it is the sample), or NULL */
	const void *zbody;
	size_t zbody_len;
	const char *error_code, *error_message; /* DEAD */
	int64_t latency_ms;
	const char *lane;    /* DONE / DEAD: "sync" (NULL) or "batch" */
	double cost_ref_usd; /* DONE: the same usage on the dearest
				candidate of the job (0 = unknown) */
	/* DONE / DEAD: the job's attempts and spent_usd as claimed, and
	 * what the attempts_add requests cost. While the lease holds they
	 * make the result's attempts and cost; once it has lapsed both are
	 * read back from the row and the ledger. */
	int claimed_attempts;
	double claimed_usd, add_usd;
};

/* complete_job: apply f inside the run's transaction (qrun_begin). A
 * retry or release applies only while this run holds the job's lease; a
 * job done or dead is finished even after the lease lapsed (the work was
 * paid for), and keeps the one result it may already have. The cost of
 * f's requests reaches the job's spend in every case. QUEUE_* code. */
int complete_job(struct qrun *r, const struct complete_fate *f);

/* complete_result_dict: the dictionary results are compressed with, or
 * NULL while there is none yet (the first results are the sample it is
 * trained on, and must reach complete_job as plain bodies, with or without
 * a frame made without a dictionary). Any thread may compress with it
 * (blob_compress, its own codec) and pass the frame as zbody, so the store
 * thread does not compress every reply itself. Thread-safe. */
const struct blob_dict *complete_result_dict(struct qrun *r);

#endif
