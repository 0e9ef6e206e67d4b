/* worker.h — a worker thread: many concurrent HTTP transfers on one libcurl
 * multi handle, turning claimed jobs into outcomes and policy actions.
 * worker_wake is thread-safe; the rest is called by the run's main
 * thread. */
#ifndef NIGHTSHIFT_WORKER_H
#define NIGHTSHIFT_WORKER_H

struct runctx;
struct worker;

/* worker_new: a worker of rc (borrowed; must outlive it). NULL if libcurl
 * cannot make a multi handle. */
struct worker *worker_new(struct runctx *rc, int index);
int worker_start(struct worker *w);
void worker_join(struct worker *w);
/* worker_wake: interrupt the worker's poll (new work, stop). */
void worker_wake(struct worker *w);
void worker_free(struct worker **w);

#endif
