/* policy.h — the retry/failover decision for one job after one attempt.
 *
 * A pure function of (configuration, the job's attempt state, the
 * outcome, a random number): it says whether the job is done, retries on
 * the same candidate at a given time, moves to its next candidate, or is
 * dead. The clock and the RNG are passed in so every path is testable.
 * Thread-safe (pure functions). */
#ifndef NIGHTSHIFT_POLICY_H
#define NIGHTSHIFT_POLICY_H

#include <stdint.h>

#include "runner/providers/outcome.h"

/* A retry at the provider's Retry-After goes up to this much after it, so
 * that the jobs one burst refused do not all come back at once. */
#define POLICY_SPREAD_MS 250
/* A job's requests in all, per attempt it may make: 429s that said when
 * are not attempts, but a provider that refuses forever must not keep a
 * job (and the run) going forever. */
#define POLICY_REQUESTS_PER_ATTEMPT 4

struct policy_cfg {
	int max_attempts;    /* per job per candidate, e.g. 5 (<1 means 1) */
	int64_t base_ms;     /* backoff base, e.g. 1000 */
	int64_t cap_ms;	     /* backoff ceiling, e.g. 60000 */
	int quality_retries; /* same-candidate retries for INVALID_OUTPUT,
				e.g. 1 */
	int64_t max_wait_ms; /* when a retry would wait longer than this and
				another candidate remains, fail over
				instead; 0 = always wait */
	int max_requests;    /* a job's requests in all, 429s that said
				when included, before it moves on; 0 = no
				bound */
};

struct policy_job {
	int attempts;	     /* attempts on the current candidate that
				count (policy_counts), including the one
				just made */
	int requests;	     /* every request of the job, all candidates,
				including the one just made */
	int invalid_outputs; /* INVALID_OUTPUT outcomes on the current
				candidate, including this one; 0 is read
				as 1 when this outcome is one */
	int candidate;	     /* index of the current candidate */
	int ncandidates;     /* candidates the job has (1 without routing) */
	int64_t now_ms;
};

enum policy_verb {
	POLICY_DONE,	 /* success: store the result */
	POLICY_RETRY,	 /* same candidate, not before at_ms */
	POLICY_FAILOVER, /* next candidate (candidate + 1), at at_ms */
	POLICY_DEAD	 /* give up; keep the outcome as the job's error */
};

struct policy_action {
	enum policy_verb verb;
	int64_t at_ms;	      /* when to send next (RETRY, FAILOVER) */
	int disable_provider; /* 1 on AUTH/BILLING: stop using this
				 provider for the rest of the run */
};

/* policy_next: the action after attempt job->attempts on candidate
 * job->candidate came back as o. rnd is a uniformly random 64-bit value
 * used for the jitter. Pointers are borrowed for the call.
 * FAILOVER is returned only when candidate + 1 < ncandidates; skipping
 * candidates whose provider was disabled is the caller's job (and when
 * none is usable the job is dead with this outcome). */
struct policy_action policy_next(const struct policy_cfg *cfg,
				 const struct policy_job *job,
				 const struct outcome *o, uint64_t rnd);

/* policy_backoff_ms: full-jitter backoff before retry number `attempts`
 * (1 = after the first attempt): uniform in
 * [0, min(cap_ms, base_ms * 2^(attempts-1))] drawn from rnd. Never
 * overflows, for any attempts up to INT_MAX. */
int64_t policy_backoff_ms(const struct policy_cfg *cfg, int attempts,
			  uint64_t rnd);

/* policy_counts: 1 when outcome o uses up one of the candidate's
 * attempts, 0 for a 429 that said when to come back: the provider did
 * not refuse the request, only the moment, so a storm of such refusals
 * neither kills jobs nor doubles their backoff (they are bounded by
 * max_requests instead). */
int policy_counts(const struct outcome *o);

/* policy_verb_name: "done", "retry", "failover", "dead" (static). */
const char *policy_verb_name(enum policy_verb v);

#endif
