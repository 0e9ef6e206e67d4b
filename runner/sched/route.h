/* route.h — which candidates a job has and which one it goes to: a route
 * is a named list of (provider, model) candidates from the providers
 * config; a job's body.model resolves to candidates over the configured
 * providers and routes; the routing order is a pure function of what the
 * caller measured about each candidate. Pure; thread-safe. */
#ifndef NIGHTSHIFT_ROUTE_H
#define NIGHTSHIFT_ROUTE_H

#include <stddef.h>

#include "runner/providers/prov.h"

/* A candidate: indexes into the config's providers and that provider's
 * models. */
struct route_cand {
	int prov;
	int model;
};

/* A named route: its candidates in the order the config lists them. */
struct route {
	char *name;
	struct route_cand *cands;
	size_t ncands;
};

/* Candidates */

/* route_find_prov: index of the provider called name in provs[0..n), or
 * -1. */
int route_find_prov(const struct prov *provs, size_t n, const char *name);

/* route_find_model: index of p's model called model, or -1. */
int route_find_model(const struct prov *p, const char *model);

/* route_candidates: resolve a job's body.model over provs[0..nprovs) and
 * routes[0..nroutes). In this order: a route name (its list, in order);
 * "provider:model" (that one pair, when the prefix is a configured
 * provider that lists the model); a bare model name (every provider that
 * lists it, in config order; model ids may contain ':', as in
 * "llama3:8b"). Writes at most cap entries to out and returns how many it
 * wrote; with cap 0 (out may be NULL) it returns how many there are. 0
 * means the name is unknown. All borrowed. */
size_t route_candidates(const struct prov *provs, size_t nprovs,
			const struct route *routes, size_t nroutes,
			const char *body_model, struct route_cand *out,
			size_t cap);

/* Choice */

/* One candidate as the caller sees it now. */
struct route_option {
	int usable;  /* key set and provider not disabled */
	int fits;    /* the prompt fits the model's context window */
	double cost; /* estimated cost of this job on it, USD */
	double rank; /* what the order compares: its cost at the token
			counts every candidate is compared by (estimate.h) */
};

/* Why no candidate was picked. */
enum route_none {
	ROUTE_PARK,	 /* some candidates are unusable now: wait */
	ROUTE_OVER_COST, /* the rest are above the job's max_cost_usd */
	ROUTE_TOO_LONG,	 /* the rest are too small for the prompt */
	ROUTE_EXHAUSTED, /* every candidate has been failed over from */
};

/* route_pick: the candidate index to use. The current one (cur, -1 for
 * none) while it is usable and neither exhausted nor skipped, so retries
 * stay put; otherwise the usable one of least rank that fits, has a cost
 * within max_cost (< 0: no cap), and is in neither bit set (bit i =
 * candidate i). Ties go to the earlier candidate (the route's own order).
 * -1 and *why when there is none. */
int route_pick(const struct route_option *opt, int n, int cur,
	       unsigned exhausted, unsigned skip, double max_cost,
	       enum route_none *why);

#endif
