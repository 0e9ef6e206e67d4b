/* cost.h — what a request cost, from its usage and the config's prices.
 * Pure; thread-safe. */
#ifndef NIGHTSHIFT_COST_H
#define NIGHTSHIFT_COST_H

#include <stdint.h>

#include "runner/providers/prov.h"
#include "runner/providers/outcome.h"

/* cost_price: the input/output price (USD per million tokens) in force at
 * epoch second t: the first off-peak window that contains t, else the
 * model's base prices. Cached-input and cache-write prices have no
 * windows. */
void cost_price(const struct prov_model *m, int64_t t, double *in_per_mtok,
		double *out_per_mtok);
/* cost_usd: each token kind at its own price (per million tokens), the
 * input/output prices being those in force at epoch second t (off-peak
 * windows); reasoning tokens bill as output. */
double cost_usd(const struct prov_model *m, const struct outcome_usage *u,
		int64_t t);
/* cost_estimate: the worst case of a request before it is sent: est_in
 * input tokens and max_out output tokens at the prices in force at t. */
double cost_estimate(const struct prov_model *m, int64_t est_in,
		     int64_t max_out, int64_t t);

#endif
