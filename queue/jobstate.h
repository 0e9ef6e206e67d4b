/* jobstate.h — the job-state transition table: the one way queue/ changes
 * jobs.state, and a trace of every change.
 *
 * DESIGN: a job changes state only by one of the moves below. The table in
 * jobstate.c gives each its name, the states it may start from and those
 * it may lead to, and the UPDATE that makes a move is built from its row
 * by jobstate_prepare:
 *	UPDATE jobs SET state = <to>, <set> WHERE <where> AND <from>
 * The caller's <set> and <where> may not name the state column, so no SQL
 * of queue/ can express a transition that the table lacks. A move with
 * more than one to-state (finish: done or dead) takes it from a parameter
 * that jobstate_bind_to checks against the table before binding it. Jobs
 * are born queued: ingest's INSERT leaves the column to its default.
 *
 * Tracing, as curl's multistate() does: with NIGHTSHIFT_TRACE=states in the
 * environment when a connection first builds or makes a move (a
 * comma-separated list of flags: "states" here, "commits" in queue.c),
 * every change of a job's state on
 * that connection is written to stderr, one line each,
 *	nightshift: trace: job 12 queued -> running (lease)
 * ("new -> queued (ingest)" for a job born), and a statement that would
 * change a state other than as the table allows fails, one written by hand
 * included. The trace is a TEMP trigger on jobs calling a function of
 * jobstate.c, and each move's statement names its move in its SET clause;
 * both exist only with the flag. Without it the statements are exactly the
 * ones the table builds, and the run loop pays nothing for the trace.
 *
 * Reads spell states as JOBSTATE_SQL(QUEUED) ("0"), never as a bound
 * parameter: a partial index (schema/: jobs_ready WHERE state = 0,
 * jobs_leased WHERE state = 1, jobs_dead WHERE state = 3) serves only a
 * query whose condition is written the same way.
 *
 * Internal to queue/. Not thread-safe (uses the connection). */
#ifndef NIGHTSHIFT_JOBSTATE_H
#define NIGHTSHIFT_JOBSTATE_H

#include "queue/queue.h"
#include "queue/queue_int.h"

struct queue;
struct jobstate_trace;

/* The states as the preprocessor can spell them into SQL: JOBSTATE_SQL(DEAD)
 * is "3". Tied to enum job_state by the asserts below. */
#define JOBSTATE_QUEUED 0
#define JOBSTATE_RUNNING 1
#define JOBSTATE_DONE 2
#define JOBSTATE_DEAD 3
#define JOBSTATE_SQL(s) QUEUE_STR(JOBSTATE_##s)
_Static_assert(JOBSTATE_QUEUED == JOB_QUEUED, "jobstate.h: queued");
_Static_assert(JOBSTATE_RUNNING == JOB_RUNNING, "jobstate.h: running");
_Static_assert(JOBSTATE_DONE == JOB_DONE, "jobstate.h: done");
_Static_assert(JOBSTATE_DEAD == JOB_DEAD, "jobstate.h: dead");
_Static_assert(JOB_NSTATES == 4, "jobstate.h: a state without a spelling");

/* The moves; their names (the trace's) follow. */
enum jobstate_move {
	JOBSTATE_INGEST,          /* "ingest": born queued (INSERT) */
	JOBSTATE_LEASE,           /* "lease": claimed, queued -> running */
	JOBSTATE_RETRY,           /* "retry": sent again later, running ->
				     queued, our lease */
	JOBSTATE_FINISH,          /* "finish": running -> done | dead, our
				     lease */
	JOBSTATE_FINISH_LAPSED,   /* "finish_lapsed": the same once our lease
				     lapsed, queued | running -> done | dead */
	JOBSTATE_RELEASE,         /* "release": never sent, running -> queued */
	JOBSTATE_RELEASE_ALL,     /* "release_all": a run's end, running ->
				     queued */
	JOBSTATE_RECOVER_OWNER,   /* "recover_owner": the lease's owner is
				     gone, running -> queued */
	JOBSTATE_RECOVER_EXPIRED, /* "recover_expired": the lease expired,
				     running -> queued */
	JOBSTATE_REQUEUE,         /* "requeue": `nightshift retry`, dead ->
				     queued */
	JOBSTATE_BATCH,           /* "batch": into a provider batch's intent,
				     queued -> running (queue/batch.h) */
	JOBSTATE_UNBATCH,         /* "unbatch": out of a batch that did not
				     run it, running -> queued */
	JOBSTATE_NMOVES
};

/* The table: a row per move, the sets of states (bit s: state s) it may
 * start from (0: a job not yet in the table) and lead to. */
struct jobstate_row {
	const char *name;
	unsigned from, to;
};
extern const struct jobstate_row jobstate_table[JOBSTATE_NMOVES];
/* jobstate_name: the move's name ("lease"; "?" out of range). */
const char *jobstate_name(enum jobstate_move m);
/* jobstate_allowed: whether move m may take a job from state from (-1: a
 * job not yet in the table) to state to. */
int jobstate_allowed(enum jobstate_move m, int from, int to);

/* Statements */
/* jobstate_prepare: prepare (persistent) the UPDATE that makes move m:
 * state set as the table says, then the caller's more assignments set and
 * conditions where (either NULL: none; borrowed). A move with one to-state
 * has it in the text and takes to_param 0; one with more takes it from
 * parameter ?to_param, bound with jobstate_bind_to. QUEUE_EINVAL, with q's
 * message, when set or where names the state column, to_param does not
 * fit the move, or m is not made by an UPDATE (ingest). */
int jobstate_prepare(struct queue *q, enum jobstate_move m, const char *set,
		     const char *where, int to_param, sqlite3_stmt **st);
/* jobstate_bind_to: bind to-state to as parameter param of st, a statement
 * of move m, if the table lets m lead to it; else QUEUE_EINVAL with q's
 * message (jobstate_refuse_to), and nothing bound. Inline: every finish
 * of the run loop goes through it. */
int jobstate_refuse_to(struct queue *q, enum jobstate_move m, int to);
static inline int jobstate_bind_to(struct queue *q, sqlite3_stmt *st,
				   int param, enum jobstate_move m, int to)
{
	if ((unsigned)m >= JOBSTATE_NMOVES || (unsigned)to >= JOB_NSTATES ||
	    !(jobstate_table[m].to & 1u << to))
		return jobstate_refuse_to(q, m, to);
	sqlite3_bind_int(st, param, to);
	return QUEUE_OK;
}

/* The trace */
/* jobstate_arm: the first time on q, read NIGHTSHIFT_TRACE and, with
 * "states" in it, give q's connection the trace (which the connection then
 * owns and frees on closing); then (re)create the trace's TEMP triggers if
 * q traces. jobstate_prepare arms before it builds a statement; ingest arms
 * before its first INSERT; a PRAGMA temp_store drops every TEMP trigger,
 * so whoever sets it arms again after. QUEUE_* code. */
int jobstate_arm(struct queue *q);

#ifdef NIGHTSHIFT_TEST
#include <stdio.h>
/* jobstate__trace_to: write q's trace lines to out (borrowed; NULL:
 * stderr). Does nothing when q has no trace. */
void jobstate__trace_to(struct queue *q, FILE *out);
#endif

#endif
