/* cost.c — request cost from usage and prices, with the time-of-day
 * price windows some providers sell (DeepSeek's off-peak hours). */
#include "runner/providers/cost.h"

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

void cost_price(const struct prov_model *m, int64_t t, double *in_per_mtok,
		double *out_per_mtok)
{
	size_t i;

	*in_per_mtok = m->input_per_mtok;
	*out_per_mtok = m->output_per_mtok;
	for (i = 0; i < m->noffpeak; i++) {
		if (window_has(&m->offpeak[i], t)) {
			*in_per_mtok = m->offpeak[i].input_per_mtok;
			*out_per_mtok = m->offpeak[i].output_per_mtok;
			return;
		}
	}
}

double cost_usd(const struct prov_model *m, const struct outcome_usage *u,
		int64_t t)
{
	double in, out;

	cost_price(m, t, &in, &out);
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

	cost_price(m, t, &in, &out);
	return ((double)est_in * in + (double)max_out * out) / 1e6;
}
