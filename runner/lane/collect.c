/* collect.c — watching live batches and taking in what they produced:
 * a batch that has ended has its result files read into the queue
 * (results.c); what it holds after its last line was never run and goes
 * back to the queue. Before a deadline, a batch is cancelled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/claim.h"
#include "queue/run.h"
#include "runner/lane/lane_int.h"
#include "runner/lane/results.h"
#include "runner/runctx.h"
#include "runner/sched/budget.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* collect: b has ended as info says: its lines, then what it left. */
static int collect(struct lane *l, struct lbatch *b,
		   const struct batch_info *info)
{
	struct results *c = results_new(l, b);
	int openai = lane_api(l, b->prov) == BATCH_API_OPENAI, rc = 0;
	long long left = 0;
	int64_t back = b->q.cancel_at ? 0 : CLAIM_LANE_WAIT;

	/* when we saw it end: the provider's stamps are whole seconds, and
	 * the turnaround learned is what a run waits */
	b->q.ended_at = clk_wall_ms();
	if (openai) {
		if (info->output_file_id)
			rc = results_read(c, info->output_file_id);
		if (rc == 0 && info->error_file_id)
			rc = results_read(c, info->error_file_id);
	} else {
		rc = results_read(c, info->results_url &&
					     bclient_same_origin(
						     l->client[b->prov],
						     info->results_url)
					     ? info->results_url
					     : b->q.remote_id);
	}
	if (rc == BC_RETRY || rc == BC_REFUSED) {
		/* the results stay where they are: try again later */
		b->tries++;
		b->next_ms = clk_wall_ms() + ((int64_t)1000 << (b->tries < 6
								    ? b->tries
								    : 6));
		lane_say("%s: cannot download batch %s's results yet: %s",
			 l->rc->cfg->provs[b->prov].name, b->q.remote_id,
			 bclient_err(l->client[b->prov]));
		rc = 0;
		goto out;
	}
	if (rc)
		goto out;
	if (info->status == BATCH_ST_FAILED) {
		/* refused as a whole (validation, the enqueued-token quota):
		 * nothing ran, nothing is billed; the sync lane takes them */
		lane_say("%s refused batch %s%s%s; its jobs go to the sync "
			 "lane this run",
			 l->rc->cfg->provs[b->prov].name, b->q.remote_id,
			 info->error ? ": " : "", info->error ? info->error : "");
		l->batch[b->prov] = ADMIT_LANE_NONE;
		back = 0;
	}
	/* A job without any line in a batch that ran to its end (no
	 * expiry, no cancel) was lost by the provider: the sync lane takes
	 * it, rather than a next batch that might lose it again, and again. */
	if (info->status == BATCH_ST_COMPLETED ||
	    (info->status == BATCH_ST_ENDED && !info->expired &&
	     !info->cancelled))
		back = 0;
	b->q.state = QBATCH_COLLECTED;
	b->q.collected_at = clk_wall_ms();
	if ((rc = qrun_begin(l->qr)) ||
	    (rc = qbatch_release(l->qr, b->q.id, 0, back,
				 "its batch ended without running it",
				 &left)) ||
	    (rc = qbatch_save(l->qr, &b->q)) || (rc = qrun_commit(l->qr))) {
		qrun_rollback(l->qr);
		rc = lane_fail(l, rc, "recording a batch");
		goto out;
	}
	if (left && back)
		l->lane_wait = 1;
	budget_release(&l->rc->budget, &b->held_nusd);
out:
	results_free(&c);
	return rc;
}

/* seen: what the provider says of b now, kept; 1 when it moved. */
static int seen(struct lbatch *b, const struct batch_info *info)
{
	const char *st = lane_status_name(info->status);
	int moved = !b->q.status || strcmp(b->q.status, st) != 0 ||
		    b->q.done != info->done_ok || b->q.failed != info->errored;

	free(b->q.status);
	b->q.status = xstrdup(st);
	b->q.done = info->done_ok;
	b->q.failed = info->errored;
	return moved;
}

int lane_poll(struct lane *l, struct lbatch *b, int *changed)
{
	struct bclient *cl = l->client[b->prov];
	struct batch_info info = {0};
	int rc;

	*changed = 0;
	if (!cl || b->q.state != QBATCH_LIVE)
		return 0;
	if ((rc = bclient_get(cl, b->q.remote_id, &info))) {
		b->tries++;
		b->next_ms = clk_wall_ms() + b->every_ms;
		return 0; /* asked again at the next poll */
	}
	b->tries = 0;
	*changed = seen(b, &info);
	if (info.ended)
		rc = collect(l, b, &info);
	else if (*changed) {
		rc = qrun_begin(l->qr);
		if (rc || (rc = qbatch_save(l->qr, &b->q)) ||
		    (rc = qrun_commit(l->qr))) {
			qrun_rollback(l->qr);
			rc = lane_fail(l, rc, "recording a batch");
		}
	}
	/* from 1 s, growing to 60 s, back to 1 s when it moves */
	b->every_ms = *changed ? 1000 : b->every_ms * 3 / 2;
	if (b->every_ms > 60000)
		b->every_ms = 60000;
	if (b->every_ms < 1000)
		b->every_ms = 1000;
	b->next_ms = clk_wall_ms() + b->every_ms;
	batch_info_clear(&info);
	return rc;
}

int lane_cancel(struct lane *l, struct lbatch *b, const char *why)
{
	struct bclient *cl = l->client[b->prov];
	struct batch_info info = {0};
	int rc;

	if (!cl || b->q.state != QBATCH_LIVE || b->q.cancel_at)
		return 0;
	if ((rc = bclient_cancel(cl, b->q.remote_id, &info))) {
		lane_say("%s: cannot cancel batch %s yet: %s",
			 l->rc->cfg->provs[b->prov].name, b->q.remote_id,
			 bclient_err(cl));
		return 0;
	}
	b->q.cancel_at = clk_wall_ms();
	seen(b, &info);
	batch_info_clear(&info);
	b->every_ms = 1000;
	b->next_ms = clk_wall_ms() + b->every_ms;
	lane_say("%s: batch %s %s; cancelled: what it finished is kept, the "
		 "sync lane sends the rest",
		 l->rc->cfg->provs[b->prov].name, b->q.remote_id, why);
	rc = qrun_begin(l->qr);
	if (rc || (rc = qbatch_save(l->qr, &b->q)) ||
	    (rc = qrun_commit(l->qr))) {
		qrun_rollback(l->qr);
		return lane_fail(l, rc, "recording a batch");
	}
	return 0;
}
