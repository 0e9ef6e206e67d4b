/* route.c — a job's candidates from its body.model, and the
 * cheapest-first choice among them. */
#include "runner/sched/route.h"

#include <string.h>

int route_find_prov(const struct prov *provs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(provs[i].name, name) == 0)
			return (int)i;
	return -1;
}

int route_find_model(const struct prov *p, const char *model)
{
	size_t i;

	for (i = 0; i < p->nmodels; i++)
		if (strcmp(p->models[i].name, model) == 0)
			return (int)i;
	return -1;
}

size_t route_candidates(const struct prov *provs, size_t nprovs,
			const struct route *routes, size_t nroutes,
			const char *body_model, struct route_cand *out,
			size_t cap)
{
	const char *colon;
	size_t i, n = 0;
	int pi, mi;

	for (i = 0; i < nroutes; i++) {
		const struct route *r = &routes[i];

		if (strcmp(r->name, body_model) != 0)
			continue;
		if (cap == 0)
			return r->ncands;
		for (n = 0; n < r->ncands && n < cap; n++)
			out[n] = r->cands[n];
		return n;
	}
	/* "provider:model" when the prefix names a provider; otherwise the
	 * colon belongs to a model id ("llama3:8b") and it is a bare name. */
	colon = strchr(body_model, ':');
	if (colon && (size_t)(colon - body_model) <= PROV_NAME_MAX) {
		char prov[PROV_NAME_MAX + 1];

		memcpy(prov, body_model, (size_t)(colon - body_model));
		prov[colon - body_model] = '\0';
		pi = route_find_prov(provs, nprovs, prov);
		mi = pi < 0 ? -1 : route_find_model(&provs[pi], colon + 1);
		if (mi >= 0) {
			if (cap > 0) {
				out[0].prov = pi;
				out[0].model = mi;
			}
			return 1;
		}
	}
	for (i = 0; i < nprovs; i++) {
		mi = route_find_model(&provs[i], body_model);
		if (mi < 0)
			continue;
		if (cap == 0) {
			n++;
			continue;
		}
		if (n == cap)
			break;
		out[n].prov = (int)i;
		out[n].model = mi;
		n++;
	}
	return n;
}

int route_pick(const struct route_option *opt, int n, int cur,
	       unsigned exhausted, unsigned skip, double max_cost,
	       enum route_none *why)
{
	unsigned out = exhausted | skip;
	int best = -1, unusable = 0, over = 0, small = 0;

	if (cur >= 0 && cur < n && !(out & (1u << cur)) && opt[cur].usable)
		return cur;
	for (int i = 0; i < n; i++) {
		if (out & (1u << i))
			continue;
		if (!opt[i].usable) {
			unusable++;
			continue;
		}
		/* A prompt that cannot fit would only come back as a
		 * context overflow: a bigger window is the way. */
		if (!opt[i].fits) {
			small++;
			continue;
		}
		if (max_cost >= 0 && opt[i].cost > max_cost) {
			over++;
			continue;
		}
		if (best < 0 || opt[i].rank < opt[best].rank)
			best = i;
	}
	if (best < 0)
		*why = unusable ? ROUTE_PARK
		       : over	? ROUTE_OVER_COST
		       : small	? ROUTE_TOO_LONG
				: ROUTE_EXHAUSTED;
	return best;
}
