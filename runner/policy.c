/* policy.c — retry, fail over, finish or give up: the decision after each
 * attempt, as a pure function.
 *
 * DESIGN
 * Errors fall in three groups. Transient ones (rate limited, overloaded,
 * server error, timeout, connection) are retried on the same candidate
 * with exponential backoff and full jitter, or at the provider's
 * announced Retry-After (and a spread of up to POLICY_SPREAD_MS) when it
 * gave one, up to max_attempts; then the job moves to its
 * next candidate, and dies when there is none. Errors that are about this
 * provider and may not recur on another (content filter, model not found,
 * context overflow, auth, billing) move to the next candidate at once:
 * retrying the same provider cannot help. Errors that are about the
 * request itself (bad request, too large) kill the job at once: every
 * provider would refuse it too, and retrying elsewhere only burns time
 * and, where rejected requests are billed, money (litellm#19216 is the
 * retry storm that results otherwise). INVALID_OUTPUT sits between: a
 * model sometimes emits broken JSON once, so it gets quality_retries
 * more tries on the same candidate before failing over. */
#include "runner/policy.h"

#include <stddef.h>

static const char *const verb_names[] = {
    [POLICY_DONE] = "done",
    [POLICY_RETRY] = "retry",
    [POLICY_FAILOVER] = "failover",
    [POLICY_DEAD] = "dead",
};

const char *policy_verb_name(enum policy_verb v)
{
	if ((int)v < 0 || v > POLICY_DEAD)
		return "unknown";
	return verb_names[v];
}

int64_t policy_backoff_ms(const struct policy_cfg *cfg, int attempts,
			  uint64_t rnd)
{
	int64_t base = cfg->base_ms > 0 ? cfg->base_ms : 0;
	int64_t cap = cfg->cap_ms > 0 ? cfg->cap_ms : 0;
	int64_t hi = base < cap ? base : cap;
	int i;

	/* Double up to the cap; stops after at most 63 rounds whatever
	 * `attempts` is, because the ceiling reaches cap (or stays 0). */
	for (i = 1; i < attempts && hi < cap && hi > 0; i++)
		hi = hi > cap / 2 ? cap : hi * 2;
	if (hi <= 0)
		return 0;
	/* The modulo bias is below 2^-28 for any ceiling under a year. */
	return (int64_t)(rnd % ((uint64_t)hi + 1));
}

int policy_counts(const struct outcome *o)
{
	return !(o->cls == OUTCOME_RATE_LIMITED && o->retry_after_ms > 0);
}

static struct policy_action act(enum policy_verb verb, int64_t at_ms)
{
	struct policy_action a;

	a.verb = verb;
	a.at_ms = at_ms;
	a.disable_provider = 0;
	return a;
}

/* Next candidate now, or dead when this was the last. */
static struct policy_action move_on(const struct policy_job *job)
{
	if (job->candidate + 1 < job->ncandidates)
		return act(POLICY_FAILOVER, job->now_ms);
	return act(POLICY_DEAD, job->now_ms);
}

struct policy_action policy_next(const struct policy_cfg *cfg,
				 const struct policy_job *job,
				 const struct outcome *o, uint64_t rnd)
{
	int max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 1;
	int has_next = job->candidate + 1 < job->ncandidates;
	struct policy_action a;
	int64_t at;

	switch (o->cls) {
	case OUTCOME_OK:
		return act(POLICY_DONE, job->now_ms);
	case OUTCOME_RATE_LIMITED:
	case OUTCOME_OVERLOADED:
	case OUTCOME_SERVER_ERROR:
	case OUTCOME_TIMEOUT:
	case OUTCOME_CONNECTION:
		break;
	case OUTCOME_INVALID_OUTPUT: {
		int bad = job->invalid_outputs > 0 ? job->invalid_outputs : 1;

		if (bad > cfg->quality_retries)
			return move_on(job);
		break;
	}
	case OUTCOME_AUTH:
	case OUTCOME_BILLING:
		a = move_on(job);
		a.disable_provider = 1;
		return a;
	case OUTCOME_CONTENT_FILTER:
	case OUTCOME_NOT_FOUND:
	case OUTCOME_CONTEXT_OVERFLOW:
		return move_on(job);
	case OUTCOME_BAD_REQUEST:
	case OUTCOME_TOO_LARGE:
		return act(POLICY_DEAD, job->now_ms);
	default:
		/* An unknown class is a bug elsewhere; do not loop on it. */
		return act(POLICY_DEAD, job->now_ms);
	}

	/* Retryable on this candidate while attempts remain. */
	if (policy_counts(o) ? job->attempts >= max_attempts
			     : cfg->max_requests > 0 &&
				   job->requests >= cfg->max_requests)
		return move_on(job);
	if (o->retry_after_ms >= job->now_ms && o->retry_after_ms > 0) {
		/* The provider said when. Backing off beyond it only slows
		 * the run (a job refused five times at random waited its
		 * doubled backoff, 30 s, for a Retry-After of 1 s); a small
		 * spread keeps jobs refused together from coming back in
		 * the same millisecond. */
		at = o->retry_after_ms +
		     (int64_t)((rnd >> 32) % (POLICY_SPREAD_MS + 1));
	} else {
		at = policy_backoff_ms(cfg, job->attempts, rnd);
		if (job->now_ms > 0 && at > INT64_MAX - job->now_ms)
			at = INT64_MAX;
		else
			at += job->now_ms;
	}
	/* A long announced pause (a daily quota, a provider-wide cooldown)
	 * is better spent on the next candidate when there is one. */
	if (cfg->max_wait_ms > 0 && has_next &&
	    at - job->now_ms > cfg->max_wait_ms)
		return act(POLICY_FAILOVER, job->now_ms);
	return act(POLICY_RETRY, at);
}
