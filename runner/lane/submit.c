/* submit.c — putting jobs into provider batches: which jobs go (the
 * cheapest (candidate, lane) of each), the intent that holds them and
 * their input file; send.c then uploads it and creates the batch.
 *
 * Memory stays flat: queued jobs are read a page at a time, a batch's
 * jobs are kept as ids until it is full, and its input file is written
 * a job at a time by the pass that decides the job, from the body it
 * has decoded and indexed already (each job is read, decoded and parsed
 * once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/claim.h"
#include "queue/run.h"
#include "runner/endpoint.h"
#include "runner/json/jsonidx.h"
#include "runner/lane/lane_int.h"
#include "runner/lane/send.h"
#include "runner/providers/cost.h"
#include "runner/runctx.h"
#include "runner/sched/budget.h"
#include "runner/sched/estimate.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/killpoint.h"
#include "util/xalloc.h"

/* Jobs read at a time. */
#define PAGE 2048

/* The jobs gathered for one (provider, model) batch: its intent (from
 * the first job on) and its input file. */
struct group {
	int prov, model;
	int64_t *ids;
	int n, cap;
	int64_t bytes;
	long long held_nusd;
	struct qbatch qb; /* qb.id 0: no intent yet */
	struct infile in;
};

struct pass {
	struct lane *l;
	struct group *g;
	size_t ng;
	int64_t *sync_ids; /* lane-wait jobs the sync lane gets */
	int nsync, capsync;
	long long *jobs;   /* per provider: jobs put in batches */
	double *cost, *sync_cost; /* per provider: their estimates */
	int over_budget;
	int no_file; /* no input file can be made: the rest stay */
	struct sending send; /* the last batch's upload */
};

static struct group *group_of(struct pass *ps, int prov, int model)
{
	for (size_t i = 0; i < ps->ng; i++)
		if (ps->g[i].prov == prov && ps->g[i].model == model)
			return &ps->g[i];
	ps->g = xrealloc(ps->g, (ps->ng + 1) * sizeof(*ps->g));
	memset(&ps->g[ps->ng], 0, sizeof(ps->g[0]));
	ps->g[ps->ng].prov = prov;
	ps->g[ps->ng].model = model;
	return &ps->g[ps->ng++];
}

/* start: g's next batch: its intent, committed on its own (its row id
 * is in every custom_id), and its input file. A run killed before the
 * jobs are moved into it leaves an intent that holds none: the next run
 * drops it. 0, 1 when no file can be made, or a QUEUE_* code. */
static int start(struct pass *ps, struct group *g)
{
	struct lane *l = ps->l;
	const struct prov *p = &l->rc->cfg->provs[g->prov];
	int rc;

	if (infile_open(&g->in, lane_api(l, g->prov) == BATCH_API_ANTHROPIC)) {
		ps->no_file = 1;
		return 1;
	}
	if ((rc = qrun_begin(l->qr)) ||
	    (rc = qbatch_intent(l->qr, p->name, p->models[g->model].name,
				l->tag, l->o.run, clk_wall_ms(), &g->qb)) ||
	    (rc = qrun_commit(l->qr))) {
		qrun_rollback(l->qr);
		qbatch_clear(&g->qb);
		infile_discard(&g->in);
		return lane_fail(l, rc, "recording a batch");
	}
	return 0;
}

/* flush: g's jobs become a batch: their move into its intent in one
 * commit, then its submission with the file the pass wrote. */
static int flush(struct pass *ps, struct group *g)
{
	struct lane *l = ps->l;
	struct qbatch qb = g->qb;
	struct lbatch *b;
	int nheld = 0, rc, code;

	if (!g->n)
		return 0;
	memset(&g->qb, 0, sizeof(g->qb));
	qb.bytes = g->bytes;
	qb.reserved_usd = (double)g->held_nusd / 1e9;
	if ((rc = qrun_begin(l->qr)) ||
	    (rc = qbatch_hold(l->qr, qb.id, g->ids, g->n, NULL, &nheld)) ||
	    ((qb.requests = nheld), (rc = qbatch_save(l->qr, &qb))) ||
	    (rc = qrun_commit(l->qr))) {
		qrun_rollback(l->qr);
		qbatch_clear(&qb);
		infile_discard(&g->in);
		return lane_fail(l, rc, "recording a batch");
	}
	b = lane_batch_add(l, &qb);
	b->prov = g->prov;
	b->model = g->model;
	b->held_nusd = g->held_nusd;
	b->mine = 1;
	rc = nheld < g->n || infile_close(&g->in) != 0;
	g->n = 0;
	g->bytes = 0;
	g->held_nusd = 0;
	/* the batch before has gone out meanwhile */
	if ((code = lane_send_finish(l, &ps->send, 0))) {
		infile_discard(&g->in);
		return code;
	}
	if (!nheld) {
		infile_discard(&g->in);
		return lane_drop(l, b, 0, NULL);
	}
	kill_point("intent");
	/* A job another run took meanwhile is not the batch's: its file
	 * is written again from what the batch holds. */
	if (rc) {
		infile_discard(&g->in);
		return lane_advance(l, b);
	}
	return lane_send_start(l, b, &g->in, &ps->send);
}

/* take: job j (decoded, routed in s, its body indexed in x when x is not
 * NULL, ending at end) goes to the batch lane of candidate c if that is
 * where it is cheapest, its request written into the group's file; 1
 * when it went, -1 when the lane failed. A job the dialect cannot send
 * stays for the sync lane, which says why. */
static int take(struct pass *ps, const struct claim_job *j,
		const struct admit_state *s, const struct jsonidx *x,
		size_t end)
{
	struct lane *l = ps->l;
	const struct admit *a = &l->rc->admit;
	int want = j->lane ? j->lane : l->o.run_lane, lane, i, rc;
	double cost, dearest, sync_cost, worst;
	enum route_none why;
	struct route_cand c;
	const struct prov *p;
	const struct prov_model *m;
	struct group *g;
	long long held = 0;
	int64_t now = clk_wall_ms();
	const char *bad;
	unsigned flags;
	char cid[80], *body;

	if (want == 1 || ps->over_budget || ps->no_file)
		return 0;
	i = admit_lane(a, j, s, want, l->batch, now, &lane, &cost, &dearest,
		       &sync_cost, &why);
	if (i < 0 || !lane)
		return 0;
	c = s->cands[i];
	p = &l->rc->cfg->provs[c.prov];
	m = &p->models[c.model];
	body = endpoint_request(l->ep, c, j, x, end, &flags, &bad);
	if (!body)
		return 0;
	worst = cost_estimate_lane(
		p, m, LANE_BATCH, j->est_input_tokens,
		est_worst_output(m, j->max_output_tokens), now / 1000);
	if (budget_reserve(a->budget, worst, &held) != 0) {
		ps->over_budget = 1;
		free(body);
		return 0;
	}
	g = group_of(ps, c.prov, c.model);
	if (!g->qb.id && (rc = start(ps, g)) != 0) {
		budget_release(a->budget, &held);
		free(body);
		return rc < 0 ? -1 : 0;
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 1024;
		g->ids = xrealloc(g->ids, (size_t)g->cap * sizeof(*g->ids));
	}
	g->ids[g->n++] = j->id;
	batch_custom_id(cid, sizeof(cid), g->qb.tag, g->qb.id, j->id);
	infile_add(&g->in, cid, body, strlen(body));
	free(body);
	g->bytes = g->in.bytes;
	g->held_nusd += held;
	ps->jobs[c.prov]++;
	ps->cost[c.prov] += cost;
	ps->sync_cost[c.prov] += sync_cost;
	/* a file within the provider's limits: by count, and by bytes with
	 * room for the file's framing */
	if (g->n >= p->batch.max_requests ||
	    g->bytes >= p->batch.max_bytes - p->batch.max_bytes / 10)
		return flush(ps, g) == 0 ? 1 : -1;
	return 1;
}

/* page: decide a page of jobs. */
static int page(struct pass *ps, struct claim_job *jobs, int n,
		int lane_wait, struct jsonidx *x)
{
	struct lane *l = ps->l;
	int rc = 0;

	for (int k = 0; k < n; k++) {
		struct claim_job *j = &jobs[k];
		struct admit_state s;
		char *detail = NULL;
		size_t end = 0;
		int took = 0, indexed;

		admit_state_init(&s);
		if (rc == 0 && claim_job_decode(j, l->codec) == 0) {
			indexed = admit_route(&l->rc->admit, j, &s, x, &end,
					      &detail);
			free(detail);
			if (s.ncands > 0 &&
			    (took = take(ps, j, &s, indexed ? x : NULL,
					 end)) < 0)
				rc = -1;
		}
		if (!took && lane_wait) {
			if (ps->nsync == ps->capsync) {
				ps->capsync = ps->capsync ? 2 * ps->capsync
							  : 256;
				ps->sync_ids = xrealloc(
					ps->sync_ids,
					(size_t)ps->capsync *
						sizeof(*ps->sync_ids));
			}
			ps->sync_ids[ps->nsync++] = j->id;
		}
		claim_job_clear(j);
	}
	return rc;
}

/* tell: what the pass did, per provider, so no one waits unawares; and
 * why a lane the deadline rules out takes nothing. */
static void tell(const struct pass *ps, int first)
{
	const struct lane *l = ps->l;

	for (size_t i = 0; i < l->rc->cfg->nprovs; i++) {
		const struct prov *p = &l->rc->cfg->provs[i];
		double mins = (double)l->turnaround_ms[i] / 60000.0;
		char when[64];

		if (first && l->batch[i] == ADMIT_LANE_FORCED &&
		    l->o.run_lane == 0)
			lane_say("%s's batch lane usually takes %.0f min%s, "
				 "more than the deadline leaves: its jobs go "
				 "sync (--lane batch to wait for it all the "
				 "same)",
				 p->name, mins < 1 ? 1 : mins,
				 l->turnaround_known[i] ? "" : " (its window)");
		if (!ps->jobs[i])
			continue;
		if (mins < 90)
			snprintf(when, sizeof(when), "%.0f min",
				 mins < 1 ? 1 : mins);
		else
			snprintf(when, sizeof(when), "%.0f h", mins / 60);
		lane_say("sending %lld jobs through %s's batch lane: est. $%.4f "
			 "instead of $%.4f, usually within %s%s; %s",
			 ps->jobs[i], p->name, ps->cost[i], ps->sync_cost[i],
			 when,
			 l->turnaround_known[i] ? "" : " (its window; none "
						       "measured yet)",
			 l->o.submit_only
				 ? "a later `nightshift run` collects them"
				 : "--lane sync to have them now");
	}
}

int lane_assign(struct lane *l, int lane_wait)
{
	size_t np = l->rc->cfg->nprovs;
	struct pass ps = {.l = l};
	struct claim_job *jobs = xcalloc(PAGE, sizeof(*jobs));
	struct jsonidx x = {0};
	int64_t after = 0;
	int n, rc = 0;

	ps.jobs = xcalloc(np, sizeof(*ps.jobs));
	ps.cost = xcalloc(np, sizeof(*ps.cost));
	ps.sync_cost = xcalloc(np, sizeof(*ps.sync_cost));
	while (rc == 0 && !ps.over_budget &&
	       !atomic_load(&l->rc->stopping)) {
		/* --lane sync: only the jobs that chose the batch lane */
		if ((rc = qbatch_page(l->qr,
				      lane_wait ? QBATCH_LANE_WAIT
				      : l->o.run_lane == 1 ? QBATCH_CHOSE_BATCH
							   : QBATCH_QUEUED,
				      after, PAGE, jobs, &n))) {
			rc = lane_fail(l, rc, "choosing jobs for batches");
			break;
		}
		if (!n)
			break;
		after = jobs[n - 1].id;
		rc = page(&ps, jobs, n, lane_wait, &x);
	}
	for (size_t i = 0; i < ps.ng && rc == 0; i++)
		rc = flush(&ps, &ps.g[i]);
	n = lane_send_finish(l, &ps.send, rc != 0);
	if (rc == 0)
		rc = n;
	if (rc == 0 && lane_wait) {
		int code = qrun_begin(l->qr);

		if (code || (code = qbatch_unwait(l->qr, ps.sync_ids,
						  ps.nsync)) ||
		    (code = qrun_commit(l->qr))) {
			qrun_rollback(l->qr);
			rc = lane_fail(l, code, "queueing jobs");
		}
	}
	if (!lane_wait || ps.ng)
		tell(&ps, !lane_wait);
	l->lane_wait = 0;
	for (size_t i = 0; i < ps.ng; i++) {
		/* a pass the lane's failure cut short leaves intents that
		 * hold no job: the next run drops them */
		infile_discard(&ps.g[i].in);
		qbatch_clear(&ps.g[i].qb);
		free(ps.g[i].ids);
	}
	free(ps.g);
	free(ps.sync_ids);
	free(ps.jobs);
	free(ps.cost);
	free(ps.sync_cost);
	jsonidx_free(&x);
	free(jobs);
	return rc;
}
