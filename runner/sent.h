/* sent.h — the requests a run has sent and not yet recorded.
 *
 * A request is in the set from the moment it goes out until the store
 * records its fate. Each group commit writes the set down with the
 * results (sent_snapshot -> ledger_inflight), so after a kill -9 the run
 * that takes the dead run's jobs back records those requests in the
 * ledger as "lost" at their estimated cost, and counts them against the
 * budget: the provider may bill them. Requests sent after the last
 * commit are not known: at most one commit interval's.
 *
 * Thread-safe: workers add, the store removes and takes snapshots; one
 * mutex, held for a list splice or the walk of a snapshot. */
#ifndef NIGHTSHIFT_SENT_H
#define NIGHTSHIFT_SENT_H

#include <pthread.h>
#include <stddef.h>

#include "runner/providers/prov.h"
#include "util/buf.h"

struct task;

struct sent {
	pthread_mutex_t mu;
	struct task *head; /* linked by task.sprev/snext */
	unsigned long version; /* changes with every add and remove */
	unsigned long written; /* the version last snapshot was taken at */
	unsigned long long added; /* requests ever added */
	/* the store's: names as JSON strings, the snapshot's buffer */
	size_t nprovs, *nmodels;
	char **qprov, ***qmodel;
	struct buf out;
};

/* sent_init: an empty set for the providers of provs[0..nprovs) (names
 * copied). sent_destroy: free it (the tasks are not its). */
void sent_init(struct sent *s, const struct prov *provs, size_t nprovs);
void sent_destroy(struct sent *s);

/* sent_add: t's request went out (t's job id, provider, model and worst
 * case are set and stay so while it is in the set). */
void sent_add(struct sent *s, struct task *t);

/* sent_added: how many requests were ever added: those added after a
 * count taken before a snapshot are in no snapshot. */
unsigned long long sent_added(struct sent *s);

/* sent_remove: t's fate is being recorded; t not in the set is fine. */
void sent_remove(struct sent *s, struct task *t);

/* sent_snapshot: 0 when the set is as at the last snapshot; else 1 and
 * *json the set as JSON text for ledger_inflight, [[job_id, "provider",
 * "model", worst case in nano-dollars], ...] (borrowed until the next
 * snapshot), or NULL when it is empty. One thread takes snapshots. */
int sent_snapshot(struct sent *s, const char **json);

#endif
