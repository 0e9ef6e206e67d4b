/* store.h — the store thread: the run's only database writer. It claims
 * jobs for the workers and applies what comes back (ledger rows, fates) in
 * group commits. Made, started, joined and freed by the run's main
 * thread. */
#ifndef NIGHTSHIFT_STORE_H
#define NIGHTSHIFT_STORE_H

struct qrun;
struct runctx;
struct store;

/* store_new: the store of rc, writing through qr (both borrowed, outliving
 * it). */
struct store *store_new(struct runctx *rc, struct qrun *qr);
/* store_start: start its thread; 0, or -1 if it cannot be started. */
int store_start(struct store *s);
void store_join(struct store *s);
/* store_free: free *s (after store_join) and set it to NULL. */
void store_free(struct store **s);

#endif
