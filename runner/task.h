/* task.h — a claimed job on its way through a run: what the worker
 * learns of it (candidates, request, reply, cost, fate) until the store
 * records it. A task belongs to one thread at a time (see runctx.h).
 * Not thread-safe: task_new/task_free by whoever holds the task. */
#ifndef NIGHTSHIFT_TASK_H
#define NIGHTSHIFT_TASK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "queue/claim.h"
#include "runner/policy.h"
#include "runner/providers/cost.h"
#include "runner/providers/outcome.h"
#include "runner/sched/admit.h"

enum task_kind {
	TASK_SENT,	 /* a request was sent: ledger row + fate */
	TASK_RELEASE,	 /* not sent (stopping): back to queued */
	TASK_ABORTED,	 /* sent, then given up as the run stopped: a
			    ledger row, back to queued */
	TASK_PARK,	 /* no usable candidate now (missing key) */
	TASK_UNROUTABLE, /* no provider serves its model: dead */
	TASK_CORRUPT,	 /* its stored body cannot be decoded: dead */
	TASK_UNRUN,	 /* a batch line the provider never ran (expired,
			    cancelled): a $0 ledger row of that class, back
			    to the queue at act.at_ms, no attempt counted */
};

/* A claimed job on its way through the run. */
struct task {
	struct task *next;
	struct task *sprev, *snext; /* in the run's sent set (sent.h) */
	int in_sent;
	struct claim_job job;
	struct admit_state adm; /* its candidates and admission */
	enum task_kind kind;
	int prov, model; /* the candidate used (indexes into config) */
	int lane;	 /* LANE_SYNC, or LANE_BATCH for a batch's line */
	int resent;	 /* sent again by libcurl after a dead connection
			    (see worker.c, struct xfer) */
	double cost_ref_usd; /* the same usage on the dearest candidate */
	cJSON *schema;	     /* json_schema the reply must follow, new */
	int64_t sent_at_ms;
	int64_t latency_ms;
	double cost_usd;	       /* what the request is charged */
	double cost_sync_usd;	       /* batch: the same at the sync price */
	enum cost_basis cost_basis; /* how that was found */
	struct outcome out;
	void *zbody; /* DONE: out.body compressed by the worker, new */
	size_t zbody_len;
	struct policy_action act;
	char *detail; /* PARK/UNROUTABLE/CORRUPT: why (new) */
};

/* task_new: a task for claimed job j, whose pointers it takes over;
 * not routed yet. */
struct task *task_new(const struct claim_job *j);
/* task_free: free a task and what it holds; NULL does nothing. */
void task_free(struct task *t);
/* task_free_chain: task_free every task of the chain from t (linked by
 * next, ending NULL). */
void task_free_chain(struct task *t);

#endif
