/* killpoint.c — the test build's crash and lease seams (killpoint.h). In
 * the shipped build this file compiles to nothing. */
#include "util/killpoint.h"

#ifdef NIGHTSHIFT_TEST
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void kill_point(const char *step)
{
	const char *at = getenv("NIGHTSHIFT_KILL_AT");

	if (at && strcmp(at, step) == 0)
		raise(SIGKILL);
}

int64_t seam_ms(const char *name, int64_t dflt)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (!s || !*s)
		return dflt;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? (int64_t)v : dflt;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int killpoint_empty;
#endif
