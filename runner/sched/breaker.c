/* breaker.c — the per-provider circuit breaker as a pure state machine.
 *
 * DESIGN
 * Two triggers, because providers fail in two ways: an outage makes
 * every request fail (a run of BREAKER_CONSECUTIVE failures catches it in
 * a few requests), while a sick provider fails some and not others, so
 * the run never grows long; a failure share over the last BREAKER_WINDOW
 * requests catches that, once half the window has been seen so two early
 * failures cannot trip it. An open breaker sends nothing for a cooldown
 * and then one probe: costs one request per cooldown, not a stream of
 * them against a dead endpoint. The cooldown doubles each time a probe
 * fails (an hour-long outage costs 17 probes, not 720) and returns to
 * its base once a probe succeeds. */
#include "runner/sched/breaker.h"

#include <stddef.h>

static void clear_counts(struct breaker *b)
{
	b->consec = 0;
	b->nring = 0;
	b->ring_pos = 0;
	b->nfail = 0;
}

void breaker_init(struct breaker *b, const struct breaker_cfg *cfg)
{
	struct breaker_cfg c = {
	    .consecutive = BREAKER_CONSECUTIVE,
	    .window = BREAKER_WINDOW,
	    .ratio_pct = BREAKER_RATIO_PCT,
	    .min_samples = BREAKER_WINDOW / 2,
	    .cooldown_ms = BREAKER_COOLDOWN_MS,
	    .cooldown_max_ms = BREAKER_COOLDOWN_MAX_MS,
	    .probe_timeout_ms = BREAKER_PROBE_TIMEOUT_MS,
	};

	if (cfg)
		c = *cfg;
	if (c.consecutive < 1)
		c.consecutive = 1;
	if (c.window < 1)
		c.window = 1;
	if (c.window > BREAKER_WINDOW_MAX)
		c.window = BREAKER_WINDOW_MAX;
	if (c.ratio_pct < 1)
		c.ratio_pct = 1;
	if (c.ratio_pct > 100)
		c.ratio_pct = 100;
	if (c.min_samples < 1)
		c.min_samples = 1;
	if (c.min_samples > c.window)
		c.min_samples = c.window;
	if (c.cooldown_ms < 1)
		c.cooldown_ms = 1;
	if (c.cooldown_max_ms < c.cooldown_ms)
		c.cooldown_max_ms = c.cooldown_ms;
	if (c.probe_timeout_ms < 1)
		c.probe_timeout_ms = 1;
	*b = (struct breaker){
	    .cfg = c, .state = BREAKER_CLOSED, .cooldown_ms = c.cooldown_ms};
}

static void trip(struct breaker *b, int64_t now_ms)
{
	b->state = BREAKER_OPEN;
	b->open_until = now_ms + b->cooldown_ms;
	b->probe_out = 0;
	b->trips++;
	clear_counts(b);
}

enum breaker_verdict breaker_allow(struct breaker *b, int64_t now_ms)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return BREAKER_ALLOW;
	case BREAKER_OPEN:
		if (now_ms < b->open_until)
			return BREAKER_DENY;
		b->state = BREAKER_HALF_OPEN;
		b->probe_out = 0;
		break;
	case BREAKER_HALF_OPEN:
		break;
	}
	if (b->probe_out && now_ms - b->probe_at < b->cfg.probe_timeout_ms)
		return BREAKER_DENY;
	b->probe_out = 1;
	b->probe_at = now_ms;
	return BREAKER_PROBE;
}

void breaker_record(struct breaker *b, int ok, int64_t now_ms)
{
	switch (b->state) {
	case BREAKER_OPEN:
		return;
	case BREAKER_HALF_OPEN:
		if (ok) {
			b->state = BREAKER_CLOSED;
			b->probe_out = 0;
			b->cooldown_ms = b->cfg.cooldown_ms;
			clear_counts(b);
			return;
		}
		b->cooldown_ms *= 2;
		if (b->cooldown_ms > b->cfg.cooldown_max_ms)
			b->cooldown_ms = b->cfg.cooldown_max_ms;
		trip(b, now_ms);
		return;
	case BREAKER_CLOSED:
		break;
	}
	if (b->nring == b->cfg.window)
		b->nfail -= b->ring[b->ring_pos];
	else
		b->nring++;
	b->ring[b->ring_pos] = ok ? 0 : 1;
	b->nfail += !ok;
	b->ring_pos = (b->ring_pos + 1) % b->cfg.window;
	b->consec = ok ? 0 : b->consec + 1;
	/* Only a failure trips it: a success must never open the breaker,
	 * even when it completes a window that was already bad. */
	if (!ok && (b->consec >= b->cfg.consecutive ||
		    (b->nring >= b->cfg.min_samples &&
		     b->nfail * 100 >= b->cfg.ratio_pct * b->nring)))
		trip(b, now_ms);
}

void breaker_release(struct breaker *b)
{
	if (b->state == BREAKER_HALF_OPEN)
		b->probe_out = 0;
}

int64_t breaker_retry_at(const struct breaker *b, int64_t now_ms)
{
	if (b->state == BREAKER_OPEN && now_ms < b->open_until)
		return b->open_until;
	if (b->state == BREAKER_HALF_OPEN && b->probe_out &&
	    now_ms - b->probe_at < b->cfg.probe_timeout_ms)
		return b->probe_at + b->cfg.probe_timeout_ms;
	return now_ms;
}

enum breaker_kind breaker_kind_of(enum outcome_class c)
{
	switch (c) {
	case OUTCOME_SERVER_ERROR:
	case OUTCOME_OVERLOADED:
	case OUTCOME_TIMEOUT:
	case OUTCOME_CONNECTION:
		return BREAKER_FAILURE;
	case OUTCOME_RATE_LIMITED:
	case OUTCOME_AUTH:
	case OUTCOME_BILLING:
	case OUTCOME__COUNT:
		return BREAKER_NEUTRAL;
	case OUTCOME_OK:
	case OUTCOME_INVALID_OUTPUT:
	case OUTCOME_CONTENT_FILTER:
	case OUTCOME_BAD_REQUEST:
	case OUTCOME_NOT_FOUND:
	case OUTCOME_CONTEXT_OVERFLOW:
	case OUTCOME_TOO_LARGE:
		return BREAKER_SUCCESS;
	}
	return BREAKER_NEUTRAL; /* out of range */
}

const char *breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_OPEN:
		return "open";
	case BREAKER_HALF_OPEN:
		return "half_open";
	}
	return "unknown";
}
