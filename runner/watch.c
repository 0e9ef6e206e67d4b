/* watch.c — signals, the deadline and the progress line while a run
 * goes (see watch.h). */
#include "runner/watch.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "runner/progress.h"
#include "runner/runctx.h"
#include "runner/sched/estimate.h"
#include "util/clock.h"

/* The signals that stop a run. SIGHUP is a closed terminal or ssh
 * session, SIGQUIT a Ctrl-backslash: left to their default action they
 * killed the run like kill -9, leases held and paid replies unrecorded. */
static const int STOP_SIGNALS[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
/* The signals that ask for the progress line (as dd does); by default
 * they too would kill. */
static const int INFO_SIGNALS[] = {SIGUSR1, SIGUSR2};
#define NSTOP (sizeof(STOP_SIGNALS) / sizeof(STOP_SIGNALS[0]))
#define NINFO (sizeof(INFO_SIGNALS) / sizeof(INFO_SIGNALS[0]))

/* Signal handlers only count: the watch loop acts on the counts. */
static volatile sig_atomic_t signals_seen, info_asked;

static void on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

static void on_info(int sig)
{
	(void)sig;
	info_asked = 1;
}

/* watched: the stop and progress signals (and SIGPIPE with block). */
static void watched(sigset_t *set, int pipe)
{
	sigemptyset(set);
	for (size_t i = 0; i < NSTOP; i++)
		sigaddset(set, STOP_SIGNALS[i]);
	for (size_t i = 0; i < NINFO; i++)
		sigaddset(set, INFO_SIGNALS[i]);
	if (pipe)
		sigaddset(set, SIGPIPE);
}

void watch_block_signals(sigset_t *old)
{
	sigset_t block;

	watched(&block, 1);
	pthread_sigmask(SIG_BLOCK, &block, old);
}

void watch_take_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < NSTOP; i++)
		sigaction(STOP_SIGNALS[i], &sa, NULL);
	sa.sa_handler = on_info;
	for (size_t i = 0; i < NINFO; i++)
		sigaction(INFO_SIGNALS[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	watched(&set, 0);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int watch_run(struct runctx *rc, const struct watch_opts *o,
	      struct progress *p)
{
	int64_t stop_at = 0, end_at = 0,
		t0 = o->start_ms ? o->start_ms : clk_mono_ms();
	int time_up = 0, signal_stop = 0;

	if (o->end_in_ms)
		end_at = t0 + o->end_in_ms;
	progress_start(p, o->tty, t0);
	if (!p->tty)
		fprintf(stderr,
			"nightshift run: %lld jobs to do, %d workers, %d in "
			"flight at most\n",
			rc->total_at_start, rc->nworkers, rc->max_inflight);
	while (!atomic_load(&rc->finished)) {
		/* A signal ends the wait too (EINTR), and so does the
		 * store when it is done. */
		struct pollfd pfd = {.fd = rc->end_fd, .events = POLLIN};
		int64_t now, lat;

		(void)poll(&pfd, 1, 100);
		now = clk_mono_ms();
		/* A first signal stops the run with a grace period, also when
		 * the deadline already stops it (the earlier end holds). */
		if (signals_seen >= 1 && !signal_stop) {
			signal_stop = 1;
			atomic_store(&rc->stopping, 1);
			if (!stop_at || now + o->grace_ms < stop_at)
				stop_at = now + o->grace_ms;
			if (p->tty)
				fputc('\n', stderr);
			fprintf(stderr,
				"nightshift run: stopping: no new requests; "
				"waiting up to %.0f s for those in flight "
				"(signal again to stop now)\n",
				(double)o->grace_ms / 1000);
		}
		/* Stop sending so that what is in flight can finish by the
		 * deadline (twice the mean latency seen so far, 2 s before
		 * any reply); at the deadline itself, give up what is
		 * left. */
		lat = est_latency_ms(rc->est);
		if (end_at && !atomic_load(&rc->stopping) &&
		    now >= end_at - (lat ? 2 * lat : 2000)) {
			atomic_store(&rc->stopping, 1);
			stop_at = end_at;
			time_up = 1;
			if (p->tty)
				fputc('\n', stderr);
			fprintf(stderr, "nightshift run: time is up: no new "
					"requests\n");
		}
		if ((signals_seen > 1 || (stop_at && now >= stop_at)) &&
		    !atomic_load(&rc->abort_now)) {
			atomic_store(&rc->stopping, 1);
			atomic_store(&rc->abort_now, 1);
			runctx_wake_workers(rc);
		}
		if (info_asked) {
			info_asked = 0;
			progress_now(p, rc, now);
		}
		progress_tick(p, rc, now);
	}
	return time_up;
}
