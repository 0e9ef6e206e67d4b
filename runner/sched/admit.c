/* admit.c — routing, candidate choice, the providers' gates and the
 * budget for one job at a time (see admit.h). */
#include "runner/sched/admit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "queue/claim.h"
#include "runner/json/jsonidx.h"
#include "runner/providers/cost.h"
#include "runner/sched/budget.h"
#include "runner/sched/estimate.h"
#include "runner/sched/sched.h"
#include "util/xalloc.h"

/* How often a job waiting on open breakers asks again. */
#define OPEN_RECHECK_MS 200

void admit_state_init(struct admit_state *s)
{
	memset(s, 0, sizeof(*s));
	s->ncands = -1;
}

/* usable: a key is set for prov and it has not been shut off. */
static int usable(const struct admit *a, int prov)
{
	return a->keyed[prov] && !atomic_load(&a->disabled[prov]);
}

static const struct prov_model *model_of(const struct admit *a,
					 struct route_cand c)
{
	return &a->provs[c.prov].models[c.model];
}

int admit_route(const struct admit *a, const struct claim_job *j,
		struct admit_state *s, struct jsonidx *x, size_t *end,
		char **detail)
{
	struct route_cand all[ADMIT_MAX_CANDS];
	cJSON *allow = j->providers ? cJSON_Parse(j->providers) : NULL;
	char model[512] = "";
	size_t m, n = 0;
	int indexed = 0;

	s->ncands = 0;
	jsonidx_free(x); /* the last job's */
	if (jsonidx_parse(x, j->body, j->body_len, end) == 0) {
		indexed = 1;
		m = jsonidx_get(x, j->body, 0, "model");
		if (m && x->t[m].type == JSONIDX_STRING &&
		    jsonidx_decode(x, j->body, m, model, sizeof(model)) <
			    sizeof(model))
			n = route_candidates(a->provs, a->nprovs, a->routes,
					     a->nroutes, model, all,
					     ADMIT_MAX_CANDS);
	}
	for (size_t i = 0; i < n; i++) {
		const cJSON *p;
		int ok = allow == NULL;

		cJSON_ArrayForEach(p, allow)
		{
			if (cJSON_IsString(p) &&
			    strcmp(p->valuestring,
				   a->provs[all[i].prov].name) == 0)
				ok = 1;
		}
		if (ok)
			s->cands[s->ncands++] = all[i];
	}
	if (s->ncands == 0) {
		char msg[300];

		snprintf(msg, sizeof(msg),
			 n ? "body.model \"%.80s\": no candidate is in the "
			     "job's providers list"
			   : "body.model \"%.80s\": no route, provider:model "
			     "or provider in the config serves it",
			 model[0] ? model : "?");
		*detail = xstrdup(msg);
	}
	cJSON_Delete(allow);
	return indexed;
}

/* measure: each candidate as the routing order sees it now (usable,
 * fits, estimated cost at the prices in force) into opt[], with its
 * token estimates in tok[]. The order compares the candidates at the
 * token counts estimate.h gives for comparing, the same for all unless a
 * model's own calibration stands out beyond its noise: at list price, so
 * that a few replies cannot reorder a route. */
static void measure(const struct admit *a, const struct claim_job *j,
		    const struct admit_state *s, int64_t now_s,
		    struct route_option *opt, struct est_tokens *tok)
{
	for (int i = 0; i < s->ncands; i++) {
		struct route_cand c = s->cands[i];
		const struct prov_model *m = model_of(a, c);
		struct est_tokens *t = &tok[i];

		est_tokens(a->est, c, j->est_input_tokens, j->max_output_tokens,
			   t);
		opt[i].usable = usable(a, c.prov);
		opt[i].fits = !m->context_window || t->in <= m->context_window;
		opt[i].cost = cost_estimate(m, t->in, t->out, now_s);
		opt[i].rank = cost_estimate(m, t->cmp_in, t->cmp_out, now_s);
	}
}

int admit_plan(const struct admit *a, const struct claim_job *j,
	       const struct admit_state *s, int64_t now_ms, double *cost,
	       double *dearest, enum route_none *why)
{
	struct route_option opt[ADMIT_MAX_CANDS];
	struct est_tokens tok[ADMIT_MAX_CANDS];
	int i;

	*cost = *dearest = 0;
	measure(a, j, s, now_ms / 1000, opt, tok);
	i = route_pick(opt, s->ncands, j->candidate, j->cand_exhausted, 0,
		       j->max_cost_usd, why);
	if (i < 0)
		return -1;
	*cost = opt[i].cost;
	for (int k = 0; k < s->ncands; k++)
		if (opt[k].fits && opt[k].cost > *dearest)
			*dearest = opt[k].cost;
	return i;
}

int64_t admit_lane_turnaround(const struct prov *p, int64_t turnaround_ms)
{
	if (turnaround_ms > 0)
		return turnaround_ms;
	return (int64_t)(p->batch.window_h > 0 ? p->batch.window_h : 24) *
	       3600000;
}

int admit_lane_state(const struct prov *p, int keyed, int64_t turnaround_ms,
		     int64_t now_ms, int64_t end_ms)
{
	double t = (double)admit_lane_turnaround(p, turnaround_ms);

	if (!p->batch.on || !keyed)
		return ADMIT_LANE_NONE;
	if (!end_ms || (double)now_ms + t * ADMIT_LANE_FIT < (double)end_ms)
		return ADMIT_LANE_OPEN;
	return ADMIT_LANE_FORCED;
}

int admit_lane(const struct admit *a, const struct claim_job *j,
	       const struct admit_state *s, int want,
	       const unsigned char *batch, int64_t now_ms, int *lane,
	       double *cost, double *dearest, double *sync_cost,
	       enum route_none *why)
{
	struct route_option opt[2 * ADMIT_MAX_CANDS];
	double sync[ADMIT_MAX_CANDS];
	struct est_tokens tok[ADMIT_MAX_CANDS];
	int n = s->ncands, i;

	*cost = *dearest = 0;
	*lane = 0;
	measure(a, j, s, now_ms / 1000, opt, tok);
	for (int k = 0; k < n; k++) {
		struct route_cand c = s->cands[k];
		const struct prov *p = &a->provs[c.prov];
		const struct prov_model *m = model_of(a, c);
		struct route_option *b = &opt[n + k];
		int has = prov_has_lane(p, m, LANE_BATCH);
		int open = has && batch && batch[c.prov] == ADMIT_LANE_OPEN;
		int forced = has && batch && batch[c.prov] != ADMIT_LANE_NONE;

		if (opt[k].fits && opt[k].cost > *dearest)
			*dearest = opt[k].cost;
		sync[k] = opt[k].cost;
		*b = opt[k];
		if (has) {
			b->cost = cost_estimate_lane(p, m, LANE_BATCH,
						     tok[k].in, tok[k].out,
						     now_ms / 1000);
			b->rank = cost_estimate_lane(p, m, LANE_BATCH,
						     tok[k].cmp_in,
						     tok[k].cmp_out,
						     now_ms / 1000);
		}
		b->usable = opt[k].usable &&
			    (want == 2 ? forced : want == 0 && open);
		if (want == 2) /* never sent synchronously */
			opt[k].usable = 0;
	}
	/* cur -1: a job that waited on one lane may be cheaper on the
	 * other; exhausted candidates are exhausted in both */
	i = route_pick(opt, 2 * n, -1,
		       j->cand_exhausted | j->cand_exhausted << n, 0,
		       j->max_cost_usd, why);
	if (i < 0)
		return -1;
	*cost = opt[i].cost;
	*lane = i >= n;
	*sync_cost = sync[i % n];
	return i % n;
}

/* gate: pick the job's candidate (route_pick over the candidates as
 * measured once) and ask its provider's gate. A provider whose breaker
 * is open is passed over for the job's next candidate, so work flows
 * around a sick provider instead of waiting for it. Returns SCHED_GO
 * with *i and its estimates *t set, SCHED_WAIT (s->wait_until_ms set),
 * or -1 when no candidate is left (*why says why). */
static int gate(const struct admit *a, const struct claim_job *j,
		struct admit_state *s, int64_t now_ms, int *i,
		struct est_tokens *t, enum route_none *why)
{
	struct route_option opt[ADMIT_MAX_CANDS];
	struct est_tokens tok[ADMIT_MAX_CANDS];
	unsigned skip = 0;
	int64_t soonest = 0;

	measure(a, j, s, now_ms / 1000, opt, tok);
	for (;;) {
		struct route_cand c;
		int64_t at = 0;
		int v;

		*i = route_pick(opt, s->ncands, j->candidate,
				j->cand_exhausted, skip, j->max_cost_usd, why);
		if (*i < 0)
			break;
		c = s->cands[*i];
		v = sched_admit(a->sched, c.prov, tok[*i].in + tok[*i].out,
				now_ms, &at, &s->probe);
		if (v == SCHED_GO) {
			*t = tok[*i];
			return SCHED_GO;
		}
		if (v == SCHED_OFF) {
			/* shut off: none of its candidates is usable now */
			atomic_store(&a->disabled[c.prov], 1);
			for (int k = 0; k < s->ncands; k++)
				if (s->cands[k].prov == c.prov)
					opt[k].usable = 0;
			continue;
		}
		if (v == SCHED_WAIT) {
			s->wait_until_ms = at;
			return SCHED_WAIT;
		}
		/* SCHED_OPEN. While a half-open probe is out the gate cannot
		 * say when it will close (the probe may answer in a ms), so
		 * ask again soon rather than at the probe's timeout. */
		skip |= 1u << *i;
		if (at > now_ms + OPEN_RECHECK_MS)
			at = now_ms + OPEN_RECHECK_MS;
		if (!soonest || at < soonest)
			soonest = at;
	}
	if (skip) { /* every candidate left is resting: wait for a probe */
		s->wait_until_ms = soonest;
		return SCHED_WAIT;
	}
	return -1;
}

/* park_detail: why none of the job's candidates can be used this run:
 * the keys to set, the providers shut off. New string. */
static char *park_detail(const struct admit *a, const struct admit_state *s)
{
	char keys[300] = "", off[300] = "", msg[700];
	size_t nk = 0, no = 0;

	for (int i = 0; i < s->ncands; i++) {
		int prov = s->cands[i].prov;
		const struct prov *p = &a->provs[prov];

		if (!a->keyed[prov] && p->api_key_env && nk < sizeof(keys))
			nk += (size_t)snprintf(keys + nk, sizeof(keys) - nk,
					       "%s%s", nk ? ", " : "",
					       p->api_key_env);
		else if (atomic_load(&a->disabled[prov]) && no < sizeof(off))
			no += (size_t)snprintf(off + no, sizeof(off) - no,
					       "%s%s", no ? ", " : "", p->name);
	}
	snprintf(msg, sizeof(msg), "no usable provider this run%s%s%s%s",
		 keys[0] ? "; set " : "", keys,
		 off[0] ? "; shut off after refusing the account (key or "
			  "credit): "
			: "",
		 off);
	return xstrdup(msg);
}

enum admit_verdict admit_job(const struct admit *a, struct claim_job *j,
			     struct admit_state *s, int64_t now_ms,
			     char **detail)
{
	enum route_none why = ROUTE_EXHAUSTED;
	const struct prov_model *m;
	struct est_tokens t;
	struct route_cand c;
	int i = -1, v;

	if (s->wait_until_ms > now_ms)
		return ADMIT_WAIT;
	if ((j->lane ? j->lane : a->run_lane) == 2) {
		*detail = xstrdup("it asks for the batch lane, and none of "
				  "its providers has one usable this run");
		return ADMIT_PARK;
	}
	v = gate(a, j, s, now_ms, &i, &t, &why);
	if (v == SCHED_WAIT)
		return ADMIT_WAIT;
	if (v != SCHED_GO) {
		if (why == ROUTE_PARK) {
			*detail = park_detail(a, s);
			return ADMIT_PARK;
		}
		*detail = xstrdup(
			why == ROUTE_OVER_COST
				? "every candidate left is estimated above "
				  "the job's max_cost_usd"
			: why == ROUTE_TOO_LONG
				? "the prompt is longer than the context "
				  "window of every candidate left"
				: "no candidate left to try");
		return ADMIT_DEAD;
	}
	if (i != j->candidate) {
		j->candidate = i;
		j->cand_attempts = 0;
		j->cand_invalid = 0;
	}
	c = s->cands[i];
	m = model_of(a, c);
	s->est_in = t.in;
	s->worst_usd = cost_estimate(
		m, s->est_in, est_worst_output(m, j->max_output_tokens),
		now_ms / 1000);
	if (budget_reserve(a->budget, s->worst_usd, &s->reserved_nusd) != 0) {
		sched_cancel(a->sched, c.prov, s->probe);
		return ADMIT_OVER_BUDGET;
	}
	return ADMIT_GO;
}

void admit_release(const struct admit *a, struct admit_state *s)
{
	budget_release(a->budget, &s->reserved_nusd);
}

void admit_cancel(const struct admit *a, struct admit_state *s, int prov)
{
	sched_cancel(a->sched, prov, s->probe);
	budget_release(a->budget, &s->reserved_nusd);
}

int admit_others_left(const struct admit *a, const struct claim_job *j,
		      const struct admit_state *s)
{
	for (int i = 0; i < s->ncands; i++)
		if (i != j->candidate &&
		    !(j->cand_exhausted & (1u << i)) &&
		    usable(a, s->cands[i].prov))
			return 1;
	return 0;
}
