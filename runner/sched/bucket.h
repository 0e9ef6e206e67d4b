/* bucket.h — a token bucket: a rate limit with a bounded burst.
 *
 * Tokens flow in at a fixed rate up to a capacity; a request takes n of
 * them or is told how long to wait. Used for requests per minute (n = 1)
 * and tokens per minute (n = the request's estimated tokens).
 * Not thread-safe: pure (no clock, no locks; the time is passed in); the
 * caller serializes access (runner/sched/sched.h does). */
#ifndef NIGHTSHIFT_BUCKET_H
#define NIGHTSHIFT_BUCKET_H

#include <stdint.h>

/* What bucket_take returns when the bucket never refills (rate <= 0) and
 * holds too little: "not in any useful time". */
#define BUCKET_NEVER_MS ((int64_t)1 << 40)

struct bucket {
	double cap;   /* most tokens held: the largest burst */
	double rate;  /* tokens added per ms */
	double level; /* tokens held at last_ms; < 0 after an oversized take */
	int64_t last_ms; /* time level was brought up to date */
};

/* bucket_init: capacity cap (> 0), refill per_ms tokens per ms, holding
 * `initial` tokens (clamped to cap) at now_ms. */
void bucket_init(struct bucket *b, double cap, double per_ms, double initial,
		 int64_t now_ms);

/* bucket_take: take n tokens at now_ms. Returns 0 when taken, else the
 * ms to wait (>= 1) before they will be there (nothing is taken then).
 * A request larger than the capacity could never fit, so it is let
 * through once the bucket is full, and leaves the bucket in debt
 * (level < 0) so the long-run rate still holds. n <= 0 always succeeds.
 * A clock that steps back is treated as standing still. */
int64_t bucket_take(struct bucket *b, double n, int64_t now_ms);

/* bucket_refund: give back n tokens taken but not used (up to cap). */
void bucket_refund(struct bucket *b, double n, int64_t now_ms);

/* bucket_clip: drop saved tokens above `level` at now_ms (a debt stays):
 * the burst a quiet spell earned is void once the provider says it is
 * full. */
void bucket_clip(struct bucket *b, double level, int64_t now_ms);

/* bucket_level: tokens held at now_ms (may be < 0). Does not change b. */
double bucket_level(const struct bucket *b, int64_t now_ms);

#endif
