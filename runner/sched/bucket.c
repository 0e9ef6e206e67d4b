/* bucket.c — token bucket arithmetic.
 *
 * The level is kept lazily: it is brought up to date (refilled for the
 * time since last_ms, capped) only when the bucket is used, so an idle
 * bucket costs nothing. Levels are doubles because the refill per ms is
 * fractional (600 rpm = 0.01 requests/ms). Waits are rounded up to whole
 * ms and a small epsilon absorbs the float rounding, so that waiting
 * exactly what bucket_take asked for succeeds instead of asking for one
 * more ms. */
#include "runner/sched/bucket.h"

#include <math.h>

#define EPS 1e-9
#define EPS_MS 1e-6

static double level_at(const struct bucket *b, int64_t now_ms)
{
	double l = b->level;

	if (now_ms > b->last_ms && b->rate > 0) {
		l += (double)(now_ms - b->last_ms) * b->rate;
		if (l > b->cap)
			l = b->cap;
	}
	return l;
}

static void update(struct bucket *b, int64_t now_ms)
{
	b->level = level_at(b, now_ms);
	/* Never move last_ms back: a stepped-back clock only pauses the
	 * refill, it does not make the bucket wait out the step. */
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;
}

void bucket_init(struct bucket *b, double cap, double per_ms, double initial,
		 int64_t now_ms)
{
	b->cap = cap > 0 ? cap : 1;
	b->rate = per_ms > 0 ? per_ms : 0;
	b->level = initial < b->cap ? initial : b->cap;
	b->last_ms = now_ms;
}

int64_t bucket_take(struct bucket *b, double n, int64_t now_ms)
{
	double need, wait;

	if (n <= 0)
		return 0;
	update(b, now_ms);
	need = n < b->cap ? n : b->cap;
	if (b->level + EPS >= need) {
		b->level -= n;
		return 0;
	}
	if (b->rate <= 0)
		return BUCKET_NEVER_MS;
	/* The shortfall in ms, judged the same way on the retry: a
	 * shortfall under EPS_MS is float noise, not a reason to wait. */
	wait = (need - b->level) / b->rate;
	if (wait <= EPS_MS) {
		b->level -= n;
		return 0;
	}
	wait = ceil(wait - EPS_MS);
	if (wait < 1)
		wait = 1;
	if (wait > (double)BUCKET_NEVER_MS)
		return BUCKET_NEVER_MS;
	return (int64_t)wait;
}

void bucket_refund(struct bucket *b, double n, int64_t now_ms)
{
	if (n <= 0)
		return;
	update(b, now_ms);
	b->level += n;
	if (b->level > b->cap)
		b->level = b->cap;
}

void bucket_clip(struct bucket *b, double level, int64_t now_ms)
{
	update(b, now_ms);
	if (b->level > level)
		b->level = level;
}

double bucket_level(const struct bucket *b, int64_t now_ms)
{
	return level_at(b, now_ms);
}
