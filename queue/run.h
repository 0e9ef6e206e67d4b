/* run.h — the run loop's side of the queue: leases, claims, the ledger and
 * job fates, applied in group commits.
 *
 * DESIGN: a run owns jobs through a lease (owner "host:pid:run", expiry).
 * A job leaves a lease only through qrun_fate: retry (back to queued with a
 * not-before time), done or dead (with its one result), or release (unsent,
 * back to queued untouched). Everything between qrun_begin and qrun_commit
 * is one transaction, so a crash loses at most the last batch, whose jobs
 * are still leased and come back when the lease is recovered: work may be
 * repeated, never lost, and a job never gets two results (results.job_id
 * is the primary key).
 *
 * Not thread-safe: a struct qrun belongs to the store thread, except
 * qrun_result_dict, which any thread may call. */
#ifndef NIGHTSHIFT_QRUN_H
#define NIGHTSHIFT_QRUN_H

#include <stddef.h>
#include <stdint.h>

struct queue;
struct qrun;

/* A claimed job; every pointer is new and freed by qrun_job_clear. */
struct qrun_job {
	int64_t id;
	char *custom_id;
	char *body; /* the queued body JSON, NUL-terminated; NULL until
		       qrun_job_decode */
	size_t body_len;
	/* as claimed: the stored frame and the dictionary it names (NULL:
	 * none), decoded by qrun_job_decode on whichever thread sends it,
	 * so the store thread, the run's one writer, does not */
	void *frame;
	size_t frame_len;
	const struct blob_dict *dict;
	int attempts;      /* requests sent so far, every candidate */
	int candidate;     /* current candidate (config order); -1 none yet */
	int cand_attempts; /* requests sent to that candidate */
	unsigned cand_exhausted; /* bit i: candidate i was failed over from */
	double spent_usd; /* what the ledger holds for the job */
	int64_t est_input_tokens;
	int64_t max_output_tokens; /* 0 = not given */
	double max_cost_usd;       /* < 0 = none */
	char *providers;           /* JSON array allow-list or NULL */
};
void qrun_job_clear(struct qrun_job *j);
/* qrun_job_decode: the job's body from its frame, with the caller's codec
 * (any thread; dictionaries live as long as the queue). Returns 0, or -1
 * for a corrupt frame (the job keeps no body). */
struct blob_codec;
int qrun_job_decode(struct qrun_job *j, struct blob_codec *c);

/* One request sent: a ledger row. Strings borrowed for the call. */
struct qrun_attempt {
	int64_t job_id;
	const char *provider, *model;
	int64_t sent_at_ms;
	int http_status; /* 0 = no response */
	const char *error_class; /* "ok" or an outcome class name */
	int64_t latency_ms;
	int64_t tok_in, tok_cached, tok_cache_write, tok_out, tok_reasoning;
	double cost_usd;
	const char *action; /* what followed: done, retry, failover, dead,
			       park */
};

enum qrun_verb {
	QRUN_RETRY,   /* queued again, not before not_before */
	QRUN_DONE,    /* result stored */
	QRUN_DEAD,    /* error stored as its result */
	QRUN_RELEASE, /* never sent: queued again as it was */
};

/* What became of a job. Strings and body borrowed for the call. */
struct qrun_fate {
	int64_t job_id;
	enum qrun_verb verb;
	int attempts_add;  /* requests this fate accounts for */
	int candidate;     /* RETRY: candidate to use next (-1: choose) */
	int cand_attempts; /* RETRY: requests already sent to it */
	unsigned cand_exhausted; /* RETRY: candidates failed over from */
	int64_t not_before_ms;
	const char *last_error; /* RETRY/DEAD: short text, or NULL */
	/* DONE / DEAD: the result row */
	const char *provider, *model, *request_id;
	int status_code;
	const char *body; /* DONE: chat.completion JSON */
	size_t body_len;
	/* DONE: the body already compressed with qrun_result_dict (then
	 * body may be NULL), or without a dictionary while there is none
	 * (then body must be given too: it is the sample), or NULL */
	const void *zbody;
	size_t zbody_len;
	const char *error_code, *error_message; /* DEAD */
	int64_t latency_ms;
	double cost_ref_usd; /* DONE: the same usage on the dearest
				candidate of the job (0 = unknown) */
	/* DONE / DEAD: the job's attempts and spent_usd as claimed, and
	 * what the attempts_add requests cost. While the lease holds they
	 * make the result's attempts and cost; once it has lapsed both are
	 * read back from the row and the ledger. */
	int claimed_attempts;
	double claimed_usd, add_usd;
};

/* qrun_result_dict: the dictionary results are compressed with, or NULL
 * while there is none yet (the first results are the sample it is trained
 * on, and must reach qrun_fate as plain bodies, with or without a frame
 * made without a dictionary). Any thread may compress with it
 * (blob_compress, its own codec) and pass the frame as zbody, so the
 * store thread does not compress every reply itself. Thread-safe. */
struct blob_dict;
const struct blob_dict *qrun_result_dict(struct qrun *r);

/* Lifecycle */
int qrun_open(struct queue *q, const char *owner, struct qrun **out);
void qrun_close(struct qrun **r);

/* Recovery: take back jobs whose lease expired or whose owner is gone;
 * alive(owner, arg) says whether a lease owner still runs. */
int qrun_recover(struct qrun *r, int64_t now_ms,
		 int (*alive)(const char *owner, void *arg), void *arg,
		 long long *recovered);

/* Group commits */
int qrun_begin(struct qrun *r);
int qrun_commit(struct qrun *r);
void qrun_rollback(struct qrun *r);

/* Inside a transaction */
/* qrun_claim: lease up to limit ready jobs (highest priority, then oldest
 * due, then ingest order) until lease_until_ms. out has room for limit;
 * *n says how many were filled. */
int qrun_claim(struct qrun *r, int64_t now_ms, int64_t lease_until_ms,
	       int limit, struct qrun_job *out, int *n);
/* qrun_renew: extend every lease this run holds. */
int qrun_renew(struct qrun *r, int64_t lease_until_ms);
int qrun_attempt(struct qrun *r, const struct qrun_attempt *a);
int qrun_fate(struct qrun *r, const struct qrun_fate *f);
/* qrun_event: a provider-level event (kind: breaker_open, disabled,
 * paused) for the report. */
int qrun_event(struct qrun *r, const char *provider, const char *kind,
	       const char *detail);
/* qrun_release_all: every job this run still leases back to queued. */
int qrun_release_all(struct qrun *r);

/* Parked jobs: queued with no usable provider (a key not set); they wait
 * with this not_before until the next run unparks them. */
#define QRUN_PARKED ((int64_t)1 << 62)
/* qrun_unpark: make parked jobs claimable again (start of a run). */
int qrun_unpark(struct qrun *r, long long *n);

/* Outside a transaction */
/* qrun_backlog: queued jobs not parked (*queued), the earliest not_before
 * among them (*next_due_ms, 0 if none), parked jobs, and running jobs
 * leased by others. */
int qrun_backlog(struct qrun *r, long long *queued, int64_t *next_due_ms,
		 long long *parked, long long *others_running);
/* qrun_dead: how many jobs are dead now (from an index of them: cheap
 * however big the queue). */
int qrun_dead(struct qrun *r, long long *n);
/* qrun_spend: total cost in the ledger, all runs. */
int qrun_spend(struct qrun *r, double *usd);

#endif
