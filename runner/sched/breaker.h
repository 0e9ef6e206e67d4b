/* breaker.h — a circuit breaker for one provider: stop sending to a
 * provider that keeps failing, and find out cheaply when it is back.
 *
 * CLOSED lets everything through and watches outcomes; enough failures
 * (a run of them, or a high share of the recent ones) trip it OPEN for a
 * cooldown, during which nothing is sent; after the cooldown it is
 * HALF_OPEN and lets exactly one probe through: a good reply closes it, a
 * failure opens it again for twice as long.
 * Not thread-safe: a pure state machine (no clock, no locks; the time is
 * passed in); the caller serializes access (runner/sched/sched.h does). */
#ifndef NIGHTSHIFT_BREAKER_H
#define NIGHTSHIFT_BREAKER_H

#include <stdint.h>

#include "runner/providers/outcome.h"

/* Defaults (breaker_init with cfg NULL). */
#define BREAKER_CONSECUTIVE 5	 /* failures in a row that trip it */
#define BREAKER_WINDOW 20	 /* recent requests the ratio looks at */
#define BREAKER_RATIO_PCT 50	 /* failure share of the window that trips */
#define BREAKER_COOLDOWN_MS 5000 /* first cooldown */
#define BREAKER_COOLDOWN_MAX_MS 300000 /* cooldown ceiling (5 min) */
/* A probe not heard from in this long is presumed lost and another may go
 * (longer than any request timeout: 4 x 120 s). */
#define BREAKER_PROBE_TIMEOUT_MS 600000

/* Largest window the ring can hold. */
#define BREAKER_WINDOW_MAX 64

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

enum breaker_verdict {
	BREAKER_ALLOW, /* closed: send */
	BREAKER_PROBE, /* half-open: send this one, it is the probe */
	BREAKER_DENY   /* open, or the probe is still out: do not send */
};

/* What an outcome says about the provider's health. */
enum breaker_kind {
	BREAKER_SUCCESS, /* it answered properly (for this request) */
	BREAKER_FAILURE, /* it is unwell: 5xx, overloaded, timeout, conn. */
	BREAKER_NEUTRAL	 /* says nothing: 429 (the rate limiter's), auth */
};

struct breaker_cfg {
	int consecutive;	 /* >= 1 */
	int window;		 /* 1..BREAKER_WINDOW_MAX */
	int ratio_pct;		 /* 1..100 */
	int min_samples;	 /* ratio needs this many (<= window) */
	int64_t cooldown_ms;	 /* > 0 */
	int64_t cooldown_max_ms; /* >= cooldown_ms */
	int64_t probe_timeout_ms;
};

struct breaker {
	struct breaker_cfg cfg;
	enum breaker_state state;
	int64_t open_until;  /* OPEN: when the probe may go */
	int64_t cooldown_ms; /* length of the next (or current) cooldown */
	int probe_out;	     /* HALF_OPEN: the probe is in flight */
	int64_t probe_at;    /* when it was let through */
	int consec;	     /* failures in a row (CLOSED) */
	unsigned char ring[BREAKER_WINDOW_MAX]; /* 1 = failure */
	int nring, ring_pos, nfail;
	long long trips; /* times it opened, for the report */
};

/* breaker_init: a closed breaker. cfg is copied; NULL means the defaults
 * above (min_samples = window / 2). Out-of-range fields are clamped. */
void breaker_init(struct breaker *b, const struct breaker_cfg *cfg);

/* breaker_allow: may a request go at now_ms? OPEN turns HALF_OPEN once
 * the cooldown is over, and the first caller then gets BREAKER_PROBE (the
 * probe is counted as out until breaker_record or breaker_release). */
enum breaker_verdict breaker_allow(struct breaker *b, int64_t now_ms);

/* breaker_record: a request's health verdict (ok 1 = success, 0 =
 * failure). CLOSED: counts it; a failure trips it when the run or the
 * ratio (over at least min_samples) is reached. HALF_OPEN: success closes
 * (cooldown back to its base, counts cleared); failure re-opens with the
 * cooldown doubled (up to the cap). The breaker cannot tell the probe's reply
 * from a late reply of a request sent before it opened, so in HALF_OPEN the
 * first verdict heard decides. OPEN: ignored (late replies from before the
 * trip). */
void breaker_record(struct breaker *b, int ok, int64_t now_ms);

/* breaker_release: a request ended without a health verdict (neutral
 * outcome, or given up): if a probe was out, another may go. */
void breaker_release(struct breaker *b);

/* breaker_retry_at: when breaker_allow may next say other than DENY
 * (now_ms when it would not deny now). */
int64_t breaker_retry_at(const struct breaker *b, int64_t now_ms);

/* breaker_kind_of: what an outcome class says about health. Failures are
 * the transient provider-wide troubles (server error, overloaded,
 * timeout, connection). Neutral: rate limited (the rate limiter's
 * business) and auth/billing (the provider is disabled instead). Every
 * other class is a proper answer about this job (ok, content filter, bad
 * request, not found, context overflow, too large, invalid output). */
enum breaker_kind breaker_kind_of(enum outcome_class c);

/* breaker_state_name: "closed", "open", "half_open" (static). */
const char *breaker_state_name(enum breaker_state s);

#endif
