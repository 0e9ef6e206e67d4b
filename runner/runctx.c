/* runctx.c — the run's shared state: made and freed by the main thread,
 * and the two lists between the store and the workers. */
#include "runner/runctx.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "queue/run.h"
#include "runner/keys.h"
#include "runner/sched/estimate.h"
#include "runner/sched/sched.h"
#include "util/xalloc.h"

/* raise_nofile: every transfer holds a socket; lift the soft limit to the
 * hard one and cap in-flight requests to what fits. */
static int raise_nofile(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return want;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    (rlim_t)want + 64 > rl.rlim_cur) {
		int cap = (int)rl.rlim_cur - 64;

		fprintf(stderr,
			"nightshift run: the open-files limit (%llu) caps "
			"requests in flight at %d (asked %d); raise it with "
			"ulimit -n\n",
			(unsigned long long)rl.rlim_cur, cap, want);
		return cap > 1 ? cap : 1;
	}
	return want;
}

void runctx_size(const struct config *cfg, int inflight, int workers,
		 struct runctx_opts *ro)
{
	ro->max_inflight = 0;
	for (size_t i = 0; i < cfg->nprovs; i++)
		ro->max_inflight += cfg->provs[i].max_inflight;
	if (ro->max_inflight > 1024)
		ro->max_inflight = 1024;
	if (inflight)
		ro->max_inflight = inflight;
	ro->max_inflight = raise_nofile(ro->max_inflight);
	ro->nworkers = workers ? workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ro->nworkers < 1)
		ro->nworkers = 1;
	if (ro->nworkers > ro->max_inflight)
		ro->nworkers = ro->max_inflight;
}

struct runctx *runctx_new(const struct config *cfg, struct qrun *qr,
			  char **keys, const struct runctx_opts *o)
{
	struct runctx *rc = xcalloc(1, sizeof(*rc));
	size_t n = cfg->nprovs;

	rc->cfg = cfg;
	rc->qr = qr;
	rc->keys = keys;
	rc->keyed = xcalloc(n ? n : 1, 1);
	for (size_t i = 0; i < n; i++)
		rc->keyed[i] = keys[i] != NULL;
	rc->max_inflight = o->max_inflight;
	rc->nworkers = o->nworkers;
	rc->wake_fds = xcalloc((size_t)o->nworkers, sizeof(*rc->wake_fds));
	for (int i = 0; i < o->nworkers; i++)
		rc->wake_fds[i] = -1;
	pthread_mutex_init(&rc->mu, NULL);
	sent_init(&rc->sent, cfg->provs, cfg->nprovs);
	pthread_cond_init(&rc->store_cv, NULL);
	rc->sched = sched_new(cfg->provs, n);
	rc->est = est_new(cfg->provs, n);
	budget_init(&rc->budget, o->max_cost, o->spent_usd);
	rc->prov_disabled = xcalloc(n ? n : 1, sizeof(*rc->prov_disabled));
	for (size_t i = 0; i < n; i++)
		atomic_init(&rc->prov_disabled[i], 0);
	rc->admit = (struct admit){.provs = cfg->provs,
				   .nprovs = n,
				   .routes = cfg->routes,
				   .nroutes = cfg->nroutes,
				   .keyed = rc->keyed,
				   .disabled = rc->prov_disabled,
				   .sched = rc->sched,
				   .est = rc->est,
				   .budget = &rc->budget};
	rc->held_until = xcalloc(n ? n : 1, sizeof(*rc->held_until));
	for (size_t i = 0; i < n; i++)
		atomic_init(&rc->held_until[i], 0);
	rc->reply = (struct reply_ctx){.provs = cfg->provs,
				       .held_until = rc->held_until,
				       .keys = rc->keys,
				       .policy = {.max_attempts = 5,
						  .base_ms = 1000,
						  .cap_ms = 60000,
						  .quality_retries = 1},
				       .admit = &rc->admit,
				       .qr = qr};
	rc->total_at_start = o->queued;
	/* without it the main thread ends at its next tick instead */
	rc->end_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return rc;
}

void runctx_free(struct runctx **rcp)
{
	struct runctx *rc = *rcp;

	if (!rc)
		return;
	task_free_chain(rc->work_head);
	task_free_chain(rc->done_head);
	if (rc->end_fd >= 0)
		close(rc->end_fd);
	key_free_all(rc->keys, rc->cfg->nprovs);
	free(rc->keyed);
	free(rc->wake_fds);
	sched_free(&rc->sched);
	est_free(&rc->est);
	free(rc->prov_disabled);
	free(rc->held_until);
	pthread_mutex_destroy(&rc->mu);
	sent_destroy(&rc->sent);
	pthread_cond_destroy(&rc->store_cv);
	free(rc);
	*rcp = NULL;
}

/* append: chain head..tail at the end of the list *lh..*lt (under mu). */
static void append(struct task **lh, struct task **lt, struct task *head,
		   struct task *tail)
{
	if (*lt)
		(*lt)->next = head;
	else
		*lh = head;
	*lt = tail;
}

void runctx_push_dones(struct runctx *rc, struct task *head,
		       struct task *tail)
{
	pthread_mutex_lock(&rc->mu);
	/* Only the first of a batch wakes the store: with work already back
	 * it sleeps to the end of its batch anyway (see store.c). */
	if (!rc->done_head)
		pthread_cond_signal(&rc->store_cv);
	append(&rc->done_head, &rc->done_tail, head, tail);
	pthread_mutex_unlock(&rc->mu);
}

void runctx_give_work(struct runctx *rc, struct task *head,
		      struct task *tail)
{
	pthread_mutex_lock(&rc->mu);
	append(&rc->work_head, &rc->work_tail, head, tail);
	pthread_mutex_unlock(&rc->mu);
	runctx_wake_workers(rc);
}

struct task *runctx_take_work(struct runctx *rc, int max)
{
	struct task *head, *t;
	int n = 1;

	pthread_mutex_lock(&rc->mu);
	head = rc->work_head;
	if (!head) {
		/* The store batches its turns; a worker with room and
		 * nothing to do makes it turn now. */
		if (!rc->hungry) {
			rc->hungry = 1;
			pthread_cond_signal(&rc->store_cv);
		}
		pthread_mutex_unlock(&rc->mu);
		return NULL;
	}
	for (t = head; t->next && n < max; t = t->next)
		n++;
	rc->work_head = t->next;
	if (!rc->work_head)
		rc->work_tail = NULL;
	t->next = NULL;
	pthread_mutex_unlock(&rc->mu);
	return head;
}

struct task *runctx_take_unsent(struct runctx *rc)
{
	struct task *head;

	pthread_mutex_lock(&rc->mu);
	head = rc->work_head;
	rc->work_head = rc->work_tail = NULL;
	pthread_mutex_unlock(&rc->mu);
	return head;
}

void runctx_wake_workers(struct runctx *rc)
{
	uint64_t one = 1;

	for (int i = 0; i < rc->nworkers; i++)
		/* Cannot fail but by overflow (2^64 wakes), or before the
		 * worker registered: nothing to do then. */
		if (rc->wake_fds[i] >= 0 &&
		    write(rc->wake_fds[i], &one, sizeof(one)) < 0)
			continue;
}
