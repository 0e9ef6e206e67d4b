/* store.c — claims and group commits on the store thread.
 *
 * Each turn takes every finished task the workers handed back, writes
 * their ledger rows and fates, claims new jobs for the free slots and
 * renews leases, all in one transaction: one commit per turn, however
 * many jobs it carries (one fsync per commit, never per job: WAL with
 * synchronous=FULL, see queue/queue.c).
 * A database failure (disk full, I/O error) stops the run: what was
 * committed stays, the rest is still leased and comes back next run. */
#include "runner/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/claim.h"
#include "queue/ledger.h"
#include "queue/queue.h"
#include "queue/run.h"
#include "queue/stats.h"
#include "runner/record.h"
#include "runner/run_start.h"
#include "runner/runctx.h"
#include "runner/sched/ahead.h"
#include "runner/sched/sched.h"
#include "runner/task.h"
#include "util/clock.h"
#include "util/killpoint.h"
#include "util/xalloc.h"

/* Most jobs claimed in one turn: keeps transactions short. */
#define CLAIM_MAX 2048
/* Jobs per claim statement: each run of it has a fixed cost (the subquery
 * of ready jobs, the RETURNING table) that 256 spreads thinner than 64. */
#define CLAIM_BATCH 256
/* A turn (one commit) gathers what came back for at least this long: a
 * commit rewrites every page it touches, so batching a fast provider's
 * replies cuts the writes per job several times. */
#define BATCH_MS 10
/* Claimed ahead: what comes back in this long, so the workers do not run
 * dry while a turn gathers and commits, nor while a checkpoint holds the
 * store (its copying and two fsyncs: tens of ms when the disk is slow;
 * 100 ms measured 3-4% faster than 50 on the overhead bench, 200 no
 * better); at least one in-flight window, and a cap, since claimed jobs
 * hold their bodies in memory. */
#define AHEAD_MS 100
#define AHEAD_MAX 4096
/* Short rate windows at the start of a run, before the usual ones. */
#define PACE_START 5
/* Lease: long enough to outlive a slow request; renewed while we run, so
 * only a dead or hung run lets its leases expire. The renewal comes at
 * most a quarter of a lease apart, so a turn delayed by a slow commit
 * (another run holding the write lock, a checkpoint) still renews in
 * time. The test build takes a lease seconds long ($NIGHTSHIFT_LEASE_MS,
 * util/killpoint.h) to show that a second run never takes the jobs of a
 * live one whose requests take longer than a lease. */
#define LEASE_MS (15 * 60 * 1000)
#define RENEW_EVERY_MS (60 * 1000)
/* Idle while batches run: how often to look for a dead run's jobs. */
#define TAKE_BACK_MS 1000

struct store {
	struct runctx *rc;
	struct qrun *qr; /* borrowed; used only by the store thread */
	pthread_t th;
	/* claiming ahead: jobs kept claimed beyond --max-inflight, sized by
	 * the rate jobs come back */
	int ahead;
	int64_t rate_t0;
	long long rate_n;
	int windows; /* rate windows measured so far */
	int64_t lease_ms, renew_ms;
	int64_t back_at; /* take_back's last look */
	char host[HOST_MAX];
	char me[HOST_MAX + 24]; /* "host:pid:", how our leases begin */
	/* per provider, what log_events has written */
	long long *trips_logged;
	int64_t *pause_logged;
	int *disabled_logged;
};

struct store *store_new(struct runctx *rc, struct qrun *qr)
{
	struct store *s = xcalloc(1, sizeof(*s));
	size_t n = rc->cfg->nprovs ? rc->cfg->nprovs : 1;
	char owner[OWNER_MAX];

	s->rc = rc;
	s->qr = qr;
	s->trips_logged = xcalloc(n, sizeof(*s->trips_logged));
	s->pause_logged = xcalloc(n, sizeof(*s->pause_logged));
	s->disabled_logged = xcalloc(n, sizeof(*s->disabled_logged));
	run_names(s->host, owner);
	snprintf(s->me, sizeof(s->me), "%s:%ld:", s->host, (long)getpid());
	s->lease_ms = seam_ms("NIGHTSHIFT_LEASE_MS", LEASE_MS);
	s->renew_ms = s->lease_ms / 4 < RENEW_EVERY_MS ? s->lease_ms / 4
						       : RENEW_EVERY_MS;
	return s;
}

void store_free(struct store **sp)
{
	if (!sp || !*sp)
		return;
	free((*sp)->trips_logged);
	free((*sp)->pause_logged);
	free((*sp)->disabled_logged);
	free(*sp);
	*sp = NULL;
}

/* log_events: provider-level changes since the last turn. */
static int log_events(struct store *s)
{
	struct runctx *rc = s->rc;

	for (size_t i = 0; i < rc->cfg->nprovs; i++) {
		const char *name = rc->cfg->provs[i].name;
		struct sched_stats st;
		char detail[160];
		int code;

		sched_stats(rc->sched, (int)i, &st);
		if (st.trips > s->trips_logged[i]) {
			s->trips_logged[i] = st.trips;
			snprintf(detail, sizeof(detail),
				 "circuit opened (trip %lld): its jobs go to "
				 "their next candidate",
				 st.trips);
			if ((code = ledger_event(s->qr, name, "breaker_open",
					       detail)))
				return code;
		}
		if (st.paused_until > s->pause_logged[i]) {
			s->pause_logged[i] = st.paused_until;
			snprintf(detail, sizeof(detail),
				 "shared rate limit spent (429): paused for "
				 "%lld ms, concurrency %d",
				 (long long)(st.paused_until - clk_wall_ms()),
				 st.limit);
			if ((code = ledger_event(s->qr, name, "paused", detail)))
				return code;
		}
		if (!atomic_load(&rc->prov_disabled[i]) ||
		    s->disabled_logged[i])
			continue;
		s->disabled_logged[i] = 1;
		code = ledger_event(s->qr, name, "disabled",
				  "auth or billing failure: not used for the "
				  "rest of the run");
		if (code)
			return code;
	}
	return 0;
}

/* The progress counts as of the last commit: a turn that fails is rolled
 * back, and the counts with it, so the last line says what is kept. */
struct counts {
	long long done, dead, requests, retries, parked;
	double spend;
};

/* keep_inflight: the requests sent and not recorded, written down with
 * this commit when they changed (sent.h). */
static int keep_inflight(struct store *s)
{
	const char *json;

	if (!sent_snapshot(&s->rc->sent, &json))
		return 0;
	return ledger_inflight(s->qr, json);
}

static void counts_save(const struct runctx *rc, struct counts *c)
{
	c->done = atomic_load(&rc->n_done);
	c->dead = atomic_load(&rc->n_dead);
	c->requests = atomic_load(&rc->n_requests);
	c->retries = atomic_load(&rc->n_retries);
	c->parked = atomic_load(&rc->n_parked);
	c->spend = atomic_load(&rc->spend_usd);
}

static void counts_restore(struct runctx *rc, const struct counts *c)
{
	atomic_store(&rc->n_done, c->done);
	atomic_store(&rc->n_dead, c->dead);
	atomic_store(&rc->n_requests, c->requests);
	atomic_store(&rc->n_retries, c->retries);
	atomic_store(&rc->n_parked, c->parked);
	atomic_store(&rc->spend_usd, c->spend);
}

static void fail(struct store *s, int code, const char *what)
{
	struct runctx *rc = s->rc;

	rc->fatal = code;
	snprintf(rc->fatal_msg, sizeof(rc->fatal_msg), "%s", what);
	atomic_store(&rc->stopping, 1);
	atomic_store(&rc->abort_now, 1);
}

/* take_done: everything the workers handed back; waits up to wait_ms
 * when there is nothing yet. Work that is back before batch_until waits
 * for it, so one commit carries many jobs, unless a worker has run out
 * of jobs to send or the run is stopping. */
static struct task *take_done(struct runctx *rc, int64_t wait_ms,
			      int64_t batch_until)
{
	struct task *head;
	int64_t until = clk_wall_ms() + wait_ms;

	pthread_mutex_lock(&rc->mu);
	for (;;) {
		int64_t now = clk_wall_ms(), end;
		struct timespec ts;

		if (rc->done_head && (rc->hungry || now >= batch_until ||
				      atomic_load(&rc->stopping)))
			break;
		end = rc->done_head ? batch_until : until;
		if (now >= end)
			break;
		ts.tv_sec = (time_t)(end / 1000);
		ts.tv_nsec = (long)(end % 1000) * 1000000L;
		pthread_cond_timedwait(&rc->store_cv, &rc->mu, &ts);
	}
	rc->hungry = 0;
	head = rc->done_head;
	rc->done_head = rc->done_tail = NULL;
	pthread_mutex_unlock(&rc->mu);
	return head;
}

/* unclaimed: when stopping, jobs no worker took yet go back as released,
 * prepended to the done chain. */
static struct task *unclaimed(struct runctx *rc, struct task *done)
{
	struct task *head = runctx_take_unsent(rc), *t;

	if (!head)
		return done;
	for (t = head; t->next; t = t->next)
		t->kind = TASK_RELEASE;
	t->kind = TASK_RELEASE;
	t->next = done;
	return head;
}

/* claim: lease jobs for the free in-flight slots; they go to the workers
 * once the transaction commits. */
static int claim(struct store *s, struct task **head, struct task **tail,
		 int *n)
{
	struct runctx *rc = s->rc;
	/* Keep jobs claimed ahead, so workers never wait for a commit to
	 * get their next job; jobs claimed ahead are unsent and simply go
	 * back if the run stops or dies. */
	int ahead = s->ahead;
	int room = rc->max_inflight + ahead - atomic_load(&rc->outstanding);
	struct claim_job jobs[CLAIM_BATCH];
	int got, rc_;

	*n = 0;
	/* Claim in batches, not one slot at a time, so a fast provider does
	 * not cost a transaction per job. */
	if (room < 1 || (room < ahead / 4 && atomic_load(&rc->outstanding) > 0))
		return 0;
	if (room > CLAIM_MAX)
		room = CLAIM_MAX;
	while (room > 0) {
		int64_t now = clk_wall_ms();
		int want = room < CLAIM_BATCH ? room : CLAIM_BATCH;

		rc_ = claim_jobs(s->qr, now, now + s->lease_ms, want, jobs, &got);
		if (rc_)
			return rc_;
		for (int i = 0; i < got; i++) {
			struct task *t = task_new(&jobs[i]);

			if (*tail)
				(*tail)->next = t;
			else
				*head = t;
			*tail = t;
		}
		*n += got;
		room -= got;
		if (got < want)
			break;
	}
	atomic_fetch_add(&rc->outstanding, *n);
	return 0;
}

/* alive: whether a lease's owner still runs; this process's own run
 * does, whatever owner_alive says of a pid that is ours. */
static int alive(const char *owner, void *arg)
{
	struct store *s = arg;

	return strncmp(owner, s->me, strlen(s->me)) == 0 ||
	       owner_alive(owner, s->host);
}

/* take_back: this run has no queued job left but other runs hold some:
 * take back those of runs that died since it started (on this host, or
 * whose leases expired), as a run starting would, and record what they
 * had in flight as lost. Two cron runs overlap and one is killed: the
 * other finishes its jobs instead of leaving them until the next run. */
static int take_back(struct store *s, long long *n)
{
	long long lost = 0;
	int code = claim_recover(s->qr, clk_wall_ms(), alive, s, n, &lost);

	if (code == 0 && *n)
		fprintf(stderr,
			"nightshift run: took back %lld jobs left running by "
			"a run that stopped%s\n",
			*n,
			lost ? "; the requests it had sent are in the ledger "
			       "as \"lost\""
			     : "");
	return code;
}

/* ahead_floor: the least kept claimed ahead: one in-flight window. */
static int ahead_floor(const struct runctx *rc)
{
	return rc->max_inflight < 64 ? 64 : rc->max_inflight;
}

/* pace: size the claim-ahead from the rate jobs come back, measured over
 * a quarter of a second; over 50 ms windows while the run starts, since
 * a claim-ahead still at its floor starves the workers at every turn and
 * so holds down the very rate it is sized from. */
static void pace(struct store *s, int ndone, int64_t now)
{
	struct ahead_limits lim = {.horizon_ms = AHEAD_MS,
				   .floor = ahead_floor(s->rc),
				   .cap = AHEAD_MAX};

	s->rate_n += ndone;
	if (now - s->rate_t0 < (s->windows < PACE_START ? 50 : 250))
		return;
	s->ahead = ahead_next(s->ahead, s->rate_n, now - s->rate_t0, &lim);
	s->rate_t0 = now;
	s->rate_n = 0;
	s->windows++;
}

static void *store_main(void *arg)
{
	struct store *s = arg;
	struct runctx *rc = s->rc;
	int64_t last_renew = clk_wall_ms(), next_due = 0, last_turn = 0;
	int idle_check = 1;

	s->ahead = ahead_floor(rc); /* until a rate is seen */
	s->rate_t0 = clk_wall_ms();
	s->rate_n = 0;

	for (;;) {
		struct task *done, *t, *head = NULL, *tail = NULL;
		struct counts kept;
		unsigned long long listed;
		int nclaimed = 0, ndone = 0, code;
		int64_t now = clk_wall_ms();
		int64_t wait = 50;

		if (next_due > now && next_due - now < wait)
			wait = next_due - now;
		done = take_done(rc,
				 atomic_load(&rc->outstanding) ? wait
				 : idle_check		       ? 0
							       : wait,
				 last_turn + BATCH_MS);
		last_turn = clk_wall_ms();
		counts_save(rc, &kept);
		if ((code = qrun_begin(s->qr))) {
			fail(s, code, "starting a commit");
			goto out_free;
		}
		if (atomic_load(&rc->stopping))
			done = unclaimed(rc, done);
		/* recorded in this commit: no longer in flight in the list it
		 * writes down (and their memory goes with the turn) */
		for (t = done; t; t = t->next)
			sent_remove(&rc->sent, t);
		for (t = done; t; t = t->next, ndone++)
			if ((code = record_task(s->qr, rc, t))) {
				fail(s, code, "recording results");
				goto out_rollback;
			}
		/* Their slots are free for this turn's claim. */
		atomic_fetch_sub(&rc->outstanding, ndone);
		pace(s, ndone, last_turn);
		if (!atomic_load(&rc->stopping) &&
		    (code = claim(s, &head, &tail, &nclaimed))) {
			fail(s, code, "claiming jobs");
			goto out_rollback;
		}
		if ((code = log_events(s))) {
			fail(s, code, "recording events");
			goto out_rollback;
		}
		/* Counted before the list is written: a request sent in
		 * between is in it and still counts as unlisted, so the
		 * figure said after a failure is never short. */
		listed = sent_added(&rc->sent);
		if ((code = keep_inflight(s))) {
			fail(s, code, "recording requests in flight");
			goto out_rollback;
		}
		if (now - last_renew > s->renew_ms) {
			if ((code = claim_renew(s->qr, now + s->lease_ms))) {
				fail(s, code, "renewing leases");
				goto out_rollback;
			}
			last_renew = now;
		}
		if ((code = qrun_commit(s->qr))) {
			fail(s, code, "committing (results, ledger, claims)");
			goto out_drop;
		}
		rc->sent_committed = listed;
		task_free_chain(done);
		if (head)
			runctx_give_work(rc, head, tail);
		idle_check = 0;
		if (atomic_load(&rc->outstanding) == 0) {
			long long queued, parked, others;

			if (atomic_load(&rc->stopping))
				break;
			if (nclaimed)
				continue;
			if ((code = stats_backlog(s->qr, &queued, &next_due,
						 &parked, &others))) {
				fail(s, code, "reading the queue");
				break;
			}
			/* While the batch lane keeps the run waiting, others
			 * counts the jobs in batches too: once a second. */
			if (queued == 0 && others > 0 &&
			    (!atomic_load(&rc->lane_busy) ||
			     clk_wall_ms() - s->back_at >= TAKE_BACK_MS)) {
				long long back = 0;

				s->back_at = clk_wall_ms();
				if ((code = take_back(s, &back))) {
					fail(s, code, "taking back jobs");
					break;
				}
				if (back)
					continue;
			}
			if (queued == 0 && !atomic_load(&rc->lane_busy))
				break; /* nothing left that this run can do */
			idle_check = queued && next_due <= clk_wall_ms();
		}
		continue;
out_rollback:
		qrun_rollback(s->qr);
out_drop:
		/* The jobs in this turn stay leased in the file and come
		 * back on the next run; their requests may be repeated. */
		counts_restore(rc, &kept);
out_free:
		task_free_chain(done);
		task_free_chain(head);
		break;
	}
	/* Everything still leased by this run goes back to the queue. */
	if (!rc->fatal && (qrun_begin(s->qr) || claim_release_all(s->qr) ||
			   qrun_commit(s->qr)))
		fail(s, QUEUE_EIO, "releasing leases");
	atomic_store(&rc->finished, 1);
	runctx_wake_workers(rc);
	if (rc->end_fd >= 0) {
		uint64_t one = 1;

		if (write(rc->end_fd, &one, sizeof(one)) < 0)
			return NULL; /* the main thread still sees finished */
	}
	return NULL;
}

int store_start(struct store *s)
{
	return pthread_create(&s->th, NULL, store_main, s) ? -1 : 0;
}

void store_join(struct store *s)
{
	pthread_join(s->th, NULL);
}
