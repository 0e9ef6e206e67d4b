/* record.h — what a task that came back to the store writes to the
 * queue: a ledger row for every send of its request (libcurl's own
 * re-sends included: the provider may bill each), and its job's fate
 * (done with its result, dead with its error, queued again for a retry
 * or a failover, parked for the next run, or released unsent), and the
 * run's progress counts that go with them.
 * Store thread only (it writes through the store's qrun). */
#ifndef NIGHTSHIFT_RECORD_H
#define NIGHTSHIFT_RECORD_H

struct qrun;
struct runctx;
struct task;

/* record_task: write t's rows and fate through qr, inside the store's
 * transaction, and count them in rc's progress (atomics, which the store
 * takes back if the transaction fails). Returns 0 or a QUEUE_* code. t is
 * borrowed. */
int record_task(struct qrun *qr, struct runctx *rc, const struct task *t);

#endif
