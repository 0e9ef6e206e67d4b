/* worker.h — a worker thread: many concurrent HTTP transfers on one libcurl
 * multi handle, turning claimed jobs into outcomes and policy actions.
 * Called by the run's main thread; the worker registers its wake eventfd
 * in the runctx (runctx_wake_workers). */
#ifndef NIGHTSHIFT_WORKER_H
#define NIGHTSHIFT_WORKER_H

struct runctx;
struct worker;

/* worker_new: worker number index (0 to rc->nworkers - 1) of rc
 * (borrowed; must outlive it). NULL if libcurl cannot make a multi
 * handle or the kernel an epoll set. */
struct worker *worker_new(struct runctx *rc, int index);
int worker_start(struct worker *w);
void worker_join(struct worker *w);
void worker_free(struct worker **w);

#endif
