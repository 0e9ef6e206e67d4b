/* sched.c — per-provider admission: in-flight cap with AIMD, rpm/tpm
 * token buckets, 429 pause, circuit breaker, disable on auth failure.
 *
 * DESIGN
 * Every worker thread asks the same gate, so each provider's state sits
 * behind its own mutex; no call takes two of them, so there is no lock
 * order, and no call does I/O under one.
 *
 * Rate limits are token buckets refilled at SCHED_HEADROOM_PCT of the
 * configured rate. The burst (bucket capacity) is one second's quota,
 * rpm/60 requests (at least 1) and tpm/60 tokens: providers enforce a
 * per-minute limit over shorter spans too (DashScope has per-second
 * limits and a growth-rate limit, Anthropic "may enforce 60 RPM as 1 per
 * second"), so a minute's quota let out in the first second is refused.
 * The buckets also start nearly empty (one request; no tokens) rather
 * than full: we cannot know what the provider counted in its current
 * window (a run that just ended, another client on the same key), and a
 * full bucket at the start of a saturated run puts burst + a window's
 * quota into the provider's first window. Under steady demand the level
 * then never builds up, and requests go evenly spaced: a sliding-window
 * limiter (the mock's, DashScope's) sees at most its quota in any window.
 * A burst is earned only by a quiet spell, and a 429 voids it (the
 * buckets are clipped back to their start level when the pause ends).
 *
 * A 429 also pauses the provider as a whole until its Retry-After (one
 * refused request means the next ones would be refused too) and halves
 * the concurrency window; successes add 1/cwnd, i.e. one slot per
 * window's worth of successes (TCP's AIMD). All 429s that land during
 * one pause are one congestion event: the window halves once. */
#include "runner/sched/sched.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"
#include "runner/sched/bucket.h"

/* Start levels: one request may go at once; tokens are earned. */
#define RPM_START 1.0
#define TPM_START 0.0

struct gate {
	pthread_mutex_t mu;
	int max_inflight, rpm;
	int64_t tpm;
	int started; /* buckets set up (at the first admit: needs a time) */
	struct bucket rb, tb;
	int inflight;
	double cwnd;
	struct breaker br;
	int64_t paused_until;
	int resync;	  /* clip the buckets when the pause ends */
	int pause_streak; /* 429 pauses with no success between */
	long long admitted, n429;
	int disabled;
};

struct sched {
	struct gate *g;
	size_t n;
};

struct sched *sched_new(const struct prov *provs, size_t nprovs)
{
	struct sched *s = xcalloc(1, sizeof(*s));

	s->n = provs ? nprovs : 0;
	s->g = xcalloc(s->n ? s->n : 1, sizeof(*s->g));
	for (size_t i = 0; i < s->n; i++) {
		struct gate *g = &s->g[i];
		const struct prov *p = &provs[i];

		pthread_mutex_init(&g->mu, NULL);
		g->max_inflight = p->max_inflight > 0 ? p->max_inflight : 1;
		g->rpm = p->rpm > 0 ? p->rpm : 0;
		g->tpm = p->tpm > 0 ? p->tpm : 0;
		g->cwnd = g->max_inflight;
		breaker_init(&g->br, NULL);
	}
	return s;
}

void sched_free(struct sched **sp)
{
	struct sched *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	for (size_t i = 0; i < s->n; i++)
		pthread_mutex_destroy(&s->g[i].mu);
	free(s->g);
	free(s);
	*sp = NULL;
}

static struct gate *gate_of(struct sched *s, int prov)
{
	if (!s || prov < 0 || (size_t)prov >= s->n)
		return NULL;
	return &s->g[prov];
}

/* burst: one second's quota, at least one unit. */
static double burst(double per_min)
{
	double b = per_min / 60;

	return b < 1 ? 1 : b;
}

static double per_ms(double per_min)
{
	return per_min * SCHED_HEADROOM_PCT / 100 / 60000;
}

static void start(struct gate *g, int64_t now_ms)
{
	if (g->rpm)
		bucket_init(&g->rb, burst(g->rpm), per_ms(g->rpm), RPM_START,
			    now_ms);
	if (g->tpm)
		bucket_init(&g->tb, burst((double)g->tpm),
			    per_ms((double)g->tpm), TPM_START, now_ms);
	g->started = 1;
}

static int limit_of(const struct gate *g)
{
	int l = (int)g->cwnd;

	if (l > g->max_inflight)
		l = g->max_inflight;
	return l < 1 ? 1 : l;
}

int sched_admit(struct sched *s, int prov, int64_t est_tokens, int64_t now_ms,
		int64_t *retry_at_ms, int *probe)
{
	struct gate *g = gate_of(s, prov);
	enum breaker_verdict v;
	int64_t at = now_ms, w;
	int rc;

	if (!g) {
		if (retry_at_ms)
			*retry_at_ms = -1;
		return SCHED_OFF;
	}
	pthread_mutex_lock(&g->mu);
	if (!g->started)
		start(g, now_ms);
	if (g->disabled) {
		at = -1;
		rc = SCHED_OFF;
		goto out;
	}
	v = breaker_allow(&g->br, now_ms);
	if (v == BREAKER_DENY) {
		at = breaker_retry_at(&g->br, now_ms);
		rc = SCHED_OPEN;
		goto out;
	}
	rc = SCHED_WAIT;
	if (now_ms < g->paused_until) {
		at = g->paused_until;
		goto undo;
	}
	if (g->resync) {
		if (g->rpm)
			bucket_clip(&g->rb, RPM_START, now_ms);
		if (g->tpm)
			bucket_clip(&g->tb, TPM_START, now_ms);
		g->resync = 0;
	}
	if (g->inflight >= limit_of(g)) {
		at = now_ms + SCHED_SLOT_RETRY_MS;
		goto undo;
	}
	if (g->rpm && (w = bucket_take(&g->rb, 1, now_ms)) > 0) {
		at = now_ms + w;
		goto undo;
	}
	if (g->tpm &&
	    (w = bucket_take(&g->tb, (double)est_tokens, now_ms)) > 0) {
		if (g->rpm)
			bucket_refund(&g->rb, 1, now_ms);
		at = now_ms + w;
		goto undo;
	}
	g->inflight++;
	g->admitted++;
	if (probe)
		*probe = v == BREAKER_PROBE;
	rc = SCHED_GO;
	goto out;
undo:
	/* The probe was not sent after all: the next caller may probe. */
	if (v == BREAKER_PROBE)
		breaker_release(&g->br);
out:
	pthread_mutex_unlock(&g->mu);
	if (retry_at_ms)
		*retry_at_ms = at;
	return rc;
}

static void rate_limited(struct gate *g, int64_t retry_after_ms, int64_t now_ms)
{
	int64_t until;
	int fresh = now_ms >= g->paused_until;

	g->n429++;
	if (fresh) {
		/* a new congestion event, not one more echo of the last */
		g->cwnd /= 2;
		if (g->cwnd < 1)
			g->cwnd = 1;
	}
	if (retry_after_ms > now_ms) {
		until = retry_after_ms;
	} else {
		int64_t d = SCHED_PAUSE_DEFAULT_MS;

		for (int i = 0;
		     i < g->pause_streak && d < SCHED_PAUSE_DEFAULT_MAX_MS; i++)
			d *= 2;
		if (d > SCHED_PAUSE_DEFAULT_MAX_MS)
			d = SCHED_PAUSE_DEFAULT_MAX_MS;
		until = now_ms + d;
	}
	if (fresh)
		g->pause_streak++;
	if (until > now_ms + SCHED_PAUSE_MAX_MS)
		until = now_ms + SCHED_PAUSE_MAX_MS;
	if (until > g->paused_until)
		g->paused_until = until;
	g->resync = 1;
}

/* release_slot: prov's gate, locked, with a request's in-flight slot
 * given back; NULL (nothing locked) for an out-of-range prov. */
static struct gate *release_slot(struct sched *s, int prov)
{
	struct gate *g = gate_of(s, prov);

	if (!g)
		return NULL;
	pthread_mutex_lock(&g->mu);
	if (g->inflight > 0)
		g->inflight--;
	return g;
}

void sched_done(struct sched *s, int prov, enum outcome_class cls,
		int64_t retry_after_ms, int64_t now_ms, int probe)
{
	struct gate *g = release_slot(s, prov);

	if (!g)
		return;
	/* Half-open, only the probe speaks for the provider: the others were
	 * sent before the breaker opened, and a late timeout among them
	 * would re-trip a provider that has recovered (doubling its
	 * cooldown), a late 429 let a second probe out. */
	if (g->br.state != BREAKER_HALF_OPEN || probe) {
		switch (breaker_kind_of(cls)) {
		case BREAKER_SUCCESS:
			breaker_record(&g->br, 1, now_ms);
			break;
		case BREAKER_FAILURE:
			breaker_record(&g->br, 0, now_ms);
			break;
		case BREAKER_NEUTRAL:
			breaker_release(&g->br);
			break;
		}
	}
	if (cls == OUTCOME_RATE_LIMITED) {
		rate_limited(g, retry_after_ms, now_ms);
	} else if (cls == OUTCOME_OK) {
		g->pause_streak = 0;
		g->cwnd += 1 / g->cwnd;
		if (g->cwnd > g->max_inflight)
			g->cwnd = g->max_inflight;
	} else if (cls == OUTCOME_AUTH || cls == OUTCOME_BILLING) {
		g->disabled = 1;
	}
	pthread_mutex_unlock(&g->mu);
}

void sched_cancel(struct sched *s, int prov, int probe)
{
	struct gate *g = release_slot(s, prov);

	if (!g)
		return;
	if (probe)
		breaker_release(&g->br);
	pthread_mutex_unlock(&g->mu);
}

int sched_available(struct sched *s, int prov, int64_t now_ms)
{
	struct gate *g = gate_of(s, prov);
	int ok;

	if (!g)
		return 0;
	pthread_mutex_lock(&g->mu);
	ok = !g->disabled && breaker_retry_at(&g->br, now_ms) <= now_ms;
	pthread_mutex_unlock(&g->mu);
	return ok;
}

void sched_stats(struct sched *s, int prov, struct sched_stats *st)
{
	struct gate *g = gate_of(s, prov);

	memset(st, 0, sizeof(*st));
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	st->inflight = g->inflight;
	st->limit = limit_of(g);
	st->cwnd = g->cwnd;
	st->admitted = g->admitted;
	st->n429 = g->n429;
	st->trips = g->br.trips;
	st->paused_until = g->paused_until;
	st->breaker = g->br.state;
	st->disabled = g->disabled;
	pthread_mutex_unlock(&g->mu);
}
