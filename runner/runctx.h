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
 * This room is below the store and the workers: both include it, it
 * includes neither (workers are woken through the eventfds they register
 * here). Counters read by the progress line and flags read by every
 * thread are C11 atomics; admission's and the reply pipeline's shared
 * parts (gates, estimates, budget) are their own rooms' (sched/, reply.h).
 *
 * Thread-safe as each function says: runctx_new/runctx_free run on the
 * main thread before and after the other threads. */
#ifndef NIGHTSHIFT_RUNCTX_H
#define NIGHTSHIFT_RUNCTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "queue/run.h"
#include "runner/config.h"
#include "runner/reply.h"
#include "runner/sched/admit.h"
#include "runner/sched/budget.h"
#include "runner/sent.h"
#include "runner/task.h"

/* What the run was asked for, for runctx_new. */
struct runctx_opts {
	int max_inflight; /* requests in flight, all providers */
	int nworkers;	  /* worker threads */
	double max_cost;  /* --max-cost; < 0: none */
	double spent_usd; /* what --max-cost counts as spent already */
	long long queued; /* jobs waiting at the start (progress total) */
};

struct runctx {
	const struct config *cfg;
	char **keys;	      /* per provider: its key, or NULL (new) */
	unsigned char *keyed; /* per provider: keys[i] != NULL, for admission,
				 which so never holds a key */
	int max_inflight;
	int nworkers;
	int *wake_fds; /* per worker: its eventfd, -1 until registered */

	pthread_mutex_t mu;
	pthread_cond_t store_cv; /* store waits for done tasks */
	struct task *work_head, *work_tail;
	struct task *done_head, *done_tail;
	int hungry; /* a worker found the work list empty (under mu) */

	struct sched *sched;	   /* admission per provider */
	struct estimates *est;	   /* token estimates, calibrated */
	struct budget budget;	   /* --max-cost */
	atomic_int *prov_disabled; /* per provider: auth/billing failure */
	atomic_llong *held_until;  /* per provider: see reply_ctx */
	struct admit admit;	   /* admission's view of the above */
	struct reply_ctx reply;	   /* the reply pipeline's */
	struct sent sent;	   /* sent, not yet recorded */

	atomic_int stopping;	/* stop claiming; finish in flight */
	atomic_int abort_now;	/* give up in-flight requests now */
	atomic_int finished;	/* store is done: workers exit */
	int end_fd; /* eventfd the store writes once finished is set, so the
		     * main thread's wait ends then, not at its next tick */
	atomic_int outstanding; /* claimed and not yet back */
	atomic_int lane_busy;	/* the batch lane still tends batches: it may
				   send jobs back to the sync lane */

	/* progress, written by the store */
	atomic_llong n_done, n_dead, n_requests, n_retries, n_parked;
	/* spend this run, as the ledger sums it: a double, since the store
	 * is its only writer (pico-dollars in an int64 wrapped past $9.2M,
	 * and rounded nano-dollars drifted from the ledger's sum) */
	_Atomic double spend_usd;
	long long total_at_start;

	struct qrun *qr; /* the store's; workers only call complete_result_dict */

	int fatal;		 /* store failed: QUEUE_* code */
	char fatal_msg[600];	 /* what, for the user */
	/* sent_added() before the in-flight list of the last commit: what
	 * was sent after it is in no list (the store's; the main thread
	 * reads it once the store has ended) */
	unsigned long long sent_committed;
};

/* runctx_size: ro's requests in flight (inflight, else the sum of the
 * providers' max_inflight, at most 1,024; cut to what the open-files
 * limit allows, raised to its hard limit first, saying so) and worker
 * threads (workers, else one a core; never more than in flight). Main
 * thread. */
void runctx_size(const struct config *cfg, int inflight, int workers,
		 struct runctx_opts *ro);
/* runctx_new: the shared state of a run over cfg and qr (both borrowed,
 * outliving it), with keys (per provider, transferred: wiped and freed by
 * runctx_free). Main thread, before any other starts. */
struct runctx *runctx_new(const struct config *cfg, struct qrun *qr,
			  char **keys, const struct runctx_opts *o);
/* runctx_free: free *rc, the tasks still on its lists and what it owns;
 * *rc becomes NULL. Main thread, after every other has ended. */
void runctx_free(struct runctx **rc);

/* runctx_push_dones: hand a chain of finished tasks (linked by next,
 * ending NULL) to the store (thread-safe). */
void runctx_push_dones(struct runctx *rc, struct task *head,
		       struct task *tail);
/* runctx_give_work: hand a chain of claimed tasks to the workers and wake
 * them (thread-safe). */
void runctx_give_work(struct runctx *rc, struct task *head,
		      struct task *tail);
/* runctx_take_work: up to max tasks from the work list (thread-safe);
 * returns the chain, NULL when empty. */
struct task *runctx_take_work(struct runctx *rc, int max);
/* runctx_take_unsent: every task still on the work list (thread-safe). */
struct task *runctx_take_unsent(struct runctx *rc);
/* runctx_wake_workers: interrupt every worker's wait (thread-safe). */
void runctx_wake_workers(struct runctx *rc);

#endif
