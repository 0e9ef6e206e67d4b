/* mock_sched.h — one timer thread that fires items (suspended connections)
 * when their time comes, so delayed replies hold no thread each: a
 * min-heap ordered by due time, woken by a condition variable.
 * Thread-safe (add and close from any thread). */
#ifndef MOCK_SCHED_H
#define MOCK_SCHED_H

#include <stdint.h>

struct mock_sched;

/* mock_sched_new starts the timer thread; fire(item) is called on it,
 * without the lock held, once per added item. Returns NULL if the thread
 * cannot start. Freed with mock_sched_free. */
struct mock_sched *mock_sched_new(void (*fire)(void *item));

/* mock_sched_add schedules item (borrowed until fired) at monotonic time
 * due_ms. Returns 0, or -1 once the scheduler is closed: the caller must
 * then fire the item itself. */
int mock_sched_add(struct mock_sched *s, int64_t due_ms, void *item);

/* mock_sched_close fires every pending item now, on the calling thread,
 * refuses later adds and stops the timer thread. */
void mock_sched_close(struct mock_sched *s);

/* mock_sched_free closes s if needed and frees it; NULL does nothing. */
void mock_sched_free(struct mock_sched *s);

#endif
