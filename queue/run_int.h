/* run_int.h — what the rooms of a run (run.c, claim.c, complete.c,
 * ledger.c, stats.c) share and nobody else sees: struct qrun and its
 * prepared statements. */
#ifndef NIGHTSHIFT_RUN_INT_H
#define NIGHTSHIFT_RUN_INT_H

#include <stdatomic.h>

#include "queue/queue_int.h"
#include "queue/run.h"
#include "queue/sampler.h"

/* The statements a run prepares once (their SQL is in run.c). */
enum qrun_stmt {
	QRUN_S_CLAIM,
	QRUN_S_LEASE,
	QRUN_S_RENEW,
	QRUN_S_ATTEMPT,
	QRUN_S_RETRY,
	QRUN_S_FINISH,
	QRUN_S_FINISH_LAPSED,
	QRUN_S_RESULT,
	QRUN_S_RESULT_OWN,
	QRUN_S_RELEASE,
	QRUN_S_RELEASE_ALL,
	QRUN_S_RESULT_BODY,
	QRUN_S_SPEND,
	QRUN_S_INFLIGHT,
	QRUN_S_INFLIGHT_CLEAR,
	QRUN_S_COUNT
};

/* The columns a claimed job is read from, in claim_read_row's order. */
#define CLAIM_COLS                                                             \
	"id, custom_id, request, attempts, candidate, cand_attempts, "        \
	"est_input_tokens, max_output_tokens, max_cost_usd, providers, "      \
	"cand_exhausted, spent_usd, cand_invalid, lane"

/* claim_read_row: the current row of st (CLAIM_COLS) into j (claim.c).
 * QUEUE_EINVAL when its frame names a dictionary the file lacks (q's
 * message set). */
struct claim_job;
int claim_read_row(struct queue *q, sqlite3_stmt *st, struct claim_job *j);

/* claim_read_rows: up to limit rows of st (CLAIM_COLS) into out, *n of
 * them; the last sqlite3_step's code (SQLITE_DONE: all read; SQLITE_ROW:
 * limit reached; any other for the caller to qfail, SQLITE_CORRUPT for a
 * damaged file among them), or CLAIM_EFRAME for a frame naming a
 * dictionary the file lacks (q's message set; out[0..*n) filled). */
#define CLAIM_EFRAME (-1) /* no SQLite code is negative */
int claim_read_rows(struct queue *q, sqlite3_stmt *st, int limit,
		    struct claim_job *out, int *n);

/* claim_scan_sql: a claim_scan (claim.h) over sql, which selects
 * CLAIM_COLS and may take one parameter, ?1 = arg. */
struct claim_scan;
int claim_scan_sql(struct queue *q, const char *sql, int64_t arg,
		   struct claim_scan **out);

/* The parameter a finish takes its to-state from (done or dead). */
#define QRUN_FINISH_TO 2

struct qrun {
	struct queue *q;
	char *owner;
	sqlite3_stmt *st[QRUN_S_COUNT];
	struct blob_codec *codec;
	struct sampler sample; /* results, while there is no dictionary */
	/* the result dictionary once there is one, for other threads */
	_Atomic(const struct blob_dict *) rdict;
	int in_txn;
};

/* qrun_step: run statement i of r to its end, then reset it and clear its
 * bindings; QUEUE_* code, with r's queue's message for what. Written out
 * rather than as qstep and a clear: the result translated after the
 * clear, not before it across the call, is 14 instructions a job less in
 * the run loop (callgrind). */
static inline int qrun_step(struct qrun *r, enum qrun_stmt i,
			    const char *what)
{
	int rc = sqlite3_step(r->st[i]);

	sqlite3_reset(r->st[i]);
	sqlite3_clear_bindings(r->st[i]);
	return rc == SQLITE_DONE ? QUEUE_OK : qfail(r->q, rc, what);
}

#endif
