/* runctx.h — the state `nightshift run` shares between its threads.
 *
 * DESIGN: one store thread owns the database (claims, ledger rows, fates,
 * group commits); worker threads each drive many HTTP transfers with a
 * libcurl multi handle. Claimed jobs travel store -> workers as tasks on
 * the work list; finished tasks travel back on the done list. Both lists
 * are guarded by one mutex, held only to move pointers (never across
 * HTTP, SQL or JSON work). A task belongs to exactly one thread at a time:
 * whoever took it off a list.
 *
 * Counters read by the progress line and by admission (in-flight per
 * provider, disabled providers) are C11 atomics. */
#ifndef NIGHTSHIFT_RUNCTX_H
#define NIGHTSHIFT_RUNCTX_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "queue/claim.h"
#include "queue/run.h"
#include "runner/config.h"
#include "runner/providers/outcome.h"
#include "runner/policy.h"

/* Most candidates a job keeps (a route longer than this is cut). */
#define TASK_MAX_CANDS 8

enum task_kind {
	TASK_SENT,       /* a request was sent: ledger row + fate */
	TASK_RELEASE,    /* not sent (stopping): back to queued */
	TASK_ABORTED,    /* sent, then given up as the run stopped: a
			    ledger row, back to queued */
	TASK_PARK,       /* no usable candidate now (missing key) */
	TASK_UNROUTABLE, /* no provider serves its model: dead */
	TASK_CORRUPT,    /* its stored body cannot be decoded: dead */
};

struct task {
	struct task *next;
	struct claim_job job;
	/* filled by the worker */
	struct route_cand cands[TASK_MAX_CANDS];
	int ncands; /* -1 until routed */
	enum task_kind kind;
	int prov, model;   /* the candidate used (indexes into config) */
	int probe;         /* admitted as its breaker's half-open probe */
	int resent;        /* sent again by libcurl after a dead connection
			      (see worker.c, struct xfer) */
	long long reserved_nusd; /* budget held while in flight */
	double cost_ref_usd;     /* the same usage on the dearest candidate */
	int64_t wait_until_ms;   /* pending: not admitted before then */
	cJSON *schema;           /* json_schema the reply must follow, new */
	int64_t sent_at_ms;
	int64_t latency_ms;
	double cost_usd;
	struct outcome out;
	void *zbody; /* DONE: out.body compressed by the worker, new */
	size_t zbody_len;
	struct policy_action act;
	char *detail; /* PARK/UNROUTABLE: why (new) */
};

struct worker;
struct sched;

/* What the run has seen of one provider x model, to calibrate estimates:
 * reported prompt tokens against the job's own estimate, and output. */
struct calib {
	atomic_llong est_in, rep_in, out, n;
};

struct runctx {
	const struct config *cfg;
	struct policy_cfg policy;
	char **keys; /* per provider: the key from the environment or NULL */
	int max_inflight;
	int nworkers;
	struct worker **workers;

	pthread_mutex_t mu;
	pthread_cond_t store_cv; /* store waits for done tasks */
	struct task *work_head, *work_tail;
	struct task *done_head, *done_tail;
	int hungry; /* a worker found the work list empty (under mu) */

	struct sched *sched;       /* admission per provider */
	atomic_int *prov_disabled; /* per provider: auth/billing failure */
	int *disabled_logged;      /* store: disabled event written */
	long long *trips_logged;   /* store: breaker trips written */
	int64_t *pause_logged;     /* store: last 429 pause written */
	atomic_int stopping;       /* stop claiming; finish in flight */
	atomic_int abort_now;      /* give up in-flight requests now */
	atomic_int finished;       /* store is done: workers exit */
	int end_fd; /* eventfd the store writes once finished is set, so the
		     * main thread's wait ends then, not at its next tick */
	atomic_int outstanding;    /* claimed and not yet back */

	/* progress, written by the store */
	atomic_llong n_done, n_dead, n_requests, n_retries, n_parked;
	atomic_llong spend_pusd; /* spend this run, pico-dollars: the sum of
				    rounded nano-dollars drifted from the
				    ledger's in the sixth decimal */
	long long total_at_start;

	/* estimates, calibrated as the run goes */
	struct calib *calib; /* [calib_off[prov] + model] */
	size_t *calib_off;
	atomic_llong lat_sum_ms, lat_n;

	/* --max-cost: worst cases of requests in flight are reserved */
	long long budget_nusd;     /* 0 = no budget */
	atomic_llong ledger_nusd;  /* spend counted against it */
	atomic_llong reserved_nusd;
	atomic_llong refused_nusd; /* worst case of the first request the
				      budget could not take */
	atomic_int budget_hit;

	struct qrun *qr; /* the store's; workers call complete_result_dict */

	int fatal;           /* store failed: QUEUE_* code */
	char fatal_msg[600]; /* what, for the user */
	long long lost_requests; /* sent, answered into the turn that failed */
};

/* runctx_push_done: hand a finished task to the store (thread-safe). */
void runctx_push_done(struct runctx *rc, struct task *t);
/* runctx_push_dones: hand a chain of tasks (linked by next, ending NULL). */
void runctx_push_dones(struct runctx *rc, struct task *head,
		       struct task *tail);
/* runctx_take_work: up to max tasks from the work list (thread-safe);
 * returns the chain, NULL when empty. */
struct task *runctx_take_work(struct runctx *rc, int max);
/* task_free: free a task and what it holds. */
void task_free(struct task *t);

#endif
