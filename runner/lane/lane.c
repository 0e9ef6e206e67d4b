/* lane.c — the batch lane's life in a run (see lane.h): which providers
 * it may use and how soon they answer, the batches earlier runs left,
 * and the thread that tends the live ones until they end or the run
 * stops, cancelling those the deadline cannot wait for. */
#include "runner/lane/lane.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/blob.h"
#include "queue/claim.h"
#include "queue/queue.h"
#include "queue/run.h"
#include "runner/endpoint.h"
#include "runner/lane/lane_int.h"
#include "runner/runctx.h"
#include "runner/sched/budget.h"
#include "runner/sched/sched.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* What the sync lane needs at least to finish a cancelled batch's jobs,
 * over and above their share of its concurrency. */
#define SYNC_MARGIN_MS 3000
/* A batch still live this long after its completion window is stuck
 * (batches have sat in "finalizing" or pending for days): cancelled, its
 * finished lines kept, the rest sent synchronously. */
#define OVERDUE_MS ((int64_t)3600000)

void lane_say(const char *fmt, ...)
{
	va_list ap;

	fputs("nightshift run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *lane_status_name(enum batch_status s)
{
	static const char *const NAMES[] = {
		[BATCH_ST_VALIDATING] = "validating",
		[BATCH_ST_IN_PROGRESS] = "in_progress",
		[BATCH_ST_FINALIZING] = "finalizing",
		[BATCH_ST_COMPLETED] = "completed",
		[BATCH_ST_FAILED] = "failed",
		[BATCH_ST_EXPIRED] = "expired",
		[BATCH_ST_CANCELLING] = "cancelling",
		[BATCH_ST_CANCELLED] = "cancelled",
		[BATCH_ST_ENDED] = "ended"};

	return (unsigned)s < sizeof(NAMES) / sizeof(NAMES[0]) && NAMES[s]
		       ? NAMES[s]
		       : "unknown";
}


int lane_fail(struct lane *l, int code, const char *what)
{
	if (!l->fatal) {
		l->fatal = code;
		if (code == QUEUE_ECORRUPT)
			snprintf(l->corrupt, sizeof(l->corrupt),
				 "batch lane, %s: %s", what,
				 queue_errmsg(l->q));
		else
			lane_say("batch lane: %s: %s", what,
				 queue_errmsg(l->q));
	}
	atomic_store(&l->rc->stopping, 1);
	return code;
}

struct lbatch *lane_batch_add(struct lane *l, const struct qbatch *qb)
{
	struct lbatch *b;

	l->b = xrealloc(l->b, (l->nb + 1) * sizeof(*l->b));
	b = &l->b[l->nb++];
	memset(b, 0, sizeof(*b));
	b->q = *qb;
	b->prov = route_find_prov(l->rc->cfg->provs, l->rc->cfg->nprovs,
				  qb->provider);
	b->model = b->prov < 0 ? -1
			       : route_find_model(&l->rc->cfg->provs[b->prov],
						  qb->model);
	b->every_ms = 1000;
	return b;
}

void lane_batch_gone(struct lane *l)
{
	size_t k = 0;

	for (size_t i = 0; i < l->nb; i++) {
		if (l->b[i].q.state >= QBATCH_COLLECTED) {
			qbatch_clear(&l->b[i].q);
			continue;
		}
		l->b[k++] = l->b[i];
	}
	l->nb = k;
}

int lane_known_remote(struct lane *l, const char *remote)
{
	for (size_t i = 0; i < l->nb; i++)
		if (l->b[i].q.remote_id && strcmp(l->b[i].q.remote_id, remote) == 0)
			return 1;
	return qbatch_remote_known(l->qr, remote) > 0;
}

/* tag_prefix: "ns" and 8 random hex digits: a run's batches are told
 * from other databases' on the same account by it. */
static void tag_prefix(char *out, size_t n)
{
	unsigned char r[4] = {0};
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r)) {
		unsigned v = (unsigned)clk_wall_ms() ^ (unsigned)getpid();

		memcpy(r, &v, sizeof(r));
	}
	if (fd >= 0)
		close(fd);
	snprintf(out, n, "ns%02x%02x%02x%02x-", r[0], r[1], r[2], r[3]);
}

/* sync_need_ms: how long the sync lane would take for n jobs of prov, at
 * its window and the round trip learned. */
static int64_t sync_need_ms(const struct lane *l, int prov, int64_t n)
{
	const struct prov *p = &l->rc->cfg->provs[prov];
	struct sched_learned s;
	double rtt, win;

	sched_learned_get(l->rc->sched, prov, &s);
	rtt = s.srtt_ms > 0 ? s.srtt_ms : 2000;
	win = p->max_inflight > 0 ? p->max_inflight : 1;
	return SYNC_MARGIN_MS + (int64_t)((double)n / win * rtt);
}

/* lanes: what each provider's batch lane may take this run. */
static int lanes(struct lane *l)
{
	const struct config *cfg = l->rc->cfg;
	int64_t now = clk_wall_ms();
	int any = 0, rc;

	for (size_t i = 0; i < cfg->nprovs; i++) {
		const struct prov *p = &cfg->provs[i];
		int64_t ms = 0;
		int n = 0;

		if (!p->batch.on)
			continue;
		if ((rc = qbatch_turnaround(l->q, p->name, &ms, &n)))
			return lane_fail(l, rc, "reading the batches");
		l->turnaround_known[i] = n > 0;
		l->turnaround_ms[i] = admit_lane_turnaround(p, n > 0 ? ms : 0);
		if (!l->rc->keyed[i])
			continue;
		l->client[i] = bclient_new(p, l->rc->keys[i]);
		any = 1; /* with --lane sync, for jobs that chose "batch" */
		l->batch[i] = (unsigned char)admit_lane_state(
			p, 1, l->turnaround_ms[i], now, l->o.end_ms);
	}
	return any;
}

int lane_new(struct runctx *rc, const struct lane_opts *o, struct lane **out)
{
	struct lane *l;
	size_t np = rc->cfg->nprovs;
	struct qbatch *open = NULL;
	size_t nopen = 0;
	int code, any = 0;

	*out = NULL;
	/* No provider with a batch lane and its key: nothing to submit, and
	 * no batch an earlier run left could be looked at (a sync-only run
	 * opens no second connection). */
	for (size_t i = 0; i < np && !any; i++)
		any = rc->cfg->provs[i].batch.on && rc->keyed[i];
	if (!any)
		return 0;
	l = xcalloc(1, sizeof(*l));
	l->rc = rc;
	l->o = *o;
	char err[600] = "";

	if ((code = queue_open(o->db, 0, &l->q, err, sizeof(err))) ||
	    (code = qrun_open(l->q, CLAIM_BATCH_OWNER, &l->qr))) {
		lane_say("batch lane: %s", l->q ? queue_errmsg(l->q) : err);
		lane_free(&l);
		return code;
	}
	l->codec = blob_codec_new();
	l->client = xcalloc(np, sizeof(*l->client));
	l->batch = xcalloc(np, 1);
	l->turnaround_ms = xcalloc(np, sizeof(*l->turnaround_ms));
	l->turnaround_known = xcalloc(np, 1);
	tag_prefix(l->tag, sizeof(l->tag));
	if ((any = lanes(l)) < 0 ||
	    (code = qbatch_open_list(l->q, &open, &nopen))) {
		code = any < 0 ? any : lane_fail(l, code, "reading the batches");
		lane_free(&l);
		return code;
	}
	for (size_t i = 0; i < nopen; i++) {
		struct lbatch *b = lane_batch_add(l, &open[i]);

		/* a batch of a run that still runs is that run's to tend */
		if (b->q.state < QBATCH_LIVE && b->q.owner && o->owner_alive &&
		    o->owner_alive(b->q.owner, o->alive_arg))
			b->prov = -1;
		/* what an earlier run's batch may still cost is held, so
		 * that new work does not take the same room under the cap
		 * (refused when the cap is already reached: nothing new is
		 * sent then either) */
		else if (budget_reserve(&rc->budget, b->q.reserved_usd,
					&b->held_nusd) != 0)
			b->held_nusd = 0;
	}
	free(open);
	if (!any && !l->nb) {
		lane_free(&l);
		return 0;
	}
	l->ep = endpoints_new(rc->cfg->provs, np, rc->keys);
	*out = l;
	return 0;
}

/* tend: one turn over the batches: steps due, polls due, and cancels the
 * deadline calls for. *soonest: when something is next due. */
static int tend(struct lane *l, int64_t *soonest)
{
	int rc = 0;

	*soonest = clk_wall_ms() + 60000;
	for (size_t i = 0; i < l->nb && rc == 0; i++) {
		struct lbatch *b = &l->b[i];
		int64_t now = clk_wall_ms();
		int changed = 0;

		if (b->prov < 0 || b->model < 0 || !l->client[b->prov] ||
		    b->q.state >= QBATCH_COLLECTED)
			continue;
		if (b->q.state == QBATCH_LIVE && !b->q.cancel_at &&
		    b->q.submitted_at &&
		    now > b->q.submitted_at +
				  admit_lane_turnaround(
					  &l->rc->cfg->provs[b->prov], 0) +
				  OVERDUE_MS) {
			rc = lane_cancel(l, b,
					 "is still not done an hour past its "
					 "completion window");
		}
		if (b->q.state == QBATCH_LIVE && l->o.end_ms &&
		    !b->q.cancel_at && l->o.run_lane != 2) {
			int64_t at = l->o.end_ms -
				     sync_need_ms(l, b->prov, b->q.requests);

			if (now >= at)
				rc = lane_cancel(l, b,
						 "has not ended in time for the "
						 "deadline");
			else if (at < *soonest)
				*soonest = at;
		}
		if (rc || b->next_ms > now) {
			if (b->next_ms < *soonest)
				*soonest = b->next_ms;
			continue;
		}
		if (b->q.state < QBATCH_LIVE)
			rc = lane_advance(l, b);
		else
			rc = lane_poll(l, b, &changed);
		if (b->q.state < QBATCH_COLLECTED && b->next_ms < *soonest)
			*soonest = b->next_ms;
	}
	lane_batch_gone(l);
	return rc;
}

/* left: batches still to tend. */
static int left(const struct lane *l)
{
	for (size_t i = 0; i < l->nb; i++)
		if (l->b[i].prov >= 0 && l->b[i].model >= 0 &&
		    l->client[l->b[i].prov] &&
		    l->b[i].q.state < QBATCH_COLLECTED)
			return 1;
	return 0;
}

int lane_prepare(struct lane *l)
{
	int64_t soonest;
	int rc;

	/* first what earlier runs left: collect what ended, resume what a
	 * killed run left half submitted */
	for (size_t i = 0; i < l->nb; i++)
		l->b[i].next_ms = 0;
	if ((rc = tend(l, &soonest)))
		return rc;
	return lane_assign(l, 0);
}

/* done: the run stops, or has ended (the store ends it only when the
 * lane is not busy, or on a failure). */
static int done(struct lane *l)
{
	return atomic_load(&l->rc->stopping) || atomic_load(&l->rc->finished);
}

/* nap: sleep until ms, waking early when the run stops. */
static void nap(struct lane *l, int64_t until)
{
	while (!done(l) && clk_wall_ms() < until) {
		struct timespec ts = {0, 100 * 1000000L};

		nanosleep(&ts, NULL);
	}
}

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	int64_t soonest;

	while (!done(l) && !l->fatal) {
		if (tend(l, &soonest))
			break;
		if (l->lane_wait && lane_assign(l, 1))
			break;
		if (!left(l) && !l->lane_wait)
			break;
		/* batches the pass just made are due before tend said */
		for (size_t i = 0; i < l->nb; i++)
			if (l->b[i].q.state < QBATCH_COLLECTED &&
			    l->b[i].next_ms < soonest)
				soonest = l->b[i].next_ms;
		nap(l, soonest);
	}
	atomic_store(&l->rc->lane_busy, 0);
	return NULL;
}

int lane_start(struct lane *l)
{
	if (!left(l) && !l->lane_wait)
		return 0;
	atomic_store(&l->rc->lane_busy, 1);
	if (pthread_create(&l->th, NULL, lane_main, l) != 0) {
		atomic_store(&l->rc->lane_busy, 0);
		return -1;
	}
	l->started = 1;
	return 0;
}

const char *lane_corrupt(const struct lane *l)
{
	return l && l->fatal == QUEUE_ECORRUPT ? l->corrupt : NULL;
}

int lane_join(struct lane *l)
{
	if (l->started)
		pthread_join(l->th, NULL);
	l->started = 0;
	return l->fatal;
}

long long lane_held(struct lane *l)
{
	long long n = 0;

	if (qbatch_held(l->qr, &n))
		return 0;
	return n;
}

void lane_free(struct lane **lp)
{
	struct lane *l;
	size_t np;

	if (!lp || !*lp)
		return;
	l = *lp;
	np = l->rc->cfg->nprovs;
	for (size_t i = 0; i < l->nb; i++) {
		budget_release(&l->rc->budget, &l->b[i].held_nusd);
		qbatch_clear(&l->b[i].q);
	}
	free(l->b);
	for (size_t i = 0; l->client && i < np; i++)
		bclient_free(&l->client[i]);
	free(l->client);
	free(l->batch);
	free(l->turnaround_ms);
	free(l->turnaround_known);
	endpoints_free(&l->ep);
	blob_codec_free(&l->codec);
	qrun_close(&l->qr);
	queue_close(&l->q);
	free(l);
	*lp = NULL;
}
