/* estimate.c — token estimates calibrated by the run's replies (see
 * estimate.h). */
#include "runner/sched/estimate.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "util/xalloc.h"

/* What the run has seen of one provider x model: reported prompt tokens
 * against the jobs' own estimates, and output. */
struct calib {
	atomic_llong est_in, rep_in, out, n;
};

struct estimates {
	struct calib *calib; /* [off[prov] + model] */
	size_t *off;
	atomic_llong lat_sum_ms, lat_n;
};

struct estimates *est_new(const struct prov *provs, size_t nprovs)
{
	struct estimates *e = xcalloc(1, sizeof(*e));
	size_t n = 0;

	e->off = xcalloc(nprovs ? nprovs : 1, sizeof(*e->off));
	for (size_t i = 0; i < nprovs; i++) {
		e->off[i] = n;
		n += provs[i].nmodels;
	}
	e->calib = xcalloc(n ? n : 1, sizeof(*e->calib));
	return e;
}

void est_free(struct estimates **ep)
{
	if (!ep || !*ep)
		return;
	free((*ep)->calib);
	free((*ep)->off);
	free(*ep);
	*ep = NULL;
}

static struct calib *calib_of(const struct estimates *e, struct route_cand c)
{
	return &e->calib[e->off[c.prov] + (size_t)c.model];
}

int64_t est_input(const struct estimates *e, struct route_cand c,
		  int64_t job_in)
{
	struct calib *k = calib_of(e, c);
	long long est = atomic_load(&k->est_in), rep = atomic_load(&k->rep_in);

	if (est < 1000) /* too little seen to correct anything */
		return job_in;
	return (int64_t)((double)job_in * (double)rep / (double)est + 0.5);
}

int64_t est_output(const struct estimates *e, struct route_cand c,
		   int64_t max_out)
{
	struct calib *k = calib_of(e, c);
	long long n = atomic_load(&k->n);

	if (n >= 10) {
		long long avg = atomic_load(&k->out) / n;

		return max_out && avg > max_out ? max_out : avg;
	}
	return max_out ? max_out : 256;
}

int64_t est_worst_output(const struct prov_model *m, int64_t max_out)
{
	if (max_out)
		return max_out;
	return m->max_output_tokens ? m->max_output_tokens : 4096;
}

void est_learn(struct estimates *e, struct route_cand c, int64_t job_in,
	       const struct outcome_usage *u, int ok, int64_t latency_ms)
{
	struct calib *k = calib_of(e, c);
	long long in = u->in + u->in_cached + u->cache_write;

	atomic_fetch_add(&e->lat_sum_ms, latency_ms);
	atomic_fetch_add(&e->lat_n, 1);
	if (!ok || in <= 0)
		return;
	atomic_fetch_add(&k->est_in, job_in);
	atomic_fetch_add(&k->rep_in, in);
	atomic_fetch_add(&k->out, u->out + u->out_reasoning);
	atomic_fetch_add(&k->n, 1);
}

int64_t est_latency_ms(const struct estimates *e)
{
	long long n = atomic_load(&e->lat_n);

	return n ? atomic_load(&e->lat_sum_ms) / n : 0;
}
