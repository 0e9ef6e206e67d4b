/* stats.h — counts for `nightshift status`: jobs by state and spend.
 * Not thread-safe (uses the connection). */
#ifndef NIGHTSHIFT_STATS_H
#define NIGHTSHIFT_STATS_H

#include <stdint.h>

#include "queue/queue.h"

struct queue;

struct queue_stats {
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

/* queue_stats: fill *out from the database. QUEUE_* code. */
int queue_stats(struct queue *q, struct queue_stats *out);

#endif
