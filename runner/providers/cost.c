/* cost.c — request cost from usage and prices, with the time-of-day
 * price windows some providers sell (DeepSeek's off-peak hours) and the
 * batch lane's prices; and the charge of a reply whose usage is missing
 * or beyond belief. Every price goes through cost_prices_lane, so the
 * sync and batch lanes share the arithmetic. */
#include "runner/providers/cost.h"

#include <assert.h>
#include <math.h>

#include "runner/providers/dialect_anthropic.h"

/* window_has: epoch second t falls in window w (UTC). */
static int window_has(const struct prov_offpeak *w, int64_t t)
{
	int64_t day = t / 86400, sec = t % 86400;
	int minute, wd;

	if (sec < 0) {
		sec += 86400;
		day--;
	}
	minute = (int)(sec / 60);
	/* 1970-01-01 was a Thursday (weekday 4, Sunday = 0). */
	wd = (int)(((day % 7) + 7 + 4) % 7);
	if (w->days && !(w->days & (1u << wd)))
		return 0;
	if (w->start_min < w->end_min)
		return minute >= w->start_min && minute < w->end_min;
	return minute >= w->start_min || minute < w->end_min;
}

/* batch_price: a batch price the config or a price file gave, else the
 * base price at the lane's discount. */
static double batch_price(double given, double base, double discount)
{
	return given >= 0 ? given : base * discount;
}

void cost_prices_lane(const struct prov *p, const struct prov_model *m,
		      enum prov_lane l, int64_t t, struct cost_prices *pr)
{
	size_t i;

	pr->cached = m->cached_input_per_mtok;
	pr->write = m->cache_write_per_mtok;
	if (l == LANE_BATCH) {
		double d;

		assert(p && prov_has_lane(p, m, LANE_BATCH));
		d = p->batch.discount;
		pr->in = batch_price(m->batch_input_per_mtok,
				     m->input_per_mtok, d);
		pr->out = batch_price(m->batch_output_per_mtok,
				      m->output_per_mtok, d);
		pr->cached *= d;
		pr->write *= d;
		return;
	}
	pr->in = m->input_per_mtok;
	pr->out = m->output_per_mtok;
	for (i = 0; i < m->noffpeak; i++) {
		if (window_has(&m->offpeak[i], t)) {
			pr->in = m->offpeak[i].input_per_mtok;
			pr->out = m->offpeak[i].output_per_mtok;
			return;
		}
	}
}

void cost_price_lane(const struct prov *p, const struct prov_model *m,
		     enum prov_lane l, int64_t t, double *in_per_mtok,
		     double *out_per_mtok)
{
	struct cost_prices pr;

	cost_prices_lane(p, m, l, t, &pr);
	*in_per_mtok = pr.in;
	*out_per_mtok = pr.out;
}

void cost_price(const struct prov_model *m, int64_t t, double *in_per_mtok,
		double *out_per_mtok)
{
	cost_price_lane(NULL, m, LANE_SYNC, t, in_per_mtok, out_per_mtok);
}

/* tokens: a count as a double; the dialects never give a negative one,
 * but a negative count must not buy a refund. */
static double tokens(int64_t n)
{
	return n > 0 ? (double)n : 0;
}

double cost_usd_lane(const struct prov *p, const struct prov_model *m,
		     enum prov_lane l, const struct outcome_usage *u,
		     int64_t t)
{
	struct cost_prices pr;

	cost_prices_lane(p, m, l, t, &pr);
	return (tokens(u->in) * pr.in + tokens(u->in_cached) * pr.cached +
		tokens(u->cache_write) * pr.write +
		(tokens(u->out) + tokens(u->out_reasoning)) * pr.out) /
	       1e6;
}

double cost_usd(const struct prov_model *m, const struct outcome_usage *u,
		int64_t t)
{
	return cost_usd_lane(NULL, m, LANE_SYNC, u, t);
}

double cost_estimate_lane(const struct prov *p, const struct prov_model *m,
			  enum prov_lane l, int64_t est_in, int64_t max_out,
			  int64_t t)
{
	struct cost_prices pr;

	cost_prices_lane(p, m, l, t, &pr);
	return ((double)est_in * pr.in + (double)max_out * pr.out) / 1e6;
}

double cost_estimate(const struct prov_model *m, int64_t est_in,
		     int64_t max_out, int64_t t)
{
	return cost_estimate_lane(NULL, m, LANE_SYNC, est_in, max_out, t);
}

const char *cost_basis_name(enum cost_basis b)
{
	return b == COST_ESTIMATED ? "estimated"
	       : b == COST_SUSPECT ? "suspect"
				   : "reported";
}

/* billed: o is a reply the provider generated and bills: a 2xx that is
 * not an error in a 200's clothing. A body cut off in transit (a
 * connection or timeout class after the 2xx status) was generated all
 * the same. */
static int billed(const struct outcome *o)
{
	if (o->http_status < 200 || o->http_status > 299)
		return 0;
	switch (o->cls) {
	case OUTCOME_OK:
	case OUTCOME_INVALID_OUTPUT:
	case OUTCOME_CONTENT_FILTER:
	case OUTCOME_CONNECTION:
	case OUTCOME_TIMEOUT:
		return 1;
	default:
		return 0;
	}
}

/* beyond: usage u is more than a request allowed al could have used. */
static int beyond(const struct outcome_usage *u, const struct cost_allowed *al)
{
	double in = tokens(u->in) + tokens(u->in_cached) +
		    tokens(u->cache_write);
	double out = tokens(u->out) + tokens(u->out_reasoning);
	double plausible = (double)al->est_in > (double)al->body_bytes / 4
				   ? (double)al->est_in
				   : (double)al->body_bytes / 4;

	if (al->max_out > 0 && out > (double)al->max_out)
		return 1;
	return in > 4 * plausible + COST_INPUT_SLACK;
}

/* too_little: usage u says a request with a body read no input at all,
 * which no chat request can do (its messages are input): reported zeros
 * on a billed reply would pass every request through --max-cost free. */
static int too_little(const struct outcome_usage *u,
		      const struct cost_allowed *al)
{
	return al->body_bytes > 0 &&
	       tokens(u->in) + tokens(u->in_cached) + tokens(u->cache_write) <=
		       0;
}

double cost_charge_lane(const struct prov *p, const struct prov_model *m,
			enum prov_lane l, const struct outcome *o,
			const struct cost_allowed *al, int64_t t,
			enum cost_basis *basis)
{
	double worst = isfinite(al->worst_usd) && al->worst_usd > 0
			       ? al->worst_usd
			       : 0;
	double usd;

	*basis = COST_REPORTED;
	if (!o->usage_reported && billed(o)) {
		*basis = COST_ESTIMATED;
		return worst;
	}
	/* What an error reply reports alongside is billed as it says. */
	usd = cost_usd_lane(p, m, l, &o->usage, t);
	if (o->usage_reported &&
	    (beyond(&o->usage, al) || (billed(o) && too_little(&o->usage, al)))) {
		*basis = COST_SUSPECT;
		if (usd < worst)
			usd = worst;
	}
	return usd;
}

double cost_charge(const struct prov_model *m, const struct outcome *o,
		   const struct cost_allowed *al, int64_t t,
		   enum cost_basis *basis)
{
	return cost_charge_lane(NULL, m, LANE_SYNC, o, al, t, basis);
}

int64_t cost_output_bound(enum prov_dialect d, const struct prov_model *m,
			  int64_t job_max)
{
	if (job_max > 0)
		return job_max;
	if (m->max_output_tokens > 0)
		return m->max_output_tokens;
	return d == PROV_ANTHROPIC ? DIALECT_ANTHROPIC_DEFAULT_MAX_TOKENS : 0;
}
