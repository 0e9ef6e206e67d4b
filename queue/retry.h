/* retry.h — requeue dead jobs (`nightshift retry`). Not thread-safe (uses
 * the connection). */
#ifndef NIGHTSHIFT_RETRY_H
#define NIGHTSHIFT_RETRY_H

#include <stddef.h>
#include <stdint.h>

struct queue;

/* retry_dead: in one transaction, put dead jobs back in the queue as if
 * new: queued, no attempts, no backoff, no lease, no last error, and their
 * results row deleted. Their ledger rows stay: history and spend are
 * facts. With nids == 0 every dead job is requeued; otherwise only the
 * jobs named in ids (borrowed), and prev[i] (caller's array of nids) gets
 * the state job ids[i] was in before (JOB_DEAD ones were requeued, others
 * left alone). *requeued counts the jobs requeued. If a named job does not
 * exist nothing changes: QUEUE_ENOENT, and queue_errmsg names it. */
int retry_dead(struct queue *q, const char *const *ids, size_t nids,
	       int *prev, int64_t *requeued);

#endif
