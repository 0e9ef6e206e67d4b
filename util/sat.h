/* sat.h — int64 arithmetic that saturates instead of wrapping, for the
 * money and token sums a provider's figures feed: a reply claiming 1e15
 * tokens, or a cost that is inf or nan, must pin a sum at its largest
 * value, never turn it negative (signed overflow is undefined in C, and
 * in practice wraps). Pure; thread-safe. */
#ifndef NIGHTSHIFT_SAT_H
#define NIGHTSHIFT_SAT_H

#include <stdint.h>

/* sat_add: a + b, pinned to INT64_MIN..INT64_MAX. */
int64_t sat_add(int64_t a, int64_t b);
/* sat_of_double: x rounded to the nearest integer, pinned to
 * 0..INT64_MAX; nan is INT64_MAX (an amount nobody can vouch for counts
 * as the most, so a cap stops rather than lets it through). */
int64_t sat_of_double(double x);

#endif
