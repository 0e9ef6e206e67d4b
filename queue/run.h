/* run.h — a run's session on the queue: its lease owner, the statements it
 * prepares once, and its group commits. What a run does inside a session
 * is in claim.h (taking jobs under a lease), complete.h (what became of
 * them), ledger.h (requests and events) and stats.h (what is left).
 *
 * DESIGN: a run owns jobs through a lease (owner "host:pid:run", expiry).
 * A job leaves a lease only through complete_job: retry (back to queued
 * with a not-before time), done or dead (with its one result), or release
 * (unsent, back to queued untouched); every such change is a move of the
 * transition table (jobstate.h). Everything between qrun_begin and
 * qrun_commit is one transaction, so a crash loses at most the last batch,
 * whose jobs are still leased and come back when the lease is recovered:
 * work may be repeated, never lost, and a job never gets two results
 * (results.job_id is the primary key).
 *
 * Not thread-safe: a struct qrun belongs to the store thread (but see
 * complete_result_dict). */
#ifndef NIGHTSHIFT_QRUN_H
#define NIGHTSHIFT_QRUN_H

struct queue;
struct qrun;

/* Lifecycle */
/* qrun_open: a session on q for the run named owner (copied); *out new
 * (qrun_close). QUEUE_* code. */
int qrun_open(struct queue *q, const char *owner, struct qrun **out);
/* qrun_close: roll back what is not committed and free *r. */
void qrun_close(struct qrun **r);

/* Group commits: one transaction from qrun_begin (nothing if one is open)
 * to qrun_commit; a commit that fails rolls back. */
int qrun_begin(struct qrun *r);
int qrun_commit(struct qrun *r);
void qrun_rollback(struct qrun *r);

#endif
