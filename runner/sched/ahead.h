/* ahead.h — how many jobs a run keeps claimed beyond those in flight.
 *
 * The store claims ahead so that the workers never wait for one of its
 * commits to get their next job; how far ahead is sized from the rate
 * jobs come back, measured over windows of the store's turns. A pure
 * function of (the last size, what came back in the window, its length),
 * tested without a run. Thread-safe (pure). */
#ifndef NIGHTSHIFT_AHEAD_H
#define NIGHTSHIFT_AHEAD_H

#include <stdint.h>

struct ahead_limits {
	int horizon_ms; /* keep what comes back in this long */
	int floor;	/* never fewer (one in-flight window) */
	int cap;	/* never more (claimed jobs hold their bodies) */
};

/* ahead_next: the size after a window of window_ms in which back jobs
 * came back, the size having been ahead. */
int ahead_next(int ahead, long long back, int64_t window_ms,
	       const struct ahead_limits *lim);

#endif
