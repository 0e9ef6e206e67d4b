/* store.h — the store thread: the run's only database writer. It claims
 * jobs for the workers and applies what comes back (ledger rows, fates) in
 * group commits. Started and joined by the run's main thread. */
#ifndef NIGHTSHIFT_STORE_H
#define NIGHTSHIFT_STORE_H

#include <pthread.h>
#include <stdint.h>

struct runctx;
struct qrun;

struct store {
	struct runctx *rc;
	struct qrun *qr; /* borrowed; used only by the store thread */
	pthread_t th;
	/* claiming ahead: jobs kept claimed beyond --max-inflight, sized by
	 * the rate jobs come back (store thread only) */
	int ahead;
	int64_t rate_t0;
	long long rate_n;
	int windows; /* rate windows measured so far */
};

int store_start(struct store *s);
void store_join(struct store *s);

#endif
