/* collect.c — watching live batches and taking in what they produced.
 *
 * A batch's output (and error) file is downloaded to a temporary file and
 * read a line at a time. Each line is joined to its job by custom_id
 * (the lines come in any order) and goes through the sync lane's reply
 * pipeline: the dialect reads it as if it had come over HTTP, the policy
 * decides, the ledger gets one row at the batch price. Lines are applied
 * in commits of CHUNK; a line whose job the batch no longer holds (a run
 * killed mid-collection applied it already) is passed over, so reading a
 * file twice never pays or stores twice. What the batch holds after its
 * last line was never run: it goes back to the queue. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/claim.h"
#include "queue/run.h"
#include "runner/endpoint.h"
#include "runner/json/jsonidx.h"
#include "runner/lane/lane_int.h"
#include "runner/providers/cost.h"
#include "runner/providers/dialect_json.h"
#include "runner/record.h"
#include "runner/reply.h"
#include "runner/runctx.h"
#include "runner/sched/budget.h"
#include "runner/sched/estimate.h"
#include "runner/task.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* Lines applied per commit. */
#define CHUNK 2048
/* Longest result line read (a reply of a long output is ~1 MB). */
#define LINE_MAX_BYTES (64u << 20)

/* The lines of a chunk, kept until their commit. */
struct chunk {
	struct lane *l;
	struct lbatch *b;
	struct buf text;	/* the lines, back to back */
	size_t off[CHUNK], len[CHUNK];
	int64_t ids[CHUNK];
	int n;
	long long applied, skipped;
	struct jsonidx x, bx;
	uint64_t rnd;
};

static uint64_t next_rnd(struct chunk *c)
{
	/* xorshift64*: the backoff's jitter needs no better */
	c->rnd ^= c->rnd >> 12;
	c->rnd ^= c->rnd << 25;
	c->rnd ^= c->rnd >> 27;
	return c->rnd * 0x2545F4914F6CDD1DULL;
}

/* flags: what the reply reader must check of job j's reply: only a job
 * that asks for JSON output has any, so only then is its request built
 * again to learn them. */
static unsigned flags(struct lane *l, struct lbatch *b,
		      const struct claim_job *j)
{
	struct route_cand c = {.prov = b->prov, .model = b->model};
	const char *why;
	unsigned f = 0;
	char *req;

	if (!memmem(j->body, j->body_len, "response_format", 15))
		return 0;
	req = endpoint_request(l->ep, c, j, NULL, 0, &f, &why);
	free(req);
	return f;
}

/* task_of: the task for job j (taken over) of batch b, routed, its
 * candidate the batch's. */
static struct task *task_of(struct chunk *c, struct claim_job *j)
{
	struct lane *l = c->l;
	struct lbatch *b = c->b;
	const struct prov *p = &l->rc->cfg->provs[b->prov];
	const struct prov_model *m = &p->models[b->model];
	struct task *t = task_new(j);
	char *detail = NULL;
	size_t end;
	int k = -1;

	t->lane = LANE_BATCH;
	t->kind = TASK_SENT;
	t->prov = b->prov;
	t->model = b->model;
	t->sent_at_ms = b->q.submitted_at ? b->q.submitted_at
					  : b->q.created_at;
	t->latency_ms = (b->q.ended_at ? b->q.ended_at : clk_wall_ms()) -
			t->sent_at_ms;
	if (claim_job_decode(&t->job, l->codec) != 0) {
		t->kind = TASK_CORRUPT; /* dead, as the sync lane has it */
		t->detail = xstrdup("its stored body cannot be decoded");
		return t;
	}
	if (admit_route(&l->rc->admit, &t->job, &t->adm, &c->bx, &end,
			&detail))
		t->schema = reply_schema_of(t->job.body, t->job.body_len,
					    &c->bx);
	free(detail);
	for (int i = 0; i < t->adm.ncands; i++)
		if (t->adm.cands[i].prov == b->prov &&
		    t->adm.cands[i].model == b->model)
			k = i;
	if (k < 0 && t->adm.ncands >= 0 && t->adm.ncands < ADMIT_MAX_CANDS) {
		/* the config changed since: the batch's model all the same */
		k = t->adm.ncands++;
		t->adm.cands[k] = (struct route_cand){b->prov, b->model};
	}
	if (k != t->job.candidate) {
		t->job.candidate = k;
		t->job.cand_attempts = 0;
		t->job.cand_invalid = 0;
	}
	t->adm.est_in = t->job.est_input_tokens;
	/* the config may have taken the model off the lane since */
	if (!prov_has_lane(p, m, LANE_BATCH))
		t->lane = LANE_SYNC;
	t->adm.worst_usd = cost_estimate_lane(
		p, m, (enum prov_lane)t->lane, t->job.est_input_tokens,
		est_worst_output(m, t->job.max_output_tokens),
		t->sent_at_ms / 1000);
	return t;
}

/* settle: what line ln says of task t. */
static void settle(struct chunk *c, struct task *t,
		   const struct batch_line *ln)
{
	struct lane *l = c->l;
	int64_t now = clk_wall_ms();
	/* after a cancel for the deadline the sync lane finishes the rest;
	 * otherwise the batch lane takes it again */
	int64_t back = c->b->q.cancel_at ? 0 : CLAIM_LANE_WAIT;

	if (ln->kind == BATCH_LINE_EXPIRED ||
	    ln->kind == BATCH_LINE_CANCELLED) {
		int exp = ln->kind == BATCH_LINE_EXPIRED;

		t->kind = TASK_UNRUN;
		outcome_set_error(&t->out, OUTCOME_SERVER_ERROR,
				  exp ? "expired" : "cancelled",
				  exp ? "the batch's window closed before it "
					"ran"
				      : "its batch was cancelled before it "
					"ran");
		t->act.verb = POLICY_RETRY;
		t->act.at_ms = back;
		if (back)
			l->lane_wait = 1;
		return;
	}
	if (ln->kind == BATCH_LINE_REPLY) {
		reply_read(&l->reply, t, ln->status, "", 0, ln->body,
			   ln->body_len, t->job.body ? flags(l, c->b, &t->job)
						     : 0,
			   now);
		if (!t->out.request_id && ln->request_id[0])
			t->out.request_id = xstrdup(ln->request_id);
	} else {
		outcome_set_error(&t->out,
				  strcmp(ln->code, "request_timeout") == 0
					  ? OUTCOME_TIMEOUT
					  : OUTCOME_SERVER_ERROR,
				  ln->code[0] ? ln->code : NULL,
				  ln->message[0] ? ln->message : NULL);
	}
	reply_settle(&l->reply, t, l->codec, now, next_rnd(c));
	if (t->act.verb == POLICY_RETRY || t->act.verb == POLICY_FAILOVER) {
		t->act.at_ms = back;
		if (back)
			l->lane_wait = 1;
	}
}

/* apply: the chunk's lines, in one commit. */
static int apply(struct chunk *c)
{
	struct lane *l = c->l;
	struct claim_job jobs[CHUNK];
	unsigned char found[CHUNK];
	int rc;

	if (!c->n)
		return 0;
	if ((rc = qrun_begin(l->qr)) ||
	    (rc = qbatch_jobs(l->qr, c->b->q.id, c->ids, c->n, jobs, found)))
		goto fail;
	for (int i = 0; i < c->n; i++) {
		struct batch_line ln;
		const char *why;
		struct task *t;

		if (!found[i]) {
			c->skipped++;
			continue;
		}
		t = task_of(c, &jobs[i]);
		if (t->kind != TASK_CORRUPT &&
		    batch_line_parse(lane_api(l, c->b->prov), &c->x,
				     c->text.p + c->off[i], c->len[i], &ln,
				     &why) == 0)
			settle(c, t, &ln);
		rc = record_task(l->qr, l->rc, t);
		task_free(t);
		for (int k = i + 1; rc && k < c->n; k++)
			if (found[k])
				claim_job_clear(&jobs[k]);
		if (rc)
			goto fail;
		c->applied++;
	}
	if ((rc = qrun_commit(l->qr)))
		goto fail;
	lane_kill_point("collect");
	c->n = 0;
	buf_reset(&c->text, 16u << 20);
	return 0;
fail:
	qrun_rollback(l->qr);
	return lane_fail(l, rc, "recording a batch's results");
}

/* add: one line of a results file; those not of this batch are passed
 * over. */
static int add(struct chunk *c, const char *line, size_t len)
{
	struct batch_line ln;
	const char *why;
	int64_t batch, job;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!len)
		return 0;
	if (batch_line_parse(lane_api(c->l, c->b->prov), &c->x, line, len,
			     &ln, &why) != 0 ||
	    batch_custom_id_parse(ln.custom_id, ln.custom_id_len, c->b->q.tag,
				  &batch, &job) != 0 ||
	    batch != c->b->q.id) {
		c->skipped++;
		return 0;
	}
	c->off[c->n] = c->text.len;
	c->len[c->n] = len;
	c->ids[c->n] = job;
	if (buf_add(&c->text, line, len) != 0)
		return apply(c) || add(c, line, len);
	if (++c->n == CHUNK)
		return apply(c);
	return 0;
}

/* read_file: download file_id (or the batch's results) and add its
 * lines. */
static int read_file(struct chunk *c, const char *file_id)
{
	struct bclient *cl = c->l->client[c->b->prov];
	FILE *f = tmpfile();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc;

	if (!f) {
		lane_say("cannot make a temporary file for batch results");
		return BC_RETRY;
	}
	if ((rc = bclient_download(cl, file_id, f))) {
		fclose(f);
		return rc;
	}
	rewind(f);
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0)
		if ((size_t)n <= LINE_MAX_BYTES)
			rc = add(c, line, (size_t)n);
	free(line);
	fclose(f);
	return rc ? rc : apply(c);
}

/* collect: b has ended as info says: its lines, then what it left. */
static int collect(struct lane *l, struct lbatch *b,
		   const struct batch_info *info)
{
	struct chunk *c = xcalloc(1, sizeof(*c));
	int openai = lane_api(l, b->prov) == BATCH_API_OPENAI, rc = 0;
	long long left = 0;
	int64_t back = b->q.cancel_at ? 0 : CLAIM_LANE_WAIT;

	c->l = l;
	c->b = b;
	buf_init(&c->text, (size_t)1 << 34);
	c->rnd = (uint64_t)clk_wall_ms() * 0x9E3779B97F4A7C15ULL | 1;
	/* when we saw it end: the provider's stamps are whole seconds, and
	 * the turnaround learned is what a run waits */
	b->q.ended_at = clk_wall_ms();
	if (openai) {
		if (info->output_file_id)
			rc = read_file(c, info->output_file_id);
		if (rc == 0 && info->error_file_id)
			rc = read_file(c, info->error_file_id);
	} else {
		rc = read_file(c, info->results_url &&
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
	jsonidx_free(&c->x);
	jsonidx_free(&c->bx);
	buf_free(&c->text);
	free(c);
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
