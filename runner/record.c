/* record.c — a returned task's ledger rows and fate (see record.h). */
#include "runner/record.h"

#include <stdatomic.h>
#include <stdio.h>

#include "queue/claim.h"
#include "queue/complete.h"
#include "queue/ledger.h"
#include "queue/run.h"
#include "runner/runctx.h"
#include "runner/task.h"

/* last_error: what the job's row keeps of a failed request. */
static void last_error(const struct task *t, char *out, size_t cap)
{
	const char *msg = t->out.error_message ? t->out.error_message : "";

	if (t->out.http_status)
		snprintf(out, cap, "%s (HTTP %d): %s",
			 outcome_class_name(t->out.cls), t->out.http_status,
			 msg);
	else
		snprintf(out, cap, "%s: %s", outcome_class_name(t->out.cls),
			 msg);
}

/* spend_add: the run's spend grows by usd; the store and the batch lane
 * both add, so a compare-and-swap (no libatomic for a double's +=). */
static void spend_add(struct runctx *rc, double usd)
{
	double old = atomic_load(&rc->spend_usd);

	while (!atomic_compare_exchange_weak(&rc->spend_usd, &old, old + usd))
		;
}

/* ledger_row: the ledger row of a request task t sent, before its reply
 * (status, usage, cost) is filled in. */
static struct ledger_attempt ledger_row(const struct runctx *rc,
				      const struct task *t, const char *cls,
				      const char *action)
{
	const struct prov *p = &rc->cfg->provs[t->prov];

	return (struct ledger_attempt){.job_id = t->job.id,
				     .provider = p->name,
				     .model = p->models[t->model].name,
				     .sent_at_ms = t->sent_at_ms,
				     .error_class = cls,
				     .latency_ms = t->latency_ms,
				     .action = action,
				     .lane = prov_lane_name((enum prov_lane)t->lane)};
}

/* rows: the ledger rows of every send of t's request: libcurl's re-sends
 * after a connection died before the reply (no reply: class connection,
 * untimed), then a (the last send, timed and answered if it was). */
static int rows(struct qrun *qr, struct runctx *rc, const struct task *t,
		const struct ledger_attempt *a)
{
	struct ledger_attempt again = ledger_row(rc, t, "connection", "retry");
	int code;

	again.latency_ms = 0; /* only the last send is timed */
	for (int i = 0; i < t->resent; i++) {
		if ((code = ledger_add(qr, &again)))
			return code;
		atomic_fetch_add(&rc->n_requests, 1);
	}
	if ((code = ledger_add(qr, a)))
		return code;
	atomic_fetch_add(&rc->n_requests, 1);
	return 0;
}

/* requeue: f sends the job back to the queue on its candidate, counting
 * `sent` more requests to it. */
static void requeue(struct complete_fate *f, const struct task *t, int sent)
{
	f->verb = COMPLETE_RETRY;
	f->candidate = t->job.candidate;
	f->cand_attempts = t->job.cand_attempts + sent;
	f->cand_invalid = t->job.cand_invalid +
			  (sent && t->out.cls == OUTCOME_INVALID_OUTPUT);
	f->cand_exhausted = t->job.cand_exhausted;
}

/* unsent: a task whose request never went out. */
static int unsent(struct qrun *qr, struct runctx *rc, const struct task *t,
		  struct complete_fate *f)
{
	switch (t->kind) {
	case TASK_PARK:
		requeue(f, t, 0);
		f->not_before_ms = CLAIM_PARKED;
		f->last_error = t->detail;
		atomic_fetch_add(&rc->n_parked, 1);
		break;
	case TASK_UNROUTABLE:
	case TASK_CORRUPT:
		f->verb = COMPLETE_DEAD;
		f->error_code = t->kind == TASK_CORRUPT ? "corrupt_body"
							: "unroutable";
		f->error_message = t->detail;
		f->last_error = t->detail;
		atomic_fetch_add(&rc->n_dead, 1);
		break;
	default: /* TASK_RELEASE */
		f->verb = COMPLETE_RELEASE;
		break;
	}
	return complete_job(qr, f);
}

/* aborted: sent, then given up as the run stopped. The provider may have
 * read it and may bill it: a request like any other in the ledger, at
 * its worst case as an estimate (no reply, so no usage), as a request
 * lost in a crash is; the job goes back counting it. */
static int aborted(struct qrun *qr, struct runctx *rc, const struct task *t,
		   struct complete_fate *f)
{
	struct ledger_attempt a = ledger_row(rc, t, "aborted", "retry");
	int code;

	a.cost_usd = t->adm.worst_usd > 0 ? t->adm.worst_usd : 0;
	a.cost_basis = cost_basis_name(COST_ESTIMATED);
	if ((code = rows(qr, rc, t, &a)))
		return code;
	spend_add(rc, a.cost_usd);
	f->add_usd = a.cost_usd;
	requeue(f, t, 1);
	f->attempts_add = 1 + t->resent;
	f->last_error = "given up unanswered when the run stopped";
	return complete_job(qr, f);
}

/* unrun: a batch line the provider did not run: nothing billed, nothing
 * tried, but the ledger shows where the job went and why it came back. */
static int unrun(struct qrun *qr, struct runctx *rc, const struct task *t,
		 struct complete_fate *f)
{
	struct ledger_attempt a = ledger_row(rc, t, t->out.error_code,
					     "retry");
	int code;

	if ((code = ledger_add(qr, &a)))
		return code;
	requeue(f, t, 0);
	f->not_before_ms = t->act.at_ms;
	f->last_error = t->out.error_message;
	atomic_fetch_add(&rc->n_retries, 1);
	return complete_job(qr, f);
}

/* action_name: what the ledger says followed a request. */
static const char *action_name(const struct policy_action *act)
{
	if (act->verb == POLICY_DEAD && act->disable_provider)
		return "park";
	return policy_verb_name(act->verb);
}

/* answered: a request that came back (or failed in transport): its
 * ledger row and what the policy decided. */
static int answered(struct qrun *qr, struct runctx *rc, const struct task *t,
		    struct complete_fate *f)
{
	const struct outcome_usage *u = &t->out.usage;
	struct ledger_attempt a = ledger_row(
		rc, t, outcome_class_name(t->out.cls), action_name(&t->act));
	char last[400];
	int code;

	a.http_status = t->out.http_status;
	a.tok_in = u->in;
	a.tok_cached = u->in_cached;
	a.tok_cache_write = u->cache_write;
	a.tok_out = u->out;
	a.tok_reasoning = u->out_reasoning;
	a.cost_usd = t->cost_usd;
	a.cost_sync_usd = t->cost_sync_usd;
	a.cost_basis = cost_basis_name(t->cost_basis);
	if ((code = rows(qr, rc, t, &a)))
		return code;
	spend_add(rc, t->cost_usd);
	f->provider = a.provider;
	f->model = a.model;
	f->lane = a.lane;
	f->add_usd = a.cost_usd;
	f->attempts_add = 1 + t->resent;
	if (t->act.verb != POLICY_DONE) /* a done job has no last error */
		last_error(t, last, sizeof(last));
	switch (t->act.verb) {
	case POLICY_DONE:
		f->verb = COMPLETE_DONE;
		f->status_code = t->out.http_status;
		f->request_id = t->out.request_id;
		f->body = t->out.body;
		f->body_len = t->out.body_len;
		f->zbody = t->zbody;
		f->zbody_len = t->zbody_len;
		f->latency_ms = t->latency_ms;
		f->cost_ref_usd = t->cost_ref_usd;
		atomic_fetch_add(&rc->n_done, 1);
		break;
	case POLICY_DEAD:
		if (t->act.disable_provider) {
			/* The account, not the job, is at fault (bad key,
			 * no credit): the job waits for the next run. */
			requeue(f, t, 1);
			f->not_before_ms = CLAIM_PARKED;
			f->last_error = last;
			atomic_fetch_add(&rc->n_parked, 1);
			break;
		}
		f->verb = COMPLETE_DEAD;
		f->status_code = t->out.http_status;
		f->request_id = t->out.request_id;
		f->error_code = t->out.error_code
					? t->out.error_code
					: outcome_class_name(t->out.cls);
		f->error_message = last;
		f->last_error = last;
		f->latency_ms = t->latency_ms;
		atomic_fetch_add(&rc->n_dead, 1);
		break;
	case POLICY_RETRY:
		requeue(f, t, policy_counts(&t->out));
		f->not_before_ms = t->act.at_ms;
		f->last_error = last;
		atomic_fetch_add(&rc->n_retries, 1);
		break;
	case POLICY_FAILOVER:
		/* The next candidate is chosen when the job is claimed
		 * again, cheapest first among those not yet tried out. */
		f->verb = COMPLETE_RETRY;
		f->candidate = -1;
		f->cand_attempts = 0;
		f->cand_exhausted =
			t->job.cand_exhausted | (1u << t->job.candidate);
		f->not_before_ms = t->act.at_ms;
		f->last_error = last;
		atomic_fetch_add(&rc->n_retries, 1);
		break;
	}
	return complete_job(qr, f);
}

int record_task(struct qrun *qr, struct runctx *rc, const struct task *t)
{
	struct complete_fate f = {.job_id = t->job.id,
			      .claimed_attempts = t->job.attempts,
			      .claimed_usd = t->job.spent_usd};

	if (t->kind == TASK_SENT)
		return answered(qr, rc, t, &f);
	if (t->kind == TASK_ABORTED)
		return aborted(qr, rc, t, &f);
	if (t->kind == TASK_UNRUN)
		return unrun(qr, rc, t, &f);
	return unsent(qr, rc, t, &f);
}
