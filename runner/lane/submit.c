/* submit.c — putting jobs into provider batches: which jobs go (the
 * cheapest (candidate, lane) of each), the intent that holds them,
 * their input file, its upload and the create call; and, for a batch a
 * killed run left at one of those steps, finding what it created.
 *
 * Memory stays flat: queued jobs are read a page at a time, a batch's
 * jobs are kept as ids until it is full, and its input file is written
 * a job at a time: by the pass that decides the job, from the body it
 * has decoded and indexed already (each job is read, decoded and parsed
 * once), or, for a batch a killed run left as an intent, from the queue. */
#define _DEFAULT_SOURCE /* mkstemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/claim.h"
#include "queue/run.h"
#include "runner/endpoint.h"
#include "runner/json/jsonidx.h"
#include "runner/lane/lane_int.h"
#include "runner/providers/cost.h"
#include "runner/runctx.h"
#include "runner/sched/budget.h"
#include "runner/sched/estimate.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* Jobs read at a time. */
#define PAGE 2048
/* Input files are flushed to disk in pieces this size. */
#define FLUSH_AT (1u << 20)
/* After this many failed steps in a row a batch is given up. */
#define MAX_TRIES 6

/* An input file being written: a line (or an element of "requests") a
 * job, gathered in out and written out a piece at a time. */
struct infile {
	char path[4096];
	FILE *f;
	struct buf out;
	int anth;
	int64_t lines, bytes;
	int err; /* a write failed */
};

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
};

static int advance(struct lane *l, struct lbatch *b, struct infile *built);

/* infile_open: a new input file (0600, under $TMPDIR); 0, or BC_RETRY
 * (said) when none can be made. */
static int infile_open(struct infile *in, int anth)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	memset(in, 0, sizeof(*in));
	buf_init(&in->out, (size_t)1 << 34);
	in->anth = anth;
	snprintf(in->path, sizeof(in->path), "%s/nightshift-batch-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if ((fd = mkstemp(in->path)) < 0 || !(in->f = fdopen(fd, "wb"))) {
		if (fd >= 0) {
			close(fd);
			unlink(in->path);
		}
		in->path[0] = '\0';
		lane_say("cannot write a batch input file in %s",
			 tmp && *tmp ? tmp : "/tmp");
		return BC_RETRY;
	}
	if (anth)
		batch_anthropic_open(&in->out);
	return 0;
}

/* infile_add: job custom_id's request body[0..len) as a line. */
static void infile_add(struct infile *in, const char *custom_id,
		       const char *body, size_t len)
{
	size_t before = in->out.len;

	if (in->anth)
		batch_req_anthropic(&in->out, custom_id, body, len);
	else
		batch_line_openai(&in->out, custom_id, "/v1/chat/completions",
				  body, len);
	in->lines++;
	in->bytes += (int64_t)(in->out.len - before);
	if (in->out.len >= FLUSH_AT) {
		/* the last byte stays: batch_req_anthropic puts the comma
		 * before a request only after one it can see */
		char last = in->out.p[in->out.len - 1];

		if (fwrite(in->out.p, 1, in->out.len - 1, in->f) !=
		    in->out.len - 1)
			in->err = 1;
		buf_reset(&in->out, FLUSH_AT * 2);
		buf_add(&in->out, &last, 1);
	}
}

/* infile_discard: the file is not wanted (or failed): removed. */
static void infile_discard(struct infile *in)
{
	if (in->f)
		fclose(in->f);
	if (in->path[0])
		unlink(in->path);
	buf_free(&in->out);
	memset(in, 0, sizeof(*in));
}

/* infile_close: the file complete on disk at in->path; 0, or BC_RETRY
 * (said, the file removed) when it could not be written. */
static int infile_close(struct infile *in)
{
	FILE *f = in->f;

	if (in->anth)
		batch_anthropic_close(&in->out);
	if (in->out.len &&
	    fwrite(in->out.p, 1, in->out.len, f) != in->out.len)
		in->err = 1;
	buf_free(&in->out);
	in->f = NULL;
	if (fclose(f) != 0 || in->err) {
		infile_discard(in);
		lane_say("cannot write a batch input file (disk full?)");
		return BC_RETRY;
	}
	return 0;
}

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
	int nheld = 0, rc;

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
	l->sent[g->prov]++;
	l->sent_jobs[g->prov] += nheld;
	rc = nheld < g->n || infile_close(&g->in) != 0;
	g->n = 0;
	g->bytes = 0;
	g->held_nusd = 0;
	if (!nheld) {
		infile_discard(&g->in);
		return lane_drop(l, b, 0, NULL);
	}
	lane_kill_point("intent");
	/* A job another run took meanwhile is not the batch's: its file
	 * is written again from what the batch holds. */
	if (rc) {
		infile_discard(&g->in);
		return lane_advance(l, b);
	}
	return advance(l, b, &g->in);
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
			rc = lane_fail(l, rc, "reading the queue");
			break;
		}
		if (!n)
			break;
		after = jobs[n - 1].id;
		rc = page(&ps, jobs, n, lane_wait, &x);
	}
	for (size_t i = 0; i < ps.ng && rc == 0; i++)
		rc = flush(&ps, &ps.g[i]);
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

/* build: b's input file (new, see infile_open) from the queue: a line (or
 * an element of "requests") per job it holds, its body as the sync lane
 * would send it. A job the dialect cannot send goes back to the sync
 * lane, which says why. BC_OK with *in complete on disk, 1 when nothing
 * is left to send, BC_RETRY, or a QUEUE_* code. */
static int build(struct lane *l, struct lbatch *b, struct infile *in)
{
	struct route_cand c = {.prov = b->prov, .model = b->model};
	struct claim_scan *scan = NULL;
	struct claim_job j;
	int64_t *bad = NULL;
	int nbad = 0, rc;

	if ((rc = infile_open(in, lane_api(l, b->prov) == BATCH_API_ANTHROPIC)))
		return rc;
	if ((rc = qbatch_scan_open(l->qr, b->q.id, &scan))) {
		infile_discard(in);
		return lane_fail(l, rc, "reading a batch's jobs");
	}
	while ((rc = claim_scan_next(scan, &j)) == 1) {
		const char *why = NULL;
		unsigned flags;
		char cid[80], *body = NULL;

		if (claim_job_decode(&j, l->codec) == 0)
			body = endpoint_request(l->ep, c, &j, NULL, 0, &flags,
						&why);
		if (!body) {
			bad = xrealloc(bad, (size_t)(nbad + 1) * sizeof(*bad));
			bad[nbad++] = j.id;
			claim_job_clear(&j);
			continue;
		}
		batch_custom_id(cid, sizeof(cid), b->q.tag, b->q.id, j.id);
		infile_add(in, cid, body, strlen(body));
		free(body);
		claim_job_clear(&j);
	}
	claim_scan_close(&scan);
	if (rc < 0) {
		free(bad);
		infile_discard(in);
		return lane_fail(l, rc, "reading a batch's jobs");
	}
	if (infile_close(in)) {
		free(bad);
		return BC_RETRY;
	}
	if (nbad) {
		long long n = 0;

		rc = qrun_begin(l->qr);
		for (int i = 0; i < nbad && rc == 0; i++)
			rc = qbatch_release(l->qr, b->q.id, bad[i], 0, NULL,
					    &n);
		b->q.requests -= n;
		if (rc == 0)
			rc = qbatch_save(l->qr, &b->q);
		if (rc || (rc = qrun_commit(l->qr))) {
			qrun_rollback(l->qr);
			free(bad);
			infile_discard(in);
			return lane_fail(l, rc, "recording a batch");
		}
	}
	free(bad);
	if (in->lines == 0) {
		infile_discard(in);
		return 1; /* nothing left to send */
	}
	return BC_OK;
}

/* save: b's row as it is now, in a commit of its own. */
static int save(struct lane *l, struct lbatch *b)
{
	int rc = qrun_begin(l->qr);

	if (rc || (rc = qbatch_save(l->qr, &b->q)) ||
	    (rc = qrun_commit(l->qr))) {
		qrun_rollback(l->qr);
		return lane_fail(l, rc, "recording a batch");
	}
	return 0;
}

/* live: b was created as info says (adopted: created then by a run that
 * died, else now; our clock, as the turnaround learned is). */
static int live(struct lane *l, struct lbatch *b,
		const struct batch_info *info, int adopted)
{
	free(b->q.remote_id);
	b->q.remote_id = xstrdup(info->id);
	free(b->q.status);
	b->q.status = xstrdup(lane_status_name(info->status));
	b->q.state = QBATCH_LIVE;
	b->q.submitted_at = adopted && info->created_ms ? info->created_ms
							: clk_wall_ms();
	b->tries = 0;
	b->every_ms = 1000;
	b->next_ms = clk_wall_ms() + b->every_ms;
	return save(l, b);
}

/* adopt: a batch of the provider's that is b, created by a run that did
 * not live to record it: by the tag in its metadata (Files + Batches);
 * for Message Batches, which keep none, one created in the intent's time
 * window with its request count that no other row has (its results carry
 * b's custom_ids, which collect checks). 1 and *info when found. */
static int adopt(struct lane *l, struct lbatch *b, struct batch_info *info)
{
	struct bclient *c = l->client[b->prov];
	char *after = NULL;
	int found = 0, rc = BC_OK;

	for (int page = 0; page < 20 && !found && rc == BC_OK; page++) {
		struct batch_info *items = NULL;
		size_t n = 0;
		int more = 0, older = 0;
		char *last = NULL;

		rc = bclient_list(c, after, &items, &n, &more, &last);
		for (size_t i = 0; i < n && rc == BC_OK; i++) {
			struct batch_info *it = &items[i];
			int64_t total = it->total ? it->total
						  : it->processing +
							    it->done_ok +
							    it->errored +
							    it->expired +
							    it->cancelled;

			if (it->created_ms &&
			    it->created_ms < b->q.created_at - 60000)
				older = 1;
			if (found)
				continue;
			if (lane_api(l, b->prov) == BATCH_API_OPENAI
				    ? it->tag && strcmp(it->tag, b->q.tag) == 0
				    : it->created_ms >= b->q.created_at - 5000 &&
					      total == b->q.requests &&
					      !lane_known_remote(l, it->id)) {
				*info = *it;
				memset(it, 0, sizeof(*it));
				found = 1;
			}
		}
		for (size_t i = 0; i < n; i++)
			batch_info_clear(&items[i]);
		free(items);
		free(after);
		after = last;
		if (!more || older)
			break;
	}
	free(after);
	return rc == BC_OK ? found : rc;
}

/* failed_step: a step of b went wrong (code: BC_RETRY or BC_REFUSED):
 * try again later, or give b up and the provider's lane with it. */
static int failed_step(struct lane *l, struct lbatch *b, int code,
		       const char *step)
{
	const struct prov *p = &l->rc->cfg->provs[b->prov];

	if (code == BC_RETRY && ++b->tries < MAX_TRIES) {
		b->next_ms = clk_wall_ms() + ((int64_t)1000 << b->tries);
		return 0;
	}
	lane_say("%s's batch lane %s: %s; its %lld jobs go to the sync lane "
		 "this run",
		 p->name, step, bclient_err(l->client[b->prov]),
		 (long long)b->q.requests);
	l->batch[b->prov] = ADMIT_LANE_NONE;
	return lane_drop(l, b, 0, "the batch lane refused the batch");
}

/* advance: lane_advance; built (taken over, may be NULL) is b's input
 * file when the pass wrote it already. */
static int advance(struct lane *l, struct lbatch *b, struct infile *built)
{
	struct bclient *c = l->client[b->prov];
	struct batch_info info = {0};
	struct infile in = {0};
	int openai = lane_api(l, b->prov) == BATCH_API_OPENAI, rc;

	if (built) {
		in = *built;
		memset(built, 0, sizeof(*built));
	}
	if (!c) {
		infile_discard(&in);
		return 0; /* no key this run: the next run finishes it */
	}
	/* A create that failed may have happened all the same (the reply
	 * was lost); so may one of a killed run. */
	if ((b->q.state == QBATCH_UPLOADED || (!openai &&
					       b->q.state == QBATCH_INTENT)) &&
	    (b->tries || !b->mine)) {
		rc = adopt(l, b, &info);
		if (rc < 0 || rc == 1)
			infile_discard(&in);
		if (rc < 0)
			return failed_step(l, b, rc, "cannot be listed");
		if (rc == 1) {
			rc = live(l, b, &info, 1);
			batch_info_clear(&info);
			return rc;
		}
	}
	if (b->q.state == QBATCH_INTENT) {
		if (!in.path[0] && (rc = build(l, b, &in)) != BC_OK) {
			if (rc == 1)
				return lane_drop(l, b, 0, NULL);
			return rc == BC_RETRY ? failed_step(l, b, rc,
							    "input file")
					      : rc;
		}
		if (openai) {
			char *file_id = NULL;

			rc = bclient_upload(c, in.path, &file_id);
			infile_discard(&in);
			if (rc)
				return failed_step(l, b, rc,
						   "refused the upload");
			lane_kill_point("upload");
			b->q.file_id = file_id;
			b->q.state = QBATCH_UPLOADED;
			if ((rc = save(l, b)))
				return rc;
			lane_kill_point("uploaded");
		}
	}
	rc = bclient_create(c, b->q.file_id, b->q.tag, in.path, &info);
	infile_discard(&in);
	if (rc)
		return failed_step(l, b, rc, "refused to create the batch");
	lane_kill_point("create");
	rc = live(l, b, &info, 0);
	batch_info_clear(&info);
	return rc;
}

int lane_advance(struct lane *l, struct lbatch *b)
{
	return advance(l, b, NULL);
}

int lane_drop(struct lane *l, struct lbatch *b, int64_t not_before,
	      const char *why)
{
	int rc = qrun_begin(l->qr);

	b->q.state = QBATCH_DROPPED;
	if (rc ||
	    (rc = qbatch_release(l->qr, b->q.id, 0, not_before, why, NULL)) ||
	    (rc = qbatch_save(l->qr, &b->q)) || (rc = qrun_commit(l->qr))) {
		qrun_rollback(l->qr);
		return lane_fail(l, rc, "giving a batch's jobs back");
	}
	budget_release(&l->rc->budget, &b->held_nusd);
	return 0;
}
