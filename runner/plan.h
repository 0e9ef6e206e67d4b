/* plan.h — what `nightshift plan` found (cmd_plan.c routes the jobs into
 * it) and how it is shown (plan_out.c): per provider, model and lane the
 * jobs, tokens and cost; per provider the time its share needs. Main
 * thread only. */
#ifndef NIGHTSHIFT_PLAN_H
#define NIGHTSHIFT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "runner/config.h"
#include "runner/json/jsonidx.h"
#include "runner/sched/admit.h"

/* Round trip assumed for a provider no run has measured yet. */
#define PLAN_RTT_MS 5000

/* What one (provider, model) would take. */
struct row {
	long long jobs;
	int64_t in, out; /* estimated tokens */
	double usd;
};

struct plan {
	const struct config *cfg;
	struct admit a;
	size_t *off; /* rows[2 * (off[prov] + model) + lane] */
	struct row *rows;
	unsigned char *batch;  /* per provider: ADMIT_LANE_* */
	int64_t *turn_ms;      /* per provider: batch turnaround */
	unsigned char *turn_learned;
	int run_lane;
	long long held; /* jobs in provider batches already */
	double *rtt_ms; /* per provider; 0: not measured */
	long long jobs, parked, unroutable, rejected;
	double usd, dearest;
	char why[300]; /* the first unroutable job's reason */
	struct jsonidx idx;
	int64_t now_ms;
	double avail_s; /* time to the deadline; < 0: none */
	int file;	/* FILE's lines are planned too */
};

/* plan_print_text / plan_print_json: the plan for people and for scripts
 * (db: the queue planned, or NULL for FILE alone). plan_print_json returns
 * the exit code. */
void plan_print_text(const struct plan *pl, const char *db);
int plan_print_json(const struct plan *pl, const char *db);

#endif
