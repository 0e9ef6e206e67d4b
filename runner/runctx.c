/* runctx.c — the two lists between the store and the workers. */
#include "runner/runctx.h"

#include <stdlib.h>

#include "runner/worker.h"

void runctx_push_dones(struct runctx *rc, struct task *head,
		       struct task *tail)
{
	pthread_mutex_lock(&rc->mu);
	/* Only the first of a batch wakes the store: with work already back
	 * it sleeps to the end of its batch anyway (see store.c). */
	if (!rc->done_head)
		pthread_cond_signal(&rc->store_cv);
	if (rc->done_tail)
		rc->done_tail->next = head;
	else
		rc->done_head = head;
	rc->done_tail = tail;
	pthread_mutex_unlock(&rc->mu);
}

void runctx_push_done(struct runctx *rc, struct task *t)
{
	t->next = NULL;
	runctx_push_dones(rc, t, t);
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

void task_free(struct task *t)
{
	if (!t)
		return;
	claim_job_clear(&t->job);
	outcome_clear(&t->out);
	free(t->zbody);
	free(t->detail);
	cJSON_Delete(t->schema);
	free(t);
}
