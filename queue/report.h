/* report.h — the ledger summed per provider and per provider+model:
 * requests, outcomes by class, retries, tokens, cost and latency
 * percentiles. Not thread-safe (uses the connection). */
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
	int64_t tokens_out; /* output + reasoning */
	double cost_usd;
	int64_t p50_ms, p95_ms, p99_ms;
	struct report_class *classes; /* failures only, by name */
	size_t nclasses;
};

struct report {
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
