/* worker.c — the transfer loop: HTTP requests for claimed jobs.
 *
 * Each worker owns a libcurl multi handle and drives up to its share of
 * --max-inflight transfers at once, so thousands of slow requests cost a
 * socket each, not a thread each; connections are kept and reused by the
 * multi handle. The multi handle is driven by socket events (epoll and
 * curl_multi_socket_action): a reply costs the work for its own socket,
 * where curl_multi_perform would look at every transfer in flight.
 *
 * Admission (sched/admit.h) says which candidate a job goes to and
 * whether it may go now; endpoint.h gives the provider's URL, headers
 * and the dialect's request; the reply pipeline (reply.h) says what the
 * answer comes to. Only here, and in the pooled transfers this loop
 * drives (xfer.h), are curl handles touched; only the store (store.c)
 * writes what comes of them. */
#include "runner/worker.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "queue/blob.h"
#include "queue/claim.h"
#include "runner/endpoint.h"
#include "runner/json/jsonidx.h"
#include "runner/reply.h"
#include "runner/runctx.h"
#include "runner/sched/admit.h"
#include "runner/task.h"
#include "runner/xfer.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct worker {
	struct runctx *rc;
	int index;
	pthread_t th;
	CURLM *multi;
	int epfd;	   /* the transfers' sockets, and wakefd */
	int wakefd;	   /* eventfd: worker_wake */
	int64_t timer_at;  /* when curl wants a timeout action; -1 none */
	int active;
	struct xfer *act_head;		    /* transfers in flight */
	struct task *pend_head, *pend_tail; /* admitted later */
	int npend;
	struct xfer_pool pool;	/* transfers not in use */
	uint64_t rng;
	struct endpoints *ends; /* per provider: URL, headers, dialect */
	struct task *done_head, *done_tail;
	struct blob_codec *codec; /* compresses results (see reply.c) */
	/* The body admission indexed last, for start(): a job is mostly
	 * routed and sent in one pass, so its body is indexed once, not
	 * twice. */
	struct jsonidx idx;
	const struct task *idx_task; /* whose body idx holds, or NULL */
	size_t idx_end;
};

static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* on_socket: curl says which events a socket waits for (see
 * CURLMOPT_SOCKETFUNCTION); the epoll set follows. A socket curl has
 * seen before carries a mark (curl_multi_assign), so it is modified, not
 * added twice. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *arg,
		     void *mark)
{
	struct worker *w = arg;
	struct epoll_event ev = {.data.fd = s};

	(void)easy;
	if (what == CURL_POLL_REMOVE) { /* curl forgets the mark with it */
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
		    (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
	if (mark || epoll_ctl(w->epfd, EPOLL_CTL_ADD, s, &ev) != 0)
		epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ev);
	if (!mark)
		curl_multi_assign(w->multi, s, w);
	return 0;
}

/* on_timer: when curl next wants CURL_SOCKET_TIMEOUT (-1: never). */
static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
	struct worker *w = arg;

	(void)multi;
	w->timer_at = timeout_ms < 0 ? -1 : clk_mono_ms() + timeout_ms;
	return 0;
}

/* open_events: the worker's epoll set with its wake eventfd in it; 0, or
 * -1 with nothing left open. */
static int open_events(struct worker *w)
{
	struct epoll_event ev = {.events = EPOLLIN};

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.fd = w->wakefd;
	if (w->epfd >= 0 && w->wakefd >= 0 &&
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) == 0)
		return 0;
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	return -1;
}

struct worker *worker_new(struct runctx *rc, int index)
{
	struct worker *w = xcalloc(1, sizeof(*w));

	w->rc = rc;
	w->index = index;
	xfer_pool_init(&w->pool);
	w->multi = curl_multi_init();
	if (!w->multi || open_events(w) != 0) {
		if (w->multi)
			curl_multi_cleanup(w->multi);
		free(w);
		return NULL;
	}
	rc->wake_fds[index] = w->wakefd;
	w->timer_at = -1;
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
			  (long)(rc->max_inflight / rc->nworkers + 16));
	w->rng = (uint64_t)clk_wall_ms() * 2654435761u ^ (uint64_t)index << 32;
	w->codec = blob_codec_new();
	w->ends = endpoints_new(rc->cfg->provs, rc->cfg->nprovs, rc->keys);
	return w;
}

void worker_free(struct worker **wp)
{
	struct worker *w = *wp;

	if (!w)
		return;
	xfer_pool_free(&w->pool);
	endpoints_free(&w->ends);
	blob_codec_free(&w->codec);
	jsonidx_free(&w->idx);
	/* after the handle: its cleanup still reports sockets removed */
	curl_multi_cleanup(w->multi);
	w->rc->wake_fds[w->index] = -1;
	close(w->epfd);
	close(w->wakefd);
	free(w);
	*wp = NULL;
}

/* finish: the task is done with here; queue it for the store. */
static void finish(struct worker *w, struct task *t, enum task_kind kind)
{
	if (w->idx_task == t)
		w->idx_task = NULL; /* t's memory may hold another task next */
	t->kind = kind;
	t->next = NULL;
	if (w->done_tail)
		w->done_tail->next = t;
	else
		w->done_head = t;
	w->done_tail = t;
}

static void flush_done(struct worker *w)
{
	if (!w->done_head)
		return;
	runctx_push_dones(w->rc, w->done_head, w->done_tail);
	w->done_head = w->done_tail = NULL;
}

static void unlink_active(struct worker *w, struct xfer *x)
{
	if (x->aprev)
		x->aprev->anext = x->anext;
	else
		w->act_head = x->anext;
	if (x->anext)
		x->anext->aprev = x->aprev;
	x->aprev = x->anext = NULL;
	curl_multi_remove_handle(w->multi, x->easy);
	w->active--;
}

/* start: build the request for the task's candidate and add it to the
 * multi handle. */
static void start(struct worker *w, struct task *t)
{
	struct route_cand c = t->adm.cands[t->job.candidate];
	const struct prov *p = &w->rc->cfg->provs[c.prov];
	struct xfer *x;
	const char *url, *why;
	CURLU *parsed;

	t->prov = c.prov;
	t->model = c.model;
	x = xfer_get(&w->pool);
	x->t = t;
	x->req = endpoint_request(w->ends, c, &t->job,
				  w->idx_task == t ? &w->idx : NULL,
				  w->idx_end, &x->resp_flags, &why);
	if (!x->req) {
		/* admitted but never sent: give back its slot (and probe) and
		 * its budget, or the provider stays full for the whole run */
		admit_cancel(&w->rc->admit, &t->adm, c.prov);
		xfer_put(&w->pool, x);
		t->detail = xstrdup(why);
		finish(w, t, TASK_UNROUTABLE);
		return;
	}
	url = endpoint_url(w->ends, c.prov, &parsed);
	curl_easy_setopt(x->easy, CURLOPT_CURLU, parsed);
	if (!parsed) /* the string then fails as it would */
		curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->req);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(x->req));
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER,
			 endpoint_headers(w->ends, c.prov, t->job.custom_id,
					  &x->idnode, x->idline,
					  sizeof(x->idline)));
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)p->connect_timeout_s * 1000);
	curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS,
			 endpoint_timeout_ms(p, &t->job));
	x->errbuf[0] = '\0';
	t->sent_at_ms = clk_wall_ms();
	x->t0_ms = clk_mono_ms();
	curl_multi_add_handle(w->multi, x->easy);
	sent_add(&w->rc->sent, t);
	x->aprev = NULL;
	x->anext = w->act_head;
	if (w->act_head)
		w->act_head->aprev = x;
	w->act_head = x;
	w->active++;
}

/* route: the task's candidates, the first time it is asked; its body's
 * index is kept for start(). */
static void route(struct worker *w, struct task *t)
{
	w->idx_task = NULL;
	if (!admit_route(&w->rc->admit, &t->job, &t->adm, &w->idx,
			 &w->idx_end, &t->detail))
		return;
	w->idx_task = t;
	t->schema = reply_schema_of(t->job.body, t->job.body_len, &w->idx);
}

/* admit: start what admission allows, in arrival order; a task that must
 * wait does not block the others. */
static void admit(struct worker *w)
{
	struct task **pp = &w->pend_head, *t;
	int64_t now_ms = clk_wall_ms();

	w->pend_tail = NULL;
	while ((t = *pp) != NULL) {
		enum admit_verdict v = ADMIT_DEAD;

		if (t->adm.ncands < 0)
			route(w, t);
		if (t->adm.ncands > 0)
			v = admit_job(&w->rc->admit, &t->job, &t->adm, now_ms,
				      &t->detail);
		if (v == ADMIT_WAIT) {
			w->pend_tail = t;
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		w->npend--;
		switch (v) {
		case ADMIT_GO:
			start(w, t);
			break;
		case ADMIT_PARK:
			finish(w, t, TASK_PARK);
			break;
		case ADMIT_OVER_BUDGET:
			/* this and every later job wait for the next run */
			atomic_store(&w->rc->stopping, 1);
			finish(w, t, TASK_RELEASE);
			break;
		default:
			finish(w, t, TASK_UNROUTABLE);
			break;
		}
	}
}

/* sent: what the transfer says of t's request once it is over, answered
 * or given up: how long it took, how often curl sent it again. */
static void sent(const struct xfer *x, struct task *t)
{
	t->latency_ms = clk_mono_ms() - x->t0_ms;
	t->resent = x->sends > 1 ? x->sends - 1 : 0;
}

static void completed(struct worker *w, CURLMsg *msg)
{
	struct xfer *x = NULL;
	struct task *t;
	long status = 0;
	int64_t now = clk_wall_ms();

	curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
	t = x->t;
	unlink_active(w, x);
	sent(x, t);
	outcome_init(&t->out);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (msg->data.result == CURLE_OK)
		reply_read(&w->rc->reply, t, (int)status, x->head.p,
			   x->head.len, x->body.p, x->body.len, x->resp_flags,
			   now);
	else
		xfer_failed(x, msg->data.result, &t->out);
	/* also for a transfer cut off after its status line */
	t->out.http_status = (int)status;
	xfer_put(&w->pool, x);
	reply_settle(&w->rc->reply, t, w->codec, now, next_rand(&w->rng));
	finish(w, t, TASK_SENT);
}

static void release_pending(struct worker *w)
{
	while (w->pend_head) {
		struct task *t = w->pend_head;

		w->pend_head = t->next;
		finish(w, t, TASK_RELEASE);
	}
	w->pend_tail = NULL;
	w->npend = 0;
}

static void abort_active(struct worker *w)
{
	while (w->act_head) {
		struct xfer *x = w->act_head;
		struct task *t = x->t;

		unlink_active(w, x);
		admit_cancel(&w->rc->admit, &t->adm, t->prov);
		sent(x, t);
		finish(w, t, TASK_ABORTED);
		xfer_put(&w->pool, x);
	}
}

/* reap: hand every finished transfer on; returns how many. */
static int reap(struct worker *w)
{
	CURLMsg *msg;
	int left, n = 0;

	while ((msg = curl_multi_info_read(w->multi, &left)))
		if (msg->msg == CURLMSG_DONE) {
			completed(w, msg);
			n++;
		}
	return n;
}

/* wait_events: sleep until a socket is ready, curl's timer is due, the
 * worker is woken or max_ms passed, and let curl act on what happened. */
static void wait_events(struct worker *w, int max_ms)
{
	struct epoll_event ev[64];
	int64_t now = clk_mono_ms();
	int running, n, timeout = max_ms;

	if (w->timer_at >= 0)
		timeout = w->timer_at <= now		  ? 0
			  : w->timer_at - now < max_ms ? (int)(w->timer_at - now)
						       : max_ms;
	n = epoll_wait(w->epfd, ev, 64, timeout);
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd, mask = 0;
		uint64_t count;

		if (fd == w->wakefd) { /* drain: the wake is this return */
			if (read(w->wakefd, &count, sizeof(count)) < 0)
				count = 0;
			continue;
		}
		if (ev[i].events & EPOLLIN)
			mask |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			mask |= CURL_CSELECT_ERR;
		curl_multi_socket_action(w->multi, fd, mask, &running);
	}
}

/* run_timer: curl's timeout action, when it is due (new transfers start
 * here: adding one asks for a timeout of 0). */
static void run_timer(struct worker *w)
{
	int running;

	if (w->timer_at < 0 || w->timer_at > clk_mono_ms())
		return;
	w->timer_at = -1;
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* take: up to max claimed tasks from the store, decoded and pending. */
static void take(struct worker *w, int max)
{
	struct task *got = runctx_take_work(w->rc, max);

	while (got) {
		struct task *t = got;

		got = t->next;
		t->next = NULL;
		if (claim_job_decode(&t->job, w->codec)) {
			t->detail = xstrdup("its stored body cannot be "
					    "decoded (corrupt frame)");
			finish(w, t, TASK_CORRUPT);
			continue;
		}
		if (w->pend_tail)
			w->pend_tail->next = t;
		else
			w->pend_head = t;
		w->pend_tail = t;
		w->npend++;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct runctx *rc = w->rc;
	int share = (rc->max_inflight + rc->nworkers - 1) / rc->nworkers;

	while (!atomic_load(&rc->finished)) {
		int ndone;

		if (atomic_load(&rc->abort_now)) {
			abort_active(w);
			release_pending(w);
		} else if (atomic_load(&rc->stopping)) {
			release_pending(w);
		}
		if (!atomic_load(&rc->stopping) &&
		    w->active + w->npend < share)
			take(w, share - w->active - w->npend);
		if (w->pend_head)
			admit(w);
		run_timer(w);
		ndone = reap(w);
		flush_done(w);
		/* Slots just freed are refilled at once, not after the next
		 * reply wakes us: against a fast server, every request would
		 * otherwise wait a round trip before it is sent. */
		if (ndone)
			continue;
		/* Wake at least every 50 ms: pending tasks may be admitted
		 * once another worker frees a provider slot. */
		wait_events(w, w->npend ? 5 : 50);
	}
	abort_active(w);
	release_pending(w);
	flush_done(w);
	return NULL;
}

int worker_start(struct worker *w)
{
	return pthread_create(&w->th, NULL, worker_main, w) ? -1 : 0;
}

void worker_join(struct worker *w)
{
	pthread_join(w->th, NULL);
}
