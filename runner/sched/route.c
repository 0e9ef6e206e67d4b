/* route.c — cheapest-first candidate choice. */
#include "runner/sched/route.h"

int route_pick(const struct route_option *opt, int n, int cur,
	       unsigned exhausted, unsigned skip, double max_cost,
	       enum route_none *why)
{
	unsigned out = exhausted | skip;
	int best = -1, unusable = 0, over = 0, small = 0;

	if (cur >= 0 && cur < n && !(out & (1u << cur)) && opt[cur].usable)
		return cur;
	for (int i = 0; i < n; i++) {
		if (out & (1u << i))
			continue;
		if (!opt[i].usable) {
			unusable++;
			continue;
		}
		/* A prompt that cannot fit would only come back as a
		 * context overflow: a bigger window is the way. */
		if (!opt[i].fits) {
			small++;
			continue;
		}
		if (max_cost >= 0 && opt[i].cost > max_cost) {
			over++;
			continue;
		}
		if (best < 0 || opt[i].cost < opt[best].cost)
			best = i;
	}
	if (best < 0)
		*why = unusable ? ROUTE_PARK
		       : over	? ROUTE_OVER_COST
		       : small	? ROUTE_TOO_LONG
				: ROUTE_EXHAUSTED;
	return best;
}
