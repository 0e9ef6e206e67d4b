/* sat.c — saturating int64 arithmetic (see sat.h). */
#include "util/sat.h"

int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

int64_t sat_of_double(double x)
{
	/* 0x1p63 is INT64_MAX + 1, exactly a double; every double below it
	 * converts without overflow. */
	if (x != x || x >= 0x1p63)
		return INT64_MAX;
	if (x <= 0)
		return 0;
	x += 0.5;
	return x >= 0x1p63 ? INT64_MAX : (int64_t)x;
}
