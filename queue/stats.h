/* stats.h — counts over the queue and the ledger: jobs by state and spend
 * for `nightshift status`, and what a run has left to do.
 *
 * Not thread-safe (uses the connection; the run's counts belong to the
 * store thread like the rest of struct qrun). */
#ifndef NIGHTSHIFT_STATS_H
#define NIGHTSHIFT_STATS_H

#include <stdint.h>

#include "queue/queue.h"

struct queue;
struct qrun;

struct stats {
	int64_t by_state[JOB_NSTATES];
	int64_t total;
	int64_t waiting;       /* queued but in backoff (not_before > now) */
	int64_t parked;        /* queued until a key is set or the next run */
	int64_t requests;      /* ledger rows: requests sent */
	double spend_usd;      /* ledger total */
	int64_t tokens_in;     /* all input kinds */
	int64_t tokens_out;    /* output incl. reasoning */
	int64_t body_bytes;    /* stored (compressed) request bytes */
};

/* The whole queue */
/* stats_read: fill *out from the database, in one read transaction so the
 * counts agree. QUEUE_* code. */
int stats_read(struct queue *q, struct stats *out);

/* A run's, outside its transactions */
/* stats_backlog: queued jobs not parked (*queued), the earliest not_before
 * among them (*next_due_ms, 0 if none), parked jobs, and running jobs
 * leased by runs other than r. */
int stats_backlog(struct qrun *r, long long *queued, int64_t *next_due_ms,
		  long long *parked, long long *others_running);
/* stats_dead: how many jobs are dead now (from an index of them: cheap
 * however big the queue). */
int stats_dead(struct qrun *r, long long *n);

#endif
