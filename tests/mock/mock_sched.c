/* mock_sched.c — the mock provider's timer: a binary min-heap of (due
 * time, insertion order, item) under one mutex, and a single thread that
 * sleeps until the earliest due time, pops everything due in a batch and
 * fires it outside the lock. Thousands of delayed connections then cost a
 * heap entry each instead of a thread; ties fire in insertion order. */
#include "tests/mock/mock_sched.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "tests/mock/mock_util.h"

#define BATCH 256

struct entry {
	int64_t due;
	uint64_t order;
	void *item;
};

struct mock_sched {
	void (*fire)(void *item);
	pthread_t thread;
	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;
	struct entry *heap;
	size_t n, cap;
	uint64_t next_order;
	bool closed;
};

static bool before(const struct entry *a, const struct entry *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void heap_push(struct mock_sched *s, struct entry e)
{
	size_t i;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->heap = mock_xrealloc(s->heap, s->cap * sizeof(*s->heap));
	}
	i = s->n++;
	while (i > 0 && before(&e, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

static struct entry heap_pop(struct mock_sched *s)
{
	struct entry top = s->heap[0], last = s->heap[--s->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n)
			break;
		if (c + 1 < s->n && before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->n > 0)
		s->heap[i] = last;
	return top;
}

static void *run(void *arg)
{
	struct mock_sched *s = arg;
	void *batch[BATCH];

	pthread_mutex_lock(&s->mu);
	while (!s->closed) {
		int64_t now;
		size_t nb = 0;

		if (s->n == 0) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		now = mock_mono_ms();
		if (s->heap[0].due > now) {
			struct timespec ts = {
			    .tv_sec = (time_t)(s->heap[0].due / 1000),
			    .tv_nsec = (long)(s->heap[0].due % 1000) * 1000000L,
			};

			pthread_cond_timedwait(&s->cv, &s->mu, &ts);
			continue;
		}
		while (s->n > 0 && s->heap[0].due <= now && nb < BATCH)
			batch[nb++] = heap_pop(s).item;
		/* Firing resumes a connection inside MHD; never under our
		 * lock, so MHD's own locks never nest inside it. */
		pthread_mutex_unlock(&s->mu);
		for (size_t i = 0; i < nb; i++)
			s->fire(batch[i]);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct mock_sched *mock_sched_new(void (*fire)(void *item))
{
	struct mock_sched *s = mock_xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;

	s->fire = fire;
	pthread_mutex_init(&s->mu, NULL);
	/* Due times are monotonic: a wall-clock step must not stall or
	 * rush replies. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return NULL;
	}
	return s;
}

int mock_sched_add(struct mock_sched *s, int64_t due_ms, void *item)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->closed) {
		rc = -1;
		goto out;
	}
	heap_push(s, (struct entry){due_ms, s->next_order++, item});
	/* Only a new earliest entry changes how long the thread sleeps. */
	if (s->heap[0].item == item && s->heap[0].order == s->next_order - 1)
		pthread_cond_signal(&s->cv);
out:
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void mock_sched_close(struct mock_sched *s)
{
	struct entry *pending;
	size_t n;

	pthread_mutex_lock(&s->mu);
	if (s->closed) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->closed = true;
	pending = s->heap;
	n = s->n;
	s->heap = NULL;
	s->n = s->cap = 0;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	for (size_t i = 0; i < n; i++)
		s->fire(pending[i].item);
	free(pending);
}

void mock_sched_free(struct mock_sched *s)
{
	if (!s)
		return;
	mock_sched_close(s);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->heap);
	free(s);
}
