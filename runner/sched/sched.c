/* sched.c — per-provider admission: in-flight cap with AIMD, rpm/tpm
 * token buckets, pauses for a spent rate limit, circuit breaker, disable
 * on auth failure.
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
 * A burst is earned only by a quiet spell, and a pause voids it (the
 * buckets are clipped back to their start level when the pause ends).
 *
 * A 429 is one of two things, and they need opposite answers. When the
 * account's shared window is spent, every request until it resets is
 * refused: the provider as a whole pauses until the Retry-After and the
 * concurrency window halves. When the provider refuses a share of
 * requests at random (a loaded region: DashScope's "rate-limit storms"),
 * pausing everything for each refusal starves the run (30% refusals
 * with Retry-After 1 s left three requests a second, forever); only the
 * refused job waits, which policy_next does. The gate calls a 429 shared
 * when the reply says so (x-ratelimit-remaining-*: 0, a quota code:
 * outcome.limit_spent), or when 429s come in a burst with no success
 * between that random refusals at the rate seen so far would make less
 * often than once in SCHED_BURST_CHANCE_INV tries. Refusals that grow
 * with concurrency are the third sign: when the share of 429s over a
 * measuring epoch (two round trips and SCHED_EPOCH_MIN replies) rises
 * above the level known to be random, the window is halved for one
 * epoch; if the share then falls by a third, concurrency was the cause
 * and the cut stays, else the old window comes back and that share is
 * the new random level. The window is cut at most once per round trip,
 * as TCP does, and grows by 1/cwnd per success (one slot per window of
 * successes). */
#include "runner/sched/sched.h"

#include <math.h>
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
	int pause_streak; /* shared-limit pauses with no success between */
	long long admitted, n429, nok, shared;
	int disabled;
	/* telling a shared limit from random refusals */
	int streak;	     /* 429s since the last success */
	double p429_before;  /* p429 when the streak began */
	double p429;	     /* share of 429s among 429s and successes */
	double srtt;	     /* smoothed round trip, ms; 0 before one */
	int64_t last_cut_ms; /* last multiplicative decrease */
	double floor;	     /* a 429 share known not to fall with cwnd */
	int64_t ep_start;    /* the measuring epoch: since when, */
	int ep_ok, ep_429;   /* what it saw */
	int testing;	     /* this epoch runs at half the window */
	double cwnd_saved, f_before;
	int64_t first_ok_ms, last_ok_ms;
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

/* cut: halve the window, at most once a round trip. Returns 1 if cut. */
static int cut(struct gate *g, int64_t now_ms)
{
	if (g->last_cut_ms && now_ms - g->last_cut_ms < (int64_t)g->srtt)
		return 0;
	g->cwnd /= 2;
	if (g->cwnd < 1)
		g->cwnd = 1;
	g->last_cut_ms = now_ms;
	return 1;
}

/* burst_len: how many 429s with no success between make a shared limit:
 * random refusals at share p give k in a row once in 1/p^k tries. Never
 * one (a lone 429 between successes is not a spent window), never more
 * than SCHED_BURST_MAX. Not tied to the window: a spent window goes on
 * refusing after a pause, so the run grows past any length, and a cap
 * of half a small window made two random 429s in a row "a burst". */
static int burst_len(const struct gate *g)
{
	int cap = SCHED_BURST_MAX;
	double k;

	/* the odds of this run are judged by the share before it began */
	if (g->p429_before <= 0.01)
		return 2;
	if (g->p429_before >= 0.99)
		return cap;
	k = ceil(log(1.0 / SCHED_BURST_CHANCE_INV) / log(g->p429_before));
	if (k < 2)
		k = 2;
	return k > cap ? cap : (int)k;
}

/* shared_limit: the account's window is spent: pause the provider until
 * the Retry-After (or a default that doubles while the 429s go on with
 * no success between) and cut the window. A half-window test under way
 * is void: the cut was earned. */
static void shared_limit(struct gate *g, int64_t retry_after_ms,
			 int64_t now_ms)
{
	int64_t until;

	if (now_ms < g->paused_until)
		return; /* an echo of the pause under way */
	g->shared++;
	cut(g, now_ms);
	g->testing = 0;
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
	g->pause_streak++;
	if (until > now_ms + SCHED_PAUSE_MAX_MS)
		until = now_ms + SCHED_PAUSE_MAX_MS;
	g->paused_until = until;
	g->resync = 1;
}

/* epoch_end: at the end of a measuring epoch, compare its 429 share with
 * the random level: cut the window for one epoch when it is above, and
 * after that epoch keep the cut only if the share fell. */
static void epoch_end(struct gate *g, int64_t now_ms)
{
	int n = g->ep_ok + g->ep_429;
	double f;

	if (n < SCHED_EPOCH_MIN || now_ms - g->ep_start < 2 * (int64_t)g->srtt)
		return;
	f = (double)g->ep_429 / n;
	if (g->testing) {
		if (f > g->f_before * 2 / 3) {
			/* no better at half the window: random refusals */
			g->cwnd = g->cwnd_saved;
			g->floor = g->f_before;
		}
		g->testing = 0;
	} else if (f > g->floor + SCHED_SHARE_MARGIN) {
		double saved = g->cwnd;

		if (limit_of(g) >= 2 && cut(g, now_ms)) {
			g->testing = 1;
			g->cwnd_saved = saved;
			g->f_before = f;
		} else {
			g->floor = f; /* cannot test it: take it as random */
		}
	} else if (f < g->floor - SCHED_SHARE_MARGIN) {
		g->floor = f; /* the random level went down */
	}
	g->ep_start = now_ms;
	g->ep_ok = g->ep_429 = 0;
}

static void learn_rtt(struct gate *g, int64_t rtt_ms)
{
	if (rtt_ms <= 0)
		return;
	g->srtt = g->srtt ? g->srtt + ((double)rtt_ms - g->srtt) / 8
			  : (double)rtt_ms;
}

/* refused: a 429. Shared when the reply says so or the burst is too
 * long to be chance; else it is the job's alone. The 429s of a pause
 * (sent before it began) do not count in the epoch's share. */
static void refused(struct gate *g, const struct sched_reply *r,
		    int64_t now_ms)
{
	int during_pause = now_ms < g->paused_until;

	g->n429++;
	if (g->streak++ == 0)
		g->p429_before = g->p429;
	if (r->limit_spent || g->streak >= burst_len(g)) {
		shared_limit(g, r->retry_after_ms, now_ms);
		return;
	}
	g->p429 += (1 - g->p429) / SCHED_SHARE_SPAN;
	if (during_pause)
		return;
	g->ep_429++;
	epoch_end(g, now_ms);
}

static void succeeded(struct gate *g, int64_t now_ms)
{
	g->nok++;
	if (!g->first_ok_ms)
		g->first_ok_ms = now_ms;
	g->last_ok_ms = now_ms;
	g->streak = 0;
	g->pause_streak = 0;
	g->p429 -= g->p429 / SCHED_SHARE_SPAN;
	g->cwnd += 1 / g->cwnd;
	if (g->cwnd > g->max_inflight)
		g->cwnd = g->max_inflight;
	g->ep_ok++;
	epoch_end(g, now_ms);
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

void sched_done(struct sched *s, int prov, const struct sched_reply *r,
		int64_t now_ms)
{
	struct gate *g = release_slot(s, prov);
	enum outcome_class cls = r->cls;

	if (!g)
		return;
	/* Half-open, only the probe speaks for the provider: the others were
	 * sent before the breaker opened, and a late timeout among them
	 * would re-trip a provider that has recovered (doubling its
	 * cooldown), a late 429 let a second probe out. */
	if (g->br.state != BREAKER_HALF_OPEN || r->probe) {
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
	learn_rtt(g, r->rtt_ms);
	if (cls == OUTCOME_RATE_LIMITED)
		refused(g, r, now_ms);
	else if (cls == OUTCOME_OK)
		succeeded(g, now_ms);
	else if (cls == OUTCOME_AUTH || cls == OUTCOME_BILLING)
		g->disabled = 1;
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
	st->shared = g->shared;
	st->p429 = g->p429;
	pthread_mutex_unlock(&g->mu);
}

void sched_learned_get(struct sched *s, int prov, struct sched_learned *l)
{
	struct gate *g = gate_of(s, prov);
	int64_t span;

	memset(l, 0, sizeof(*l));
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	l->cwnd = g->cwnd;
	l->p429 = g->p429;
	l->floor = g->floor;
	l->srtt_ms = g->srtt;
	l->shared = g->shared;
	l->nok = g->nok;
	span = g->last_ok_ms - g->first_ok_ms;
	/* a rate needs a span: one reply, or a second's worth, says little */
	if (g->nok >= 2 && span >= 1000)
		l->ok_per_min = (double)(g->nok - 1) * 60000 / (double)span;
	pthread_mutex_unlock(&g->mu);
}

void sched_learned_set(struct sched *s, int prov,
		       const struct sched_learned *l)
{
	struct gate *g = gate_of(s, prov);

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	/* What a run learned is where the next one starts, never beyond what
	 * the configuration allows; values out of range are ignored. */
	if (l->cwnd >= 1)
		g->cwnd = l->cwnd < g->max_inflight ? l->cwnd : g->max_inflight;
	if (l->p429 >= 0 && l->p429 <= 1)
		g->p429 = l->p429;
	if (l->floor >= 0 && l->floor <= 1)
		g->floor = l->floor;
	if (l->srtt_ms > 0 && l->srtt_ms < 3600e3)
		g->srtt = l->srtt_ms;
	pthread_mutex_unlock(&g->mu);
}
