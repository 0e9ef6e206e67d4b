/* estimate.h — what a request will take before it is sent, for choosing
 * the cheapest candidate, for the rate limits' token buckets and for the
 * budget: its input tokens on a candidate (the job's own estimate, its
 * bytes / 4, scaled by what the run's replies reported), its output
 * tokens (the replies' average, within the job's max_tokens), and the
 * most output a request may bill. Replies calibrate the estimates as the
 * run goes; the mean latency seen sets how early a run stops sending
 * before its deadline.
 *
 * Every candidate starts from the calibration of the whole run (every
 * provider x model's replies pooled) and moves toward its own figures as
 * its own replies accumulate, within a band around the pool's. Candidates
 * are compared at the same token counts, the pool's, so by list price,
 * unless a model's own figures are established and differ from the pool's
 * by more than their noise.
 *
 * Thread-safe: est_new/est_free before and after the threads; the rest
 * reads and adds to atomics. */
#ifndef NIGHTSHIFT_ESTIMATE_H
#define NIGHTSHIFT_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#include "runner/providers/outcome.h"
#include "runner/providers/prov.h"
#include "runner/sched/route.h"

struct estimates;

/* est_new: calibration for every model of provs[0..nprovs) (borrowed:
 * must outlive it), none seen yet. est_free(NULL or &NULL) does nothing. */
struct estimates *est_new(const struct prov *provs, size_t nprovs);
void est_free(struct estimates **e);

/* Estimates */

/* What a job is expected to take on one candidate. */
struct est_tokens {
	int64_t in, out;	 /* the best estimate: the pool's calibration
				    moved toward the model's own */
	int64_t cmp_in, cmp_out; /* what candidates are compared by: the
				    pool's counts, the same for every
				    candidate, unless the model's own differ
				    beyond their noise */
};

/* est_tokens: a job estimated at job_in input tokens, max_tokens max_out
 * (0: none given), on candidate c. */
void est_tokens(const struct estimates *e, struct route_cand c, int64_t job_in,
		int64_t max_out, struct est_tokens *t);
#ifdef NIGHTSHIFT_TEST
/* est_input, est_output: est_tokens' in and out (tests' shorthands). */
int64_t est_input(const struct estimates *e, struct route_cand c,
		  int64_t job_in);
int64_t est_output(const struct estimates *e, struct route_cand c,
		   int64_t max_out);
#endif
/* est_worst_output: the most output tokens a request may bill: the job's
 * max_tokens, else the model's output cap, else 4,096. */
int64_t est_worst_output(const struct prov_model *m, int64_t max_out);

/* Calibration */

/* est_learn: a reply from candidate c to a job estimated at job_in came
 * back after latency_ms with usage u; ok says it was a success (only
 * those calibrate the token estimates; every reply counts for latency).
 * Usage implausible for the job (input over 16 times its estimate or
 * under a sixteenth, output over 2^24 tokens) calibrates nothing: an image, or a provider's bad
 * count, would skew the text jobs' estimates. */
void est_learn(struct estimates *e, struct route_cand c, int64_t job_in,
	       const struct outcome_usage *u, int ok, int64_t latency_ms);
/* est_latency_ms: the mean latency of the replies so far; 0 before any. */
int64_t est_latency_ms(const struct estimates *e);

/* Keeping calibration between runs */

/* What the run has seen of one provider x model, as sums. */
struct est_counts {
	const char *prov, *model;  /* borrowed */
	int64_t est_in;		   /* the jobs' own input estimates */
	int64_t rep_in;		   /* input tokens the replies reported */
	int64_t out;		   /* output tokens reported */
	int64_t n;		   /* successful replies that calibrated */
	int64_t lat_sum_ms, lat_n; /* latency of every reply */
};

/* est_export: every provider x model's counters, in config order, into
 * out[0..cap) (names borrowed from the config est_new was given).
 * Returns how many there are (with cap 0, out may be NULL). */
size_t est_export(const struct estimates *e, struct est_counts *out,
		  size_t cap);
/* est_import: add in[0..n) (borrowed) to the counters of the provider x
 * models they name, as if their replies had come in this run; a record
 * naming no configured model, or holding a negative or absurd count, is
 * skipped. Returns how many were taken. */
size_t est_import(struct estimates *e, const struct est_counts *in, size_t n);

#endif
