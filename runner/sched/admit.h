/* admit.h — admission: which candidate a claimed job goes to, and
 * whether it may go now.
 *
 * A job is routed once (its body.model resolved to (provider, model)
 * candidates, cut to its providers allow-list), then asked at every turn
 * of its worker: the routing order picks the candidate (the one it is on
 * while usable, else the cheapest usable one that fits; see route.h), the
 * provider's gate (sched.h) says go, wait or passed over (open breaker:
 * the job's next candidate instead), and the budget (budget.h) must take
 * the request's worst case. The answer is a verdict the worker acts on;
 * nothing here touches a transfer, a list or the database.
 *
 * Thread-safe: a struct admit is shared by the workers (what it points to
 * is read-only or atomic); a struct admit_state belongs to its job's
 * worker. */
#ifndef NIGHTSHIFT_ADMIT_H
#define NIGHTSHIFT_ADMIT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "queue/claim.h"
#include "runner/providers/prov.h"
#include "runner/sched/route.h"

/* Most candidates a job keeps (a route longer than this is cut). */
#define ADMIT_MAX_CANDS 8

struct budget;
struct estimates;
struct jsonidx;
struct sched;

/* What admission needs of the run; every pointer borrowed, outliving
 * the workers. */
struct admit {
	const struct prov *provs;
	size_t nprovs;
	const struct route *routes;
	size_t nroutes;
	const unsigned char *keyed; /* per provider: its key is set, or it
				       needs none */
	atomic_int *disabled;	    /* per provider: shut off this run (it
				       refused the account); admission sets
				       it when the gate says so */
	struct sched *sched;
	struct estimates *est;
	struct budget *budget;
	int run_lane; /* --lane: 0 auto, 1 sync, 2 batch; a job that wants
			 the batch lane is never sent here (parked) */
};

/* A job's routing and admission, kept with the job by its worker. */
struct admit_state {
	struct route_cand cands[ADMIT_MAX_CANDS];
	int ncands;		 /* -1 until routed */
	int probe;		 /* admitted as its breaker's half-open probe */
	long long reserved_nusd; /* budget held while in flight */
	int64_t wait_until_ms;	 /* not asked again before then */
	/* On ADMIT_GO: the request's estimated input tokens and worst case
	 * (what the budget holds, with a cap or without), which price a
	 * reply whose usage cannot be taken at its word. */
	int64_t est_in;
	double worst_usd;
};

enum admit_verdict {
	ADMIT_GO,	   /* send to cands[job->candidate] now: its slot and
			      budget are held (admit_release gives them
			      back) */
	ADMIT_WAIT,	   /* ask again at wait_until_ms */
	ADMIT_PARK,	   /* no candidate can be used this run (no key,
			      shut off): the job waits for the next run */
	ADMIT_DEAD,	   /* no candidate can ever serve it */
	ADMIT_OVER_BUDGET, /* its worst case does not fit --max-cost: the
			      run stops sending */
};

/* admit_state_init: a job not routed yet. */
void admit_state_init(struct admit_state *s);

/* admit_route: resolve j's model to s's candidates (the job's providers
 * allow-list applied), indexing its body into x (the caller's scratch,
 * freed and reused: jsonidx_free before reuse is done here). Returns 1
 * when x holds the body's index afterwards (*end: where its value ends),
 * for the request builder to reuse; 0 when the body did not index. When
 * no candidate is left, s->ncands is 0 and *detail (new) says why. */
int admit_route(const struct admit *a, const struct claim_job *j,
		struct admit_state *s, struct jsonidx *x, size_t *end,
		char **detail);

/* admit_job: may routed job j go now (wall clock now_ms)? On ADMIT_GO
 * j->candidate is the one chosen (cand_attempts reset if it changed).
 * ADMIT_PARK and ADMIT_DEAD set *detail (new): the keys to set and
 * providers shut off, or why no candidate serves it. */
enum admit_verdict admit_job(const struct admit *a, struct claim_job *j,
			     struct admit_state *s, int64_t now_ms,
			     char **detail);

/* admit_plan: where routed job j would go at now_ms, asking no gate and
 * holding no budget (plan's dry run): the index of the candidate the
 * routing order picks, with its estimated cost in *cost and the dearest
 * candidate that fits in *dearest; -1 and *why when there is none. */
int admit_plan(const struct admit *a, const struct claim_job *j,
	       const struct admit_state *s, int64_t now_ms, double *cost,
	       double *dearest, enum route_none *why);

/* Lanes. batch[prov] says what provider prov's batch lane may take this
 * run: ADMIT_LANE_NONE (no lane, no key, refused), ADMIT_LANE_FORCED (only
 * jobs that must take it: its turnaround does not fit the deadline) or
 * ADMIT_LANE_OPEN. */
enum { ADMIT_LANE_NONE, ADMIT_LANE_FORCED, ADMIT_LANE_OPEN };
/* A deadline further away than a batch lane's turnaround x this is one
 * the lane fits: a turnaround is a median, not a bound. */
#define ADMIT_LANE_FIT 1.5
/* admit_lane_state: what provider p's batch lane may take in a run ending
 * at end_ms (0: no deadline), its key set or not (keyed), at now_ms, its
 * turnaround turnaround_ms (learned; 0: none yet, then its window). */
int admit_lane_state(const struct prov *p, int keyed, int64_t turnaround_ms,
		     int64_t now_ms, int64_t end_ms);
/* admit_lane_turnaround: turnaround_ms, or p's completion window when it
 * is 0 (nothing learned yet). */
int64_t admit_lane_turnaround(const struct prov *p, int64_t turnaround_ms);
/* admit_lane: where routed job j goes among (candidate, lane) pairs at
 * now_ms, cheapest first (a dearer model's batch lane can beat a cheaper
 * model's sync lane), asking no gate. want is the job's lane after the
 * run's --lane (0 auto, 1 sync, 2 batch). Returns the candidate index
 * with *lane (0 sync, 1 batch), its estimated cost *cost, the same
 * candidate's sync cost *sync_cost and the dearest sync cost of a
 * candidate that fits *dearest; -1 and *why when none. */
int admit_lane(const struct admit *a, const struct claim_job *j,
	       const struct admit_state *s, int want,
	       const unsigned char *batch, int64_t now_ms, int *lane,
	       double *cost, double *dearest, double *sync_cost,
	       enum route_none *why);
/* admit_release: the request admitted with ADMIT_GO is over (answered or
 * not): its budget is given back. admit_cancel: it was never answered
 * (not built, or given up): its provider slot and budget are given back. */
void admit_release(const struct admit *a, struct admit_state *s);
void admit_cancel(const struct admit *a, struct admit_state *s, int prov);

/* admit_others_left: j has another usable candidate to fail over to. */
int admit_others_left(const struct admit *a, const struct claim_job *j,
		      const struct admit_state *s);

#endif
