/* lane.h — the provider batch lane of a run (DESIGN.md "Lanes").
 *
 * Before the sync workers start, lane_prepare looks at the batches earlier
 * runs left (collecting those that ended, adopting those a killed run
 * created but did not record), then puts every queued job whose cheapest
 * (candidate, lane) is a batch lane into batches, per provider and model,
 * and submits them; the sync lane then claims only what is left. A thread
 * (lane_start) polls the live batches, collects their lines as they end
 * through the same outcome classification, policy and ledger as sync
 * replies, submits again what a line sent back, and, before a deadline,
 * cancels a batch that has not ended in time so the sync lane can finish
 * its jobs.
 *
 * The lane writes through a connection of its own (its commits are a
 * batch's worth of lines, apart from the store's group commits).
 * Not thread-safe: lane_* are called by the main thread; the lane's own
 * thread touches only the lane. */
#ifndef NIGHTSHIFT_LANE_H
#define NIGHTSHIFT_LANE_H

#include <stdint.h>

struct runctx;
struct lane;

struct lane_opts {
	const char *db;	 /* the queue's path, for the lane's connection */
	const char *run; /* the run's owner name ("host:pid:run") */
	int run_lane;	 /* --lane: 0 auto, 1 sync, 2 batch */
	int submit_only; /* submit and leave; the next run collects */
	int64_t end_ms;	 /* the deadline, wall clock ms; 0: none */
	/* owner_alive(run, arg): whether the run that wrote an intent still
	 * runs (its intents are its own to finish) */
	int (*owner_alive)(const char *owner, void *arg);
	void *alive_arg;
};

/* lane_new: the lane of run rc (borrowed; its config, keys, budget and
 * reply pipeline are used). 0, or a QUEUE_* code (said) when its
 * connection cannot open. *out is NULL when no provider has a usable
 * batch lane or --lane sync: then there is nothing to do. */
int lane_new(struct runctx *rc, const struct lane_opts *o, struct lane **out);
/* lane_prepare: batches left by earlier runs, then the first assignment
 * pass; says which lane each provider's jobs take. 0 or a QUEUE_* code. */
int lane_prepare(struct lane *l);
/* lane_start: the thread that tends the batches until none is left, or
 * the run stops (rc->stopping). It sets rc->lane_busy while it has work. */
int lane_start(struct lane *l);
/* lane_join: wait for the thread; its QUEUE_* code (0: fine). */
int lane_join(struct lane *l);
/* lane_corrupt: when the lane stopped on a damaged database, what it was
 * doing and SQLite's message (borrowed; unsaid: the run says it with how
 * to recover); else NULL. l may be NULL. */
const char *lane_corrupt(const struct lane *l);
/* lane_held: jobs inside live provider batches now. */
long long lane_held(struct lane *l);
void lane_free(struct lane **l);

#endif
