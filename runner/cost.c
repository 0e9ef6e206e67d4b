/* cost.c — request cost from usage and prices. */
#include "runner/cost.h"

double cost_usd(const struct prov_model *m, const struct outcome_usage *u,
		int64_t t)
{
	double in, out;

	config_price(m, t, &in, &out);
	return ((double)u->in * in +
		(double)u->in_cached * m->cached_input_per_mtok +
		(double)u->cache_write * m->cache_write_per_mtok +
		(double)(u->out + u->out_reasoning) * out) /
	       1e6;
}

double cost_estimate(const struct prov_model *m, int64_t est_in,
		     int64_t max_out, int64_t t)
{
	double in, out;

	config_price(m, t, &in, &out);
	return ((double)est_in * in + (double)max_out * out) / 1e6;
}
