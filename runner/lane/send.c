/* send.c — a batch's submission steps after its intent: its input
 * file (written by the assignment pass, or here from the queue for a
 * batch a killed run left as an intent), its upload and the create call;
 * for a batch a killed run left at one of those steps, finding what it
 * created; and giving a batch's jobs back when it cannot be made. */
#define _DEFAULT_SOURCE /* mkstemp */
#include "runner/lane/send.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue/claim.h"
#include "queue/run.h"
#include "runner/endpoint.h"
#include "runner/lane/lane_int.h"
#include "runner/runctx.h"
#include "runner/sched/budget.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/killpoint.h"
#include "util/xalloc.h"

/* Input files are flushed to disk in pieces this size. */
#define FLUSH_AT (1u << 20)
/* After this many failed steps in a row a batch is given up. */
#define MAX_TRIES 6

int infile_open(struct infile *in, int anth)
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

void infile_add(struct infile *in, const char *custom_id, const char *body,
		size_t len)
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

void infile_discard(struct infile *in)
{
	if (in->f)
		fclose(in->f);
	if (in->path[0])
		unlink(in->path);
	buf_free(&in->out);
	memset(in, 0, sizeof(*in));
}

int infile_close(struct infile *in)
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

/* uploaded: b's input file is uploaded as file_id (taken over). */
static int uploaded(struct lane *l, struct lbatch *b, char *file_id)
{
	int rc;

	kill_point("upload");
	b->q.file_id = file_id;
	b->q.state = QBATCH_UPLOADED;
	if ((rc = save(l, b)))
		return rc;
	kill_point("uploaded");
	return 0;
}

/* created: the create call of b answered rc, info (cleared here). */
static int created(struct lane *l, struct lbatch *b, int rc,
		   struct batch_info *info)
{
	if (rc) {
		batch_info_clear(info);
		return failed_step(l, b, rc, "refused to create the batch");
	}
	kill_point("create");
	rc = live(l, b, info, 0);
	batch_info_clear(info);
	return rc;
}

int lane_send(struct lane *l, struct lbatch *b, struct infile *built)
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
			if ((rc = uploaded(l, b, file_id)))
				return rc;
		}
	}
	rc = bclient_create(c, b->q.file_id, b->q.tag, in.path, &info);
	infile_discard(&in);
	return created(l, b, rc, &info);
}

static void *sending_main(void *arg)
{
	struct sending *s = arg;

	s->rc = s->openai ? bclient_upload(s->c, s->in.path, &s->file_id)
			  : bclient_create(s->c, NULL, s->tag, s->in.path,
					   &s->info);
	return NULL;
}

int lane_send_start(struct lane *l, struct lbatch *b, struct infile *built,
		    struct sending *s)
{
	struct bclient *c = l->client[b->prov];

	if (!c || b->q.state != QBATCH_INTENT || b->tries || !b->mine)
		return lane_send(l, b, built);
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->batch = b->q.id;
	s->openai = lane_api(l, b->prov) == BATCH_API_OPENAI;
	s->tag = b->q.tag;
	s->in = *built;
	if (pthread_create(&s->th, NULL, sending_main, s) != 0) {
		memset(s, 0, sizeof(*s));
		return lane_send(l, b, built);
	}
	memset(built, 0, sizeof(*built));
	s->on = 1;
	return 0;
}

int lane_send_finish(struct lane *l, struct sending *s, int abandon)
{
	struct lbatch *b = NULL;
	int rc;

	if (!s->on)
		return 0;
	pthread_join(s->th, NULL);
	s->on = 0;
	infile_discard(&s->in);
	for (size_t i = 0; i < l->nb && !abandon; i++)
		if (l->b[i].q.id == s->batch)
			b = &l->b[i];
	if (!b) {
		free(s->file_id);
		batch_info_clear(&s->info);
		return 0;
	}
	if (!s->openai)
		return created(l, b, s->rc, &s->info);
	if (s->rc)
		return failed_step(l, b, s->rc, "refused the upload");
	if ((rc = uploaded(l, b, s->file_id)))
		return rc;
	rc = bclient_create(s->c, b->q.file_id, b->q.tag, NULL, &s->info);
	return created(l, b, rc, &s->info);
}

int lane_advance(struct lane *l, struct lbatch *b)
{
	return lane_send(l, b, NULL);
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
