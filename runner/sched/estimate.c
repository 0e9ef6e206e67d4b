/* estimate.c — token estimates calibrated by the run's replies (see
 * estimate.h).
 *
 * DESIGN: each model's estimate is the pool's (every model's replies
 * together) times the model's own effect: its own ratio over the pool's,
 * clamped to a band and weighed by how many replies it rests on (a prior
 * worth PRIOR_REPLIES of them). Each model calibrated from its own
 * replies alone let the first few reorder a route (issue 15: qwen's first
 * replies moved its estimate while deepseek's stayed on the uncalibrated
 * prior, so 149 of 150 route jobs went to deepseek, 40% dearer at list
 * price); a model with little of its own now has the run's calibration,
 * and candidates are compared at the pool's counts unless a model's own
 * effect is beyond its noise, taken as NOISE_Z standard errors of a mean
 * whose samples vary as much as their mean (no model's do more). */
#include "runner/sched/estimate.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "runner/providers/cost.h"
#include "util/xalloc.h"

/* Input tokens estimated before an input factor means anything. */
#define MIN_EST_IN 1000
/* Replies before an average output, or a model's own effect, counts. */
#define MIN_REPLIES 10
/* The pool weighs as much as this many of a model's own replies. */
#define PRIOR_REPLIES 30
/* A model's own effect stays within [1/BAND, BAND] of the pool. */
#define BAND 2.0
#define NOISE_Z 2.0
/* Output expected before any reply, without max_tokens. */
#define DEFAULT_OUT 256
/* A reply reporting input beyond this factor of (or below its inverse)
 * the job's own estimate calibrates nothing. */
#define SUSPECT 16
/* Most output one reply may report and still calibrate, and most of any
 * count an imported record may hold: sums stay far from overflow. */
#define OUT_MAX ((long long)1 << 24)
#define COUNT_MAX ((int64_t)1 << 48)

/* What the run has seen of one provider x model, or of all of them. */
struct calib {
	atomic_llong est_in, rep_in, out, n, lat_sum_ms, lat_n;
};

struct estimates {
	const struct prov *provs;
	size_t nprovs;
	struct calib *calib; /* [off[prov] + model] */
	size_t *off;
	size_t ncalib;
	struct calib pool;
};

struct estimates *est_new(const struct prov *provs, size_t nprovs)
{
	struct estimates *e = xcalloc(1, sizeof(*e));

	e->provs = provs;
	e->nprovs = nprovs;
	e->off = xcalloc(nprovs ? nprovs : 1, sizeof(*e->off));
	for (size_t i = 0; i < nprovs; i++) {
		e->off[i] = e->ncalib;
		e->ncalib += provs[i].nmodels;
	}
	e->calib = xcalloc(e->ncalib ? e->ncalib : 1, sizeof(*e->calib));
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

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* effect: a model's own ratio against the pool's, clamped to the band and
 * moved from 1 by the weight w of its own replies. */
static double effect(double own, double pool, double w)
{
	if (w <= 0 || !(pool > 0))
		return 1.0;
	return 1.0 + w * (clamp(own / pool, 1.0 / BAND, BAND) - 1.0);
}

static int64_t round_tokens(double x)
{
	return (int64_t)(x + 0.5);
}

void est_tokens(const struct estimates *e, struct route_cand c, int64_t job_in,
		int64_t max_out, struct est_tokens *t)
{
	const struct calib *k = calib_of(e, c), *p = &e->pool;
	long long p_est = atomic_load(&p->est_in);
	long long p_rep = atomic_load(&p->rep_in);
	long long p_out = atomic_load(&p->out), p_n = atomic_load(&p->n);
	long long k_est = atomic_load(&k->est_in);
	long long k_rep = atomic_load(&k->rep_in);
	long long k_out = atomic_load(&k->out), k_n = atomic_load(&k->n);
	double in_f = 1.0, out = max_out ? (double)max_out : DEFAULT_OUT;
	double w = 0, noise = 0, g_in = 1.0, g_out = 1.0;

	if (p_est >= MIN_EST_IN)
		in_f = clamp((double)p_rep / (double)p_est, 1.0 / SUSPECT,
			     SUSPECT);
	if (p_n >= MIN_REPLIES)
		out = (double)p_out / (double)p_n;
	if (k_n >= MIN_REPLIES) {
		w = (double)k_n / (double)(k_n + PRIOR_REPLIES);
		noise = NOISE_Z / sqrt((double)k_n);
		if (k_est >= MIN_EST_IN)
			g_in = effect((double)k_rep / (double)k_est, in_f, w);
		g_out = effect((double)k_out / (double)k_n, out, w);
	}
	t->cmp_in = round_tokens((double)job_in * in_f);
	t->in = round_tokens((double)job_in * in_f * g_in);
	t->cmp_out = round_tokens(out);
	t->out = round_tokens(out * g_out);
	if (max_out && t->cmp_out > max_out)
		t->cmp_out = max_out;
	if (max_out && t->out > max_out)
		t->out = max_out;
	/* Within the noise, the model is priced at the pool's counts. */
	if (fabs(g_in - 1.0) > noise)
		t->cmp_in = t->in;
	if (fabs(g_out - 1.0) > noise)
		t->cmp_out = t->out;
}

#ifdef NIGHTSHIFT_TEST
int64_t est_input(const struct estimates *e, struct route_cand c,
		  int64_t job_in)
{
	struct est_tokens t;

	est_tokens(e, c, job_in, 0, &t);
	return t.in;
}

int64_t est_output(const struct estimates *e, struct route_cand c,
		   int64_t max_out)
{
	struct est_tokens t;

	est_tokens(e, c, 0, max_out, &t);
	return t.out;
}
#endif

int64_t est_worst_output(const struct prov_model *m, int64_t max_out)
{
	/* nothing bounds an OpenAI-style request without max_tokens: the
	 * budget assumes 4096 (what the Messages API is sent with) */
	int64_t b = cost_output_bound(PROV_OPENAI, m, max_out);

	return b ? b : 4096;
}

/* add: one provider x model's counts, to it and to the pool. */
static void add(struct estimates *e, struct calib *k, long long est_in,
		long long rep_in, long long out, long long n, long long lat,
		long long lat_n)
{
	struct calib *both[2] = {k, &e->pool};

	for (int i = 0; i < 2; i++) {
		if (lat_n) {
			atomic_fetch_add(&both[i]->lat_sum_ms, lat);
			atomic_fetch_add(&both[i]->lat_n, lat_n);
		}
		if (!n)
			continue;
		atomic_fetch_add(&both[i]->est_in, est_in);
		atomic_fetch_add(&both[i]->rep_in, rep_in);
		atomic_fetch_add(&both[i]->out, out);
		atomic_fetch_add(&both[i]->n, n);
	}
}

void est_learn(struct estimates *e, struct route_cand c, int64_t job_in,
	       const struct outcome_usage *u, int ok, int64_t latency_ms)
{
	long long in = u->in + u->in_cached + u->cache_write;
	long long out = u->out + u->out_reasoning;
	long long lat = latency_ms < 0			? 0
			: latency_ms > (int64_t)1 << 31 ? (long long)1 << 31
							: latency_ms;
	/* job_in is a line's bytes / 4: SUSPECT times it cannot overflow,
	 * nor then SUSPECT times in. */
	int calibrates = ok && in > 0 && job_in > 0 && out >= 0 &&
			 out <= OUT_MAX && in <= SUSPECT * job_in &&
			 job_in <= SUSPECT * in;

	add(e, calib_of(e, c), job_in, in, out, calibrates, lat, 1);
}

int64_t est_latency_ms(const struct estimates *e)
{
	long long n = atomic_load(&e->pool.lat_n);

	return n ? atomic_load(&e->pool.lat_sum_ms) / n : 0;
}

size_t est_export(const struct estimates *e, struct est_counts *out, size_t cap)
{
	size_t i = 0;

	for (size_t p = 0; p < e->nprovs; p++)
		for (size_t m = 0; m < e->provs[p].nmodels; m++, i++) {
			const struct calib *k = &e->calib[e->off[p] + m];

			if (i >= cap)
				continue;
			out[i] = (struct est_counts){
			    .prov = e->provs[p].name,
			    .model = e->provs[p].models[m].name,
			    .est_in = atomic_load(&k->est_in),
			    .rep_in = atomic_load(&k->rep_in),
			    .out = atomic_load(&k->out),
			    .n = atomic_load(&k->n),
			    .lat_sum_ms = atomic_load(&k->lat_sum_ms),
			    .lat_n = atomic_load(&k->lat_n)};
		}
	return i;
}

/* sane: every count of r is one a run could have summed. */
static int sane(const struct est_counts *r)
{
	const int64_t v[] = {r->est_in, r->rep_in,     r->out,
			     r->n,	r->lat_sum_ms, r->lat_n};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] < 0 || v[i] > COUNT_MAX)
			return 0;
	return 1;
}

size_t est_import(struct estimates *e, const struct est_counts *in, size_t n)
{
	size_t taken = 0;

	for (size_t i = 0; i < n; i++) {
		const struct est_counts *r = &in[i];
		int p = r->prov ? route_find_prov(e->provs, e->nprovs, r->prov)
				: -1;
		int m = p >= 0 && r->model
			    ? route_find_model(&e->provs[p], r->model)
			    : -1;

		if (m < 0 || !sane(r))
			continue;
		add(e, calib_of(e, (struct route_cand){p, m}), r->est_in,
		    r->rep_in, r->out, r->n, r->lat_sum_ms, r->lat_n);
		taken++;
	}
	return taken;
}
