/* cost.h — what a request cost, from its usage and the config's prices on
 * the lane it took (sync, or the provider's batch lane at its batch
 * prices), and what it is charged when its usage cannot be taken at its
 * word. The functions without _lane price the sync lane.
 * Pure; thread-safe. */
#ifndef NIGHTSHIFT_COST_H
#define NIGHTSHIFT_COST_H

#include <stdint.h>

#include "runner/providers/prov.h"
#include "runner/providers/outcome.h"

/* cost_price_lane: the input/output price (USD per million tokens) of
 * model m of provider p on lane l at epoch second t.
 * Sync: the first off-peak window that contains t, else the model's base
 * prices (p is not read and may be NULL).
 * Batch: the model's batch price when the config or a price file gives
 * one, else its base price times p->batch.discount; off-peak windows do
 * not apply (a batch runs whenever the provider likes). The lane must be
 * the model's (prov_has_lane). On either lane, cached-input and
 * cache-write prices have no windows; on the batch lane they are the
 * base ones times the discount (Anthropic's discount covers cache reads
 * and writes; DashScope's batches read no cache). */
void cost_price_lane(const struct prov *p, const struct prov_model *m,
		     enum prov_lane l, int64_t t, double *in_per_mtok,
		     double *out_per_mtok);
/* What each token kind costs on a lane at an instant, USD per million. */
struct cost_prices {
	double in, out, cached, write;
};

/* cost_prices_lane: the four prices of model m of provider p on lane l at
 * epoch second t, in *pr: in and out as cost_price_lane gives them,
 * cached and write as it says. */
void cost_prices_lane(const struct prov *p, const struct prov_model *m,
		      enum prov_lane l, int64_t t, struct cost_prices *pr);
/* cost_usd_lane: each token kind of usage u at its own price on lane l
 * at epoch second t (cost_price_lane); reasoning tokens bill as output. */
double cost_usd_lane(const struct prov *p, const struct prov_model *m,
		     enum prov_lane l, const struct outcome_usage *u,
		     int64_t t);
/* cost_estimate_lane: the worst case of a request before it is sent:
 * est_in input tokens and max_out output tokens at the prices of lane l
 * at t. */
double cost_estimate_lane(const struct prov *p, const struct prov_model *m,
			  enum prov_lane l, int64_t est_in, int64_t max_out,
			  int64_t t);

/* cost_price, cost_usd, cost_estimate: the _lane functions on the sync
 * lane. */
void cost_price(const struct prov_model *m, int64_t t, double *in_per_mtok,
		double *out_per_mtok);
double cost_usd(const struct prov_model *m, const struct outcome_usage *u,
		int64_t t);
double cost_estimate(const struct prov_model *m, int64_t est_in,
		     int64_t max_out, int64_t t);

/* How a request's charge was found: the ledger's cost_basis. */
enum cost_basis {
	COST_REPORTED,	/* from the usage the reply reported */
	COST_ESTIMATED, /* billed, but its usage absent or unreadable: its
			   worst case, as the budget held it */
	COST_SUSPECT,	/* usage beyond what the request allowed: kept as
			   reported, charged at least its worst case */
};

/* Prompt tokens past this many above the request's plausible size make
 * its usage suspect: images and tool definitions are not in the job's
 * estimate (an image sent by URL is up to ~1,600 tokens). */
#define COST_INPUT_SLACK 8192

/* What a request was allowed, to judge its reported usage by. */
struct cost_allowed {
	int64_t est_in;	    /* its estimated input tokens */
	int64_t body_bytes; /* the size of its body: a text prompt has no
			       more tokens than bytes */
	int64_t max_out;    /* the most output tokens it could bill (its
			       max_tokens, else the model's); 0: unknown */
	double worst_usd;   /* its worst case, as the budget held it */
};

/* cost_output_bound: the most output tokens a request to model m on a
 * provider of dialect d can bill: the job's max_tokens (job_max), else
 * the model's output limit, else, for the Messages API, the default
 * max_tokens the request is sent with; 0 when nothing bounds it. The
 * request builder, the budget and the suspect-usage check all read it. */
int64_t cost_output_bound(enum prov_dialect d, const struct prov_model *m,
			  int64_t job_max);

/* cost_basis_name: "reported", "estimated" or "suspect" (static). */
const char *cost_basis_name(enum cost_basis b);
/* cost_charge_lane: what a request with outcome o on model m of provider
 * p, sent on lane l at epoch second t and allowed al, is charged, with
 * *basis saying how that was found. A reply the provider bills (a 2xx
 * that is not an error: a success, invalid output, a filtered or cut-off
 * reply) without usable usage costs al->worst_usd, never 0. Reported
 * output over al->max_out, or input over 4 x the larger of est_in and
 * body_bytes / 4, plus COST_INPUT_SLACK, is suspect: charged the larger
 * of the reported cost and al->worst_usd. Reported usage is priced by
 * cost_usd_lane. Never negative, nan or inf. */
double cost_charge_lane(const struct prov *p, const struct prov_model *m,
			enum prov_lane l, const struct outcome *o,
			const struct cost_allowed *al, int64_t t,
			enum cost_basis *basis);
/* cost_charge: cost_charge_lane on the sync lane. */
double cost_charge(const struct prov_model *m, const struct outcome *o,
		   const struct cost_allowed *al, int64_t t,
		   enum cost_basis *basis);

#endif
