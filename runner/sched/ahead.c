/* ahead.c — sizing the claim-ahead (see ahead.h). */
#include "runner/sched/ahead.h"

int ahead_next(int ahead, long long back, int64_t window_ms,
	       const struct ahead_limits *lim)
{
	long long want =
		window_ms > 0 ? back * lim->horizon_ms / window_ms : ahead;

	/* Shrink by half at most: a window the store spent in one long turn
	 * (training a dictionary, a checkpoint) counts few jobs back
	 * because the store was slow, not the provider. Taken at its word,
	 * it left the workers starved for the next quarter second; and a
	 * starved window measures a low rate again. */
	if (want < ahead / 2)
		want = ahead / 2;
	if (want > lim->cap)
		want = lim->cap;
	return want < lim->floor ? lim->floor : (int)want;
}
