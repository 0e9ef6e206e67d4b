/* report.h — the ledger summed per provider and per provider+model:
 * requests, outcomes by class, retries, tokens, cost and latency
 * percentiles; and what routing did: failovers, 429s, circuit trips, and
 * the saving against each route's dearest candidate. Not thread-safe
 * (uses the connection). */
#ifndef NIGHTSHIFT_REPORT_H
#define NIGHTSHIFT_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct queue;

/* Failed requests of one error class ("rate_limited", "timeout", ...). */
struct report_class {
	char *name;
	int64_t count;
};

/* One line of the report. Latencies are exact nearest-rank percentiles
 * (the value at rank ceil(p% of requests) in ascending order), -1 when the
 * row has no requests. */
struct report_row {
	char *provider; /* NULL in the totals */
	char *model;    /* NULL in provider rows and the totals */
	int64_t requests;
	int64_t successes; /* error_class "ok" */
	int64_t failures;  /* requests - successes */
	/* Requests that were not the job's first on this provider (model
	 * rows: on this provider+model). A failover is not a retry. The
	 * total is the sum over providers. */
	int64_t retries;
	int64_t tokens_in;  /* uncached + cache read + cache write */
	int64_t tokens_out; /* output + reasoning (both sums saturate) */
	double cost_usd;
	/* Requests whose cost is not the provider's usage at its word (the
	 * ledger's cost_basis), and what they cost: estimated (billed, no
	 * usable usage: charged their worst case) and suspect (usage beyond
	 * what the request allowed: charged at least their worst case). */
	int64_t estimated, suspect;
	double estimated_usd, suspect_usd;
	/* Requests whose action was "failover" (left for another
	 * candidate). */
	int64_t failovers_out;
	/* Requests that followed a "failover" request of the same job on
	 * another provider (model rows: another provider+model). The total
	 * is the sum over providers, so it can be below failovers_out: a
	 * failover between two models of one provider, or one whose next
	 * request is not sent yet. */
	int64_t failovers_in;
	int64_t http_429; /* HTTP status 429, whatever its error class */
	/* Events of the provider: circuit breaker opened, provider disabled
	 * for a run. Provider rows and totals; 0 in model rows. */
	int64_t circuit_trips;
	int64_t disabled;
	/* Over the results of done jobs served here (results.provider and
	 * model): what the winning request's tokens would have cost on the
	 * job's dearest candidate (unknown = the job's cost), and that minus
	 * the job's cost including its failed requests anywhere. Negative
	 * when the failures cost more than routing saved. */
	double cost_ref_usd;
	double saving_usd;
	int64_t p50_ms, p95_ms, p99_ms;
	struct report_class *classes; /* failures only, by name */
	size_t nclasses;
};

/* One lane's requests: what they cost, and what the same usage would
 * have cost at the models' sync prices (the batch lane's saving is the
 * difference). */
struct report_lane {
	int64_t requests;
	double cost_usd, cost_sync_usd;
};

struct report {
	struct report_lane lanes[2]; /* sync, batch */
	struct report_row *providers; /* by name */
	size_t nproviders;
	struct report_row *models; /* by provider, then model */
	size_t nmodels;
	struct report_row totals;
};

/* report_load: read the whole ledger into a new report (report_free).
 * Memory is per provider+model and error class, never per request (SQLite
 * sorts in bounded memory, spilling to temporary files). QUEUE_* code,
 * message in queue_errmsg(q). */
int report_load(struct queue *q, struct report **out);
void report_free(struct report **r);

#endif
