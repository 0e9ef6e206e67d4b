/* ledger.h — the run's ledger: a row per request sent, whatever became of
 * it, and a row per provider-level event (circuit trips, pauses), for the
 * report; and the spend it adds up to.
 *
 * Not thread-safe: these use the run's connection (the store thread). */
#ifndef NIGHTSHIFT_LEDGER_H
#define NIGHTSHIFT_LEDGER_H

#include <stdint.h>

struct qrun;

/* One request sent. Strings borrowed for the call. */
struct ledger_attempt {
	int64_t job_id;
	const char *provider, *model;
	int64_t sent_at_ms;
	int http_status; /* 0 = no response */
	const char *error_class; /* "ok" or an outcome class name */
	int64_t latency_ms;
	int64_t tok_in, tok_cached, tok_cache_write, tok_out, tok_reasoning;
	double cost_usd;
	/* how cost_usd was found: "reported" (NULL), "estimated" (billed,
	 * usage missing) or "suspect" (usage beyond the request's limits) */
	const char *cost_basis;
	const char *action; /* what followed: done, retry, failover, dead,
			       park */
	const char *lane;   /* "sync" (NULL) or "batch" */
	double cost_sync_usd; /* batch: the same at the sync price; 0: none */
};

/* Inside a transaction (qrun_begin) */
/* ledger_add: a's row, under the run's name. The job's spend is counted
 * by the fate that follows (complete_job's add_usd), in the same
 * transaction. */
int ledger_add(struct qrun *r, const struct ledger_attempt *a);
/* ledger_event: a provider-level event (kind: breaker_open, disabled,
 * paused; detail may be NULL) for the report. */
int ledger_event(struct qrun *r, const char *provider, const char *kind,
		 const char *detail);
/* ledger_inflight: the requests the run has sent and not recorded, as
 * JSON [[job_id, "provider", "model", nano-dollars], ...] (borrowed), or
 * NULL for none: kept with this commit, for claim_recover should the run
 * die. */
int ledger_inflight(struct qrun *r, const char *json);
/* ledger_lost: owner is dead: the requests its last commit listed as in
 * flight, for jobs it still holds, become ledger rows of class "lost"
 * (cost basis "estimated", at the cost listed) and count in the jobs'
 * attempts and spend; its list goes. *n += the rows added. Call before
 * its leases are taken back. */
int ledger_lost(struct qrun *r, const char *owner, long long *n);

/* Outside a transaction */
/* ledger_spend: total cost in the ledger, all runs. */
int ledger_spend(struct qrun *r, double *usd);

#endif
