/* estimate.h — what a request will take before it is sent, for choosing
 * the cheapest candidate, for the rate limits' token buckets and for the
 * budget: its input tokens on a candidate (the job's own estimate, its
 * bytes / 4, scaled by what that model has reported in this run), its
 * output tokens (the model's average so far, within the job's
 * max_tokens), and the most output a request may bill. Replies calibrate
 * the estimates as the run goes; the mean latency seen sets how early a
 * run stops sending before its deadline.
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

/* est_input: input tokens of a job estimated at job_in on candidate c. */
int64_t est_input(const struct estimates *e, struct route_cand c,
		  int64_t job_in);
/* est_output: output tokens expected on candidate c for a job whose
 * max_tokens is max_out (0: none given). */
int64_t est_output(const struct estimates *e, struct route_cand c,
		   int64_t max_out);
/* est_worst_output: the most output tokens a request may bill: the job's
 * max_tokens, else the model's output cap, else 4,096. */
int64_t est_worst_output(const struct prov_model *m, int64_t max_out);

/* est_learn: a reply from candidate c to a job estimated at job_in came
 * back after latency_ms with usage u; ok says it was a success (only
 * those calibrate the token estimates; every reply counts for latency). */
void est_learn(struct estimates *e, struct route_cand c, int64_t job_in,
	       const struct outcome_usage *u, int ok, int64_t latency_ms);
/* est_latency_ms: the mean latency of the replies so far; 0 before any. */
int64_t est_latency_ms(const struct estimates *e);

#endif
