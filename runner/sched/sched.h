/* sched.h — provider admission: may a request go to this provider now?
 *
 * One gate per provider, shared by every worker thread: the in-flight cap
 * (max_inflight, lowered after 429s and raised back slowly: AIMD), the
 * rate limits (rpm, tpm: token buckets), a pause for the provider's
 * Retry-After when its shared limit is spent (not for each 429), the circuit breaker (runner/sched/breaker.h),
 * and "disabled for the run" after an auth or billing failure.
 * A request admitted with SCHED_GO must be ended exactly once, by
 * sched_done (it got an outcome) or sched_cancel (it was given up).
 *
 * Times: now_ms and retry_after_ms are on one clock, chosen by the
 * caller. outcome.retry_after_ms is epoch ms, so pass epoch ms (the
 * worker's wall_ms()) when feeding it straight in.
 *
 * Thread-safe: sched_admit, sched_done, sched_cancel and sched_stats may
 * be called from any thread (one mutex per provider, held only for the
 * arithmetic). sched_new and sched_free are not: call them before the
 * workers start and after they stop. */
#ifndef NIGHTSHIFT_SCHED_H
#define NIGHTSHIFT_SCHED_H

#include <stdint.h>

#include "runner/providers/outcome.h"
#include "runner/providers/prov.h"
#include "runner/sched/breaker.h"

/* The rate aimed at, as a share of the configured rpm/tpm: the limit is
 * the provider's, and arrival times jitter (connection setup, the
 * worker's poll), so aiming at exactly the limit draws a 429 whenever a
 * request lands a ms early. */
#define SCHED_HEADROOM_PCT 95
/* A burst of 429s is a shared limit when random refusals at the share
 * seen would make one that long less often than once in this many. */
#define SCHED_BURST_CHANCE_INV 10000
/* ... and a run of this many always is (a share of 429s near 1). */
#define SCHED_BURST_MAX 32
/* The 429 share is a moving average over about this many replies. */
#define SCHED_SHARE_SPAN 32
/* A measuring epoch lasts two round trips and at least this many
 * replies (fewer say too little: 32 replies at a 30% share give 0.3 +-
 * 0.08). */
#define SCHED_EPOCH_MIN 64
/* An epoch's 429 share this far above the random level is tested as a
 * concurrency limit. */
#define SCHED_SHARE_MARGIN 0.10
/* Pause after a shared-limit 429 without Retry-After: 1 s, doubling
 * while they keep coming with no success between, up to 5 s. */
#define SCHED_PAUSE_DEFAULT_MS 1000
#define SCHED_PAUSE_DEFAULT_MAX_MS 5000
/* Longest pause taken on a provider's word (the job's own retry time is
 * policy's business; this only stops the provider as a whole). */
#define SCHED_PAUSE_MAX_MS 300000
/* SCHED_WAIT at the concurrency limit: retry after this long (a slot
 * frees when some request ends, which cannot be foreseen). */
#define SCHED_SLOT_RETRY_MS 10

enum sched_verdict {
	SCHED_GO,   /* send it: it is counted in flight */
	SCHED_WAIT, /* not yet: try again at *retry_at_ms */
	SCHED_OPEN, /* breaker open: use another candidate, or wait until
		     *retry_at_ms */
	SCHED_OFF   /* disabled for the run (auth/billing failure);
		     *retry_at_ms = -1 */
};

struct sched;

/* A provider's admission state, for the report and the progress line. */
struct sched_stats {
	int inflight;	      /* admitted, not yet done or cancelled */
	int limit;	      /* concurrency allowed now: 1..max_inflight */
	double cwnd;	      /* AIMD window behind limit */
	long long admitted;   /* SCHED_GO answers */
	long long n429;	      /* RATE_LIMITED outcomes seen */
	long long trips;      /* times the breaker opened */
	int64_t paused_until; /* end of the last 429 pause; 0 if none */
	enum breaker_state breaker;
	int disabled;
	long long shared;     /* 429s read as a spent shared limit */
	double p429;	      /* moving share of 429s among 429s and OKs */
};

/* How a request ended, as the gate reads it. */
struct sched_reply {
	enum outcome_class cls;
	int64_t retry_after_ms; /* absolute, same clock as now_ms; -1 none */
	int limit_spent;	/* the reply says the shared window is spent
				   (outcome.limit_spent) */
	int64_t rtt_ms;		/* how long it was out; 0 unknown */
	int probe;		/* it was the half-open breaker's probe */
};

/* What a run learned about a provider, to start the next run from. */
struct sched_learned {
	double cwnd;	   /* the AIMD window */
	double p429;	   /* share of 429s (moving) */
	double floor;	   /* 429 share found not to fall with the window */
	double srtt_ms;	   /* smoothed round trip */
	double ok_per_min; /* successes a minute while it answered; 0 if
			      too few */
	long long shared;  /* shared-limit events this run */
	long long nok;	   /* successes this run */
};

/* Lifecycle */

/* sched_new: a gate per provider of provs[0..nprovs) (max_inflight, rpm,
 * tpm are copied; provs is borrowed for the call). Returns a new sched, freed with sched_free.
 * Rate buckets start nearly empty (see sched.c): the first request goes
 * at once, the rest at the rate. */
struct sched *sched_new(const struct prov *provs, size_t nprovs);

/* sched_free: free *s and set it to NULL; NULL or *s NULL does nothing. */
void sched_free(struct sched **s);

/* Admission */

/* sched_admit: may a request with est_tokens (estimated input + output
 * tokens; counted against tpm) go to provider prov (index into
 * the providers given to sched_new) at now_ms? Returns SCHED_GO (now in flight), SCHED_WAIT
 * (rate bucket empty, paused after a 429, or at the concurrency limit),
 * SCHED_OPEN (breaker open, or its one probe is out) or SCHED_OFF; for
 * the last three, *retry_at_ms (may be NULL) says when to ask again. An
 * out-of-range prov gets SCHED_OFF. On SCHED_GO, *probe (may be NULL) is
 * 1 if the request is the half-open breaker's probe: pass it back to
 * sched_done or sched_cancel. */
int sched_admit(struct sched *s, int prov, int64_t est_tokens, int64_t now_ms,
		int64_t *retry_at_ms, int *probe);

/* sched_done: a request admitted to prov ended as r says at now_ms.
 * Frees its slot and feeds the breaker. A 429 that reads as a spent
 * shared limit (r->limit_spent, or a burst with no success between that
 * chance would not make) pauses the whole provider until
 * r->retry_after_ms (-1 or a past time: the default pause) and halves
 * its concurrency window, at most once a round trip; any other 429 is
 * its job's alone (policy_next holds the job to its Retry-After) and
 * only feeds the share of 429s that tests whether refusals grow with
 * concurrency (see sched.c). OK grows the window by 1/cwnd up to
 * max_inflight. AUTH and BILLING disable the provider. While the
 * breaker is half-open only the probe's outcome feeds it. */
void sched_done(struct sched *s, int prov, const struct sched_reply *r,
		int64_t now_ms);

/* sched_cancel: a request admitted to prov was given up without an
 * outcome: frees its slot (and lets another probe go if it was the
 * probe). */
void sched_cancel(struct sched *s, int prov, int probe);

/* sched_available: 1 if prov takes requests at now_ms as far as health
 * goes (not disabled, breaker closed or a probe may go), else 0; rate
 * limits and the in-flight cap are not considered. Changes nothing: for
 * choosing a candidate, so that jobs go around an open breaker instead of
 * waiting on it. */
int sched_available(struct sched *s, int prov, int64_t now_ms);

/* Read-outs */

/* sched_stats: prov's state into *st (zeroed for an out-of-range prov). */
void sched_stats(struct sched *s, int prov, struct sched_stats *st);

/* sched_learned_get: what the gate of prov learned so far (zeroed for an
 * out-of-range prov). sched_learned_set: start prov's gate from what an
 * earlier run learned (call before the workers start; the window is
 * capped at max_inflight, values out of range are ignored). */
void sched_learned_get(struct sched *s, int prov, struct sched_learned *l);
void sched_learned_set(struct sched *s, int prov,
		       const struct sched_learned *l);

#endif
