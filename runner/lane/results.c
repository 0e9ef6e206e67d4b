/* results.c — a batch's result files read into the queue (see
 * results.h).
 *
 * A file is downloaded to a temporary file and read a line at a time.
 * Each line is joined to its job by custom_id (the lines come in any
 * order) and goes through the sync lane's reply pipeline: the dialect
 * reads it as if it had come over HTTP, the policy decides, the ledger
 * gets one row at the batch price. Lines are applied in commits of
 * CHUNK; a line whose job the batch no longer holds (a run killed
 * mid-collection applied it already) is passed over, so reading a file
 * twice never pays or stores twice. A helper thread settles one chunk
 * while the lane's thread records the one before (see struct results). */
#define _GNU_SOURCE /* memmem */
#include "runner/lane/results.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/blob.h"
#include "queue/claim.h"
#include "queue/run.h"
#include "runner/endpoint.h"
#include "runner/json/jsonidx.h"
#include "runner/lane/lane_int.h"
#include "runner/providers/cost.h"
#include "runner/record.h"
#include "runner/reply.h"
#include "runner/runctx.h"
#include "runner/sched/estimate.h"
#include "runner/task.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/killpoint.h"
#include "util/xalloc.h"

/* Lines applied per commit. */
#define CHUNK 2048
/* Longest result line read (a reply of a long output is ~1 MB). */
#define LINE_MAX_BYTES (64u << 20)

/* A chunk of lines. Each is parsed once: by the thread that settles it,
 * or, when its custom_id is not plain to see, as it is read (its spans,
 * custom_id and body, then kept as offsets into its line, since the
 * text may move as it grows). Then the jobs they are for are read, and
 * the tasks they come to made. */
struct lines {
	struct buf text; /* the lines, back to back */
	size_t off[CHUNK], len[CHUNK];
	struct batch_line ln[CHUNK];
	size_t cid_at[CHUNK], body_at[CHUNK]; /* ln's spans, in the line */
	unsigned char parsed[CHUNK]; /* ln[i] holds the line's parse */
	int64_t ids[CHUNK];
	struct claim_job jobs[CHUNK];
	unsigned char found[CHUNK]; /* jobs[i] read and not yet a task */
	struct task *t[CHUNK];	    /* NULL: the line is passed over */
	int n;
	int lane_wait; /* a job waits for the batch lane again */
};

/* What a thread needs of its own to settle lines. */
struct settler {
	struct blob_codec *codec;
	struct jsonidx x, bx; /* a line's index, a job body's */
	uint64_t rnd;
};

/* A collection. The lane's thread reads and parses the lines, reads
 * their jobs and records what became of them, one commit a chunk; a
 * helper thread meanwhile settles the chunk read before (decodes and
 * routes each job, reads and prices its reply, compresses the result):
 * the two halves of a line's cost, each about 50k instructions, on two
 * cores. */
struct results {
	struct lane *l;
	struct lbatch *b;
	struct reply_ctx reply; /* the run's, with the lane's dictionary */
	struct lines *cur;	/* being read */
	struct lines *ready;	/* settled, or being settled: recorded next */
	struct lines *spare;
	struct settler own, help;
	struct jsonidx x;
	long long applied, skipped;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct lines *todo; /* handed to the helper; NULL once settled */
	int quit, threaded;
	pthread_t th;
};

static uint64_t next_rnd(struct settler *s)
{
	/* xorshift64*: the backoff's jitter needs no better */
	s->rnd ^= s->rnd >> 12;
	s->rnd ^= s->rnd << 25;
	s->rnd ^= s->rnd >> 27;
	return s->rnd * 0x2545F4914F6CDD1DULL;
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
 * candidate the batch's (on s's thread). */
static struct task *task_of(struct results *c, struct settler *s,
			    struct claim_job *j)
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
	if (claim_job_decode(&t->job, s->codec) != 0) {
		t->kind = TASK_CORRUPT; /* dead, as the sync lane has it */
		t->detail = xstrdup("its stored body cannot be decoded");
		return t;
	}
	if (admit_route(&l->rc->admit, &t->job, &t->adm, &s->bx, &end,
			&detail))
		t->schema = reply_schema_of(t->job.body, t->job.body_len,
					    &s->bx);
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

/* settle: what line ln of L says of task t (on s's thread). */
static void settle(struct results *c, struct settler *s, struct lines *L,
		   struct task *t, const struct batch_line *ln)
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
			L->lane_wait = 1;
		return;
	}
	if (ln->kind == BATCH_LINE_REPLY) {
		reply_read(&c->reply, t, ln->status, "", 0, ln->body,
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
	reply_settle(&c->reply, t, s->codec, now, next_rnd(s));
	if (t->act.verb == POLICY_RETRY || t->act.verb == POLICY_FAILOVER) {
		t->act.at_ms = back;
		if (back)
			L->lane_wait = 1;
	}
}

/* parse: line i of L, its custom_id found before without a parse;
 * whether the parse finds the same one (else, a line that is not JSON,
 * it is passed over as when it was read). */
static int parse(struct results *c, struct settler *s, struct lines *L,
		 int i)
{
	const char *line = L->text.p + L->off[i], *why;
	struct batch_line *ln = &L->ln[i];

	return batch_line_parse(lane_api(c->l, c->b->prov), &s->x, line,
				L->len[i], ln, &why) == 0 &&
	       ln->custom_id == line + L->cid_at[i];
}

/* settle_lines: the task of each line of L whose job was read. */
static void settle_lines(struct results *c, struct settler *s,
			 struct lines *L)
{
	for (int i = 0; i < L->n; i++) {
		struct batch_line *ln = &L->ln[i];
		const char *line = L->text.p + L->off[i];
		struct task *t;

		L->t[i] = NULL;
		if (!L->found[i])
			continue;
		if (L->parsed[i]) {
			ln->custom_id = line + L->cid_at[i];
			if (ln->body)
				ln->body = line + L->body_at[i];
		} else if (!parse(c, s, L, i)) {
			continue;
		}
		L->found[i] = 0; /* the task has the job */
		t = task_of(c, s, &L->jobs[i]);
		if (t->kind != TASK_CORRUPT)
			settle(c, s, L, t, ln);
		L->t[i] = t;
	}
}

static void *helper(void *arg)
{
	struct results *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->todo && !c->quit)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->todo)
			break;
		pthread_mutex_unlock(&c->mu);
		settle_lines(c, &c->help, c->todo);
		pthread_mutex_lock(&c->mu);
		c->todo = NULL;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* hand: L is settled, by the helper when there is one. */
static void hand(struct results *c, struct lines *L)
{
	if (!c->threaded) {
		settle_lines(c, &c->own, L);
		return;
	}
	pthread_mutex_lock(&c->mu);
	c->todo = L;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* settled: wait until the helper has nothing in hand. */
static void settled(struct results *c)
{
	if (!c->threaded)
		return;
	pthread_mutex_lock(&c->mu);
	while (c->todo)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

/* empty: L holds no line: its jobs and tasks freed. */
static void empty(struct lines *L)
{
	for (int i = 0; i < L->n; i++) {
		if (L->found[i])
			claim_job_clear(&L->jobs[i]);
		if (L->t[i])
			task_free(L->t[i]);
		L->found[i] = 0;
		L->t[i] = NULL;
	}
	L->n = 0;
	L->lane_wait = 0;
	buf_reset(&L->text, 16u << 20);
}

/* read_jobs: the jobs of L's lines that the batch still holds. The chunk
 * recorded before (prev, may be NULL) is not committed yet: a job it has
 * a line for is passed over here as a commit would have made it (no
 * longer held), and so is a job's second line in L. */
static int read_jobs(struct results *c, struct lines *L,
		     const struct lines *prev)
{
	struct lane *l = c->l;
	int64_t seen[4 * CHUNK] = {0}; /* open addressing; 0 is no id */
	size_t mask = sizeof(seen) / sizeof(seen[0]) - 1;
	int rc;

	if ((rc = qbatch_jobs(l->qr, c->b->q.id, L->ids, L->n, L->jobs,
			      L->found)))
		return rc;
	for (int pass = prev ? 0 : 1; pass < 2; pass++) {
		const struct lines *S = pass ? L : prev;

		for (int i = 0; i < S->n; i++) {
			int64_t id = S->ids[i];
			size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >>
					    40) & mask;
			int dup = 0;

			if (!(pass ? L->found[i] : S->t[i] != NULL))
				continue;
			while (seen[h] && !(dup = seen[h] == id))
				h = (h + 1) & mask;
			seen[h] = id;
			if (pass && dup) {
				claim_job_clear(&L->jobs[i]);
				L->found[i] = 0;
			}
		}
	}
	return 0;
}

/* record: what became of R's lines (inside the transaction). */
static int record(struct results *c, struct lines *R)
{
	int rc = 0;

	for (int i = 0; i < R->n && rc == 0; i++) {
		if (!R->t[i]) {
			c->skipped++;
			continue;
		}
		rc = record_task(c->l->qr, c->l->rc, R->t[i]);
		c->applied++;
	}
	return rc;
}

/* turn: the chunk read is full, or the file ended: in one transaction,
 * its jobs are read and it is handed to be settled, while the chunk
 * before it, settled, is recorded. Called with nothing read, it records
 * what is left. */
static int turn(struct results *c)
{
	struct lane *l = c->l;
	struct lines *L = c->cur, *R;
	int rc;

	settled(c);
	R = c->ready;
	if (!L->n && !R)
		return 0;
	if ((rc = qrun_begin(l->qr)) ||
	    (L->n && (rc = read_jobs(c, L, R))))
		goto fail;
	if (L->n)
		hand(c, L);
	if ((R && (rc = record(c, R))) || (rc = qrun_commit(l->qr)))
		goto fail;
	if (R) {
		kill_point("collect");
		if (R->lane_wait)
			l->lane_wait = 1;
		empty(R);
		c->spare = R;
	}
	c->ready = L->n ? L : NULL;
	if (L->n) {
		c->cur = c->spare;
		c->spare = NULL;
	}
	return 0;
fail:
	qrun_rollback(l->qr);
	return lane_fail(l, rc, "recording a batch's results");
}

/* drain: every line read is recorded. */
static int drain(struct results *c)
{
	return turn(c) || turn(c);
}

/* str_end: the closing quote of the JSON string opened at p, or NULL. */
static const char *str_end(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		const char *b;

		if (!(p = memchr(p, '"', (size_t)(end - p))))
			return NULL;
		/* an odd run of backslashes before it escapes it (the
		 * opening quote ends the run) */
		for (b = p; b[-1] == '\\'; b--)
			;
		if ((p - b) % 2 == 0)
			return p;
	}
	return NULL;
}

static const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* value_end: just past the JSON value at p, walking its strings and
 * brackets only (a scalar ends at what cannot be in it), or NULL. */
static const char *value_end(const char *p, const char *end)
{
	int depth = 0;

	for (; p < end; p++) {
		switch (*p) {
		case '"':
			if (!(p = str_end(p, end)))
				return NULL;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth-- == 0)
				return p;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			if (depth == 0)
				return p;
			break;
		default:
			break;
		}
		if (depth == 0 && (*p == '"' || *p == '}' || *p == ']'))
			return p + 1;
	}
	return NULL;
}

/* top_custom_id: where line's custom_id is (the first top-level member
 * of that name, a string with no escape), found by walking the members
 * before it; a result line puts it first or second, so little of the
 * line is looked at. 0, or -1 when there is none such. */
static int top_custom_id(const char *line, size_t len, const char **id,
			 size_t *n)
{
	const char *end = line + len, *p = ws(line, end), *k, *v;

	if (p >= end || *p != '{')
		return -1;
	for (;;) {
		p = ws(p + 1, end);
		if (p >= end || *p != '"' || !(k = str_end(p, end)))
			return -1;
		v = ws(k + 1, end);
		if (v >= end || *v != ':')
			return -1;
		v = ws(v + 1, end);
		if (k - p == 10 && memcmp(p + 1, "custom_id", 9) == 0) {
			if (v >= end || *v != '"' || !(k = str_end(v, end)) ||
			    memchr(v + 1, '\\', (size_t)(k - v - 1)))
				return -1;
			*id = v + 1;
			*n = (size_t)(k - v - 1);
			return 0;
		}
		if (!(p = value_end(v, end)))
			return -1;
		p = ws(p, end);
		if (p >= end || *p != ',')
			return -1;
	}
}

/* add: one line of a results file; those not of this batch are passed
 * over. The line is parsed by the thread that settles it: only its
 * custom_id is needed now, to read its job; a line where that is not
 * plain to see is parsed here. */
static int add(struct results *c, const char *line, size_t len)
{
	struct lines *L = c->cur;
	struct batch_line *ln = &L->ln[L->n];
	const char *why, *id;
	size_t idlen;
	int64_t batch, job;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!len)
		return 0;
	L->parsed[L->n] = top_custom_id(line, len, &id, &idlen) != 0;
	if (L->parsed[L->n]) {
		if (batch_line_parse(lane_api(c->l, c->b->prov), &c->x, line,
				     len, ln, &why) != 0) {
			c->skipped++;
			return 0;
		}
		id = ln->custom_id;
		idlen = ln->custom_id_len;
		L->body_at[L->n] = ln->body ? (size_t)(ln->body - line) : 0;
	}
	if (batch_custom_id_parse(id, idlen, c->b->q.tag, &batch, &job) != 0 ||
	    batch != c->b->q.id) {
		c->skipped++;
		return 0;
	}
	L->cid_at[L->n] = (size_t)(id - line);
	L->off[L->n] = L->text.len;
	L->len[L->n] = len;
	L->ids[L->n] = job;
	if (buf_add(&L->text, line, len) != 0)
		return turn(c) || add(c, line, len);
	if (++L->n == CHUNK)
		return turn(c);
	return 0;
}

int results_read(struct results *c, const char *file_id)
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
	return rc ? rc : drain(c);
}

struct results *results_new(struct lane *l, struct lbatch *b)
{
	struct results *c = xcalloc(1, sizeof(*c));
	uint64_t seed = (uint64_t)clk_wall_ms() * 0x9E3779B97F4A7C15ULL;

	c->l = l;
	c->b = b;
	/* frames made with the dictionary of the connection that stores
	 * them, not compressed a second time by the store */
	c->reply = l->rc->reply;
	c->reply.qr = l->qr;
	c->cur = xcalloc(1, sizeof(*c->cur));
	c->spare = xcalloc(1, sizeof(*c->spare));
	buf_init(&c->cur->text, (size_t)1 << 34);
	buf_init(&c->spare->text, (size_t)1 << 34);
	c->own.codec = l->codec;
	c->own.rnd = seed | 1;
	c->help.codec = blob_codec_new();
	c->help.rnd = (seed ^ 0x5851F42D4C957F2DULL) | 1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->threaded = pthread_create(&c->th, NULL, helper, c) == 0;
	return c;
}

void results_free(struct results **cp)
{
	struct results *c = *cp;
	struct lines *all[3];

	if (!c)
		return;
	all[0] = c->cur;
	all[1] = c->ready;
	all[2] = c->spare;

	settled(c);
	if (c->threaded) {
		pthread_mutex_lock(&c->mu);
		c->quit = 1;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->th, NULL);
	}
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!all[i])
			continue;
		empty(all[i]);
		buf_free(&all[i]->text);
		free(all[i]);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	blob_codec_free(&c->help.codec);
	jsonidx_free(&c->x);
	jsonidx_free(&c->own.x);
	jsonidx_free(&c->own.bx);
	jsonidx_free(&c->help.x);
	jsonidx_free(&c->help.bx);
	free(c);
	*cp = NULL;
}
