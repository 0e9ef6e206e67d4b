/* killpoint.h — crash seams of the test build (build/.../nightshift-test).
 *
 * The crash tests kill a command with kill -9 at random moments; where the
 * interesting window is too short for random timing to hit it reliably (a
 * migration's or a dictionary's transaction, a retry's commit), the test
 * build dies there itself when $NIGHTSHIFT_KILL_AT names the step. And a
 * test of leases needs leases seconds long, not minutes:
 * $NIGHTSHIFT_LEASE_MS. ./nightshift has neither seam: both compile to
 * nothing outside NIGHTSHIFT_TEST.
 * Thread-safe (reads the environment only). */
#ifndef NIGHTSHIFT_KILLPOINT_H
#define NIGHTSHIFT_KILLPOINT_H

#include <stdint.h>

#ifdef NIGHTSHIFT_TEST
/* kill_point: die here, as by kill -9, when $NIGHTSHIFT_KILL_AT is step. */
void kill_point(const char *step);
/* seam_ms: $name as a positive count of milliseconds, else dflt. */
int64_t seam_ms(const char *name, int64_t dflt);
#else
static inline void kill_point(const char *step)
{
	(void)step;
}

static inline int64_t seam_ms(const char *name, int64_t dflt)
{
	(void)name;
	return dflt;
}
#endif

#endif
